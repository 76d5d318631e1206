package builddb

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The test binary re-executes itself as a child process when
// BUILDDB_TEST_CHILD names a role; see TestMain.
const childEnv = "BUILDDB_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "writer":
		os.Exit(childWriter(os.Getenv("BUILDDB_TEST_PATH")))
	case "runner":
		os.Exit(childRunner(os.Getenv("BUILDDB_TEST_PATH")))
	default:
		os.Exit(3)
	}
}

// childWriter writes batches of records forever and prints each batch's
// UUIDs after its transaction committed.
func childWriter(path string) int {
	db, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		var batch []*BuildRecord
		for j := range 1 + i%7 {
			r := rec(fmt.Sprintf("cat%d/port%d", j, i%50), i, []Status{StatusSuccess, StatusFailed, StatusRunning}[i%3], j, i%9, uuid.Nil)
			r.ErrorMsg = strings.Repeat("z", (i*37)%900)
			batch = append(batch, r)
		}
		if i%5 == 4 && len(batch) > 1 {
			// Rewrite an earlier record of this batch in the same
			// transaction: updates must be atomic too.
			batch[0].Status = StatusSuccess
		}
		if err := db.PutBatch(batch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, r := range batch {
			fmt.Fprintln(out, r.ID.UUID)
		}
		out.Flush()
	}
}

// childRunner takes the build base lock, then writes through a transient
// handle until its stdin closes.
func childRunner(path string) int {
	lock, err := LockBuildBase(filepath.Dir(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer lock.Unlock()
	db, err := Open(path, Options{Transient: true, Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	done := make(chan struct{})
	go func() {
		bufio.NewReader(os.Stdin).ReadString('\n')
		close(done)
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			return 0
		default:
		}
		if err := db.Put(rec("cat/run", i, StatusSuccess, 1, 1, uuid.Nil)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func child(t *testing.T, role, path string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, "BUILDDB_TEST_PATH="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestCrashSafety SIGKILLs a writing child at random points, 50 times.
// Every reopen must succeed, hold every record whose commit was reported
// and no partial record; indexes must agree with the records.
func TestCrashSafety(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	committed := map[uuid.UUID]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		cmd := child(t, "writer", path)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// The kill lands after the child reported a random number of
		// commits (at least one, so the file exists): the child goes on
		// writing while the signal travels, so it strikes mid-write at
		// varying points, and no clock decides when.
		killAfter := 1 + rng.IntN(40)
		seen := 0
		for l := range lines {
			if seen++; seen == killAfter {
				cmd.Process.Signal(syscall.SIGKILL)
			}
			id, err := uuid.Parse(l)
			if err != nil {
				continue // a torn line: its commit is not proven
			}
			committed[id] = true
		}
		if seen < killAfter {
			t.Fatalf("round %d: the writer ended after %d commits without being killed", round, seen)
		}
		cmd.Wait()
		db, err := Open(path, Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		for id := range committed {
			if _, err := db.Get(id); err != nil {
				t.Fatalf("round %d: committed record %s: %v", round, id, err)
			}
		}
		if err := db.Verify(); err != nil { // decodes every record: no partial one
			t.Fatalf("round %d: %v", round, err)
		}
		db.Close()
	}
	if len(committed) < 100 {
		t.Fatalf("only %d records committed over 50 rounds", len(committed))
	}
	t.Logf("%d committed records survived 50 SIGKILLs", len(committed))
}

// TestLockAndReadersAcrossProcesses: a child run holds the build base lock
// and writes; a second writer here is refused at once with the child's pid;
// readers here keep working while the child writes.
func TestLockAndReadersAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	cmd := child(t, "runner", path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("runner said %q: %v", line, err)
	}
	start := time.Now()
	_, err = LockBuildBase(dir)
	var le *LockError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != cmd.Process.Pid ||
		!strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("second writer: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("second writer waited")
	}
	last := -1
	for i := range 20 {
		db, err := Open(path, Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		h, err := db.PortHistory("cat/run", 0)
		db.Close()
		if err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		if len(h) < last {
			t.Fatalf("history shrank: %d < %d", len(h), last)
		}
		last = len(h)
		time.Sleep(10 * time.Millisecond)
	}
	if last < 2 {
		t.Fatalf("reader saw %d records while the run wrote", last)
	}
}

func TestLockSameProcess(t *testing.T) {
	dir := t.TempDir()
	l, err := LockBuildBase(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockBuildBase(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	l.Unlock()
	l2, err := LockBuildBase(dir)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	l2.Unlock()
}
