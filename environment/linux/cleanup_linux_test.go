//go:build linux

package linux

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// helperMain is a controller in a separate process:
//
//	hold BASE TEMPLATE: set up slot 1 under BASE, start a long command
//	    with a daemon, print READY, wait to be killed;
//	try BASE TEMPLATE NOUSERNS: set up slot 1 (NoUserNamespace when
//	    NOUSERNS is "1"), print "ERR <error>" or run id and print "OK".
func helperMain(args []string) int {
	if len(args) < 3 {
		return 2
	}
	tmpl := args[2]
	if tmpl == "-" {
		tmpl = "-"
	}
	p, err := planFor(args[1], 1, tmpl)
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	switch args[0] {
	case "hold":
		s := New(Options{})
		if err := s.Setup(context.Background(), p); err != nil {
			fmt.Println("ERR", err)
			return 1
		}
		go s.Execute(context.Background(), environment.Command{
			Args: []string{"/bin/sh", "-c", "setsid sh -c '(sleep 987661 &) &'; exec sleep 987662"}, Env: testEnv})
		fmt.Println("READY")
		select {}
	case "try":
		s := New(Options{NoUserNamespace: len(args) > 3 && args[3] == "1"})
		if err := s.Setup(context.Background(), p); err != nil {
			fmt.Println("ERR", err)
			return 0
		}
		var out bytes.Buffer
		res, err := s.Execute(context.Background(), environment.Command{
			Args: []string{"/bin/sh", "-c", "id -u; echo x > /construction/x && cat /construction/x; touch /usr/bin/x 2>/dev/null || echo ro; ls /proc | grep -c '^[0-9]'"},
			Env:  testEnv, Stdout: &out, Stderr: &out})
		terr := s.Teardown()
		fmt.Printf("OK %d %v %v\n%s", res.ExitCode, err, terr, out.String())
		return 0
	}
	return 2
}

func TestCleanupAfterControllerSIGKILL(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	base := t.TempDir()
	cmd := exec.Command("/proc/self/exe", helperArg, "hold", base, sharedTemplate)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "READY\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	for deadline := time.Now().Add(5 * time.Second); len(hostProcesses("987661")) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("daemon did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Pdeathsig took the init and the whole pid namespace with it.
	waitNoProcesses(t, "98766")
	build := filepath.Join(base, "build")
	if _, err := os.Stat(environment.StatePath(build, "SL01")); err != nil {
		t.Fatalf("want the crashed slot's state file: %v", err)
	}
	res, err := Cleanup(build)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Slot != "SL01" || res[0].InUse {
		t.Errorf("cleanup: %+v", res)
	}
	if left, _ := os.ReadDir(build); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	assertGone(t, environment.Plan{Name: "SL01", Root: filepath.Join(build, "SL01"), BuildBase: build})
	if res, err := Cleanup(build); err != nil || len(res) != 0 {
		t.Errorf("second cleanup: %+v %v", res, err)
	}
}

func TestCleanupKillsLiveInit(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	p := testPlan(t, 4)
	s := New(Options{})
	if err := s.Setup(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// Pretend the controller died: point the state at a finished process.
	dead := exec.Command("true")
	dead.Run()
	sts, _ := environment.ReadStates(p.BuildBase)
	st := sts[0]
	st.Controller, st.ControllerStart = dead.Process.Pid, "0"
	if err := environment.WriteState(p.BuildBase, st); err != nil {
		t.Fatal(err)
	}
	// A live controller's slot is left alone.
	res, err := Cleanup(p.BuildBase)
	if err != nil || len(res) != 1 || res[0].Killed != 1 {
		t.Fatalf("cleanup: %+v %v", res, err)
	}
	if _, err := s.Execute(context.Background(), environment.Command{Args: []string{"true"}, Env: testEnv}); err == nil {
		t.Error("the slot survived cleanup")
	}
	if err := s.Teardown(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, p)
}

func TestCleanupLeavesLiveSlots(t *testing.T) {
	s, p := setup(t, Options{})
	res, err := Cleanup(p.BuildBase)
	if err != nil || len(res) != 1 || !res[0].InUse {
		t.Fatalf("cleanup of a live slot: %+v %v", res, err)
	}
	if code, _ := sh(t, s, "true"); code != 0 {
		t.Error("the live slot was damaged")
	}
}

func TestBadInput(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	cases := []struct {
		name  string
		edit  func(t *testing.T, p *environment.Plan)
		want  error
		match string
	}{
		{"missing mount source", func(t *testing.T, p *environment.Plan) {
			os.RemoveAll(p.Mounts[len(p.Mounts)-2].Source) // distfiles
		}, environment.ErrInvalidPlan, "distfiles"},
		{"non-empty slot dir", func(t *testing.T, p *environment.Plan) {
			os.MkdirAll(p.Root, 0o755)
			os.WriteFile(p.Root+"/junk", nil, 0o644)
		}, environment.ErrInvalidPlan, "not empty"},
		{"missing system dir", func(t *testing.T, p *environment.Plan) {
			for i := range p.Mounts {
				if p.Mounts[i].Target == "/usr/include" {
					p.Mounts[i].Source = "/nonexistent-system/usr/include"
				}
			}
		}, environment.ErrInvalidPlan, "/nonexistent-system/usr/include"},
		{"slot in use", func(t *testing.T, p *environment.Plan) {
			environment.CreateState(p.BuildBase, environment.SlotState{Name: p.Name})
		}, environment.ErrSlotInUse, "in use"},
		{"missing template", func(t *testing.T, p *environment.Plan) {
			p.Template = "/nonexistent-template"
		}, environment.ErrInvalidPlan, "template"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testPlan(t, 5)
			c.edit(t, &p)
			before, _ := os.ReadDir(p.BuildBase)
			s := New(Options{})
			err := s.Setup(context.Background(), p)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.match) {
				t.Fatalf("want %v mentioning %q, got %v", c.want, c.match, err)
			}
			after, _ := os.ReadDir(p.BuildBase)
			if len(before) != len(after) {
				t.Errorf("Setup left files: before %v after %v", before, after)
			}
			if err := s.Teardown(); err != nil {
				t.Errorf("Teardown after failed Setup: %v", err)
			}
		})
	}
}

// runAsNobody runs the helper as uid/gid 65534 and returns its output.
func runAsNobody(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "helper")
	self, _ := os.Executable()
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	cmd := exec.Command(bin, append([]string{helperArg}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	return string(out)
}

func nobodyBase(t *testing.T) string {
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chown(base, 65534, 65534)
	return base
}

func TestNoPrivileges(t *testing.T) {
	testenv.NeedRoot(t)
	checkMounts(t)
	base := nobodyBase(t)
	out := runAsNobody(t, "try", base, "-", "1")
	if !strings.HasPrefix(out, "ERR ") || !strings.Contains(out, "insufficient privileges") || !strings.Contains(out, "not running as root") {
		t.Fatalf("want a privilege error, got %q", out)
	}
	if left, _ := os.ReadDir(filepath.Join(base, "build")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestRootless(t *testing.T) {
	testenv.NeedRoot(t) // to become nobody
	checkMounts(t)
	base := nobodyBase(t)
	out := runAsNobody(t, "try", base, "-", "0")
	if strings.HasPrefix(out, "ERR") && strings.Contains(out, "operation not permitted") {
		t.Skipf("the host forbids unprivileged user namespaces: %s", out)
	}
	want := "OK 0 <nil> <nil>\n0\nx\nro\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("rootless slot: want %q…, got %q", want, out)
	}
	if left, _ := os.ReadDir(filepath.Join(base, "build")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
