#!/bin/sh
# actual-deps.sh TOKEN... -- prints "dep: NAME VERSION ORIGIN" for the
# packages that satisfy the given LIB and RUN dependency tokens
# ("what:cat/port[@flavor][:target]").  The installed package database is
# asked first (by origin and flavor); a port not installed is asked with
# make -V (so packaging with NO_DEPENDS still records it).
# Environment: PORTSDIR PKG_DBDIR MAKE
set -u
seen=" "
for tok in "$@"; do
	case $tok in /nonexistent:*) continue ;; esac
	case $tok in *:*) ;; *) continue ;; esac
	rest=${tok#*:}
	port=${rest%%:*}
	flavor=
	case $port in *@*) flavor=${port##*@}; port=${port%@*} ;; esac
	port=${port#"$PORTSDIR"/}
	if [ -z "$flavor" ]; then
		# A bare origin means the port's default flavor, if it has any.
		flavor=$(cd "$PORTSDIR/$port" && "$MAKE" FLAVOR= -V FLAVOR) || exit 1
	fi
	case $seen in *" $port@$flavor "*) continue ;; esac
	seen="$seen$port@$flavor "
	line=
	if [ -d "$PKG_DBDIR" ]; then
		line=$(awk -v o="$port" -v f="$flavor" '
			function check() {
				if (!done && n != "" && org == o && (f == "" || fl == f)) {
					print n " " v; done = 1 }
			}
			FNR == 1 { check(); n = ""; v = ""; org = ""; fl = "" }
			$1 == "name:" { n = $2 } $1 == "version:" { v = $2 }
			$1 == "origin:" { org = $2 } $1 == "flavor:" { fl = $2 }
			END { check() }' "$PKG_DBDIR"/*/+MANIFEST 2>/dev/null | head -n 1)
	fi
	if [ -z "$line" ]; then
		line=$(cd "$PORTSDIR/$port" && "$MAKE" FLAVOR="$flavor" \
			-V PKGBASE -V PKGVERSION | paste -s -d ' ' -) || exit 1
	fi
	echo "dep: $line $port"
done
