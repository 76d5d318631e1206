#!/bin/sh
# selftest.sh -- checks the test ports tree on this host, without a sandbox
# and without a network.
#
#   1. Scans every port (and every flavor) the way dsynth's scanner does:
#      bmake -V for the 17 variables, with a replaced environment; each scan
#      must print exactly 17 lines, nothing on stderr, and exit 0.
#   2. Builds ports-mgmt/pkg and then a set of ports, in dependency order,
#      the way a dsynth worker does: for every port a fresh root (the pkg
#      package extracted as into dsynth's template, then the dependency
#      packages installed with "pkg install -y" from the repository), the
#      generated make.conf, and each phase run as its own make call.  Every
#      package is copied into the repository, must be a valid archive that
#      "pkg add" accepts, and some programs are run.
#   3. Checks the failures: the IGNOREd port, the port that does not
#      compile, a checksum mismatch, a missing dependency, the hanging port.
#
# Usage: selftest.sh [-k] [-v] [WORKDIR]
#   -k  keep WORKDIR (default: a new temporary directory, removed at the end)
#   -v  show each port's build log
# Needs: bmake, cc, GNU tar, gzip, sha256sum, patch.
set -u
TREE=$(cd "$(dirname "$0")" && pwd)
KEEP= VERBOSE=
while getopts kv opt; do
	case $opt in k) KEEP=1 ;; v) VERBOSE=1 ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
