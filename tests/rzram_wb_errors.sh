#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback errors from the backing device.
#
# 1. Backing device full: a 1 MiB (256 page) dm-linear device over
#    $RZRAM_SMALL_DEV and 512 huge pages.  The writeback fills the device
#    and fails with ENOSPC; bd_count equals the device's pages; pages not
#    written stay in memory; the limit is charged only for pages written.
#    Freed blocks are reused; an exact fit succeeds.
# 2. Every write fails (dm-flakey, error_writes): EIO; nothing written, no
#    block leaked, the writeback limit refunded, data intact in memory.
# 3. Writes fail past the first 100 blocks (dm linear + error): a bio
#    error does not stop the writeback, the last error (EIO) is returned;
#    the blocks of failed writes are released (bd_count == bd_writes ==
#    100 with a lowest-first or next-fit block allocator), the limit is
#    refunded; once the table is all linear the rest is written.
# 4. A written-back page whose block cannot be read: the read fails with
#    EIO, the page stays written back and reads fine once the device is
#    back.
# 5. Errors on every other block: mixed results inside one batch.
# Every step checks the device content by checksum.
. "$(dirname "$0")/lib.sh"
ktap_plan 90
S=/sys/block/rzram0
DEV=/dev/rzram0
P=4096
SPP=8	# sectors per page
DM=rzram_wb_err

