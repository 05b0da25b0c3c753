#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram0 as the only swap device under real memory pressure.  Most of the
# guest's RAM is taken away as reserved huge pages, then fio fills a tmpfs
# file larger than what is left with compressible data that carries a
# crc32c header in every 4 KiB (so each page is unique and checkable).
# tmpfs pages go to swap; fio verifies them back while they are still
# swapped.  Then the huge pages are released, swapoff pulls every page
# back, and the file must still verify.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
S=/sys/block/rzram0
MNT=$TMP/mnt
# what is left for everything else once the huge pages are reserved
LEAVE_MIB=${RZRAM_SWAP_LEAVE_MIB:-192}
# how much bigger than that the tmpfs file is
OVER_MIB=${RZRAM_SWAP_OVER_MIB:-192}

ktap_plan 23

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# swap_used DEV: KiB of DEV in use per /proc/swaps (empty if not listed)
swap_used() { awk -v d="$1" '$1 == d { print $4 }' /proc/swaps; }

# ---- setup ---------------------------------------------------------------
if [ -e /sys/module/rzram ]; then
	diag "rzram already loaded, unloading it first"
	rmmod rzram || true
fi
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit '[ ! -e '$S'/reset ] || echo 1 >'$S'/reset'
at_exit '[ -z "$(swap_used '$DEV')" ] || swapoff '$DEV
at_exit '! grep -q " '$MNT' " /proc/mounts || umount '$MNT
at_exit 'echo 0 >/proc/sys/vm/nr_hugepages'

kmsg "start"
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
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
check "mount a ${size}M+ tmpfs" mount -t tmpfs -o size=$((size + 64))M tmpfs "$MNT" ||
	ktap_abort "no tmpfs"

# ---- fill, verify while swapped ----------------------------------------------
kmsg "fill ${size} MiB"
FIO=(fio --name=swapfill --filename="$MNT/fill" --size=${size}M --rw=write
	--bs=64k --ioengine=psync --verify=crc32c --verify_interval=4096
	--verify_fatal=1 --refill_buffers --buffer_compress_percentage=80
	--buffer_compress_chunk=4096 --randseed=4242)
start=$(date +%s)
check "fio writes ${size} MiB to tmpfs and verifies it (under memory pressure)" \
	"${FIO[@]}" --do_verify=1 --output="$TMP/fio1.log"
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio1.log"
diag "fill + verify took $(($(date +%s) - start)) s"
used=$(swap_used $DEV)
diag "swap used: ${used} KiB; rzram mm_stat: $(cat $S/mm_stat)"
diag "$(grep -E '^(MemFree|MemAvailable|Shmem|SwapFree|HugePages_Total):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
check "more than 64 MiB went to swap" test "${used:-0}" -gt $((64 * 1024))
orig=$(field 1 $S/mm_stat)
check "rzram holds more than 64 MiB (orig_data_size)" test "$orig" -gt $((64 << 20))
check "the swapped data compressed (compr_data_size < orig_data_size / 2)" \
	test "$(field 2 $S/mm_stat)" -lt $((orig / 2))
start=$(date +%s)
sum1=$(sha256 "$MNT/fill")
diag "sha256 under pressure took $(($(date +%s) - start)) s; swap used now $(swap_used $DEV) KiB"
check "fio --verify_only passes while swapped" \
	"${FIO[@]}" --verify_only --output="$TMP/fio2.log"
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio2.log"

# ---- give memory back, swapoff, verify again ------------------------------
kmsg "swapoff"
echo 0 >/proc/sys/vm/nr_hugepages
check_eq "huge pages released" 0 "$(cat /proc/sys/vm/nr_hugepages)"
start=$(date +%s)
check "swapoff" swapoff $DEV
diag "swapoff took $(($(date +%s) - start)) s"
check "/proc/swaps no longer lists $DEV" test -z "$(swap_used $DEV)"
check_eq "sha256 after swapoff matches the one taken while swapped" "$sum1" "$(sha256 "$MNT/fill")"
check "fio --verify_only passes after swapoff" \
	"${FIO[@]}" --verify_only --output="$TMP/fio3.log"
[ $? -eq 0 ] || diag_cmd tail -n 20 "$TMP/fio3.log"
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
