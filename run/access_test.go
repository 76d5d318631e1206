//go:build unix

package run

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/internal/certtest"
	"github.com/go-dsynth/go-dsynth/internal/oidctest"
)

// hupWriter passes the owner's log to a channel, line by line.
type hupWriter struct{ lines chan string }

func (w hupWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		select {
		case w.lines <- l:
		default:
		}
	}
	return len(p), nil
}

// TestOwnerExternalIdentities: with Api_tls_*, Api_client_* and
// Api_oidc_* the owner serves HTTPS, maps client certificates, mounts the
// provider's login beside the dashboard, and rereads its certificate on
// SIGHUP; a mapping of certificates naming no attribute is refused with
// dsynth.ini's line.
func TestOwnerExternalIdentities(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	serverCA, clientCA := certtest.NewCA(t, "server CA"), certtest.NewCA(t, "client CA")
	certFile, keyFile := serverCA.Issue(t, certtest.Spec{CN: "first", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).WriteFiles(t, dir, "api")
	caFile := filepath.Join(dir, "clients.pem")
	if err := os.WriteFile(caFile, clientCA.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	idp := oidctest.Start(t)
	p := &cfg.Profile
	p.APIListen, p.APITLSCert, p.APITLSKey, p.APIClientCA = "127.0.0.1:0", certFile, keyFile, caFile
	p.APIClientRoles = config.RoleMapping{File: cfg.File, Line: 40, Key: "Api_client_roles", Text: "cn:alice=admin"}
	p.APIOIDCIssuer, p.APIOIDCClientID, p.APIOIDCRoleClaim = idp.Issuer(), idp.ClientID(), "groups"
	p.APIOIDCRoles = config.RoleMapping{File: cfg.File, Line: 41, Key: "Api_oidc_roles", Text: "g=read"}
	p.APIOIDCRedirectURL = "https://127.0.0.1:8443/auth/oidc/callback"

	log := hupWriter{lines: make(chan string, 16)}
	o, err := Own(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if l := <-log.lines; !strings.HasPrefix(l, "Serving the API on https://") {
		t.Fatalf("the owner says %q", l)
	}
	alice := clientCA.Issue(t, certtest.Spec{CN: "alice"}).TLS()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		c := &http.Client{
			Transport:     &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{alice}}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		resp, err := c.Get("https://" + o.public.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp, resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if resp, name := get("/api/v1/status"); resp.StatusCode != 200 || name != "first" {
		t.Fatalf("GET /api/v1/status with alice's certificate: %s from %q", resp.Status, name)
	}
	resp, _ := get("/auth/oidc/login")
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), idp.Issuer()) || loc.Query().Get("redirect_uri") != p.APIOIDCRedirectURL {
		t.Fatalf("GET /auth/oidc/login: %s to %v (%v)", resp.Status, loc, err)
	}
	var info map[string]string
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverCA.Pool()}}}
	r, err := c.Get("https://" + o.public.Addr() + "/auth/oidc")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(r.Body).Decode(&info)
	r.Body.Close()
	if info["login"] != "/auth/oidc/login" {
		t.Fatalf("GET /auth/oidc: %v", info)
	}

	// A renewed certificate, then SIGHUP.
	serverCA.Issue(t, certtest.Spec{CN: "renewed", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).WriteFiles(t, dir, "api")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if l := <-log.lines; l != "SIGHUP: reloaded the API's TLS certificate" {
		t.Fatalf("after SIGHUP the owner says %q", l)
	}
	if _, name := get("/api/v1/status"); name != "renewed" {
		t.Fatalf("after SIGHUP the owner serves %q", name)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	p.APIClientRoles.Text = "alice=admin"
	if _, err := Own(cfg, nil); err == nil || !strings.Contains(err.Error(), cfg.File+":40: Api_client_roles: alice=admin: a certificate value is cn:VALUE") {
		t.Fatalf("Own with a bad mapping: %v", err)
	}
}
