package run

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/builder"
	"github.com/go-dsynth/go-dsynth/builder/events"
)

// crcKeeper keeps dsynth's <BuildBase>/ports_crc.db as dsynth would have
// left it after the same run, so that a user can go back to dsynth
// without a full rebuild: when the build starts it stores the CRC of
// every packaged port the plan keeps and the file does not know (dsynth's
// check_packaged), or knows with another CRC while go-dsynth found the
// port's content unchanged (dsynth would have rebuilt it and stored the
// new CRC); after each port built or fetched it stores that port's CRC
// (dsynth's workercomplete). A package -xx keeps despite a changed port
// keeps its old entry, as in dsynth. The file is rewritten whole and
// atomically: when the build starts, after every flushEvery ports built,
// and when the run ends (dsynth's ndbm writes its pages back when the
// build closes the file). A write that fails is a warning, never the end
// of the run; entries lost to a crash cost dsynth nothing (a port without
// an entry is taken as current) or one rebuild (a stale entry).
type crcKeeper struct {
	file    *builddb.LegacyCRC
	plan    *builder.Plan
	items   map[string]*builder.Item
	warn    io.Writer
	pending int
}

// flushEvery bounds how many built ports' CRCs wait in memory: the file of
// a whole tree is a few megabytes, too much to rewrite after every port.
const flushEvery = 32

// newCRCKeeper opens the build base's CRC file for a run of plan and
// stores what dsynth stores when a build starts. It returns nil, having
// said why on warn, when the file exists but cannot be parsed: go-dsynth
// then leaves it as it is.
func newCRCKeeper(buildBase string, plan *builder.Plan, warn io.Writer) *crcKeeper {
	file, err := builddb.OpenLegacyCRC(filepath.Join(buildBase, builddb.LegacyFileName))
	if err != nil {
		fmt.Fprintf(warn, "warning: %v; dsynth's CRC file is left as it is\n", err)
		return nil
	}
	k := &crcKeeper{file: file, plan: plan, items: map[string]*builder.Item{}, warn: warn}
	for _, it := range plan.Items {
		k.items[it.Origin] = it
	}
	k.store(startCRCs(plan, file.Lookup))
	return k
}

// startCRCs is what dsynth's check_packaged stores for a plan: the current
// CRC of each port kept as up to date whose entry is missing, or differs
// while no -xx override kept the package.
func startCRCs(plan *builder.Plan, lookup func(string) (uint32, bool)) map[string]uint32 {
	out := map[string]uint32{}
	for _, it := range plan.Items {
		cur := it.Facts.Current
		if it.Disp != builder.UpToDate || !cur.HasCRC {
			continue
		}
		old, ok := lookup(it.Origin)
		if ok && old == cur.CRC {
			continue
		}
		if ok && overriddenPortChange(it) {
			continue
		}
		out[it.Origin] = cur.CRC
	}
	return out
}

func overriddenPortChange(it *builder.Item) bool {
	for _, r := range it.Decision.Overridden {
		if r.Kind == builddb.PortChanged {
			return true
		}
	}
	return false
}

// Handle stores the CRC of a port that was built or fetched, and writes
// the file when the run ends.
func (k *crcKeeper) Handle(e events.Event) {
	switch e := e.(type) {
	case events.PortFinished:
		if e.Outcome != events.Built && e.Outcome != events.Fetched {
			return
		}
		it := k.items[e.Origin]
		if it == nil || !it.Facts.Current.HasCRC {
			return
		}
		k.pending += k.file.Set(map[string]uint32{e.Origin: it.Facts.Current.CRC})
		if k.pending >= flushEvery {
			k.flush()
		}
	case events.RunFinished:
		k.flush()
	}
}

func (k *crcKeeper) store(crcs map[string]uint32) {
	k.file.Set(crcs)
	k.flush()
}

func (k *crcKeeper) flush() {
	k.pending = 0
	if err := k.file.Flush(); err != nil {
		fmt.Fprintf(k.warn, "warning: %v\n", err)
	}
}
