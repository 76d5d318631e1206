//go:build unix

package httpserve

import (
	"os"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/internal/certtest"
)

// TestTLSReloadOnSIGHUP sends the test process SIGHUP: the certificate
// files are read again.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "test CA")
	cert, err := LoadCertificate(serverCert(t, ca, "first").WriteFiles(t, dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	s := tlsServer(t, cert, nil)
	reloaded := make(chan error, 1)
	stop := cert.ReloadOn(func(err error) { reloaded <- err }, syscall.SIGHUP)
	defer stop()
	serverCert(t, ca, "second").WriteFiles(t, dir, "server")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if name, _, err := get(s, ca.Pool()); err != nil || name != "second" {
		t.Fatalf("after SIGHUP: %q %v", name, err)
	}
	stop()
	stop() // twice is harmless
}
