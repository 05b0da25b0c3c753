#!/usr/bin/env bash
# The benchmark (make bench): in-tree zram 6.12 against rzram, and both
# against the raw backing disk, in ONE boot of the plain kernel under QEMU
# (TCG), with the backing disks attached with cache=none.  Cases, each in
# a guest program tests/bench_*.sh (not in TEST_PROGS):
#   raw   fio bounds of the backing disk, and a dd round trip
#   wb    writeback: seed scenario (+ its read-back), compressible idle
#         data, fragmented backing device, batch sizes, design knobs
#   rb    read-back of written-back pages (dd 1M/4K, fio QD1/QD16, buffered)
#   fe    front-end fio, no backing device
#   mem   mm_stat per dataset, slot table bytes per slot
#   swap  swap-in and swapoff of written-back pages
#   pack  packed writeback: uncompressed, one object a block, packed;
#         fragmentation before and after writeback_compact
# Prints a Markdown table per case, writes every raw sample to
# docs/bench-results.json, the report to docs/benchmarks.md and plots to
# docs/*.png (python3-matplotlib, installed with apt-get when missing).
#
# usage: bench.sh            (make bench)           5 repetitions
#        QUICK=1 bench.sh    (make bench QUICK=1)   1 repetition, same sizes
# Environment: BENCH_REPS, BENCH_CASES (comma separated subset of the cases
# above, in that order), BENCH_SEED_PAGES, BENCH_PAGES, BENCH_RAW_MIB,
# BENCH_FIO_IOS, BENCH_FE_MIB, BENCH_SWAP_MIB (see tests/bench_lib.sh),
# RZRAM_DISK_CACHE (default none), BENCH_OUT (default docs).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
quick=${QUICK:-0}
[ "$quick" = 0 ] || quick=1
reps=${BENCH_REPS:-$([ $quick = 1 ] && echo 1 || echo 5)}
cases=${BENCH_CASES:-raw,wb,rb,fe,mem,swap,pack}
cache=${RZRAM_DISK_CACHE:-none}
outdir=${BENCH_OUT:-docs}
start=$(date +%s)

bash scripts/setup.sh
# Debian's python3 (python3-matplotlib is installed for it), not whatever
# python3 comes first on PATH
py=/usr/bin/python3
[ -x $py ] || py=python3
if ! $py -c 'import matplotlib' 2>/dev/null; then
	echo "bench: installing python3-matplotlib for the plots"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-matplotlib
fi
ko=$(bash scripts/build-module.sh plain)

work=$(mktemp -d /tmp/rzram-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -static -O2 -Wall -o "$work/benchtool" scripts/bench/benchtool.c

progs=()
for c in ${cases//,/ }; do
	[ -f tests/bench_$c.sh ] || { echo "bench: no case $c (tests/bench_$c.sh)" >&2; exit 2; }
	progs+=(bench_$c)
done

env=(BENCH_REPS=$reps)
for v in BENCH_SEED_PAGES BENCH_PAGES BENCH_RAW_MIB BENCH_FIO_IOS BENCH_FE_MIB BENCH_SWAP_MIB; do
	[ -n "${!v:-}" ] && env+=("$v=${!v}")
done
cmd="make bench"
[ $quick = 1 ] && cmd="make bench QUICK=1"
extra_env=$(printf '%s ' "${env[@]}" ${BENCH_CASES:+BENCH_CASES=$BENCH_CASES})
case "$extra_env" in "BENCH_REPS=$reps ") ;; *) cmd="$extra_env$cmd" ;; esac

other_qemu=$(pgrep -c qemu-system || true)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log=$work/run.log
rc=0
# the guest's per-program timeout and the whole run's: generous, the full
# run takes about an hour under TCG
# Under multi-threaded TCG the guest now and then dies in early boot (an
# int3 oops while the kernel patches its text, before any program ran);
# boot again then, at most twice.
for attempt in 1 2 3; do
	rc=0
	RZRAM_APPEND="${env[*]} rzram_timeout=7200" \
	RZRAM_QEMU_ARGS="-m 3G" \
	RZRAM_DISK_CACHE=$cache \
	RZRAM_EXTRA_FILES="$work/benchtool" \
		bash scripts/run-tests.sh --kernel plain --module "$ko" --timeout $((600 + reps * 2400)) \
			"${progs[@]}" | tee "$log" || rc=$?
	res=$(sed -n 's/^run-tests: logs: [^ ]* //p' "$log" | tail -n1)
	[ -f "$res" ] || { echo "bench: no results file" >&2; exit 1; }
	grep -q '^RZRAM-RUN-BEGIN' "$res" && break
	echo "bench: the guest died before the programs started (attempt $attempt); booting again"
done
elapsed=$(($(date +%s) - start))

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (plus uncommitted changes)"
$py - "$work/meta.json" <<EOF
import json, sys
json.dump({
    "command": "$cmd",
    "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
    "commit": "$commit",
    "cache": "$cache",
    "host_cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)",
    "host_cpus": $(nproc),
    "qemu": "$(qemu-system-x86_64 --version | head -n1 | awk '{print $4}')",
    "load_before": "$load_before",
    "load_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
    "other_qemu": "$other_qemu at start, $(($(pgrep -c qemu-system || true) - 0)) at the end",
    "elapsed_s": $elapsed,
    "results_log": "$res",
}, open(sys.argv[1], "w"))
EOF
mkdir -p "$outdir"
cp "$res" "$work/results.log"
prc=0
$py scripts/bench/report.py --results "$res" --meta "$work/meta.json" \
	--json "$outdir/bench-results.json" --md "$outdir/benchmarks.md" --plots "$outdir" || prc=$?
echo
echo "bench: $cmd took ${elapsed}s (guest run and build), cache=$cache, results $res"
echo "bench: wrote $outdir/bench-results.json $outdir/benchmarks.md $outdir/bench-*.png"
if [ $rc != 0 ] || [ $prc != 0 ]; then
	echo "bench: FAILED (guest run exit $rc, report exit $prc): see above" >&2
	exit 1
fi
