#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram data integrity: random (huge), compressible text, same-filled
# (0xAA) and zero pages; dd with 4k, 64k and 1M blocks, buffered and
# O_DIRECT; sub-page writes at odd offsets; discard and write-zeroes; and
# the exact page counts mm_stat must show for known content (same_pages,
# huge_pages, orig_data_size).  Read-backs are compared with the expected
# image byte for byte (cmp) or by sha256.
#
# A process costs about a second in the TCG + KASAN guest, so the data
# is small and the helpers use bash builtins where they can.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
S=/sys/block/rzram0
MiB=$((1 << 20))
Q=$((256 << 10))   # each kind of data comes in 256 KiB (64 page) pieces

ktap_plan 49

# mm: M = the mm_stat fields (M[0] = orig_data_size ...), IO = io_stat's
mm() { read -ra M <$S/mm_stat; read -ra IO <$S/io_stat; }

# ok_if DESC COND...: a case that passes when the test(1) expression holds
ok_if() {
	local desc=$1
	shift
	if [ "$@" ]; then ktap_ok "$desc"; return 0; fi
	diag "false: [ $* ]"
	ktap_fail "$desc"
	return 1
}

# readback FILE OFF LEN [DDFLAGS...]: LEN bytes of $DEV at byte OFF into FILE
readback() {
	local f=$1 off=$2 len=$3
	shift 3
	dd if=$DEV of="$f" bs=$len skip=$off count=1 iflag=skip_bytes "$@" status=none
}

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

# 256 KiB each of: text (compressible, no page same-filled), 0xAA
# (same-filled, nonzero), zeroes (same-filled); images img0..img6 are
# each a fresh random piece followed by those three
seq 100000 999999 | head -c $Q >"$TMP/text"
head -c $Q /dev/zero >"$TMP/zero"
tr '\0' '\252' <"$TMP/zero" >"$TMP/aa"
for k in 0 1 2 3 4 5 6; do
	head -c $Q /dev/urandom | cat - "$TMP/text" "$TMP/aa" "$TMP/zero" >"$TMP/img$k"
done
make_data "$TMP/patch" 1
cat "$TMP"/img[0-5] >"$TMP/all6"

# ---- block sizes, buffered and O_DIRECT --------------------------------
# Pass k writes its own 1 MiB mix (random|text|0xAA|zero) to region k
# (k MiB) and reads it back the same way.  Buffered reads come after a
# flush of the device's page cache, so they reach the driver.
kmsg "block sizes"
k=0
for bs in 4k 64k 1M; do
	for mode in buffered direct; do
		case $bs in 4k) n=4096 ;; 64k) n=65536 ;; 1M) n=$MiB ;; esac
		if [ $mode = direct ]; then of=oflag=direct if=iflag=direct; else of=conv=fsync if=; fi
		desc="bs=$bs $mode: 1 MiB mix written and read back"
		if dd if="$TMP/img$k" of=$DEV bs=$n seek=$((k * MiB / n)) $of status=none; then
			[ $mode = direct ] || blockdev --flushbufs $DEV
			dd if=$DEV of="$TMP/got" bs=$n skip=$((k * MiB / n)) count=$((MiB / n)) $if status=none
			check "$desc" cmp "$TMP/img$k" "$TMP/got"
		else
			ktap_fail "$desc"
		fi
		k=$((k + 1))
	done
done
readback "$TMP/got" 0 $((6 * MiB)) iflag=direct
check "all six regions read back together" cmp "$TMP/all6" "$TMP/got"
readback "$TMP/got" $((60 * MiB)) $((4 * MiB)) iflag=direct
check_eq "never written space reads as zeroes" "$(sha256 /dev/zero 4)" "$(sha256 "$TMP/got")"

# ---- sub-page writes ----------------------------------------------------
# The logical block size is 4096 (as zram's), so sub-page O_DIRECT is
# refused by the block layer; buffered sub-page writes make the page
# cache read, modify and write back whole pages.  Region 8 (8 MiB) gets
# a mix, then patches at odd offsets; the expected image gets the same.
kmsg "sub-page writes"
read -r lbs <$S/queue/logical_block_size
check_eq "logical_block_size is 4096" 4096 "$lbs"
out=$(dd if="$TMP/text" of=$DEV bs=512 seek=$((8 * 2048 + 7)) count=1 oflag=direct status=none 2>&1)
if [ $? -ne 0 ] && [[ $out == *"Invalid argument"* ]]; then
	ktap_ok "512-byte O_DIRECT write at an odd sector: EINVAL"
else
	diag "dd said: '$out'"
	ktap_fail "512-byte O_DIRECT write at an odd sector: EINVAL"
fi
cp "$TMP/img6" "$TMP/sub"
check "region 8: 1 MiB mix written (O_DIRECT)" \
	dd if="$TMP/sub" of=$DEV bs=1M seek=8 oflag=direct status=none
