package auth

import (
	"strings"
	"testing"
)

// TestMatrix is the seed's authorization matrix, row by row.
func TestMatrix(t *testing.T) {
	type row struct{ read, build, config, admin bool }
	want := map[Role]row{
		RoleNone:      {},
		RoleAnonymous: {read: true},
		RoleRead:      {read: true},
		RoleUser:      {read: true, build: true},
		RoleBuilder:   {read: true, build: true, config: true},
		RoleAdmin:     {read: true, build: true, config: true, admin: true},
	}
	for role, w := range want {
		got := row{role.Allows(PermRead), role.Allows(PermBuild), role.Allows(PermConfig), role.Allows(PermAdmin)}
		if got != w {
			t.Errorf("%v: %+v, want %+v", role, got, w)
		}
		if !role.Allows(PermNone) {
			t.Errorf("%v is refused what needs nothing", role)
		}
	}
	if Role(99).Allows(PermRead) || Role(-1).Allows(PermNone) {
		t.Error("an out-of-range role holds a permission")
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []Role{RoleRead, RoleUser, RoleBuilder, RoleAdmin} {
		if p, err := ParseRole(r.String()); err != nil || p != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, p, err)
		}
	}
	if p, err := ParseRole("build"); err != nil || p != RoleUser {
		t.Errorf("the old name build: %v %v", p, err)
	}
	for _, bad := range []string{"", "none", "anonymous", "Admin", "root"} {
		if _, err := ParseRole(bad); err == nil || !strings.Contains(err.Error(), "use read, user, builder, admin") {
			t.Errorf("ParseRole(%q): %v", bad, err)
		}
	}
}
