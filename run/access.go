package run

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/dashboard"
	"github.com/go-dsynth/go-dsynth/internal/httpserve"
)

// access is what the profile's external identities make: the OpenID
// Connect verifier and the dashboard's login through it, the HTTPS
// certificate, the client certificates' mapping.
type access struct {
	oidc  *auth.OIDC
	login *dashboard.Login
	certs *auth.CertMapper
	cert  *httpserve.Certificate
	tls   *tls.Config
	// stopReload ends the reloading of cert on SIGHUP.
	stopReload func()
}

// loadAccess reads what the Api_oidc_*, Api_tls_* and Api_client_* keys
// name. Problems name the key (and for mappings, dsynth.ini's line).
func loadAccess(cfg *config.Config) (*access, error) {
	p := &cfg.Profile
	a := &access{}
	if p.APIOIDCIssuer != "" {
		roles, err := auth.NewRoleMap(p.APIOIDCRoles, nil)
		if err != nil {
			return nil, err
		}
		if a.oidc, err = auth.NewOIDC(auth.OIDCConfig{Issuer: p.APIOIDCIssuer, ClientID: p.APIOIDCClientID, RoleClaim: p.APIOIDCRoleClaim, Roles: roles}); err != nil {
			return nil, fmt.Errorf("%s: Api_oidc_issuer: %w", cfg.File, err)
		}
		if p.APIOIDCRedirectURL != "" {
			secret := ""
			if p.APIOIDCClientSecretFile != "" {
				if secret, err = readSecret(p.APIOIDCClientSecretFile); err != nil {
					return nil, fmt.Errorf("%s: Api_oidc_client_secret_file: %w", cfg.File, err)
				}
			}
			if a.login, err = dashboard.NewLogin(dashboard.LoginConfig{OIDC: a.oidc, RedirectURL: p.APIOIDCRedirectURL, ClientSecret: secret}); err != nil {
				return nil, fmt.Errorf("%s: Api_oidc_redirect_url: %w", cfg.File, err)
			}
		}
	}
	if p.APITLSCert != "" {
		var err error
		if a.cert, err = httpserve.LoadCertificate(p.APITLSCert, p.APITLSKey); err != nil {
			return nil, fmt.Errorf("%s: Api_tls_cert: %w", cfg.File, err)
		}
		var clientCAs *x509.CertPool
		if p.APIClientCA != "" {
			if clientCAs, err = auth.LoadClientCA(p.APIClientCA); err != nil {
				return nil, fmt.Errorf("%s: Api_client_ca: %w", cfg.File, err)
			}
			if a.certs, err = auth.NewCertMapper(p.APIClientRoles); err != nil {
				return nil, err
			}
		}
		a.tls = httpserve.TLSConfig(a.cert, clientCAs)
	}
	return a, nil
}

// readSecret reads a client secret file, refusing one anyone may read.
func readSecret(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o004 != 0 {
		return "", fmt.Errorf("%s holds a secret and is readable by everyone (mode %v): chmod o-r it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return secret, nil
}

// tokens appends the OpenID Connect verifier, if any, to the API's.
func (a *access) tokens(v []auth.TokenVerifier) []auth.TokenVerifier {
	if a.oidc != nil {
		v = append(v, a.oidc)
	}
	return v
}

// clientCert is the API's Options.ClientCert (nil without Api_client_ca).
func (a *access) clientCert() func(*x509.Certificate) (auth.Principal, error) {
	if a.certs == nil {
		return nil
	}
	return a.certs.Principal
}

// reloadOnHangup rereads the HTTPS certificate on each SIGHUP (renewals
// without a restart), saying so in log.
func (a *access) reloadOnHangup(log io.Writer) {
	if a.cert == nil {
		return
	}
	a.stopReload = a.cert.ReloadOn(func(err error) {
		if err != nil {
			fmt.Fprintf(log, "SIGHUP: keeping the API's TLS certificate: %v\n", err)
			return
		}
		fmt.Fprintln(log, "SIGHUP: reloaded the API's TLS certificate")
	}, syscall.SIGHUP)
}

// close stops what reloadOnHangup started.
func (a *access) close() {
	if a != nil && a.stopReload != nil {
		a.stopReload()
	}
}

// scheme is the API's URL scheme.
func (a *access) scheme() string {
	if a.tls != nil {
		return "https"
	}
	return "http"
}

// loginHandler is the dashboard's login through the provider, or nil.
func (a *access) loginHandler() http.Handler {
	if a.login == nil {
		return nil
	}
	return a.login
}
