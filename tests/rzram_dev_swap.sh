#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram0 as the only swap device under real memory pressure.  Most of the
# guest's RAM is taken away as reserved huge pages, then fio fills a tmpfs
# file larger than what is left with compressible data that carries a
# crc32c header in every 4 KiB (so each page is unique and checkable).
# tmpfs pages go to swap; fio verifies them back while they are still
# swapped.  Then the huge pages are released, swapoff pulls every page
# back, and fio verifies the file again.  The amount swapped is kept
# modest: under TCG + KASAN every swapped MiB costs about a second.
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
LEAVE_MIB=${rzram_swap_leave_mib:-192}
# how much bigger than that the tmpfs file is
OVER_MIB=${rzram_swap_over_mib:-64}

ktap_plan 21

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
check "mount a ${size}M+ tmpfs" mount -t tmpfs -o size=$((size + 64))M tmpfs "$MNT" ||
	ktap_abort "no tmpfs"

# ---- fill, verify while swapped ----------------------------------------------
kmsg "fill ${size} MiB"
FIO=(fio --name=swapfill --filename="$MNT/fill" --size=${size}M --rw=write
	--bs=64k --ioengine=psync --fallocate=none --verify=crc32c --verify_interval=4096
	--verify_fatal=1 --refill_buffers --buffer_compress_percentage=90
	--buffer_compress_chunk=512 --randseed=4242)
start=$(date +%s)
check "fio writes ${size} MiB to tmpfs and verifies it (under memory pressure)" \
	"${FIO[@]}" --do_verify=1 --output="$TMP/fio1.log"
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio1.log"
diag "fill + verify took $(($(date +%s) - start)) s"
used=$(swap_used $DEV)
diag "swap used: ${used} KiB; $DRV mm_stat: $(cat $S/mm_stat)"
diag "$(grep -E '^(MemFree|MemAvailable|Shmem|SwapFree|HugePages_Total):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
check "more than $((OVER_MIB / 2)) MiB went to swap" test "${used:-0}" -gt $((OVER_MIB / 2 * 1024))
orig=$(field 1 $S/mm_stat)
check "$DRV holds more than $((OVER_MIB / 2)) MiB (orig_data_size)" test "$orig" -gt $((OVER_MIB / 2 << 20))
check "the swapped data compressed (compr_data_size < orig_data_size / 2)" \
	test "$(field 2 $S/mm_stat)" -lt $((orig / 2))

# ---- give memory back, swapoff, verify again ------------------------------
kmsg "swapoff"
echo 0 >/proc/sys/vm/nr_hugepages
check_eq "huge pages released" 0 "$(cat /proc/sys/vm/nr_hugepages)"
start=$(date +%s)
check "swapoff" swapoff $DEV
diag "swapoff took $(($(date +%s) - start)) s"
check "/proc/swaps no longer lists $DEV" test -z "$(swap_used $DEV)"
check "fio --verify_only passes after swapoff" \
	"${FIO[@]}" --verify_only --output="$TMP/fio2.log"
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio2.log"
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
