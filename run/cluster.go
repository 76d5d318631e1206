package run

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/nats-io/nats.go"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/cluster"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/sysversion"
)

// clusterSide is the owner's part of distributed builds: the embedded
// NATS server (or a connection to an external one) and the controller
// that admits workers and lends their slots to every run of the owner.
type clusterSide struct {
	srv  *cluster.Server // nil with an external server
	nc   *nats.Conn
	ctrl *cluster.Controller
}

// Identity is what this host builds for and from, as a cluster compares
// it: the target's OS and arch (Go names of this host: workers must run
// the same), OSVERSION, release and the ports tree's identity. OSVERSION
// is the system tree's (Directory_system's sys/param.h, as the ports
// framework reads it) when it has one, else Target_osversion (a Linux
// host scanning for a BSD).
func Identity(p *config.Profile) (cluster.Identity, error) {
	tree, err := cluster.TreeIdentity(p.PortsDir)
	if err != nil {
		return cluster.Identity{}, err
	}
	osVersion := p.TargetOSVersion
	if v, ok, err := sysversion.Read(p.SystemDir, p.OperatingSystem); err != nil {
		return cluster.Identity{}, err
	} else if ok {
		osVersion = v
	}
	host, _ := os.Hostname()
	return cluster.Identity{Host: host, OS: runtime.GOOS, Arch: runtime.GOARCH, OSVersion: osVersion, Release: p.TargetRelease, Tree: tree}, nil
}

// startCluster starts the controller's side of the profile's cluster.
func startCluster(cfg *config.Config, log io.Writer) (_ *clusterSide, err error) {
	p := &cfg.Profile
	c := p.Cluster
	self, err := Identity(p)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cs := &clusterSide{}
	defer func() {
		if err != nil {
			cs.close()
		}
	}()
	logf := func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) }
	if c.URL != "" {
		opt, err := nats.NkeyOptionFromSeed(c.Creds)
		if err != nil {
			return nil, fmt.Errorf("%s: Cluster_creds: %w", cfg.File, err)
		}
		opts := []nats.Option{opt, nats.Name("dsynth-controller"), nats.MaxReconnects(-1)}
		if c.TLSCA != "" {
			tc, err := caConfig(c.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("%s: Cluster_tls_ca: %w", cfg.File, err)
			}
			opts = append(opts, nats.Secure(tc))
		}
		if cs.nc, err = nats.Connect(c.URL, opts...); err != nil {
			return nil, fmt.Errorf("%s: Cluster_url %s: %w", cfg.File, c.URL, err)
		}
		logf("Cluster: controller on the NATS server %s", c.URL)
	} else {
		keys, err := cluster.LoadWorkerKeys(c.Workers)
		if err != nil {
			return nil, fmt.Errorf("%s: Cluster_workers: %w", cfg.File, err)
		}
		so := cluster.ServerOptions{Listen: c.Listen, StoreDir: filepath.Join(p.BuildBase, "cluster", "jetstream"), WorkersFile: c.Workers}
		if c.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("%s: Cluster_tls_cert: %w", cfg.File, err)
			}
			so.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		if cs.srv, err = cluster.StartServer(so); err != nil {
			return nil, fmt.Errorf("%s: Cluster_listen: %w", cfg.File, err)
		}
		if cs.nc, err = cs.srv.Connect(); err != nil {
			return nil, err
		}
		logf("Cluster: workers connect to %s (%d admitted in %s)", cs.srv.URL(), len(keys), c.Workers)
	}
	co := cluster.ControllerOptions{Self: self, LeaseTimeout: c.LeaseTimeout, Logf: logf, RepositoryDir: p.RepositoryDir}
	if cs.srv != nil {
		co.Admitted, co.PublicKeys = cs.srv.Admitted, cs.srv.PublicKeys
	} else if _, err := os.Stat(c.Workers); err == nil {
		// An external server: its users are the operator's, but the
		// hellos are checked against the keys `dsynth worker-key` issued.
		co.PublicKeys = cluster.FollowWorkerKeys(c.Workers).PublicKeys
	}
	if cs.ctrl, err = cluster.NewController(cs.nc, co); err != nil {
		return nil, err
	}
	return cs, nil
}

func (cs *clusterSide) close() {
	if cs == nil {
		return
	}
	if cs.ctrl != nil {
		cs.ctrl.Close()
	}
	if cs.nc != nil {
		cs.nc.Close()
	}
	if cs.srv != nil {
		cs.srv.Close()
	}
}

// hosts lists the workers for GET /api/v1/workers.
func (cs *clusterSide) hosts() []api.RemoteHost {
	var out []api.RemoteHost
	for _, w := range cs.ctrl.Workers() {
		out = append(out, api.RemoteHost{Name: w.Name, Host: w.Host, Slots: w.Slots, Busy: w.Busy, State: w.State, Joined: w.Joined, LastBeat: w.LastBeat})
	}
	return out
}

// caConfig is a TLS client configuration trusting the CA file.
func caConfig(path string) (*tls.Config, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
