#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Grep the fast-path files listed in scripts/fastpath.list for calls STYLE.md section 4 forbids
# there: allocation, stdio output (snprintf is fine: it formats into a caller's buffer), locks,
# sleeping, clocks, logging, file and socket I/O, and synchronize_rcu.
#
# How it works: comments, string literals and character literals are blanked out first (newlines
# kept, so line numbers stay right), then each forbidden name is matched as a whole identifier
# followed by '(' and not preceded by '.' or '->' (an ops-table member such as io->read( is not a
# libc call). A line whose original text carries the marker "fastpath-ok:" followed by a reason
# is exempt; use it sparingly and say why.
#
# Usage: scripts/check_fastpath.sh [REPO_ROOT]   (exit 0: clean, 1: violations, 2: setup error)
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root" || exit 2
list=scripts/fastpath.list

forbidden='malloc|calloc|realloc|reallocarray|free|aligned_alloc|posix_memalign|strdup|strndup'
forbidden+='|printf|fprintf|vprintf|vfprintf|dprintf|vdprintf|sprintf|vsprintf|asprintf|vasprintf'
forbidden+='|puts|fputs|putchar|fputc|perror|syslog|vsyslog'
forbidden+='|pthread_mutex_[a-z_]+|pthread_spin_[a-z_]+|pthread_rwlock_[a-z_]+|pthread_cond_[a-z_]+'
forbidden+='|sleep|usleep|nanosleep|clock_nanosleep|clock_gettime|gettimeofday|time'
forbidden+='|fopen|fread|fwrite|open|read|write|readv|writev'
forbidden+='|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg'
forbidden+='|synchronize_rcu|synchronize_rcu_[a-z_]+|urcu_[a-z]+_synchronize_rcu'

[[ -f "$list" ]] || { echo "check_fastpath: $list missing"; exit 2; }

files=()
nbad=0
shopt -s nullglob
while IFS= read -r pat; do
	pat="${pat%%#*}"
	pat="${pat//[[:space:]]/}"
	[[ -z "$pat" ]] && continue
	# shellcheck disable=SC2206 # the glob is meant to expand
	matched=($pat)
	if [[ ${#matched[@]} -eq 0 ]]; then
		echo "$list: '$pat' matches no file"
		nbad=$((nbad + 1))
	fi
	files+=("${matched[@]}")
done <"$list"
shopt -u nullglob

for f in "${files[@]}"; do
	# blank comments and literals, keeping newlines; then report forbidden calls with line numbers
	out="$(perl -0777 -ne '
		s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'"'"'(?:\\.|[^'"'"'\\\n])*'"'"')}{ (my $m = $1) =~ s/[^\n]/ /g; $m }gse;
		print;
	' "$f" | grep -nP "(?<![\w.>])(?:$forbidden)\s*\(" || true)"
	[[ -z "$out" ]] && continue
	while IFS= read -r hit; do
		line="${hit%%:*}"
		if sed -n "${line}p" "$f" | grep -q 'fastpath-ok:'; then
			continue
		fi
		call="$(grep -oP "(?<![\w.>])(?:$forbidden)(?=\s*\()" <<<"${hit#*:}" | head -n1)"
		echo "$f:$line: $call() on the fast path (STYLE.md section 4): $(sed -n "${line}p" "$f" | sed 's/^[[:space:]]*//')"
		nbad=$((nbad + 1))
	done <<<"$out"
done

echo "check_fastpath: ${#files[@]} files, $nbad violations"
[[ $nbad -eq 0 ]]
