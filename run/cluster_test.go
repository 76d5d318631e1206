package run

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/go-dsynth/go-dsynth/cluster"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/environment"
	"github.com/go-dsynth/go-dsynth/environment/mock"
	"github.com/go-dsynth/go-dsynth/internal/certtest"
	"github.com/go-dsynth/go-dsynth/internal/testenv"
	"github.com/go-dsynth/go-dsynth/internal/testports"
)

// clusterProfile is a profile with a ports tree of a Mk directory only.
func clusterProfile(t *testing.T, c config.ClusterSettings) *config.Config {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ports", "Mk"), 0o755)
	os.WriteFile(filepath.Join(dir, "ports", "Mk", "bsd.port.mk"), []byte("# tree\n"), 0o644)
	if c.Workers == "" {
		c.Workers = filepath.Join(dir, "workers.keys")
	}
	if c.LeaseTimeout == 0 {
		c.LeaseTimeout = 5 * time.Second
	}
	return &config.Config{File: filepath.Join(dir, "dsynth.ini"), Profile: config.Profile{PortsDir: filepath.Join(dir, "ports"),
		BuildBase: filepath.Join(dir, "build"), TargetRelease: "13.2", TargetOSVersion: 1302001, Cluster: c}}
}

// joinWorker runs an in-process worker (mock slots) with creds against
// url and waits until the controller lists it, or returns RunWorker's
// error.
func joinWorker(t *testing.T, cfg *config.Config, ctrl *cluster.Controller, url, creds string, tlsCA string) error {
	t.Helper()
	c, err := cluster.ReadCreds(creds)
	if err != nil {
		t.Fatal(err)
	}
	id, err := Identity(&cfg.Profile)
	if err != nil {
		t.Fatal(err)
	}
	id.Slots = 1
	o := cluster.WorkerOptions{URL: url, Creds: c, CredsPath: creds, Identity: id,
		NewEnv:   func(int) environment.Environment { return &mock.Env{} },
		SlotPlan: func(int) (environment.Plan, error) { return environment.Plan{}, nil }, RetryMax: 100 * time.Millisecond}
	if tlsCA != "" {
		if o.TLS, err = caConfig(tlsCA); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cluster.RunWorker(ctx, o) }()
	t.Cleanup(func() { cancel(); <-done })
	for {
		select {
		case err := <-done:
			done <- err
			return err
		case <-ctrl.Changed():
			for _, w := range ctrl.Workers() {
				if w.Name == c.Name && w.State == "ready" {
					return nil
				}
			}
		case <-time.After(time.Minute):
			t.Fatalf("worker %s never joined", c.Name)
		}
	}
}

// TestClusterOverTLS: with Cluster_tls_cert the embedded server speaks
// TLS only; a worker trusting its CA joins, one that does not stops with
// a message saying so.
func TestClusterOverTLS(t *testing.T) {
	ca := certtest.NewCA(t, "dsynth test CA")
	srv := ca.Issue(t, certtest.Spec{CN: "controller", IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true})
	dir := t.TempDir()
	cert, key := srv.WriteFiles(t, dir, "controller")
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.PEM, 0o644)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := clusterProfile(t, config.ClusterSettings{Listen: addr, TLSCert: cert, TLSKey: key})
	if err := cluster.IssueWorkerKey(cfg.Profile.Cluster.Workers, "tw", filepath.Join(dir, "tw.creds")); err != nil {
		t.Fatal(err)
	}
	var log testenv.Buffer
	cs, err := startCluster(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cs.close)
	if !strings.Contains(log.String(), "workers connect to tls://"+addr) {
		t.Errorf("log: %s", log.String())
	}
	if err := joinWorker(t, cfg, cs.ctrl, "tls://"+addr, filepath.Join(dir, "tw.creds"), ""); err == nil || !strings.Contains(err.Error(), "give its CA with --ca") {
		t.Errorf("a worker without the CA: %v", err)
	}
	if err := joinWorker(t, cfg, cs.ctrl, "tls://"+addr, filepath.Join(dir, "tw.creds"), caFile); err != nil {
		t.Fatalf("a worker with the CA: %v", err)
	}
}

