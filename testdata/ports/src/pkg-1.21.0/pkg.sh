#!/bin/sh
# pkg -- the package tool of the go-dsynth test ports tree.
#
# A small work-alike of FreeBSD's pkg(8), in POSIX sh, for sandboxes on
# Linux.  A package is a gzip-compressed tar archive named
# <name>-<version>.pkg whose first member is +MANIFEST, followed by the
# package's files stored under their absolute paths without the leading "/".
#
# +MANIFEST is line-oriented, "key: value":
#   name: libkit
#   version: 1.0.2
#   origin: devel/libkit
#   flavor: <flavor or empty>
#   comment: <one line>
#   maintainer: <address>
#   www: <url or empty>
#   prefix: /usr/local
#   arch: <uname -s>:<uname -m>
#   flatsize: <bytes of all files>
#   option: <NAME> on|off            (one per option)
#   dep: <name> <version> <origin>   (one per run-time dependency)
#   dir: <absolute path>             (one per @dir entry)
#   file: <sha256 or -> <absolute path>   (one per file; "-" for symlinks)
#
# Installed packages are recorded in ${PKG_DBDIR:-/var/db/pkg}/<name>/+MANIFEST.
#
# Commands:
#   pkg -v | --version
#   pkg [-r root] create -m MANIFEST_IN -p PLIST [-r STAGEDIR] [-o OUTDIR]
#   pkg [-r root] add [-f] [-q] [-A] FILE...
#   pkg [-r root] install [-y] [-q] [-U] [-f] [-A] FILE...
#   pkg [-r root] info [-a] [-q] [-e NAME] [-o] [-l] [-d] [-F FILE] [NAME...]
#   pkg [-r root] delete|remove [-y] [-f] [-q] NAME...
#   pkg [-r root] query [-F FILE] FORMAT [NAME...]
#   pkg repo [-q] [-m META] [-o OUTDIR] DIR
#   pkg which FILE
# query formats: %n name, %v version, %o origin, %c comment, %p prefix,
# %m maintainer, %s flatsize, %f flavor, %%.

PKG_VERSION=@PKG_VERSION@
case $PKG_VERSION in @*) PKG_VERSION=1.21.0 ;; esac

set -u
prog=pkg
ROOT=
QUIET=

die() { echo "$prog: $*" >&2; exit 1; }
warn() { echo "$prog: $*" >&2; }
say() { [ -n "$QUIET" ] || echo "$@"; }

usage() {
	cat >&2 <<'EOF'
usage: pkg [-v] [-r rootdir] <command> [<args>]
commands: add create delete info install query remove repo which
EOF
	exit 2
}

dbdir() { echo "$ROOT${PKG_DBDIR:-/var/db/pkg}"; }

TMPD=
cleanup() { [ -n "$TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mktmp() {
	if [ -z "$TMPD" ]; then
		TMPD=$(mktemp -d "${TMPDIR:-/tmp}/pkg.XXXXXX") || die "cannot create a temporary directory"
	fi
}

# field MANIFEST KEY -- the value of the first "KEY:" line.
field() {
	sed -n "s/^$2: \{0,1\}//p" "$1" | head -n 1
}

# read_manifest FILE.pkg OUT -- extracts +MANIFEST of a package file.
read_manifest() {
	[ -f "$1" ] || die "$1: no such file"
	tar -xzOf "$1" +MANIFEST > "$2" 2>/dev/null && [ -s "$2" ] &&
		grep -q '^name: ..*' "$2" && grep -q '^version: ..*' "$2" ||
		die "$1: not a valid package (no +MANIFEST)"
}

# installed NAME -- the db manifest of an installed package given by name
# or name-version; empty when not installed.
installed() (
	d=$(dbdir)
	if [ -f "$d/$1/+MANIFEST" ]; then echo "$d/$1/+MANIFEST"; return 0; fi
	for m in "$d"/*/+MANIFEST; do
		[ -f "$m" ] || continue
		n=$(field "$m" name) v=$(field "$m" version)
		if [ "$n-$v" = "$1" ]; then echo "$m"; return 0; fi
	done
	return 1
)

# format MANIFEST FORMAT -- expands the query format.
format() {
	M=$1 F=$2 awk '
	BEGIN {
		while ((getline line < ENVIRON["M"]) > 0) {
			k = line; sub(/:.*/, "", k)
			v = line; sub(/^[^:]*: ?/, "", v)
			if (!(k in val)) val[k] = v
		}
		f = ENVIRON["F"]; out = ""
		map["n"] = "name"; map["v"] = "version"; map["o"] = "origin"
		map["c"] = "comment"; map["p"] = "prefix"; map["m"] = "maintainer"
		map["s"] = "flatsize"; map["f"] = "flavor"; map["w"] = "www"
		map["q"] = "arch"
		for (i = 1; i <= length(f); i++) {
			c = substr(f, i, 1)
			if (c == "%" && i < length(f)) {
				d = substr(f, ++i, 1)
				if (d == "%") out = out "%"
				else if (d in map) out = out val[map[d]]
				else out = out "%" d
			} else if (c == "\\" && i < length(f)) {
				d = substr(f, ++i, 1)
				out = out (d == "n" ? "\n" : d == "t" ? "\t" : d)
			} else out = out c
		}
		print out
	}'
}

