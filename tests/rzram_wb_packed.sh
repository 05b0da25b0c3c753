#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# packed_writeback (rzram only; no zram has it, so nothing is compared
# with zram here): with compressed_writeback, a writeback packs the
# compressed objects of its slots into shared backing blocks.
#
# - The attribute: 0 or 1 (default 0), kstrtobool's values, EBUSY once
#   initialised, kept by reset.  Set without compressed_writeback it
#   does nothing, and disksize says so in the kernel log.
# - Integrity by checksum after a packed writeback of a mix of
#   compressible, same-filled, huge and resident pages, read with
#   512-byte pieces, 4 KiB segments (also straddling pages), 1 MiB
#   requests and buffered; bd_stat counts blocks (bd_count == bd_writes
#   == packed blocks + huge pages), packed_stat counts the objects and
#   their bytes (exactly what compr_data_size lost); a 1 MiB read reads
#   each block about once, not once per page (a block is read into the
#   page of its first object, and a worker decompresses the others from
#   it).
# - Pages of 1800 random bytes and zeros compress to a little over 1800
#   bytes: exactly two share a block, in slot order.  Discarding one of
#   a pair keeps the block (sparse) and the other page correct;
#   overwriting the other frees it: bd_count exact at every step.
# - writeback_compact packs the live objects of sparse blocks again: the
#   sparse blocks go, the data stays; its errnos.
# - writeback_compact racing reads and overwrites: the backing device is
#   a null_blk whose requests take 100 ms each, so the compaction of 256
#   sparse blocks takes 25 s or more; while it runs (its writer is seen
#   sleeping, and still there after each step), writeback gets EAGAIN, 16
#   of its pages are overwritten and pages 496-511 are read and
#   checksummed.  Afterwards the figures agree with each other (an object
#   overwritten while in flight leaves its new block sparse, so how many
#   blocks depends on the timing), a second compaction leaves exactly two
#   objects a block, and the content is the image's.
# - Write and read errors through dm-flakey: a block whose write fails
#   keeps every object in memory and correct, and the figures exact.
# - A block overwritten with junk behind rzram's back: the worker's
#   decompression of its two objects fails, so do exactly their reads
#   (EIO, failed_reads once each), and every other page reads correctly.
# - The limit is charged per block written; idle writeback, a
#   recompressed (zstd) slot and reset work packed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
ktap_plan 101
S=/sys/block/rzram0
DEV=/dev/rzram0
BD=${RZRAM_BACKING_DEV:-/dev/vda}
DS=/sys/kernel/debug/rzram/rzram0/block_state
DM=rzram_pk
EIO="Input/output error"
EINVAL="Invalid argument"

modprobe zsmalloc 2>/dev/null
[ -e /sys/module/null_blk ] && rmmod null_blk
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit '[ ! -e /sys/module/null_blk ] || rmmod null_blk'
at_exit "dmsetup remove $DM 2>/dev/null"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"
grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug

# pk: packed_stat as "OBJECTS BYTES BLOCKS SPARSE SPARSE_DEAD"
pk() { echo $(cat $S/packed_stat); }
# wcount: slots written back (block_state 'w')
wcount() { awk '$3 ~ /^.w/ { n++ } END { print n + 0 }' $DS; }
# init SIZE [BACKING]: compressed and packed writeback, batch size 16
init() {
	attr_write 1 $S/compressed_writeback && attr_write 1 $S/packed_writeback &&
	attr_write 16 $S/writeback_batch_size &&
	attr_write "${2:-$BD}" $S/backing_dev && attr_write "$1" $S/disksize
}
# put FILE PAGE: write FILE over the image and the device at PAGE
put() {
	dd if="$1" of="$TMP/img" bs=4096 seek="$2" conv=notrunc status=none &&
	dd if="$1" of=$DEV bs=4096 seek="$2" oflag=direct conv=notrunc status=none
}
# same DESC PAGES: the device's first PAGES pages are the image's
same() {
	check_eq "$1" "$(img_sum "$TMP/img" 0 $(($2 * 4096)))" \
		"$(dd if=$DEV bs=64k count=$(($2 / 16)) iflag=direct status=none | sha256sum | cut -d' ' -f1)"
}

