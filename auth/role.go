package auth

import (
	"fmt"
	"strings"
)

// Permission is what an endpoint needs: one column of the seed's
// authorization matrix.
type Permission int

// Permissions, lowest first. PermNone is needed by nothing: the health
// probes, open to every client.
const (
	PermNone Permission = iota
	// PermRead reads builds, packages, logs, statistics and the
	// (redacted) configuration.
	PermRead
	// PermBuild starts, cancels and retries builds, and pauses workers.
	PermBuild
	// PermConfig changes dsynth.ini and its profiles.
	PermConfig
	// PermAdmin runs database maintenance and reads the audit log.
	PermAdmin
)

var permissionNames = [...]string{PermNone: "none", PermRead: "read", PermBuild: "build", PermConfig: "config", PermAdmin: "admin"}

// String returns the permission's name.
func (p Permission) String() string {
	if p < 0 || int(p) >= len(permissionNames) {
		return fmt.Sprintf("Permission(%d)", int(p))
	}
	return permissionNames[p]
}

// Role is what a principal may do: one row of the seed's authorization
// matrix. Roles are ordered, each holds the permissions of the ones
// below it:
//
//	role       read  build  config  admin
//	anonymous   ✓
//	read        ✓
//	user        ✓     ✓
//	builder     ✓     ✓      ✓
//	admin       ✓     ✓      ✓       ✓
//
// Anonymous is a client without credentials where anonymous reading is
// on; read is the same permissions for a client that has credentials.
type Role int

// Roles, lowest first. RoleNone holds no permission (an anonymous client
// where anonymous reading is off).
const (
	RoleNone Role = iota
	RoleAnonymous
	RoleRead
	RoleUser
	RoleBuilder
	RoleAdmin
)

var roleNames = [...]string{RoleNone: "none", RoleAnonymous: "anonymous", RoleRead: "read", RoleUser: "user", RoleBuilder: "builder", RoleAdmin: "admin"}

// roleAliases are older names of roles, still read: go-dsynth's first
// keys files called the user role "build".
var roleAliases = map[string]Role{"build": RoleUser}

// grants is the matrix: the highest permission of each role.
var grants = [...]Permission{RoleNone: PermNone, RoleAnonymous: PermRead, RoleRead: PermRead, RoleUser: PermBuild, RoleBuilder: PermConfig, RoleAdmin: PermAdmin}

// String returns the role's name.
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// Allows reports whether role r holds permission p. Every role holds
// PermNone, RoleNone holds nothing else.
func (r Role) Allows(p Permission) bool {
	if r < 0 || int(r) >= len(grants) {
		return false
	}
	return p <= grants[r]
}

// RoleNames lists the roles a credential may carry, lowest first.
func RoleNames() []string {
	return []string{RoleRead.String(), RoleUser.String(), RoleBuilder.String(), RoleAdmin.String()}
}

// ParseRole reads the role of a credential: read, user, builder or admin
// (and "build", the old name of user). anonymous and none are not roles a
// credential can carry.
func ParseRole(s string) (Role, error) {
	if r, ok := roleAliases[s]; ok {
		return r, nil
	}
	for i := RoleRead; i <= RoleAdmin; i++ {
		if s == roleNames[i] {
			return i, nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q: use %s", s, strings.Join(RoleNames(), ", "))
}
