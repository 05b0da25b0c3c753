#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stress with verification: everything at once on one rzram device with a
# backing device ($RZRAM_SMALL_DEV, 64 MiB), for about STRESS_SECS seconds
# in all (default 90: two thirds for part 1, one third for part 2).
#
# Part 1: a 32 MiB rzram0 (8192 pages), laid out as
#	pages    0..2047  two checker processes (helpers/stress check), 1024
#	                  pages each: every page stamped with its index and a
#	                  generation; random runs of 1..32 pages written, runs
#	                  of 1..64 read back and compared, runs of 1..16
#	                  discarded (BLKDISCARD) and read back as zeroes
#	pages 2048..2111  the maintenance loop: writes a pattern, reads it
#	                  back, blkdiscards one half, reads back zeroes there
#	                  and the pattern in the other half, marks every page
#	                  idle (echo all > idle), compacts
#	pages 2112..2623  written once (a file image); a reader compares
#	                  random 64 KiB chunks with the image
#	pages 4096..4607  fio, 4 jobs on disjoint 512 KiB regions, random
#	                  O_DIRECT writes (4k/16k/64k/4k, random and
#	                  compressible data), each run followed by fio's
#	                  crc32c verify of its region, in a loop (a new seed
#	                  each run; a new run only if one more fits in the
#	                  time, judging by the last one)
# while ONE writeback loop writes back, in turn, idle (after echo all >
# idle), huge, huge_idle (after echo all > idle), page_indexes=A-B and
# page_index=N (random, within the device), with writeback_batch_size 4,
# 32 and 256 in turn, and a stats loop reads mm_stat, bd_stat and io_stat
# and checks them: 9, 3 and 4 fields, all numbers; orig_data_size page
# aligned and at most the disk size; mem_limit 0; same_pages and
# huge_pages at most the device's pages; bd_count at most the backing
# device's pages (and the device's); bd_reads, bd_writes, mem_used_max,
# pages_compacted, huge_pages_since and notify_free never decrease;
# failed_reads, failed_writes and invalid_io 0.
# Every loop must run without one error: every writeback must succeed
# (there is one writer: EAGAIN cannot happen; the backing device holds
# twice the device's pages: ENOSPC cannot happen), every page read must be
# what its owner last wrote.  Writeback must really have happened during
# the run: bd_writes and bd_reads grew (pages were read back from the
# backing device while the loops ran).  Then full content verification:
# the checkers' pages against their final state, the image region with
# cmp, fio's regions with fio --verify_only; then every stored page is
# written back (page_indexes over the whole device): bd_count must be the
# stored pages minus the same-filled ones and nothing but those may stay
# in memory; everything is verified again (now read from the backing
# device: bd_reads grows by at least bd_count); discarding the whole
# device brings bd_count and orig_data_size to 0.
#
# Part 2: rzram0 (128 MiB) as the only swap device, with the backing
# device.  A process (helpers/stress mem) fills 12 MiB with stamped pages
# (random, compressible, same-filled, zero), all of them are paged out
# (MADV_PAGEOUT) and written back (idle), then memory is made short as
# in rzram_rb_swap.sh (huge pages reserved, then mlocked memory, until
# 8 MiB are available); for the rest of the time the process checks all
# its memory pass after pass (at least one), rewriting one page in 8 each
# pass, while a writeback loop writes back idle pages (echo all > idle)
# and huge pages.  Every page must be right every time; swap-in from the backing
# device must have happened (bd_reads grew); every writeback must
# succeed.  After swapoff (which reads every page back) the process
# checks all its memory once more.
#
# Memory this short may turn kmemleak off (see rzram_dev_swap.sh), hence:
# rzram-kmemleak: scan-before
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
. "$(dirname "$0")/helpers/pressure.sh"
KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
ST=$(dirname "$0")/helpers/stress
S=/sys/block/rzram0
DEV=/dev/rzram0
BDEV=$RZRAM_SMALL_DEV
STRESS_SECS=${STRESS_SECS:-${rzram_stress_secs:-90}}
SECS1=$((STRESS_SECS * 2 / 3))
SECS2=$((STRESS_SECS - SECS1))
DISK_PAGES=8192
BD_PAGES=$(($(cat /sys/block/${BDEV#/dev/}/size) / 8))
# layout of part 1, in pages
CK_FIRST=0 CK_PAGES=2048 CK_PROCS=2
MT_FIRST=2048 MT_PAGES=64
IM_FIRST=2112 IM_PAGES=512
FIO_FIRST=4096 FIO_PAGES=512
SEED=$((RANDOM * 32768 + RANDOM + 1))
HOLD_PAGES=3072
PRESSURE_MIB=8

ktap_plan 50

stopped() { [ -e "$TMP/stop" ]; }
# fail NAME MSG: record an error of background loop NAME
fail() { echo "$2" >>"$TMP/err.$1"; }
# loop_ok NAME WHAT: one case: loop NAME recorded no error
loop_ok() {
	if [ -s "$TMP/err.$1" ]; then
		diag "$1: $(wc -l <"$TMP/err.$1") errors, the first ones:"
		diag_cmd head -n 20 "$TMP/err.$1"
		ktap_fail "$2"
	else
		ktap_ok "$2"
	fi
}
# matches STRING REGEX
matches() { [[ $1 =~ $2 ]]; }
count() { cat "$TMP/n.$1" 2>/dev/null || echo 0; }
# nap: a pause between iterations of a loop (not a synchronisation)
mkfifo "$TMP/nap"
exec 6<>"$TMP/nap"
nap() { read -t "$1" -u 6 || :; }

PIDS=
at_exit 'exec 7>&-; kill $HOLDER $BALLOON 2>/dev/null; wait'
at_exit 'echo 0 >/proc/sys/vm/nr_hugepages'
at_exit '[ ! -e /sys/module/rzram ] || { swapoff '$DEV' 2>/dev/null; echo 1 >'$S'/reset; rmmod rzram; }'
at_exit 'touch $TMP/stop; [ -z "$PIDS" ] || { kill $PIDS 2>/dev/null; wait; }'
trap '' PIPE

# ---- part 1 -------------------------------------------------------------
kmsg "part 1"
[ -e /sys/module/rzram ] && rmmod rzram
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no $DEV"
check "backing_dev $BDEV ($BD_PAGES pages), disksize 32M" eval \
	"attr_write $BDEV $S/backing_dev && attr_write 32M $S/disksize" ||
	ktap_abort "setup refused"
"$RB" gen $IM_PAGES $SEED >"$TMP/img"
dd if="$TMP/img" of=$DEV bs=64K seek=$((IM_FIRST / 16)) oflag=direct status=none
check_eq "the image region reads back as written" "$(sha256 "$TMP/img")" \
	"$(dd if=$DEV bs=64K skip=$((IM_FIRST / 16)) count=$((IM_PAGES / 16)) iflag=direct status=none | sha256sum | cut -d' ' -f1)"

# fio_job SEED: the job file of a fio run with random seed SEED (4 jobs,
# 128 pages each, from page FIO_FIRST), named on stdout
fio_job() {
	cat >"$TMP/fio.job" <<EOF
[global]
filename=$DEV
direct=1
ioengine=psync
rw=randwrite
size=512K
verify=crc32c
verify_fatal=1
refill_buffers
randseed=$1
[random4k]
offset=$((FIO_FIRST * P))
bs=4k
[comp16k]
offset=$(((FIO_FIRST + 128) * P))
bs=16k
buffer_compress_percentage=50
buffer_compress_chunk=1024
[comp64k]
offset=$(((FIO_FIRST + 256) * P))
bs=64k
buffer_compress_percentage=80
buffer_compress_chunk=4096
[mixed4k]
offset=$(((FIO_FIRST + 384) * P))
bs=4k
buffer_compress_percentage=30
buffer_compress_chunk=512
EOF
	echo "$TMP/fio.job"
}

# fio_loop: fio runs (write, then verify) while one more fits before the
# deadline (the first always runs); the seed of the last complete run goes
# to $TMP/fio.seed
fio_loop() {
	local i=0 end=$((SECONDS + SECS1)) seed t=0 t0
	while ((i == 0 || SECONDS + t <= end)); do
		seed=$((SEED + i))
		t0=$SECONDS
		if fio --output="$TMP/fio.out" "$(fio_job $seed)" &&
			[ "$(grep -c 'err= 0' "$TMP/fio.out")" = 4 ]; then
			echo $seed >"$TMP/fio.seed"
			t=$((SECONDS - t0))
		else
			fail fio "run $i (seed $seed): $(grep -iE 'verify|err=|error' "$TMP/fio.out" | head -n 8)"
			break
		fi
		i=$((i + 1))
	done
	echo $i >"$TMP/n.fio"
}
# wb_loop: the only writer of writeback
wb_loop() {
	local i=0 sel a b bs
	local modes=(idle huge huge_idle range index)
	local sizes=(4 32 256)
	while ! stopped; do
		if ((i % 5 == 0)); then
			bs=${sizes[(i / 5) % 3]}
			wr $bs $S/writeback_batch_size
			[ "$WR" = ok ] || fail wb "writeback_batch_size $bs: $WR"
		fi
		case ${modes[i % 5]} in
		idle|huge_idle)
			wr all $S/idle
			[ "$WR" = ok ] || fail wb "echo all > idle: $WR"
			sel=${modes[i % 5]} ;;
		huge)  sel=huge ;;
		range) a=$((RANDOM % DISK_PAGES)); b=$((a + RANDOM % (DISK_PAGES - a)))
		       sel="page_indexes=$a-$b" ;;
		index) sel="page_index=$((RANDOM % 2624))" ;;
		esac
		wr "$sel" $S/writeback
		[ "$WR" = ok ] || fail wb "iteration $i: writeback '$sel' (batch size $bs): $WR"
		echo "$sel" >>"$TMP/wb.log"
		i=$((i + 1))
		nap 0.05
	done
	echo $i >"$TMP/n.wb"
}
# maint_loop: pattern, blkdiscard, idle, compact on its 64 pages
maint_loop() {
	local i=0 half off=$((MT_FIRST * P)) len=$((MT_PAGES * P))
	head -c $((len / 2)) /dev/urandom >"$TMP/mt.a"
	seq 100000 199999 | head -c $((len / 2)) >"$TMP/mt.b"
	cat "$TMP/mt.a" "$TMP/mt.b" >"$TMP/mt.pat"
	head -c $((len / 2)) /dev/zero >"$TMP/mt.z"
	while ! stopped; do
		half=$((i % 2))
		dd if="$TMP/mt.pat" of=$DEV bs=64K seek=$((MT_FIRST / 16)) oflag=direct status=none ||
			fail maint "iteration $i: write failed"
		cp "$TMP/mt.pat" "$TMP/mt.want"
		dd if=$DEV bs=$P skip=$MT_FIRST count=$MT_PAGES iflag=direct status=none | cmp -s - "$TMP/mt.want" ||
			fail maint "iteration $i: the pattern does not read back"
		blkdiscard -o $((off + half * len / 2)) -l $((len / 2)) $DEV ||
			fail maint "iteration $i: blkdiscard failed"
		if [ $half = 0 ]; then cat "$TMP/mt.z" "$TMP/mt.b"; else cat "$TMP/mt.a" "$TMP/mt.z"; fi >"$TMP/mt.want"
		dd if=$DEV bs=$P skip=$MT_FIRST count=$MT_PAGES iflag=direct status=none | cmp -s - "$TMP/mt.want" ||
			fail maint "iteration $i: after discarding half $half: not zeroes there and the pattern elsewhere"
		wr all $S/idle
		[ "$WR" = ok ] || fail maint "iteration $i: echo all > idle: $WR"
		wr 1 $S/compact
		[ "$WR" = ok ] || fail maint "iteration $i: compact: $WR"
		i=$((i + 1))
		nap 0.2
	done
	echo $i >"$TMP/n.maint"
}
# reader_loop: random 64 KiB chunks of the image region
reader_loop() {
	local i=0 k
	while ! stopped; do
		k=$((RANDOM % (IM_PAGES / 16)))
		dd if=$DEV bs=64K skip=$((IM_FIRST / 16 + k)) count=1 iflag=direct status=none |
			cmp -s -n 65536 -i 0:$((k * 65536)) - "$TMP/img" ||
			fail reader "iteration $i: chunk $k (pages $((IM_FIRST + 16 * k))..) differs from the image"
		i=$((i + 1))
		nap 0.05
	done
	echo $i >"$TMP/n.reader"
}
# stats_loop: mm_stat, bd_stat, io_stat parsed and checked
num_ok() { local v; for v; do [[ $v =~ ^[0-9]+$ ]] || return 1; done; }
stats_loop() {
	local i=0 M B I pm=(0 0 0 0 0 0 0 0 0) pb=(0 0 0) pi=(0 0 0 0)
	while ! stopped; do
		read -ra M <$S/mm_stat
		read -ra B <$S/bd_stat
		read -ra I <$S/io_stat
		if [ ${#M[@]} != 9 ] || [ ${#B[@]} != 3 ] || [ ${#I[@]} != 4 ] ||
			! num_ok "${M[@]}" "${B[@]}" "${I[@]}"; then
			fail stats "iteration $i: malformed: mm_stat '${M[*]}' bd_stat '${B[*]}' io_stat '${I[*]}'"
		else
			((M[0] % P == 0 && M[0] <= DISK_PAGES * P)) ||
				fail stats "iteration $i: orig_data_size ${M[0]}"
			((M[3] == 0)) || fail stats "iteration $i: mem_limit ${M[3]}"
			((M[5] <= DISK_PAGES && M[7] <= DISK_PAGES)) ||
				fail stats "iteration $i: same_pages ${M[5]} huge_pages ${M[7]} > $DISK_PAGES"
			((B[0] <= BD_PAGES && B[0] <= DISK_PAGES)) ||
				fail stats "iteration $i: bd_count ${B[0]} (backing device $BD_PAGES pages, disk $DISK_PAGES)"
			((M[4] >= pm[4] && M[6] >= pm[6] && M[8] >= pm[8])) ||
				fail stats "iteration $i: mm_stat went back: '${pm[*]}' -> '${M[*]}'"
			((B[1] >= pb[1] && B[2] >= pb[2])) ||
				fail stats "iteration $i: bd_stat went back: '${pb[*]}' -> '${B[*]}'"
			((I[0] == 0 && I[1] == 0 && I[2] == 0 && I[3] >= pi[3])) ||
				fail stats "iteration $i: io_stat '${I[*]}' (before: '${pi[*]}')"
			pm=("${M[@]}") pb=("${B[@]}") pi=("${I[@]}")
		fi
		i=$((i + 1))
		nap 0.1
	done
	echo $i >"$TMP/n.stats"
}

read -r _ r0 w0 <$S/bd_stat
kmsg "part 1: stress for $SECS1 s"
start=$SECONDS
"$ST" check $DEV $CK_FIRST $CK_PAGES $CK_PROCS $SECS1 $SEED "$TMP/ck" >"$TMP/ck.out" 2>"$TMP/ck.err" &
CK=$!
fio_loop &
FIO=$!
wb_loop & p1=$!
maint_loop & p2=$!
reader_loop & p3=$!
stats_loop & p4=$!
PIDS="$CK $FIO $p1 $p2 $p3 $p4"
wait $CK
ck_rc=$?
wait $FIO
touch "$TMP/stop"
wait $p1 $p2 $p3 $p4
PIDS=
read -r _ r1 w1 <$S/bd_stat
kmsg "part 1: stress done"
diag "part 1 stress: $((SECONDS - start)) s; fio runs $(count fio), writebacks $(count wb), maintenance $(count maint), reader $(count reader), stats $(count stats) iterations"
diag "writebacks: $(sort "$TMP/wb.log" | sed 's/=.*//' | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')"
diag_cmd cat "$TMP/ck.out"
[ -s "$TMP/ck.err" ] && diag_cmd head -n 20 "$TMP/ck.err"
diag "bd_stat: $(bd); mm_stat: $(cat $S/mm_stat)"
check "checkers: every page read back was what they last wrote (exit $ck_rc)" \
	grep -qE '^total: .* verified=[1-9][0-9]* bad=0$' "$TMP/ck.out"
check_eq "checkers: both ran and reported" $CK_PROCS "$(grep -cE '^checker .* bad=0$' "$TMP/ck.out")"
loop_ok fio "fio: every run wrote and verified its regions"
check "fio: at least one run" test "$(count fio)" -gt 0
loop_ok wb "writeback loop: every writeback succeeded"
check "writeback loop: every mode ran ($(count wb) writebacks)" test "$(count wb)" -ge 5
loop_ok maint "maintenance loop: discarded ranges read back as zeroes, the rest intact; idle, compact succeeded"
check "maintenance loop ran ($(count maint) iterations)" test "$(count maint)" -gt 0
loop_ok reader "image region reader: every chunk read matched the image"
loop_ok stats "stats loop: mm_stat, bd_stat, io_stat well formed and consistent"
check "stats loop ran ($(count stats) iterations)" test "$(count stats)" -gt 0
check "pages were written back during the run (bd_writes $w0 -> $w1)" test $w1 -gt $w0
check "pages were read back from the backing device during the run (bd_reads $r0 -> $r1)" test $r1 -gt $r0

# full content verification, pages in memory and on the backing device
verify_all() {
	check "$1: the checkers' pages hold what they last wrote" \
		"$ST" verify $DEV $CK_FIRST $CK_PAGES $CK_PROCS $SEED "$TMP/ck"
	check "$1: the maintenance region holds what it last wrote" eval \
		"dd if=$DEV bs=$P skip=$MT_FIRST count=$MT_PAGES iflag=direct status=none | cmp - $TMP/mt.want"
	check "$1: the image region is the image" eval \
		"dd if=$DEV bs=64K skip=$((IM_FIRST / 16)) count=$((IM_PAGES / 16)) iflag=direct status=none | cmp - $TMP/img"
	check "$1: fio's regions verify (--verify_only)" \
		fio --verify_only --output="$TMP/fio.v" "$(fio_job "$(cat "$TMP/fio.seed")")"
	[ $? -eq 0 ] || diag_cmd grep -iE 'verify|err' "$TMP/fio.v"
}
kmsg "part 1: verify"
verify_all "after the stress"
wr all $S/idle
check_wr "write back every stored page (page_indexes=0-$((DISK_PAGES - 1)))" ok \
	"page_indexes=0-$((DISK_PAGES - 1))" $S/writeback
read -ra M <$S/mm_stat
read -r c r2 _ <$S/bd_stat
diag "bd_stat: $(bd); mm_stat: ${M[*]}"
check_eq "bd_count is the stored pages less the same-filled ones" $((M[0] / P - M[5])) "$c"
check_eq "no page left in memory (compr_data_size, huge_pages)" "0 0" "${M[1]} ${M[7]}"
verify_all "all written back"
read -r _ r3 _ <$S/bd_stat
check "every written-back page was read back (bd_reads $r2 -> $r3, bd_count $c)" test $((r3 - r2)) -ge $c
check "discard the whole device" blkdiscard $DEV
check_eq "then bd_count and orig_data_size are 0" "0 0" "$(field 1 $S/bd_stat) $(field 1 $S/mm_stat)"
check_eq "io_stat: no failed read or write" "0 0" "$(field 1 $S/io_stat) $(field 2 $S/io_stat)"
check "reset" attr_write 1 $S/reset

# ---- part 2: swap --------------------------------------------------------
kmsg "part 2"
check "swap: backing_dev $BDEV, disksize 128M, mkswap, swapon" eval \
	"attr_write $BDEV $S/backing_dev && attr_write 128M $S/disksize &&
	 mkswap $DEV >/dev/null && swapon $DEV" || ktap_abort "no swap"
check_eq "$DEV is the only swap device" "$DEV" \
	"$(awk 'NR > 1 { print $1 }' /proc/swaps | tr '\n' ' ' | sed 's/ $//')"
mkfifo "$TMP/hold.in"
: >"$TMP/hold.out"
"$ST" mem $HOLD_PAGES $SEED <"$TMP/hold.in" >"$TMP/hold.out" 2>"$TMP/hold.err" &
HOLDER=$!
exec 7>"$TMP/hold.in"
check "swap: the process filled $HOLD_PAGES pages" \
	wait_until 120 grep -q "^filled pages=$HOLD_PAGES" "$TMP/hold.out" || ktap_abort "no holder"
out=$(holder_cmd pageout swap_kib= 300)
check_eq "swap: all its pages paged out (VmSwap)" "swap_kib=$((HOLD_PAGES * 4))" "${out%% *}"
wr all $S/idle
check_wr "swap: idle writeback of its pages" ok idle $S/writeback
wbd=$(field 1 $S/bd_stat)
# all but the same-filled and zero pages (a quarter, by a hash)
check "swap: most of its pages written back ($wbd)" test "$wbd" -ge $((HOLD_PAGES * 5 / 8))

# memory made short (helpers/pressure.sh)
memory_short
diag "swap: $MEM_SHORT"
a=$MEM_AVAIL
check "swap: memory made short: MemAvailable ($a MiB) < the process's $((HOLD_PAGES / 256)) MiB" \
	test $a -lt $((HOLD_PAGES / 256))

# swap_wb_loop: idle and huge writebacks until stopped
swap_wb_loop() {
	local i=0 sel
	while ! stopped; do
		if ((i % 2)); then sel=huge; else wr all $S/idle; sel=idle; fi
		wr $sel $S/writeback
		[ "$WR" = ok ] || fail swapwb "iteration $i: writeback $sel: $WR"
		i=$((i + 1))
		nap 0.3
	done
	echo $i >"$TMP/n.swapwb"
}
rm -f "$TMP/stop"
read -r _ r0 w0 <$S/bd_stat
in0=$(vmstat pswpin)
kmsg "part 2: $SECS2 s of checks"
start=$SECONDS
swap_wb_loop &
PIDS=$!
out=$(holder_cmd "loop $SECS2" passes= $((SECS2 + 600)))
touch "$TMP/stop"
wait $PIDS
PIDS=
read -r _ r1 w1 <$S/bd_stat
in1=$(vmstat pswpin)
diag "swap: $out; $(count swapwb) writebacks, $((in1 - in0)) swap-ins, bd_stat $(bd) (reads $r0 -> $r1, writes $w0 -> $w1) in $((SECONDS - start)) s"
[ -s "$TMP/hold.err" ] && diag_cmd head -n 20 "$TMP/hold.err"
check "swap: the process found its memory right on every pass (at least one)" \
	matches "$out" '^passes=[1-9][0-9]* verified=[0-9]+ rewritten=[0-9]+ bad=0 first_bad=-1$'

loop_ok swapwb "swap: every writeback succeeded ($(count swapwb))"
check "swap: pages were swapped in from the backing device (bd_reads $r0 -> $r1)" test $r1 -gt $r0
check "swap: pages were written back during the checks (bd_writes $w0 -> $w1)" test $w1 -gt $w0
check "swap: memory was short: swapped in ($((in1 - in0)) >= $HOLD_PAGES / 2)" \
	test $((in1 - in0)) -ge $((HOLD_PAGES / 2))
memory_release
check "swap: swapoff (every page back in memory)" swapoff $DEV
out=$(holder_cmd verify verified= 600)
check_eq "swap: at the end, all its memory is right" "verified=$HOLD_PAGES bad=0 first_bad=-1" "$out"
check_eq "swap: io_stat: no failed read or write" "0 0" "$(field 1 $S/io_stat) $(field 2 $S/io_stat)"
echo quit >&7 2>/dev/null
exec 7>&-
wait $HOLDER
check_eq "swap: the process exited normally" 0 $?
check "reset, rmmod" eval "attr_write 1 $S/reset && rmmod rzram"
kmsg "end"
ktap_finish
