//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// clusterSite is a service site whose profile embeds a NATS server for
// workers (Cluster_listen) on natsAddr.
type clusterSite struct {
	*serviceSite
	natsAddr string
}

// newClusterSite starts `dsynth serve` with Cluster_listen and a short
// lease timeout.
func newClusterSite(t *testing.T, extra ...string) *clusterSite {
	t.Helper()
	return newClusterSiteOn(t, freeAddr(t), extra...)
}

// newClusterSiteOn is newClusterSite with the NATS server on natsAddr.
func newClusterSiteOn(t *testing.T, natsAddr string, extra ...string) *clusterSite {
	t.Helper()
	ds := newDemoSite(t)
	s := &serviceSite{demoSite: ds, addr: freeAddr(t)}
	cs := &clusterSite{serviceSite: s, natsAddr: natsAddr}
	lines := append([]string{"Api_listen= " + s.addr, "Api_keys= " + filepath.Join(ds.conf, "api.keys"),
		"Cluster_listen= " + cs.natsAddr, "Cluster_lease_timeout= 3"}, extra...)
	f, err := os.OpenFile(filepath.Join(ds.conf, "dsynth.ini"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Join(lines, "\n") + "\n")
	f.Close()
	s.key, _, _ = strings.Cut(ds.must(t, 0, "api-key", "ci", "admin"), "\n")
	s.start(t)
	s.out.waitFor(t, "serve", "Cluster: workers connect to nats://")
	return cs
}

// pauseLocal pauses the controller's own slots (0 and 1): every port then
// builds on a worker.
func (cs *clusterSite) pauseLocal(t *testing.T) {
	t.Helper()
	for _, id := range []string{"0", "1"} {
		if code, _ := cs.call(t, "POST", "/workers/"+id+"/pause", cs.key, nil, nil); code != 200 {
			t.Fatalf("pause %s: %d", id, code)
		}
	}
}

// gateClosed closes misc/gate's gate on a worker: its build of the port
// waits until the test removes the file.
func gateClosed(w *clusterWorker) {
	os.MkdirAll(w.dist, 0o755)
	os.WriteFile(filepath.Join(w.dist, "gate-closed"), nil, 0o644)
}

// clusterWorker is a `dsynth worker` process with a site of its own.
type clusterWorker struct {
	*demoSite
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
}

// startWorker issues credentials for name on the controller and starts a
// worker with its own build base and copy of the ports tree.
func (cs *clusterSite) startWorker(t *testing.T, name string, slots string) *clusterWorker {
	t.Helper()
	return cs.startWorkerAt(t, name, slots, "nats://"+cs.natsAddr, nil)
}

// startWorkerAt starts a worker that dials url; prefix, when set, runs it
// under another command (ip netns exec …); tweak may change its site
// before it starts.
func (cs *clusterSite) startWorkerAt(t *testing.T, name, slots, url string, tweak func(*clusterWorker), prefix ...string) *clusterWorker {
	t.Helper()
	w := &clusterWorker{demoSite: newDemoSite(t), name: name, out: &syncBuffer{}}
	if tweak != nil {
		tweak(w)
	}
	creds := filepath.Join(w.conf, name+".creds")
	cs.must(t, 0, "worker-key", name, "--out", creds)
	args := append(prefix, dsynthBinary(t), "-C", w.conf, "worker", "--controller", url, "--creds", creds, "--slots", slots)
	w.cmd = exec.Command(args[0], args[1:]...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := w.cmd
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	})
	return w
}

// packageFiles extracts a package and returns its files' contents by
// path (the package format of the test tree: gzip'd tar).
func packageFiles(t *testing.T, pkg string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", pkg, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v %s", pkg, err, out)
	}
	files := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[rel] = string(b)
		}
		return nil
	})
	return files
}

// treePorts lists every port of the test tree, as `make demo` builds it.
func treePorts(t *testing.T, tree string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(tree, "*", "*", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		rel, _ := filepath.Rel(tree, filepath.Dir(d))
		if cat, _, _ := strings.Cut(rel, "/"); cat != "Mk" && cat != "src" && cat != "distfiles-src" {
			out = append(out, rel)
		}
	}
	if len(out) < 20 {
		t.Fatalf("the test tree has %d ports: %v", len(out), out)
	}
	return out
}

