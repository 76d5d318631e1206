package display

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/builder/events"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// datReader is a C program that reads a monitor file the way dsynth's
// `monitor` directive does: it maps the file onto the struct dsynth
// declares in monitor.c (its worker and header-figure structs from
// dsynth.h), declared again here field by field. On DragonFly and FreeBSD
// pthread_t and pthread_cond_t are pointers, so they are declared as
// pointers here too, which makes the layout on Linux/amd64 the one dsynth
// has on its own systems. It prints the offsets the Go side hard-codes and
// the values it reads.
const datReader = `
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 1024                  /* dsynth's MAXWORKERS */

struct figures {                    /* dsynth.h: topinfo_t */
	int active, pkgimpulse, pkgrate, noswap, h, m, s;
	int total, successful, ignored, remaining, failed, skipped, meta;
	int dynmaxworkers;
	double dswap;
	double dload[3];
};

struct slotstate {                  /* dsynth.h: worker_t */
	int index, flags, accum_error, mount_error;
	int terminate : 1;
	char *basedir, *flavor;
	void *td;                       /* pthread_t: a pointer on the BSDs */
	void *cond;                     /* pthread_cond_t: a pointer too */
	void *pkg;
	int state;                      /* enum worker_state */
	int phase;                      /* enum worker_phase */
	time_t start_time;
	long lines, memuse;
	pid_t pid;
	int fds[2];
	char status[64];
	size_t pkg_dep_size;
};

struct monfile {                    /* monitor.c: monitor_file_t */
	char version[32];
	int32_t maxworkers, maxjobs;
	struct figures info;
	char packagespath[128], repositorypath[128], optionspath[128];
	char distfilespath[128], buildbase[128], logspath[128];
	char systempath[128];
	char profile[64];
	struct { struct slotstate work; char portdir[128]; } slots[SLOTS];
};

int main(int ac, char **av) {
	struct monfile *f;
	int fd, i;

	printf("size file=%zu figures=%zu work=%zu slot=%zu\n", sizeof(struct monfile),
	    sizeof(struct figures), sizeof(struct slotstate), sizeof(f->slots[0]));
	printf("off maxworkers=%zu maxjobs=%zu info=%zu paths=%zu profile=%zu slots=%zu\n",
	    offsetof(struct monfile, maxworkers), offsetof(struct monfile, maxjobs),
	    offsetof(struct monfile, info), offsetof(struct monfile, packagespath),
	    offsetof(struct monfile, profile), offsetof(struct monfile, slots));
	printf("off noswap=%zu dynmaxworkers=%zu dswap=%zu dload=%zu\n",
	    offsetof(struct figures, noswap), offsetof(struct figures, dynmaxworkers),
	    offsetof(struct figures, dswap), offsetof(struct figures, dload));
	printf("off state=%zu phase=%zu start_time=%zu lines=%zu memuse=%zu portdir=%zu\n",
	    offsetof(struct slotstate, state), offsetof(struct slotstate, phase),
	    offsetof(struct slotstate, start_time), offsetof(struct slotstate, lines),
	    offsetof(struct slotstate, memuse), offsetof(struct monfile, slots[0].portdir) -
	    offsetof(struct monfile, slots[0]));
	if (ac < 2)
		return 0;
	fd = open(av[1], O_RDONLY);
	if (fd < 0) { perror(av[1]); return 1; }
	f = mmap(NULL, sizeof(*f), PROT_READ, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED) { perror("mmap"); return 1; }
	printf("version=%s maxworkers=%d maxjobs=%d\n", f->version, f->maxworkers, f->maxjobs);
	printf("info active=%d impulse=%d rate=%d noswap=%d time=%d:%d:%d total=%d built=%d"
	    " ignored=%d remaining=%d failed=%d skipped=%d meta=%d dyn=%d swap=%.2f"
	    " load=%.2f/%.2f/%.2f\n",
	    f->info.active, f->info.pkgimpulse, f->info.pkgrate, f->info.noswap,
	    f->info.h, f->info.m, f->info.s, f->info.total, f->info.successful,
	    f->info.ignored, f->info.remaining, f->info.failed, f->info.skipped,
	    f->info.meta, f->info.dynmaxworkers, f->info.dswap,
	    f->info.dload[0], f->info.dload[1], f->info.dload[2]);
	printf("paths %s|%s|%s|%s|%s|%s|%s profile=%s\n", f->packagespath,
	    f->repositorypath, f->optionspath, f->distfilespath, f->buildbase,
	    f->logspath, f->systempath, f->profile);
	for (i = 0; i < f->maxworkers; ++i)
		printf("slot %d index=%d state=%d phase=%d start=%ld lines=%ld memuse=%ld origin=%s\n", i,
		    f->slots[i].work.index, f->slots[i].work.state, f->slots[i].work.phase,
		    (long)f->slots[i].work.start_time, f->slots[i].work.lines,
		    f->slots[i].work.memuse, f->slots[i].portdir);
	return 0;
}
`

