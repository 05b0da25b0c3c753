#!/usr/bin/env bash
# Writeback benchmark: REPS runs of each variant in ONE boot of the plain
# kernel, medians and ratios against in-tree zram.
# usage: bench.sh [REPS] [PAGES]   (defaults 5, 100001)
# BENCH_VARIANTS: comma separated subset of the variants below.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
pages=${2:-100001}
variants=${BENCH_VARIANTS:-zram,rzram,rzram-noplug,rzram-nocontig,rzram-noplug-nocontig}
bash scripts/setup.sh
ko=$(bash scripts/build-module.sh plain)
log=$(mktemp)
rc=0
RZRAM_APPEND="WB_PAGES=$pages WB_REPS=$reps WB_VARIANTS=$variants WB_VERIFY=0 rzram_timeout=7000" \
RZRAM_QEMU_ARGS="-m 3G" \
	bash scripts/run-tests.sh --kernel plain --module "$ko" --timeout 7200 demo_writeback | tee "$log" || rc=$?
# run-tests.sh names its results file on its "run-tests: logs:" line
res=$(sed -n 's/^run-tests: logs: [^ ]* //p' "$log" | tail -n1)
[ -f "$res" ] || { echo "${0##*/}: no results file" >&2; exit 1; }
echo
echo "command: BENCH_VARIANTS=$variants scripts/bench.sh $reps $pages   (results: $res)"
grep -o 'result: .*' "$res" | awk '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  n[f["variant"]]++; t[f["variant"], n[f["variant"]]] = f["secs"]; order[f["variant"]] = NR }
	function median(v,   k, m, a, i, j, x) {
		m = n[v]; for (i = 1; i <= m; i++) a[i] = t[v, i]
		for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		base = median("zram")
		printf "| variant | runs | median s | zram/variant |\n|---|---|---|---|\n"
		for (v in n) printf "| %s | %d | %.2f | %.1fx |\n", v, n[v], median(v), base / median(v)
	}'
exit $rc
