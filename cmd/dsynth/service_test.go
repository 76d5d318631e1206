package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// distDir holds the service files.
const distDir = "../../dist"

// checkServeCommand checks a command line the service files run: dsynth's
// own flags (parsed as dsynth parses them) and then `serve` alone.
func checkServeCommand(t *testing.T, what string, argv []string) options {
	t.Helper()
	if len(argv) == 0 || argv[0] != "/usr/local/bin/dsynth" {
		t.Fatalf("%s runs %q, want /usr/local/bin/dsynth", what, argv)
	}
	o, rest, err := parseFlags(argv[1:])
	if err != nil {
		t.Fatalf("%s: dsynth refuses its flags %q: %v", what, argv[1:], err)
	}
	if len(rest) != 1 || rest[0] != "serve" {
		t.Fatalf("%s: the directive is %q, want serve alone", what, rest)
	}
	if _, ok := directiveTable()["serve"]; !ok {
		t.Fatal("dsynth has no serve directive")
	}
	return o
}

// TestSystemdUnit: the unit's ExecStart is a dsynth command line dsynth
// accepts, and systemd-analyze finds nothing wrong with the unit.
func TestSystemdUnit(t *testing.T) {
	unit := filepath.Join(distDir, "systemd", "dsynth.service")
	f, err := os.Open(unit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var execStart []string
	keys := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: %q is not key=value", unit, l)
		}
		keys[k] = v
		if k == "ExecStart" {
			execStart = strings.Fields(v)
		}
	}
	checkServeCommand(t, "ExecStart", execStart)
	for k, want := range map[string]string{"Type": "simple", "KillSignal": "SIGTERM"} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	// Settings that would break a build (docs/SERVICE.md, the unit's
	// comment).
	for _, k := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "NoNewPrivileges",
		"CapabilityBoundingSet", "SystemCallFilter", "RestrictNamespaces", "ProtectKernelTunables", "ReadOnlyPaths"} {
		if _, ok := keys[k]; ok {
			t.Errorf("the unit sets %s, which breaks builds", k)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit was not verified by systemd")
	}
	// systemd checks that ExecStart's program exists: verify a copy that
	// runs the dsynth built for the tests.
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "dsynth.service")
	os.WriteFile(tmp, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/dsynth", dsynthBinary(t))), 0o644)
	if out, err := exec.Command(analyze, "verify", tmp).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestRcScript: the rc.d script is valid sh and, given dsynth_config and
// dsynth_profile, runs daemon(8) on a dsynth command line dsynth accepts.
func TestRcScript(t *testing.T) {
	script := filepath.Join(distDir, "rc.d", "dsynth")
	if out, err := exec.Command("sh", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("sh -n %s: %v\n%s", script, err, out)
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	// Run it with a stand-in for rc.subr that prints the command.
	dir := t.TempDir()
	stub := filepath.Join(dir, "rc.subr")
	os.WriteFile(stub, []byte(`load_rc_config() { :; }
err() { echo "err: $*" >&2; exit 1; }
run_rc_command() { echo "$command $command_args"; }
`), 0o644)
	if !strings.Contains(string(b), ". /etc/rc.subr\n") {
		t.Fatal("the script does not source /etc/rc.subr")
	}
	script2 := filepath.Join(dir, "dsynth")
	os.WriteFile(script2, []byte(strings.Replace(string(b), ". /etc/rc.subr\n", ". "+stub+"\n", 1)), 0o755)
	for _, tc := range []struct {
		env           []string
		config, profl string
	}{
		{nil, "", ""},
		{[]string{"dsynth_config=/usr/local/etc/dsynth", "dsynth_profile=Nightly", "dsynth_extra_flags=-d"}, "/usr/local/etc/dsynth", "Nightly"},
	} {
		cmd := exec.Command("sh", script2, "start")
		cmd.Env = append(os.Environ(), tc.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		argv := strings.Fields(string(out))
		if len(argv) < 6 || argv[0] != "/usr/sbin/daemon" || strings.Join(argv[1:6], " ") != "-f -p /var/run/dsynth.pid -o /var/log/dsynth.log" {
			t.Fatalf("%v: runs %q", tc.env, argv)
		}
		o := checkServeCommand(t, "the rc.d script", argv[6:])
		if o.configDir != tc.config || o.profile != tc.profl {
			t.Errorf("%v: -C %q -p %q", tc.env, o.configDir, o.profile)
		}
	}
}