// resultLines returns each port's outcome in a build's output ("SUCCESS
// misc/hello", "FAILURE …", and "IGNORED …", "SKIPPED …" from dsynth's
// "[XXX] ORIGIN … ignored due to …" lines), sorted.
func resultLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for i, w := range f {
			if (w == "SUCCESS" || w == "FAILURE") && i+1 < len(f) {
				lines = append(lines, w+" "+f[i+1])
				break
			}
			if (w == "ignored" || w == "skipped") && i+2 < len(f) && f[i+1] == "due" && len(f) > 1 && f[0] == "[XXX]" {
				lines = append(lines, strings.ToUpper(w)+" "+f[1])
				break
			}
		}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// TestClusterWholeTreeOnThreeWorkers: three worker processes, each in a
// network namespace of its own (a veth pair to the controller's), each
// with its own build base and sandboxes, build the whole test tree with
// the controller's own slots paused. Every port ends as it does in a
// local build of the same tree (built, failed, ignored, skipped), each is
// recorded once, the built ones on remote slots; every package has the
// same content as the local build's (but misc/buildstamp's time stamp,
// which is the point of that port), and the tree's package tool installs
// them.
func TestClusterWholeTreeOnThreeWorkers(t *testing.T) {
	nets := []*netns{newNetns(t, 1), newNetns(t, 2), newNetns(t, 3)}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	cs := newClusterSiteOn(t, "0.0.0.0:"+port)
	var workers []*clusterWorker
	for i, ns := range nets {
		name := fmt.Sprintf("w%d", i+1)
		workers = append(workers, cs.startWorkerAt(t, name, "1", "nats://"+ns.hostIP+":"+port, nil, "ip", "netns", "exec", ns.name))
		cs.out.waitFor(t, "serve", "worker "+name+" (")
	}
	var ws struct {
		Hosts []struct {
			Name  string
			Slots int
			State string
		}
	}
	cs.pauseLocal(t)
	if code, _ := cs.call(t, "GET", "/workers", cs.key, nil, &ws); code != 200 || len(ws.Hosts) != 3 || ws.Hosts[0].Name != "w1" ||
		ws.Hosts[0].Slots != 1 || ws.Hosts[2].State != "ready" {
		t.Errorf("workers: %d %+v", code, ws)
	}

	ports := treePorts(t, cs.tree)
	code, out := cs.dsynth(t, append([]string{"-S", "just-build"}, ports...)...)
	results := resultLines(out)
	for _, want := range []string{"SUCCESS textproc/csvtool", "FAILURE devel/broken", "IGNORED misc/obsolete", "SKIPPED misc/needs-obsolete"} {
		if !slices.Contains(results, want) {
			t.Errorf("the cluster build lacks %q: %q", want, results)
		}
	}
	for _, w := range workers {
		contains(t, w.name, w.out.String(), "admitted by the controller with 1 slots")
	}

	recs := cs.records(t)
	seen := map[string]int{}
	built := 0
	for _, r := range recs {
		seen[r.ID.PortDir+"@"+r.ID.Flavor]++
		if r.Status == "success" {
			built++
		}
		if (r.Status == "success" || r.Status == "failed") && r.ID.Worker < 2 {
			t.Errorf("%s: %s on slot %d, want a remote slot (the local ones were paused)", r.ID.PortDir, r.Status, r.ID.Worker)
		}
		if r.Status == "lost" {
			t.Errorf("%s: an attempt lost with no fault injected", r.ID.PortDir)
		}
	}
	for o, n := range seen {
		if n != 1 {
			t.Errorf("%s recorded %d times", o, n)
		}
	}
	// Slots 2, 3 and 4 are the workers' (one slot each).
	for slot := 2; slot <= 4; slot++ {
		if !slices.ContainsFunc(recs, func(r clusterRecord) bool { return r.ID.Worker == slot && r.Status == "success" }) {
			t.Errorf("no port built on remote slot %d", slot)
		}
	}
	if built < 20 {
		t.Errorf("%d ports built on the workers:\n%s", built, out)
	}

	// The tree's package tool installs every package of the repository.
	pkgs, _ := filepath.Glob(filepath.Join(cs.repo, "*.pkg"))
	if len(pkgs) != built {
		t.Errorf("%d packages in the repository for %d ports built: %v", len(pkgs), built, pkgs)
	}
	root := t.TempDir()
	pkgTool := filepath.Join(cs.tree, "src", "pkg-1.21.0", "pkg.sh")
	if out, err := exec.Command("sh", append([]string{pkgTool, "-r", root, "add"}, pkgs...)...).CombinedOutput(); err != nil {
		t.Errorf("pkg add of the cluster's packages: %v %s", err, out)
	} else if _, err := os.Stat(filepath.Join(root, "usr", "local", "bin", "csvtool")); err != nil {
		t.Errorf("csvtool not installed: %v\n%s", err, out)
	}

	// The same tree built locally on a site of its own: the same
	// outcomes and packages of the same content.
	w1 := newDemoSite(t)
	localCode, localOut := w1.dsynth(t, append([]string{"-y", "just-build"}, ports...)...)
	if localCode != code {
		t.Errorf("exit %d from the cluster build, %d from the local one", code, localCode)
	}
	if local := resultLines(localOut); !slices.Equal(results, local) {
		t.Errorf("outcomes differ:\ncluster %q\nlocal   %q", results, local)
	}
	localPkgs, _ := filepath.Glob(filepath.Join(w1.repo, "*.pkg"))
	if len(localPkgs) != len(pkgs) {
		t.Errorf("%d packages from the cluster, %d locally", len(pkgs), len(localPkgs))
	}
	for _, lp := range localPkgs {
		name := filepath.Base(lp)
		remote, local := packageFiles(t, filepath.Join(cs.repo, name)), packageFiles(t, lp)
		if len(remote) == 0 || len(remote) != len(local) {
			t.Errorf("%s: %d files from the cluster, %d locally", name, len(remote), len(local))
		}
		for f, c := range local {
			if f == filepath.Join("usr", "local", "share", "buildstamp", "built-at") {
				continue // the port that records when it was built
			}
			if remote[f] != c && !strings.HasPrefix(f, "+") {
				t.Errorf("%s: %s differs between the cluster's and the local build", name, f)
			}
		}
	}
}