// TestClusterOnExternalServer: with Cluster_url the controller uses a
// NATS server it does not run (here another process's embedded server,
// with JetStream and the users its operator configured); a worker the
// operator admitted joins through it.
func TestClusterOnExternalServer(t *testing.T) {
	dir := t.TempDir()
	// The operator's users: the controller's and a worker's keys.
	ctrlKeys := filepath.Join(dir, "ctrl.keys")
	if err := cluster.IssueWorkerKey(ctrlKeys, "controller", filepath.Join(dir, "controller.creds")); err != nil {
		t.Fatal(err)
	}
	if err := cluster.IssueWorkerKey(filepath.Join(dir, "w.keys"), "ew", filepath.Join(dir, "ew.creds")); err != nil {
		t.Fatal(err)
	}
	var users []*server.NkeyUser
	for _, f := range []string{ctrlKeys, filepath.Join(dir, "w.keys")} {
		keys, err := cluster.LoadWorkerKeys(f)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, &server.NkeyUser{Nkey: keys[0].Public})
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(dir, "js"), NoSigs: true, NoLog: true, Nkeys: users})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(30 * time.Second) {
		t.Fatal("the external server is not ready")
	}
	url := "nats://" + ns.Addr().String()
	cfg := clusterProfile(t, config.ClusterSettings{URL: url, Creds: filepath.Join(dir, "controller.creds")})
	var log testenv.Buffer
	cs, err := startCluster(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cs.close)
	if cs.srv != nil || !strings.Contains(log.String(), "controller on the NATS server "+url) {
		t.Errorf("log: %s", log.String())
	}
	if err := joinWorker(t, cfg, cs.ctrl, url, filepath.Join(dir, "ew.creds"), ""); err != nil {
		t.Fatal(err)
	}

	// Wrong controller credentials are refused with the URL named.
	bad := clusterProfile(t, config.ClusterSettings{URL: url, Creds: filepath.Join(dir, "ew.creds")})
	bad.Profile.Cluster.Creds = filepath.Join(dir, "missing.creds")
	if _, err := startCluster(bad, &log); err == nil || !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "Cluster_creds") {
		t.Errorf("missing creds: %v", err)
	}
}

// TestLeaseTimeoutDefaultsAgree: the profile's default Cluster_lease_timeout
// is the cluster's own default (config cannot import cluster).
func TestLeaseTimeoutDefaultsAgree(t *testing.T) {
	dir := t.TempDir()
	ini := filepath.Join(dir, "dsynth.ini")
	os.WriteFile(ini, []byte("[Global Configuration]\n\n[LiveSystem]\nCluster_listen= 127.0.0.1:4222\n"), 0o644)
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Profile.Cluster.LeaseTimeout; got != cluster.DefaultLeaseTimeout {
		t.Fatalf("config's default %v, the cluster's %v", got, cluster.DefaultLeaseTimeout)
	}
}

// TestIdentityReadsTheSystemVersion: a host announces its system tree's
// OSVERSION (sys/param.h) rather than Target_osversion when the tree has
// one, so two hosts with the same profile but other systems differ.
func TestIdentityReadsTheSystemVersion(t *testing.T) {
	p := config.Profile{OperatingSystem: config.OSFreeBSD, PortsDir: testports.Dir(), SystemDir: t.TempDir(),
		TargetOSVersion: 1302001, TargetRelease: "13.2"}
	id, err := Identity(&p)
	if err != nil || id.OSVersion != 1302001 {
		t.Fatalf("without param.h: %+v, %v; want Target_osversion", id, err)
	}
	param := filepath.Join(p.SystemDir, "usr", "include", "sys", "param.h")
	os.MkdirAll(filepath.Dir(param), 0o755)
	os.WriteFile(param, []byte("#undef __FreeBSD_version\n#define __FreeBSD_version 1400097\n"), 0o644)
	other, err := Identity(&p)
	if err != nil || other.OSVersion != 1400097 {
		t.Fatalf("with param.h: %+v, %v; want 1400097", other, err)
	}
	if why := cluster.Mismatch(id, other); !strings.Contains(why, "OSVERSION: worker 1400097, controller 1302001") {
		t.Errorf("mismatch %q", why)
	}
	os.WriteFile(param, []byte("#define __FreeBSD_version fourteen\n"), 0o644)
	if _, err := Identity(&p); err == nil || !strings.Contains(err.Error(), param) {
		t.Errorf("a damaged param.h: %v, want an error naming it", err)
	}
}
