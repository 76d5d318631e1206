package auth

import (
	"github.com/go-dsynth/go-dsynth/config"
)

// RoleMap gives a role to an external identity from the values it
// carries: an OpenID Connect token's groups or roles, a client
// certificate's names. It is the same VALUE=ROLE syntax for both
// (Api_oidc_roles, Api_client_roles): an identity gets the highest role
// of the rules whose value it carries, "*" matching every identity; one
// that matches no rule is refused.
type RoleMap struct {
	roles map[string]Role
	// any is the role of "*" (RoleNone: no such rule).
	any Role
}

// NewRoleMap checks a mapping's roles (read, user, builder, admin) and,
// when check is not nil, each value but "*" with check. Errors name the
// mapping's file and line.
func NewRoleMap(m config.RoleMapping, check func(value string) error) (*RoleMap, error) {
	rules, err := m.Rules()
	if err != nil {
		return nil, err
	}
	rm := &RoleMap{roles: map[string]Role{}}
	for _, r := range rules {
		role, err := ParseRole(r.Role)
		if err != nil {
			return nil, m.Errorf("%s=%s: %v", r.Value, r.Role, err)
		}
		if r.Value == "*" {
			rm.any = role
			continue
		}
		if check != nil {
			if err := check(r.Value); err != nil {
				return nil, m.Errorf("%s=%s: %v", r.Value, r.Role, err)
			}
		}
		rm.roles[r.Value] = role
	}
	return rm, nil
}

// Role returns the highest role the values are mapped to; ok is false
// when no rule matches.
func (m *RoleMap) Role(values []string) (role Role, ok bool) {
	role = m.any
	for _, v := range values {
		if r, found := m.roles[v]; found && r > role {
			role = r
		}
	}
	return role, role != RoleNone
}
