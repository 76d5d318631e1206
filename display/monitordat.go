package display

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DatFile is dsynth's own monitor file, beside monitor.json under
// <Directory_logs>/stats/: the binary image dsynth keeps mmapped while it
// builds and its `monitor` directive maps read-only. go-dsynth writes it
// too, so that dsynth's monitor can watch a go-dsynth run, and reads it, so
// that go-dsynth's monitor can watch a dsynth run.
const DatFile = "monitor.dat"

// DatPath returns dsynth's monitor file of a logs directory.
func DatPath(logsDir string) string {
	return filepath.Join(logsDir, "stats", DatFile)
}

// The layout of dsynth's monitor file, as its C compiler lays out the
// struct on the 64-bit little-endian systems dsynth runs on (DragonFly and
// FreeBSD on amd64: int 4 bytes, long, size_t, time_t and pointers 8,
// pthread_t and pthread_cond_t pointers, doubles aligned to 8). Every
// offset is in bytes from the start of the file. The C test in
// monitordat_test.go checks each one against a C program that reads the
// file with the struct declared field by field.
const (
	// The file: a 32-byte version string, the worker and job counts, the
	// header figures, seven 128-byte paths, the 64-byte profile name, then
	// one record per possible slot.
	datVersion    = 0    // char[32]
	datMaxWorkers = 32   // int32
	datMaxJobs    = 36   // int32
	datInfo       = 40   // the header figures, datInfoSize bytes
	datPaths      = 136  // packages, repository, options, distfiles, buildbase, logs, system: char[128] each
	datPathLen    = 128  //
	datProfile    = 1032 // char[64]
	datSlots      = 1096 // datMaxSlots records of datSlotSize bytes
	datMaxSlots   = 1024 // dsynth's MAXWORKERS
	datSlotSize   = 312  // the worker record (datWorkSize) and a char[128] origin
	datWorkSize   = 184
	datSlotOrigin = datWorkSize // char[128] within a slot record
	// DatSize is the size of the whole file.
	DatSize = datSlots + datMaxSlots*datSlotSize

	// The header figures (offsets within datInfo): fifteen int32 fields,
	// four bytes of padding, then the swap percentage and three load
	// averages as doubles.
	infoActive     = 0
	infoImpulse    = 4
	infoRate       = 8
	infoNoSwap     = 12
	infoH          = 16
	infoM          = 20
	infoS          = 24
	infoTotal      = 28
	infoBuilt      = 32
	infoIgnored    = 36
	infoRemaining  = 40
	infoFailed     = 44
	infoSkipped    = 48
	infoMeta       = 52
	infoDynWorkers = 56
	infoSwap       = 64 // double, percent
	infoLoad       = 72 // double[3]
	datInfoSize    = 96

	// The worker record (offsets within a slot record). go-dsynth fills
	// the fields dsynth's screen reads — index, state, phase, start time,
	// lines — and leaves the rest (flags, errors, pointers, pid, pipe,
	// status text, dependency size) zero.
	workIndex     = 0  // int32
	workState     = 64 // int32 (enum worker_state)
	workPhase     = 68 // int32 (enum worker_phase)
	workStartTime = 72 // int64 (time_t)
	workLines     = 80 // int64 (long)
	workMemUse    = 88 // int64 (long)
)

// dsynth's worker states (enum worker_state), in order.
const (
	workerNone int32 = iota
	workerIdle
	workerPending
	workerRunning
	workerDone
	workerFailed
	workerFrozen
	workerExiting
)

// datPhases are dsynth's phase names (getphasestr) in the order of its
// enum worker_phase; a phase is stored as its index.
var datPhases = [...]string{
	"pending", "install-pkgs", "check-sanity", "pkg-depends", "fetch-depends",
	"fetch", "checksum", "extract-depends", "extract", "patch-depends", "patch",
	"build-depends", "lib-depends", "configure", "build", "run-depends", "stage",
	"test", "check-plist", "package", "install", "deinstall", "dump-env",
	"dump-var", "show-config", "make-conf",
}

