#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# compressed_writeback (Linux 7.0; zram 6.12 has no such attribute, so
# the expectations are 7.0's, after its fixes):
# - the attribute reads 0 or 1 (default 0), takes kstrtobool's values
#   (EINVAL for others), EBUSY once initialised, and survives reset;
# - with it, writeback stores each compressed object at the start of its
#   backing block, followed by zeros (7.0's fix "clear trailing bytes":
#   the request pages are reused within a run, here at batch size 16, so
#   a missing memset would leave an earlier request's data there: every
#   block of a compressible page must end with 1 KiB of zeros); a huge
#   page is written raw;
# - a written-back slot keeps what 7.0 keeps (7.0's fix "do not
#   slot_free() written-back slots"): its huge and recompressed flags
#   and its priority; compr_data_size drops by the objects' sizes,
#   huge_pages drops for huge ones when they are written back and not
#   again when they are freed (no underflow), orig_data_size stays;
# - read-back decompresses: the data verifies by checksum with 512-byte
#   pieces (O_DIRECT needs 4 KiB multiples of the device, so: 4 KiB
#   segments starting 3584 or 512 bytes into a page, which split every
#   page into partial-page reads), 4 KiB and 1 MiB requests, O_DIRECT and
#   buffered;
# - a recompressed slot (zstd, priority 1) written back compressed reads
#   back with its own algorithm;
# - discard and overwrite free the blocks exactly (bd_stat).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
ktap_plan 42
S=/sys/block/rzram0
DEV=/dev/rzram0
BD=${RZRAM_BACKING_DEV:-/dev/vda}
DS=/sys/kernel/debug/rzram/rzram0/block_state
NP=1024

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"
grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug

# ---- the attribute ---------------------------------------------------------
check_eq "compressed_writeback: mode 644, default 0" "644 0" \
	"$(stat -c %a $S/compressed_writeback) $(cat $S/compressed_writeback)"
check "true values: 1 y Y t T yes on ON oN" bool_vals $S/compressed_writeback 1 1 y Y t T yes on ON oN
check "false values: 0 n N f F no off OFF" bool_vals $S/compressed_writeback 0 0 n N f F no off OFF
bad=
for v in x 2 o oo -1 '' ' 1' yy1; do
	echo 1 >$S/compressed_writeback
	wr "$v" $S/compressed_writeback
	[ "$v" = yy1 ] && { [ "$WR" = ok ] || bad+=" $v:$WR"; continue; }
	[ "$WR" = "Invalid argument" ] || bad+=" '$v':$WR"
done
check_eq "EINVAL for x 2 o oo -1, empty, ' 1' (and yy1 is true)" "" "$bad"
check "compressed_writeback 1, backing device, disksize 8M" eval \
	"echo 1 >$S/compressed_writeback && echo $BD >$S/backing_dev && echo 8M >$S/disksize"
check_wr "compressed_writeback once initialised: EBUSY" "Device or resource busy" 0 \
	$S/compressed_writeback
check "reset keeps it: still 1" eval "echo 1 >$S/reset && [ \$(cat $S/compressed_writeback) = 1 ]"

# ---- compressed writeback --------------------------------------------------
# 1024 pages: every 4th random (huge), the others numbers (compress to
# well under 3 KiB)
seq 1 2000000 | head -c $((NP * 3 / 4 * 4096)) >"$TMP/num"
head -c $((NP / 4 * 4096)) /dev/urandom >"$TMP/rand"
for ((i = 0; i < NP; i++)); do
	if ((i % 4 == 3)); then
		dd if="$TMP/rand" bs=4096 skip=$((i / 4)) count=1 status=none
	else
		dd if="$TMP/num" bs=4096 skip=$((i - i / 4)) count=1 status=none
	fi
done >"$TMP/img"
want=$(sha256 "$TMP/img")
check "batch size 16, backing device, disksize 8M, the 4 MiB written" eval \
	"echo 16 >$S/writeback_batch_size && echo $BD >$S/backing_dev && echo 8M >$S/disksize &&
	 dd if=$TMP/img of=$DEV bs=1M oflag=direct status=none"
read -ra M0 <$S/mm_stat
H=${M0[7]}
diag "huge pages: $H (the 256 random ones, and any numbers page lzo-rle cannot shrink)"
check "before: at least the 256 random pages are huge" [ "$H" -ge 256 ]
check_wr "writeback page_indexes=0-1023" ok "page_indexes=0-$((NP - 1))" $S/writeback
check_bd "bd_stat: 1024 blocks written" "1024 0 1024"
read -ra M1 <$S/mm_stat
diag "mm_stat before: ${M0[*]}; after: ${M1[*]}"
check_eq "mm_stat: orig_data_size stays, compr_data_size 0, huge_pages 0" \
	"$((NP * 4096)) 0 0" "${M1[0]} ${M1[1]} ${M1[7]}"
