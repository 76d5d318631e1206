package httpserve

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
)

// Certificate is a serving certificate read from a PEM chain and key
// file, which Reload reads again (after a renewal) without a restart:
// handshakes after the reload get the new one, connections already open
// keep theirs.
type Certificate struct {
	certFile, keyFile string

	mu  sync.RWMutex
	cur *tls.Certificate
}

// LoadCertificate reads a certificate chain and its key.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. When they do not hold a valid pair
// (a renewal half written) the certificate in use stays and the error
// says why.
func (c *Certificate) Reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	c.mu.Lock()
	c.cur = &pair
	c.mu.Unlock()
	return nil
}

// GetCertificate is tls.Config.GetCertificate: the certificate in use.
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cur, nil
}

// ReloadOn reloads the certificate at each of sigs (SIGHUP) until stop is
// called; done, when not nil, is called with each reload's result (the
// owner logs it).
func (c *Certificate) ReloadOn(done func(error), sigs ...os.Signal) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-ch:
				err := c.Reload()
				if done != nil {
					done(err)
				}
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(quit)
			<-finished
		})
	}
}

// TLSConfig is the API's TLS: TLS 1.2 at least, cert's certificate, and,
// when clientCAs is not nil, client certificates verified against it
// when a client sends one (a client without one still connects, to use a
// key or a token; a certificate that does not verify, expired or of
// another CA, fails the handshake).
func TLSConfig(cert *Certificate, clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.GetCertificate}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg
}

// tlsListener wraps ln in TLS when cfg is not nil.
func tlsListener(ln net.Listener, cfg *tls.Config) net.Listener {
	if cfg == nil {
		return ln
	}
	return tls.NewListener(ln, cfg)
}
