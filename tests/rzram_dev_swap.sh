#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram0 as the only swap device under real memory pressure.  Most of the
# guest's RAM is taken away as reserved huge pages, then fio fills tmpfs
# files larger than what is left: random data with a crc32c header in
# every 4 KiB, then a compressible pattern holding each block's offset (so
# every page is unique and checkable).  tmpfs pages go to swap; fio
# verifies the random file while memory is still short (swap-ins), then
# the huge pages are released, swapoff pulls every page back and fio
# verifies both files.  The amount swapped is kept modest: under TCG +
# KASAN every swapped MiB costs about a second.
#
# Memory this short can make kmemleak run out of its object pool and turn
# itself off ("kmemleak: Kernel memory leak detector disabled"), for zram
# as for rzram.  So the runner scans for leaks before this program (the
# marker below), and TEST_PROGS runs it after the other rzram programs.
# rzram-kmemleak: scan-before
#
# For a baseline, the same program runs on the in-tree zram when the
# guest's kernel command line has rzram_swap_driver=zram (run-tests.sh:
# RZRAM_APPEND=rzram_swap_driver=zram).
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DRV=${rzram_swap_driver:-rzram}
case $DRV in rzram|zram) ;; *) DRV=rzram ;; esac
DEV=/dev/${DRV}0
S=/sys/block/${DRV}0
MNT=$TMP/mnt
# what is left for everything else once the huge pages are reserved
LEAVE_MIB=${rzram_swap_leave_mib:-128}
# how much bigger than that the patterned tmpfs file is
OVER_MIB=${rzram_swap_over_mib:-32}
# the random file
RAND_MIB=16

ktap_plan 25

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# swap_used DEV: KiB of DEV in use per /proc/swaps (empty if not listed)
swap_used() { awk -v d="$1" '$1 == d { print $4 }' /proc/swaps; }

# ---- setup ---------------------------------------------------------------
if [ -e /sys/module/$DRV ]; then
	diag "$DRV already loaded, unloading it first"
	rmmod $DRV || true
fi
at_exit '[ ! -e /sys/module/'$DRV' ] || rmmod '$DRV
at_exit '[ ! -e '$S'/reset ] || echo 1 >'$S'/reset'
at_exit '[ -z "$(swap_used '$DEV')" ] || swapoff '$DEV
at_exit '! grep -q " '$MNT' " /proc/mounts || umount '$MNT
at_exit 'echo 0 >/proc/sys/vm/nr_hugepages'

kmsg "start"
modprobe zsmalloc 2>/dev/null
if [ $DRV = zram ]; then
	diag "baseline run on the in-tree zram"
	check "modprobe zram" modprobe zram num_devices=1 || ktap_abort "zram did not load"
else
	check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
fi
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no $DEV"
check "disksize 512M" attr_write 512M $S/disksize || ktap_abort "disksize refused"
check "mkswap" mkswap $DEV || ktap_abort "mkswap failed"
check "swapon" swapon $DEV || ktap_abort "swapon failed"
check "/proc/swaps lists $DEV" test -n "$(swap_used $DEV)"

# ---- take memory away ----------------------------------------------------
kmsg "reserve huge pages"
sync
echo 3 >/proc/sys/vm/drop_caches
avail=$(($(meminfo MemAvailable) / 1024))
hp=$(((avail - LEAVE_MIB) / 2))
echo $hp >/proc/sys/vm/nr_hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
avail=$(($(meminfo MemAvailable) / 1024))
diag "reserved $got of $hp huge pages; MemAvailable now $avail MiB, MemFree $(($(meminfo MemFree) / 1024)) MiB"
check "huge pages reserved" test "$got" -gt 0
size=$((avail + OVER_MIB))
mkdir -p "$MNT"
check "mount a tmpfs" mount -t tmpfs -o size=$((size + RAND_MIB + 64))M tmpfs "$MNT" ||
	ktap_abort "no tmpfs"

# ---- fill, verify while swapped ----------------------------------------------
# Two files: $RAND_MIB MiB of random data with a crc32c header in every
# 4 KiB (stored raw: huge pages), written first so it is the first to be
# swapped out, then avail + $OVER_MIB MiB of a pattern holding each 4 KiB
# block's offset (compressible, every page different).
kmsg "fill ${RAND_MIB} + ${size} MiB"
FIO_R=(fio --name=rand --filename="$MNT/rand" --size=${RAND_MIB}M --rw=write
	--bs=64k --ioengine=psync --fallocate=none --verify=crc32c
	--verify_interval=4096 --verify_fatal=1 --randseed=4242)
