//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
	ds := newDemoSite(t)
	s := &serviceSite{demoSite: ds, addr: freeAddr(t)}
	cs := &clusterSite{serviceSite: s, natsAddr: freeAddr(t)}
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
	s.out.waitFor(t, "serve", "Cluster: workers connect to nats://"+cs.natsAddr)
	return cs
}

// clusterWorker is a `dsynth worker` process with a site of its own.
type clusterWorker struct {
	*demoSite
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
}

// startWorker issues credentials for name on the controller and starts a
// worker with its own build base and copy of the ports tree; prefix, when
// set, runs it under another command (ip netns exec …).
func (cs *clusterSite) startWorker(t *testing.T, name string, slots string, prefix ...string) *clusterWorker {
	t.Helper()
	w := &clusterWorker{demoSite: newDemoSite(t), name: name, out: &syncBuffer{}}
	creds := filepath.Join(w.conf, name+".creds")
	cs.must(t, 0, "worker-key", name, "--out", creds)
	args := append(prefix, dsynthBinary(t), "-C", w.conf, "worker", "--controller", "nats://"+cs.natsAddr, "--creds", creds, "--slots", slots)
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

// TestClusterBuildsOnWorkers: with the controller's own slots paused,
// every port of a build with dependencies is built on two workers' slots
// (fresh sandboxes on their own build bases), its package comes back to
// the controller's repository with the same content as a local build's,
// and each port is recorded once, with a remote slot.
func TestClusterBuildsOnWorkers(t *testing.T) {
	cs := newClusterSite(t)
	w1 := cs.startWorker(t, "w1", "2")
	w2 := cs.startWorker(t, "w2", "1")
	cs.out.waitFor(t, "serve", "worker w1 (")
	cs.out.waitFor(t, "serve", "worker w2 (")
	var ws struct {
		Workers []struct{ ID int }
		Hosts   []struct {
			Name  string
			Slots int
			State string
		}
	}
	for _, id := range []string{"0", "1"} {
		if code, _ := cs.call(t, "POST", "/workers/"+id+"/pause", cs.key, nil, nil); code != 200 {
			t.Fatalf("pause %s: %d", id, code)
		}
	}
	if code, _ := cs.call(t, "GET", "/workers", cs.key, nil, &ws); code != 200 || len(ws.Hosts) != 2 || ws.Hosts[0].Name != "w1" ||
		ws.Hosts[0].Slots != 2 || ws.Hosts[1].State != "ready" {
		t.Errorf("workers: %d %+v", code, ws)
	}

	out := cs.must(t, 0, "-S", "just-build", "textproc/csvtool", "math/matdemo")
	if strings.Contains(out, "FAILURE") {
		logs, _ := filepath.Glob(filepath.Join(cs.logs, "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, b)
		}
		t.Logf("serve:\n%s\nw1:\n%s", cs.out.String(), w1.out.String())
		var failed any
		cs.call(t, "GET", "/builds?status=failed", cs.key, nil, &failed)
		t.Logf("failed builds: %+v", failed)
	}
	contains(t, "the cluster build", out, "SUCCESS textproc/csvtool", "SUCCESS math/matdemo", "SUCCESS textproc/libcsv", "0 failed")

	var builds struct {
		Builds []struct {
			Origin   string `json:"origin"`
			Status   string `json:"status"`
			WorkerID int    `json:"worker"`
		} `json:"builds"`
	}
	if code, _ := cs.call(t, "GET", "/builds?limit=100", cs.key, nil, &builds); code != 200 || len(builds.Builds) == 0 {
		t.Fatalf("builds: %d %+v", code, builds)
	}
	seen := map[string]int{}
	for _, b := range builds.Builds {
		seen[b.Origin]++
		if b.Status == "success" && b.WorkerID < 2 {
			t.Errorf("%s built on local slot %d while the local slots were paused", b.Origin, b.WorkerID)
		}
	}
	for o, n := range seen {
		if n != 1 {
			t.Errorf("%s recorded %d times", o, n)
		}
	}
	contains(t, "worker w1", w1.out.String(), "admitted by the controller with 2 slots")
	contains(t, "worker w2", w2.out.String(), "admitted by the controller with 1 slots")

	// The same ports built locally on a worker's site give packages of
	// the same content.
	w1.cmd.Process.Signal(syscall.SIGTERM)
	w1.cmd.Wait()
	w1.must(t, 0, "-S", "just-build", "textproc/csvtool")
	for _, pkg := range []string{"csvtool-0.7.pkg", "libcsv-0.7.pkg"} {
		remote, local := packageFiles(t, filepath.Join(cs.repo, pkg)), packageFiles(t, filepath.Join(w1.repo, pkg))
		if len(remote) == 0 || len(remote) != len(local) {
			t.Errorf("%s: %d files from the cluster, %d locally", pkg, len(remote), len(local))
		}
		for f, c := range local {
			if remote[f] != c && !strings.HasPrefix(f, "+") {
				t.Errorf("%s: %s differs between the cluster's and the local build", pkg, f)
			}
		}
	}
}
