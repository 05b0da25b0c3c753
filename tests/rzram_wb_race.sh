#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback racing with I/O on the same pages, and with reset,
# hot_remove, a second writeback and writeback_batch_size.
#
# Part 1, for RACE_SECS seconds (default 30), on a 2 MiB (512 page) device, in
# 16-page chunks taken in turn:
#	pages   0..127  a writer overwrites a chunk with pattern A or B
#	                (O_DIRECT) and reads it back
#	pages 128..255  a discarder writes pattern C to a chunk, reads it
#	                back, discards it, reads back zeroes
#	pages 256..383  written once; a reader reads them back
#	pages 384..511  fio: random 4 KiB O_DIRECT writes, each verified
#	                (crc32c) shortly after, many per second
# while one writer of `writeback` loops over huge, idle (after "echo all
# > idle"), huge_idle, page_indexes, type=huge and mixed selections, with
# batch sizes 1, 4 and 32 in turn.  Every read back must match what was
# last written (a writeback committing a page rewritten or discarded
# while in flight, or a read of a block being freed, shows up here),
# every writeback must succeed.  Afterwards the content must match the
# expected image, a writeback of every page must leave exactly the stored
# pages written back (no leaked or doubly counted block) and discarding
# everything must bring bd_count back to 0.
#
# Parts 2 to 5 make each race certain with a barrier, on zram0 and then
# rzram0 in the same boot (same steps, same expected outcome): the
# backing device is a dm-linear device over $RZRAM_SMALL_DEV that is
# suspended, so a `huge` writeback of 512 KiB of random pages (128 huge
# pages) is provably in flight: bd_count shows its pages (zram: 1, it
# writes one page at a time; rzram: its batch, 32) and the writer is
# blocked in write(2) in state D.  Only then comes the racing operation,
# which must be seen waiting the same way (or must return at once) before
# the device is resumed; a watchdog resumes it after 90 s whatever
# happens, so a hang fails instead of timing out.
# Part 2: reset during the writeback waits for it; a writeback issued
#	while the reset waits gets EINVAL (the device is uninitialised by
#	the time it looks); after the resume the writeback succeeds, then the
#	reset; a writeback after the reset gets EINVAL; rzram0 is usable
#	again (init, writeback, exact bd_stat, content).
# Part 3: hot_remove during the writeback waits for it; after the resume
#	the writeback succeeds, then hot_remove; the device is gone,
#	hot_add brings it back (rzram0: usable).
# Part 4: a second writeback while one is in flight fails at once with
#	EAGAIN; the first is still in flight, and succeeds after the resume
#	(every page written back, content intact).
# Part 5: hot_remove of a device whose reset is in progress (the reset
#	waiting for an in-flight writeback) waits for the reset, then
#	removes the device: writeback, reset and hot_remove all succeed.
# Part 6 (rzram only; zram 6.12 has no writeback_batch_size): the
#	backing device is dm-linear over two dm-linear devices, wbr_a
#	(blocks 0..7) and wbr_b (the rest), both suspended.  A writeback
#	with batch size 8 has exactly 8 pages in flight (blocks 0..7);
#	writing 32 to writeback_batch_size meanwhile returns at once, and a
#	read of the 128 pages (8 of them in flight) does not wait.  Resuming
#	wbr_a completes those 8: the writeback refills its 8 requests, so
#	bd_count is 16 with 8 writes done (32 requests would make it 40): the
#	running writeback keeps its batch size.  After it succeeds, the 128
#	pages are rewritten and the next writeback has exactly 32 in flight.
#
# The kernel log (KASAN, lockdep) is checked by the runner.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
ktap_plan 126
P=4096
RACE_SECS=${RACE_SECS:-30}
# the dm devices over $RZRAM_SMALL_DEV (64 MiB): rzram's backing device
# wbr_r (32 MiB) over wbr_a (its blocks 0..7) and wbr_b (the rest);
# zram's wbr_z (the other 32 MiB)
DMALL="wbr_r wbr_z wbr_a wbr_b"

