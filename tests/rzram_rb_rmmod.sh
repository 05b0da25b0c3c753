#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rmmod right after a burst of reads of written-back pages, 20 times.
# Each round loads rzram, writes 256 random pages to a 1 MiB device,
# writes them all back, then rbhelper readrm: 4 processes read the 256
# pages (4 KiB O_DIRECT, each from the backing device), and the moment
# the last read returns, the same process resets the device and calls
# delete_module, with no exec in between, so anything the read path
# leaves running after it completes the read (a worker finishing its
# closure, a completion touching the module's data) runs into the
# unload.  Every round must succeed and leave the module unloaded; the
# runner fails on any oops or KASAN report, and its kmemleak scan at the
# end on anything the rounds leaked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
S=/sys/block/rzram0
DEV=/dev/rzram0
ROUNDS=${rzram_rb_rounds:-20}

ktap_plan $((ROUNDS + 2))
at_exit '[ ! -e /sys/module/rzram ] || { echo 1 >'$S'/reset; rmmod rzram; }'
modprobe zsmalloc 2>/dev/null
head -c $((256 * P)) /dev/urandom >"$TMP/img"
# first round in detail, so a broken setup is told apart from the unload
check "insmod, write 256 pages, write them back" eval "insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} &&
	[ -b $DEV ] && attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 1M $S/disksize &&
	dd if=$TMP/img of=$DEV bs=1M oflag=direct status=none && attr_write huge $S/writeback" ||
	ktap_abort "setup failed"
check_eq "256 pages written back, read back by checksum" "256 $(sha256 "$TMP/img")" \
	"$(field 1 $S/bd_stat) $(sha256 $DEV 1)"
echo 1 >$S/reset
rmmod rzram

# round I: everything in one check, the output shown on failure
round() {
	insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || return 1
	[ -b $DEV ] || { echo "no $DEV"; return 1; }
	attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 1M $S/disksize &&
		dd if="$TMP/img" of=$DEV bs=1M oflag=direct status=none &&
		attr_write huge $S/writeback || return 1
	[ "$(field 1 $S/bd_stat)" = 256 ] || { echo "bd_stat $(bd)"; return 1; }
	"$RB" readrm $DEV 256 4 $S/reset rzram || return 1
	[ ! -e /sys/module/rzram ] || { echo "rzram still loaded"; return 1; }
}
for ((i = 1; i <= ROUNDS; i++)); do
	kmsg "round $i"
	check "round $i: write back, burst of reads, reset and rmmod at once" round
done
ktap_finish
