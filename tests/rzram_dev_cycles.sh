#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module load/unload cycles with data and writeback.  CYCLES (default 50)
# times: insmod rzram.ko; hot_add a second device (id 1); on one of the
# two (rzram0 in even cycles, rzram1 in odd ones) set the backing device;
# a compression algorithm (each of the seven in turn) and disksize
# 1M on both; write 128 pages of mixed content (random, compressible,
# same-filled; different in each cycle) to each; write pages 0..63 of the
# one with the backing device back (page_indexes=0-63: its 48 pages that
# are not same-filled, exactly, in bd_stat); read both back and compare
# with what was written (the written-back pages come from the backing
# device: bd_reads grows); hot_remove the added device (holding data,
# and in odd cycles the backing device); reset rzram0; rmmod.  Every
# cycle must succeed and verify; the number of cycles run and verified
# is printed.  Afterwards the module loads again, a device works, and it
# unloads; then a kmemleak scan (two scans 6 s apart, as run_guest.sh
# does; the runner scans before this program, see the marker) must
# report no leak.  The report is left for the runner's final scan.
# rzram-kmemleak: scan-before
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
ST=$(dirname "$0")/helpers/stress
KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
CTL=/sys/class/rzram-control
BDEV=$RZRAM_SMALL_DEV
CYCLES=${rzram_cycles:-50}
PAGES=128
LEN=$((PAGES * P))
ALGS=(lzo-rle lzo lz4 lz4hc zstd deflate 842)
LEAKS=/sys/kernel/debug/kmemleak

ktap_plan $((CYCLES + 5))
at_exit '[ ! -e /sys/module/rzram ] || { for r in /sys/block/rzram*/reset; do echo 1 >$r; done; rmmod rzram; }'

# images: NIMG different ones, 128 pages each (rbhelper gen: page kinds
# random, random, compressible, same-filled by page number % 4)
NIMG=4
for ((k = 0; k < 2 * NIMG; k++)); do
	"$RB" gen $PAGES $((RANDOM * 32768 + RANDOM + k + 1)) >"$TMP/img$k"
done
# pages 0..63 not same-filled
WB_PAGES=48
# the writeback succeeds and writes exactly those; the read-back reads
# each of them once from the backing device
WANT_IO="wb=ok bd=$WB_PAGES 0 $WB_PAGES content=ok bd=$WB_PAGES $WB_PAGES $WB_PAGES"

# rd FILE: REPLY = FILE's first line
rd() { REPLY=; read -r REPLY <"$1" 2>/dev/null; }
# fails with a message on stdout
must() { wr "$1" "$2"; [ "$WR" = ok ] || { echo "echo $1 > $2: $WR"; return 1; }; }

# cycle I: one load/use/unload cycle; prints what went wrong
cycle() {
	local i=$1 id wb other a b alg=${ALGS[$1 % 4]}
	insmod "$KO" || { echo "insmod failed: $(dmesg | tail -n 5)"; return 1; }
	[ -b /dev/rzram0 ] || { echo "no /dev/rzram0"; return 1; }
	rd $CTL/hot_add
	id=$REPLY
	[ "$id" = 1 ] || { echo "hot_add gave '$id', not 1"; return 1; }
	[ -b /dev/rzram1 ] || { echo "no /dev/rzram1"; return 1; }
	if ((i % 2)); then wb=1 other=0; else wb=0 other=1; fi
	must $BDEV /sys/block/rzram$wb/backing_dev || return 1
	for d in 0 1; do
		must $alg /sys/block/rzram$d/comp_algorithm && must 1M /sys/block/rzram$d/disksize || return 1
	done
	a=$TMP/img$((i % NIMG)) b=$TMP/img$((NIMG + i % NIMG))
	# one process: write both, write back, read both back and compare
	"$ST" cycle /sys/block/rzram$wb page_indexes=0-63 /dev/rzram$wb $a /dev/rzram$other $b >"$TMP/io" 2>&1
	read -r REPLY <"$TMP/io"
	[ "$REPLY" = "$WANT_IO" ] || { echo "I/O: '$(cat "$TMP/io")', not '$WANT_IO'"; return 1; }
	must 1 $CTL/hot_remove || return 1
	[ ! -e /sys/block/rzram1 ] || { echo "rzram1 still there after hot_remove"; return 1; }
	must 1 /sys/block/rzram0/reset || return 1
	rmmod rzram || { echo "rmmod failed"; return 1; }
	[ ! -e /sys/module/rzram ] || { echo "rzram still loaded after rmmod"; return 1; }
	echo "verified"
}

modprobe zsmalloc 2>/dev/null
[ -e /sys/module/rzram ] && rmmod rzram
check "no rzram loaded, kmemleak available ($LEAKS)" \
	test ! -e /sys/module/rzram -a -w $LEAKS
kmsg "cycles"
start=$SECONDS
run=0 verified=0
for ((i = 0; i < CYCLES; i++)); do
	kmsg "cycle $i"
	run=$((run + 1))
	# in this shell (a subshell costs a fork)
	cycle $i >"$TMP/out" 2>&1
	mapfile -t out <"$TMP/out"
	if [ ${#out[@]} -gt 0 ] && [ "${out[-1]}" = verified ]; then
		verified=$((verified + 1))
		ktap_ok "cycle $i: load, hot_add, backing device on rzram$((i % 2)), ${ALGS[i % 4]}, write, writeback, verify, hot_remove, reset, rmmod"
	else
		printf '# %s\n' "${out[@]}"
		ktap_fail "cycle $i"
		# leave no module behind for the next cycle
		if [ -e /sys/module/rzram ]; then
			for r in /sys/block/rzram*/reset; do echo 1 >$r; done 2>/dev/null
			rmmod rzram 2>/dev/null
		fi
	fi
done
diag "$run cycles run, $verified verified, in $((SECONDS - start)) s"
check_eq "cycles run and verified" "$CYCLES $CYCLES" "$run $verified"
kmsg "load again"
check "the module loads again cleanly, rzram0 works" eval \
	"insmod $KO && [ -b /dev/rzram0 ] && attr_write 1M /sys/block/rzram0/disksize &&
	 dd if=$TMP/img0 of=/dev/rzram0 bs=64K oflag=direct status=none && cmp -n $LEN $TMP/img0 /dev/rzram0"
check "reset and rmmod" eval "attr_write 1 /sys/block/rzram0/reset && rmmod rzram"

kmsg "kmemleak scan"
t0=$SECONDS
echo scan >$LEAKS
secs=$((SECONDS - t0))
[ $secs -ge 6 ] || sleep $((6 - secs))
echo scan >$LEAKS
n=$(grep -c '^unreferenced object' $LEAKS)
diag "kmemleak: $n suspected leaks ($((SECONDS - t0)) s)"
[ "$n" = 0 ] || diag_cmd head -n 60 $LEAKS
check_eq "kmemleak: no leak after $CYCLES cycles" 0 "$n"
kmsg "end"
ktap_finish
