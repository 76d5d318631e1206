package httpserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/certtest"
)

// tlsServer serves, over TLS with cert and clientCAs, the common name of
// the verified client certificate ("none" without one).
func tlsServer(t *testing.T, cert *Certificate, clientCAs *x509.CertPool) *Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			io.WriteString(w, "plain")
			return
		}
		if len(r.TLS.VerifiedChains) == 0 {
			io.WriteString(w, "none")
			return
		}
		io.WriteString(w, r.TLS.VerifiedChains[0][0].Subject.CommonName)
	})
	s, err := Listen("127.0.0.1:0", h, Options{Name: "api", TLSConfig: TLSConfig(cert, clientCAs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// get asks s over a new connection, trusting roots, presenting the client
// certificate certs[0] when given (whatever CAs the server asks for); it
// returns the server's certificate's common name and the body.
func get(s *Server, roots *x509.CertPool, certs ...tls.Certificate) (server, body string, err error) {
	cfg := &tls.Config{RootCAs: roots}
	if len(certs) > 0 {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: cfg}}
	resp, err := c.Get("https://" + s.Addr() + "/")
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.TLS.PeerCertificates[0].Subject.CommonName, string(b), err
}

// serverCert issues a certificate for 127.0.0.1 named cn.
func serverCert(t *testing.T, ca *certtest.CA, cn string) *certtest.Issued {
	return ca.Issue(t, certtest.Spec{CN: cn, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
}

func TestTLSServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "test CA")
	certFile, keyFile := serverCert(t, ca, "first").WriteFiles(t, dir, "server")
	cert, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := tlsServer(t, cert, nil)
	if name, body, err := get(s, ca.Pool()); err != nil || name != "first" || body != "none" {
		t.Fatalf("first: %q %q %v", name, body, err)
	}
	// Plain HTTP gets crypto/tls's 400, never the handler.
	if resp, err := http.Get("http://" + s.Addr() + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP on the TLS port: %s", resp.Status)
		}
	}
	serverCert(t, ca, "second").WriteFiles(t, dir, "server")
	if name, _, _ := get(s, ca.Pool()); name != "first" {
		t.Fatalf("before Reload the server shows %q", name)
	}
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	if name, _, err := get(s, ca.Pool()); err != nil || name != "second" {
		t.Fatalf("after Reload: %q %v", name, err)
	}
	// A broken renewal keeps the certificate in use.
	if err := os.WriteFile(certFile, []byte("half written"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cert.Reload(); err == nil || !strings.Contains(err.Error(), certFile) {
		t.Fatalf("Reload of a broken file: %v", err)
	}
	if name, _, err := get(s, ca.Pool()); err != nil || name != "second" {
		t.Fatalf("after a failed Reload: %q %v", name, err)
	}
	if _, err := LoadCertificate(certFile, keyFile); err == nil {
		t.Fatal("LoadCertificate of a broken file succeeded")
	}
}

func TestTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "test CA")
	clientCA := certtest.NewCA(t, "client CA")
	foreign := certtest.NewCA(t, "foreign CA")
	cert, err := LoadCertificate(serverCert(t, ca, "server").WriteFiles(t, dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	s := tlsServer(t, cert, clientCA.Pool())
	alice := clientCA.Issue(t, certtest.Spec{CN: "alice"})
	if _, body, err := get(s, ca.Pool(), alice.TLS()); err != nil || body != "alice" {
		t.Fatalf("valid client certificate: %q %v", body, err)
	}
	if _, body, err := get(s, ca.Pool()); err != nil || body != "none" {
		t.Fatalf("no client certificate: %q %v; want served without one", body, err)
	}
	expired := clientCA.Issue(t, certtest.Spec{CN: "old", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if _, body, err := get(s, ca.Pool(), expired.TLS()); err == nil {
		t.Fatalf("expired client certificate was served: %q", body)
	}
	mallory := foreign.Issue(t, certtest.Spec{CN: "alice"})
	if _, body, err := get(s, ca.Pool(), mallory.TLS()); err == nil {
		t.Fatalf("a certificate of another CA was served: %q", body)
	}
}
