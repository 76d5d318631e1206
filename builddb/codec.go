package builddb

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"slices"
	"strings"
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

	// recordVersion is the format of build records written now. Version
	// 1 records (the codecVersion layout) are still read; version 2
	// stores hex digests as bytes, the derived key and the times relative
	// to the start, and no run UUID when there is none.
	recordVersion = 2
)

// Flags in the high bits of a version 2 record's status byte, above the
// status code (statusCodes has fewer than 32 entries).
const (
	// flagRunID says a run UUID follows the status byte.
	flagRunID = 0x80
	// flagRecovered is BuildRecord.Recovered. Records written before the
	// flag existed never have the bit set and decode as not recovered, so
	// the format version is unchanged; a go-dsynth older than the flag
	// rejects a record that has it (as a malformed value) and reads every
	// other record.
	flagRecovered = 0x40
	// flagExt says the record ends with the extension section: its build
	// inputs and reproduction verdicts (provenance.go). Schema 7 marks
	// files that may hold such records, so that an older go-dsynth
	// refuses them as newer instead of calling them damaged.
	flagExt = 0x20
	// statusMask keeps the status code.
	statusMask = 0x1f
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDecode is the cause wrapped into ErrCorrupt when a value cannot be
// decoded.
var errDecode = errors.New("malformed value")

func seal(b []byte) []byte { return sealFrom(b, 0) }

// sealFrom appends the CRC of b[start:], the value that starts at start.
func sealFrom(b []byte, start int) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// unseal checks the envelope of v (format codecVersion) and returns its
// payload.
func unseal(v []byte, tag byte) ([]byte, error) { return unsealVersion(v, tag, codecVersion) }

func unsealVersion(v []byte, tag, version byte) ([]byte, error) {
	if len(v) < 6 || v[0] != tag || v[1] != version {
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
	var small [16]string
	keys := small[:0]
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

// Kinds of a compact string (hstr): the low two bits of its header, the
// rest being the payload length.
const (
	strPlain   = 0 // the bytes
	strHex     = 1 // lowercase hex, stored as the bytes it spells
	strSHA256  = 2 // "sha256:" and lowercase hex, stored as those bytes
	strDerived = 3 // the value the decoder derives (no payload)
)

const sha256Prefix = "sha256:"

// isLowerHex reports whether s is a non-empty even-length lowercase hex
// string.
func isLowerHex(s string) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hstr stores s compactly when it is a hex digest.
func (e *encoder) hstr(s string) {
	kind, h := strPlain, s
	switch {
	case isLowerHex(s):
		kind = strHex
	case strings.HasPrefix(s, sha256Prefix) && isLowerHex(s[len(sha256Prefix):]):
		kind, h = strSHA256, s[len(sha256Prefix):]
	}
	if kind == strPlain {
		e.uvar(uint64(len(s))<<2 | strPlain)
		e.b = append(e.b, s...)
		return
	}
	e.uvar(uint64(len(h)/2)<<2 | uint64(kind))
	for i := 0; i < len(h); i += 2 {
		e.b = append(e.b, unhex(h[i])<<4|unhex(h[i+1]))
	}
}

// unhex is the value of a lowercase hex digit.
func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// keyStr stores a record's key, or nothing when it is the derived one.
func (e *encoder) keyStr(key, derived string) {
	if key == derived {
		e.uvar(strDerived)
		return
	}
	e.uvar(uint64(len(key))<<2 | strPlain)
	e.b = append(e.b, key...)
}

// relTime stores t relative to base (0 for the zero time).
func (e *encoder) relTime(t time.Time, base int64) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.svar(t.UnixNano() - base)
}

func (d *decoder) hstr(derived func() string) string {
	h := d.uvar()
	n := h >> 2
	if n > uint64(len(d.b)) {
		d.err = true
		return ""
	}
	switch h & 3 {
	case strPlain:
		return string(d.bytes(int(n)))
	case strHex:
		return hex.EncodeToString(d.bytes(int(n)))
	case strSHA256:
		return sha256Prefix + hex.EncodeToString(d.bytes(int(n)))
	}
	if n != 0 || derived == nil {
		d.err = true
		return ""
	}
	return derived()
}

func (d *decoder) relTime(base int64) time.Time {
	if d.byte1() == 0 {
		return time.Time{}
	}
	return time.Unix(0, base+d.svar()).UTC()
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
func encodeRecord(r *BuildRecord) []byte { return appendRecord(make([]byte, 0, recordSize(r)), r) }

// recordSize is about the length of r's stored form.
func recordSize(r *BuildRecord) int {
	n := 128 + len(r.ID.PortDir) + len(r.ID.Version) + len(r.ID.Flavor) + len(r.ID.Fingerprint) +
		len(r.ID.PortsCommit) + len(r.ID.SystemVer) + len(r.ID.Options) + len(r.ID.Key) +
		len(r.PkgFile) + len(r.PkgChecksum) + len(r.LogFile) + len(r.Phase) + len(r.ErrorMsg)
	for k, v := range r.DepVersions {
		n += len(k) + len(v) + 4
	}
	for k, v := range r.EnvVars {
		n += len(k) + len(v) + 4
	}
	for _, a := range r.MakeArgs {
		n += len(a) + 2
	}
	if in := r.Inputs; in != nil {
		n += len(in.MakeConf) + 64*len(in.Deps) + 128
		for _, d := range in.Deps {
			n += len(d.Origin) + len(d.File)
		}
		for k, v := range in.Toolchain {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// appendRecord appends the stored form of r to b.
func appendRecord(b []byte, r *BuildRecord) []byte {
	start := len(b)
	e := encoder{b: append(b, tagBuild, recordVersion)}
	id := &r.ID
	e.raw(id.UUID[:])
	e.str(id.PortDir)
	e.str(id.Version)
	e.str(id.Flavor)
	e.hstr(id.Fingerprint)
	e.u32(id.PortsCRC)
	e.hstr(id.PortsCommit)
	e.str(id.SystemVer)
	e.svar(int64(id.WorkerID))
	e.hstr(id.Options)
	e.keyStr(id.Key, id.MakeKey())
	// The status code, with flagRunID set when a run UUID follows and
	// flagRecovered for a recovered record.
	code := statusCode(r.Status)
	if r.Recovered {
		code |= flagRecovered
	}
	if r.hasExtension() {
		code |= flagExt
	}
	if r.RunID == uuid.Nil {
		e.b = append(e.b, code)
	} else {
		e.b = append(e.b, code|flagRunID)
		e.raw(r.RunID[:])
	}
	e.tm(r.StartTime)
	base := r.StartTime.UnixNano()
	e.relTime(id.BuildTime, base)
	e.relTime(r.EndTime, base)
	// The duration, relative to end − start.
	var span int64
	if !r.EndTime.IsZero() {
		span = r.EndTime.UnixNano() - base
	}
	e.svar(int64(r.Duration) - span)
	e.str(r.PkgFile)
	e.svar(r.PkgSize)
	e.hstr(r.PkgChecksum)
	e.strmap(r.DepVersions)
	e.str(r.LogFile)
	e.str(r.Phase)
	e.str(r.ErrorMsg)
	e.strmap(r.EnvVars)
	e.strs(r.MakeArgs)
	if r.hasExtension() {
		e.extension(r)
	}
	return sealFrom(e.b, start)
}

// decodeRecord parses a stored record (format 1 or 2).
func decodeRecord(v []byte) (*BuildRecord, error) {
	if len(v) > 1 && v[1] == codecVersion {
		return decodeRecordV1(v)
	}
	body, err := unsealVersion(v, tagBuild, recordVersion)
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
	id.Fingerprint = d.hstr(nil)
	id.PortsCRC = d.u32()
	id.PortsCommit = d.hstr(nil)
	id.SystemVer = d.str()
	id.WorkerID = int(d.svar())
	id.Options = d.hstr(nil)
	id.Key = d.hstr(id.MakeKey)
	code := d.byte1()
	r.Status = statusFromCode(code & statusMask)
	r.Recovered = code&flagRecovered != 0
	if code&flagRunID != 0 {
		r.RunID = d.uuid()
	}
	r.StartTime = d.tm()
	base := r.StartTime.UnixNano()
	id.BuildTime = d.relTime(base)
	r.EndTime = d.relTime(base)
	var span int64
	if !r.EndTime.IsZero() {
		span = r.EndTime.UnixNano() - base
	}
	r.Duration = time.Duration(d.svar() + span)
	r.PkgFile = d.str()
	r.PkgSize = d.svar()
	r.PkgChecksum = d.hstr(nil)
	r.DepVersions = d.strmap()
	r.LogFile = d.str()
	r.Phase = d.str()
	r.ErrorMsg = d.str()
	r.EnvVars = d.strmap()
	r.MakeArgs = d.strs()
	if code&flagExt != 0 {
		d.extension(r)
	}
	if d.err || len(d.b) != 0 || r.Status == "" {
		return nil, errDecode
	}
	return r, nil
}

// decodeRecordV1 parses a record stored in format 1.
func decodeRecordV1(v []byte) (*BuildRecord, error) {
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

func encodeSummary(r *BuildRecord) []byte { return appendSummary(make([]byte, 0, 48), r) }

// appendSummary appends r's history summary to b.
func appendSummary(b []byte, r *BuildRecord) []byte {
	e := encoder{b: append(b, statusCode(r.Status))}
	e.svar(int64(r.ID.WorkerID))
	e.svar(r.StartTime.UnixNano())
	if r.EndTime.IsZero() {
		e.svar(0)
	} else {
		e.svar(r.EndTime.UnixNano())
	}
	e.svar(int64(r.Duration))
	e.b = append(e.b, r.ID.PortDir...)
	if o := r.Origin(); len(o) > len(r.ID.PortDir) {
		e.b = append(e.b, o[len(r.ID.PortDir):]...)
	}
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
