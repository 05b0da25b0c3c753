#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback racing with I/O on the same pages, and with reset and
# hot_remove.
#
# Part 1, for RACE_SECS seconds, on a 2 MiB (512 page) device, in
# 16-page chunks taken in turn:
#	pages   0..127  a writer overwrites a chunk with pattern A or B
#	                (O_DIRECT) and reads it back
#	pages 128..255  a discarder writes pattern C to a chunk, reads it
#	                back, discards it, reads back zeroes
#	pages 256..383  written once; a reader reads them back
#	pages 384..511  fio: random 4 KiB O_DIRECT writes, each verified
#	                (crc32c) shortly after, many per second
# while two writers of `writeback` loop over huge, idle (after "echo all
# > idle"), huge_idle, page_indexes and mixed selections with batch sizes
# 1, 4 and 32.  Every read back must match what was last written (a
# writeback committing a page rewritten or discarded while in flight, or
# a read of a block being freed, shows up here), every writeback must
# succeed.  Afterwards the content must match the expected image, a
# writeback of every page must leave exactly the stored pages written
# back (no leaked or doubly counted block) and discarding everything
# must bring bd_count back to 0.
#
# Part 2: reset while a (slow, batch size 1) writeback runs in another
# process, then with a second writeback queued behind the first: the
# reset waits for the running one; a writeback that comes after the
# reset finds the device uninitialised (EINVAL).  Afterwards the device
# is reset and usable.
# Part 3: the same with hot_remove: the device goes away after the
# writeback; hot_add brings it back, usable.
# Part 4: I/O during a writeback must not wait for it, even when a
# configuration write (writeback_batch_size, which waits for the running
# writeback as in zram) is pending.  zram's I/O path does not take the
# init lock; if rzram's did, a reader queued behind the waiting writer
# would stall until the writeback ends (and swap I/O from reclaim inside
# the writeback could deadlock).
#
# The kernel log (KASAN, lockdep, hung tasks) is checked by the runner.
. "$(dirname "$0")/lib.sh"
ktap_plan 51
S=/sys/block/rzram0
CTL=/sys/class/rzram-control
DEV=/dev/rzram0
P=4096
RACE_SECS=${RACE_SECS:-45}

# The three I/O loops work on one 16-page (64 KiB) chunk per iteration,
# chunk i % 8 of their 128 pages, so that they come round often.
# chunk_is CHUNK FILE K: 64 KiB chunk CHUNK of the device equals chunk K
# of FILE
chunk_is() {
	dd if=$DEV bs=64K skip="$1" count=1 iflag=direct status=none |
		cmp -s -n 65536 -i 0:$(($3 * 65536)) - "$2"
}
stopped() { [ -e "$TMP/stop" ]; }
# fail NAME MSG: record a failure of background loop NAME
fail() { echo "$2" >>"$TMP/err.$1"; }

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
at_exit "touch $TMP/stop; wait"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"

# ---- part 1: writeback against overwrites, discards and reads ------------
# patterns A, B (writer), C (discarder), R (reader), 128 pages each
for f in A B C R; do head -c $((128 * P)) /dev/urandom >"$TMP/p$f"; done
head -c $((128 * P)) /dev/zero >"$TMP/pZ"
for k in 0 1 2 3 4 5 6 7; do echo A >"$TMP/wlast.$k"; echo C >"$TMP/dlast.$k"; done

check "backing_dev, disksize 2M" eval \
	"attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 2M $S/disksize"
head -c $((128 * P)) /dev/urandom >"$TMP/pF"
check "write pages 0..511" eval "cat $TMP/pA $TMP/pC $TMP/pR $TMP/pF |
	dd of=$DEV bs=128K oflag=direct status=none"
check "first writeback" attr_write huge $S/writeback

