package repository

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestManifestRoundTrip(t *testing.T) {
	m := Manifest{
		{Path: "packagesite.pkg", Sum: sha256.Sum256([]byte("site"))},
		{Path: "All/a-1.pkg", Sum: sha256.Sum256([]byte("a"))},
		{Path: "All/b (x)-2.pkg", Sum: sha256.Sum256([]byte("b"))},
	}
	m.Sort()
	data := m.Format()
	if !strings.HasPrefix(string(data), "SHA256 (All/a-1.pkg) = ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\n") {
		t.Fatalf("format:\n%s", data)
	}
	back, err := ParseManifest("M", data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back, m) {
		t.Fatalf("round trip: %v != %v", back, m)
	}
	if e, ok := back.Lookup("All/b (x)-2.pkg"); !ok || e.Sum != sha256.Sum256([]byte("b")) {
		t.Fatalf("lookup: %v %v", e, ok)
	}
	if _, ok := back.Lookup("All/c.pkg"); ok {
		t.Fatal("lookup found a file not listed")
	}
}

func TestParseManifestErrors(t *testing.T) {
	good := "SHA256 (a) = " + strings.Repeat("00", 32)
	for _, c := range []struct{ in, want string }{
		{"MD5 (a) = 00\n", "M:1: not a manifest line"},
		{good + "\nSHA256 (b) = 12\n", "M:2: \"12\" is not a SHA-256"},
		{"SHA256 (../etc/passwd) = " + strings.Repeat("00", 32) + "\n", "M:1: bad path"},
		{"SHA256 (/abs) = " + strings.Repeat("00", 32) + "\n", "M:1: bad path"},
		{good + "\n" + good + "\n", "M:2: a is out of order or listed twice"},
	} {
		if _, err := ParseManifest("M", []byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	s := func(x string) [32]byte { return sha256.Sum256([]byte(x)) }
	want := Manifest{{"a", s("a")}, {"b", s("b")}, {"d", s("d")}}
	got := Manifest{{"a", s("a")}, {"b", s("B")}, {"c", s("c")}}
	p := Compare(want, got)
	exp := []Problem{{"b", "changed"}, {"c", "extra"}, {"d", "missing"}}
	if !slices.Equal(p, exp) {
		t.Fatalf("got %v, want %v", p, exp)
	}
	if p := Compare(want, want); len(p) != 0 {
		t.Fatalf("same manifests differ: %v", p)
	}
}

func TestGenerationNames(t *testing.T) {
	if GenName(7) != "000007" {
		t.Fatal(GenName(7))
	}
	for name, want := range map[string]int{"000007": 7, "123456": 123456, "000000": 0, "7": 0, "00000a": 0, "staging-x": 0} {
		if n, ok := ParseGen(name); n != want || ok != (want > 0) {
			t.Errorf("ParseGen(%q) = %d %v", name, n, ok)
		}
	}
	if !IsStaging(StagingName("r1")) || IsStaging("000001") {
		t.Fatal("IsStaging")
	}
	if Next(nil) != 1 || Next([]int{3, 1, 9}) != 10 {
		t.Fatal("Next")
	}
}

func TestToPrune(t *testing.T) {
	for _, c := range []struct {
		gens          []int
		current, keep int
		want          []int
	}{
		{[]int{1, 2, 3, 4, 5}, 5, 3, []int{1, 2}},
		{[]int{1, 2, 3}, 3, 3, nil},
		{[]int{1, 2, 3, 4, 5}, 2, 3, []int{1, 3}}, // after a rollback: the current and the two newest
		{[]int{1, 2, 3, 4, 5}, 5, 1, []int{1, 2, 3, 4}},
		{[]int{1, 2, 3, 4, 5}, 5, 0, []int{1, 2, 3, 4}},
		{[]int{4, 5}, 9, 1, []int{4, 5}}, // a current not listed still counts
	} {
		if got := ToPrune(c.gens, c.current, c.keep); !slices.Equal(got, c.want) {
			t.Errorf("ToPrune(%v, %d, %d) = %v, want %v", c.gens, c.current, c.keep, got, c.want)
		}
	}
	if p, ok := Previous([]int{1, 3, 5}, 5); !ok || p != 3 {
		t.Fatal("Previous", p, ok)
	}
	if _, ok := Previous([]int{3, 5}, 3); ok {
		t.Fatal("Previous below the oldest")
	}
}

func TestSignifyRoundTrip(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseSecretKey("k.sec", k.Marshal("signify secret key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey("k.pub", k2.Public().Marshal("signify public key"))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("SHA256 (All/a.pkg) = 00\n")
	sig := k2.Sign(msg, "k.pub")
	if err := pub.Verify("s", sig, msg); err != nil {
		t.Fatal(err)
	}
	if err := pub.Verify("s", sig, append(msg, 'x')); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered message: %v", err)
	}
	other, _ := GenerateKey()
	if err := other.Public().Verify("s", sig, msg); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("other key: %v", err)
	}
	// A damaged secret key is refused by its checksum.
	sec := k.Marshal("c")
	bad := []byte(strings.Replace(string(sec), string(sec[len(sec)-6:len(sec)-2]), "AAAA", 1))
	if _, err := ParseSecretKey("bad", bad); err == nil {
		t.Fatal("damaged key accepted")
	}
	if _, err := ParsePublicKey("x", []byte("hello\n")); err == nil || !strings.Contains(err.Error(), "x:1:") {
		t.Fatalf("not a key: %v", err)
	}
}
