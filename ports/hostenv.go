package ports

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Target describes the system the ports are built for. When the host is not
// that system (Linux scanning a FreeBSD or DragonFly tree), the scanner
// emulates it: see Emulation.
type Target struct {
	OS          string // "FreeBSD" or "DragonFly"
	Release     string // "13.2"
	Arch        string // "amd64" (FreeBSD) or "x86_64" (DragonFly)
	OSVersion   int    // FreeBSD's OSVERSION (1302001); DragonFly's DFLYVERSION
	SMPCPUs     int    // _SMP_CPUS: what MAKE_JOBS_NUMBER defaults to
	BSDMakePath string // BSDMAKE, the make binary the framework should name
}

// DefaultTarget returns the FreeBSD 13.2/amd64 target the shared test data
// was scanned for, or a DragonFly 6.4 one.
func DefaultTarget(osName string) Target {
	if strings.EqualFold(osName, "DragonFly") {
		return Target{OS: "DragonFly", Release: "6.4", Arch: "x86_64", OSVersion: 600400, SMPCPUs: 2, BSDMakePath: "/usr/bin/bmake"}
	}
	return Target{OS: "FreeBSD", Release: "13.2", Arch: "amd64", OSVersion: 1302001, SMPCPUs: 2, BSDMakePath: "/usr/bin/bmake"}
}

// MakeConf returns the base make.conf a dsynth worker or a poudriere jail
// would give the framework for this target, so that bsd.port.mk never asks
// sysctl or uname.
func (t Target) MakeConf() []KV {
	kv := []KV{
		{"OPSYS", t.OS},
		{"OSREL", t.Release},
		{"_OSRELEASE", t.Release + "-RELEASE"},
		{"ARCH", t.Arch},
		{"UID", "0"},
		{"PACKAGE_BUILDING", "yes"},
		{"BATCH", "yes"},
		{"_PKG_CHECKED", "1"},
		{"PORT_DBDIR", "/nonexistent"},
		{"CONFIGURE_MAX_CMD_LEN", "262144"},
		{"_SMP_CPUS", strconv.Itoa(t.SMPCPUs)},
		{"BSDMAKE", t.BSDMakePath},
	}
	if t.OS == "DragonFly" {
		kv = append(kv, KV{"OSVERSION", "9999999"}, KV{"DFLYVERSION", strconv.Itoa(t.OSVersion)})
	} else {
		kv = append(kv, KV{"OSVERSION", strconv.Itoa(t.OSVersion)}, KV{"HAVE_COMPAT_IA32_KERN", "YES"}, KV{"PYTHONBASE", "/usr/local"})
	}
	return kv
}

// UnameEnv returns the UNAME_* variables the framework reads instead of
// calling uname.
func (t Target) UnameEnv() []string {
	rel := t.Release + "-RELEASE"
	return []string{
		"UNAME_s=" + t.OS, "UNAME_r=" + rel, "UNAME_m=" + t.Arch, "UNAME_p=" + t.Arch,
		"UNAME_v=" + t.OS + " " + rel,
	}
}

// KV is one make variable assignment.
type KV struct{ Name, Value string }

// Emulation is a prepared scanning environment for a ports tree of another
// OS: a MAKESYSPATH directory of shims standing in for /usr/share/mk, a PATH
// directory of stand-ins for BSD-only tools, and a make.conf holding the
// target's base variables and the ports_env.sh answers, so that a `make -V`
// forks nothing but make itself.
type Emulation struct {
	Dir      string // holds mk/, bin/ and make.conf
	MakeConf string // path of the generated make.conf
	Env      []string
}