# ---- the attribute ---------------------------------------------------------
modes="$(stat -c %a $S/packed_writeback) $(cat $S/packed_writeback) $(stat -c %a $S/packed_stat)"
check_eq "packed_writeback: mode 644, default 0; packed_stat 444, zeros; writeback_compact 200" \
	"644 0 444 0 0 0 0 0 200" "$modes $(pk) $(stat -c %a $S/writeback_compact)"
check "true values: 1 y Y t T yes on ON" bool_vals $S/packed_writeback 1 1 y Y t T yes on ON
check "false values: 0 n N f F no off OFF" bool_vals $S/packed_writeback 0 0 n N f F no off OFF
bad=
for v in x 2 -1 '' ' 1'; do
	wr "$v" $S/packed_writeback
	[ "$WR" = "$EINVAL" ] || bad+=" '$v':$WR"
done
check_eq "EINVAL for x 2 -1, empty, ' 1'" "" "$bad"
check_wr "writeback_compact before disksize: EINVAL" "$EINVAL" 1 $S/writeback_compact
n0=$(dmesg | grep -c "packed_writeback needs compressed_writeback")
"$RB" part 64 1800 1 >"$TMP/p64"
check "packed_writeback 1 alone, backing device, disksize 4M, 64 pages" eval \
	"attr_write 1 $S/packed_writeback && attr_write $BD $S/backing_dev &&
	 attr_write 4M $S/disksize && dd if=$TMP/p64 of=$DEV bs=64k oflag=direct status=none"
check_eq "the kernel log says packed_writeback needs compressed_writeback" $((n0 + 1)) \
	"$(dmesg | grep -c "packed_writeback needs compressed_writeback")"
check_wr "writeback: a block per page, nothing packed" ok "page_indexes=0-63" $S/writeback
check_eq "bd_stat 64 blocks; packed_stat zeros" "64 0 64 0 0 0 0 0" "$(bd) $(pk)"
check_wr "writeback_compact without packing: EINVAL" "$EINVAL" 1 $S/writeback_compact
check_wr "packed_writeback once initialised: EBUSY" "Device or resource busy" 0 $S/packed_writeback
check "reset keeps it: still 1" eval "attr_write 1 $S/reset && [ \$(cat $S/packed_writeback) = 1 ]"

# ---- integrity: a mix of pages ---------------------------------------------
# 1024 pages: i % 8 == 7 random (huge), i % 8 == 3 same-filled, the others
# numbers (compress to about a third); pages 768-1023 stay resident.
NP=1024
seq 1 3000000 | head -c $((NP * 4096)) >"$TMP/num"
head -c $((NP / 8 * 4096)) /dev/urandom >"$TMP/rand"
head -c $((NP / 8 * 4096)) /dev/zero | tr '\0' 'Z' >"$TMP/same"
cp "$TMP/num" "$TMP/img"
"$RB" splice "$TMP/img" "$TMP/same" 8 3
"$RB" splice "$TMP/img" "$TMP/rand" 8 7
check "compressed + packed, batch 16, disksize 8M, the 4 MiB written" eval \
	"init 8M && dd if=$TMP/img of=$DEV bs=1M oflag=direct status=none"
read -ra M0 <$S/mm_stat
# huge: the 96 random pages, and any numbers page lzo-rle cannot shrink
H=$(awk '$1 < 768 && $3 ~ /h/ { n++ } END { print n + 0 }' $DS)
C=$((768 - 96 - H))
check_wr "writeback page_indexes=0-767" ok "page_indexes=0-767" $S/writeback
read -ra M1 <$S/mm_stat
read -r o b n sp d <<<"$(pk)"
read -r cnt rd wrt <<<"$(bd)"
diag "packed_stat: $o objects, $b bytes, $n blocks; bd_stat: $cnt $rd $wrt; mm_stat ${M0[*]} -> ${M1[*]}"
check_eq "$C objects packed; $H huge pages written raw; nothing sparse" "$C $H 0 0" \
	"$o $((cnt - n)) $sp $d"