# set_var zram|rzram: the device under test
set_var() {
	V=$1
	case $V in
	zram)
		S=/sys/block/zram0 DEV=/dev/zram0 CTL=/sys/class/zram-control
		BD=/dev/mapper/wbr_z DMS=wbr_z NFL=1 ;;
	rzram)
		S=/sys/block/rzram0 DEV=/dev/rzram0 CTL=/sys/class/rzram-control
		BD=/dev/mapper/wbr_r DMS=wbr_r NFL=32 ;;
	esac
}
set_var rzram

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
check "modprobe zram" modprobe zram || ktap_abort "no zram"
at_exit "rmmod zram"
at_exit "for d in $DMALL; do dmsetup remove \$d; done"
at_exit "for s in /sys/block/rzram0 /sys/block/zram0; do [ ! -e \$s/reset ] || echo 1 >\$s/reset; done"
# resume everything, stop the watchdog and the loops (a subshell: its
# wait sees none of our children)
at_exit "for d in $DMALL; do dmsetup resume \$d 2>/dev/null; done; echo >&8; touch $TMP/stop"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no disk"
check_blockdev "/dev/zram0 is a block device" /dev/zram0 || ktap_abort "no zram disk"
check "dm-linear wbr_a, wbr_b, wbr_r over them, wbr_z, over $RZRAM_SMALL_DEV" eval "
	dm_set wbr_a '0 64 linear $RZRAM_SMALL_DEV 0' &&
	dm_set wbr_b '0 65472 linear $RZRAM_SMALL_DEV 64' &&
	dm_set wbr_r '0 64 linear /dev/mapper/wbr_a 0
64 65472 linear /dev/mapper/wbr_b 0' &&
	dm_set wbr_z '0 65536 linear $RZRAM_SMALL_DEV 65536'" || ktap_abort "no dm devices"

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

# ---- part 1: writeback against overwrites, discards and reads ------------
T0=$SECONDS
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
# one writer of `writeback`: a second one would get EAGAIN while the
# first runs (part 4)
wb_loop wb huge "page_indexes=0-511" idle "page_index=300 page_indexes=0-127 huge" \
	"type=huge" "page_indexes=100-300" huge_idle &
# a third of the time with each batch size (the store does not wait; the
# writeback that starts next uses the new size: part 6).  The sleep
# measures out the race's duration; it synchronises nothing.
for bs in 1 4 32; do
	attr_write $bs $S/writeback_batch_size || echo "batch size $bs" >>"$TMP/err.wb"
	sleep $((RACE_SECS / 3))
done
touch "$TMP/stop"
wait
kmsg "race end"
for n in writer discarder reader hammer wb; do
	diag "$n: $(cat "$TMP/n.$n" 2>/dev/null || echo ?) $([ $n = hammer ] && echo "write IOPS" || echo iterations)"
	if [ -s "$TMP/err.$n" ]; then
		diag_cmd head -n 20 "$TMP/err.$n"
		ktap_fail "$n: no error"
	else
		ktap_ok "$n: no error"
	fi
done
check "every loop ran" eval "[ \$(cat $TMP/n.writer) -gt 0 ] && [ \$(cat $TMP/n.discarder) -gt 0 ] &&
	[ \$(cat $TMP/n.reader) -gt 0 ] && [ \$(cat $TMP/n.wb) -gt 0 ]"
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

