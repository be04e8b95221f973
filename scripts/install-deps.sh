#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages in scripts/deps.txt that are not installed yet. Quiet and idempotent:
# when everything is present it asks apt nothing (no network needed). Needs root (or sudo) only
# when something is missing. Used by scripts/test-all.sh and .ci/run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$here/deps.txt")

missing=()
for p in "${pkgs[@]}"; do
	st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
	if [[ "$st" != installed ]]; then
		missing+=("$p")
	fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all ${#pkgs[@]} packages installed"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo -n)
	else
		echo "deps: not root and no sudo; install these by hand: ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
apt_run() {
	# keep apt quiet, but show everything it said when it fails
	if ! "${sudo[@]}" "$@" >"$log" 2>&1; then
		cat "$log" >&2
		return 1
	fi
}
# one retry: a mirror hiccup should not fail a CI run
apt_run apt-get -q update || { sleep 5; apt_run apt-get -q update; }
apt_run apt-get -q install -y --no-install-recommends "${missing[@]}" ||
	{ sleep 5; apt_run apt-get -q install -y --no-install-recommends "${missing[@]}"; }
echo "deps: installed ${#missing[@]} packages"