FIO_P=(fio --name=pattern --filename="$MNT/pattern" --size=${size}M --rw=write
	--bs=4k --ioengine=psync --fallocate=none --verify=pattern
	--verify_pattern='"rzram-swap"%o' --verify_fatal=1)
read -r _ in0 < <(grep '^pswpin ' /proc/vmstat)
start=$(date +%s)
check "fio writes ${RAND_MIB} MiB of random data" "${FIO_R[@]}" --do_verify=0 --output="$TMP/fio.log"
check "fio writes ${size} MiB of patterned data (memory pressure)" \
	"${FIO_P[@]}" --do_verify=0 --output="$TMP/fio.log"
diag "fill took $(($(date +%s) - start)) s"
used=$(swap_used $DEV)
diag "swap used: ${used} KiB; $DRV mm_stat: $(cat $S/mm_stat)"
diag "$(grep -E '^(MemFree|MemAvailable|Shmem|SwapFree|HugePages_Total):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
check "more than $((OVER_MIB / 2)) MiB went to swap" test "${used:-0}" -gt $((OVER_MIB / 2 * 1024))
read -ra M <$S/mm_stat
check "$DRV holds more than $((OVER_MIB / 2)) MiB (orig_data_size)" test "${M[0]}" -gt $((OVER_MIB / 2 << 20))
check "some swapped pages were stored raw (huge_pages > 0)" test "${M[7]}" -gt 0
# The pages stored raw (the random file, ~16 MiB) weigh the same in both
# sizes; how much of the compressible file is swapped out besides depends
# on timing, so the ratio is taken over the pages not stored raw.
raw=$((M[7] * 4096))
check "the compressible swapped data compressed (compr_data_size - huge < (orig_data_size - huge) / 2)" \
	test $((M[1] - raw)) -lt $(((M[0] - raw) / 2))
start=$(date +%s)
check "fio verifies the random file under memory pressure" \
	"${FIO_R[@]}" --verify_only --output="$TMP/fio.log"
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio.log"
read -r _ in1 < <(grep '^pswpin ' /proc/vmstat)
diag "verify took $(($(date +%s) - start)) s; $((in1 - in0)) pages swapped in"
check "pages were swapped in from $DRV" test $((in1 - in0)) -gt 0

# ---- give memory back, swapoff, verify again ------------------------------
kmsg "swapoff"
echo 0 >/proc/sys/vm/nr_hugepages
check_eq "huge pages released" 0 "$(cat /proc/sys/vm/nr_hugepages)"
start=$(date +%s)
check "swapoff" swapoff $DEV
diag "swapoff took $(($(date +%s) - start)) s"
check "/proc/swaps no longer lists $DEV" test -z "$(swap_used $DEV)"
check "fio verifies both files after swapoff" eval \
	'"${FIO_R[@]}" --verify_only --output="$TMP/fio.log" &&
	 "${FIO_P[@]}" --verify_only --output="$TMP/fio.log"'
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio.log"
diag "after swapoff: mm_stat $(cat $S/mm_stat); io_stat $(cat $S/io_stat); debug_stat $(tail -n1 $S/debug_stat)"
# swapoff frees every swap slot, and each free reaches rzram through
# swap_slot_free_notify; what stays is the swap header page plus the
# notifications that found the slot busy (debug_stat miss_free)
miss=$(awk 'NR == 2 { print $2 }' $S/debug_stat)
check "only the header page (+ $miss missed frees) stays stored after swapoff" \
	test "$(field 1 $S/mm_stat)" -le $(((1 + miss) * 4096))
check "io_stat notify_free counted the freed slots" test "$(field 4 $S/io_stat)" -gt 0
check_eq "io_stat: no failed reads or writes" "0 0" "$(field 1 $S/io_stat) $(field 2 $S/io_stat)"
check "umount the tmpfs" umount "$MNT"
check "reset" attr_write 1 $S/reset
kmsg "end"

ktap_finish
