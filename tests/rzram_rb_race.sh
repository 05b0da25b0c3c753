#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram read-back while a writeback, overwrites and discards hit the same
# pages, made certain with a barrier: the backing device is a dm-linear
# device that is suspended, so every backing I/O waits until it resumes.
#
# A 4 MiB device holds pages of four kinds in turn (random, random,
# compressible, same-filled); a first `huge` writeback puts the random
# ones on the backing device, then pages 0..255 are rewritten (their
# random pages are resident huge pages again).  With the backing device
# suspended:
#	- a `huge` writeback starts: it takes the first batch (32) of huge
#	  pages, gives them blocks and submits them; the writes wait;
#	- three readers start: 1 MiB of pages 256..511 (written-back,
#	  resident and same-filled pages), written-back page 600, and
#	  written-back page 700 into a buffer 512 bytes into a page (two
#	  partial reads of it, 3584 + 512 bytes); they wait too (state D);
#	- then, while all of that is in flight: pages 0..255 (in flight to
#	  the backing device or not yet reached) are read at every shape;
#	  pages 0..15 (in flight) are overwritten and 16..31 (in flight)
#	  discarded; 128..143 (not reached yet) overwritten and 144..159
#	  discarded; written-back pages 600 and 700 (being read) are
#	  discarded, 601 overwritten, 604 discarded; all of it reads back
#	  right at once.
# After the resume each outcome is unique: the writeback succeeds; the
# readers get what was there when they started (nobody wrote those
# pages, or, page 600 and the first 3584 bytes of 700, the read was
# issued before the discard; the last 512 bytes of 700 are a second
# piece of that bio, looked up before or after the discard: not
# checked); the device equals the expected image; exactly the pages that
# were resident huge pages when the writeback reached them, and were not
# rewritten or discarded while in flight, are written back (bd_count,
# huge_pages); discarding everything brings bd_count to 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
S=/sys/block/rzram0
DEV=/dev/rzram0
DM=rzram_rb_race
BDEV=/dev/mapper/$DM
NP=1024
SZ=$((NP * P))

ktap_plan 39

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "dmsetup remove $DM"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
at_exit "dmsetup resume $DM 2>/dev/null; wait"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"
check "dm-linear $DM over $RZRAM_BACKING_DEV (64 MiB)" \
	dm_set $DM "0 $((64 << 11)) linear $RZRAM_BACKING_DEV 0" || ktap_abort "no dm device"

"$RB" gen $NP 11 >"$TMP/img1"
"$RB" gen $NP 33 >"$TMP/img3"
"$RB" gen $NP 44 >"$TMP/img4"
# put_img FILE FIRST COUNT: pages FIRST.. of FILE into the expected image
put_img() {
	dd if="$1" of="$TMP/want" bs=$P skip="$2" seek="$2" count="$3" conv=notrunc status=none
}
zero_img() {
	dd if=/dev/zero of="$TMP/want" bs=$P seek="$1" count="$2" conv=notrunc status=none
}
# put FILE FIRST COUNT: pages FIRST.. of FILE onto the device and the image
put() {
	dd if="$1" of=$DEV bs=$P skip="$2" seek="$2" count="$3" oflag=direct status=none &&
	put_img "$@"
}
# discard FIRST COUNT: on the device and the image
discard() { blkdiscard -f -o $(($1 * P)) -l $(($2 * P)) $DEV && zero_img "$@"; }
# dev_sum FIRST COUNT [BS]: sha256 of COUNT pages of the device at FIRST
dev_sum() {
	dd if=$DEV bs=${3:-$P} skip=$(($1 * P / ${3:-$P})) count=$(($2 * P / ${3:-$P})) \
		iflag=direct status=none | sha256sum | cut -d' ' -f1
}
want_sum() { img_sum "$TMP/want" $(($1 * P)) $(($2 * P)); }

cp "$TMP/img1" "$TMP/want"
check "backing $BDEV, disksize 4M, batch size 32" eval "attr_write $BDEV $S/backing_dev &&
	attr_write 4M $S/disksize && attr_write 32 $S/writeback_batch_size"
check "write 1024 pages, huge writeback" eval \
	"dd if=$TMP/img1 of=$DEV bs=1M oflag=direct status=none && attr_write huge $S/writeback"
check "rewrite pages 0..255" put "$TMP/img3" 0 256
base=$(field 1 $S/bd_stat)
check_eq "384 pages written back, 128 resident huge pages" "384 512 128" \
	"$base $(field 3 $S/bd_stat) $(field 8 $S/mm_stat)"
old600=$(img_sum "$TMP/img1" $((600 * P)) $P)
old700=$(img_sum "$TMP/img1" $((700 * P)) 3584)
want_r1=$(want_sum 256 256)

# ---- the barrier ----------------------------------------------------------
kmsg "suspend"
check "suspend $DM" dmsetup suspend $DM
# a read that should not have waited would hang here: resume after 300 s
# whatever happens, so the program fails instead of timing out (its
# output not on ours: a sleep left behind must not hold the runner's pipe)
(sleep 300; echo "watchdog: resumed $DM after 300 s" >"$TMP/watchdog"; dmsetup resume $DM) \
	</dev/null >/dev/null 2>&1 &