// datPhase maps a go-dsynth phase name to dsynth's phase number: its own
// names map to themselves, the DEVELOPER dump phases and the slot setup to
// dsynth's equivalents, anything else to "pending".
func datPhase(name string) int32 {
	for i, p := range datPhases {
		if p == name {
			return int32(i)
		}
	}
	switch {
	case name == "Environment":
		return 22 // dump-env
	case name == "showconfig":
		return 24 // show-config
	case name == "/etc/make.conf":
		return 25 // make-conf
	case name == "setup":
		return 1 // install-pkgs
	case name != "" && strings.ToUpper(name) == name:
		return 23 // dump-var: the -V queries are upper-case variable names
	}
	return 0
}

// DatHeader is what dsynth's monitor file holds besides the screen: the
// version string, the jobs per builder and the profile's directories.
type DatHeader struct {
	Version string
	MaxJobs int
	// The profile's directories, as dsynth.ini names them.
	Packages, Repository, Options, Distfiles, BuildBase, Logs, System string
	Profile                                                           string
}

// EncodeDat lays st out as dsynth's monitor file (DatSize bytes). Slots
// beyond dsynth's 1024 are left out; strings longer than their field are
// cut, always leaving a terminating NUL as dsynth's snprintf does. It is
// pure.
func EncodeDat(st *State, h DatHeader) []byte {
	b := make([]byte, DatSize)
	putStr(b[datVersion:datVersion+32], h.Version)
	workers := max(st.MaxWorkers, len(st.Slots))
	workers = min(workers, datMaxSlots)
	le := binary.LittleEndian
	le.PutUint32(b[datMaxWorkers:], uint32(int32(workers)))
	le.PutUint32(b[datMaxJobs:], uint32(int32(h.MaxJobs)))

	in := b[datInfo : datInfo+datInfoSize]
	el := int64(st.Elapsed() / time.Second)
	ints := []struct {
		off int
		v   int
	}{
		{infoActive, boolInt(st.Active)}, {infoImpulse, st.Impulse}, {infoRate, st.PkgHour},
		{infoNoSwap, boolInt(st.Swap < 0)},
		{infoH, int(el / 3600)}, {infoM, int(el / 60 % 60)}, {infoS, int(el % 60)},
		{infoTotal, st.Total}, {infoBuilt, st.Built}, {infoIgnored, st.Ignored},
		{infoRemaining, st.Left()}, {infoFailed, st.Failed}, {infoSkipped, st.Skipped},
		{infoMeta, st.Meta}, {infoDynWorkers, st.Limit},
	}
	for _, f := range ints {
		le.PutUint32(in[f.off:], uint32(int32(f.v)))
	}
	le.PutUint64(in[infoSwap:], math.Float64bits(max(st.Swap, 0)))
	for i, l := range [3]float64{st.Load, st.Load5, st.Load15} {
		le.PutUint64(in[infoLoad+8*i:], math.Float64bits(l))
	}

	for i, p := range []string{h.Packages, h.Repository, h.Options, h.Distfiles, h.BuildBase, h.Logs, h.System} {
		off := datPaths + i*datPathLen
		putStr(b[off:off+datPathLen], p)
	}
	putStr(b[datProfile:datProfile+64], h.Profile)

	for i := 0; i < workers; i++ {
		rec := b[datSlots+i*datSlotSize : datSlots+(i+1)*datSlotSize]
		le.PutUint32(rec[workIndex:], uint32(int32(i)))
		state := workerIdle
		var sl Slot
		if i < len(st.Slots) {
			sl = st.Slots[i]
		}
		switch sl.Status {
		case SlotPending:
			state = workerPending
		case SlotRunning:
			state = workerRunning
		case SlotFrozen:
			state = workerFrozen
		case SlotFailed:
			state = workerFailed
		}
		le.PutUint32(rec[workState:], uint32(state))
		if !sl.idle() {
			le.PutUint32(rec[workPhase:], uint32(datPhase(sl.Phase)))
			if !sl.Started.IsZero() {
				le.PutUint64(rec[workStartTime:], uint64(sl.Started.Unix()))
			}
			le.PutUint64(rec[workLines:], uint64(int64(sl.Lines)))
			le.PutUint64(rec[workMemUse:], uint64(sl.MemUse))
			putStr(rec[datSlotOrigin:datSlotOrigin+128], sl.Origin)
		}
	}
	return b
}