check_eq "bd_count == bd_writes == packed blocks + huge pages" "$cnt $cnt" "$wrt $((n + H))"
check_eq "packed bytes: what compr_data_size lost, less the huge pages" \
	"$((M0[1] - M1[1] - H * 4096))" "$b"
# these objects are 1784 to 2100 bytes: two share a block only where
# their sum fits, so first fit over 4 open requests fills about 78%
diag "objects fill $((b * 100 / (n * 4096)))% of their blocks"
check "packed: fewer blocks than objects ($n < $o), and the bytes fit ($b)" \
	[ $n -lt $o -a $((n * 4096)) -ge $b ]
check_eq "block_state: $((C + H)) slots written back" $((C + H)) "$(wcount)"
check_eq "read back, 512-byte pieces (256 KiB)" \
	"$(img_sum "$TMP/img" 0 $((64 * 4096)))" "$(rb_sum $DEV 0 $((64 * 4096)) 4096 3584)"
check_eq "read back, 4 KiB segments (O_DIRECT)" "$(sha256 "$TMP/img")" \
	"$(rb_sum $DEV 0 $((NP * 4096)) 4096 0)"
r0=$(field 2 $S/bd_stat)
check_eq "read back, 1 MiB reads (O_DIRECT)" "$(sha256 "$TMP/img")" "$(sha256 $DEV 4)"
r1=$(field 2 $S/bd_stat)
diag "a 1 MiB pass read $((r1 - r0)) blocks for $((C + H)) written-back pages in $cnt blocks"
# each block is read once per bio that needs it: a block shared with the
# previous bio is read again (at most 4), and so is one whose objects a
# child bio's limit of 64 objects splits (at most 3 in a bio of 256 pages)
check "a 1 MiB pass reads each block about once: $((r1 - r0)) <= $cnt + 16" \
	[ $((r1 - r0)) -le $((cnt + 16)) ]
echo 3 >/proc/sys/vm/drop_caches
check_eq "read back, buffered" "$(sha256 "$TMP/img")" \
	"$(rb_sum $DEV 0 $((NP * 4096)) 4096 0 buffered)"
check_eq "read back, 4 KiB segments straddling pages" \
	"$(img_sum "$TMP/img" 0 $((64 * 4096)))" "$(rb_sum $DEV 0 $((64 * 4096)) 4096 512)"
check "reset with packed slots" attr_write 1 $S/reset

# ---- pairs: a block freed only with its last object ------------------------
"$RB" part 64 1800 2 >"$TMP/img"
check "init, 64 pages of 1800 random bytes" eval \
	"init 4M && dd if=$TMP/img of=$DEV bs=64k oflag=direct status=none"
check_wr "writeback page_indexes=0-63" ok "page_indexes=0-63" $S/writeback
read -r o b n sp d <<<"$(pk)"
check_eq "two objects a block: bd_stat 32 0 32, 64 objects in 32 blocks" "32 0 32 64 32 0 0" \
	"$(bd) $o $n $sp $d"
"$RB" part 8 1000 3 >"$TMP/new"
got= want=
for ((k = 0; k < 8; k++)); do
	blkdiscard -o $((2 * k * 4096)) -l 4096 $DEV
	dd if=/dev/zero of="$TMP/img" bs=4096 seek=$((2 * k)) count=1 conv=notrunc status=none
	got+="$(field 1 $S/bd_stat)/$(field 4 $S/packed_stat) "
	want+="$((32 - k))/1 "
	dd if="$TMP/new" bs=4096 skip=$k count=1 status=none >"$TMP/one"
	put "$TMP/one" $((2 * k + 1))
	got+="$(field 1 $S/bd_stat)/$(field 4 $S/packed_stat) "
	want+="$((31 - k))/0 "