// shimFiles returns the MAKESYSPATH files: a minimal FreeBSD-flavoured sys.mk
// and the bsd.port*.mk forwarders into ${PORTSDIR}/Mk.
func shimFiles() map[string]string {
	files := map[string]string{
		"sys.mk": `# go-dsynth: minimal FreeBSD-like sys.mk for evaluating a ports tree with bmake.
unix?=		We run FreeBSD, not UNIX.
.FreeBSD?=	true
.SUFFIXES:	.out .a .o .c .cc .cpp .cxx .C .m .F .f .r .y .l .S .asm .s .sh .h
AR?=		ar
ARFLAGS?=	-crD
RANLIB?=	ranlib
RANLIBFLAGS?=	-D
AS?=		as
CC?=		cc
CFLAGS?=	-O2 -pipe
CPP?=		cpp
CXX?=		c++
CXXFLAGS?=	${CFLAGS}
CP?=		cp
ECHO?=		echo
ECHODIR?=	echo
FC?=		f77
FFLAGS?=	-O
INSTALL?=	install
LD?=		ld
LDFLAGS?=
LEX?=		lex
MAKE?=		make
NM?=		nm
OBJC?=		cc
OBJCOPY?=	objcopy
SHELL?=		sh
SIZE?=		size
STRIPBIN?=	strip
YACC?=		yacc
YFLAGS?=	-d
.MAKE.EXPAND_VARIABLES=	yes
MAKEFILE_PREFERENCE?=	BSDmakefile makefile Makefile
.MAKE.MAKEFILE_PREFERENCE=	${MAKEFILE_PREFERENCE}
__MAKE_CONF?=	/etc/make.conf
.if exists(${__MAKE_CONF})
.include "${__MAKE_CONF}"
.endif
.include <bsd.cpu.mk>
`,
		"bsd.cpu.mk":  "MACHINE_CPU=\tamd64 sse2 sse mmx\n",
		"bsd.port.mk": "PORTSDIR?=\t/usr/ports\nBSDPORTMK?=\t${PORTSDIR}/Mk/bsd.port.mk\n_WITHOUT_SRCCONF=\n.include \"${BSDPORTMK}\"\n",
	}
	for _, f := range []string{"bsd.port.pre.mk", "bsd.port.post.mk", "bsd.port.options.mk", "bsd.port.subdir.mk"} {
		files[f] = "PORTSDIR?=\t/usr/ports\n_WITHOUT_SRCCONF=\n.include \"${PORTSDIR}/Mk/" + f + "\"\n"
	}
	return files
}

// stubFiles returns PATH stand-ins for BSD tools the framework calls while
// parsing.
func stubFiles() map[string]string {
	return map[string]string{
		"kldstat": "#!/bin/sh\nexit 1\n",
		// BSD mktemp accepts a bare "-t prefix"; GNU mktemp wants X's in it.
		"mktemp": `#!/bin/sh
args=""
while [ $# -gt 0 ]; do
	case "$1" in
	-t) shift; case "$1" in *X*) t="$1";; *) t="$1.XXXXXXXX";; esac; set -- "$@"; args="$args -t $t" ;;
	*) args="$args $1" ;;
	esac
	shift
done
exec /usr/bin/mktemp $args
`,
	}
}

// PrepareEmulation writes an emulated scanning environment for target under
// dir (created if needed) and returns it. Call LoadPortsEnv next: it writes
// the make.conf with the target's base variables and the ports_env.sh
// answers (a fresh directory gets a base make.conf meanwhile).
func PrepareEmulation(dir string, t Target) (*Emulation, error) {
	dir, err := filepath.Abs(dir) // make runs in each port's directory
	if err != nil {
		return nil, fmt.Errorf("scan environment: %w", err)
	}
	mk := filepath.Join(dir, "mk")
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{mk, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("scan environment: %w", err)
		}
	}
	for name, body := range shimFiles() {
		if err := writeIfChanged(filepath.Join(mk, name), body, 0o644); err != nil {
			return nil, fmt.Errorf("scan environment: %w", err)
		}
	}
	for name, body := range stubFiles() {
		if err := writeIfChanged(filepath.Join(bin, name), body, 0o755); err != nil {
			return nil, fmt.Errorf("scan environment: %w", err)
		}
	}
	e := &Emulation{Dir: dir, MakeConf: filepath.Join(dir, "make.conf")}
	// The base make.conf, unless one is there: LoadPortsEnv completes it, and
	// rewriting it here first would change its stamp on every run.
	if _, err := os.Stat(e.MakeConf); err != nil {
		if err := writeIfChanged(e.MakeConf, formatMakeConf(t.MakeConf()), 0o644); err != nil {
			return nil, fmt.Errorf("scan environment: %w", err)
		}
	}
	e.Env = append([]string{
		"MAKESYSPATH=" + mk,
		"__MAKE_CONF=" + e.MakeConf,
		"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"SH=/bin/bash",
	}, t.UnameEnv()...)
	return e, nil
}