if [ $# -ge 1 ]; then T=$1; mkdir -p "$T"; else T=$(mktemp -d "${TMPDIR:-/tmp}/testports.XXXXXX"); fi
T=$(cd "$T" && pwd)
# start clean when the work directory is reused
rm -rf "$T/scan" "$T/root" "$T/packages" "$T/distfiles" "$T/logs" "$T/options" \
	"$T/construction" "$T/tools" "$T/lonely" "$T/empty"
[ -n "$KEEP" ] || trap 'rm -rf "$T"' EXIT
MAKE=${MAKE:-bmake}
command -v "$MAKE" >/dev/null 2>&1 || { echo "selftest: $MAKE not found" >&2; exit 1; }

FAILS=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# The 17 variables of dsynth's scan, in its order.
VARS="PKGVERSION PKGFILE:T ALLFILES DIST_SUBDIR MAKE_JOBS_NUMBER IGNORE
FETCH_DEPENDS EXTRACT_DEPENDS PATCH_DEPENDS BUILD_DEPENDS LIB_DEPENDS
RUN_DEPENDS SELECTED_OPTIONS DESELECTED_OPTIONS USE_LINUX FLAVORS USES"
VFLAGS=
for v in $VARS; do VFLAGS="$VFLAGS -V$v"; done

# scan ORIGIN[@FLAVOR] -> $T/scan/<origin>@<flavor> (17 lines)
scan() {
	o=${1%@*} f=
	case $1 in *@*) f=${1#*@} ;; esac
	out=$T/scan/$(echo "$o" | tr / _)@$f
	env -i PATH="$PATH" PORTSDIR="$TREE" MAKESYSPATH="$TREE/Mk/sys" \
		__MAKE_CONF=/dev/null BATCH=yes PACKAGE_BUILDING=yes \
		PKG_SUFX=.pkg PKG_COMPRESSION_FORMAT=.pkg ARCH=amd64 \
		"$MAKE" -C "$TREE/$o" ${f:+FLAVOR=$f} LOCALBASE="$T/empty" \
		$VFLAGS > "$out" 2> "$out.err" < /dev/null
	rc=$?
	n=$(wc -l < "$out" | tr -d ' ')
	if [ $rc -ne 0 ] || [ "$n" -ne 17 ] || [ -s "$out.err" ]; then
		fail "scan $1: exit $rc, $n lines: $(head -c 300 "$out.err")"
		return 1
	fi
	return 0
}
line() { sed -n "${2}p" "$T/scan/$(echo "${1%@*}" | tr / _)@$(case $1 in *@*) echo "${1#*@}" ;; esac)"; }

# ---- 1. scan ---------------------------------------------------------------
mkdir -p "$T/scan"
ORIGINS=$(cd "$TREE" && ls -d */*/Makefile | sed 's,/Makefile$,,' | grep -v -e '^Mk/' -e '^src/' | sort)
nscan=0
for o in $ORIGINS; do
	scan "$o" || continue
	nscan=$((nscan + 1))
	for f in $(line "$o" 16); do
		scan "$o@$f" && nscan=$((nscan + 1))
		case $(line "$o@$f" 2) in *.pkg) ;; *) fail "scan $o@$f: PKGFILE:T not .pkg" ;; esac
	done
	case $(line "$o" 2) in *.pkg) ;; *) fail "scan $o: PKGFILE:T '$(line "$o" 2)' not .pkg" ;; esac
done
[ "$FAILS" -eq 0 ] && pass "scanned $nscan ports and flavors, 17 lines each"
nports=$(echo "$ORIGINS" | wc -l | tr -d ' ')
[ "$nports" -ge 30 ] && pass "$nports ports" || fail "only $nports ports"
[ -n "$(line misc/obsolete 6)" ] && pass "misc/obsolete is IGNOREd" || fail "misc/obsolete has no IGNORE"
[ "$(line editors/ted 16)" = "default lite" ] && pass "editors/ted has FLAVORS" || fail "editors/ted FLAVORS"
[ "$(line editors/ted@lite 2)" = ted-lite-1.1.pkg ] && pass "editors/ted@lite is ted-lite" || fail "editors/ted@lite PKGFILE"
case $(line misc/meta-tools 17) in *metaport*) pass "misc/meta-tools is a metaport" ;; *) fail "misc/meta-tools USES" ;; esac
[ "$(line textproc/wordfreq 13)" = "DOCS HASH" ] && [ "$(line textproc/wordfreq 14)" = STOPWORDS ] &&
	pass "textproc/wordfreq options" || fail "textproc/wordfreq options: $(line textproc/wordfreq 13) / $(line textproc/wordfreq 14)"
[ "$(line devel/libkit 1)" = 1.0.2_1 ] && [ "$(line ports-mgmt/pkgstats 1)" = 0.3,1 ] &&
	pass "PORTREVISION and PORTEPOCH" || fail "PKGVERSION with revision/epoch"
[ "$(line games/fortune-lite 4)" = fortune ] && pass "DIST_SUBDIR" || fail "DIST_SUBDIR"
scan editors/ted@bogus && case $(line editors/ted@bogus 6) in
	*"Unknown flavor"*) pass "an unknown flavor is IGNOREd" ;; *) fail "unknown flavor not IGNOREd" ;; esac

# ---- 2. build ----------------------------------------------------------------
ROOT=$T/root LB=$T/root/usr/local REPO=$T/packages DIST=$T/distfiles
mkdir -p "$REPO/All" "$DIST" "$T/logs" "$T/options"
cat > "$T/make.conf" <<EOF
USE_PACKAGE_DEPENDS_ONLY=yes
PORTSDIR=$TREE
PORT_DBDIR=$T/options
PKG_DBDIR=$ROOT/var/db/pkg
PKG_CACHEDIR=$ROOT/var/cache/pkg
PKG_COMPRESSION_FORMAT=.pkg
UID=0
ARCH=amd64
OPSYS=Linux
DISTDIR=$DIST
WRKDIRPREFIX=$T/construction
BATCH=yes
PACKAGE_BUILDING=yes
PKG_CREATE_VERBOSE=yes
MAKE_JOBS_NUMBER=2
DEVELOPER=1
LOCALBASE=$LB
PACKAGES=$T/no-packages
EOF
# The environment of a worker's phases.
wmake() { # ORIGIN[@FLAVOR] ARGS...
	_o=$1; shift
	_f=; case $_o in *@*) _f=${_o#*@}; _o=${_o%@*} ;; esac
	env -i PATH="$LB/sbin:$LB/bin:$PATH" TERM=dumb USER=root HOME="$T" LANG=C \
		PORTSDIR="$TREE" MAKESYSPATH="$TREE/Mk/sys" __MAKE_CONF="$T/make.conf" \
		${_f:+FLAVOR=$_f} "$MAKE" -C "$TREE/$_o" "$@" < /dev/null
}
PKGTOOL=$LB/sbin/pkg
P() { PKG_DBDIR=$ROOT/var/db/pkg "$PKGTOOL" "$@"; }

# depset ORIGIN -> the packages to install before building ORIGIN, as dsynth
# computes them: every direct dependency, and below those only LIB and RUN
# ones; dependencies first, no duplicates; a bare flavored origin means its
# first flavor.
norm() { # dependency token -> origin[@flavor]
	_r=${1#*:}; _r=${_r%%:*}
	case $_r in
	*@*) echo "$_r" ;;
	*) _fl=$(line "$_r" 16 | awk '{ print $1 }'); echo "$_r${_fl:+@$_fl}" ;;
	esac
}
deps_of() { # ORIGIN[@FLAVOR] FIRST-LINE LAST-LINE
	for _t in $(sed -n "$2,$3p" "$T/scan/$(echo "${1%@*}" | tr / _)@$(case $1 in *@*) echo "${1#*@}" ;; esac)"); do
		norm "$_t"
	done
}
depset_walk() ( # ORIGIN: post-order over LIB and RUN dependencies
	# (a subshell: sh has no local variables, and this recurses)
	for _d in $(deps_of "$1" 11 12); do
		grep -qx "$_d" "$T/depset.seen" && continue
		echo "$_d" >> "$T/depset.seen"
		depset_walk "$_d"
		echo "$_d" >> "$T/depset.out"
	done
)
depset() {
	: > "$T/depset.seen"; : > "$T/depset.out"
	for _d in $(deps_of "$1" 7 12); do
		grep -qx "$_d" "$T/depset.seen" && continue
		echo "$_d" >> "$T/depset.seen"
		depset_walk "$_d"
		echo "$_d" >> "$T/depset.out"
	done
	cat "$T/depset.out"
}

PHASES="check-sanity pkg-depends fetch-depends fetch checksum extract-depends
extract patch-depends patch build-depends lib-depends configure build
run-depends stage check-plist package"

# build ORIGIN[@FLAVOR] [EXPECTED-FAILING-PHASE]
build() {
	o=$1 want=${2:-}
	[ -f "$T/scan/$(echo "${o%@*}" | tr / _)@$(case $o in *@*) echo "${o#*@}" ;; esac)" ] || scan "$o" || return 1
	log=$T/logs/$(echo "$o" | tr /@ __).log
	: > "$log"
	# a fresh root: the pkg tool as in dsynth's template, then the deps
	rm -rf "$ROOT" "$T/construction"
	mkdir -p "$ROOT/var/db/pkg"
	if [ "$o" != ports-mgmt/pkg ]; then
		tar -xzpf "$REPO/All/$PKGPKG" -C / --exclude='+*' || { fail "$o: template"; return 1; }
		for d in $(depset "$o"); do
			pf=$(line "$d" 2)
			echo "Installing $REPO/All/$pf" >> "$log"
			P install -q -U -y "$REPO/All/$pf" >> "$log" 2>&1 ||
				{ fail "$o: installing dependency $pf"; tail -5 "$log"; return 1; }
		done
	fi
	phases=$PHASES
	[ "$o" = ports-mgmt/pkg ] && phases=package
	failed=
	for ph in $phases; do
		nd=
		case $ph in build|package) nd=NO_DEPENDS=1 ;; esac
		echo "--------------------------------------------------" >> "$log"
		echo "-- Phase: $ph" >> "$log"
		echo "--------------------------------------------------" >> "$log"
		if ! wmake "$o" $nd "$ph" >> "$log" 2>&1; then
			failed=$ph; break
		fi
	done
	[ -z "$VERBOSE" ] || cat "$log"
	if [ -n "$want" ]; then
		if [ "$failed" = "$want" ]; then pass "$o fails in $want as expected"
		else fail "$o: expected a failure in $want, got '${failed:-success}'"; fi
		return 0
	fi
	if [ -n "$failed" ]; then
		fail "$o: phase $failed failed (log $log)"; tail -15 "$log" | sed 's/^/     /'; return 1
	fi
	src=$(wmake "$o" -V WRKDIR_PKGFILE)
	pf=$(line "$o" 2)
	[ "${src##*/}" = "$pf" ] || { fail "$o: WRKDIR_PKGFILE $src is not $pf"; return 1; }
	cp "$src" "$REPO/All/$pf.new" && mv "$REPO/All/$pf.new" "$REPO/All/$pf" ||
		{ fail "$o: copying the package"; return 1; }
	if [ "$o" = ports-mgmt/pkg ]; then
		# keep the tool aside for the checks (it lives in $LB/sbin/pkg)
		PKGPKG=$pf
		mkdir -p "$T/tools"
		tar -xzOf "$REPO/All/$pf" "${LB#/}/sbin/pkg" > "$T/tools/pkg" &&
			chmod 755 "$T/tools/pkg" || { fail "extracting pkg from $pf"; return 1; }
	fi
	# the package is valid: gzip tar, +MANIFEST first, query agrees
	first=$(tar -tzf "$REPO/All/$pf" | head -n 1)
	nv=$("$T/tools/pkg" query -F "$REPO/All/$pf" %n-%v)
	if [ "$first" = +MANIFEST ] && [ "$nv.pkg" = "$pf" ]; then
		pass "$o -> $pf"
	else
		fail "$o: $pf is not a valid package (first member '$first', query '$nv')"
	fi
}

# ports-mgmt/pkg first; its tool is also kept aside for the checks below
build ports-mgmt/pkg && [ -x "$T/tools/pkg" ] || { echo "selftest: cannot go on without pkg"; exit 1; }
[ "$("$T/tools/pkg" -v)" = 1.21.0 ] && pass "pkg -v" || fail "pkg -v"

for o in devel/libkit devel/liblist devel/libargs devel/libhash devel/mkgen \
    math/libmathx math/primes devel/xd math/rpncalc math/libmatrix \
    math/matdemo textproc/wordfreq textproc/subst textproc/banner \
    archivers/unxor games/riddle net/lfetch games/fortune-lite \
    editors/ted@default editors/ted@lite editors/ted-plugins misc/ted-tutor \
    devel/confdemo lang/forth-lite textproc/libcsv textproc/csvtool \
    misc/meta-tools; do
	build "$o"
done

# ---- 3. failures ---------------------------------------------------------------
build misc/obsolete check-sanity
build devel/broken build
# checksum: a distfile whose content changed fails the checksum phase
cp "$TREE/distfiles-src/hello-1.0.tar.gz" "$DIST/hello-1.0.tar.gz" && echo junk >> "$DIST/hello-1.0.tar.gz"
build misc/hello checksum
rm -f "$DIST/hello-1.0.tar.gz"
build misc/hello
# dsynth's "test" mode also runs install and deinstall after package
if wmake misc/hello install > "$T/logs/hello-install.log" 2>&1 && [ -x "$LB/bin/hello" ] &&
    wmake misc/hello deinstall >> "$T/logs/hello-install.log" 2>&1 && [ ! -e "$LB/bin/hello" ]; then
	pass "misc/hello install and deinstall"
else
	fail "misc/hello install/deinstall: $(tail -3 "$T/logs/hello-install.log")"
fi
# the hanging port: its build phase is still running after 3 seconds
rm -rf "$T/construction"
( wmake misc/hang build > "$T/logs/misc_hang.log" 2>&1 ) &
hpid=$!
sleep 3
if kill -0 "$hpid" 2>/dev/null && grep -q 'never finishes' "$T/logs/misc_hang.log"; then
	pass "misc/hang hangs in build"
else
	fail "misc/hang did not hang: $(tail -3 "$T/logs/misc_hang.log")"
fi
# kill the whole tree of the hanging build (bmake, sh, sleep)
hk() { for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do hk "$c"; done; kill -9 "$1" 2>/dev/null; }
hk "$hpid"; wait "$hpid" 2>/dev/null

# ---- 4. the packages install, the programs run ----------------------------------
rm -rf "$ROOT"; mkdir -p "$ROOT/var/db/pkg"
PKGTOOL=$T/tools/pkg
if P add "$REPO/All/$(line misc/meta-tools 2)" > "$T/logs/add.log" 2>&1; then
	pass "pkg add meta-tools (and its dependencies from the same directory)"
else
	fail "pkg add meta-tools: $(tail -3 "$T/logs/add.log")"
fi
P info -e xd && P info -e ted && ! P info -e ted-lite && pass "pkg info -e" || fail "pkg info -e"
[ "$("$LB/bin/rpncalc" 12 18 gcd 2 10 pow +)" = 1030 ] && pass "rpncalc runs (libmathx, liblist, libargs)" || fail "rpncalc"
[ "$("$LB/bin/primes" 10 20 | tr '\n' ' ')" = "11 13 17 19 " ] && pass "primes runs (patched)" || fail "primes"
[ "$(printf 'a x\np\n' | "$LB/bin/ted")" = x ] && pass "ted runs" || fail "ted"
[ -f "$LB/share/doc/wordfreq/README" ] && pass "wordfreq DOCS option installed its docs" || fail "wordfreq docs"
P delete -y libkit > /dev/null 2>&1 && fail "pkg delete removed a package others need" || pass "pkg delete refuses a needed package"
P delete -y meta-tools > /dev/null && ! P info -e meta-tools && pass "pkg delete" || fail "pkg delete"
for p in ted-plugins ted-tutor riddle fortune-lite banner confdemo forth-lite matdemo; do
	P add "$REPO/All/$(cd "$REPO/All" && ls $p-[0-9]*.pkg)" > "$T/logs/add-$p.log" 2>&1 || fail "pkg add $p: $(tail -2 "$T/logs/add-$p.log")"
done
[ "$("$LB/bin/riddle" -a)" = "A keyboard." ] && pass "riddle runs (XOR distfile)" || fail "riddle"
[ -s "$LB/share/fortune/fortunes" ] && "$LB/bin/fortune" > /dev/null && pass "fortune runs (two distfiles)" || fail "fortune"
[ "$("$LB/bin/banner" -d)" = "$LB/share/banner" ] && pass "banner was patched by subst" || fail "banner"
"$LB/bin/confdemo" | grep -q 'libkit 1.0.2' && pass "confdemo runs (configure)" || fail "confdemo"
[ "$("$LB/bin/forth-lite" '3 cube .')" = 27 ] && pass "forth-lite runs (mkgen prelude)" || fail "forth-lite"
[ -x "$LB/bin/ted-lite" ] && [ -x "$LB/bin/ted" ] && pass "both flavors of ted installed" || fail "ted flavors"
# a package whose dependency is missing is refused
mkdir -p "$T/lonely" && cp "$REPO/All/$(line math/rpncalc 2)" "$T/lonely/"
rm -rf "$ROOT"; mkdir -p "$ROOT/var/db/pkg"
if P add "$T/lonely/$(line math/rpncalc 2)" > "$T/logs/lonely.log" 2>&1; then
	fail "pkg add accepted a package whose dependencies are missing"
else
	grep -q 'missing dependency' "$T/logs/lonely.log" && pass "pkg add refuses a missing dependency" ||
		fail "pkg add: $(cat "$T/logs/lonely.log")"
fi
# the repository catalogue
if "$T/tools/pkg" repo "$REPO" > /dev/null; then
	n=$(ls "$REPO/All"/*.pkg | wc -l | tr -d ' ')
	[ "$(wc -l < "$REPO/packagesite.yaml" | tr -d ' ')" = "$n" ] && [ -f "$REPO/meta.conf" ] &&
		pass "pkg repo: $n packages in packagesite.yaml" || fail "pkg repo catalogue"
else
	fail "pkg repo"
fi

echo
if [ "$FAILS" -eq 0 ]; then
	echo "selftest: all checks passed"
	exit 0
fi
echo "selftest: $FAILS checks failed${KEEP:+ (work directory $T)}"
exit 1