# ---- the barrier, for parts 2 to 6 ---------------------------------------
# 512 KiB of random pages: 128 huge pages
head -c $((128 * P)) /dev/urandom >"$TMP/d1"
head -c $((128 * P)) /dev/urandom >"$TMP/d2"
D1=$(sha256 "$TMP/d1")
D2=$(sha256 "$TMP/d2")
# dev_sum: sha256 of the device's first 128 pages
dev_sum() { dd if=$DEV bs=512K count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1; }
# the watchdog waits on this fifo: a line cancels it
mkfifo "$TMP/wd"
exec 8<>"$TMP/wd"
# nothing is ever written to this one: "read -t" on it is a sleep
# without a process
mkfifo "$TMP/nap"
exec 9<>"$TMP/nap"
# poll SECS CMD...: wait (0.1 s steps) until CMD succeeds; status 1 if it
# did not within SECS.  A synchronisation point, not a retry: the caller
# checks the state it waited for.
poll() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ $SECONDS -lt $end ] || return 1
		read -r -t 0.1 -u 9 || :
	done
}
WD=
# freeze DM...: suspend them (I/O to them waits until the resume); start
# the watchdog, which resumes every dm device after 90 s
freeze() {
	local d
	for d in "$@"; do dmsetup suspend "$d" || return 1; done
	[ -z "$WD" ] || return 0
	(read -r -t 90 -u 8 || {
		echo "watchdog: resumed the dm devices after 90 s" >"$TMP/watchdog"
		for d in $DMALL; do dmsetup resume "$d"; done
	}) </dev/null >/dev/null 2>&1 &
	WD=$!
}
# thaw DM...: resume them and stop the watchdog; fails if the watchdog
# had fired
thaw() {
	local d r=0
	if [ -e "$TMP/watchdog" ]; then
		diag "$(cat "$TMP/watchdog")"
		r=1
	elif [ -n "$WD" ]; then
		echo >&8
	fi
	[ -z "$WD" ] || wait "$WD"
	WD=
	for d in "$@"; do dmsetup resume "$d" || r=1; done
	return $r
}
# bgwr NAME VAL FILE: write VAL to FILE in a background process, PID_NAME;
# its result ("ok" or the error text) goes to $TMP/NAME.out, then
# $TMP/NAME.rc is created
bgwr() {
	rm -f "$TMP/$1.out" "$TMP/$1.rc"
	(wr "$2" "$3"; echo "$WR" >"$TMP/$1.out"; : >"$TMP/$1.rc") </dev/null >/dev/null 2>&1 &
	eval "PID_$1=\$!"
}
returned() { [ -e "$TMP/$1.rc" ]; }
rc() {
	if returned "$1"; then cat "$TMP/$1.out"; else echo "(not returned)"; fi
}
pid_of() { eval "echo \$PID_$1"; }
# blocked PID: PID sleeps uninterruptibly (state D) inside write(2)
# (x86_64 syscall 1, from /proc/PID/syscall)
blocked() {
	local nr
	[ "$(proc_state "$1")" = D ] && read -r nr _ <"/proc/$1/syscall" 2>/dev/null &&
		[ "$nr" = 1 ]
}
# wstate NAME [COND...]: wait (at most 60 s) until background write NAME
# has returned, or is blocked in write(2) while COND holds; print
# "blocked", or "returned: RESULT", or the process state
wstate() {
	local n=$1 pid
	shift
	pid=$(pid_of "$n")
	poll 60 eval "returned $n || { blocked $pid && ${*:-:}; }"
	if returned "$n"; then
		echo "returned: $(rc "$n")"
	elif blocked "$pid" && "${@:-:}"; then
		echo blocked
	else
		echo "state $(proc_state "$pid"), syscall $(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null)"
	fi
}
# reap NAME...: wait (at most 60 s) until the background writes return,
# then collect their processes (one that did not return is left)
reap() {
	local n
	poll 60 eval "$(printf 'returned %s && ' "$@") :"
	for n in "$@"; do
		returned "$n" && wait "$(pid_of "$n")"
	done
	return 0
}
# (builtins only: these are polled)
bd_count() {
	local c
	read -r c _ <$S/bd_stat
	echo "$c"
}
bd_count_is() {
	local c
	read -r c _ <$S/bd_stat && [ "$c" = "$1" ]
}
bd_writes_is() {
	local w
	read -r _ _ w <$S/bd_stat && [ "$w" = "$1" ]
}

