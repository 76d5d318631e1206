//go:build !aix

package cluster

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Server is the controller's embedded NATS server with JetStream.
type Server struct {
	ns   *server.Server
	opts *server.Options
	self nkeys.KeyPair // the controller's own user
	auth *keyAuth
}

// StartServer starts the embedded server and waits until it accepts
// connections.
func StartServer(o ServerOptions) (*Server, error) {
	self, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("cluster: controller key: %w", err)
	}
	pub, err := self.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("cluster: controller key: %w", err)
	}
	opts := &server.Options{
		ServerName: "dsynth-controller",
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 8 << 20,
	}
	if o.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("cluster: Cluster_listen %q: %w", o.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("cluster: Cluster_listen %q: bad port", o.Listen)
		}
		if p == 0 {
			p = -1 // any free port
		}
		opts.Host, opts.Port = host, p
	}
	if o.TLS != nil {
		opts.TLSConfig = o.TLS
		opts.TLS = true
		opts.TLSTimeout = 5
	}
	auth := &keyAuth{self: pub, keysFile: keysFile{path: o.WorkersFile}}
	if _, err := auth.workers(); err != nil {
		return nil, err
	}
	opts.CustomClientAuthentication = auth
	opts.AlwaysEnableNonce = true
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: NATS server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("cluster: NATS server did not become ready (is Cluster_listen's port in use?)")
	}
	return &Server{ns: ns, opts: opts, self: self, auth: auth}, nil
}

// URL is the address workers dial ("nats://host:port"), empty when the
// server does not listen.
func (s *Server) URL() string {
	if s.opts.DontListen {
		return ""
	}
	if s.opts.TLS {
		return "tls://" + s.ns.Addr().String()
	}
	return "nats://" + s.ns.Addr().String()
}

// Connect opens the controller's own in-process connection.
func (s *Server) Connect(extra ...nats.Option) (*nats.Conn, error) {
	pub, _ := s.self.PublicKey()
	opts := append([]nats.Option{
		nats.InProcessServer(s.ns),
		nats.Nkey(pub, s.self.Sign),
		nats.Name("dsynth-controller"),
	}, extra...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: controller connection: %w", err)
	}
	return nc, nil
}

// Admitted reports whether worker name holds a key in the keys file now
// (a revoked worker is refused at its next hello and heartbeat).
func (s *Server) Admitted(name string) bool { return s.auth.admitted(name) }

// PublicKeys returns worker name's public keys from the workers keys
// file (ControllerOptions.PublicKeys: the keys its hello must be signed
// with).
func (s *Server) PublicKeys(name string) []string { return s.auth.publicKeys(name) }

// Close stops the server.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// workerPermissions lets worker name publish and subscribe only its own
// subjects: its calls, its inbox, its replies and heartbeats, reading the
// shared packages bucket and writing its own upload bucket.
func workerPermissions(name string) *server.Permissions {
	pub := []string{ControllerPrefix(name) + ".>", "$JS.API.INFO"}
	pub = append(pub, bucketRead(packagesBucket)...)
	up := uploadBucket(name)
	pub = append(pub, bucketRead(up)...)
	pub = append(pub,
		"$O."+up+".>",
		"$JS.API.STREAM.PURGE.OBJ_"+up,
	)
	// Its jobs: the consumer's info, pulls, and acknowledgements.
	cons := JobsStream + "." + JobConsumer(name)
	pub = append(pub,
		"$JS.API.CONSUMER.INFO."+cons,
		"$JS.API.CONSUMER.MSG.NEXT."+cons,
		"$JS.ACK."+cons+".>",
	)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{WorkerSubject(name), inboxPrefix(name) + ".>"}},
		Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}

// bucketRead is what reading an object store bucket publishes to: the
// stream's info, direct and message gets, and the ordered consumer that
// streams an object's chunks, with its flow control.
func bucketRead(bucket string) []string {
	st := "OBJ_" + bucket
	return []string{
		"$JS.API.STREAM.INFO." + st,
		"$JS.API.STREAM.MSG.GET." + st,
		"$JS.API.DIRECT.GET." + st,
		"$JS.API.DIRECT.GET." + st + ".>",
		"$JS.API.CONSUMER.CREATE." + st,
		"$JS.API.CONSUMER.CREATE." + st + ".>",
		"$JS.API.CONSUMER.DELETE." + st + ".>",
		"$JS.API.CONSUMER.INFO." + st + ".>",
		"$JS.FC." + st + ".>",
	}
}
