#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: install what is needed, build an optimised locus, and run the main
# job: one locus node on loopback in socket mode (no NIC, no hugepages), in the foreground until
# Ctrl-C. It prints where to send SIP and LSP and lines to paste in another terminal to try it.
# Extra arguments go to locusd (e.g. --domain example.com --workers 1; see locusd --help).
# Usage: bash scripts/run.sh [locusd flags]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-deps.sh
build="${LOCUS_BUILD_ROOT:-$repo}/build-release"
if [[ ! -f "$build/build.ninja" ]]; then
	meson setup "$build" -Dbuildtype=release -Dbench=true >/dev/null
fi
ninja -C "$build" >/dev/null

sip="${LOCUS_SIP:-127.0.0.1:5060}"
lsp="${LOCUS_LSP:-127.0.0.1:7400}"
admin="${LOCUS_ADMIN:-}" # empty: the node's default admin socket, which locusctl finds from --lsp
admin_flag=()
if [[ -n "$admin" ]]; then
	admin_flag=(--admin "$admin")
fi
ctl="$build/control/locusctl --lsp $lsp${admin:+ --admin $admin}"
cat <<EOT
locus: starting one node on loopback (SIP udp $sip, LSP udp $lsp, admin ${admin:-unix socket}).
Try it from another terminal:
  $ctl publish sip:alice@example.com sip:alice@192.0.2.10:5060 600
  $ctl lookup sip:alice@example.com
  $ctl stats
  sipp -sf $repo/tests/sipp/register.xml -s alice -m 1 -p 5070 $sip   # REGISTER sip:alice1@example.com
  $ctl lookup sip:alice1@example.com
  $build/bench/locus-bench --target $sip --aors 100000   # load: 100k new REGISTERs, every answer checked
Stop it with Ctrl-C.
EOT
exec "$build/control/locusd" --sip "$sip" --lsp "$lsp" "${admin_flag[@]}" "$@"
