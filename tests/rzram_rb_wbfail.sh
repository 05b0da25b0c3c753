#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Writeback when allocations fail, at every allocation it makes: the
# in-tree zram (baseline, same boot), then rzram.
#
# 16 random pages (huge), writeback_limit enabled (budget 1000), rzram
# with batch size 4 (so a writeback takes several rounds of fill, submit
# and reap).  The backing device is a slow null_blk (memory-backed,
# requests of at most 4 KiB, so a batch's pages cannot merge into one,
# one request at a time, each completing 10 ms after it started), so
# while the task refills a request, the others of its batch are still in
# flight: an early exit there has in-flight requests to reap.  For N = 1, 2, ...: the Nth fault-injection point of the
# task writing "huge" to `writeback` fails (/proc/self/task/TID/fail-nth,
# through rbhelper wbsweep, which runs the whole sweep without forking; failslab and fail_page_alloc count sleeping
# and order-0 allocations, silently).  Whatever the writeback returns,
# afterwards:
#	- bd_count is exactly the number of pages written back (16 minus
#	  the huge pages still resident): no block leaked by an early exit;
#	- writeback_limit is exactly 1000 minus that: every charge of a
#	  page not written back was refunded;
#	- a second `huge` writeback (no failure) succeeds and writes every
#	  remaining page: no slot was left UNDER_WB;
#	- the content is intact; rewriting the pages releases every block
#	  (bd_count 0).
# The sweep ends at the first N that was never reached (the writeback
# made fewer than N allocations): every allocation of the writeback path
# has then failed once.  Some of them must have made the writeback fail.
# The kernel log must stay clean too: note that kmem_cache_create dumps a
# stack when it fails, and 6.12's sysfs_slab_add then leaks the cache's
# kobject name (kmemleak), so a writeback that creates a slab cache per
# run (a bio_set set up per run does) fails here through the runner's
# kernel-log and kmemleak checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
NP=16
MAXN=${rzram_rb_maxn:-600}
CASES=14

ktap_plan $((2 * CASES + 2))
at_exit fi_off
at_exit '[ ! -e /sys/module/null_blk ] || rmmod null_blk'
at_exit '[ ! -e /sys/module/zram ] || { echo 1 >/sys/block/zram0/reset; rmmod zram; }'
at_exit '[ ! -e /sys/module/rzram ] || { echo 1 >/sys/block/rzram0/reset; rmmod rzram; }'
[ -w $FI/failslab/probability ] && [ -w $FI/fail_page_alloc/probability ] ||
	ktap_abort "no failslab or fail_page_alloc in $FI (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC)"
modprobe zsmalloc 2>/dev/null
[ -e /sys/module/zram ] && rmmod zram
[ -e /sys/module/null_blk ] && rmmod null_blk
check "slow backing device: null_blk, memory-backed, 4 KiB requests, queue depth 1, 10 ms each" \
	modprobe null_blk nr_devices=1 gb=1 bs=4096 memory_backed=1 irqmode=2 \
	completion_nsec=10000000 submit_queues=1 hw_queue_depth=1 max_sectors=8 ||
	ktap_abort "no null_blk"
check_blockdev "/dev/nullb0 is a block device" /dev/nullb0 || ktap_abort "no /dev/nullb0"
head -c $((NP * P)) /dev/urandom >"$TMP/img"
want=$(sha256 "$TMP/img")

# sweep DRV BACKING
sweep() {
	local drv=$1 dev=/dev/${1}0 last failed bad_bd bad_lim bad_second bad_content bad_release
	S=/sys/block/${drv}0
	kmsg "sweep $drv"
	if [ $drv = zram ]; then
		check "$drv: modprobe zram" modprobe zram num_devices=1 || return 1
	else
		check "$drv: insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || return 1
	fi
	check_blockdev "$drv: $dev is a block device" $dev || return 1
	check "$drv: backing_dev $2, disksize 1M, limit enabled" eval "attr_write $2 $S/backing_dev &&
		attr_write 1M $S/disksize &&
		{ [ $drv = zram ] || attr_write 4 $S/writeback_batch_size; } &&
		attr_write 1 $S/writeback_limit_enable && attr_write 1000 $S/writeback_limit &&
		dd if=$TMP/img of=$dev bs=64K oflag=direct status=none" || return 1
	check_eq "$drv: $NP huge pages stored, nothing written back" "$NP 0 0 0" \
		"$(field 8 $S/mm_stat) $(bd)"
	# probability 0: only fail-nth injects
	fi_on 0
	"$RB" wbsweep $dev $S "$TMP/img" $MAXN >"$TMP/sweep.$drv"
	fi_off
	last=$(sed -n 's/^end n=//p' "$TMP/sweep.$drv")
	[ "$last" = none ] && last=
	# count the runs that break each rule, show the first few of each
	awk -v np=$NP -v drv=$drv '
	/^n=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		res[v["ret"]]++
		if (v["ret"] != "ok") failed++
		w = np - v["hp"]
		if (v["bd"] != w) { bad_bd++; if (bad_bd <= 5) print "# " drv ": bd_count " v["bd"] ", " w " pages written back: " $0 }
		if (v["lim"] != 1000 - w) { bad_lim++; if (bad_lim <= 5) print "# " drv ": writeback_limit: " $0 }
		if (v["ret2"] != "ok" || v["bd2"] != np || v["hp2"] != 0 || v["lim2"] != 1000 - np) {
			bad_second++; if (bad_second <= 5) print "# " drv ": second writeback: " $0 }
		if (v["content"] != "ok") { bad_content++; if (bad_content <= 5) print "# " drv ": content: " $0 }
		if (v["rel"] != 0) { bad_release++; if (bad_release <= 5) print "# " drv ": release: " $0 }
	}
	END {
		printf "# %s: writeback results:", drv
		for (r in res) printf " %s x%d", r, res[r]
		print ""
		print "COUNTS", failed + 0, bad_bd + 0, bad_lim + 0, bad_second + 0, bad_content + 0, bad_release + 0
	}' "$TMP/sweep.$drv" >"$TMP/sweep.$drv.sum"
	grep '^#' "$TMP/sweep.$drv.sum"
	read -r _ failed bad_bd bad_lim bad_second bad_content bad_release < <(grep '^COUNTS' "$TMP/sweep.$drv.sum")
	diag "$drv: fault points: $((${last:-$MAXN + 1} - 1))"
	check "$drv: the sweep reached a run with no fault point left (N <= $MAXN)" test -n "$last"
	check "$drv: the sweep injected failures" test "${last:-$MAXN}" -gt 1 -a -s "$TMP/sweep.$drv"
	check "$drv: some injected failures made the writeback fail ($failed)" test $failed -gt 0
	check_eq "$drv: bd_count == pages written back after every failed run" 0 $bad_bd
	check_eq "$drv: writeback_limit exact after every failed run" 0 $bad_lim
	check_eq "$drv: a second writeback wrote every page back after every run (none stuck UNDER_WB)" 0 $bad_second
	check_eq "$drv: content intact after every run" 0 $bad_content
	check_eq "$drv: every block released when the pages are rewritten" 0 $bad_release
	check_eq "$drv: content" "$want" "$(dd if=$dev bs=64K count=1 iflag=direct status=none | sha256sum | cut -d" " -f1)"
	check "$drv: reset, unload" eval "attr_write 1 $S/reset && rmmod $drv"
}
sweep zram /dev/nullb0 || ktap_abort "zram setup failed"
sweep rzram /dev/nullb0 || ktap_abort "rzram setup failed"
ktap_finish
