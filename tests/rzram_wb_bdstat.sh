#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram bd_stat ("bd_count bd_reads bd_writes", 4K units, "%8llu" each):
# exact after writeback, after reading written-back pages (each page read
# from the backing device counts once in bd_reads and stays written
# back), after overwriting them (in place, with zeroes, and with
# write-zeroes) and after discarding them: their backing blocks are
# released and bd_count returns to its baseline.  mm_stat's
# orig_data_size counts written-back pages as stored, as in zram.
#
# blkdiscard runs with -f: otherwise it first probes the device for
# filesystem signatures, and those (buffered) reads of written-back pages
# count in bd_reads.
. "$(dirname "$0")/lib.sh"
ktap_plan 46
S=/sys/block/rzram0
DEV=/dev/rzram0
MIB=2
P=4096

stored() { echo $(($(field 1 $S/mm_stat) / P)); }
# put FILE PAGE: write FILE over the image and the device at PAGE
put() {
	dd if="$1" of="$TMP/img" bs=$P seek="$2" conv=notrunc status=none &&
	dd if="$1" of=$DEV bs=$P seek="$2" oflag=direct status=none
}
# zero_img FIRST N: pages FIRST.. of the image become zeroes
zero_img() {
	dd if=/dev/zero of="$TMP/img" bs=$P seek="$1" count="$2" conv=notrunc status=none
}

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"
check "backing_dev, disksize ${MIB}M" eval \
	"attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write ${MIB}M $S/disksize"
check_bd "bd_stat baseline" "0 0 0"

head -c $((MIB << 20)) /dev/zero >"$TMP/img"
head -c $((256 * P)) /dev/urandom >"$TMP/rand"
check "write 256 random pages" put "$TMP/rand" 0
check_eq "checksum" "$(sha256 "$TMP/img")" "$(sha256 $DEV $MIB)"
check_bd "no bd_stat change from memory I/O" "0 0 0"

check "writeback huge" attr_write huge $S/writeback
check_eq "bd_stat format" "$(printf '%8d %8d %8d' 256 0 256)" "$(attr $S/bd_stat)"
check_eq "orig_data_size still counts the 256 pages" 256 "$(stored)"
check_eq "huge_pages 0" 0 "$(field 8 $S/mm_stat)"
check_eq "checksum after writeback" "$(sha256 "$TMP/img")" "$(sha256 $DEV $MIB)"
check_bd "each page read once from the backing device" "256 256 256"
check "read pages 0..9 again" dd if=$DEV of=/dev/null bs=$P count=10 iflag=direct status=none
check_bd "read again: bd_reads +10, pages stay written back" "256 266 256"

# overwrite pages 0..49 with new random data
head -c $((50 * P)) /dev/urandom >"$TMP/new"
check "overwrite pages 0..49" put "$TMP/new" 0
check_bd "overwritten: 50 blocks released" "206 266 256"
check_eq "orig_data_size unchanged" 256 "$(stored)"
# discard pages 50..99
check "discard pages 50..99" blkdiscard -f -o $((50 * P)) -l $((50 * P)) $DEV
zero_img 50 50
check_bd "discarded: 50 blocks released" "156 266 256"
check_eq "orig_data_size -50" 206 "$(stored)"
# write zeroes over pages 100..149
check "write-zeroes pages 100..149" blkdiscard -f -z -o $((100 * P)) -l $((50 * P)) $DEV
zero_img 100 50
check_bd "zeroed: 50 blocks released" "106 266 256"
# overwrite pages 150..199 with a same-filled pattern
printf 'rzram!!\n%.0s' $(seq 512) | head -c $P >"$TMP/pat1"
for i in $(seq 50); do cat "$TMP/pat1"; done >"$TMP/pat"
check "overwrite pages 150..199 with same-filled pages" put "$TMP/pat" 150
check_bd "same-filled: 50 blocks released" "56 266 256"
check_eq "same_pages 50" 50 "$(field 6 $S/mm_stat)"
check_eq "checksum" "$(sha256 "$TMP/img")" "$(sha256 $DEV $MIB)"
check_bd "only pages 200..255 read from the backing device" "56 322 256"

# the new pages 0..49 are huge and in memory: write them back
check "writeback huge again" attr_write huge $S/writeback
check_bd "50 more blocks" "106 322 306"
check_eq "checksum" "$(sha256 "$TMP/img")" "$(sha256 $DEV $MIB)"
check_bd "bd_reads +106" "106 428 306"

# a discard of the whole device releases every block
check "discard everything" blkdiscard -f $DEV
head -c $((MIB << 20)) /dev/zero >"$TMP/img"
check_bd "bd_count back to the baseline" "0 428 306"
check_eq "nothing stored" 0 "$(stored)"
check_eq "checksum: all zeroes" "$(sha256 "$TMP/img")" "$(sha256 $DEV $MIB)"
check_bd "no read from the backing device" "0 428 306"

# blocks are reusable
check "write 256 random pages" put "$TMP/rand" 0
check "writeback huge" attr_write huge $S/writeback
check_bd "256 blocks again" "256 428 562"
check_eq "checksum" "$(sha256 "$TMP/img")" "$(sha256 $DEV $MIB)"
check_bd "bd_reads +256" "256 684 562"
check "overwrite everything with zeroes" \
	dd if=/dev/zero of=$DEV bs=1M count=$MIB oflag=direct status=none
check_bd "bd_count back to the baseline" "0 684 562"
check "reset" attr_write 1 $S/reset
check_bd "bd_stat after reset" "0 0 0"
ktap_finish
