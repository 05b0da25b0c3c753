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
RZRAM_APPEND="WB_PAGES=$pages WB_VARIANTS=zram,rzram WB_VERIFY=1 rzram_timeout=2700" \
RZRAM_QEMU_ARGS="-m 3G" \
	bash scripts/run-tests.sh --kernel plain --module "$ko" --timeout 3000 demo_writeback | tee "$log"
res=$(ls -td "${RZRAM_CACHE:-/var/cache/rzram}"/logs/*-plain | head -1)/results.log
echo
echo "== writeback of $((pages - 1)) pages (plain 6.12 kernel, QEMU TCG, same boot) =="
grep -o 'result: .*' "$res" | sed 's/^result: //'
awk '/result: /{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "variant") v = kv[2]; if (kv[1] == "secs") s[v] = kv[2] } }
     END { if (s["zram"] && s["rzram"]) printf "zram / rzram time ratio: %.1fx\n", s["zram"] / s["rzram"] }' "$res"
grep -q '^[0-9]* passed, 0 failed$' "$log"