// follow starts `dsynth -S ARGS…` against the site's service and returns
// the process and its output.
func (cs *clusterSite) follow(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(dsynthBinary(t), append([]string{"-C", cs.conf, "-S"}, args...)...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// clusterRecord is a build record as the service's API shows it.
type clusterRecord struct {
	ID struct {
		PortDir string `json:"portdir"`
		Flavor  string `json:"flavor"`
		Worker  int    `json:"worker"`
	} `json:"id"`
	Status   string `json:"status"`
	ErrorMsg string `json:"error_msg"`
}

// records lists every build record through the service.
func (cs *clusterSite) records(t *testing.T) []clusterRecord {
	t.Helper()
	var list struct {
		Records []clusterRecord `json:"records"`
	}
	if code, _ := cs.call(t, "GET", "/records?limit=1000", cs.key, nil, &list); code != 200 {
		t.Fatalf("records: %d", code)
	}
	return list.Records
}

// buildsOf counts an origin's records by status.
func (cs *clusterSite) buildsOf(t *testing.T, origin string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range cs.records(t) {
		if r.ID.PortDir == origin {
			out[r.Status]++
		}
	}
	return out
}

// TestClusterWorkerKilledMidPort: a worker SIGKILLed while it builds a
// port loses the attempt; a worker that joins during the run builds the
// port, which is in the repository once and recorded once as built, once
// as lost.
func TestClusterWorkerKilledMidPort(t *testing.T) {
	cs := newClusterSite(t)
	cs.pauseLocal(t)
	// misc/gate waits on w1 while its gate is closed.
	w1 := cs.startWorkerAt(t, "w1", "1", "nats://"+cs.natsAddr, gateClosed)
	cs.out.waitFor(t, "serve", "worker w1 (")

	follower, fout := cs.follow(t, "just-build", "misc/gate")
	fout.waitFor(t, "the follower", "START   misc/gate")
	w1.out.waitFor(t, "worker w1", "admitted")
	w1.cmd.Process.Kill()
	w1.cmd.Wait()

	// A second worker joins during the run and builds the port.
	w2 := cs.startWorker(t, "w2", "1")
	cs.out.waitFor(t, "serve", "worker w1 lost")
	if err := follower.Wait(); err != nil {
		t.Fatalf("follower: %v\n%s\nserve:\n%s", err, fout.String(), cs.out.String())
	}
	contains(t, "the follower", fout.String(), "SUCCESS misc/gate", "attempt lost on w1/0", "2 built, 0 failed")
	contains(t, "worker w2", w2.out.String(), "admitted")
	if got := cs.buildsOf(t, "misc/gate"); got["success"] != 1 || got["lost"] != 1 || len(got) != 2 {
		t.Errorf("records of misc/gate: %v, want one success and one lost attempt", got)
	}
	if pkgs, _ := filepath.Glob(filepath.Join(cs.repo, "gate-*")); len(pkgs) != 1 {
		t.Errorf("repository: %v", pkgs)
	}
}

// netns is a network namespace joined to the host's by a veth pair: the
// host's end has hostIP, the namespace's nsIP (a /30 of 10.213.N.0).
type netns struct {
	name, hostIf, nsIf string
	hostIP, nsIP       string
}

// newNetns makes namespace number n (removed at the end of the test).
func newNetns(t *testing.T, n int) *netns {
	t.Helper()
	testenv.NeedCommand(t, "ip", "iproute2")
	tag := fmt.Sprintf("%d%d", os.Getpid()%100000, n)
	ns := &netns{name: "dsy" + tag, hostIf: "dsh" + tag, nsIf: "dsw" + tag,
		hostIP: fmt.Sprintf("10.213.%d.1", n), nsIP: fmt.Sprintf("10.213.%d.2", n)}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns.name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.name).Run() })
	ip("link", "add", ns.hostIf, "type", "veth", "peer", "name", ns.nsIf)
	t.Cleanup(func() { exec.Command("ip", "link", "del", ns.hostIf).Run() })
	ip("link", "set", ns.nsIf, "netns", ns.name)
	ip("addr", "add", ns.hostIP+"/30", "dev", ns.hostIf)
	ip("link", "set", ns.hostIf, "up")
	ip("netns", "exec", ns.name, "ip", "addr", "add", ns.nsIP+"/30", "dev", ns.nsIf)
	ip("netns", "exec", ns.name, "ip", "link", "set", ns.nsIf, "up")
	ip("netns", "exec", ns.name, "ip", "link", "set", "lo", "up")
	return ns
}

