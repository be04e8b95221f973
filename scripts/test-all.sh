#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build and test locus the way CI does (STYLE.md section 8), on a developer's machine or in CI.
#
# Jobs, each in its own build directory (build-ci-<job>/ at the repo root, gitignored; set
# LOCUS_BUILD_ROOT to put them elsewhere):
#   gcc     gcc, werror: build everything, run every meson test suite except lint; the only job
#           that runs suite 'dpdk' (the single-node integration tests again with each node in a
#           network namespace: netns-sock, and --dataplane dpdk over net_af_packet and
#           net_af_xdp on a veth pair, plus the mixed DPDK/socket ring; root, and under
#           CI=true a locusd that cannot run DPDK fails them)
#   nodpdk  gcc with -Ddpdk=disabled, unit suite (only once meson_options.txt has a dpdk option)
#   asan    clang with ASan+UBSan: unit, stress and integration suites (suites not yet defined are
#           ignored) but not 'secured' (the ring tests again on secured rings: once, in gcc;
#           test_security itself runs here too), nor 'dpdk' (once, in gcc: busy-polling lcores
#           are slow under ASan, and the tests' scenarios already run here on sockets), nor
#           'slow' (the minutes-long fault scenarios: partition, ring, failover, stale writes;
#           once, in gcc); UBSan halts on the first error, LeakSanitizer is on
#   lint    meson's clang-format-check, scripts/check_layers.sh, scripts/check_fastpath.sh
#   fuzz    clang -Dfuzz=true: each libFuzzer target for its share of FUZZ_SECONDS (default 60),
#           seeded from a temporary copy of its corpus; any crash fails the job and is kept
#           under build-ci-fuzz/artifacts/
#
# Counting: every meson test is one test (meson's testlog.json gives OK, FAIL, SKIP, ...), and
# every lint check, every fuzz target and every configure or build step that fails is one more.
# The last two lines are "K skipped" and "N passed, M failed"; the exit status is 0 only when
# M is 0.
#
# Usage: bash scripts/test-all.sh [JOB...]        (default: all jobs)
# Environment: FUZZ_SECONDS (60), LOCUS_BUILD_ROOT (repo root), LOCUS_SKIP_DEPS=1 (no apt).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit 2
build_root="${LOCUS_BUILD_ROOT:-$repo}"
fuzz_seconds="${FUZZ_SECONDS:-60}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/locus-test-all.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'echo "test-all: interrupted"; exit 130' INT TERM

has_option() { grep -q "option('$1'" "$repo/meson_options.txt"; }

