package cluster

import "crypto/tls"

// ServerOptions configure the controller's embedded NATS server.
type ServerOptions struct {
	// Listen is the address workers connect to (Cluster_listen,
	// "host:port"); empty serves only in-process clients.
	Listen string
	// StoreDir holds JetStream's files (the object stores).
	StoreDir string
	// TLS, when set, is required of every TCP client.
	TLS *tls.Config
	// WorkersFile is the keys file of the admitted workers, followed
	// while serving (Cluster_workers).
	WorkersFile string
}