// buildDatReader compiles datReader; it needs gcc and an LP64
// little-endian machine (the layout dsynth has on DragonFly and FreeBSD
// amd64).
func buildDatReader(t *testing.T) string {
	t.Helper()
	gcc := testenv.NeedCommand(t, "gcc", "gcc")
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("dsynth's monitor file layout is the LP64 little-endian one; this is %s", runtime.GOARCH)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "datreader.c")
	if err := os.WriteFile(src, []byte(datReader), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "datreader")
	if out, err := exec.Command(gcc, "-Wall", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// TestDatLayoutMatchesC checks every offset and size EncodeDat uses
// against the C compiler's layout of dsynth's structs.
func TestDatLayoutMatchesC(t *testing.T) {
	bin := buildDatReader(t)
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := fmt.Sprintf("size file=%d figures=%d work=%d slot=%d\n", DatSize, datInfoSize, datWorkSize, datSlotSize) +
		fmt.Sprintf("off maxworkers=%d maxjobs=%d info=%d paths=%d profile=%d slots=%d\n", datMaxWorkers, datMaxJobs, datInfo, datPaths, datProfile, datSlots) +
		fmt.Sprintf("off noswap=%d dynmaxworkers=%d dswap=%d dload=%d\n", infoNoSwap, infoDynWorkers, infoSwap, infoLoad) +
		fmt.Sprintf("off state=%d phase=%d start_time=%d lines=%d memuse=%d portdir=%d\n", workState, workPhase, workStartTime, workLines, workMemUse, datSlotOrigin)
	if string(out) != want {
		t.Errorf("C layout:\n%s\nGo layout:\n%s", out, want)
	}
}

// TestDatReadByC writes a running build's monitor file with MonitorWriter
// and reads it with the C program, as dsynth's monitor would.
func TestDatReadByC(t *testing.T) {
	bin := buildDatReader(t)
	dir := t.TempDir()
	clock := testenv.NewClock(t0.Add(3723 * time.Second))
	w := newMonitorWriter(filepath.Join(dir, "stats", MonitorFile), time.Hour, clock.Now)
	w.SetHeader(DatHeader{Version: "1.0.2", MaxJobs: 6, Packages: "/build/packages", Repository: "/build/packages/All",
		Options: "/build/options", Distfiles: "/build/distfiles", BuildBase: "/build/base", Logs: "/build/logs", System: "/", Profile: "LiveSystem"})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, e := range sampleRun() {
		w.Handle(e)
	}
	// dsynth's worker memuse: the work area's use after extract.
	w.Handle(events.PortWorkUse{Time: at(3710), Slot: 1, Origin: "lang/perl5.36", Bytes: 700 << 20})
	w.Handle(events.SystemLoad{Time: at(3720), Load1: 7.93, Load5: 6.5, Load15: 5.25, SwapPercent: 12.5, Running: 3, Limit: 3, MaxWorkers: 4})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(bin, filepath.Join(dir, "stats", DatFile)).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")[4:]
	start := func(sec int) int64 { return t0.Add(time.Duration(sec) * time.Second).Unix() }
	want := []string{
		"version=1.0.2 maxworkers=4 maxjobs=6",
		// 2 built (one already built drops out of the total), 1 failed,
		// 1 ignored, 1 skipped, 1 meta node: 124-1-5 = 118 left.
		"info active=1 impulse=6 rate=2 noswap=0 time=1:2:3 total=123 built=2 ignored=1 remaining=118 failed=1 skipped=1 meta=1 dyn=3 swap=12.50 load=7.93/6.50/5.25",
		"paths /build/packages|/build/packages/All|/build/options|/build/distfiles|/build/base|/build/logs|/ profile=LiveSystem",
		// dsynth's worker states: 3 running, 1 idle; phases: build = 14,
		// configure = 13, one dsynth does not know = pending (0).
		fmt.Sprintf("slot 0 index=0 state=3 phase=14 start=%d lines=1200 memuse=0 origin=devel/gmake", start(3000)),
		fmt.Sprintf("slot 1 index=1 state=3 phase=13 start=%d lines=87 memuse=%d origin=lang/perl5.36", start(3600), 700<<20),
		fmt.Sprintf("slot 2 index=2 state=3 phase=0 start=%d lines=0 memuse=0 origin=www/an-origin-that-is-much-longer-than-the-column@flavor", start(3700)),
		"slot 3 index=3 state=1 phase=0 start=0 lines=0 memuse=0 origin=",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("read by C:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestDatRoundTrip decodes what EncodeDat wrote back into the screen's
// model: the screen go-dsynth's monitor draws from a dsynth run is the one
// the run's own display showed (the log pane aside, which comes from
// 00_last_results.log).
func TestDatRoundTrip(t *testing.T) {
	st := sampleState()
	h := DatHeader{Version: "1.0.2", Logs: "/nonexistent", Profile: "LiveSystem"}
	now := t0.Add(3723 * time.Second)
	got, gh, err := DecodeDat(EncodeDat(st, h), now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Slots[1].MemUse != 0 {
		t.Errorf("memuse %d before any was reported", got.Slots[1].MemUse)
	}
	st.Slots[1].MemUse = 700 << 20
	if g, _, _ := DecodeDat(EncodeDat(st, h), now); g.Slots[1].MemUse != 700<<20 {
		t.Errorf("memuse %d after the round trip, want %d", g.Slots[1].MemUse, 700<<20)
	}
	if gh != h {
		t.Errorf("header %+v", gh)
	}
	st.Log, st.Directive = nil, ""
	// The file keeps the phase by dsynth's number: a phase dsynth does
	// not know comes back as "pending".
	st.Slots[2].Phase = "pending"
	got.Active, st.Active = false, false
	want := Render(st, 80, 24)
	if g := Render(got, 80, 24); !reflect.DeepEqual(g, want) {
		t.Errorf("decoded screen:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	if _, _, err := DecodeDat(make([]byte, 100), now); err == nil {
		t.Error("a short file decoded")
	}
	if _, _, err := DecodeDat(make([]byte, DatSize), now); err == nil {
		t.Error("a file dsynth has not filled in decoded")
	}
	// Strings are cut to their field with the NUL kept, as snprintf does.
	long := strings.Repeat("x", 200)
	_, gh, _ = DecodeDat(EncodeDat(st, DatHeader{Version: long, Packages: long}), now)
	if len(gh.Version) != 31 || len(gh.Packages) != 127 {
		t.Errorf("long strings: %d, %d", len(gh.Version), len(gh.Packages))
	}
}