// link sets the host's end of the pair up or down (a cut cable).
func (ns *netns) link(t *testing.T, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	if out, err := exec.Command("ip", "link", "set", ns.hostIf, state).CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s %s: %v %s", ns.hostIf, state, err, out)
	}
}

// TestClusterLinkCutAndRestored: two workers, each in a network namespace
// of its own reaching the controller through a veth pair. The link of the
// one building misc/gate is cut: after the lease timeout its attempt is
// lost and the other worker builds the port. The link comes back and the
// first worker's build ends: its late result is discarded, the port is in
// the repository once and recorded once as built.
func TestClusterLinkCutAndRestored(t *testing.T) {
	n1, n2 := newNetns(t, 1), newNetns(t, 2)
	_, port, _ := strings.Cut(freeAddr(t), ":")
	cs := newClusterSiteOn(t, "0.0.0.0:"+port)
	cs.pauseLocal(t)
	w1 := cs.startWorkerAt(t, "w1", "1", "nats://"+n1.hostIP+":"+port, gateClosed, "ip", "netns", "exec", n1.name)
	cs.out.waitFor(t, "serve", "worker w1 (")

	follower, fout := cs.follow(t, "just-build", "misc/gate")
	fout.waitFor(t, "the follower", "START   misc/gate")
	// The build is in its gate: cut w1's cable; w2 joins (from its own
	// namespace) and takes the port once w1 is lost.
	n1.link(t, false)
	w2 := cs.startWorkerAt(t, "w2", "1", "nats://"+n2.hostIP+":"+port, nil, "ip", "netns", "exec", n2.name)
	cs.out.waitFor(t, "serve", "worker w1 lost")
	if err := follower.Wait(); err != nil {
		t.Fatalf("follower: %v\n%s\nserve:\n%s", err, fout.String(), cs.out.String())
	}
	contains(t, "the follower", fout.String(), "SUCCESS misc/gate", "attempt lost on w1/0", "0 failed")
	contains(t, "worker w2", w2.out.String(), "admitted")

	// The cable back, the gate open: w1's build ends, too late.
	n1.link(t, true)
	os.Remove(filepath.Join(w1.dist, "gate-closed"))
	cs.out.waitFor(t, "serve", "worker w1 is back")
	cs.out.waitFor(t, "serve", "worker w1: late result")
	if got := cs.buildsOf(t, "misc/gate"); got["success"] != 1 || got["lost"] != 1 || len(got) != 2 {
		t.Errorf("records of misc/gate: %v, want one success and one lost attempt", got)
	}
	if pkgs, _ := filepath.Glob(filepath.Join(cs.repo, "gate-*")); len(pkgs) != 1 {
		t.Errorf("repository: %v", pkgs)
	}
}

