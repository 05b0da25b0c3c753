#!/usr/bin/env bash
# The main job: install what is missing, build the plain test kernel and
# rzram.ko, boot QEMU, and run the seed writeback scenario on in-tree
# zram0 and on rzram0 in the same boot, printing both times.
# usage: demo.sh [PAGES]   (default 100001, the seed's)
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-100001}
bash scripts/setup.sh
ko=$(bash scripts/build-module.sh plain)
log=$(mktemp)
rc=0
RZRAM_APPEND="WB_PAGES=$pages WB_VARIANTS=zram,rzram WB_VERIFY=1 rzram_timeout=2700" \
RZRAM_QEMU_ARGS="-m 3G" \
	bash scripts/run-tests.sh --kernel plain --module "$ko" --timeout 3000 demo_writeback | tee "$log" || rc=$?
# run-tests.sh names its results file on its "run-tests: logs:" line
res=$(sed -n 's/^run-tests: logs: [^ ]* //p' "$log" | tail -n1)
[ -f "$res" ] || { echo "${0##*/}: no results file" >&2; exit 1; }
echo
echo "== writeback of $((pages - 1)) pages (plain 6.12 kernel, QEMU TCG, same boot) =="
grep -o 'result: .*' "$res" | sed 's/^result: //'
awk '/result: /{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "variant") v = kv[2]; if (kv[1] == "secs") s[v] = kv[2] } }
     END { if (s["zram"] && s["rzram"]) printf "zram / rzram time ratio: %.1fx\n", s["zram"] / s["rzram"] }' "$res"
[ $rc = 0 ] && grep -q '^[0-9]* passed, 0 failed$' "$log"
