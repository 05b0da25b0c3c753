#!/bin/bash
# rzram.ko loads, registers rzram0 (uninitialized, size 0) and unloads
# cleanly, three times in a row.  The default_algorithm parameter (zram:
# CONFIG_ZRAM_DEF_COMP): zstd is the selected algorithm of a new device
# and again after a reset; an algorithm the kernel lacks fails the load
# with EINVAL and a log message naming it.  A missing rzram.ko is a failure, not a
# skip: this program is how the runner notices it was not given one.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
SYS=/sys/block/rzram0
LOOPS=3

ktap_plan $((2 + LOOPS * 7 + 6))

if [ -e /sys/module/rzram ]; then
	diag "rzram already loaded, unloading it first"
	rmmod rzram || true
fi
zsmalloc_was_loaded=no
[ -e /sys/module/zsmalloc ] && zsmalloc_was_loaded=yes
# cleanups run last-registered first: unload rzram, then zsmalloc
at_exit '[ $zsmalloc_was_loaded = yes ] || [ ! -e /sys/module/zsmalloc ] || modprobe -r zsmalloc'
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'

check "rzram.ko is present ($KO)" test -f "$KO" ||
	ktap_abort "no rzram.ko; pass --module to run-tests.sh"
diag "module vermagic: $(modinfo -F vermagic "$KO" 2>&1), running: $(uname -r)"

# rzram uses zsmalloc but insmod does not resolve dependencies
check "modprobe zsmalloc" modprobe zsmalloc

for i in $(seq 1 $LOOPS); do
	kmsg "load $i"
	if ! check "insmod rzram.ko (load $i)" insmod "$KO"; then
		diag_cmd sh -c 'dmesg | tail -n 20'
		ktap_abort "insmod failed"
	fi
	check "$SYS exists (load $i)" test -d $SYS
	check_blockdev "$DEV is a block device (load $i)" $DEV
	check_eq "size is 0 before init (load $i)" 0 "$(attr $SYS/size)"
	check "rmmod rzram (load $i)" rmmod rzram ||
		ktap_abort "rmmod failed"
	check "$SYS is gone after rmmod (load $i)" test ! -e $SYS
	check "$DEV is gone after rmmod (load $i)" test ! -e $DEV
done

kmsg "default_algorithm"
check "insmod rzram.ko default_algorithm=zstd" insmod "$KO" default_algorithm=zstd
check_eq "a new device selects zstd" "lzo-rle lzo lz4 lz4hc [zstd] deflate 842" "$(echo $(attr $SYS/comp_algorithm))"
check "disksize 1M, then reset" eval "echo 1M >$SYS/disksize && echo 1 >$SYS/reset"
check_eq "a reset device selects zstd again" "lzo-rle lzo lz4 lz4hc [zstd] deflate 842" "$(echo $(attr $SYS/comp_algorithm))"
check "rmmod rzram" rmmod rzram
out=$(insmod "$KO" default_algorithm=nosuch 2>&1)
check_eq "default_algorithm=nosuch: EINVAL, and the log names it" \
	"Invalid parameters yes" \
	"${out##*: } $(dmesg | tail -n 5 | grep -q 'default_algorithm: nosuch is not available' && echo yes)"
kmsg "end"

ktap_finish
