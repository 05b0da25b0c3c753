#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback to a backing device that is too small: a 512 KiB (128
# page) dm-linear device over $RZRAM_SMALL_DEV, 256 huge pages.
#
# Expected: the writeback fills the backing device and fails with ENOSPC
# (when a selected page finds no free block); bd_count equals the
# device's 128 pages (rzram, like zram since 6.19, also uses block 0);
# pages not written stay in memory and everything reads back unchanged;
# writeback_limit is charged only for pages written; nothing selected,
# nothing to fail; blocks freed by discard are reused; an exact fit
# succeeds.
. "$(dirname "$0")/lib.sh"
ktap_plan 38
S=/sys/block/rzram0
DEV=/dev/rzram0
P=4096
SPP=8	# sectors per page
DM=rzram_wb_enospc

EIO="Input/output error"
ENOSPC="No space left on device"

# dm_set TABLE: (re)load the table (lines) of $DM, creating it if needed
dm_set() {
	if dmsetup info $DM >/dev/null 2>&1; then
		dmsetup suspend $DM &&
		printf '%s\n' "$1" | dmsetup load $DM &&
		dmsetup resume $DM
	else
		printf '%s\n' "$1" | dmsetup create $DM
	fi
}
# init MIB: backing device $DM, disksize MIB, batch size 32, no limit
init() {
	attr_write /dev/mapper/$DM $S/backing_dev &&
	attr_write "$1"M $S/disksize &&
	attr_write 32 $S/writeback_batch_size &&
	attr_write 0 $S/writeback_limit_enable
}
# put FILE PAGE: write FILE over the image and the device at PAGE
put() {
	dd if="$1" of="$TMP/img" bs=$P seek="$2" conv=notrunc status=none &&
	dd if="$1" of=$DEV bs=$P seek="$2" oflag=direct status=none
}
# new_img MIB: a zero image of MIB MiB
new_img() { head -c $(($1 << 20)) /dev/zero >"$TMP/img"; }

# same DESC MIB: device content equals the image (first MIB MiB)
same() { check_eq "$1" "$(sha256 "$TMP/img" "$2")" "$(sha256 $DEV "$2")"; }

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "dmsetup remove $DM 2>/dev/null"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"

head -c $((256 * P)) /dev/urandom >"$TMP/rand"
for n in 1 50 100 128; do head -c $((n * P)) "$TMP/rand" >"$TMP/r$n"; done

check "dm-linear of 128 pages over $RZRAM_SMALL_DEV" \
	dm_set "0 $((128 * SPP)) linear $RZRAM_SMALL_DEV 0"
check "init 2M" init 2
check "limit enabled, writeback_limit 1000" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 1000 $S/writeback_limit"
new_img 2
check "write 256 huge pages" put "$TMP/rand" 0
check_wr "huge: ENOSPC" "$ENOSPC" huge $S/writeback
check_bd "bd_count is the device's 128 pages" "128 0 128"
check_eq "limit charged for the 128 written only" 872 "$(attr $S/writeback_limit)"
check_eq "128 huge pages still in memory" 128 "$(field 8 $S/mm_stat)"
same "checksum" 2
check_bd "bd_reads" "128 128 128"
check_wr "huge again: ENOSPC" "$ENOSPC" huge $S/writeback
check_wr "page_index of a page in memory: ENOSPC" "$ENOSPC" page_index=200 $S/writeback
check_wr "page_index of a written-back page: ok" ok page_index=0 $S/writeback
check_wr "page_indexes of empty pages: ok" ok page_indexes=300-400 $S/writeback
check_eq "nothing more written, limit unchanged" "128 128 128 872" \
	"$(bd) $(attr $S/writeback_limit)"
check "discard pages 0..49" blkdiscard -f -o 0 -l $((50 * P)) $DEV
dd if=/dev/zero of="$TMP/img" bs=$P count=50 conv=notrunc status=none
check_bd "50 blocks free again" "78 128 128"
check_wr "huge: ENOSPC after filling the freed blocks" "$ENOSPC" huge $S/writeback
check_bd "50 more written" "128 128 178"
check_eq "limit charged 50 more" 822 "$(attr $S/writeback_limit)"
check_eq "78 huge pages still in memory" 78 "$(field 8 $S/mm_stat)"
same "checksum" 2
check_bd "bd_reads" "128 256 178"
check "overwrite everything with zeroes" \
	dd if=/dev/zero of=$DEV bs=1M count=2 oflag=direct status=none
check_eq "bd_count 0" 0 "$(field 1 $S/bd_stat)"
# an exact fit: 128 huge pages into 128 free blocks
new_img 2
check "write 128 huge pages" put "$TMP/r128" 0
check "writeback_limit 128" attr_write 128 $S/writeback_limit
check_wr "huge: exact fit" ok huge $S/writeback
check_eq "the device is full, the budget used up" "128 256 306 0" \
	"$(bd) $(attr $S/writeback_limit)"
same "checksum" 2
check "one more huge page" put "$TMP/r1" 300
check "writeback_limit 10" attr_write 10 $S/writeback_limit
check_wr "huge: ENOSPC" "$ENOSPC" huge $S/writeback
check_eq "nothing written, limit refunded" "128 384 306 10" \
	"$(bd) $(attr $S/writeback_limit)"
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM
ktap_finish
