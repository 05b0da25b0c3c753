#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram data integrity by sha256: random (huge), compressible text,
# same-filled (0xAA) and zero pages; dd with 4k, 64k and 1M blocks,
# buffered and O_DIRECT; sub-page writes at odd offsets; discard and
# write-zeroes; and the exact page counts mm_stat must show for known
# content (same_pages, huge_pages, orig_data_size).
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
S=/sys/block/rzram0
MiB=$((1 << 20))
Q=$((256 << 10))   # each kind of data comes in 256 KiB (64 page) pieces

ktap_plan 49

# region_sha OFF LEN: sha256 of LEN MiB of $DEV at OFF MiB, read with O_DIRECT
region_sha() {
	dd if=$DEV bs=1M skip="$1" count="$2" iflag=direct status=none | sha256sum | cut -d' ' -f1
}
# pages FIELD: an mm_stat field
mm() { field "$1" $S/mm_stat; }

# ---- setup ---------------------------------------------------------------
if [ -e /sys/module/rzram ]; then
	diag "rzram already loaded, unloading it first"
	rmmod rzram || true
fi
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit '[ ! -e '$S'/reset ] || echo 1 >'$S'/reset'

kmsg "start"
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no $DEV"
check "disksize 64M" attr_write 64M $S/disksize || ktap_abort "disksize refused"

# 256 KiB each of: random, text (compressible, no page same-filled), 0xAA
# (same-filled, nonzero), zeroes (same-filled)
head -c $Q /dev/urandom >"$TMP/rand"
seq 100000 999999 | head -c $Q >"$TMP/text"
head -c $Q /dev/zero | tr '\0' '\252' >"$TMP/aa"
head -c $Q /dev/zero >"$TMP/zero"

# ---- block sizes, buffered and O_DIRECT --------------------------------
# Pass k writes a fresh 1 MiB mix (new random part) to region k (k MiB),
# then reads it back the same way.  Buffered reads come after a flush of
# the device's page cache, so they reach the driver.
kmsg "block sizes"
k=0
for bs in 4k 64k 1M; do
	for mode in buffered direct; do
		img=$TMP/img$k
		head -c $Q /dev/urandom >"$TMP/r$k"
		cat "$TMP/r$k" "$TMP/text" "$TMP/aa" "$TMP/zero" >"$img"
		rm -f "$TMP/r$k"
		case $bs in 4k) n=4096 ;; 64k) n=65536 ;; 1M) n=$MiB ;; esac
		if [ $mode = direct ]; then of=oflag=direct if=iflag=direct; else of=conv=fsync if=; fi
		if dd if="$img" of=$DEV bs=$n seek=$((k * MiB / n)) $of status=none; then
			blockdev --flushbufs $DEV
			got=$(dd if=$DEV bs=$n skip=$((k * MiB / n)) count=$((MiB / n)) $if status=none |
				sha256sum | cut -d' ' -f1)
			check_eq "bs=$bs $mode: 1 MiB mix written and read back" "$(sha256 "$img")" "$got"
		else
			ktap_fail "bs=$bs $mode: 1 MiB mix written and read back"
		fi
		k=$((k + 1))
	done
done
check_eq "all six regions read back together" \
	"$(cat "$TMP"/img0 "$TMP"/img1 "$TMP"/img2 "$TMP"/img3 "$TMP"/img4 "$TMP"/img5 | sha256sum | cut -d' ' -f1)" \
	"$(region_sha 0 6)"
check_eq "never written space reads as zeroes" \
	"$(head -c $((4 * MiB)) /dev/zero | sha256sum | cut -d' ' -f1)" "$(region_sha 60 4)"

# ---- sub-page writes ----------------------------------------------------
# The logical block size is 4096 (as zram's), so sub-page O_DIRECT is
# refused by the block layer; buffered sub-page writes make the page
# cache read, modify and write back whole pages.  Region 8 (8 MiB) gets
# the mix, then patches at odd offsets; the expected image gets the same.
kmsg "sub-page writes"
check_eq "logical_block_size is 4096" 4096 "$(attr $S/queue/logical_block_size)"
out=$(dd if="$TMP/rand" of=$DEV bs=512 seek=$((8 * 2048 + 7)) count=1 oflag=direct status=none 2>&1)
if [ $? -ne 0 ] && [[ $out == *"Invalid argument"* ]]; then
	ktap_ok "512-byte O_DIRECT write at an odd sector: EINVAL"
else
	diag "dd said: '$out'"
	ktap_fail "512-byte O_DIRECT write at an odd sector: EINVAL"
fi
cp "$TMP/img0" "$TMP/sub"
check "region 8: 1 MiB mix written (O_DIRECT)" \
	dd if="$TMP/sub" of=$DEV bs=1M seek=8 oflag=direct status=none
