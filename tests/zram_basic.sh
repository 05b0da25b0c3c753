#!/bin/bash
# In-tree zram end to end: the baseline rzram is compared with, and a
# check that the test setup itself (modules, sysfs, O_DIRECT, checksums)
# works.  Load zram, size it, write 8 MiB of random data, read it back,
# check mm_stat, reset, unload.
. "$(dirname "$0")/lib.sh"

DEV=/dev/zram0
SYS=/sys/block/zram0
MIB=8

ktap_plan 14

# leftovers from an earlier program would make the results meaningless
if [ -e /sys/module/zram ]; then
	diag "zram already loaded, unloading it first"
	[ -e $SYS/reset ] && echo 1 >$SYS/reset
	rmmod zram || true
fi
zsmalloc_was_loaded=no
[ -e /sys/module/zsmalloc ] && zsmalloc_was_loaded=yes

# cleanups run last-registered first: reset, unload, unload zsmalloc
at_exit '[ $zsmalloc_was_loaded = yes ] || [ ! -e /sys/module/zsmalloc ] || modprobe -r zsmalloc'
at_exit '[ ! -e /sys/module/zram ] || rmmod zram'
at_exit '[ ! -e '$SYS'/reset ] || echo 1 >'$SYS'/reset'

kmsg "start"
check "modprobe zram num_devices=1" modprobe zram num_devices=1 ||
	ktap_abort "zram did not load"
check_blockdev "$DEV is a block device" $DEV ||
	ktap_abort "no $DEV"

check "disksize accepts 64M" attr_write 64M $SYS/disksize
check_eq "initstate is 1" 1 "$(attr $SYS/initstate)"
check_eq "disksize reads back 67108864" 67108864 "$(attr $SYS/disksize)"

# random data, so nothing is same-filled and every page is stored
make_data "$TMP/data" $MIB
want=$(sha256 "$TMP/data")
check "write $MIB MiB of random data (O_DIRECT)" \
	dd if="$TMP/data" of=$DEV bs=1M count=$MIB oflag=direct conv=fsync status=none
check_eq "O_DIRECT read back matches sha256" "$want" "$(sha256 $DEV $MIB)"
# and once through the page cache, after dropping the device's cache
blockdev --flushbufs $DEV
check_eq "buffered read back matches sha256" "$want" \
	"$(dd if=$DEV bs=1M count=$MIB status=none | sha256sum | cut -d' ' -f1)"

# mm_stat field 1 is orig_data_size: every stored page, same-filled included
diag "mm_stat: $(attr $SYS/mm_stat)"
check_eq "mm_stat orig_data_size is $MIB MiB" $((MIB * 1024 * 1024)) "$(field 1 $SYS/mm_stat)"

check "reset accepted" attr_write 1 $SYS/reset
check_eq "initstate is 0 after reset" 0 "$(attr $SYS/initstate)"
check_eq "disksize is 0 after reset" 0 "$(attr $SYS/disksize)"

check "rmmod zram" rmmod zram
check "/sys/block/zram0 is gone after rmmod" test ! -e $SYS
kmsg "end"

ktap_finish
