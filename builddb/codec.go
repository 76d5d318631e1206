package builddb

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Value envelope: tag, format version, payload, CRC-32C (big endian) of
// everything before it.
const (
	tagBuild  = 'B'
	tagInputs = 'I'
	tagRun    = 'R'

	codecVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDecode is the cause wrapped into ErrCorrupt when a value cannot be
// decoded.
var errDecode = errors.New("malformed value")

func seal(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// open checks the envelope of v and returns its payload.
func unseal(v []byte, tag byte) ([]byte, error) {
	if len(v) < 6 || v[0] != tag || v[1] != codecVersion {
		return nil, errDecode
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errDecode
	}
	return body[2:], nil
}

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) uvar(u uint64)  { e.b = binary.AppendUvarint(e.b, u) }
func (e *encoder) svar(i int64)   { e.b = binary.AppendVarint(e.b, i) }
func (e *encoder) raw(p []byte)   { e.b = append(e.b, p...) }
func (e *encoder) boolean(v bool) { e.b = append(e.b, boolByte(v)) }
func (e *encoder) u32(u uint32)   { e.b = binary.BigEndian.AppendUint32(e.b, u) }
func (e *encoder) strs(s []string) {
	e.uvar(uint64(len(s)))
	for _, x := range s {
		e.str(x)
	}
}
func (e *encoder) tm(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.svar(t.UnixNano())
}
func (e *encoder) strmap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uvar(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvar() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) svar() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.err = true
		d.b = nil
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string {
	n := d.uvar()
	if n > uint64(len(d.b)) {
		d.err = true
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *decoder) byte1() byte {
	p := d.bytes(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u32() uint32 {
	p := d.bytes(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) tm() time.Time {
	if d.byte1() == 0 {
		return time.Time{}
	}
	return time.Unix(0, d.svar()).UTC()
}

func (d *decoder) strs() []string {
	n := d.uvar()
	if n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = d.str()
	}
	return s
}

func (d *decoder) strmap() map[string]string {
	n := d.uvar()
	if n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *decoder) uuid() uuid.UUID {
	var u uuid.UUID
	copy(u[:], d.bytes(16))
	return u
}

// encodeRecord returns the stored form of r.
func encodeRecord(r *BuildRecord) []byte {
	e := encoder{b: make([]byte, 0, 256)}
	e.b = append(e.b, tagBuild, codecVersion)
	id := &r.ID
	e.raw(id.UUID[:])
	e.str(id.PortDir)
	e.str(id.Version)
	e.str(id.Flavor)
	e.str(id.Fingerprint)
	e.u32(id.PortsCRC)
	e.str(id.PortsCommit)
	e.str(id.SystemVer)
	e.tm(id.BuildTime)
	e.svar(int64(id.WorkerID))
	e.str(id.Options)
	e.str(id.Key)
	e.raw(r.RunID[:])
	e.b = append(e.b, statusCode(r.Status))
	e.tm(r.StartTime)
	e.tm(r.EndTime)
	e.svar(int64(r.Duration))
	e.str(r.PkgFile)
	e.svar(r.PkgSize)
	e.str(r.PkgChecksum)
	e.strmap(r.DepVersions)
	e.str(r.LogFile)
	e.str(r.Phase)
	e.str(r.ErrorMsg)
	e.strmap(r.EnvVars)
	e.strs(r.MakeArgs)
	return seal(e.b)
}

// decodeRecord parses a stored record.
func decodeRecord(v []byte) (*BuildRecord, error) {
	body, err := unseal(v, tagBuild)
	if err != nil {
		return nil, err
	}
	d := decoder{b: body}
	r := &BuildRecord{}
	id := &r.ID
	id.UUID = d.uuid()
	id.PortDir = d.str()
	id.Version = d.str()
	id.Flavor = d.str()
	id.Fingerprint = d.str()
	id.PortsCRC = d.u32()
	id.PortsCommit = d.str()
	id.SystemVer = d.str()
	id.BuildTime = d.tm()
	id.WorkerID = int(d.svar())
	id.Options = d.str()
	id.Key = d.str()
	r.RunID = d.uuid()
	r.Status = statusFromCode(d.byte1())
	r.StartTime = d.tm()
	r.EndTime = d.tm()
	r.Duration = time.Duration(d.svar())
	r.PkgFile = d.str()
	r.PkgSize = d.svar()
	r.PkgChecksum = d.str()
	r.DepVersions = d.strmap()
	r.LogFile = d.str()
	r.Phase = d.str()
	r.ErrorMsg = d.str()
	r.EnvVars = d.strmap()
	r.MakeArgs = d.strs()
	if d.err || len(d.b) != 0 || r.Status == "" {
		return nil, errDecode
	}
	return r, nil
}

// summary is the history index's copy of what statistics and filters need.
type summary struct {
	Status   Status
	Worker   int
	Start    time.Time
	End      time.Time
	Duration time.Duration
	Origin   string
}

func encodeSummary(r *BuildRecord) []byte {
	e := encoder{b: make([]byte, 0, 48)}
	e.b = append(e.b, statusCode(r.Status))
	e.svar(int64(r.ID.WorkerID))
	e.svar(r.StartTime.UnixNano())
	if r.EndTime.IsZero() {
		e.svar(0)
	} else {
		e.svar(r.EndTime.UnixNano())
	}
	e.svar(int64(r.Duration))
	e.raw([]byte(r.Origin()))
	return e.b
}

// summaryView is a decoded summary whose origin aliases the stored bytes;
// it is valid only inside the transaction.
type summaryView struct {
	status   Status
	worker   int
	start    int64
	end      int64
	duration int64
	origin   []byte
}

func decodeSummary(v []byte) (summaryView, bool) {
	d := decoder{b: v}
	var s summaryView
	s.status = statusFromCode(d.byte1())
	s.worker = int(d.svar())
	s.start = d.svar()
	s.end = d.svar()
	s.duration = d.svar()
	if d.err || s.status == "" {
		return s, false
	}
	s.origin = d.b
	return s, true
}

func (s summaryView) export() summary {
	x := summary{Status: s.status, Worker: s.worker, Start: time.Unix(0, s.start).UTC(), Duration: time.Duration(s.duration), Origin: string(s.origin)}
	if s.end != 0 {
		x.End = time.Unix(0, s.end).UTC()
	}
	return x
}
