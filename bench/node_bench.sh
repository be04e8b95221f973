#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One node's benchmark (issue 3): REGISTER/s for new AORs and for refreshes, INVITE->302/s, the
# node's own CPU time per request (utime+stime from /proc, so the generator's share is not
# counted), and bytes per binding at 1M bindings (RSS delta and the store's own accounting).
#
# How it runs: a release locusd on 127.0.0.1 pinned to CPU 1, sip_load pinned to CPU 0 (on this
# 2-core machine they share nothing but the kernel), one phase after another on the same node:
# register N new AORs, refresh them, INVITE random ones. Then a second node with --workers 2 (both
# cores, shared with the generator) for comparison. Every process it starts is stopped by PID.
#
# Usage: bash bench/node_bench.sh [AORS (default 1000000)] [WINDOW (default 128)]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LOCUS_BUILD_ROOT:-$repo}/build-release"
aors="${1:-1000000}"
window="${2:-128}"
if [[ ! -f "$build/build.ninja" ]]; then
	meson setup "$build" -Dbuildtype=release -Dbench=true >/dev/null
fi
ninja -C "$build" >/dev/null
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

run_node() { # workers cpus
	local workers="$1" cpus="$2"
	taskset -c "$cpus" "$build/control/locusd" --sip 127.0.0.1:0 --lsp 127.0.0.1:0 \
		--admin 127.0.0.1:0 --workers "$workers" --max-bindings $((aors + aors / 4)) \
		>"$tmp/ready" 2>"$tmp/log" &
	pid=$!
	for _ in $(seq 50); do grep -q ready "$tmp/ready" && break; sleep 0.1; done
	sip=$(sed -n 's/.*sip=\([^ ]*\).*/\1/p' "$tmp/ready")
	admin=$(sed -n 's/.*admin=\([^ ]*\).*/\1/p' "$tmp/ready")
}

phase() { # name sip_load args...
	local name="$1"
	shift
	local c0 c1 out
	c0=$(ticks "$pid")
	out=$(taskset -c 0 "$build/bench/sip_load" --target "$sip" --window "$window" "$@")
	c1=$(ticks "$pid")
	local n rate p50 p99 lost
	n=$(sed -n 's/.*"answered":\([0-9]*\).*/\1/p' <<<"$out")
	rate=$(sed -n 's/.*"rate":\([0-9]*\).*/\1/p' <<<"$out")
	p50=$(sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p' <<<"$out")
	p99=$(sed -n 's/.*"p99_us":\([0-9.]*\).*/\1/p' <<<"$out")
	lost=$(sed -n 's/.*"lost":\([0-9]*\).*/\1/p' <<<"$out")
	local us_per_req
	us_per_req=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.2f", t/hz*1e6/n}')
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$workers_now" "$rate" "$us_per_req" \
		"$p50" "$p99" "$lost"
}

tmp=$(mktemp -d)
echo "# node benchmark, $(date -u +%Y-%m-%d), $(nproc) CPUs: $(lscpu | sed -n 's/^Model name: *//p')"
echo "command: bash bench/node_bench.sh $aors $window"
echo
echo "| phase | workers | requests/s | node CPU us/request | p50 us | p99 us | lost |"
echo "|---|---|---|---|---|---|---|"
for workers_now in 1 2; do
	cpus=1
	[[ $workers_now -eq 2 ]] && cpus=0,1
	run_node "$workers_now" "$cpus"
	rss0=$(rss_kb "$pid")
	phase "REGISTER new AORs" --mode register --aors "$aors"
	rss1=$(rss_kb "$pid")
	stats=$("$build/control/locusctl" --admin "$admin" stats)
	phase "REGISTER refresh" --mode refresh --aors "$aors" --cseq 2
	phase "INVITE -> 302" --mode invite --aors "$aors" --count "$aors"
	if [[ $workers_now -eq 1 ]]; then
		mem_line=$(/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])["total"]["store"]
rss = (int(sys.argv[2]) - int(sys.argv[3])) * 1024
print("bindings %d: RSS delta %.0f B/binding, store accounting %.0f B/binding" % (
    d["bindings"], rss / d["bindings"], d["bytes_used"] / d["bindings"]))
' "$stats" "$rss1" "$rss0")
	fi
	kill "$pid"
	wait "$pid" || true
	pid=""
done
echo
echo "memory at $aors bindings (1 worker): $mem_line"
rm -rf "$tmp"
