package config

import (
	"net/url"
	"path/filepath"
	"time"
)

// clusterKeys are the profile keys of distributed builds: the controller's
// NATS server (embedded or external), its TLS, the workers it admits and
// how long a silent worker keeps its ports.
var clusterKeys = [...]string{
	"Cluster_listen", "Cluster_url", "Cluster_creds", "Cluster_tls_cert",
	"Cluster_tls_key", "Cluster_tls_ca", "Cluster_workers", "Cluster_lease_timeout",
}

// ClusterSettings configure the controller's side of distributed builds.
type ClusterSettings struct {
	// Listen is the embedded NATS server's address (Cluster_listen).
	Listen string
	// URL is an external NATS server to use instead (Cluster_url), with
	// the controller's credentials (Cluster_creds: a NATS user seed).
	URL, Creds string
	// TLSCert and TLSKey make the embedded server speak TLS; TLSCA is the
	// CA an external server's certificate must chain to.
	TLSCert, TLSKey, TLSCA string
	// Workers is the keys file of the admitted workers (Cluster_workers,
	// default <Directory_buildbase>/cluster/workers.keys).
	Workers string
	// LeaseTimeout is the heartbeat silence after which a worker is lost
	// and its ports are queued again (Cluster_lease_timeout, seconds,
	// default 15).
	LeaseTimeout time.Duration
}

// Enabled reports whether the profile builds on a cluster.
func (c ClusterSettings) Enabled() bool { return c.Listen != "" || c.URL != "" }

// applyCluster decodes one of clusterKeys.
func (d *decoder) applyCluster(e Entry) error {
	p := &d.p
	if d.cluster == nil {
		d.cluster = map[string]Entry{}
	}
	d.cluster[e.Key] = e
	c := &p.Cluster
	var err error
	switch e.Key {
	case "Cluster_listen":
		c.Listen, err = d.listen(e, "0.0.0.0:4222 (leave the key out: no cluster)")
	case "Cluster_url":
		u, perr := url.Parse(e.Value)
		if perr != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return d.errf(e, "%q is not a NATS URL: want nats://host:port or tls://host:port", e.Value)
		}
		c.URL = e.Value
	case "Cluster_creds":
		c.Creds, err = d.dir(e)
	case "Cluster_tls_cert":
		c.TLSCert, err = d.dir(e)
	case "Cluster_tls_key":
		c.TLSKey, err = d.dir(e)
	case "Cluster_tls_ca":
		c.TLSCA, err = d.dir(e)
	case "Cluster_workers":
		c.Workers, err = d.dir(e)
	case "Cluster_lease_timeout":
		var s int
		s, err = d.intIn(e, 2, 86400)
		c.LeaseTimeout = time.Duration(s) * time.Second
	}
	return err
}

// checkCluster checks the cluster keys together and fills their defaults.
func (d *decoder) checkCluster() error {
	c := &d.p.Cluster
	at := func(k string) Entry { return d.cluster[k] }
	has := func(k string) bool { return d.cluster[k].Key != "" }
	switch {
	case has("Cluster_listen") && has("Cluster_url"):
		return d.errf(at("Cluster_url"), "conflicts with Cluster_listen: the controller embeds a NATS server or joins one, not both")
	case has("Cluster_url") && !has("Cluster_creds"):
		return d.errf(at("Cluster_url"), "needs Cluster_creds (the controller's NATS user seed)")
	case has("Cluster_tls_cert") != has("Cluster_tls_key"):
		if has("Cluster_tls_cert") {
			return d.errf(at("Cluster_tls_cert"), "needs Cluster_tls_key")
		}
		return d.errf(at("Cluster_tls_key"), "needs Cluster_tls_cert")
	case has("Cluster_tls_cert") && !has("Cluster_listen"):
		return d.errf(at("Cluster_tls_cert"), "needs Cluster_listen: it is the embedded server's certificate")
	}
	if !c.Enabled() {
		for _, k := range clusterKeys {
			if has(k) {
				return d.errf(at(k), "needs Cluster_listen or Cluster_url")
			}
		}
		return nil
	}
	if c.Workers == "" {
		c.Workers = filepath.Join(d.p.BuildBase, "cluster", "workers.keys")
	}
	if c.LeaseTimeout == 0 {
		c.LeaseTimeout = 15 * time.Second
	}
	return nil
}