// TestClusterControllerRestart: the controller is SIGKILLed while a worker
// builds; started again, it resumes the build, the worker reconnects and
// the run finishes.
func TestClusterControllerRestart(t *testing.T) {
	cs := newClusterSite(t)
	cs.pauseLocal(t)
	w1 := cs.startWorkerAt(t, "w1", "1", "nats://"+cs.natsAddr, gateClosed)
	cs.out.waitFor(t, "serve", "worker w1 (")
	_, fout := cs.follow(t, "just-build", "misc/gate")
	fout.waitFor(t, "the follower", "START   misc/gate")

	cs.serve.Process.Kill()
	cs.serve.Wait()
	os.Remove(filepath.Join(w1.dist, "gate-closed"))
	// Started again, the service resumes the build at once (the pauses
	// were the killed process's, so a local slot may take the port): the
	// worker must reconnect to the new controller, and the run end.
	cs.start(t)
	cs.out.waitFor(t, "serve", "worker w1 (")
	w1.out.waitFor(t, "worker w1", "reconnected to the controller")
	cs.out.waitFor(t, "serve", " done: ")
	contains(t, "serve", cs.out.String(), "done: 1 built, 0 failed")
	if got := cs.buildsOf(t, "misc/gate"); got["success"] != 1 {
		t.Errorf("records of misc/gate: %v", got)
	}
	if pkgs, _ := filepath.Glob(filepath.Join(cs.repo, "gate-*")); len(pkgs) != 1 {
		t.Errorf("repository: %v", pkgs)
	}
}

// TestClusterRefusesWrongTreeAndCredentials: a worker whose ports tree
// differs is refused, naming the difference; a revoked key is refused at
// the connection; both exit non-zero and get no slot.
func TestClusterRefusesWrongTreeAndCredentials(t *testing.T) {
	cs := newClusterSite(t)
	other := func(w *clusterWorker) {
		f, err := os.OpenFile(filepath.Join(w.tree, "Mk", "bsd.port.mk"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("# another tree\n")
		f.Close()
	}
	w1 := cs.startWorkerAt(t, "w1", "1", "nats://"+cs.natsAddr, other)
	err := w1.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("a worker with another tree: %v\n%s", err, w1.out.String())
	}
	contains(t, "the refused worker", w1.out.String(), "differs from the controller in its ports tree: worker mk:", "refused by the controller")
	contains(t, "serve", cs.out.String(), "worker w1 refused")

	w2 := cs.startWorker(t, "w2", "1")
	cs.out.waitFor(t, "serve", "worker w2 (")
	w2.cmd.Process.Signal(syscall.SIGTERM)
	w2.cmd.Wait()
	cs.out.waitFor(t, "serve", "worker w2 lost: it left")
	cs.must(t, 0, "worker-key", "revoke", "w2")
	again := exec.Command(dsynthBinary(t), "-C", w2.conf, "worker", "--controller", "nats://"+cs.natsAddr, "--creds", filepath.Join(w2.conf, "w2.creds"))
	out, err := again.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("a revoked worker: %v\n%s", err, out)
	}
	contains(t, "the revoked worker", string(out), "refused the credentials in "+filepath.Join(w2.conf, "w2.creds"))
	var ws struct {
		Hosts []struct{ Name, State string }
	}
	if code, _ := cs.call(t, "GET", "/workers", cs.key, nil, &ws); code != 200 || len(ws.Hosts) != 1 || ws.Hosts[0].Name != "w2" || ws.Hosts[0].State != "left" {
		t.Errorf("workers: %d %+v", code, ws)
	}
}