done
diag "bd_count/sparse after each discard and overwrite: $got"
check_eq "bd_count exact at each of 16 steps (a block goes with its last object)" "$want" "$got"
same "the other pages read back" 64
head -c $((256 * 4096)) /dev/zero >"$TMP/zero"
"$RB" discard $DEV 16 64 2
"$RB" splice "$TMP/img" "$TMP/zero" 2 0
read -r o b n sp d <<<"$(pk)"
check_eq "24 blocks, each sparse, with one object" "24 24 24 24" "$(field 1 $S/bd_stat) $o $n $sp"
check_eq "sparse_dead: 24 blocks less the objects' bytes" $((24 * 4096 - b)) "$d"
same "the odd pages read back from sparse blocks" 64
w0=$(field 3 $S/bd_stat)
check_wr "writeback_compact" ok 1 $S/writeback_compact
read -r o b2 n sp d <<<"$(pk)"
check_eq "compacted: 24 objects in 12 blocks, none sparse, same bytes" "12 24 12 0 0 $b" \
	"$(field 1 $S/bd_stat) $o $n $sp $d $b2"
check_eq "12 blocks written" $((w0 + 12)) "$(field 3 $S/bd_stat)"
check_eq "the 24 slots are written back still" 24 "$(wcount)"
same "the data stays" 64
check_wr "writeback_compact again: nothing to do" ok 1 $S/writeback_compact
check_eq "nothing written" "12 $((w0 + 12))" "$(field 1 $S/bd_stat) $(field 3 $S/bd_stat)"
check "reset" attr_write 1 $S/reset

# ---- compaction racing reads and overwrites --------------------------------
check "slow backing device: null_blk, 100 ms per request, queue depth 1" \
	modprobe null_blk nr_devices=1 gb=1 bs=4096 memory_backed=1 irqmode=2 \
	completion_nsec=100000000 submit_queues=1 hw_queue_depth=1
check_blockdev "/dev/nullb0 is a block device" /dev/nullb0 || ktap_abort "no /dev/nullb0"
"$RB" part 512 1800 4 >"$TMP/img"
check "init over nullb0, 512 pages written back in 256 blocks" eval \
	"init 4M /dev/nullb0 && dd if=$TMP/img of=$DEV bs=64k oflag=direct status=none &&
	 attr_write 256 $S/writeback_batch_size &&
	 attr_write page_indexes=0-511 $S/writeback && [ \$(field 1 $S/bd_stat) = 256 ]"
# discard the even pages
"$RB" discard $DEV 0 512 2
"$RB" splice "$TMP/img" "$TMP/zero" 2 0
check_eq "256 sparse blocks of one object" "256 256 256 256" \
	"$(field 1 $S/bd_stat) $(pk | cut -d' ' -f1,3,4)"
"$RB" part 16 900 5 >"$TMP/new"
(echo 1 >$S/writeback_compact) 2>"$TMP/cerr" &
cpid=$!
check "writeback_compact is running (its writer sleeps)" wait_until 10 in_state_d $cpid
check_wr "writeback during writeback_compact: EAGAIN" "Resource temporarily unavailable" \
	huge $S/writeback
for ((k = 0; k < 16; k++)); do
	dd if="$TMP/new" bs=4096 skip=$k count=1 status=none >"$TMP/one"
	put "$TMP/one" $((2 * k + 1))
done
check "16 pages overwritten while it runs" kill -0 $cpid
passes=0 badpass=0
want=$(img_sum "$TMP/img" $((496 * 4096)) $((16 * 4096)))
while kill -0 $cpid 2>/dev/null; do
	s=$(dd if=$DEV bs=64k skip=31 count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)
	if kill -0 $cpid 2>/dev/null; then
		passes=$((passes + 1))
		[ "$s" = "$want" ] || badpass=$((badpass + 1))
	fi
done
wait $cpid
crc=$?
diag "reads of pages 496-511 done while compacting: $passes, wrong: $badpass"
check "at least one read of pages 496-511 done while compacting, all correct" \
	[ $passes -ge 1 -a $badpass = 0 ]
