#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Swap-in of written-back pages under memory pressure while failslab and
# fail_page_alloc fail a share of the swapping-in process's allocations
# (task-filter: only that process, only while it checks its pages):
# the in-tree zram (baseline, same boot: its read-back allocates from a
# bio_set, which cannot fail), then rzram.  No read may fail (a failed
# swap-in is a SIGBUS for the holder) and no page may be wrong; the
# fault-injection counters must show failures were injected.
# See helpers/rb_swap.sh.
# rzram-kmemleak: scan-before
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
. "$(dirname "$0")/helpers/rb_swap.sh"
ktap_plan $((2 * SWAP_CASES))
at_exit 'exec 7>&-; kill $HOLDER $BALLOON 2>/dev/null; wait'
at_exit 'echo 0 >/proc/sys/vm/nr_hugepages'
at_exit 'for d in zram rzram; do [ -e /sys/module/$d ] || continue; swapoff /dev/${d}0 2>/dev/null; echo 1 >/sys/block/${d}0/reset; rmmod $d; done'
at_exit fi_off
[ -w $FI/failslab/probability ] && [ -w $FI/fail_page_alloc/probability ] ||
	ktap_abort "no failslab or fail_page_alloc in $FI (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC)"
modprobe zsmalloc 2>/dev/null
[ -e /sys/module/zram ] && rmmod zram
swap_run zram $RZRAM_SMALL_DEV fail || ktap_abort "zram run failed"
swap_run rzram $RZRAM_BACKING_DEV fail || ktap_abort "rzram run failed"
ktap_finish