// DecodeDat reads dsynth's monitor file into a State, with now as the
// time the figures are for (dsynth's file holds the elapsed time, not the
// start) and the header it carries. It returns an error for a file too
// short to be one or one dsynth has not filled in yet (an empty version).
func DecodeDat(b []byte, now time.Time) (*State, DatHeader, error) {
	if len(b) < datSlots {
		return nil, DatHeader{}, fmt.Errorf("display: a dsynth monitor file has at least %d bytes, not %d", datSlots, len(b))
	}
	le := binary.LittleEndian
	i32 := func(p []byte, off int) int { return int(int32(le.Uint32(p[off:]))) }
	f64 := func(p []byte, off int) float64 { return math.Float64frombits(le.Uint64(p[off:])) }
	var h DatHeader
	h.Version = getStr(b[datVersion : datVersion+32])
	if h.Version == "" {
		return nil, h, errors.New("display: the dsynth monitor file is not filled in yet")
	}
	h.MaxJobs = i32(b, datMaxJobs)
	paths := []*string{&h.Packages, &h.Repository, &h.Options, &h.Distfiles, &h.BuildBase, &h.Logs, &h.System}
	for i, p := range paths {
		off := datPaths + i*datPathLen
		*p = getStr(b[off : off+datPathLen])
	}
	h.Profile = getStr(b[datProfile : datProfile+64])

	in := b[datInfo : datInfo+datInfoSize]
	el := time.Duration(i32(in, infoH)*3600+i32(in, infoM)*60+i32(in, infoS)) * time.Second
	st := &State{
		Profile:    h.Profile,
		Start:      now.Add(-el),
		Now:        now,
		Active:     i32(in, infoActive) != 0,
		Total:      i32(in, infoTotal),
		Built:      i32(in, infoBuilt),
		Failed:     i32(in, infoFailed),
		Ignored:    i32(in, infoIgnored),
		Skipped:    i32(in, infoSkipped),
		Meta:       i32(in, infoMeta),
		Load:       f64(in, infoLoad),
		Load5:      f64(in, infoLoad+8),
		Load15:     f64(in, infoLoad+16),
		Swap:       f64(in, infoSwap),
		PkgHour:    i32(in, infoRate),
		Impulse:    i32(in, infoImpulse),
		Limit:      i32(in, infoDynWorkers),
		MaxWorkers: i32(b, datMaxWorkers),
	}
	if i32(in, infoNoSwap) != 0 {
		st.Swap = -1
	}
	workers := min(max(st.MaxWorkers, 0), datMaxSlots, (len(b)-datSlots)/datSlotSize)
	for i := 0; i < workers; i++ {
		rec := b[datSlots+i*datSlotSize : datSlots+(i+1)*datSlotSize]
		sl := Slot{ID: i, Status: SlotIdle}
		switch int32(i32(rec, workState)) {
		case workerPending:
			sl.Status = SlotPending
		case workerRunning, workerDone:
			sl.Status = SlotRunning
			if ph := i32(rec, workPhase); ph >= 0 && ph < len(datPhases) {
				sl.Phase = datPhases[ph]
			}
		case workerFrozen:
			sl.Status = SlotFrozen
		case workerFailed:
			sl.Status = SlotFailed
		}
		if !sl.idle() {
			sl.Origin = getStr(rec[datSlotOrigin : datSlotOrigin+128])
			if t := int64(le.Uint64(rec[workStartTime:])); t != 0 {
				sl.Started = time.Unix(t, 0)
			}
			sl.Lines = int(int64(le.Uint64(rec[workLines:])))
			sl.MemUse = int64(le.Uint64(rec[workMemUse:]))
		}
		st.Slots = append(st.Slots, sl)
	}
	return st, h, nil
}

// ReadDat reads dsynth's monitor file at path (see DecodeDat) and fills
// the log pane with the tail of 00_last_results.log in the logs directory
// the file names, as dsynth's monitor does.
func ReadDat(path string, now time.Time) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("display: reading the monitor file: %w", err)
	}
	st, h, err := DecodeDat(b, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if h.Logs != "" {
		if data, err := os.ReadFile(filepath.Join(h.Logs, "00_last_results.log")); err == nil {
			st.addLog(strings.Split(strings.TrimRight(string(data), "\n"), "\n")...)
		}
	}
	return st, nil
}

func putStr(dst []byte, s string) {
	n := copy(dst[:len(dst)-1], s)
	clear(dst[n:])
}

func getStr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
