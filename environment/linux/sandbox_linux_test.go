//go:build linux

package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

func TestWritableAreas(t *testing.T) {
	s, _ := setup(t, Options{})
	code, out := sh(t, s, `set -ex
echo a > /construction/a; mkdir -p /construction/x/y; test "$(cat /construction/a)" = a
echo b > /usr/local/b; mkdir -p /usr/local/etc/pkg/repos
test -d /usr/local/bin && test -d /usr/local/sbin && test -d /usr/local/lib
echo c > /tmp/c; test "$(stat -c %a /tmp)" = 1777
echo d > /etc/d; echo e > /packages/e; echo f > /distfiles/f; echo g > /options/g
test "$(hostname)" = SL01`)
	if code != 0 {
		t.Fatalf("writes failed (%d):\n%s", code, out)
	}
}

func TestReadOnlySystemMounts(t *testing.T) {
	s, p := setup(t, Options{})
	for _, target := range []string{"/usr/bin", "/usr/lib", "/usr/include", "/usr/share", "/xports"} {
		code, out := sh(t, s, "echo x > "+target+"/dsynth-ro-probe")
		if code == 0 {
			t.Errorf("writing to %s worked; it must fail", target)
		}
		if !strings.Contains(out, "Read-only file system") {
			t.Errorf("writing to %s: want EROFS, got %q", target, out)
		}
	}
	if _, err := os.Stat(p.Mounts[0].Source + "/usr/bin/dsynth-ro-probe"); err == nil {
		t.Error("probe file reached the host")
	}
	// The system tree must not be writable through a symlink either.
	if code, _ := sh(t, s, "echo x > /bin/dsynth-ro-probe"); code == 0 {
		t.Error("writing to /bin worked")
	}
}

func TestNoHostProcesses(t *testing.T) {
	s, _ := setup(t, Options{})
	code, out := sh(t, s, `ls /proc | grep -c '^[0-9][0-9]*$'; ps -e -o pid=,comm=`)
	if code != 0 {
		t.Fatalf("listing processes failed (%d): %s", code, out)
	}
	var n int
	fmt.Sscan(out, &n)
	if n == 0 || n > 5 {
		t.Errorf("the slot sees %d processes, want only its own (≤5):\n%s", n, out)
	}
	if strings.Contains(out, ".test") {
		t.Errorf("a host process is visible:\n%s", out)
	}
	// A host pid cannot be signalled from inside.
	code, out = sh(t, s, fmt.Sprintf("kill -0 %d", os.Getpid()))
	if code == 0 && os.Getpid() > 5 {
		t.Errorf("kill -0 of the host pid %d worked: %s", os.Getpid(), out)
	}
}

const netProbeC = `
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* net HOST PORT: connect, print OK or the error; "net loop": listen on
   127.0.0.1 and connect to it. */
int main(int argc, char **argv) {
	struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET;
	if (argc == 2) {
		int l = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(l, (void *)&a, sizeof a) || listen(l, 1)) { perror("listen"); return 1; }
		socklen_t n = sizeof a; getsockname(l, (void *)&a, &n);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (void *)&a, sizeof a)) { perror("connect loopback"); return 1; }
		int s = accept(l, 0, 0); if (s < 0) { perror("accept"); return 1; }
		write(c, "hi", 2); char b[2]; if (read(s, b, 2) != 2) return 1;
		puts("LOOPBACK OK"); return 0;
	}
	inet_pton(AF_INET, argv[1], &a.sin_addr); a.sin_port = htons(atoi(argv[2]));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (void *)&a, sizeof a) == 0) { puts("CONNECTED"); return 0; }
	printf("connect %s: %s\n", argv[1], strerror(errno)); return 1;
}
`

func TestNetworkLoopbackOnly(t *testing.T) {
	s, _ := setup(t, Options{})
	bin := compile(t, s, "net", netProbeC)
	code, out := sh(t, s, bin+" loop")
	if code != 0 || !strings.Contains(out, "LOOPBACK OK") {
		t.Errorf("loopback does not work inside (%d): %s", code, out)
	}
	targets := []string{"1.1.1.1", "8.8.8.8", "10.0.0.1", "192.168.1.1"}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ip, _, err := net.ParseCIDR(a.String()); err == nil && ip.To4() != nil && !ip.IsLoopback() {
				targets = append(targets, ip.String()) // the host's own addresses
			}
		}
	}
	for _, ip := range targets {
		code, out := sh(t, s, bin+" "+ip+" 53")
		if code == 0 || strings.Contains(out, "CONNECTED") {
			t.Errorf("reached %s from inside the slot: %s", ip, out)
		}
	}
	code, out = sh(t, s, "cat /proc/net/dev")
	for _, line := range strings.Split(out, "\n")[2:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "lo:" {
			t.Errorf("interface %s visible inside the slot", f[0])
		}
	}
	_ = code
}

const escapeC = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* The classic chroot escape: chroot into a subdirectory while keeping a
   descriptor of the current root, fchdir back out, climb, chroot(".").
   Prints ESCAPED if the file named by argv[1] (which exists only on the
   host) becomes visible. */
