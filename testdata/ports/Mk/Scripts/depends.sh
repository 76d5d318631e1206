#!/bin/sh
# depends.sh KIND TOKEN...
#
# Checks the dependencies of one kind (PKG FETCH EXTRACT PATCH BUILD LIB RUN).
# Each TOKEN is "what:cat/port[@flavor][:target]".  "what" is
#   - for LIB: a library file name (libfoo.so, libfoo.a) looked up in
#     ${LOCALBASE}/lib and the system library directories, or a path;
#   - otherwise: an absolute path that must exist, a package name with a
#     version comparison (foo>=1.0, checked with "pkg info -e foo"), or a
#     command looked up in PATH.
# A missing dependency is installed:
#   - USE_PACKAGE_DEPENDS_ONLY set: from its package in ${PACKAGES}/All
#     (pkg add), failing if there is none;
#   - else by "make -C ${PORTSDIR}/cat/port FLAVOR=flavor ${DEPENDS_TARGET}".
# Environment: PORTSDIR LOCALBASE PKG_BIN PKG_DBDIR MAKE PACKAGES PKGNAME
#              USE_PACKAGE_DEPENDS_ONLY DEPENDS_TARGET
set -u
kind=$1; shift
[ $# -eq 0 ] && exit 0
case $kind in
PKG) label="pkg" ;;
*) label=$(echo "$kind" | tr 'A-Z' 'a-z') ;;
esac

present() { # kind what
	case $1 in
	LIB)
		case $2 in
		/*) [ -e "$2" ]; return ;;
		esac
		for d in "$LOCALBASE/lib" /usr/lib /lib /usr/lib64 /lib64 \
		    /usr/lib/*-linux-gnu /lib/*-linux-gnu; do
			[ -e "$d/$2" ] && return 0
		done
		return 1 ;;
	esac
	case $2 in
	/*) [ -e "$2" ] ;;
	*'>'*|*'<'*|*'='*)
		name=$(echo "$2" | sed 's/[<>=].*//')
		PKG_DBDIR=$PKG_DBDIR "$PKG_BIN" info -e "$name" 2>/dev/null ;;
	*) command -v "$2" >/dev/null 2>&1 ;;
	esac
}

status=0
for tok in "$@"; do
	case $tok in
	/nonexistent:*) continue ;;
	*:*) ;;
	*) echo "===>   ${PKGNAME}: bad dependency '$tok' (no ':')" >&2
	   status=1; continue ;;
	esac
	what=${tok%%:*}
	rest=${tok#*:}
	port=${rest%%:*}
	target=${DEPENDS_TARGET:-install}
	case $rest in *:*) target=${rest#*:} ;; esac
	flavor=
	case $port in *@*) flavor=${port##*@}; port=${port%@*} ;; esac
	port=${port#"$PORTSDIR"/}
	if present "$kind" "$what"; then
		echo "===>   ${PKGNAME} depends on $label: $what - found"
		continue
	fi
	echo "===>   ${PKGNAME} depends on $label: $what - not found"
	dir=$PORTSDIR/$port
	if [ ! -d "$dir" ]; then
		echo "===>   ${PKGNAME}: no port $port for $what" >&2
		status=1; continue
	fi
	if [ -n "${USE_PACKAGE_DEPENDS_ONLY:-}" ]; then
		f=$(cd "$dir" && "$MAKE" FLAVOR="$flavor" -V PKGFILE) || f=
		if [ -n "$f" ] && [ -f "$f" ]; then
			PKG_DBDIR=$PKG_DBDIR "$PKG_BIN" add "$f" || status=1
		else
			echo "===>   ${PKGNAME}: USE_PACKAGE_DEPENDS_ONLY and no package ${f:-for $port}" >&2
			status=1
			continue
		fi
	else
		(cd "$dir" && "$MAKE" FLAVOR="$flavor" "$target") || { status=1; continue; }
	fi
	if ! present "$kind" "$what"; then
		echo "===>   ${PKGNAME}: $what still missing after installing $port" >&2
		status=1
	fi
done
exit $status