// TestClusterWorkerDiskFull: a worker whose packages directory is full
// loses its port to another worker and gets no more; the build ends with
// nothing failed and the loss recorded.
func TestClusterWorkerDiskFull(t *testing.T) {
	cs := newClusterSite(t)
	cs.pauseLocal(t)
	tiny := func(w *clusterWorker) {
		pk := filepath.Dir(w.repo)
		os.MkdirAll(pk, 0o755)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", pk).CombinedOutput(); err != nil {
			t.Fatalf("mount: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", "-l", pk).Run() })
	}
	cs.startWorkerAt(t, "w1", "1", "nats://"+cs.natsAddr, tiny)
	cs.out.waitFor(t, "serve", "worker w1 (")
	cs.startWorker(t, "w2", "1")
	cs.out.waitFor(t, "serve", "worker w2 (")

	out := cs.must(t, 0, "-S", "just-build", "misc/hello")
	contains(t, "the build", out, "SUCCESS misc/hello", "attempt lost on w1/0", "2 built, 0 failed")
	contains(t, "serve", cs.out.String(), "worker w1: disk full")
	var ws struct {
		Hosts []struct{ Name, State string }
	}
	if code, _ := cs.call(t, "GET", "/workers", cs.key, nil, &ws); code != 200 || len(ws.Hosts) != 2 || ws.Hosts[0].State != "full" || ws.Hosts[1].State != "ready" {
		t.Errorf("workers: %d %+v", code, ws)
	}
	if got := cs.buildsOf(t, "ports-mgmt/pkg"); got["success"] != 1 || got["lost"] != 1 {
		t.Errorf("records of ports-mgmt/pkg: %v", got)
	}
}

// TestClusterPausedWorkerFinishesItsPort: a remote slot paused while it
// builds finishes its port and takes no other; the other worker builds
// the rest.
func TestClusterPausedWorkerFinishesItsPort(t *testing.T) {
	cs := newClusterSite(t)
	cs.pauseLocal(t)
	w1 := cs.startWorkerAt(t, "w1", "1", "nats://"+cs.natsAddr, gateClosed)
	w2 := cs.startWorkerAt(t, "w2", "1", "nats://"+cs.natsAddr, gateClosed)
	cs.out.waitFor(t, "serve", "worker w1 (")
	cs.out.waitFor(t, "serve", "worker w2 (")

	follower, fout := cs.follow(t, "just-build", "misc/gate", "misc/hello", "textproc/wordfreq", "math/primes")
	fout.waitFor(t, "the follower", "START   misc/gate")
	slot := ""
	for _, l := range strings.Split(fout.String(), "\n") {
		if i := strings.Index(l, "] START   misc/gate"); i >= 3 {
			slot = strings.TrimLeft(l[i-3:i], "0")
		}
	}
	if code, _ := cs.call(t, "POST", "/workers/"+slot+"/pause", cs.key, nil, nil); code != 200 {
		t.Fatalf("pause remote slot %s: %d\n%s", slot, code, fout.String())
	}
	var w struct {
		Worker struct {
			Paused bool   `json:"paused"`
			Where  string `json:"where"`
		} `json:"worker"`
	}
	if code, _ := cs.call(t, "GET", "/workers/"+slot, cs.key, nil, &w); code != 200 || !w.Worker.Paused || !strings.HasPrefix(w.Worker.Where, "w") {
		t.Errorf("remote slot %s: %d %+v", slot, code, w)
	}
	os.Remove(filepath.Join(w1.dist, "gate-closed"))
	os.Remove(filepath.Join(w2.dist, "gate-closed"))
	if err := follower.Wait(); err != nil {
		t.Fatalf("follower: %v\n%s", err, fout.String())
	}
	contains(t, "the follower", fout.String(), "SUCCESS misc/gate", "SUCCESS misc/hello", "0 failed")
	tag := fmt.Sprintf("[%03s]", slot)
	done := false
	for _, l := range strings.Split(fout.String(), "\n") {
		switch {
		case strings.Contains(l, tag+" SUCCESS misc/gate"):
			done = true
		case done && strings.Contains(l, tag+" START"):
			t.Errorf("the paused slot %s took another port: %s", slot, l)
		}
	}
	if !done {
		t.Errorf("misc/gate did not finish on the paused slot %s:\n%s", slot, fout.String())
	}
}