int main(int argc, char **argv) {
	mkdir("/construction/jail", 0755);
	int fd = open("/", O_RDONLY);
	if (chroot("/construction/jail") != 0) { printf("chroot: %s\n", strerror(errno)); return 2; }
	if (fchdir(fd) != 0) { printf("fchdir: %s\n", strerror(errno)); return 2; }
	for (int i = 0; i < 256; i++) chdir("..");
	if (chroot(".") != 0) { printf("chroot .: %s\n", strerror(errno)); return 2; }
	if (access(argv[1], F_OK) == 0) { puts("ESCAPED"); return 0; }
	puts("still inside"); return 3;
}
`

func TestChrootEscape(t *testing.T) {
	marker, err := os.CreateTemp("/", ".dsynth-escape-marker-")
	if err != nil {
		t.Fatal(err)
	}
	marker.Close()
	defer os.Remove(marker.Name())
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepCaps=%v", keep), func(t *testing.T) {
			s, _ := setup(t, Options{keepCaps: keep})
			bin := compile(t, s, "escape", escapeC)
			code, out := sh(t, s, bin+" "+marker.Name())
			if code == 0 || strings.Contains(out, "ESCAPED") {
				t.Fatalf("escaped the slot root: %s", out)
			}
			if !keep && !strings.Contains(out, "chroot: Operation not permitted") {
				t.Errorf("with dropped capabilities chroot must fail with EPERM, got %q", out)
			}
			if keep && !strings.Contains(out, "still inside") {
				// Even a process allowed to chroot only finds the
				// slot: the host root was detached after pivot_root.
				t.Errorf("want the escape to stay inside, got %q", out)
			}
		})
	}
}

const mountProbeC = `
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
/* Every attempt must fail; prints one line each and exits 0 only if some
   attempt succeeded. */
int try(const char *what, int rc) {
	printf("%s: %s\n", what, rc == 0 ? "SUCCEEDED" : strerror(errno));
	return rc == 0;
}
int main(void) {
	int bad = 0;
	bad |= try("mount tmpfs", mount("tmpfs", "/construction", "tmpfs", 0, ""));
	bad |= try("remount rw", mount("", "/usr/bin", "", MS_REMOUNT | MS_BIND, ""));
	bad |= try("bind", mount("/usr", "/construction", "", MS_BIND, ""));
	bad |= try("umount", umount2("/usr/bin", MNT_DETACH));
	bad |= try("proc", mount("proc", "/construction", "proc", 0, ""));
	bad |= try("unshare mount ns", unshare(CLONE_NEWNS));
	return bad ? 0 : 1;
}
`

func TestCannotMount(t *testing.T) {
	s, _ := setup(t, Options{})
	bin := compile(t, s, "mnt", mountProbeC)
	code, out := sh(t, s, bin)
	if code == 0 || strings.Contains(out, "SUCCEEDED") {
		t.Fatalf("a mount operation succeeded inside the slot:\n%s", out)
	}
	if n := strings.Count(out, "Operation not permitted"); n != 6 {
		t.Errorf("want 6 EPERM, got %d:\n%s", n, out)
	}
	if code, out := sh(t, s, "mount -t tmpfs none /construction; mount -o remount,rw /usr/bin"); code == 0 {
		t.Errorf("mount(8) worked inside the slot: %s", out)
	}
	if code, out := sh(t, s, "touch /usr/bin/x"); code == 0 {
		t.Errorf("/usr/bin became writable: %s", out)
	}
}

func TestNoProcessSurvives(t *testing.T) {
	s, _ := setup(t, Options{})
	// A double-forked, setsid'd daemon outlives its command but not the
	// command's end: the init kills everything else when it exits.
	code, out := sh(t, s, `setsid sh -c '(sleep 987651 &) &' ; sleep 0.1; pgrep -f 987651 >/dev/null && echo running`)
	if code != 0 || !strings.Contains(out, "running") {
		t.Fatalf("daemon did not start (%d): %s", code, out)
	}
	waitNoProcesses(t, "987651")
	if code, out := sh(t, s, "pgrep -x sleep"); code == 0 {
		t.Errorf("daemon still visible in the slot: %s", out)
	}
}

func TestNoProcessSurvivesTeardown(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	p := testPlan(t, 2)
	s := New(Options{})
	if err := s.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// The command is still running (with a daemon) when the slot is torn
	// down from another goroutine.
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), environment.Command{
			Args: []string{"/bin/sh", "-c", "setsid sh -c '(sleep 987652 &) &'; exec sleep 987653"}, Env: testEnv})
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); len(hostProcesses("987652")) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("daemon did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pid := s.InitPid()
	if pid == 0 {
		t.Fatal("no init pid")
	}
	// Teardown waits for Execute (it holds the lock), so cancel by
	// killing: Teardown on a running command is what cleanup does.
	if err := killInit(pid); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Error("Execute of a killed slot returned no error")
	}
	if err := s.Teardown(); err != nil {
		t.Fatal(err)
	}
	if err := s.Teardown(); err != nil {
		t.Fatalf("second Teardown: %v", err)
	}
	waitNoProcesses(t, "98765")
	assertGone(t, p)
}

func TestCancelKillsEverything(t *testing.T) {
	s, _ := setup(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := s.Execute(ctx, environment.Command{
		Args: []string{"/bin/sh", "-c", "setsid sh -c '(sleep 987654 &) &'; sleep 987655"}, Env: testEnv})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v (%+v)", err, res)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %v", el)
	}
	waitNoProcesses(t, "98765")
	if _, err := s.Execute(context.Background(), environment.Command{Args: []string{"true"}, Env: testEnv}); !errors.Is(err, environment.ErrNotReady) {
		t.Errorf("Execute on a killed slot: want ErrNotReady, got %v", err)
	}
}

func TestCompileWithHostGCC(t *testing.T) {
	s, _ := setup(t, Options{})
	bin := compile(t, s, "hello", `#include <stdio.h>
