#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: install what is needed, build an optimised locus, and run the main
# job. Today locus is its SIP parser (the node, locusd, arrives with the next issue), so the main
# job is the parser benchmark: the same realistic REGISTERs and INVITEs parsed by locus and by
# libosip2 in one run, with ns per message, the ratio and heap allocations per message.
# Usage: bash scripts/run.sh [bench_sipparse options, e.g. --seconds 1 --cpu 1]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-deps.sh
build="${LOCUS_BUILD_ROOT:-$repo}/build-release"
if [[ ! -f "$build/build.ninja" ]]; then
	meson setup "$build" -Dbench=true -Dtests=false -Dbuildtype=release >/dev/null
fi
ninja -C "$build" >/dev/null
exec "$build/bench/bench_sipparse" "$@"
