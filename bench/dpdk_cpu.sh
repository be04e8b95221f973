#!/bin/bash
# SPDX-License-Identifier: MIT
#
# CPU per request of one locusd behind a veth pair, at fixed open-loop rates: the quick, repeatable
# measurement behind bench/results/2026-12-07-dpdk-cpu.md (bench/compare --veth does the same for
# every system, with Kamailio, in about 5 minutes; this takes one system and about a minute).
#
# It makes two namespaces joined by a one-queue veth pair as bench/compare --veth does (server end
# 198.18.0.2, locus-bench 198.18.0.1), starts locusd on CPU 1 (DPDK af_packet or af_xdp with a TAP,
# or sockets), registers AORS AORs, then for each rate runs the 50/50 refresh/INVITE mix for
# SECONDS and prints the server's own CPU (utime+stime of /proc/PID/stat) and the whole machine's
# busy time (/proc/stat) per answered request. With STRACE=1 it also counts the server's system
# calls for 5 s at each rate (strace -c -f, bounded by timeout); with PERF=DIR it samples the
# server (perf record -e cpu-clock, 5 s) into DIR/perf-RATE.data. Root only; everything it makes
# goes at exit.
#
# usage: bench/dpdk_cpu.sh BUILD af_xdp|af_packet|sock [adaptive|busy] [RATES] [SECONDS]
# env: AORS (default 20000), STRACE=1, PERF=DIR, VDEV_EXTRA=",devarg=value" appended to the vdev
set -u
BUILD=$(readlink -f "${1:?build dir}")
PMD=${2:?af_xdp, af_packet or sock}
POLL=${3:-adaptive}
RATES=${4:-5000,20000}
SECS=${5:-10}
AORS=${AORS:-20000}
TAG=$$
SRV=lcpu_srv_$TAG
GEN=lcpu_gen_$TAG
WORK=$(mktemp -d /tmp/dpdk_cpu.XXXXXX)
LOCUS=
cleanup() {
	if [ -n "$LOCUS" ]; then
		kill -TERM "$LOCUS" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$LOCUS" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$LOCUS" 2>/dev/null
	fi
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$GEN" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$SRV" && ip netns add "$GEN" || exit 1
ip link add lcs0 address 02:00:00:00:00:02 numtxqueues 1 numrxqueues 1 netns "$SRV" type veth \
	peer name lcg0 address 02:00:00:00:00:01 numtxqueues 1 numrxqueues 1 netns "$GEN" || exit 1
for p in "$SRV lcs0" "$GEN lcg0"; do
	set -- $p
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	ip -n "$1" link set lo up
	ip -n "$1" link set "$2" up
done
ip -n "$GEN" addr add 198.18.0.1/24 dev lcg0

ARGS=(--sip 198.18.0.2:5060 --lsp 198.18.0.2:7400 --admin 127.0.0.1:0 --max-bindings 262144)
case $PMD in
sock)
	ip -n "$SRV" addr add 198.18.0.2/24 dev lcs0
	ARGS+=(--workers 1) ;;
af_packet | af_xdp)
	VDEV=net_af_packet0,iface=lcs0,qpairs=1
	[ "$PMD" = af_xdp ] && VDEV=net_af_xdp0,iface=lcs0,start_queue=0
	VDEV=$VDEV${VDEV_EXTRA:-}
	ARGS+=(--dataplane dpdk --dpdk-tap lctap0 --dpdk-poll "$POLL" --dpdk-args
	       "--lcores 0@1,1@1 --no-huge -m 128 --no-shconf --no-pci --no-telemetry --vdev=$VDEV") ;;
*) echo "bad PMD $PMD" >&2; exit 2 ;;
esac
ip netns exec "$SRV" taskset -c 1 "$BUILD/control/locusd" "${ARGS[@]}" >"$WORK/ready" 2>"$WORK/log" &
LOCUS=$!
for _ in $(seq 200); do grep -q ready "$WORK/ready" 2>/dev/null && break; sleep 0.1; done
if ! grep -q ready "$WORK/ready"; then
	echo "locusd did not start" >&2; cat "$WORK/log" >&2; exit 1
fi

LB=(ip netns exec "$GEN" taskset -c 0 "$BUILD/bench/locus-bench" --quiet --no-progress
    --window 128 --sockets 8 --target 198.18.0.2:5060)
# (the registration resolves the neighbours both ways; its first frames wait for ARP)
timeout 120 "${LB[@]}" --json "$WORK/reg.json" --workload register --aors "$AORS" --seed 1 \
	--count "$AORS" --timeout-ms 4000 --duration 60 >/dev/null || { echo "register failed" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$LOCUS/stat"; }
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
HZ=$(getconf CLK_TCK)
echo "# $(date -u +%FT%TZ) $PMD $POLL, $AORS AORs, ${SECS}s per rate; load $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 -o "dpdk: .*" "$WORK/log" | sed 's/^/# /'
printf '%-8s %9s %9s %8s %8s %9s %9s\n' rate answered errors p50_us p99_us server_us machine_us
for RATE in ${RATES//,/ }; do
	if [ "${STRACE:-0}" = 1 ]; then
		(sleep 2; timeout -s INT 5 strace -c -f -p "$LOCUS" -o "$WORK/strace-$RATE" 2>/dev/null) &
		ST=$!
	fi
	if [ -n "${PERF:-}" ]; then
		(sleep 2; timeout -s INT 7 perf record -q -e cpu-clock -g -p "$LOCUS" \
			-o "$PERF/perf-$PMD-$RATE.data" -- sleep 5 >/dev/null 2>&1) &
		PF=$!
	fi
	t0=$(ticks); m0=$(busy)
	timeout $((SECS + 30)) "${LB[@]}" --json "$WORK/run.json" --mix refresh=1,invite=1 \
		--aors "$AORS" --seed 1 --registered "$AORS" --rate "$RATE" --duration "$SECS" \
		--t1-ms 500 --timeout-ms 2000 >/dev/null
	t1=$(ticks); m1=$(busy)
	python3 - "$WORK/run.json" "$RATE" $((t1 - t0)) $((m1 - m0)) "$HZ" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rate, t, m, hz = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
a = max(r["answered"], 1)
err = r["wrong"] + r["missing"] + r["unsent"] + r["retransmissions"]
print("%-8s %9d %9d %8.0f %8.0f %9.2f %9.2f" % (rate, r["answered"], err, r["latency_us"]["p50"],
      r["latency_us"]["p99"], t / hz * 1e6 / a, m / hz * 1e6 / a))
EOF
	if [ "${STRACE:-0}" = 1 ]; then
		wait "$ST"
		echo "## strace -c -f, 5 s at $RATE/s"
		head -n 20 "$WORK/strace-$RATE"
	fi
	[ -n "${PERF:-}" ] && wait "$PF"
done