# writer: chunk k of pages 0..127 gets pattern A or B, then must read
# back as such
writer() {
	local i=0 k p
	while ! stopped; do
		k=$((i % 8))
		if (((i / 8) % 2)); then p=A; else p=B; fi
		dd if="$TMP/p$p" of=$DEV bs=64K skip=$k seek=$k count=1 \
			oflag=direct status=none || fail writer "iteration $i: write failed"
		echo $p >"$TMP/wlast.$k"
		chunk_is $k "$TMP/p$p" $k ||
			fail writer "iteration $i: chunk $k (pages 0..127) does not read back as pattern $p"
		i=$((i + 1))
	done
	echo $i >"$TMP/n.writer"
}
# discarder: chunk k of pages 128..255 gets pattern C, then is discarded
discarder() {
	local i=0 k
	while ! stopped; do
		k=$((i % 8))
		dd if="$TMP/pC" of=$DEV bs=64K skip=$k seek=$((8 + k)) count=1 \
			oflag=direct status=none || fail discarder "iteration $i: write failed"
		chunk_is $((8 + k)) "$TMP/pC" $k ||
			fail discarder "iteration $i: chunk $k (pages 128..255) does not read back as written"
		blkdiscard -f -o $(((128 + 16 * k) * P)) -l $((16 * P)) $DEV 2>/dev/null ||
			fail discarder "iteration $i: discard failed"
		echo Z >"$TMP/dlast.$k"
		chunk_is $((8 + k)) "$TMP/pZ" $k ||
			fail discarder "iteration $i: chunk $k (pages 128..255) not zero after discard"
		i=$((i + 1))
	done
	echo $i >"$TMP/n.discarder"
}
# reader: pages 256..383, written once, read back chunk by chunk
reader() {
	local i=0 k
	while ! stopped; do
		k=$((i % 8))
		chunk_is $((16 + k)) "$TMP/pR" $k ||
			fail reader "iteration $i: chunk $k (pages 256..383) does not read back as written"
		i=$((i + 1))
	done
	echo $i >"$TMP/n.reader"
}
# wb_loop NAME SELECTIONS...: write back each selection in turn
wb_loop() {
	local name=$1 i=0 sel
	shift
	local sels=("$@")
	while ! stopped; do
		sel=${sels[i % ${#sels[@]}]}
		[ "$sel" = idle ] && echo all >$S/idle
		wr "$sel" $S/writeback
		[ "$WR" = ok ] || fail $name "iteration $i: writeback '$sel': $WR"
		i=$((i + 1))
	done
	echo $i >"$TMP/n.$name"
}

hammer() {
	fio --name=hammer --filename=$DEV --offset=$((384 * P)) --size=$((128 * P)) \
		--rw=randwrite --bs=4k --direct=1 --ioengine=psync \
		--verify=crc32c --verify_backlog=16 --verify_fatal=1 \
		--time_based --runtime="$RACE_SECS" --output="$TMP/fio.out" ||
		fail hammer "fio failed: $(grep -i 'err\|verify' "$TMP/fio.out" | head -n 5)"
	awk '/write: IOPS/ { print $2 }' "$TMP/fio.out" | tr -d 'IOPS=,' >"$TMP/n.hammer"
}

kmsg "race start"
writer & discarder & reader & hammer &
wb_loop wb1 huge "page_indexes=0-511" idle "page_index=300 page_indexes=0-127 huge" &
wb_loop wb2 "type=huge" "page_indexes=100-300" huge_idle idle &
# a third of the time with each batch size (changing it waits for the
# running writeback, and in rzram I/O waits behind that: not too often)
for bs in 1 4 32; do
	attr_write $bs $S/writeback_batch_size || echo "batch size $bs" >>"$TMP/err.wb1"
	sleep $((RACE_SECS / 3))
done
touch "$TMP/stop"
wait
kmsg "race end"
for n in writer discarder reader hammer wb1 wb2; do
	diag "$n: $(cat "$TMP/n.$n" 2>/dev/null || echo ?) $([ $n = hammer ] && echo "write IOPS" || echo iterations)"
	if [ -s "$TMP/err.$n" ]; then
		diag_cmd head -n 20 "$TMP/err.$n"
		ktap_fail "$n: no error"
	else
		ktap_ok "$n: no error"
	fi
done
check "every loop ran" eval "[ \$(cat $TMP/n.writer) -gt 0 ] && [ \$(cat $TMP/n.discarder) -gt 0 ] &&
	[ \$(cat $TMP/n.reader) -gt 0 ] && [ \$(cat $TMP/n.wb1) -gt 0 ] && [ \$(cat $TMP/n.wb2) -gt 0 ]"
diag "bd_stat: $(bd), mm_stat: $(cat $S/mm_stat)"
# the expected image of pages 0..383, chunk by chunk (fio's pages
# 384..511 verified themselves)
cat "$TMP/pZ" "$TMP/pZ" "$TMP/pR" >"$TMP/img"
for k in 0 1 2 3 4 5 6 7; do
	read -r w <"$TMP/wlast.$k"
	read -r d <"$TMP/dlast.$k"
	dd if="$TMP/p$w" of="$TMP/img" bs=64K skip=$k seek=$k count=1 conv=notrunc status=none
	dd if="$TMP/p$d" of="$TMP/img" bs=64K skip=$k seek=$((8 + k)) count=1 conv=notrunc status=none
done
want=$(sha256 "$TMP/img")
# sum384: sha256 of pages 0..383 of the device
sum384() { dd if=$DEV bs=512K count=3 iflag=direct status=none | sha256sum | cut -d' ' -f1; }
check_eq "content after the race" "$want" "$(sum384)"
check "writeback the rest" attr_write 32 $S/writeback_batch_size
check_wr "page_indexes=0-511 writes back the rest" ok page_indexes=0-511 $S/writeback
# pages 0..127, 256..383 and 384..511 (fio's), plus the chunks of
# 128..255 never discarded
stored=$((384 + 16 * $(cat "$TMP"/dlast.* | grep -c C)))
check_eq "bd_count is the $stored stored pages" $stored "$(field 1 $S/bd_stat)"
check_eq "stored pages: $stored, none in memory" "$stored 0" \
	"$(($(field 1 $S/mm_stat) / P)) $(field 2 $S/mm_stat)"
check_eq "content" "$want" "$(sum384)"
check "discard everything" blkdiscard -f $DEV
check_eq "bd_count back to 0" 0 "$(field 1 $S/bd_stat)"
check_eq "nothing stored" 0 "$(field 1 $S/mm_stat)"
check "reset" attr_write 1 $S/reset

# ---- part 2: reset during a writeback ------------------------------------
make_data "$TMP/big" 1
# slow_wb: init with 1 MiB of huge pages and start a writeback of them
# with batch size 1 in the background; its result goes to $TMP/wb.rc
slow_wb() {
	attr_write $RZRAM_BACKING_DEV $S/backing_dev &&
	attr_write 2M $S/disksize &&
	dd if="$TMP/big" of=$DEV bs=1M oflag=direct status=none &&
	attr_write 1 $S/writeback_batch_size || return 1
	rm -f "$TMP/wb.rc"
	(wr huge $S/writeback; echo "$WR" >"$TMP/wb.rc") </dev/null >/dev/null 2>&1 &
	WB_PID=$!
	sleep 1
	if [ -e "$TMP/wb.rc" ]; then
		diag "the writeback was over before the reset or removal"
	fi
}
slow_wb
check_eq "init and start a slow writeback" 0 $?
wr 1 $S/reset
r=$WR
wait $WB_PID
check_eq "reset during the writeback succeeds (after it)" ok "$r"
r=$(cat "$TMP/wb.rc")
diag "writeback: $r"
check "the writeback succeeded or found the device reset" \
	test "$r" = ok -o "$r" = "Invalid argument"
check_eq "after reset: not initialised, no backing device, bd_stat 0" "0 none 0 0 0" \
	"$(attr $S/initstate) $(attr $S/backing_dev) $(bd)"

# a writeback queued behind the running one when reset comes
slow_wb
check_eq "init and start a slow writeback" 0 $?
(wr huge $S/writeback; echo "$WR" >"$TMP/wb2.rc") </dev/null >/dev/null 2>&1 &
WB2_PID=$!
wr 1 $S/reset
r=$WR
wait $WB_PID $WB2_PID
check_eq "reset with two writebacks running" ok "$r"
diag "writebacks: $(cat "$TMP/wb.rc"), $(cat "$TMP/wb2.rc")"
check "each writeback succeeded or found the device reset" eval \
	"for f in $TMP/wb.rc $TMP/wb2.rc; do grep -qxE 'ok|Invalid argument' \$f || exit 1; done"
check_eq "after reset: not initialised, no backing device, bd_stat 0" "0 none 0 0 0" \
	"$(attr $S/initstate) $(attr $S/backing_dev) $(bd)"
check "usable again: init, write 1 MiB" eval "attr_write 32 $S/writeback_batch_size &&
	attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 2M $S/disksize &&
	dd if=$TMP/big of=$DEV bs=1M count=1 oflag=direct status=none"
check_wr "writeback" ok huge $S/writeback
check_bd "bd_stat" "256 0 256"
check_eq "content" "$(sha256 "$TMP/big" 1)" "$(sha256 $DEV 1)"
check "reset" attr_write 1 $S/reset

# ---- part 3: hot_remove during a writeback -------------------------------
slow_wb
check_eq "init and start a slow writeback" 0 $?
wr 0 $CTL/hot_remove
r=$WR
wait $WB_PID
check_eq "hot_remove during the writeback succeeds (after it)" ok "$r"
diag "writeback: $(cat "$TMP/wb.rc")"
check "the device is gone" test ! -e $S
check_eq "hot_add brings rzram0 back" 0 "$(cat $CTL/hot_add 2>&1)"
check_blockdev "$DEV is a block device" $DEV
check "usable: init, write 1 MiB" eval "attr_write 32 $S/writeback_batch_size &&
	attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 2M $S/disksize &&
	dd if=$TMP/big of=$DEV bs=1M count=1 oflag=direct status=none"
check_wr "writeback" ok huge $S/writeback
check_bd "bd_stat" "256 0 256"
check_eq "content" "$(sha256 "$TMP/big" 1)" "$(sha256 $DEV 1)"
check "reset" attr_write 1 $S/reset

# ---- part 4: I/O during a writeback with a configuration write pending ---
make_data "$TMP/big4" 8
now() { cut -d' ' -f1 /proc/uptime; }
check "init 8M, write 2048 huge pages, batch size 1" eval \
	"attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 8M $S/disksize &&
	dd if=$TMP/big4 of=$DEV bs=1M oflag=direct status=none &&
	attr_write 1 $S/writeback_batch_size"
rm -f "$TMP/wb.rc" "$TMP/bs.rc"
(wr huge $S/writeback; echo "$WR $(now)" >"$TMP/wb.rc") </dev/null >/dev/null 2>&1 &
WB_PID=$!
sleep 1
(wr 8 $S/writeback_batch_size; echo "$WR $(now)" >"$TMP/bs.rc") </dev/null >/dev/null 2>&1 &
BS_PID=$!
sleep 1
t0=$(now)
[ -e "$TMP/wb.rc" ] && early=yes || early=no
dd if=$DEV of=/dev/null bs=$P skip=500 count=1 iflag=direct status=none
t1=$(now)
[ -e "$TMP/wb.rc" ] && late=yes || late=no
wait $WB_PID $BS_PID
diag "read from $t0 to $t1; writeback: $(cat "$TMP/wb.rc"); batch size store: $(cat "$TMP/bs.rc")"
if [ $early = yes ]; then
	ktap_skip "a read is not held up behind a pending configuration write" \
		"the writeback was over before the read"
else
	check_eq "a read is not held up behind a pending configuration write" \
		"read done before the writeback" \
		"read done $([ $late = no ] && echo before || echo after) the writeback"
fi
check_eq "the writeback and the batch size store succeeded" "ok ok 8" \
	"$(cut -d' ' -f1 "$TMP/wb.rc") $(cut -d' ' -f1 "$TMP/bs.rc") $(attr $S/writeback_batch_size)"
check_eq "all 2048 pages written back" "2048 2048" \
	"$(field 1 $S/bd_stat) $(field 3 $S/bd_stat)"
check_eq "content" "$(sha256 "$TMP/big4")" "$(sha256 $DEV 8)"
check "reset" attr_write 1 $S/reset
ktap_finish