base=$((8 * MiB))
# OFFSET:LEN in bytes; the patch data is $TMP/patch at the same offset.
# Across the first page boundary (twice), an odd sector in the text, odd
# bytes in the 0xAA part, three pages across the 0xAA/zero boundary.
for spec in $((7 * 512)):1536 3072:1536 $((Q + 1025 * 512)):512 $((2 * Q + 12345)):700 $((3 * Q - 100)):8392; do
	off=${spec%%:*} len=${spec#*:}
	dd if="$TMP/patch" of="$TMP/sub" bs=$len skip=$off seek=$off count=1 \
		iflag=skip_bytes oflag=seek_bytes conv=notrunc status=none
	check "buffered write of $len bytes at byte $off of region 8" \
		dd if="$TMP/patch" of=$DEV bs=$len skip=$off seek=$((base + off)) count=1 \
		iflag=skip_bytes oflag=seek_bytes conv=fsync status=none
done
blockdev --flushbufs $DEV
readback "$TMP/got" $base $MiB iflag=direct
check "region 8 matches the patched image (O_DIRECT read)" cmp "$TMP/sub" "$TMP/got"
readback "$TMP/got" $base $MiB
check "region 8 matches the patched image (buffered read)" cmp "$TMP/sub" "$TMP/got"
readback "$TMP/got" 0 $((6 * MiB)) iflag=direct
check "regions 0-5 untouched by the patches" cmp "$TMP/all6" "$TMP/got"

# ---- discard and write-zeroes ------------------------------------------
# Region 0 is random|text|0xAA|zero; discarding bytes 256K-768K (text
# and 0xAA, 128 stored pages) frees them, as zram_bio_discard does.
kmsg "discard"
mm
orig0=${M[0]} same0=${M[5]} nf0=${IO[3]}
diag "before discard: mm_stat ${M[*]}; io_stat ${IO[*]}"
check "blkdiscard -o 256K -l 512K" blkdiscard -o $Q -l $((2 * Q)) $DEV
mm
diag "after discard: mm_stat ${M[*]}; io_stat ${IO[*]}"
head -c $Q "$TMP/img0" | cat - "$TMP/zero" "$TMP/zero" "$TMP/zero" >"$TMP/want"
readback "$TMP/got" 0 $MiB iflag=direct
check "discarded pages read as zeroes, the rest unchanged" cmp "$TMP/want" "$TMP/got"
check_eq "orig_data_size dropped by the 128 discarded pages" $((orig0 - 128 * 4096)) "${M[0]}"
check_eq "same_pages dropped by the 64 discarded 0xAA pages" $((same0 - 64)) "${M[5]}"
check_eq "io_stat notify_free counts the 128 discarded pages" $((nf0 + 128)) "${IO[3]}"
orig0=${M[0]}
check "blkdiscard -z (write zeroes) of region 1's first 256K" blkdiscard -z -o $MiB -l $Q $DEV
mm
cat "$TMP/zero" "$TMP/text" "$TMP/aa" "$TMP/zero" >"$TMP/want"
readback "$TMP/got" $MiB $MiB iflag=direct
check "zeroed pages read as zeroes, the rest unchanged" cmp "$TMP/want" "$TMP/got"
check_eq "orig_data_size dropped by the 64 zeroed pages" $((orig0 - 64 * 4096)) "${M[0]}"
check_fails "blkdiscard at a sub-page offset is refused" blkdiscard -o 512 -l 4096 $DEV
check_eq "io_stat: no failed reads or writes" "0 0" "${IO[0]} ${IO[1]}"

# ---- mm_stat for known content ------------------------------------------
# After a reset: 64 random pages (stored raw: huge), 64 text pages, 64
# 0xAA pages and 64 zero pages (both same-filled).
kmsg "stats"
check "reset" attr_write 1 $S/reset
check "disksize 64M again" attr_write 64M $S/disksize || ktap_abort "disksize refused"
ok_if "$DEV is still a block device" -b $DEV || ktap_abort "no $DEV"
check "write 1 MiB: random, text, 0xAA, zero (O_DIRECT)" \
	dd if="$TMP/img0" of=$DEV bs=1M oflag=direct status=none
mm
diag "mm_stat: ${M[*]}"
check_eq "orig_data_size is 256 pages" $((256 * 4096)) "${M[0]}"
check_eq "same_pages is 128 (0xAA and zero)" 128 "${M[5]}"
check_eq "huge_pages is 64 (the random pages)" 64 "${M[7]}"
check_eq "huge_pages_since is 64" 64 "${M[8]}"
c=${M[1]}
ok_if "compr_data_size ($c) holds the huge pages and less than all pages" \
	"$c" -ge $((64 * 4096)) -a "$c" -lt $((128 * 4096))
ok_if "mem_used_total covers compr_data_size" "${M[2]}" -ge "$c"
readback "$TMP/got" 0 $MiB iflag=direct
check "read back matches" cmp "$TMP/img0" "$TMP/got"
# overwrite the random pages with zeroes: the huge pages become same-filled
check "overwrite the random pages with zeroes" \
	dd if="$TMP/zero" of=$DEV bs=64k oflag=direct status=none
mm
diag "mm_stat: ${M[*]}"
check_eq "orig_data_size still 256 pages" $((256 * 4096)) "${M[0]}"
check_eq "same_pages is 192" 192 "${M[5]}"
check_eq "huge_pages is 0" 0 "${M[7]}"
check_eq "huge_pages_since stays 64" 64 "${M[8]}"
check_eq "compr_data_size dropped by the huge pages" $((c - 64 * 4096)) "${M[1]}"
kmsg "end"

ktap_finish
