# Swap-in of written-back pages, for rzram_rb_swap.sh and
# rzram_rb_swapfail.sh (sourced after lib.sh and rb.sh).
#
# swap_run DRV BACKING MODE: DRV (zram or rzram) is the only swap device,
# with BACKING as its backing device.  A holder process (rbhelper hold)
# fills HOLD_PAGES anonymous pages with a pattern (random, random,
# compressible, same-filled in turn) and pages all of them out
# (MADV_PAGEOUT: every page goes to DRV, none is left to chance); then
# every page DRV stores is marked idle and written back while the holder
# still holds them.  Memory is then made short (huge pages reserved, then
# mlocked memory, until PRESSURE_MIB MiB are available, less than the
# holder's), and the holder
# touches and checks every page: each written-back page is swapped in
# from the backing device, and the holder's own pages are swapped out
# again to make room.  MODE "fail": failslab and fail_page_alloc fail
# FI_PROB % of the holder's allocations (task-filter, make-it-fail set
# only while it checks its pages), sleeping and order-0 ones included;
# their counters must show failures injected.  Every page must be right
# and no read may fail.  SWAP_CASES checks per run.
HOLD_PAGES=${rzram_rb_hold_pages:-4096}
PRESSURE_MIB=${rzram_rb_pressure_mib:-8}
FI_PROB=${rzram_rb_fi_prob:-10}
SWAP_CASES=16
# a write to the holder's pipe after it died must fail, not kill us
trap '' PIPE
. "$(dirname "$0")/helpers/pressure.sh"

swap_run() {
	local drv=$1 backing=$2 mode=$3 dev=/dev/${1}0 s=/sys/block/${1}0 a
	local out want0 in0 in1 r0 r1 wbd inj st t0
	S=$s
	kmsg "swap $drv $mode"
	if [ $drv = zram ]; then
		check "$drv: modprobe zram" modprobe zram num_devices=1 || return 1
	else
		check "$drv: insmod rzram.ko" insmod /lib/rzram/rzram.ko || return 1
	fi
	check_blockdev "$drv: $dev is a block device" $dev || return 1
	check "$drv: backing_dev $backing, disksize 256M, mkswap, swapon" eval \
		"attr_write $backing $s/backing_dev && attr_write 256M $s/disksize &&
		 mkswap $dev >/dev/null && swapon $dev" || return 1
	check_eq "$drv: $dev is the only swap device" "$dev" \
		"$(awk 'NR > 1 { print $1 }' /proc/swaps | tr '\n' ' ' | sed 's/ $//')"

	rm -f "$TMP/hold.in" "$TMP/hold.out"
	mkfifo "$TMP/hold.in"
	: >"$TMP/hold.out"
	"$RB" hold $HOLD_PAGES $((RANDOM + 1)) <"$TMP/hold.in" >"$TMP/hold.out" 2>&1 &
	HOLDER=$!
	exec 7>"$TMP/hold.in"
	check "$drv: the holder filled $HOLD_PAGES pages" \
		wait_until 120 grep -q "^filled pages=$HOLD_PAGES" "$TMP/hold.out" || return 1
	t0=$SECONDS
	out=$(holder_cmd pageout swap_kib= 300 2>&1)
	diag "$drv: after MADV_PAGEOUT ($((SECONDS - t0)) s): $out; mm_stat $(cat $s/mm_stat)"
	check_eq "$drv: every page of the holder is in swap (VmSwap)" \
		"swap_kib=$((HOLD_PAGES * 4))" "${out%% *}"
	wr all $s/idle
	check_wr "$drv: idle writeback while the holder holds its pages" ok idle $s/writeback
	wbd=$(field 1 $s/bd_stat)
	# all but the same-filled quarter of the holder's pages (and maybe
	# the swap header)
	check "$drv: the holder's pages are written back ($wbd pages)" \
		test "$wbd" -ge $((HOLD_PAGES * 3 / 4))

	# memory made short (helpers/pressure.sh)
	memory_short
	a=$MEM_AVAIL
	diag "$drv: $MEM_SHORT, holder $((HOLD_PAGES / 256)) MiB"
	check "$drv: memory made short: MemAvailable ($a MiB) < the holder's $((HOLD_PAGES / 256)) MiB" \
		test $a -lt $((HOLD_PAGES / 256))

	t0=$SECONDS
	in0=$(vmstat pswpin)
	r0=$(field 2 $s/bd_stat)
	if [ "$mode" = fail ]; then
		fi_on $FI_PROB
		out=$(holder_cmd verify-fail verified= 900 2>"$TMP/hold.err")
		inj="$(fi_injected failslab) $(fi_injected fail_page_alloc)"
		fi_off
	else
		out=$(holder_cmd verify verified= 900 2>"$TMP/hold.err")
	fi
	in1=$(vmstat pswpin)
	r1=$(field 2 $s/bd_stat)
	memory_release
	diag "$drv: holder: ${out:-$(cat "$TMP/hold.err")}; $((in1 - in0)) swap-ins, $((r1 - r0)) backing reads in $((SECONDS - t0)) s"
	check_eq "$drv: the holder checked every page: none wrong" \
		"verified=$HOLD_PAGES bad=0 first_bad=-1" "$out"
	check "$drv: every written-back page was read back ($((r1 - r0)) >= $wbd - 1)" \
		test $((r1 - r0)) -ge $((wbd - 1))
	check "$drv: swapped in ($((in1 - in0)) >= $HOLD_PAGES)" test $((in1 - in0)) -ge $HOLD_PAGES
	if [ "$mode" = fail ]; then
		diag "$drv: failures injected (failslab fail_page_alloc): $inj"
		check "$drv: failures were injected" test $((${inj% *} + ${inj#* })) -gt 0
	else
		check_eq "$drv: huge pages released" 0 "$(cat /proc/sys/vm/nr_hugepages)"
	fi
	check_eq "$drv: io_stat: no failed read" 0 "$(field 1 $s/io_stat)"
	echo quit >&7 2>/dev/null
	exec 7>&-
	wait $HOLDER
	st=$?
	((st > 128)) && diag "$drv: the holder was killed by SIG$(kill -l $st)"
	check_eq "$drv: the holder exited normally" 0 $st
	check "$drv: swapoff, reset, unload" eval "swapoff $dev && attr_write 1 $s/reset && rmmod $drv"
}