int main(void) { printf("hello from %s\n", "the slot"); return 7; }`)
	code, out := sh(t, s, bin)
	if code != 7 || out != "hello from the slot\n" {
		t.Fatalf("got %d %q", code, out)
	}
}

func TestExitStatusAndIO(t *testing.T) {
	s, _ := setup(t, Options{})
	var stdout, stderr bytes.Buffer
	res, err := s.Execute(context.Background(), environment.Command{
		Args: []string{"sh", "-c", "cat; echo err >&2; pwd; echo $FOO; exit 3"}, Env: append([]string{"FOO=bar"}, testEnv...),
		Dir: "/tmp", Stdin: strings.NewReader("input\n"), Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || stdout.String() != "input\n/tmp\nbar\n" || stderr.String() != "err\n" {
		t.Errorf("got %+v stdout %q stderr %q", res, stdout.String(), stderr.String())
	}
	res, err = s.Execute(context.Background(), environment.Command{Args: []string{"sh", "-c", "kill -TERM $$"}, Env: testEnv})
	if err != nil || res.Signal != 15 || res.ExitCode != 128+15 {
		t.Errorf("signal: got %+v %v", res, err)
	}
	res, err = s.Execute(context.Background(), environment.Command{Args: []string{"no-such-program"}, Env: testEnv})
	if !errors.Is(err, environment.ErrNotFound) || res.ExitCode != 127 {
		t.Errorf("missing program: got %+v %v", res, err)
	}
	// The slot keeps working after those.
	if code, out := sh(t, s, "echo ok"); code != 0 || out != "ok\n" {
		t.Errorf("got %d %q", code, out)
	}
}

func TestSameSlotTwice(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	p := testPlan(t, 3)
	for i := 0; i < 2; i++ {
		s := New(Options{})
		if err := s.Setup(context.Background(), p); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		code, out := sh(t, s, "test ! -e /construction/mark && touch /construction/mark /usr/local/mark")
		if code != 0 {
			t.Errorf("round %d: state leaked from the previous slot: %s", i, out)
		}
		if err := s.Teardown(); err != nil {
			t.Fatal(err)
		}
		assertGone(t, p)
	}
}

func TestEightAtOnce(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	base := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		p := planIn(t, base, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := New(Options{})
			if err := s.Setup(context.Background(), p); err != nil {
				errs <- err
				return
			}
			defer s.Teardown()
			var out bytes.Buffer
			res, err := s.Execute(context.Background(), environment.Command{
				Args: []string{"sh", "-c", "hostname; echo $$ > /construction/pid; sleep 0.2; cat /construction/pid"},
				Env:  testEnv, Stdout: &out})
			if err != nil || res.ExitCode != 0 {
				errs <- fmt.Errorf("%s: %v %+v", p.Name, err, res)
				return
			}
			if want := p.Name + "\n"; !strings.HasPrefix(out.String(), want) {
				errs <- fmt.Errorf("%s: got %q", p.Name, out.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if left, _ := os.ReadDir(base + "/build"); len(left) != 0 {
		names := []string{}
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("left in the build base: %v", names)
	}
}

// TestCPUPinning: a command asked to run on CPU 0 (Numa_setsize), and
// what it starts, may run there only; without CPUs it keeps the machine's.
func TestCPUPinning(t *testing.T) {
	s, _ := setup(t, Options{})
	run := func(cpus []int) string {
		var out bytes.Buffer
		res, err := s.Execute(context.Background(), environment.Command{Args: []string{"/bin/sh", "-c", "sh -c 'grep Cpus_allowed_list /proc/self/status'"},
			Env: testEnv, Stdout: &out, Stderr: &out, CPUs: cpus})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v %+v %s", err, res, out.String())
		}
		return strings.TrimSpace(out.String())
	}
	if got := run([]int{0}); got != "Cpus_allowed_list:\t0" {
		t.Errorf("pinned to CPU 0, a grandchild sees %q", got)
	}
	if got := run(nil); got == "Cpus_allowed_list:\t0" && runtime.NumCPU() > 1 {
		t.Errorf("without CPUs the command is pinned: %q", got)
	}
}
