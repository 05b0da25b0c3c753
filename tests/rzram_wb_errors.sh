#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback with a backing device that fails I/O (ENOSPC is in
# rzram_wb_enospc.sh).  Expected, as zram since 6.19: a failed bio does
# not stop the writeback; the last error (EIO) is returned; the failed
# page stays in memory, its block is released and its writeback_limit
# charge refunded.
#
# 1. Every write fails (dm-flakey, error_writes): EIO; nothing written,
#    no block leaked, the limit refunded, data intact in memory.
# 2. Writes fail past the first 50 blocks (dm linear + error): 50 pages
#    written (bd_count == bd_writes == 50 with a lowest-first or next-fit
#    block allocator), the rest in memory; limit refunded; once the
#    table is all linear the rest is written.
# 3. A written-back page whose block cannot be read: the read fails with
#    EIO, the page stays written back and reads fine once the device is
#    back.
# 4. Errors on every other block: mixed results inside one batch; no
#    block leaked (bd_count == bd_writes).
# Every step checks the device content by checksum.
. "$(dirname "$0")/lib.sh"
ktap_plan 55
S=/sys/block/rzram0
DEV=/dev/rzram0
P=4096
SPP=8	# sectors per page
DM=rzram_wb_err

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

# ---- 1. every write fails ---------------------------------------------------
diag "1. every write fails (dm-flakey error_writes)"
check "modprobe dm-flakey" modprobe dm-flakey
check "dm-flakey over $RZRAM_BACKING_DEV, writes always fail" \
	dm_set "0 $((512 * SPP)) flakey $RZRAM_BACKING_DEV 0 0 1 1 error_writes"
check "init 1M" init 1
check "limit enabled, writeback_limit 1000" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 1000 $S/writeback_limit"
new_img 1
check "write 128 huge pages" put "$TMP/r128" 0
check_wr "huge: EIO" "$EIO" huge $S/writeback
check_bd "nothing written, no block leaked" "0 0 0"
check_eq "limit refunded" 1000 "$(attr $S/writeback_limit)"
check_eq "all 128 huge pages still in memory" 128 "$(field 8 $S/mm_stat)"
same "checksum" 1
check_wr "huge again: EIO (the pages stay eligible)" "$EIO" huge $S/writeback
check_wr "page_index=5: EIO" "$EIO" page_index=5 $S/writeback
check_eq "nothing written, limit refunded" "0 0 0 1000" "$(bd) $(attr $S/writeback_limit)"
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM

# ---- 2. writes fail past block 50 -------------------------------------------
diag "2. blocks 50.. fail"
check "dm table: 50 pages linear, 450 pages error" dm_set \
	"0 $((50 * SPP)) linear $RZRAM_BACKING_DEV 0
$((50 * SPP)) $((450 * SPP)) error"
check "init 1M" init 1
new_img 1
check "write 100 huge pages" put "$TMP/r100" 0
check_wr "huge: EIO" "$EIO" huge $S/writeback
check_bd "50 written, failed writes' blocks released" "50 0 50"
check_eq "50 huge pages still in memory" 50 "$(field 8 $S/mm_stat)"
same "checksum" 1
check_bd "bd_reads" "50 50 50"
check "limit enabled, writeback_limit 25" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 25 $S/writeback_limit"
check_wr "huge: EIO" "$EIO" huge $S/writeback
check_eq "no block leaked, limit refunded" "50 50 50 25" "$(bd) $(attr $S/writeback_limit)"
check "limit disabled" attr_write 0 $S/writeback_limit_enable
check "the table becomes all linear" dm_set "0 $((500 * SPP)) linear $RZRAM_BACKING_DEV 0"
check_wr "huge: ok" ok huge $S/writeback
check_bd "the other 50 written" "100 50 100"
same "checksum" 1
check_bd "bd_reads" "100 150 100"

# ---- 3. read errors (on the 100 written-back pages of step 2) --------------
diag "3. the backing device fails reads"
check "the table becomes all error" dm_set "0 $((500 * SPP)) error"
check_fails "reading a written-back page fails" \
	dd if=$DEV of=/dev/null bs=$P count=1 iflag=direct status=none
check_eq "the page stays written back" 100 "$(field 1 $S/bd_stat)"
check "the table becomes linear again" dm_set "0 $((500 * SPP)) linear $RZRAM_BACKING_DEV 0"
same "checksum" 1
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM

# ---- 4. every other block fails ------------------------------------------
diag "4. every other block fails"
table=$(for ((b = 0; b < 500; b++)); do
	if ((b % 2)); then t=error; else t="linear $RZRAM_BACKING_DEV $((b * SPP))"; fi
	echo "$((b * SPP)) $SPP $t"
done)
check "dm table: odd blocks error" dm_set "$table"
check "init 1M" init 1
new_img 1
check "write 50 huge pages" put "$TMP/r50" 0
check_wr "huge: EIO" "$EIO" huge $S/writeback
read -r cnt rd wrt <$S/bd_stat
diag "bd_stat: $cnt $rd $wrt"
check_eq "bd_count == bd_writes (no block leaked)" "$wrt" "$cnt"
check "some pages written, some not" test "$wrt" -gt 0 -a "$wrt" -lt 50
check_eq "the others are still in memory" $((50 - wrt)) "$(field 8 $S/mm_stat)"
same "checksum" 1
check "the table becomes all linear" dm_set "0 $((500 * SPP)) linear $RZRAM_BACKING_DEV 0"
check_wr "huge: ok" ok huge $S/writeback
check_eq "all 50 written back" "50 0" "$(field 1 $S/bd_stat) $(field 8 $S/mm_stat)"
same "checksum" 1
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM
ktap_finish