check_eq "writeback_compact succeeded" "0 " "$crc $(cat "$TMP/cerr")"
read -r o b n sp d <<<"$(pk)"
diag "packed_stat after: $o $b $n $sp $d"
check_eq "240 objects, as block_state's; bd_count: the packed blocks" "240 240 $n" \
	"$o $(wcount) $(field 1 $S/bd_stat)"
check "at most one sparse block per overwrite; the bytes fit" \
	[ $sp -le 16 -a $((n * 4096 - d)) -ge $b ]
same "content: the image" 512
check_wr "writeback_compact again, nothing racing" ok 1 $S/writeback_compact
check_eq "240 objects in 120 blocks, none sparse; bd_count 120" "240 120 0 0 120" \
	"$(pk | cut -d' ' -f1,3-5) $(field 1 $S/bd_stat)"
same "content: the image" 512
check "reset, rmmod null_blk" eval "attr_write 1 $S/reset && rmmod null_blk"

# ---- write and read errors (dm-flakey) ------------------------------------
check "modprobe dm-flakey; flakey over $BD, writes fail" eval \
	"modprobe dm-flakey && dm_set $DM '0 $((64 * 1024 * 2)) flakey $BD 0 0 1 1 error_writes'"
"$RB" part 64 1800 6 >"$TMP/img"
check "init over it, 64 pages" eval \
	"init 4M /dev/mapper/$DM && dd if=$TMP/img of=$DEV bs=64k oflag=direct status=none &&
	 attr_write 1 $S/writeback_limit_enable && attr_write 100 $S/writeback_limit"
read -ra M0 <$S/mm_stat
check_wr "writeback: EIO" "$EIO" "page_indexes=0-63" $S/writeback
read -ra M1 <$S/mm_stat
check_eq "nothing written or packed; limit refunded" "0 0 0 0 0 0 0 0 100" \
	"$(bd) $(pk) $(attr $S/writeback_limit)"
check_eq "every object in memory: compr_data_size, pages, none written back" \
	"${M0[0]} ${M0[1]} 0" "${M1[0]} ${M1[1]} $(wcount)"
same "content" 64
table=$(for ((b = 0; b < 1024; b++)); do
	if ((b % 2)); then t=error; else t="linear $BD $((b * 8))"; fi
	echo "$((b * 8)) 8 $t"
done)
check "odd blocks fail" dm_set $DM "$table"
check_wr "writeback: EIO" "$EIO" "page_indexes=0-63" $S/writeback
read -r o b n sp d <<<"$(pk)"
read -r cnt rd wrt <<<"$(bd)"
diag "bd_stat $cnt $rd $wrt, packed_stat $o $b $n $sp $d, limit $(attr $S/writeback_limit)"
check_eq "even blocks written, two objects each: bd_count == bd_writes == blocks, 2 x blocks objects" \
	"$cnt $cnt $((2 * cnt)) $(wcount)" "$wrt $n $o $o"
check_eq "limit charged per block written" $((100 - cnt)) "$(attr $S/writeback_limit)"
check_eq "the objects of failed blocks stay in memory: compr_data_size" \
	"$((M0[1] - b))" "$(field 2 $S/mm_stat)"
same "content" 64
check "reads fail" dm_set $DM "0 $((64 * 1024 * 2)) error"
check_fails "reading a packed page fails" dd if=$DEV of=/dev/null bs=4096 count=64 iflag=direct status=none
check "the device is back" dm_set $DM "0 $((64 * 1024 * 2)) linear $BD 0"
same "content" 64
check "reset, dmsetup remove" eval "attr_write 1 $S/reset && dmsetup remove $DM"

# ---- a corrupt object: its read fails, and only its own ---------------------
"$RB" part 64 1800 8 >"$TMP/img"
check "init, 64 pages written back in 32 blocks" eval \
	"init 4M && dd if=$TMP/img of=$DEV bs=64k oflag=direct status=none &&
	 attr_write page_indexes=0-63 $S/writeback && [ \$(field 1 $S/bd_stat) = 32 ]"
