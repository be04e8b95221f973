#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Enforce the module layering of STYLE.md section 1 on every #include in the tree.
#
# How it works: each .c/.h file belongs to the module named by its top-level folder. A quoted
# include must use the module path from the repo root ("dht/rt.h"); its first component names the
# module it reaches, which must be in the including module's allowed set below. An angle include is
# sorted into a library family by name (rte_*.h is DPDK, urcu* is liburcu, ...), which must also be
# allowed; anything else in <> counts as libc/system, except the thread and event-loop headers that
# the pure libraries (sipparse/, dht/) must not use. A foo_internal.h header may be included only
# from its own folder and from tests/unit/<that folder>/. The table here mirrors STYLE.md; change
# both together.
#
# Usage: scripts/check_layers.sh [REPO_ROOT]   (exit 0: clean, 1: violations, 2: usage error)
set -euo pipefail
set -f # word lists below hold "*"; no globbing anywhere

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root" || exit 2

# module -> project modules it may include (itself included)
declare -A may_mod=(
	[common]="common"
	[net]="common net"
	[sipparse]="common sipparse"
	[dht]="common dht"
	[dataplane]="common net sipparse dht dataplane"
	[control]="common net sipparse dht dataplane control"
	[bench]="common net sipparse dht dataplane control bench"
	[tests]="common net sipparse dht dataplane control bench tests"
)
# module -> library families it may include. common: the allocator wrapper sits on jemalloc
# (STYLE.md section 3). dataplane: workers announce quiescent states (section 4), so liburcu; no
# OpenSSL (the per-datagram MAC, dataplane/dp_mac.c, is our own SipHash; TLS is control's).
declare -A may_lib=(
	[common]="jemalloc"
	[net]=""
	[sipparse]=""
	[dht]="urcu xxhash"
	[dataplane]="dpdk urcu"
	[control]="dpdk urcu openssl"
	[bench]="*"
	[tests]="*"
)
# system headers the pure libraries must not include: they create no threads and run no event loop
declare -A no_sys=(
	[net]="pthread.h threads.h sys/epoll.h poll.h sys/select.h sys/eventfd.h sys/timerfd.h sys/socket.h"
	[sipparse]="pthread.h threads.h sys/epoll.h poll.h sys/select.h sys/eventfd.h sys/timerfd.h"
	[dht]="pthread.h threads.h sys/epoll.h poll.h sys/select.h sys/eventfd.h sys/timerfd.h"
)

lib_of() {
	case "$1" in
	rte_*.h | generic/rte_*.h | dpdk/*) echo dpdk ;;
	urcu.h | urcu-*.h | urcu/*) echo urcu ;;
	xxhash.h | xxh3.h) echo xxhash ;;
	openssl/*) echo openssl ;;
	jemalloc/*) echo jemalloc ;;
	osip2/* | osipparser2/*) echo osip ;;
	*) echo system ;;
	esac
}

in_list() { # word list
	local w
	for w in $2; do
		[[ "$w" == "$1" || "$w" == "*" ]] && return 0
	done
	return 1
}

nfiles=0
nincl=0
nbad=0
bad() {
	echo "$1: $2"
	nbad=$((nbad + 1))
}

while IFS= read -r -d '' f; do
	f="${f#./}"
	nfiles=$((nfiles + 1))
	mod="${f%%/*}"
	if [[ "$mod" == "$f" ]]; then
		bad "$f" "source file at the repo root; every file belongs to a module folder"
		continue
	fi
	if [[ -z "${may_mod[$mod]+x}" ]]; then
		bad "$f" "folder $mod/ is not in the layering table (STYLE.md section 1, scripts/check_layers.sh)"
		continue
	fi
	while IFS= read -r hit; do
		line="${hit%%:*}"
		text="${hit#*:}"
		[[ "$text" =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\"\<])([^\"\>]+)[\"\>] ]] || continue
		kind="${BASH_REMATCH[1]}"
		inc="${BASH_REMATCH[2]}"
		if [[ "$kind" == '"' ]]; then
			where="$f:$line: #include \"$inc\""
		else
			where="$f:$line: #include <$inc>"
		fi
		nincl=$((nincl + 1))

		if [[ "$inc" == *_internal.h ]]; then
			imod="${inc%%/*}"
			if [[ "$mod" != "$imod" && "$f" != tests/unit/"$imod"/* ]]; then
				bad "$where" "an _internal.h header is only for $imod/ and tests/unit/$imod/"
				continue
			fi
		fi
		if [[ "$kind" == '"' ]]; then
			if [[ "$inc" != */* ]]; then
				bad "$where" "use the module path from the repo root, e.g. \"$mod/$inc\""
				continue
			fi
			if [[ "$inc" == ../* || "$inc" == */../* || "$inc" == ./* ]]; then
				bad "$where" "no relative includes; use the module path from the repo root"
				continue
			fi
			imod="${inc%%/*}"
			if [[ -n "${may_mod[$imod]+x}" ]]; then
				in_list "$imod" "${may_mod[$mod]}" ||
					bad "$where" "$mod/ must not include $imod/ (STYLE.md section 1)"
				continue
			fi
		fi
		lib="$(lib_of "$inc")"
		if [[ "$lib" == system ]]; then
			if [[ -n "${no_sys[$mod]+x}" ]] && in_list "$inc" "${no_sys[$mod]}"; then
				bad "$where" "$mod/ is a pure library: no threads or event loops (STYLE.md section 1)"
			fi
			continue
		fi
		in_list "$lib" "${may_lib[$mod]}" ||
			bad "$where" "$mod/ must not use $lib (STYLE.md section 1)"
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f" || true)
done < <(find . \( -path ./.git -o -path './build*' -o -path ./subprojects -o -path ./docs \) -prune \
	-o -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

echo "check_layers: $nfiles files, $nincl includes, $nbad violations"
[[ $nbad -eq 0 ]]
