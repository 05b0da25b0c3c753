#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Smoke test of rzram's data path: write, read back by checksum, write
# back to a backing device (huge pages), read back again, reset.
. "$(dirname "$0")/lib.sh"
ktap_plan 14
S=/sys/block/rzram0

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no disk"
check "backing_dev set to $RZRAM_BACKING_DEV" attr_write "$RZRAM_BACKING_DEV" $S/backing_dev
check "disksize 16M" attr_write 16M $S/disksize
# 2 MiB random (huge), 2 MiB text (compressible), 1 MiB zeroes (same-filled)
make_data "$TMP/rand" 2
yes "rzram smoke test line" | head -c $((2 << 20)) >"$TMP/text"
head -c $((1 << 20)) /dev/zero >"$TMP/zero"
cat "$TMP/rand" "$TMP/text" "$TMP/zero" >"$TMP/all"
want=$(sha256 "$TMP/all")
check "write 5 MiB" dd if="$TMP/all" of=/dev/rzram0 bs=1M oflag=direct status=none
check_eq "read back matches" "$want" "$(sha256 /dev/rzram0 5)"
diag "mm_stat: $(cat $S/mm_stat)"
check_eq "same_pages is 256" 256 "$(field 6 $S/mm_stat)"
check_eq "huge_pages is 512" 512 "$(field 8 $S/mm_stat)"
check "writeback huge" attr_write huge $S/writeback
diag "bd_stat: $(cat $S/bd_stat)"
check_eq "bd_count is 512 pages" 512 "$(field 1 $S/bd_stat)"
check_eq "read back after writeback matches" "$want" "$(sha256 /dev/rzram0 5)"
check_eq "bd_reads is 512" 512 "$(field 2 $S/bd_stat)"
check "reset" attr_write 1 $S/reset
check_eq "backing_dev is none after reset" none "$(cat $S/backing_dev)"
ktap_finish
