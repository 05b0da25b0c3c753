#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Read-back integrity, by checksum, at every request shape, on the
# in-tree zram (baseline, same boot) and on rzram.
#
# A 4 MiB device (1024 pages) holds pages of four kinds in turn (random,
# random, compressible, same-filled: rbhelper gen).  `huge` writes the
# random ones back; 64 pages are then rewritten (their random pages stay
# resident as huge pages, their old blocks are released) and 64 are
# discarded.  So every 16 KiB of the device mixes written-back, resident
# (zsmalloc, raw and compressed), same-filled and, at the end, empty
# pages.  Then the whole device is read with each shape and compared with
# the expected image:
#	4 KiB O_DIRECT reads, 1 MiB O_DIRECT reads;
#	one preadv of 4 KiB segments that each start 512 bytes into a page:
#	every page of the device arrives as two partial segments, 3584
#	bytes at page offset 0 and 512 bytes at page offset 3584;
#	the same starting 3584 bytes into a page (512 + 3584);
#	12 KiB segments starting 3072 bytes into a page (1024 + 3072 per
#	device page: segment and page boundaries never meet);
#	1 MiB segments starting 512 bytes into a page (every bvec partial);
#	buffered reads (page cache dropped first), of the whole device and
#	of 20000 bytes at byte 1000;
#	one written-back page as 512 + 3584 bytes.
# The disk's logical block size is 4096, so O_DIRECT needs 4 KiB
# multiples in offset and in each segment's length; only the memory may
# be misaligned (to 512 bytes): partial-page pieces come from there.
# Each read must also have read from the backing device (bd_reads grew;
# by exactly one per written-back page for the aligned 4 KiB and 1 MiB
# reads), and no read may fail (io_stat).
#
# zram 6.12 runs the aligned and buffered shapes as a baseline.  The
# misaligned ones it gets wrong on 4 KiB-page machines (without
# ZRAM_PARTIAL_IO it takes every bvec for a whole page and ignores its
# offset), for resident pages as for written-back ones: for zram they
# are only reported (diagnostics), not cases.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
NP=1024
SZ=$((NP * P))
WB_PAGES=448	# random pages (512) minus 32 rewritten, 32 discarded

ktap_plan $((2 * 28 - 2 * 5))

# setup DRV BACKING: load DRV, init 4 MiB on BACKING, fill, write back,
# rewrite and discard; sets DEV and S
setup() {
	DRV=$1 DEV=/dev/${1}0 S=/sys/block/${1}0
	if [ $DRV = zram ]; then
		check "zram: modprobe zram" modprobe zram num_devices=1 || return 1
	else
		check "rzram: insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || return 1
	fi
	check_blockdev "$DRV: $DEV is a block device" $DEV || return 1
	check "$DRV: backing_dev $2, disksize 4M" eval "attr_write $2 $S/backing_dev &&
		attr_write 4M $S/disksize &&
		{ [ $DRV = zram ] || attr_write 32 $S/writeback_batch_size; }" || return 1
	check "$DRV: write $NP pages of 4 kinds" \
		dd if="$TMP/img1" of=$DEV bs=1M oflag=direct status=none || return 1
	check_wr "$DRV: huge writeback" ok huge $S/writeback
	check_bd "$DRV: the 512 random pages written back" "512 0 512"
	check "$DRV: rewrite pages 512..575, discard pages 960..1023" eval \
		"dd if=$TMP/img2 of=$DEV bs=$P skip=512 seek=512 count=64 oflag=direct status=none &&
		 blkdiscard -f -o $((960 * P)) -l $((64 * P)) $DEV"
	check_eq "$DRV: $WB_PAGES pages written back, 32 resident huge pages" \
		"$WB_PAGES 0 512 32" "$(bd) $(field 8 $S/mm_stat)"
}

# shape DESC EXACT CMD...: CMD prints the sha256 of what it read; it must
# be the image's (or, with OFF LEN in SHAPE_RANGE, that part of it), and
# bd_reads must grow (by exactly $WB_PAGES if EXACT is "exact").  EXACT
# "misaligned": on zram, only say whether it matched.
shape() {
	local desc=$1 exact=$2 r0 r1 want got
	shift 2
	want=$(img_sum "$TMP/want" ${SHAPE_RANGE:-0 $SZ})
	r0=$(field 2 $S/bd_stat)
	got=$("$@")
	r1=$(field 2 $S/bd_stat)
	if [ $DRV = zram ] && [ $exact = misaligned ]; then
		diag "zram: $desc: $([ "$want" = "$got" ] && echo "right" || echo "WRONG content") ($((r1 - r0)) backing reads; not a case, see the top)"
		return
	fi
	check_eq "$DRV: $desc: content" "$want" "$got"
	if [ "$exact" = exact ]; then
		check_eq "$DRV: $desc: one backing read per written-back page" $WB_PAGES $((r1 - r0))
	else
		check "$DRV: $desc: read from the backing device ($((r1 - r0)) reads)" \
			test $((r1 - r0)) -gt 0
	fi
}
dd_sum() { dd if=$DEV bs="$1" iflag=direct status=none | sha256sum | cut -d' ' -f1; }

shapes() {
	shape "4 KiB O_DIRECT reads" exact dd_sum 4K
	shape "1 MiB O_DIRECT reads" exact dd_sum 1M
	shape "4 KiB segments at page offset 512" misaligned rb_sum $DEV 0 $SZ 4096 512
	shape "4 KiB segments at page offset 3584" misaligned rb_sum $DEV 0 $SZ 4096 3584
	SHAPE_RANGE="0 4190208" shape "12 KiB segments at page offset 3072" misaligned \
		rb_sum $DEV 0 4190208 12288 3072
	shape "1 MiB segments at page offset 512" misaligned rb_sum $DEV 0 $SZ 1048576 512
	shape "buffered read of the whole device" buffered rb_sum $DEV 0 $SZ $SZ 0 buffered
	SHAPE_RANGE="1000 20000" shape "buffered read of 20000 bytes at byte 1000" buffered \
		rb_sum $DEV 1000 20000 20000 100 buffered
	SHAPE_RANGE="$((4 * P)) $P" shape "one written-back page as 512 + 3584 bytes" misaligned \
		rb_sum $DEV $((4 * P)) $P 4096 3584
	check_eq "$DRV: io_stat: no failed read" 0 "$(field 1 $S/io_stat)"
}

teardown() {
	check "$DRV: reset, unload" eval "attr_write 1 $S/reset && rmmod $DRV"
}

at_exit '[ ! -e /sys/module/zram ] || { echo 1 >/sys/block/zram0/reset; rmmod zram; }'
at_exit '[ ! -e /sys/module/rzram ] || { echo 1 >/sys/block/rzram0/reset; rmmod rzram; }'
modprobe zsmalloc 2>/dev/null
[ -e /sys/module/zram ] && rmmod zram

"$RB" gen $NP 11 >"$TMP/img1"
"$RB" gen $NP 22 >"$TMP/img2"
cp "$TMP/img1" "$TMP/want"
dd if="$TMP/img2" of="$TMP/want" bs=$P skip=512 seek=512 count=64 conv=notrunc status=none
dd if=/dev/zero of="$TMP/want" bs=$P seek=960 count=64 conv=notrunc status=none

kmsg "zram"
if setup zram $RZRAM_SMALL_DEV; then
	shapes
	teardown
else
	ktap_abort "zram setup failed"
fi
kmsg "rzram"
if setup rzram $RZRAM_BACKING_DEV; then
	shapes
	teardown
else
	ktap_abort "rzram setup failed"
fi
ktap_finish