WD=$!
(wr huge $S/writeback; echo "$WR" >"$TMP/wb.rc") </dev/null >/dev/null 2>&1 &
WB=$!
dd if=$DEV of="$TMP/r1" bs=1M skip=1 count=1 iflag=direct status=none &
R1=$!
dd if=$DEV of="$TMP/r2" bs=$P skip=600 count=1 iflag=direct status=none &
R2=$!
"$RB" read $DEV $((700 * P)) $P $P 512 >"$TMP/r3" &
R3=$!
# the first batch has its blocks and waits for the backing device: the
# writer sleeps (state D) with all 32 requests submitted, none completed
batch_in_flight() {
	[ "$(field 1 $S/bd_stat)" -eq $((base + 32)) ] && in_state_d $WB
}
check "the writeback's first batch (32) is in flight, the writer waits" \
	wait_until 60 batch_in_flight
inflight=$(($(field 1 $S/bd_stat) - base))
check_eq "exactly the batch is in flight: 32 pages" 32 "$inflight"
check "the three readers wait for the backing device (state D)" \
	wait_until 60 eval "in_state_d $R1 && in_state_d $R2 && in_state_d $R3"
# (bd_reads is not looked at: zram counts a read when it is issued)
check_eq "no write completed: bd_writes unchanged" 512 "$(field 3 $S/bd_stat)"

# all in memory: none of this waits for the backing device
check_eq "frozen: pages 0..63 (4 KiB reads)" "$(want_sum 0 64)" "$(dev_sum 0 64)"
check_eq "frozen: pages 0..255 (1 MiB read)" "$(want_sum 0 256)" "$(dev_sum 0 256 1048576)"
check_eq "frozen: pages 0..255 (4 KiB segments at page offset 3584)" "$(want_sum 0 256)" \
	"$(rb_sum $DEV 0 $((256 * P)) 4096 3584)"
check_eq "frozen: pages 0..255 (4 KiB segments at page offset 512)" "$(want_sum 0 256)" \
	"$(rb_sum $DEV 0 $((256 * P)) 4096 512)"
check "frozen: overwrite pages 0..15 (in flight)" put "$TMP/img4" 0 16
check "frozen: discard pages 16..31 (in flight)" discard 16 16
check "frozen: overwrite pages 128..143 (not reached)" put "$TMP/img4" 128 16
check "frozen: discard pages 144..159 (not reached)" discard 144 16
check "frozen: discard pages 600, 700 (being read), overwrite 601, discard 604" eval \
	"discard 600 1 && discard 700 1 && put $TMP/img4 601 1 && discard 604 1"
check_eq "frozen: pages 0..255 read back as written" "$(want_sum 0 256)" "$(dev_sum 0 256 1048576)"
check_eq "frozen: pages 600..604 read back as written (4 KiB reads)" \
	"$(want_sum 600 5)" "$(dev_sum 600 5)"
check "frozen: the writeback and the three readers still wait" eval \
	"[ ! -e $TMP/wb.rc ] && in_state_d $R1 && in_state_d $R2 && in_state_d $R3"

kmsg "resume"
check "resume $DM (not the watchdog)" eval "[ ! -e $TMP/watchdog ] && kill $WD && dmsetup resume $DM"
wait $R1
r1=$?
wait $R2
r2=$?
wait $R3
r3=$?
wait $WB
check_eq "the writeback succeeded" ok "$(cat "$TMP/wb.rc" 2>/dev/null)"
check_eq "reader 1 got pages 256..511 as they were" "0 $want_r1" "$r1 $(sha256 "$TMP/r1")"
check_eq "reader 2 got page 600 as it was before the discard" "0 $old600" "$r2 $(sha256 "$TMP/r2")"
# reader 3's first piece (3584 bytes) was looked up before the discard
# (the reader was waiting for it); its last 512 bytes are a second piece
# of the same bio, which a driver may look up before or after the discard
# (zeroes): not checked
check_eq "reader 3 got page 700's first 3584 bytes (a partial read) as before the discard" \
	"0 $old700" "$r3 $(head -c 3584 "$TMP/r3" | sha256sum | cut -d' ' -f1)"

# ---- after ------------------------------------------------------------------
# written back now: the random pages of 32..127 (48) and 160..255 (48);
# 128..143 rewritten before the writeback reached them (8); 256..511 from
# before (128); 512..1023 from before (256) but 600, 604 and 700
# discarded (601 rewritten, written back again).  Pages 0..15 were rewritten while
# in flight: their 8 random pages stay resident huge pages.
check_eq "bd_count: 485 pages written back, 8 resident huge pages" "485 8" \
	"$(field 1 $S/bd_stat) $(field 8 $S/mm_stat)"
check_eq "content (1 MiB reads)" "$(want_sum 0 $NP)" "$(dev_sum 0 $NP 1048576)"
check_eq "content (4 KiB reads)" "$(want_sum 0 $NP)" "$(dev_sum 0 $NP)"
check_eq "content (4 KiB segments at page offset 3584)" "$(want_sum 0 $NP)" "$(rb_sum $DEV 0 $SZ 4096 3584)"
check_wr "huge writeback of the rest" ok huge $S/writeback
check_eq "493 written back, none resident huge" "493 0" \
	"$(field 1 $S/bd_stat) $(field 8 $S/mm_stat)"
check_eq "io_stat: no failed read or write" "0 0" "$(field 1 $S/io_stat) $(field 2 $S/io_stat)"
check "discard everything" blkdiscard -f $DEV
check_eq "bd_count back to 0" 0 "$(field 1 $S/bd_stat)"
check "reset" attr_write 1 $S/reset
ktap_finish
