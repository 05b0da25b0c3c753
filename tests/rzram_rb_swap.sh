#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Swap-in of written-back pages under memory pressure: the in-tree zram
# (baseline, same boot), then rzram, as the only swap device with a
# backing device; a process holds memory with known content, its pages
# are paged out, marked idle and written back while it holds them, then
# it checks every page while memory is short (see helpers/rb_swap.sh).
# rzram-kmemleak: scan-before
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
. "$(dirname "$0")/helpers/rb_swap.sh"
ktap_plan $((2 * SWAP_CASES))
at_exit 'exec 7>&-; kill $HOLDER $BALLOON 2>/dev/null; wait'
at_exit 'echo 0 >/proc/sys/vm/nr_hugepages'
at_exit 'for d in zram rzram; do [ -e /sys/module/$d ] || continue; swapoff /dev/${d}0 2>/dev/null; echo 1 >/sys/block/${d}0/reset; rmmod $d; done'
modprobe zsmalloc 2>/dev/null
[ -e /sys/module/zram ] && rmmod zram
swap_run zram $RZRAM_SMALL_DEV plain || ktap_abort "zram run failed"
swap_run rzram $RZRAM_BACKING_DEV plain || ktap_abort "rzram run failed"
ktap_finish