sha256() { sha256sum < "$1" | cut -d' ' -f1; }
fsize() { wc -c < "$1" | tr -d ' '; }

# ---- create --------------------------------------------------------------
cmd_create() {
	min= plist= stage=/ out=.
	while getopts m:M:p:r:o:qv opt; do
		case $opt in
		m|M) min=$OPTARG ;; p) plist=$OPTARG ;; r) stage=$OPTARG ;;
		o) out=$OPTARG ;; q) QUIET=1 ;; v) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ -n "$min" ] || die "create: -m MANIFEST is required"
	[ -f "$min" ] || die "create: $min: no such file"
	mktmp
	name=$(field "$min" name) version=$(field "$min" version)
	prefix=$(field "$min" prefix)
	[ -n "$name" ] && [ -n "$version" ] || die "create: $min has no name or version"
	: "${prefix:=/usr/local}"
	m=$TMPD/+MANIFEST list=$TMPD/files
	grep -v -e '^file:' -e '^dir:' -e '^flatsize:' -e '^arch:' "$min" > "$m"
	echo "arch: ${UNAME_s:-$(uname -s)}:${UNAME_m:-$(uname -m)}" >> "$m"
	: > "$list"
	: > "$TMPD/entries"
	flat=0
	if [ -n "$plist" ]; then
		[ -f "$plist" ] || die "create: $plist: no such file"
		while IFS= read -r e || [ -n "$e" ]; do
			case $e in
			''|@comment*) continue ;;
			@dir\ *) p=${e#@dir }; case $p in /*) ;; *) p=$prefix/$p ;; esac
				echo "dir: $p" >> "$TMPD/entries"; continue ;;
			@*) die "create: unsupported plist keyword: $e" ;;
			/*) p=$e ;;
			*) p=$prefix/$e ;;
			esac
			src=$stage/${p#/}
			if [ -L "$src" ]; then
				echo "file: - $p" >> "$TMPD/entries"
			elif [ -f "$src" ]; then
				echo "file: $(sha256 "$src") $p" >> "$TMPD/entries"
				flat=$((flat + $(fsize "$src")))
			else
				die "create: $name-$version: $p: file not found in $stage"
			fi
			echo "${p#/}" >> "$list"
		done < "$plist"
	fi
	echo "flatsize: $flat" >> "$m"
	cat "$TMPD/entries" >> "$m"
	mkdir -p "$out" || die "create: cannot create $out"
	file=$out/$name-$version.pkg
	tmp=$out/.$name-$version.pkg.tmp
	# Reproducible archives: numeric owner 0, members after +MANIFEST in
	# name order, and with SOURCE_DATE_EPOCH every member's time set to it
	# (gzip -n below keeps the name and time out of the gzip header).
	set -- --owner=0 --group=0 --numeric-owner --format=gnu
	case ${SOURCE_DATE_EPOCH:-} in
	''|*[!0-9]*) ;;
	*) set -- "$@" --mtime="@$SOURCE_DATE_EPOCH" ;;
	esac
	LC_ALL=C sort -u -o "$list" "$list"
	tar -cf "$TMPD/pkg.tar" "$@" -C "$TMPD" +MANIFEST ||
		die "create: tar failed"
	if [ -s "$list" ]; then
		tar -rf "$TMPD/pkg.tar" "$@" --no-recursion -C "$stage" -T "$list" ||
			die "create: tar failed"
	fi
	gzip -n -c "$TMPD/pkg.tar" > "$tmp" && mv "$tmp" "$file" ||
		{ rm -f "$tmp"; die "create: cannot write $file"; }
	say "Creating package $file"
}

# ---- add / install -------------------------------------------------------
ADDING=" "
add_one() { # FILE
	f=$1
	mktmp
	m=$TMPD/add.$$.$(echo "$ADDING" | wc -w)
	read_manifest "$f" "$m"
	name=$(field "$m" name) version=$(field "$m" version)
	case $ADDING in *" $name "*) die "dependency loop through $name" ;; esac
	if old=$(installed "$name"); then
		ov=$(field "$old" version)
		if [ "$ov" = "$version" ] && [ -z "$FORCE" ]; then
			say "$name-$version already installed"
			return 0
		fi
		if [ -z "$FORCE" ]; then
			die "$name-$ov is installed; cannot install $name-$version (use -f)"
		fi
		QUIET=1 delete_one "$name" force
	fi
	# dependencies
	grep '^dep: ' "$m" | while read -r _ dn dv do_; do
		if installed "$dn" >/dev/null; then continue; fi
		dfile=$(dirname "$f")/$dn-$dv.pkg
		if [ -z "$NODEPS" ] && [ -f "$dfile" ]; then
			ADDING="$ADDING$name " add_one "$dfile" || exit 1
		else
			die "$name-$version: missing dependency $dn-$dv ($do_)"
		fi
	done || exit 1
	# conflicts
	d=$(dbdir)
	grep '^file: ' "$m" | cut -d' ' -f3- > "$m.paths"
	if [ -d "$d" ] && ls "$d"/*/+MANIFEST >/dev/null 2>&1; then
		clash=$(awk 'NR == FNR { want[$0] = 1; next }
			/^name: / { n = $2 }
			/^file: / { p = $0; sub(/^file: [^ ]* /, "", p)
				if (p in want) { print n ": " p; exit } }' \
			"$m.paths" "$d"/*/+MANIFEST)
		[ -z "$clash" ] || die "$name-$version conflicts with installed $clash"
	fi
	say "Installing $name-$version..."
	r=${ROOT:-/}
	mkdir -p "$r" || die "cannot create $r"
	if [ -s "$m.paths" ]; then
		tar -xzpf "$f" -C "$r" --no-same-owner --exclude=+MANIFEST ||
			die "$name-$version: extraction failed"
	fi
	# verify what was extracted
	grep '^file: ' "$m" | while read -r _ sum p; do
		t=$ROOT$p
		[ -e "$t" ] || [ -L "$t" ] || { warn "$name-$version: $p missing after extraction"; exit 1; }
		[ "$sum" = - ] && continue
		[ "$(sha256 "$t")" = "$sum" ] || { warn "$name-$version: $p: checksum mismatch"; exit 1; }
	done || exit 1
	grep '^dir: ' "$m" | while read -r _ p; do mkdir -p "$ROOT$p"; done
	mkdir -p "$d/$name" || die "cannot create $d/$name"
	cp "$m" "$d/$name/+MANIFEST.new" && mv "$d/$name/+MANIFEST.new" "$d/$name/+MANIFEST" ||
		die "cannot register $name"
	say "Extracting $name-$version: done"
}

