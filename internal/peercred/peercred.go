// Package peercred reads the credentials of the process at the other end of
// a Unix socket connection, where the operating system tells them: Linux
// (SO_PEERCRED) and FreeBSD (LOCAL_PEERCRED). Elsewhere the caller learns
// that they are unknown and must rely on the socket file's mode.
package peercred

import (
	"errors"
	"fmt"
	"net"
)

// ErrUnknown is returned where the system cannot say who the peer is.
var ErrUnknown = errors.New("peer credentials are not available on this system")

// UID returns the user id of the peer of a Unix socket connection.
func UID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, fmt.Errorf("peercred: %T is not a Unix socket connection", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("peercred: %w", err)
	}
	uid := -1
	var serr error
	if err := raw.Control(func(fd uintptr) { uid, serr = peerUID(int(fd)) }); err != nil {
		return -1, fmt.Errorf("peercred: %w", err)
	}
	if serr != nil {
		return -1, serr
	}
	return uid, nil
}
