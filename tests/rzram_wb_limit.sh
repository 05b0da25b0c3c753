#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback_limit: with writeback_limit_enable=1 a writeback stops
# exactly when its budget (writeback_limit, 4K units) runs out, whatever
# the number of requests in flight (writeback_batch_size 1, 32, 256).
#
# Expected (zram 6.16+, which rzram mirrors): each page written charges
# one unit; when the budget is exhausted while selected pages remain the
# writeback fails with EIO after writing exactly the budget; a budget
# equal to the number of selected pages succeeds; with nothing selected
# the writeback succeeds even with a zero budget (the check runs per
# selected page); with writeback_limit_enable=0 the limit is neither
# enforced nor charged.
. "$(dirname "$0")/lib.sh"
ktap_plan 83
S=/sys/block/rzram0
DEV=/dev/rzram0

EIO="Input/output error"

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"

# 1 MiB image: 100 random (huge) pages, then zeroes
head -c $((100 * 4096)) /dev/urandom >"$TMP/img"
head -c $((156 * 4096)) /dev/zero >>"$TMP/img"
want=$(sha256 "$TMP/img")

for bs in 1 32 256; do
	diag "writeback_batch_size $bs"
	check "[bs $bs] init, write 100 huge pages" eval "
		attr_write $RZRAM_BACKING_DEV $S/backing_dev &&
		attr_write 1M $S/disksize &&
		dd if=$TMP/img of=$DEV bs=4096 count=100 oflag=direct status=none"
	check "[bs $bs] writeback_batch_size $bs" attr_write $bs $S/writeback_batch_size
	check "[bs $bs] limit enabled, writeback_limit 37" eval \
		"attr_write 1 $S/writeback_limit_enable && attr_write 37 $S/writeback_limit"
	check_wr "[bs $bs] huge: EIO when the budget runs out" "$EIO" huge $S/writeback
	check_bd "[bs $bs] exactly 37 pages written" "37 0 37"
	check_eq "[bs $bs] writeback_limit is 0" 0 "$(attr $S/writeback_limit)"
	check_eq "[bs $bs] huge_pages left in memory" 63 "$(field 8 $S/mm_stat)"
	check_eq "[bs $bs] checksum" "$want" "$(sha256 $DEV 1)"
	check_bd "[bs $bs] bd_reads after reading back" "37 37 37"
	check_wr "[bs $bs] huge with a zero budget: EIO" "$EIO" huge $S/writeback
	check_bd "[bs $bs] nothing written" "37 37 37"
	check "[bs $bs] writeback_limit 63" attr_write 63 $S/writeback_limit
	check_wr "[bs $bs] huge with a budget of exactly the 63 pages left" ok huge $S/writeback
	check_bd "[bs $bs] all 100 written" "100 37 100"
	check_eq "[bs $bs] writeback_limit is 0" 0 "$(attr $S/writeback_limit)"
	check_eq "[bs $bs] checksum" "$want" "$(sha256 $DEV 1)"
	check_bd "[bs $bs] bd_reads after reading back" "100 137 100"
	check "[bs $bs] reset" attr_write 1 $S/reset
done

# ---- more budget cases (batch size 32) ---------------------------------
check "init, write 100 huge pages" eval "
	attr_write 32 $S/writeback_batch_size &&
	attr_write $RZRAM_BACKING_DEV $S/backing_dev &&
	attr_write 1M $S/disksize &&
	dd if=$TMP/img of=$DEV bs=4096 count=100 oflag=direct status=none"
check_eq "limit settings survived the reset" "1 0" \
	"$(attr $S/writeback_limit_enable) $(attr $S/writeback_limit)"
check "writeback_limit 1000" attr_write 1000 $S/writeback_limit
check_wr "huge within the budget" ok huge $S/writeback
check_bd "100 pages written" "100 0 100"
check_eq "the budget was charged 100 units" 900 "$(attr $S/writeback_limit)"
check "writeback_limit 0" attr_write 0 $S/writeback_limit
check_wr "huge, zero budget, nothing to write: ok" ok huge $S/writeback
check_wr "page_indexes=0-99, zero budget, nothing to write: ok" ok page_indexes=0-99 $S/writeback
# pages 200..209: ten new huge pages
head -c $((10 * 4096)) /dev/urandom >"$TMP/more"
dd if="$TMP/more" of="$TMP/img" bs=4096 seek=200 conv=notrunc status=none
want=$(sha256 "$TMP/img")
check "write 10 huge pages at 200..209" \
	dd if="$TMP/more" of=$DEV bs=4096 seek=200 oflag=direct status=none
check_wr "huge, zero budget: EIO" "$EIO" huge $S/writeback
check_wr "page_index=200, zero budget: EIO" "$EIO" page_index=200 $S/writeback
check_bd "nothing written" "100 0 100"
check "writeback_limit 2" attr_write 2 $S/writeback_limit
check_wr "page_indexes=200-202 with a budget of 2: EIO" "$EIO" page_indexes=200-202 $S/writeback
check_bd "2 pages written" "102 0 102"
check_eq "writeback_limit is 0" 0 "$(attr $S/writeback_limit)"
check "writeback_limit 1" attr_write 1 $S/writeback_limit
check_wr "page_index=202 with a budget of 1: ok" ok page_index=202 $S/writeback
check_bd "1 page written" "103 0 103"
check "writeback_limit 5, limit disabled" eval \
	"attr_write 5 $S/writeback_limit && attr_write 0 $S/writeback_limit_enable"
check_wr "huge with the limit disabled" ok huge $S/writeback
check_bd "the 7 pages left written" "110 0 110"
check_eq "a disabled limit is not charged" 5 "$(attr $S/writeback_limit)"
check_eq "final checksum" "$want" "$(sha256 $DEV 1)"
check_bd "bd_reads after reading back" "110 110 110"
check "reset" attr_write 1 $S/reset
ktap_finish