cmd_add() {
	FORCE= NODEPS=
	while getopts fqyUIAM opt; do
		case $opt in
		f) FORCE=1 ;; q) QUIET=1 ;; A) ;; M) NODEPS=1 ;;
		y|U|I) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	for f in "$@"; do
		case $f in
		*.pkg|*.tgz|*.txz|*.tar|*/*) add_one "$f" ;;
		*) die "$f: not a package file (this pkg installs files only)" ;;
		esac
	done
}

# ---- delete --------------------------------------------------------------
delete_one() { # NAME [force]
	m=$(installed "$1") || die "No package matching '$1' is installed"
	name=$(field "$m" name) version=$(field "$m" version)
	prefix=$(field "$m" prefix)
	if [ "${2:-}" != force ]; then
		d=$(dbdir)
		users=$(grep -l "^dep: $name " "$d"/*/+MANIFEST 2>/dev/null |
			while read -r u; do field "$u" name; done | tr '\n' ' ')
		[ -z "$users" ] || die "$name-$version is required by: $users"
	fi
	say "Deinstalling $name-$version..."
	grep '^file: ' "$m" | cut -d' ' -f3- | while IFS= read -r p; do
		rm -f "$ROOT$p"
		# remove directories left empty, but never $prefix and its
		# first-level directories (bin, lib, share, ...)
		dir=${p%/*}
		while :; do
			case $dir in
			"$prefix"/*/*) rmdir "$ROOT$dir" 2>/dev/null || break ;;
			*) break ;;
			esac
			dir=${dir%/*}
		done
	done
	rm -rf "$(dirname "$m")"
}

cmd_delete() {
	FORCE=
	while getopts yfqaDx opt; do
		case $opt in
		f) FORCE=1 ;; q) QUIET=1 ;; y|D|x) ;; a) die "delete -a is not supported" ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	for n in "$@"; do delete_one "$n" ${FORCE:+force}; done
}

# ---- info ----------------------------------------------------------------
all_installed() {
	for m in "$(dbdir)"/*/+MANIFEST; do [ -f "$m" ] && echo "$m"; done
}