# init_dev: backing $BD, disksize 2M, pages 0..127 = d1 (128 huge pages);
# rzram: batch size 32
init_dev() {
	{ [ $V = zram ] || attr_write 32 $S/writeback_batch_size; } &&
	attr_write $BD $S/backing_dev && attr_write 2M $S/disksize &&
	dd if="$TMP/d1" of=$DEV bs=512K oflag=direct status=none
}
# frozen_wb: init, suspend the backing device and start a huge writeback,
# W; it must be in flight (3 cases)
frozen_wb() {
	check "$V: init: backing $BD, disksize 2M, 128 random pages" init_dev
	freeze $DMS
	check_eq "$V: suspend $DMS" 0 $?
	bgwr W huge $S/writeback
	check_eq "$V: a huge writeback is in flight: blocked in write(2) (state D), bd_count $NFL" \
		"blocked, bd_count $NFL" "$(wstate W bd_count_is $NFL), bd_count $(bd_count)"
}
# usable: init, writeback, bd_stat, content, reset (4 cases)
usable() {
	check "$V: usable: init, write 128 pages, huge writeback" eval "init_dev && attr_write huge $S/writeback"
	check_bd "$V: bd_stat" "128 0 128"
	check_eq "$V: content" "$D1" "$(dev_sum)"
	check "$V: reset" attr_write 1 $S/reset
}
# While a reset or hot_remove waits, zram's attributes that take the init
# lock would wait too: nothing below reads them until the resume.

diag "part 1 took $((SECONDS - T0)) s"
T0=$SECONDS
# ---- part 2: reset during a writeback ------------------------------------
for v in zram rzram; do
	set_var $v
	kmsg "part 2: $V"
	frozen_wb
	bgwr R 1 $S/reset
	check_eq "$V: reset waits (blocked in write(2)), the writeback still in flight" \
		"blocked blocked" "$(wstate R) $(wstate W)"
	bgwr W2 huge $S/writeback
	thaw $DMS
	check_eq "$V: resume $DMS (not the watchdog)" 0 $?
	reap W R W2
	check_eq "$V: the writeback succeeded, then the reset" "ok ok" "$(rc W) $(rc R)"
	check_eq "$V: a writeback issued while the reset waited: EINVAL" "Invalid argument" "$(rc W2)"
	check_eq "$V: after the reset: not initialised, no backing device, bd_stat 0" "0 none 0 0 0" \
		"$(attr $S/initstate) $(attr $S/backing_dev) $(bd)"
	check_wr "$V: a writeback after the reset: EINVAL" "Invalid argument" huge $S/writeback
	[ $V = zram ] || usable
done

diag "part 2 took $((SECONDS - T0)) s"
T0=$SECONDS
# ---- part 3: hot_remove during a writeback -------------------------------
for v in zram rzram; do
	set_var $v
	kmsg "part 3: $V"
	frozen_wb
	bgwr H 0 $CTL/hot_remove
	check_eq "$V: hot_remove waits (blocked in write(2)), the writeback still in flight" \
		"blocked blocked" "$(wstate H) $(wstate W)"
	thaw $DMS
	check_eq "$V: resume $DMS (not the watchdog)" 0 $?
	reap W H
	check_eq "$V: the writeback succeeded, then hot_remove" "ok ok" "$(rc W) $(rc H)"
	check "$V: the device is gone" test ! -e $S
	check_eq "$V: hot_add brings ${V}0 back" 0 "$(cat $CTL/hot_add 2>&1)"
	check_blockdev "$V: $DEV is a block device" $DEV
	[ $V = zram ] || usable
done

diag "part 3 took $((SECONDS - T0)) s"
T0=$SECONDS
# ---- part 4: a second writeback while one is in flight -------------------
for v in zram rzram; do
	set_var $v
	kmsg "part 4: $V"
	frozen_wb
	bgwr W2 huge $S/writeback
	poll 20 returned W2
	check_eq "$V: a second writeback fails at once: EAGAIN" \
		"Resource temporarily unavailable" "$(rc W2)"
	check_eq "$V: the first is still in flight (blocked in write(2), bd_count $NFL)" \
		"blocked, bd_count $NFL" "$(wstate W), bd_count $(bd_count)"
	thaw $DMS
	check_eq "$V: resume $DMS (not the watchdog)" 0 $?
	reap W W2
	check_eq "$V: the first writeback succeeded" ok "$(rc W)"
	check_bd "$V: every page written back: bd_stat" "128 0 128"
	check_eq "$V: content" "$D1" "$(dev_sum)"
	check "$V: reset" attr_write 1 $S/reset