make_data "$TMP/patch" 1
base=$((8 * MiB))
# OFFSET:LEN in bytes; patch data comes from $TMP/patch at the same offset:
# across the first page boundary (twice), an odd sector in the text, odd
# bytes in the 0xAA part, three pages across the 0xAA/zero boundary
for spec in $((7 * 512)):1536 3072:1536 $((Q + 1025 * 512)):512 $((2 * Q + 12345)):700 $((3 * Q - 100)):8392; do
	off=${spec%%:*} len=${spec#*:}
	dd if="$TMP/patch" of="$TMP/sub" bs=$len skip=$off seek=$off count=1 \
		iflag=skip_bytes oflag=seek_bytes conv=notrunc status=none
	check "buffered write of $len bytes at byte $off of region 8" \
		dd if="$TMP/patch" of=$DEV bs=$len skip=$off seek=$((base + off)) count=1 \
		iflag=skip_bytes oflag=seek_bytes conv=fsync status=none
done
blockdev --flushbufs $DEV
check_eq "region 8 matches the patched image (O_DIRECT read)" "$(sha256 "$TMP/sub")" "$(region_sha 8 1)"
check_eq "region 8 matches the patched image (buffered read)" "$(sha256 "$TMP/sub")" \
	"$(dd if=$DEV bs=64k skip=$((8 * 16)) count=16 status=none | sha256sum | cut -d' ' -f1)"
check_eq "regions 0-5 untouched by the patches" \
	"$(cat "$TMP"/img0 "$TMP"/img1 "$TMP"/img2 "$TMP"/img3 "$TMP"/img4 "$TMP"/img5 | sha256sum | cut -d' ' -f1)" \
	"$(region_sha 0 6)"

# ---- discard and write-zeroes ------------------------------------------
# Region 0 is rand|text|aa|zero; discarding its bytes 256K-768K (text and
# 0xAA, 128 stored pages) frees them, as zram_bio_discard does.
kmsg "discard"
orig0=$(mm 1) same0=$(mm 6) nf0=$(field 4 $S/io_stat)
diag "before discard: mm_stat $(cat $S/mm_stat); io_stat $(cat $S/io_stat)"
check "blkdiscard -o 256K -l 512K" blkdiscard -o $Q -l $((2 * Q)) $DEV
diag "after discard: mm_stat $(cat $S/mm_stat); io_stat $(cat $S/io_stat)"
check_eq "discarded pages read as zeroes, the rest unchanged" \
	"$(head -c $Q "$TMP/img0" | cat - "$TMP/zero" "$TMP/zero" "$TMP/zero" | sha256sum | cut -d' ' -f1)" \
	"$(region_sha 0 1)"
check_eq "orig_data_size dropped by the 128 discarded pages" $((orig0 - 128 * 4096)) "$(mm 1)"
check_eq "same_pages dropped by the 64 discarded 0xAA pages" $((same0 - 64)) "$(mm 6)"
check_eq "io_stat notify_free counts the 128 discarded pages" $((nf0 + 128)) "$(field 4 $S/io_stat)"
orig0=$(mm 1)
check "blkdiscard -z (write zeroes) of region 1's first 256K" blkdiscard -z -o $MiB -l $Q $DEV
check_eq "zeroed pages read as zeroes, the rest unchanged" \
	"$(tail -c $((3 * Q)) "$TMP/img1" | cat "$TMP/zero" - | sha256sum | cut -d' ' -f1)" \
	"$(region_sha 1 1)"
check_eq "orig_data_size dropped by the 64 zeroed pages" $((orig0 - 64 * 4096)) "$(mm 1)"
check_fails "blkdiscard at a sub-page offset is refused" blkdiscard -o 512 -l 4096 $DEV
check_eq "io_stat: no failed reads or writes" "0 0" "$(field 1 $S/io_stat) $(field 2 $S/io_stat)"

# ---- mm_stat for known content ------------------------------------------
# After a reset: 64 random pages (stored raw: huge), 64 text pages, 64
# 0xAA pages and 64 zero pages (both same-filled).
kmsg "stats"
check "reset" attr_write 1 $S/reset
check "disksize 64M again" attr_write 64M $S/disksize || ktap_abort "disksize refused"
check_blockdev "$DEV is still a block device" $DEV || ktap_abort "no $DEV"
cat "$TMP/rand" "$TMP/text" "$TMP/aa" "$TMP/zero" >"$TMP/known"
check "write 1 MiB: random, text, 0xAA, zero (O_DIRECT)" \
	dd if="$TMP/known" of=$DEV bs=1M oflag=direct status=none
diag "mm_stat: $(cat $S/mm_stat)"
check_eq "orig_data_size is 256 pages" $((256 * 4096)) "$(mm 1)"
check_eq "same_pages is 128 (0xAA and zero)" 128 "$(mm 6)"
check_eq "huge_pages is 64 (the random pages)" 64 "$(mm 8)"
check_eq "huge_pages_since is 64" 64 "$(mm 9)"
c=$(mm 2)
check "compr_data_size ($c) holds the huge pages and less than all pages" \
	test "$c" -ge $((64 * 4096)) -a "$c" -lt $((128 * 4096))
check "mem_used_total covers compr_data_size" test "$(mm 3)" -ge "$c"
check_eq "read back matches" "$(sha256 "$TMP/known")" "$(region_sha 0 1)"
# overwrite the random pages with zeroes: the huge pages become same-filled
check "overwrite the random pages with zeroes" \
	dd if="$TMP/zero" of=$DEV bs=64k oflag=direct status=none
diag "mm_stat: $(cat $S/mm_stat)"
check_eq "orig_data_size still 256 pages" $((256 * 4096)) "$(mm 1)"
check_eq "same_pages is 192" 192 "$(mm 6)"
check_eq "huge_pages is 0" 0 "$(mm 8)"
check_eq "huge_pages_since stays 64" 64 "$(mm 9)"
check_eq "compr_data_size dropped by the huge pages" $((c - 64 * 4096)) "$(mm 2)"
kmsg "end"

ktap_finish