// writeIfChanged writes a file only when its content differs, so unchanged
// environments keep their mtimes (and the scan cache stays valid).
func writeIfChanged(path, body string, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == body {
		// Leave an unchanged file alone: even a chmod would change its
		// ctime, and with it the scan cache's fingerprints.
		if st, err := os.Stat(path); err == nil && st.Mode().Perm() == mode {
			return nil
		}
		return os.Chmod(path, mode)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(body), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// formatMakeConf renders assignments as make.conf lines, escaping what make
// would otherwise interpret ('$' and '#').
func formatMakeConf(kv []KV) string {
	var b strings.Builder
	for _, v := range kv {
		val := strings.ReplaceAll(v.Value, "$", "$$")
		val = strings.ReplaceAll(val, "#", "\\#")
		val = strings.ReplaceAll(val, "\n", " ")
		fmt.Fprintf(&b, "%s=\t%s\n", v.Name, val)
	}
	return b.String()
}

// freeBSDClang holds what FreeBSD 13.2's base clang answers to the
// framework's compiler probes; a Linux host would answer with its gcc.
const freeBSDClangVersion = "FreeBSD clang version 14.0.5 (https://github.com/llvm/llvm-project.git llvmorg-14.0.5-0-gc12386ae247c) Target: x86_64-unknown-freebsd13.2 Thread model: posix InstalledDir: /usr/bin"

const freeBSDCXXInternal = `FreeBSD clang version 14.0.5 (https://github.com/llvm/llvm-project.git llvmorg-14.0.5-0-gc12386ae247c) Target: x86_64-unknown-freebsd13.2 Thread model: posix InstalledDir: /usr/bin "/usr/bin/ld" "--eh-frame-hdr" "-dynamic-linker" "/libexec/ld-elf.so.1" "--hash-style=both" "--enable-new-dtags" "-o" "a.out" "/usr/lib/crt1.o" "/usr/lib/crti.o" "/usr/lib/crtbegin.o" "-L/usr/lib" "/dev/null" "-lc++" "-lm" "-lgcc" "--as-needed" "-lgcc_s" "--no-as-needed" "-lc" "-lgcc" "--as-needed" "-lgcc_s" "--no-as-needed" "/usr/lib/crtend.o" "/usr/lib/crtn.o"`

// LoadPortsEnv runs the tree's Mk/Scripts/ports_env.sh once (as poudriere
// does per jail) with bash and appends its answers to the make.conf, so
// every later `make -V` reuses them instead of forking compiler probes. For
// a FreeBSD target the compiler answers are replaced by FreeBSD's clang's.
// It returns the variables it added.
func (e *Emulation) LoadPortsEnv(ctx context.Context, makeCmd, portsDir string, t Target) ([]KV, error) {
	script := filepath.Join(portsDir, "Mk", "Scripts", "ports_env.sh")
	if _, err := os.Stat(script); err != nil {
		// Older trees and small test trees have no ports_env.sh: the base
		// variables are all there is.
		return nil, writeIfChanged(e.MakeConf, formatMakeConf(t.MakeConf()), 0o644)
	}
	makePath, err := exec.LookPath(makeCmd)
	if err != nil {
		return nil, fmt.Errorf("ports_env.sh: make command: %w", err)
	}
	// The script must see only the base variables: with its own earlier
	// answers in make.conf it would not report them again.
	base := filepath.Join(e.Dir, "make.conf.base")
	if err := writeIfChanged(base, formatMakeConf(t.MakeConf()), 0o644); err != nil {
		return nil, fmt.Errorf("ports_env.sh: %w", err)
	}
	env := make([]string, 0, len(e.Env)+6)
	for _, v := range e.Env {
		if strings.HasPrefix(v, "__MAKE_CONF=") {
			v = "__MAKE_CONF=" + base
		}
		env = append(env, v)
	}
	cmd := exec.CommandContext(ctx, "/bin/bash", script)
	cmd.Env = append(env,
		"PORTSDIR="+portsDir, "SCRIPTSDIR="+filepath.Dir(script), "MAKE="+makePath,
		"MAKE_OBJDIR_CHECK_WRITABLE=0", "HOME=/nonexistent")
	cmd.Dir = portsDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ports_env.sh: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	vars := parseExports(out)
	if t.OS == "FreeBSD" {
		vars = freeBSDCompiler(vars)
	}
	if err := writeIfChanged(e.MakeConf, formatMakeConf(append(t.MakeConf(), vars...)), 0o644); err != nil {
		return nil, fmt.Errorf("ports_env.sh: %w", err)
	}
	return vars, nil
}

// parseExports reads `export NAME="value"` lines.
func parseExports(out []byte) []KV {
	var kv []KV
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok || name == "HAVE_PORTS_ENV" {
			continue
		}
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		kv = append(kv, KV{name, val})
	}
	sort.Slice(kv, func(i, j int) bool { return kv[i].Name < kv[j].Name })
	return kv
}

// freeBSDCompiler replaces the host's compiler-probe answers with FreeBSD
// clang's: the probe variable names carry a hash of the compiler command,
// which bmake computes the same way on every OS.
func freeBSDCompiler(vars []KV) []KV {
	for i, v := range vars {
		switch {
		case strings.HasPrefix(v.Name, "_CCVERSION_"), strings.HasPrefix(v.Name, "_OBJC_CCVERSION_"):
			vars[i].Value = freeBSDClangVersion
		case strings.HasPrefix(v.Name, "_ALTCCVERSION_"), strings.HasPrefix(v.Name, "_OBJC_ALTCCVERSION_"):
			vars[i].Value = "none"
		case strings.HasPrefix(v.Name, "_CXXINTERNAL_"):
			vars[i].Value = freeBSDCXXInternal
		case strings.HasPrefix(v.Name, "CC_OUTPUT_"):
			vars[i].Value = "yes"
		}
	}
	return vars
}