cat $DS >"$TMP/bs"
check_eq "block_state: 1024 slots written back, the $H huge ones still 'h'" "1024 $H" \
	"$(awk '$3 ~ /w/ { n++ } END { print n + 0 }' "$TMP/bs") $(awk '$3 ~ /wh/ { n++ } END { print n + 0 }' "$TMP/bs")"
check_eq "every block of a compressed object ends with 1 KiB of zeros ($((NP - H)))" $((NP - H)) \
	"$("$RB" zerotails $BD $NP 1024)"
check_eq "read back, 4 KiB segments 3584 bytes into a page: 512-byte pieces (256 KiB)" \
	"$(img_sum "$TMP/img" 0 $((64 * 4096)))" "$(rb_sum $DEV 0 $((64 * 4096)) 4096 3584)"
check_eq "read back, 4 KiB segments (O_DIRECT)" "$want" "$(rb_sum $DEV 0 $((NP * 4096)) 4096 0)"
check_eq "read back, 1 MiB reads (O_DIRECT)" "$want" "$(sha256 $DEV 4)"
echo 3 >/proc/sys/vm/drop_caches
check_eq "read back, buffered" "$want" "$(rb_sum $DEV 0 $((NP * 4096)) 4096 0 buffered)"
check_eq "read back, 4 KiB segments straddling pages (partial-page reads)" \
	"$(img_sum "$TMP/img" 0 $((64 * 4096)))" "$(rb_sum $DEV 0 $((64 * 4096)) 4096 512)"
read -r _ bdr _ <$S/bd_stat
diag "bd_reads: $bdr"
check "bd_reads: at least a read per page per whole pass" [ "$bdr" -ge $((3 * NP)) ]
check_eq "the pages stay written back" 1024 "$(field 1 $S/bd_stat)"

# discard pages 0-255 (64 or more of them huge): blocks freed, and
# huge_pages, 0 since the writeback, is not decremented again
check "discard pages 0-255" blkdiscard -o 0 -l $((256 * 4096)) $DEV
check_eq "bd_stat: 768 blocks" 768 "$(field 1 $S/bd_stat)"
check_eq "huge_pages stays 0 (no second decrement, no underflow)" 0 "$(field 8 $S/mm_stat)"
# overwrite pages 256-383 with new data
head -c $((128 * 4096)) /dev/urandom >"$TMP/new"
dd if=/dev/zero of="$TMP/img" bs=4096 count=256 conv=notrunc status=none
dd if="$TMP/new" of="$TMP/img" bs=4096 seek=256 conv=notrunc status=none
check "overwrite pages 256-383" \
	dd if="$TMP/new" of=$DEV bs=4096 seek=256 oflag=direct conv=notrunc status=none
check_eq "bd_stat: 640 blocks" 640 "$(field 1 $S/bd_stat)"
check_eq "huge_pages: the 128 new random pages" 128 "$(field 8 $S/mm_stat)"
check_eq "read back after discard and overwrite" "$(sha256 "$TMP/img")" "$(sha256 $DEV 4)"
check "reset with written-back compressed slots" attr_write 1 $S/reset

# ---- a recompressed slot, written back compressed --------------------------
"$RB" hex $((256 * 4096)) 5 >"$TMP/hex"
check "zstd as secondary, backing device, disksize 4M, 256 hex pages" eval \
	"echo algo=zstd >$S/recomp_algorithm && echo $BD >$S/backing_dev &&
	 echo 4M >$S/disksize && dd if=$TMP/hex of=$DEV bs=1M oflag=direct status=none"
check_wr "recompress type=huge" ok "type=huge" $S/recompress
check_eq "256 slots recompressed" 256 "$(awk '$3 ~ /r/ { n++ } END { print n + 0 }' $DS)"
cd0=$(field 2 $S/mm_stat)
check_wr "writeback page_indexes=0-255" ok "page_indexes=0-255" $S/writeback
check_eq "bd_stat: 256 written; compr_data_size 0 (was $cd0)" "256 0" \
	"$(field 1 $S/bd_stat) $(field 2 $S/mm_stat)"
check_eq "block_state: written back, still recompressed ('w', 'r')" 256 \
	"$(awk '$3 ~ /w..r/ { n++ } END { print n + 0 }' $DS)"
check_eq "read back with zstd (O_DIRECT)" "$(sha256 "$TMP/hex")" "$(sha256 $DEV 1)"
echo 3 >/proc/sys/vm/drop_caches
check_eq "read back with zstd (buffered)" "$(sha256 "$TMP/hex")" \
	"$(dd if=$DEV bs=64k count=16 status=none | sha256sum | cut -d' ' -f1)"
check_eq "every block of a hex page ends with 1 KiB of zeros" 256 "$("$RB" zerotails $BD 256 1024)"
check "reset" attr_write 1 $S/reset
check "compressed_writeback 0 for the next user" attr_write 0 $S/compressed_writeback
ktap_finish
