//go:build linux

package linux

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// maxFrame bounds one message (a plan or a command with its environment).
const maxFrame = 64 << 20

// sendFrame writes v as a length-prefixed JSON frame on the stream socket
// fd, with fds attached to its first byte.
func sendFrame(fd int, v any, fds []int) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(buf) > 0 {
		n, err := unix.SendmsgN(fd, buf, oob, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		buf, oob = buf[n:], nil
	}
	return nil
}

// recvFrame reads one frame from fd into v and returns the descriptors that
// came with it (close-on-exec). It returns io.EOF when the peer is gone.
func recvFrame(fd int, v any) ([]int, error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(fd, hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	if n == 0 {
		return nil, io.EOF
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, fmt.Errorf("receive: control message: %w", err)
		}
		for _, m := range msgs {
			r, err := unix.ParseUnixRights(&m)
			if err == nil {
				fds = append(fds, r...)
			}
		}
	}
	fail := func(err error) ([]int, error) {
		for _, f := range fds {
			unix.Close(f)
		}
		return nil, err
	}
	if err := readFull(fd, hdr[n:]); err != nil {
		return fail(err)
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxFrame {
		return fail(fmt.Errorf("receive: frame of %d bytes is too large", size))
	}
	body := make([]byte, size)
	if err := readFull(fd, body); err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fail(fmt.Errorf("receive: decode: %w", err))
	}
	return fds, nil
}

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("receive: %w", errors.Join(io.ErrUnexpectedEOF))
		}
		b = b[n:]
	}
	return nil
}