"$RB" part 1 4096 9 >"$TMP/junk"
check "block 5 of $BD overwritten with junk behind rzram's back" \
	dd if="$TMP/junk" of=$BD bs=4096 seek=5 count=1 oflag=direct conv=notrunc status=none
f0=$(field 1 $S/io_stat)
bad=
for ((k = 0; k < 64; k++)); do
	s=$(rb_sum $DEV $((k * 4096)) 4096 4096 0) || { bad+=" $k"; continue; }
	[ "$s" = "$(img_sum "$TMP/img" $((k * 4096)) 4096)" ] || bad+=" $k:wrong"
done
check_eq "page by page: EIO for the two objects of block 5 (pages 10, 11), the rest correct" \
	" 10 11" "$bad"
check_eq "failed_reads: one per failed read" $((f0 + 2)) "$(field 1 $S/io_stat)"
check_fails "a 256 KiB read over them fails" \
	dd if=$DEV of=/dev/null bs=256k count=1 iflag=direct status=none
check_eq "failed_reads: once for it" $((f0 + 3)) "$(field 1 $S/io_stat)"
check_eq "a 128 KiB read of pages 32-63 is correct" \
	"$(img_sum "$TMP/img" $((32 * 4096)) $((32 * 4096)))" \
	"$(dd if=$DEV bs=128k skip=1 count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)"
put "$TMP/junk" 10
put "$TMP/junk" 11
same "pages 10 and 11 rewritten: all 64 read back" 64
check "reset" attr_write 1 $S/reset

# ---- limit, idle, recompression, reset -------------------------------------
"$RB" part 64 1800 7 >"$TMP/img"
check "init, 64 pages, limit 10 (4 KiB units)" eval \
	"init 4M && dd if=$TMP/img of=$DEV bs=64k oflag=direct status=none &&
	 attr_write 1 $S/writeback_limit_enable && attr_write 10 $S/writeback_limit"
wr "page_indexes=0-63" $S/writeback
check_eq "the limit buys 10 blocks: 20 objects" "10 10 20 0" \
	"$(field 1 $S/bd_stat) $(field 3 $S/bd_stat) $(field 1 $S/packed_stat) $(attr $S/writeback_limit)"
check "limit off; idle all; rewrite pages 40-63" eval \
	"attr_write 0 $S/writeback_limit_enable && attr_write all $S/idle &&
	 dd if=$TMP/img of=$DEV bs=4096 skip=40 seek=40 count=24 oflag=direct status=none"
check_wr "writeback idle" ok idle $S/writeback
check_eq "idle: pages 20-39 packed, 40-63 (accessed) not" "40 20" \
	"$(field 1 $S/packed_stat) $(field 3 $S/packed_stat)"
same "content" 64
check "reset" attr_write 1 $S/reset
"$RB" hex $((64 * 4096)) 8 >"$TMP/img"
check "zstd as secondary; init; 64 hex pages" eval \
	"attr_write algo=zstd $S/recomp_algorithm && init 4M &&
	 dd if=$TMP/img of=$DEV bs=64k oflag=direct status=none"
wr "type=huge" $S/recompress
check_eq "recompress type=huge: 64 slots recompressed" "ok 64" \
	"$WR $(awk '$3 ~ /r/ { n++ } END { print n + 0 }' $DS)"
check_wr "writeback" ok "page_indexes=0-63" $S/writeback
check_eq "packed, still recompressed" "64 64" \
	"$(field 1 $S/packed_stat) $(awk '$3 ~ /w..r/ { n++ } END { print n + 0 }' $DS)"
same "read back with zstd" 64
check "reset with packed slots" attr_write 1 $S/reset
check_eq "reset: everything zero" "0 0 0 0 0 0 0 0" "$(bd) $(pk)"
check "packed_writeback 0, compressed_writeback 0 for the next user" eval \
	"attr_write 0 $S/packed_writeback && attr_write 0 $S/compressed_writeback"
ktap_finish