cmd_info() {
	mode=list e= file= all=
	while getopts aqe:oldF:E opt; do
		case $opt in
		a) all=1 ;; q) QUIET=1 ;; e) mode=exists e=$OPTARG ;;
		o) mode=origin ;; l) mode=files ;; d) mode=deps ;;
		F) file=$OPTARG ;; E) mode=exists ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ $mode = exists ]; then
		[ -n "$e" ] || { e=${1:-}; }
		[ -n "$e" ] || usage
		installed "$e" >/dev/null
		return
	fi
	mans=
	if [ -n "$file" ]; then
		mktmp; read_manifest "$file" "$TMPD/info"; mans=$TMPD/info
		[ $mode = list ] && mode=full
	elif [ $# -gt 0 ]; then
		for n in "$@"; do
			m=$(installed "$n") || die "No package matching '$n' is installed"
			mans="$mans $m"
		done
		[ $mode = list ] && mode=full
	else
		mans=$(all_installed)
	fi
	for m in $mans; do
		case $mode in
		list)
			if [ -n "$QUIET" ]; then format "$m" '%n-%v'
			else format "$m" '%n-%v	%c'; fi ;;
		origin) format "$m" '%n-%v	%o' ;;
		files)  [ -n "$QUIET" ] || format "$m" '%n-%v:'
			grep '^file: ' "$m" | cut -d' ' -f3- ;;
		deps)   [ -n "$QUIET" ] || format "$m" '%n-%v:'
			grep '^dep: ' "$m" | awk '{ print $2 "-" $3 }' ;;
		full)
			format "$m" 'Name           : %n\nVersion        : %v\nOrigin         : %o\nFlavor         : %f\nPrefix         : %p\nComment        : %c\nMaintainer     : %m\nArchitecture   : %q\nFlat size      : %s'
			grep '^option: ' "$m" | sed 's/^option: /Option         : /'
			grep '^dep: ' "$m" | awk '{ print "Depends on     : " $2 "-" $3 }' ;;
		esac
	done
}

# ---- query ---------------------------------------------------------------
cmd_query() {
	file=
	while getopts F:ae opt; do
		case $opt in F) file=$OPTARG ;; a) ;; *) usage ;; esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || usage
	fmt=$1; shift
	if [ -n "$file" ]; then
		mktmp; read_manifest "$file" "$TMPD/q"; format "$TMPD/q" "$fmt"
		return
	fi
	if [ $# -eq 0 ]; then
		for m in $(all_installed); do format "$m" "$fmt"; done
	else
		rc=0
		for n in "$@"; do
			if m=$(installed "$n"); then format "$m" "$fmt"; else rc=1; fi
		done
		return $rc
	fi
}

