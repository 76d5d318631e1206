//go:build aix

package cluster

import (
	"errors"

	"github.com/nats-io/nats.go"
)

// errNoServer says why the embedded server is missing here.
var errNoServer = errors.New("cluster: the embedded NATS server does not build for AIX (nats-server has no memory probe there); use an external server with Cluster_url")

// Server is the embedded NATS server, which AIX lacks.
type Server struct{}

// StartServer refuses: there is no embedded server on AIX.
func StartServer(ServerOptions) (*Server, error) { return nil, errNoServer }

// URL is empty: there is no server.
func (*Server) URL() string { return "" }

// Connect refuses: there is no server.
func (*Server) Connect(...nats.Option) (*nats.Conn, error) { return nil, errNoServer }

// Admitted admits nobody.
func (*Server) Admitted(string) bool { return false }

// PublicKeys knows no key.
func (*Server) PublicKeys(string) []string { return nil }

// Close does nothing.
func (*Server) Close() {}
