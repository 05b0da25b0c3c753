#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ext4 on rzram0: mkfs, mount, copy a tree of files (random, text, zero,
# same-filled, small, sparse), checksum them, unmount, e2fsck -fn, mount
# again and verify; then delete with -o discard (pages must be freed),
# and fsck once more.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
S=/sys/block/rzram0
MNT=$TMP/mnt
SRC=$TMP/src
KiB=1024 MiB=$((1 << 20))

ktap_plan 27

# verify: the copy under $MNT/data matches the sums of $SRC
verify() { (cd "$MNT/data" && sha256sum --quiet -c "$TMP/sums"); }

# ---- setup ---------------------------------------------------------------
if [ -e /sys/module/rzram ]; then
	diag "rzram already loaded, unloading it first"
	rmmod rzram || true
fi
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit '[ ! -e '$S'/reset ] || echo 1 >'$S'/reset'
at_exit '! grep -q " '$MNT' " /proc/mounts || umount '$MNT

kmsg "start"
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no $DEV"
check "disksize 64M" attr_write 64M $S/disksize || ktap_abort "disksize refused"

# the tree to copy
mkdir -p "$SRC/small" "$SRC/deep/a/b/c" "$MNT"
make_data "$SRC/random" 3
seq 1 400000 | head -c $((2 * MiB)) >"$SRC/text"
head -c $MiB /dev/zero >"$SRC/zero"
head -c $((512 * KiB)) /dev/zero | tr '\0' '\125' >"$SRC/same55"
# small files of varied sizes, made with builtins only (a process costs
# about a second in this guest)
for ((i = 1; i <= 60; i++)); do
	printf -v pad '%*s' $((i * 97 + i % 7)) ''
	printf 'small file %d %d %d\n%s\n' $i $RANDOM $RANDOM "${pad// /$((i % 10))}" >"$SRC/small/f$i"
done
echo "deep file" >"$SRC/deep/a/b/c/leaf"
: >"$SRC/empty"
# a sparse file: 8 MiB with data at 3 MiB
truncate -s $((8 * MiB)) "$SRC/sparse"
head -c $((100 * KiB)) /dev/urandom | dd of="$SRC/sparse" bs=1K seek=3072 conv=notrunc status=none
(cd "$SRC" && find . -type f | sort | xargs sha256sum) >"$TMP/sums"
nfiles=$(wc -l <"$TMP/sums")
diag "$nfiles files, $(du -sk "$SRC" | cut -f1) KiB"

# ---- mkfs, copy, verify ----------------------------------------------------
kmsg "mkfs"
check "mkfs.ext4 -b 4096" mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 $DEV ||
	ktap_abort "mkfs failed"
check "mount" mount -t ext4 $DEV "$MNT" || ktap_abort "mount failed"
check "copy the tree" cp -a "$SRC" "$MNT/data"
check "checksums match on the mounted copy" verify
check "sync" sync
diag "mm_stat after copy: $(cat $S/mm_stat)"
check "umount" umount "$MNT"
check "e2fsck -fn is clean" e2fsck -fn $DEV

# ---- remount and verify from the device -----------------------------------
kmsg "remount"
check "mount again" mount -t ext4 $DEV "$MNT" || ktap_abort "remount failed"
check "checksums match after remount" verify
check_eq "all $nfiles files are there" "$nfiles" "$(find "$MNT/data" -type f | wc -l)"
check "file sizes are preserved (sparse file 8 MiB)" test "$(stat -c %s "$MNT/data/sparse")" -eq $((8 * MiB))
check "umount" umount "$MNT"

# ---- deletes with online discard free rzram pages ---------------------------
kmsg "discard"
check "mount -o discard" mount -t ext4 -o discard $DEV "$MNT" || ktap_abort "mount -o discard failed"
before=$(field 1 $S/mm_stat)
check "delete the random and text files" rm "$MNT/data/random" "$MNT/data/text"
check "sync" sync
# ext4 issues online discards from a work item after the journal commit
# (s_discard_work), so sync does not wait for them; umount does
# (ext4_mb_release flushes that work).
check "umount" umount "$MNT"
after=$(field 1 $S/mm_stat)
diag "orig_data_size: $before before, $after after the delete"
check "orig_data_size dropped by at least 4 MiB (5 MiB deleted)" test $((before - after)) -ge $((4 * MiB))
check "mount -o discard again" mount -t ext4 -o discard $DEV "$MNT"
check "write a new 2 MiB file" dd if=/dev/urandom of="$MNT/new" bs=1M count=2 conv=fsync status=none
sha_new=$(sha256 "$MNT/new")
check "umount" umount "$MNT"
check "e2fsck -fn is clean after deletes" e2fsck -fn $DEV
check "mount again" mount -t ext4 -o ro $DEV "$MNT"
check_eq "the new file reads back" "$sha_new" "$(sha256 "$MNT/new")"
check "the remaining files still verify" eval \
	'(cd "$MNT/data" && grep -v -e "./random$" -e "./text$" "$TMP/sums" | sha256sum --quiet -c)'
umount "$MNT"
kmsg "end"

ktap_finish