# ---- which ---------------------------------------------------------------
cmd_which() {
	[ $# -eq 1 ] || usage
	p=$1
	case $p in /*) ;; *) p=$(pwd)/$p ;; esac
	for m in $(all_installed); do
		if grep -q "^file: [^ ]* $p\$" "$m"; then
			echo "$p was installed by package $(format "$m" '%n-%v')"; return 0
		fi
	done
	echo "$p was not found in the database"; return 1
}

# ---- repo ----------------------------------------------------------------
json() { # escape for a JSON string
	printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\000-\037'
}

cmd_repo() {
	meta= out=
	while getopts qm:o:l opt; do
		case $opt in
		q) QUIET=1 ;; m) meta=$OPTARG ;; o) out=$OPTARG ;; l) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || usage
	dir=$1
	[ -d "$dir" ] || die "repo: $dir: not a directory"
	: "${out:=$dir}"
	mkdir -p "$out" || die "repo: cannot create $out"
	mktmp
	site=$TMPD/packagesite.yaml
	: > "$site"
	n=0
	# every package file below DIR, but not the catalogue's own archives
	for f in $( (cd "$dir" && find . -name '*.pkg' -type f ! -name '.*') | sed 's,^\./,,' |
	    grep -v -x -e packagesite.pkg -e meta.pkg -e data.pkg -e digests.pkg | sort); do
		m=$TMPD/repo.m
		if ! tar -xzOf "$dir/$f" +MANIFEST > "$m" 2>/dev/null || ! grep -q '^name: ' "$m"; then
			warn "repo: skipping $f: not a valid package"; continue
		fi
		deps=$(grep '^dep: ' "$m" | while read -r _ dn dv do_; do
			printf '"%s":{"origin":"%s","version":"%s"},' "$(json "$dn")" "$(json "$do_")" "$(json "$dv")"
		done)
		opts=$(grep '^option: ' "$m" | while read -r _ on ov; do
			printf '"%s":"%s",' "$(json "$on")" "$(json "$ov")"
		done)
		printf '{"name":"%s","origin":"%s","version":"%s","comment":"%s","maintainer":"%s","www":"%s","prefix":"%s","arch":"%s","flavor":"%s","flatsize":%s,"pkgsize":%s,"sum":"%s","path":"%s","repopath":"%s","deps":{%s},"options":{%s}}\n' \
			"$(json "$(field "$m" name)")" "$(json "$(field "$m" origin)")" \
			"$(json "$(field "$m" version)")" "$(json "$(field "$m" comment)")" \
			"$(json "$(field "$m" maintainer)")" "$(json "$(field "$m" www)")" \
			"$(json "$(field "$m" prefix)")" "$(json "$(field "$m" arch)")" \
			"$(json "$(field "$m" flavor)")" "$(field "$m" flatsize | grep -E '^[0-9]+$' || echo 0)" \
			"$(fsize "$dir/$f")" "$(sha256 "$dir/$f")" "$(json "$f")" "$(json "$f")" \
			"${deps%,}" "${opts%,}" >> "$site"
		n=$((n + 1))
	done
	if [ -n "$meta" ]; then
		cp "$meta" "$TMPD/meta.conf" || die "repo: cannot read $meta"
	else
		printf 'version = 2;\npacking_format = "tgz";\nmanifests = "packagesite.yaml";\n' > "$TMPD/meta.conf"
	fi
	cp "$site" "$out/.packagesite.yaml.new" && mv "$out/.packagesite.yaml.new" "$out/packagesite.yaml" &&
	tar -czf "$out/.packagesite.pkg.new" -C "$TMPD" packagesite.yaml &&
		mv "$out/.packagesite.pkg.new" "$out/packagesite.pkg" &&
	cp "$TMPD/meta.conf" "$out/.meta.conf.new" && mv "$out/.meta.conf.new" "$out/meta.conf" ||
		die "repo: cannot write the catalogue in $out"
	say "Creating repository in $out: $n packages, done"
}

# ---- main ----------------------------------------------------------------
while [ $# -gt 0 ]; do
	case $1 in
	-v|--version) echo "$PKG_VERSION"; exit 0 ;;
	-r) [ $# -ge 2 ] || usage; ROOT=${2%/}; shift 2 ;;
	-r*) ROOT=${1#-r}; ROOT=${ROOT%/}; shift ;;
	-d|-N) shift ;;
	-o) shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
cmd=$1; shift
case $cmd in
create) cmd_create "$@" ;;
add) cmd_add "$@" ;;
install) cmd_add "$@" ;;
delete|remove) cmd_delete "$@" ;;
info) cmd_info "$@" ;;
query) cmd_query "$@" ;;
which) cmd_which "$@" ;;
repo) cmd_repo "$@" ;;
version) echo "$PKG_VERSION" ;;
help) usage ;;
*) warn "unknown command: $cmd"; usage ;;
esac
