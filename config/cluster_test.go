package config

import (
	"testing"
	"time"
)

// TestDecodeCluster: every Cluster_* key decoded, with the defaults of
// the keys left out.
func TestDecodeCluster(t *testing.T) {
	tests := []struct {
		lines string
		want  ClusterSettings
	}{
		{"Cluster_listen=0.0.0.0:4222", ClusterSettings{Listen: "0.0.0.0:4222",
			Workers: "/build/synth/build/cluster/workers.keys", LeaseTimeout: 15 * time.Second}},
		// The default keys file follows Directory_buildbase.
		{"Directory_buildbase=/b\nCluster_listen=:0", ClusterSettings{Listen: ":0",
			Workers: "/b/cluster/workers.keys", LeaseTimeout: 15 * time.Second}},
		{"Cluster_listen=[::1]:4222\nCluster_tls_cert=/etc/dsynth/nats.crt\nCluster_tls_key=/etc/dsynth/nats.key\n" +
			"Cluster_workers=/etc/dsynth//workers.keys\nCluster_lease_timeout=60",
			ClusterSettings{Listen: "[::1]:4222", TLSCert: "/etc/dsynth/nats.crt", TLSKey: "/etc/dsynth/nats.key",
				Workers: "/etc/dsynth/workers.keys", LeaseTimeout: time.Minute}},
		{"Cluster_url=nats://nats.example:4222\nCluster_creds=/etc/dsynth/controller.nk",
			ClusterSettings{URL: "nats://nats.example:4222", Creds: "/etc/dsynth/controller.nk",
				Workers: "/build/synth/build/cluster/workers.keys", LeaseTimeout: 15 * time.Second}},
		{"Cluster_url=tls://nats.example:4222\nCluster_creds=/c\nCluster_tls_ca=/etc/ssl/nats-ca.pem\nCluster_lease_timeout=2",
			ClusterSettings{URL: "tls://nats.example:4222", Creds: "/c", TLSCA: "/etc/ssl/nats-ca.pem",
				Workers: "/build/synth/build/cluster/workers.keys", LeaseTimeout: 2 * time.Second}},
		{"Cluster_listen=:4222\nCluster_lease_timeout=86400", ClusterSettings{Listen: ":4222",
			Workers: "/build/synth/build/cluster/workers.keys", LeaseTimeout: 86400 * time.Second}},
		// strtol's forms, as every integer key.
		{"Cluster_listen=:4222\nCluster_lease_timeout=0x10", ClusterSettings{Listen: ":4222",
			Workers: "/build/synth/build/cluster/workers.keys", LeaseTimeout: 16 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.lines, func(t *testing.T) {
			p, err := decodeText(t, "[P]\n"+tt.lines+"\n", "P")
			if err != nil {
				t.Fatal(err)
			}
			if p.Cluster != tt.want {
				t.Errorf("cluster settings\n got %+v\nwant %+v", p.Cluster, tt.want)
			}
			if !p.Cluster.Enabled() {
				t.Error("a profile with a cluster reports none")
			}
		})
	}
}

// TestDecodeNoCluster: without Cluster_listen or Cluster_url there is no
// cluster, and no default is filled in (dsynth's profile stays as it was).
func TestDecodeNoCluster(t *testing.T) {
	p, err := decodeText(t, "[P]\nNumber_of_builders=2\n", "P")
	if err != nil {
		t.Fatal(err)
	}
	if p.Cluster.Enabled() || p.Cluster != (ClusterSettings{}) {
		t.Errorf("cluster settings without a cluster: %+v", p.Cluster)
	}
}

// TestDecodeClusterErrors: each refusal names the file, the line and the
// key that counts.
func TestDecodeClusterErrors(t *testing.T) {
	tests := []struct {
		lines string // from line 2
		line  int
		key   string
		msg   string
	}{
		// Values.
		{"Cluster_listen=4222", 2, "Cluster_listen", "not a listen address"},
		{"Cluster_listen=localhost:nats", 2, "Cluster_listen", "not a listen address"},
		{"Cluster_listen=:65536", 2, "Cluster_listen", "not a listen address"},
		{"Cluster_url=http://nats.example:4222\nCluster_creds=/c", 2, "Cluster_url", "not a NATS URL: want nats://host:port or tls://host:port"},
		{"Cluster_url=nats.example:4222\nCluster_creds=/c", 2, "Cluster_url", "not a NATS URL"},
		{"Cluster_url=nats://\nCluster_creds=/c", 2, "Cluster_url", "not a NATS URL"},
		{"Cluster_url=nats://n:4222\nCluster_creds=controller.nk", 3, "Cluster_creds", "not an absolute path"},
		{"Cluster_listen=:4222\nCluster_tls_cert=nats.crt", 3, "Cluster_tls_cert", "not an absolute path"},
		{"Cluster_listen=:4222\nCluster_tls_key=nats.key", 3, "Cluster_tls_key", "not an absolute path"},
		{"Cluster_url=tls://n:4222\nCluster_creds=/c\nCluster_tls_ca=ca.pem", 4, "Cluster_tls_ca", "not an absolute path"},
		{"Cluster_listen=:4222\nCluster_workers=workers.keys", 3, "Cluster_workers", "not an absolute path"},
		{"Cluster_listen=:4222\nCluster_lease_timeout=1", 3, "Cluster_lease_timeout", "must range 2..86400"},
		{"Cluster_listen=:4222\nCluster_lease_timeout=86401", 3, "Cluster_lease_timeout", "out of range"},
		{"Cluster_listen=:4222\nCluster_lease_timeout=15s", 3, "Cluster_lease_timeout", "not an integer"},
		// Keys that go together, whatever their order.
		{"Cluster_url=nats://n:4222\nCluster_creds=/c\nCluster_listen=:4222", 2, "Cluster_url", "conflicts with Cluster_listen"},
		{"Cluster_listen=:4222\nCluster_url=nats://n:4222\nCluster_creds=/c", 3, "Cluster_url", "conflicts with Cluster_listen"},
		{"Cluster_url=nats://n:4222", 2, "Cluster_url", "needs Cluster_creds"},
		{"Cluster_listen=:4222\nCluster_tls_cert=/c", 3, "Cluster_tls_cert", "needs Cluster_tls_key"},
		{"Cluster_tls_key=/k\nCluster_listen=:4222", 2, "Cluster_tls_key", "needs Cluster_tls_cert"},
		{"Cluster_url=tls://n:4222\nCluster_creds=/c\nCluster_tls_cert=/c\nCluster_tls_key=/k", 4, "Cluster_tls_cert", "needs Cluster_listen"},
		{"Cluster_listen=:4222\nCluster_creds=/c", 3, "Cluster_creds", "needs Cluster_url"},
		{"Cluster_listen=:4222\nCluster_tls_ca=/ca.pem", 3, "Cluster_tls_ca", "needs Cluster_url"},
		// Any cluster key without a cluster.
		{"Cluster_creds=/c", 2, "Cluster_creds", "needs Cluster_listen or Cluster_url"},
		{"Cluster_tls_ca=/ca.pem", 2, "Cluster_tls_ca", "needs Cluster_listen or Cluster_url"},
		{"Cluster_workers=/w", 2, "Cluster_workers", "needs Cluster_listen or Cluster_url"},
		{"Number_of_builders=2\nCluster_lease_timeout=30", 3, "Cluster_lease_timeout", "needs Cluster_listen or Cluster_url"},
	}
	for _, tt := range tests {
		t.Run(tt.lines, func(t *testing.T) {
			_, err := decodeText(t, "[P]\n"+tt.lines+"\n", "P")
			checkParseError(t, err, tt.line, tt.key, tt.msg)
		})
	}
}