done

diag "part 4 took $((SECONDS - T0)) s"
T0=$SECONDS
# ---- part 5: hot_remove during a reset -----------------------------------
for v in zram rzram; do
	set_var $v
	kmsg "part 5: $V"
	frozen_wb
	bgwr R 1 $S/reset
	check_eq "$V: reset waits for the writeback (both blocked in write(2))" \
		"blocked blocked" "$(wstate R) $(wstate W)"
	bgwr H 0 $CTL/hot_remove
	check_eq "$V: hot_remove of the device being reset waits (blocked), so do the reset and the writeback" \
		"blocked blocked blocked" "$(wstate H) $(wstate R) $(wstate W)"
	thaw $DMS
	check_eq "$V: resume $DMS (not the watchdog)" 0 $?
	reap W R H
	check_eq "$V: the writeback, the reset and hot_remove succeeded" "ok ok ok" \
		"$(rc W) $(rc R) $(rc H)"
	check "$V: the device is gone" test ! -e $S
	check_eq "$V: hot_add brings ${V}0 back" 0 "$(cat $CTL/hot_add 2>&1)"
	check_blockdev "$V: $DEV is a block device" $DEV
done

diag "part 5 took $((SECONDS - T0)) s"
T0=$SECONDS
# ---- part 6: writeback_batch_size during a writeback (rzram) -------------
set_var rzram
kmsg "part 6"
check "init: backing $BD, disksize 2M, 128 random pages, batch size 8" eval \
	"attr_write 8 $S/writeback_batch_size && attr_write $BD $S/backing_dev &&
	attr_write 2M $S/disksize && dd if=$TMP/d1 of=$DEV bs=512K oflag=direct status=none"
freeze wbr_a wbr_b
check_eq "suspend wbr_a (blocks 0..7) and wbr_b (the rest)" 0 $?
bgwr W huge $S/writeback
check_eq "a writeback with batch size 8 is in flight: blocked, bd_count 8" \
	"blocked, bd_count 8" "$(wstate W bd_count_is 8), bd_count $(bd_count)"
bgwr B 32 $S/writeback_batch_size
poll 20 returned B
check_eq "writeback_batch_size 32 is taken at once; the writeback still waits" \
	"ok 32 blocked" "$(rc B) $(attr $S/writeback_batch_size) $(wstate W)"
check_eq "a read of the 128 pages (8 in flight) does not wait for the writeback" \
	"$D1 (no watchdog)" "$(dev_sum) $([ -e $TMP/watchdog ] && echo "(watchdog)" || echo "(no watchdog)")"
dmsetup resume wbr_a
check_eq "resume wbr_a" 0 $?
check_eq "the writeback keeps batch size 8: 8 written, 8 more in flight to wbr_b (bd_count 16)" \
	"blocked, bd_stat 16 0 8" "$(wstate W bd_writes_is 8), bd_stat $(bd)"
thaw wbr_b
check_eq "resume wbr_b (not the watchdog)" 0 $?
reap W B
check_eq "the writeback succeeded" ok "$(rc W)"
check_bd "every page written back: bd_stat" "128 0 128"
check "rewrite the 128 pages: their blocks are freed" eval \
	"dd if=$TMP/d2 of=$DEV bs=512K oflag=direct status=none && bd_count_is 0"
freeze wbr_a wbr_b
check_eq "suspend wbr_a and wbr_b" 0 $?
bgwr W huge $S/writeback
check_eq "the next writeback uses batch size 32: blocked, bd_count 32" \
	"blocked, bd_count 32" "$(wstate W bd_count_is 32), bd_count $(bd_count)"
thaw wbr_a wbr_b
check_eq "resume wbr_a and wbr_b (not the watchdog)" 0 $?
reap W
check_eq "the writeback succeeded" ok "$(rc W)"
check_bd "every page written back: bd_stat" "128 0 256"
check_eq "content" "$D2" "$(dev_sum)"
check "reset" attr_write 1 $S/reset
diag "part 6 took $((SECONDS - T0)) s"
ktap_finish