# wr VAL FILE: write VAL to FILE (no fork: this guest is slow); sets WR
# to "ok" or to the error text of the failed write ("Invalid argument")
wr() {
	if { echo "$1" >"$2"; } 2>"$TMP/wr.$BASHPID"; then
		WR=ok
	else
		read -r WR <"$TMP/wr.$BASHPID"
		WR=${WR##*: }
	fi
}
# check_wr DESC EXPECTED VAL FILE
check_wr() { wr "$3" "$4"; check_eq "$1" "$2" "$WR"; }
# bd: bd_stat as "COUNT READS WRITES"
bd() {
	local c r w
	read -r c r w <$S/bd_stat
	echo "$c $r $w"
}
# check_bd DESC "COUNT READS WRITES": bd_stat, exactly
check_bd() {
	local c r w
	read -r c r w <$S/bd_stat
	check_eq "$1" "$2" "$c $r $w"
}
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
# same MIB: device content equals the image
same() { check_eq "$1" "$(sha256 "$TMP/img")" "$(sha256 $DEV "$2")"; }

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "dmsetup remove $DM 2>/dev/null"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"

# ---- 1. backing device full -------------------------------------------------
diag "1. backing device full"
check "dm-linear of 256 pages over $RZRAM_SMALL_DEV" \
	dm_set "0 $((256 * SPP)) linear $RZRAM_SMALL_DEV 0"
check "init 4M" init 4
check "limit enabled, writeback_limit 1000" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 1000 $S/writeback_limit"
new_img 4
head -c $((512 * P)) /dev/urandom >"$TMP/rand"
for n in 1 100 200 256; do head -c $((n * P)) "$TMP/rand" >"$TMP/r$n"; done
check "write 512 huge pages" put "$TMP/rand" 0
check_wr "huge: ENOSPC" "$ENOSPC" huge $S/writeback
check_bd "bd_count is the device's 256 pages" "256 0 256"
check_eq "limit charged for the 256 written only" 744 "$(attr $S/writeback_limit)"
check_eq "256 huge pages still in memory" 256 "$(field 8 $S/mm_stat)"
same "checksum" 4
check_bd "bd_reads" "256 256 256"
check_wr "huge again: ENOSPC" "$ENOSPC" huge $S/writeback
check_wr "page_index of a page in memory: ENOSPC" "$ENOSPC" page_index=300 $S/writeback
check_wr "page_index of a written-back page: ok" ok page_index=0 $S/writeback
check_eq "nothing more written, limit unchanged" "256 256 256 744" \
	"$(bd) $(attr $S/writeback_limit)"
check "discard pages 0..99" blkdiscard -o 0 -l $((100 * P)) $DEV
dd if=/dev/zero of="$TMP/img" bs=$P count=100 conv=notrunc status=none
check_bd "100 blocks free again" "156 256 256"
check_wr "huge: ENOSPC after filling the freed blocks" "$ENOSPC" huge $S/writeback
check_bd "100 more written" "256 256 356"
check_eq "limit charged 100 more" 644 "$(attr $S/writeback_limit)"
same "checksum" 4
check_bd "bd_reads" "256 512 356"
check "overwrite everything with zeroes" \
	dd if=/dev/zero of=$DEV bs=1M count=4 oflag=direct status=none
check_eq "bd_count 0" 0 "$(field 1 $S/bd_stat)"
# an exact fit: 256 huge pages into 256 free blocks
new_img 4
check "write 256 huge pages" put "$TMP/r256" 0
check "writeback_limit 256" attr_write 256 $S/writeback_limit
check_wr "huge: exact fit" ok huge $S/writeback
check_eq "the device is full" "256 512 612 0" "$(bd) $(attr $S/writeback_limit)"
same "checksum" 4
check "one more huge page" put "$TMP/r1" 300
check "writeback_limit 10" attr_write 10 $S/writeback_limit
check_wr "huge: ENOSPC" "$ENOSPC" huge $S/writeback
check_eq "limit refunded" 10 "$(attr $S/writeback_limit)"
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM

# ---- 2. every write fails ---------------------------------------------------------
diag "2. every write fails (dm-flakey error_writes)"
check "modprobe dm-flakey" modprobe dm-flakey
check "dm-flakey over $RZRAM_BACKING_DEV, writes always fail" \
	dm_set "0 $((1024 * SPP)) flakey $RZRAM_BACKING_DEV 0 0 1 1 error_writes"
check "init 1M" init 1
check "limit enabled, writeback_limit 1000" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 1000 $S/writeback_limit"
new_img 1
check "write 256 huge pages" put "$TMP/r256" 0
check_wr "huge: EIO" "$EIO" huge $S/writeback
check_bd "nothing written, no block leaked" "0 0 0"
check_eq "limit refunded" 1000 "$(attr $S/writeback_limit)"
check_eq "all 256 huge pages still in memory" 256 "$(field 8 $S/mm_stat)"
same "checksum" 1
check_wr "huge again: EIO (the pages stay eligible)" "$EIO" huge $S/writeback
check_wr "page_index=5: EIO" "$EIO" page_index=5 $S/writeback
check_eq "nothing written, limit refunded" "0 0 0 1000" "$(bd) $(attr $S/writeback_limit)"
same "checksum" 1
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM

# ---- 3. writes fail past block 100 ------------------------------------------------
diag "3. blocks 100.. fail"
check "dm table: 100 pages linear, 900 pages error" dm_set \
	"0 $((100 * SPP)) linear $RZRAM_BACKING_DEV 0
$((100 * SPP)) $((900 * SPP)) error"
check "init 1M" init 1
new_img 1
check "write 200 huge pages" put "$TMP/r200" 0
check_wr "huge: EIO" "$EIO" huge $S/writeback
check_bd "100 written, failed writes' blocks released" "100 0 100"
check_eq "100 huge pages still in memory" 100 "$(field 8 $S/mm_stat)"
same "checksum" 1
check_bd "bd_reads" "100 100 100"
check "limit enabled, writeback_limit 50" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 50 $S/writeback_limit"
check_wr "huge: EIO" "$EIO" huge $S/writeback
check_eq "no block leaked, limit refunded" "100 100 100 50" "$(bd) $(attr $S/writeback_limit)"
check "limit disabled" attr_write 0 $S/writeback_limit_enable
check "the table becomes all linear" dm_set "0 $((1000 * SPP)) linear $RZRAM_BACKING_DEV 0"
check_wr "huge: ok" ok huge $S/writeback
check_bd "the other 100 written" "200 100 200"
same "checksum" 1
check_bd "bd_reads" "200 300 200"

# ---- 4. read errors (on the 200 written-back pages of step 3) --------------
diag "4. the backing device fails reads"
check "the table becomes all error" dm_set "0 $((1000 * SPP)) error"
check_fails "reading a written-back page fails" \
	dd if=$DEV of=/dev/null bs=$P count=1 iflag=direct status=none
check_eq "the page stays written back" 200 "$(field 1 $S/bd_stat)"
check "the table becomes linear again" dm_set "0 $((1000 * SPP)) linear $RZRAM_BACKING_DEV 0"
same "checksum" 1
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM

# ---- 5. every other block fails ------------------------------------------
diag "5. every other block fails"
table=$(for ((b = 0; b < 1000; b++)); do
	if ((b % 2)); then t=error; else t="linear $RZRAM_BACKING_DEV $((b * SPP))"; fi
	echo "$((b * SPP)) $SPP $t"
done)
check "dm table: odd blocks error" dm_set "$table"
check "init 1M" init 1
new_img 1
check "write 100 huge pages" put "$TMP/r100" 0
check_wr "huge: EIO" "$EIO" huge $S/writeback
read -r cnt rd wrt < <(cat $S/bd_stat)
diag "bd_stat: $cnt $rd $wrt"
check_eq "bd_count == bd_writes (no block leaked)" "$wrt" "$cnt"
check "some pages written, some not" test "$wrt" -gt 0 -a "$wrt" -lt 100
check_eq "the others are still in memory" $((100 - wrt)) "$(field 8 $S/mm_stat)"
same "checksum" 1
check "the table becomes all linear" dm_set "0 $((1000 * SPP)) linear $RZRAM_BACKING_DEV 0"
check_wr "huge: ok" ok huge $S/writeback
check_eq "all 100 written back" "100 0" "$(field 1 $S/bd_stat) $(field 8 $S/mm_stat)"
same "checksum" 1
check "reset" attr_write 1 $S/reset
check "dmsetup remove" dmsetup remove $DM
ktap_finish