all_jobs=(gcc)
has_option dpdk && all_jobs+=(nodpdk)
all_jobs+=(asan lint fuzz)
if [[ $# -gt 0 ]]; then
	jobs_to_run=("$@")
else
	jobs_to_run=("${all_jobs[@]}")
fi

declare -A jp jf js # per job: passed, failed, skipped
total_p=0
total_f=0
total_s=0
failures=()

count() { # job passed failed skipped
	jp[$1]=$((${jp[$1]:-0} + $2))
	jf[$1]=$((${jf[$1]:-0} + $3))
	js[$1]=$((${js[$1]:-0} + $4))
}

banner() {
	echo
	echo "=== $* ==="
}

# Run a command with its output in a log that is shown when it fails. Returns its status.
run_logged() { # job name cmd...
	local job="$1" name="$2"
	shift 2
	local log="$tmp/$job-${name//[^a-zA-Z0-9_-]/_}.log" rc=0
	"$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -eq 0 ]]; then
		return 0
	fi
	echo "FAIL  $job: $name (exit $rc; last 60 lines of its output follow)"
	tail -n 60 "$log" | sed 's/^/      | /'
	return $rc
}

# A check that counts as one test: passed or failed.
step() { # job name cmd...
	if run_logged "$@"; then
		echo "PASS  $1: $2"
		count "$1" 1 0 0
		return 0
	fi
	count "$1" 0 1 0
	failures+=("$1: $2")
	return 1
}

# A configure or build step: not a test when it works, one failed test when it does not.
build_step() { # job name cmd...
	if run_logged "$@"; then
		echo "ok    $1: $2"
		return 0
	fi
	count "$1" 0 1 0
	failures+=("$1: $2")
	return 1
}

# Configure (or reconfigure) and build; a failure skips the job's tests.
setup_build() { # job dir cc meson-options...
	local job="$1" dir="$2" cc="$3"
	shift 3
	configure "$job" "$dir" "$cc" "$@" || return 1
	build_step "$job" "build" ninja -C "$dir"
}

configure() { # job dir cc meson-options...
	local job="$1" dir="$2" cc="$3"
	shift 3
	if [[ -f "$dir/meson-private/coredata.dat" ]]; then
		# options may differ from the last run; if reconfiguring fails, start over
		if run_logged "$job" "meson setup --reconfigure" \
			env CC="$cc" meson setup --reconfigure "$dir" "$@"; then
			echo "ok    $job: meson setup --reconfigure"
			return 0
		fi
		build_step "$job" "meson setup --wipe" env CC="$cc" meson setup --wipe "$dir" "$@"
		return
	fi
	build_step "$job" "meson setup" env CC="$cc" meson setup "$dir" "$@"
}

# Run meson test and count its results from testlog.json, which meson rewrites on every run that
# finds tests (and leaves alone when none match, hence the rm).
meson_tests() { # job dir meson-test-args...
	local job="$1" dir="$2"
	shift 2
	local testlog="$dir/meson-logs/testlog.json"
	rm -f "$testlog"
	meson test -C "$dir" --print-errorlogs "$@"
	local rc=$?
	local p=0 f=0 s=0
	if [[ -f "$testlog" ]]; then
		# counts on stdout; each failed test's name and the end of its output into a file
		# that the summary prints, so the last screen of a CI log says what failed and why
		read -r p f s < <(python3 - "$testlog" "$tmp/failed-$job.txt" <<'EOF'
import json, sys
p = f = s = 0
tail = 40
with open(sys.argv[1], encoding="utf-8", errors="replace") as log, \
        open(sys.argv[2], "a", encoding="utf-8") as failed:
    for line in log:
        line = line.strip()
        if not line:
            continue
        test = json.loads(line)
        result = test.get("result", "ERROR")
        if result in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif result == "SKIP":
            s += 1
        else:  # FAIL, ERROR, TIMEOUT, UNEXPECTEDPASS, INTERRUPT
            f += 1
            out = ((test.get("stdout") or "") + (test.get("stderr") or "")).splitlines()
            failed.write("--- %s: %s after %.0fs; its last %d lines:\n"
                         % (test.get("name", "?"), result, test.get("duration", 0), tail))
            failed.writelines("    %s\n" % l for l in out[-tail:])
print(p, f, s)
EOF
		)
	fi
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		# meson itself failed (bad arguments, a test that could not start): count it
		echo "FAIL  $job: meson test exited $rc without a failed test in testlog.json"
		f=1
	fi
	count "$job" "$p" "$f" "$s"
	if [[ $f -gt 0 ]]; then
		failures+=("$job: $f meson test(s), see $dir/meson-logs/testlog.txt")
	fi
	if [[ $((p + f + s)) -eq 0 ]]; then
		echo "NOTE  $job: no tests matched ($*)"
	fi
}

job_gcc() {
	local dir="$build_root/build-ci-gcc"
	local opts=(-Dwerror=true -Dtests=true)
	[[ -f bench/meson.build ]] && opts+=(-Dbench=true) # build the benchmarks, never run them
	setup_build gcc "$dir" gcc "${opts[@]}" || return
	meson_tests gcc "$dir" --no-suite lint
}

job_nodpdk() {
	local dir="$build_root/build-ci-nodpdk"
	setup_build nodpdk "$dir" gcc -Dwerror=true -Ddpdk=disabled || return
	meson_tests nodpdk "$dir" --suite unit
}

job_asan() {
	local dir="$build_root/build-ci-asan"
	local opts=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false)
	has_option jemalloc && opts+=(-Djemalloc=disabled) # ASan must see every allocation
	[[ -f bench/meson.build ]] && opts+=(-Dbench=true)  # test_bench runs locus-bench under ASan too
	setup_build asan "$dir" clang "${opts[@]}" || return
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
		meson_tests asan "$dir" --timeout-multiplier 3 \
		--suite unit --suite stress --suite integration --no-suite secured --no-suite dpdk \
		--no-suite slow
}

job_lint() {
	local dir="$build_root/build-ci-lint"
	# clang-format-check needs a configured tree, not a build
	if configure lint "$dir" cc -Dtests=false; then
		if ! step lint "clang-format-check" ninja -C "$dir" clang-format-check; then
			echo "      files and lines clang-format would change (fix: ninja -C $dir clang-format):"
			grep -E ':[0-9]+:[0-9]+: error: code should be clang-formatted' \
				"$tmp/lint-clang-format-check.log" | cut -d: -f1 | sort | uniq -c |
				sed "s|$repo/||; s/^/      /"
		fi
	fi
	step lint "check_layers" bash scripts/check_layers.sh "$repo"
	step lint "check_fastpath" bash scripts/check_fastpath.sh "$repo"
}

# One libFuzzer target for a bounded time; a crash, leak, timeout or OOM fails it.
run_fuzzer() { # dir target seconds seed-files...
	local dir="$1" t="$2" secs="$3"
	shift 3
	local corpus="$tmp/corpus-$t" art="$dir/artifacts/$t"
	mkdir -p "$corpus" "$art"
	[[ $# -gt 0 ]] && cp -- "$@" "$corpus/"
	local extra=()
	[[ "$t" == fuzz_sipparse ]] && extra+=(-max_len=10000)
	# a target's own dictionary (tests/fuzz/<name>.dict) when it has one, else the SIP one
	local dict="tests/fuzz/${t#fuzz_}.dict"
	[[ -f "$dict" ]] || dict=tests/fuzz/sip.dict
	echo "fuzz: $t for ${secs}s, seeds: $# files, dict: $dict, artifacts: $art"
	timeout -k 10 $((secs + 300)) "$dir/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -dict="$dict" \
		-artifact_prefix="$art/" "${extra[@]}" "$corpus"
	local rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "fuzz: $t failed (exit $rc). Inputs kept:"
		ls -1 "$art"
		echo "Reproduce: $dir/tests/fuzz/$t FILE (ASan+UBSan), $dir/tests/fuzz/replay_${t#fuzz_} FILE"
	fi
	return $rc
}

job_fuzz() {
	local dir="$build_root/build-ci-fuzz"
	setup_build fuzz "$dir" clang -Dfuzz=true -Dtests=false || return
	local targets=(fuzz_sipparse fuzz_uri fuzz_lsp fuzz_auth fuzz_tls fuzz_net)
	local secs=$((fuzz_seconds / ${#targets[@]}))
	[[ $secs -lt 1 ]] && secs=1
	shopt -s nullglob
	local sip_seeds=(tests/data/sip/*.sip) uri_seeds=(tests/fuzz/corpus_uri/*)
	local lsp_seeds=(tests/fuzz/corpus_lsp/* tests/data/lsp/*.lsp)
	local auth_seeds=(tests/fuzz/corpus_auth/*) tls_seeds=(tests/fuzz/corpus_tls/*)
	local net_seeds=(tests/fuzz/corpus_net/*)
	shopt -u nullglob
	step fuzz fuzz_sipparse run_fuzzer "$dir" fuzz_sipparse "$secs" "${sip_seeds[@]}"
	step fuzz fuzz_uri run_fuzzer "$dir" fuzz_uri "$secs" "${uri_seeds[@]}"
	step fuzz fuzz_lsp run_fuzzer "$dir" fuzz_lsp "$secs" "${lsp_seeds[@]}"
	step fuzz fuzz_auth run_fuzzer "$dir" fuzz_auth "$secs" "${auth_seeds[@]}"
	step fuzz fuzz_tls run_fuzzer "$dir" fuzz_tls "$secs" "${tls_seeds[@]}"
	step fuzz fuzz_net run_fuzzer "$dir" fuzz_net "$secs" "${net_seeds[@]}"
}

if [[ "${LOCUS_SKIP_DEPS:-0}" != 1 ]]; then
	if ! bash scripts/install-deps.sh; then
		echo "test-all: installing dependencies failed; trying with what is installed"
	fi
fi

start=$SECONDS
for job in "${jobs_to_run[@]}"; do
	if ! declare -F "job_$job" >/dev/null; then
		echo "test-all: unknown job '$job' (jobs: ${all_jobs[*]})"
		count "$job" 0 1 0
		failures+=("$job: unknown job")
		continue
	fi
	banner "job $job"
	t0=$SECONDS
	"job_$job"
	echo "--- job $job: ${jp[$job]:-0} passed, ${jf[$job]:-0} failed," \
		"${js[$job]:-0} skipped ($((SECONDS - t0))s)"
done

banner "summary ($((SECONDS - start))s)"
for job in "${jobs_to_run[@]}"; do
	printf '%-8s %4d passed %4d failed %4d skipped\n' "$job" "${jp[$job]:-0}" "${jf[$job]:-0}" \
		"${js[$job]:-0}"
	total_p=$((total_p + ${jp[$job]:-0}))
	total_f=$((total_f + ${jf[$job]:-0}))
	total_s=$((total_s + ${js[$job]:-0}))
done
for job in "${jobs_to_run[@]}"; do
	[[ -s "$tmp/failed-$job.txt" ]] && cat "$tmp/failed-$job.txt"
done
for f in "${failures[@]}"; do
	echo "failed: $f"
done
echo "$total_s skipped"
echo "$total_p passed, $total_f failed"
[[ $total_f -eq 0 ]]
