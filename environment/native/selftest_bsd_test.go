//go:build freebsd || dragonfly

package native_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/native"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == environment.InitArg {
		os.Exit(native.Init(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// hostMount is one line of mount(8): where, what type, read-only or not.
type hostMount struct {
	point, fstype string
	ro            bool
}

// hostMounts reads the host's mount table through mount(8), whose lines
// are "special on point (type, options…)" on both systems.
func hostMounts(t *testing.T) map[string]hostMount {
	t.Helper()
	out, err := exec.Command("/sbin/mount").Output()
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	ms := map[string]hostMount{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		on := strings.Index(line, " on ")
		paren := strings.LastIndex(line, " (")
		if on < 0 || paren < on {
			continue
		}
		opts := strings.Split(strings.TrimSuffix(line[paren+2:], ")"), ", ")
		m := hostMount{point: line[on+4 : paren], fstype: opts[0]}
		for _, o := range opts[1:] {
			if o == "read-only" {
				m.ro = true
			}
		}
		ms[m.point] = m
	}
	return ms
}

// outsideAddr returns a non-loopback IPv4 address of the host, "" if none.
func outsideAddr() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() {
			return ip.IP.String()
		}
	}
	return ""
}

// TestHostSelftest validates a real FreeBSD or DragonFly host for the
// slots: it is what scripts/bsd-selftest.sh runs. It mounts, so it runs
// only when asked (DSYNTH_BSD_SELFTEST=1) and as root.
func TestHostSelftest(t *testing.T) {
	if os.Getenv("DSYNTH_BSD_SELFTEST") != "1" {
		t.Skip("set DSYNTH_BSD_SELFTEST=1 (scripts/bsd-selftest.sh does) to mount a slot on this host")
	}
	if os.Geteuid() != 0 {
		t.Skip("the host selftest mounts file systems: run it as root")
	}
	base := os.Getenv("DSYNTH_SELFTEST_BASE")
	if base == "" {
		base = t.TempDir()
	}
	for _, d := range []string{"ports", "options", "packages", "distfiles", "build"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb := filepath.Join(base, "build")
	if err := environment.EnsureTemplate(filepath.Join(bb, "Template"), "/"); err != nil {
		t.Fatal(err)
	}
	plan, err := environment.BuildPlan(environment.Settings{BuildBase: bb, PortsDir: base + "/ports",
		OptionsDir: base + "/options", PackagesDir: base + "/packages", DistfilesDir: base + "/distfiles",
		SystemDir: "/", Layout: native.Layout, Slot: 99})
	if err != nil {
		t.Fatal(err)
	}
	env := native.New()
	ctx := context.Background()
	if err := env.Setup(ctx, plan); err != nil {
		t.Fatalf("setup: %v", err)
	}
	tornDown := false
	defer func() {
		if !tornDown {
			if err := env.Teardown(); err != nil {
				t.Errorf("teardown: %v", err)
			}
		}
	}()
	t.Logf("slot %s set up at %s", plan.Name, plan.Root)

	// What is mounted where, and read-only or not.
	ms := hostMounts(t)
	for _, m := range plan.Mounts {
		if m.Optional {
			if _, err := os.Stat(m.Source); err != nil {
				continue
			}
		}
		hm, ok := ms[plan.HostPath(m.Target)]
		if !ok {
			t.Errorf("%s: not mounted", m.Target)
			continue
		}
		if hm.ro != m.ReadOnly {
			t.Errorf("%s: read-only=%v, want %v", m.Target, hm.ro, m.ReadOnly)
		}
		t.Logf("ok: %s mounted (%s, read-only=%v)", m.Target, hm.fstype, hm.ro)
	}

	run := func(c environment.Command) (string, environment.Result, error) {
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if c.Env == nil {
			c.Env = environment.WorkerEnv("")
		}
		res, err := env.Execute(ctx, c)
		return strings.TrimSpace(out.String()), res, err
	}
	sh := func(script string) environment.Command {
		return environment.Command{Args: []string{"/bin/sh", "-c", script}}
	}

	// A command runs, its output and exit status come back.
	if out, res, err := run(sh("echo hello; exit 3")); err != nil || out != "hello" || res.ExitCode != 3 {
		t.Errorf("echo: %q, %+v, %v", out, res, err)
	} else {
		t.Log("ok: a command runs; output and exit status come back")
	}
	// Read-only system directories, writable work area.
	if _, res, err := run(sh("touch /usr/bin/dsynth-selftest")); err != nil || res.ExitCode == 0 {
		t.Errorf("/usr/bin is writable in the slot: %+v, %v", res, err)
	}
	if _, res, err := run(sh("touch /construction/x && touch /usr/local/x")); err != nil || res.ExitCode != 0 {
		t.Errorf("/construction or /usr/local not writable: %+v, %v", res, err)
	} else {
		t.Log("ok: system directories read-only, /construction and /usr/local writable")
	}
	// Niceness.
	c := sh("ps -o nice= -p $$")
	c.Nice = 10
	if out, _, err := run(c); err != nil || strings.TrimSpace(out) != "10" {
		t.Errorf("nice: %q, %v", out, err)
	} else {
		t.Log("ok: a command runs at the niceness asked for")
	}
	// The FreeBSD jail's /dev has the jail ruleset: no memory device.
	if runtime.GOOS == "freebsd" {
		if _, res, err := run(sh("test ! -e /dev/mem")); err != nil || res.ExitCode != 0 {
			t.Errorf("/dev/mem is visible in the slot: the devfs ruleset 4 (devfsrules_jail) was not applied")
		} else {
			t.Log("ok: /dev has the jail ruleset")
		}
	}

	// The network: only fetch phases reach the outside on FreeBSD; the
	// DragonFly chroot has the host's network in every phase, as dsynth's.
	if addr := outsideAddr(); addr == "" {
		t.Log("skipped the network check: the host has no non-loopback IPv4 address")
	} else if ln, err := net.Listen("tcp4", addr+":0"); err != nil {
		t.Errorf("listen on %s: %v", addr, err)
	} else {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		probe := func(network bool) bool {
			c := environment.Command{Args: []string{"nc", "-z", "-w", "5", addr, port}, Network: network}
			_, res, err := run(c)
			return err == nil && res.ExitCode == 0
		}
		fetch, build := probe(true), probe(false)
		wantBuild := runtime.GOOS == "dragonfly"
		if !fetch || build != wantBuild {
			t.Errorf("network: fetch phase reaches %s:%s=%v (want true), build phase=%v (want %v)", addr, port, fetch, build, wantBuild)
		} else {
			t.Logf("ok: a fetch phase reaches %s; a build phase reaches it=%v", addr, build)
		}
		ln.Close()
	}

	// Cancel a command that left a daemon behind: Execute returns, and no
	// process of it survives.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := env.Execute(cctx, environment.Command{Args: []string{"/bin/sh", "-c", "sleep 7771 & echo started; sleep 7772"},
			Env: environment.WorkerEnv(""), Stdout: pw, Stderr: pw})
		done <- err
	}()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	if strings.TrimSpace(line) != "started" {
		t.Errorf("cancel: the command said %q", line)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled command: %v", err)
	} else {
		t.Log("ok: a cancelled command returns")
	}
	pw.Close()
	pr.Close()

	if err := env.Teardown(); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	tornDown = true
	if out, _ := exec.Command("pgrep", "-f", "sleep 777[12]").Output(); len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("processes of the cancelled command survive: %s", out)
	} else {
		t.Log("ok: nothing of the cancelled command survives")
	}
	var left []string
	for p := range hostMounts(t) {
		if p == plan.Root || strings.HasPrefix(p, plan.Root+"/") {
			left = append(left, p)
		}
	}
	if len(left) != 0 {
		t.Errorf("left mounted after teardown: %v", left)
	} else {
		t.Log("ok: nothing left mounted after teardown")
	}
	if _, err := os.Stat(plan.Root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("slot root left: %v", err)
	}
}
