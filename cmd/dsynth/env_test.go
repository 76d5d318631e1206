//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// envProfile writes a configuration whose profile lives in a temp dir and
// returns the configuration directory and the build base.
func envProfile(t *testing.T) (conf, buildBase string) {
	t.Helper()
	testenv.NeedRoot(t)
	base := t.TempDir()
	for _, d := range []string{"conf", "ports", "options", "packages", "distfiles", "build", "logs", "repo"} {
		os.MkdirAll(filepath.Join(base, d), 0o755)
	}
	ini := "[Global Configuration]\nprofile_selected=T\n\n[T]\n"
	for k, d := range map[string]string{"buildbase": "build", "portsdir": "ports", "options": "options",
		"packages": "packages", "distfiles": "distfiles", "logs": "logs", "repository": "repo"} {
		ini += fmt.Sprintf("Directory_%s=%s\n", k, filepath.Join(base, d))
	}
	ini += "Directory_system=/\n"
	os.WriteFile(filepath.Join(base, "conf", "dsynth.ini"), []byte(ini), 0o644)
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	t.Cleanup(func() {
		if now, _ := os.ReadFile("/proc/self/mountinfo"); !bytes.Equal(now, mounts) {
			t.Errorf("host mount table changed")
		}
		left, _ := os.ReadDir(filepath.Join(base, "build"))
		for _, e := range left {
			if e.Name() != "Template" {
				t.Errorf("left in the build base: %s", e.Name())
			}
		}
	})
	return filepath.Join(base, "conf"), filepath.Join(base, "build")
}

// dsynthExec runs `dsynth exec -- sh -c script` and returns its status and
// combined output.
func dsynthExec(t *testing.T, conf, script string) (int, string) {
	t.Helper()
	cmd := exec.Command(dsynthBinary(t), "-C", conf, "exec", "--", "/bin/sh", "-c", script)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

const cliProbeC = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int bad = 0;
	bad |= mount("tmpfs", "/construction", "tmpfs", 0, "") == 0;
	bad |= mount("", "/usr/bin", "", MS_REMOUNT | MS_BIND, "") == 0;
	bad |= unshare(CLONE_NEWNS) == 0;
	mkdir("/construction/j", 0755);
	int fd = open("/", O_RDONLY);
	if (chroot("/construction/j") == 0) {
		fchdir(fd);
		for (int i = 0; i < 100; i++) chdir("..");
		chroot(".");
		bad |= access(argv[1], F_OK) == 0;
	}
	puts(bad ? "BREACH" : "CONTAINED");
	return bad;
}
`

func TestExecStatusAndIsolation(t *testing.T) {
	conf, _ := envProfile(t)
	if code, out := dsynthExec(t, conf, "echo hi; exit 5"); code != 5 || out != "hi\n" {
		t.Fatalf("exit status: %d %q", code, out)
	}
	marker, _ := os.CreateTemp("/", ".dsynth-cli-marker-")
	marker.Close()
	defer os.Remove(marker.Name())
	script := fmt.Sprintf(`
touch /usr/bin/x 2>/dev/null && echo RO-WRITABLE
test "$(ls /proc | grep -c '^[0-9]')" -le 5 || echo HOST-PROCS
(echo > /dev/tcp/1.1.1.1/53) 2>/dev/null && echo NET
mount -t tmpfs none /construction 2>/dev/null && echo MOUNTED
echo a > /construction/a && echo b > /usr/local/b || echo NOT-WRITABLE
cat > /construction/p.c <<'EOF_C'
%s
EOF_C
gcc -o /construction/p /construction/p.c || echo NO-GCC
/construction/p %s
setsid sh -c '(sleep 987671 &) &'
true`, cliProbeC, marker.Name())
	// bash for /dev/tcp.
	cmd := exec.Command(dsynthBinary(t), "-C", conf, "exec", "--", "/bin/bash", "-c", script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "CONTAINED" {
		t.Errorf("isolation breached through dsynth exec:\n%s", out)
	}
	time.Sleep(50 * time.Millisecond)
	if pids := procsWith("987671"); len(pids) != 0 {
		t.Errorf("daemon survived dsynth exec: %v", pids)
	}
}

func TestExecTwiceAndConcurrent(t *testing.T) {
	conf, _ := envProfile(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, out := dsynthExec(t, conf, "test ! -e /construction/m && touch /construction/m && sleep 0.2"); code != 0 {
				errs <- out
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestCleanupAfterSIGKILL(t *testing.T) {
	conf, build := envProfile(t)
	cmd := exec.Command(dsynthBinary(t), "-C", conf, "exec", "--", "/bin/sh", "-c", "setsid sh -c '(sleep $((987000+672)) &) &'; exec sleep $((987000+673))")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(procsWith("987672")) == 0; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("daemon did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	time.Sleep(100 * time.Millisecond)
	if pids := procsWith("98767"); len(pids) != 0 {
		t.Errorf("processes survived the controller: %v", pids)
	}
	if states, _ := filepath.Glob(filepath.Join(build, "*.state")); len(states) != 1 {
		t.Fatalf("want one state file after the crash, got %v", states)
	}
	out, err := exec.Command(dsynthBinary(t), "-C", conf, "cleanup").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SL100000: removed") {
		t.Fatalf("cleanup: %v\n%s", err, out)
	}
	out, _ = exec.Command(dsynthBinary(t), "-C", conf, "cleanup").CombinedOutput()
	if !strings.Contains(string(out), "no slot to clean up") {
		t.Errorf("second cleanup: %s", out)
	}
}

// procsWith returns the live host pids whose command line contains s.
func procsWith(s string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), s) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && len(st) > i+2 && st[i+2] == 'Z' {
				continue
			}
		}
		out = append(out, e.Name())
	}
	return out
}
