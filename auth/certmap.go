package auth

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-dsynth/go-dsynth/config"
)

// certAttributes are the prefixes of the values of Api_client_roles: the
// parts of a client certificate a rule can name.
var certAttributes = []string{"cn:", "ou:", "dns:", "email:", "uri:"}

// CertMapper gives a role to a client certificate that the TLS handshake
// verified against the client CA: the highest role of the rules of
// Api_client_roles that name its subject's common name (cn:NAME), one of
// its organizational units (ou:UNIT), or one of its subject alternative
// names (dns:HOST, email:ADDRESS, uri:URI).
type CertMapper struct {
	roles *RoleMap
}

// NewCertMapper checks a mapping of certificates to roles: each value is
// "*" or one of cn:, ou:, dns:, email:, uri: followed by what the
// certificate must carry.
func NewCertMapper(m config.RoleMapping) (*CertMapper, error) {
	rm, err := NewRoleMap(m, func(v string) error {
		for _, a := range certAttributes {
			if rest, ok := strings.CutPrefix(v, a); ok && rest != "" {
				return nil
			}
		}
		return fmt.Errorf("a certificate value is %sVALUE or *", strings.Join(certAttributes, "VALUE, "))
	})
	if err != nil {
		return nil, err
	}
	return &CertMapper{roles: rm}, nil
}

// certValues lists what rules can match in a certificate.
func certValues(c *x509.Certificate) []string {
	var v []string
	if c.Subject.CommonName != "" {
		v = append(v, "cn:"+c.Subject.CommonName)
	}
	for _, ou := range c.Subject.OrganizationalUnit {
		v = append(v, "ou:"+ou)
	}
	for _, d := range c.DNSNames {
		v = append(v, "dns:"+d)
	}
	for _, e := range c.EmailAddresses {
		v = append(v, "email:"+e)
	}
	for _, u := range c.URIs {
		v = append(v, "uri:"+u.String())
	}
	return v
}

// Principal maps a verified client certificate (the leaf of the chain
// the handshake verified) to its principal, named by its common name,
// else its first subject alternative name. It is api.Options.ClientCert.
func (m *CertMapper) Principal(c *x509.Certificate) (Principal, error) {
	values := certValues(c)
	name := ""
	if len(values) > 0 {
		_, name, _ = strings.Cut(values[0], ":")
	}
	if name == "" {
		name = "serial:" + c.SerialNumber.String()
	}
	role, ok := m.roles.Role(values)
	if !ok {
		return Principal{}, fmt.Errorf("certificate %q: nothing in it (%s) is mapped to a role by Api_client_roles", name, strings.Join(values, ", "))
	}
	return Principal{Name: name, Role: role, Method: MethodTLS, Expires: c.NotAfter}, nil
}

// LoadClientCA reads the PEM bundle of CA certificates that client
// certificates are verified against.
func LoadClientCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("client CA: %s: a %q PEM block: the bundle holds CERTIFICATE blocks only", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("client CA: %s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("client CA: " + path + " holds no PEM certificate")
	}
	return pool, nil
}
