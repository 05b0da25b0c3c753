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

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
swap_used() { awk -v d="$1" '$1 == d { print $4 }' /proc/swaps; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# holder_cmd CMD PREFIX SECS: send CMD to the holder, wait for its answer
# (the first new line starting with PREFIX) and print it; if the holder
# dies first (SIGBUS on a failed swap-in), say how on stderr, status 1
holder_cmd() {
	local n
	n=$(wc -l <"$TMP/hold.out")
	echo "$1" >&7
	holder_answered() {
		tail -n +$((n + 1)) "$TMP/hold.out" | grep -q "^$1" || ! kill -0 $HOLDER 2>/dev/null
	}
	wait_until "$3" holder_answered "$2"
	if ! tail -n +$((n + 1)) "$TMP/hold.out" | grep -m1 "^$2"; then
		if kill -0 $HOLDER 2>/dev/null; then
			echo "holder: no answer to $1 in $3 s" >&2
		else
			echo "holder died (its exit status follows)" >&2
		fi
		return 1
	fi
}

swap_run() {
	local drv=$1 backing=$2 mode=$3 dev=/dev/${1}0 s=/sys/block/${1}0 a hp got
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

	# memory made short: huge pages for the bulk, then mlocked memory for
	# the rest, until MemAvailable is PRESSURE_MIB MiB
	sync
	echo 3 >/proc/sys/vm/drop_caches
	a=$(($(meminfo MemAvailable) / 1024))
	hp=$(((a - PRESSURE_MIB - 16) / 2))
	[ $hp -gt 0 ] || hp=0
	echo $hp >/proc/sys/vm/nr_hugepages
	got=$(cat /proc/sys/vm/nr_hugepages)
	a=$(($(meminfo MemAvailable) / 1024))
	BALLOON=
	# a balloon of what is left above PRESSURE_MIB; reclaim meanwhile
	# frees a few MiB more, so top up with at most two more balloons
	local n
	for n in 1 2 3; do
		[ $a -gt $((PRESSURE_MIB + 2)) ] || break
		: >"$TMP/balloon.$n"
		"$RB" balloon $((a - PRESSURE_MIB)) >"$TMP/balloon.$n" 2>&1 &
		BALLOON="$BALLOON $!"
		wait_until 120 grep -q ballooned "$TMP/balloon.$n"
		a=$(($(meminfo MemAvailable) / 1024))
	done
	diag "$drv: $got huge pages reserved, $(cat "$TMP"/balloon.? 2>/dev/null | tr '\n' ' ')MiB mlocked; MemAvailable $a MiB, holder $((HOLD_PAGES / 256)) MiB"
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
	[ -z "$BALLOON" ] || { kill $BALLOON; wait $BALLOON; }
	rm -f "$TMP"/balloon.?
	BALLOON=
	echo 0 >/proc/sys/vm/nr_hugepages
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
