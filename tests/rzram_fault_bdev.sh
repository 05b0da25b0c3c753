#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A backing device that fails and recovers (a dm table switched between
# linear and error segments with dmsetup suspend/load/resume), with
# nothing lost.  rzram_wb_errors.sh covers: every write failing, writes
# failing past a block, errors on every other block, and one read error
# (checking only that the read fails); this program adds exact figures
# (bd_stat, writeback_limit with a budget, failed_reads) across a failure
# and the recovery, read errors on exactly chosen blocks, and zram beside
# rzram.
#
# A. Writes fail during a writeback (rzram; backing: dm over /dev/vda,
#    pages 0-79 random (huge), 80-159 compressible, the rest zero):
#    1. writeback of pages 0-19 (blocks 0-19: a fresh device's blocks are
#       given lowest first, in page order);
#    2. the table fails blocks 30 and up; writeback_limit_enable 1, budget
#       40; writeback "huge": EIO.  The 40 pages the budget allows (20-59)
#       get blocks 20-59; 20-29 are written, 30-59 fail.  Exactly:
#       bd_stat "30 0 30", writeback_limit 30 (the 30 failed pages
#       refunded), huge_pages 50 (pages 30-79 still in memory), and the
#       whole device reads back as written (bd_reads then 30);
#    3. the table recovers (all linear); budget 1000; writeback "huge"
#       succeeds: the 50 pages left get blocks 60-109; bd_stat "80 30 80",
#       writeback_limit 950; the whole device reads back (bd_reads 110);
#    4. after the recovery, pages 0-4 (written back before the failure)
#       and 100-104 are rewritten with new random data (10 blocks
#       released: bd_count 75), the device reads back, a writeback "huge"
#       writes the 10 new pages (bd_stat "85 185 90", writeback_limit 940)
#       and the device reads back again.
# B. Read errors on written-back pages, rzram and then zram0 in the same
#    boot (each over its own dm device): 64 random pages written back;
#    the raw backing device shows where each page went (rzram: page p at
#    block p; zram 6.12: block p + 1, it never uses block 0); the table
#    then fails exactly the blocks of pages 10, 11 and 40 (8-sector error
#    segments).  A 4 KiB O_DIRECT read of each of those pages fails with
#    EIO, and so does a 64 KiB read of pages 0-15; every other page reads
#    back right; the pages stay written back (bd_count 64).  io_stat's
#    failed_reads: rzram counts each of the 4 failed reads once (+4; the
#    64 KiB one fails two pages, in one child bio or two); zram 6.12
#    counts only errors it returns itself, not one a chained child read
#    brings back, so it shows +0 (printed, a listed difference: README).
#    rzram only: a read of page 10 into a misaligned buffer (partial-page
#    pieces, two of them) fails with EIO too, and counts once (+1).  Once
#    the table is all linear again the pages read back right.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
ktap_plan 73
P=4096
SPP=8
NB=4096			# blocks of each dm device (16 MiB)
DMR=rzram_fb_r		# rzram's backing device: /dev/vda from 0
DMZ=rzram_fb_z		# zram's: /dev/vda from 512 MiB
ZBASE=$((512 * 2048))
EIO="Input/output error"

at_exit '[ ! -e /sys/module/zram ] || { echo 1 >/sys/block/zram0/reset; rmmod zram; }'
at_exit '[ ! -e /sys/module/rzram ] || { echo 1 >/sys/block/rzram0/reset; rmmod rzram; }'
at_exit "dmsetup remove $DMR 2>/dev/null; dmsetup remove $DMZ 2>/dev/null"

# table BASE [BAD...]: NB blocks linear over $RZRAM_BACKING_DEV from
# sector BASE, but for an 8-sector error segment at each BAD block (sorted)
table() {
	local base=$1 at=0 b
	shift
	for b in "$@" $NB; do
		[ $b -gt $at ] && echo "$((at * SPP)) $(((b - at) * SPP)) linear $RZRAM_BACKING_DEV $((base + at * SPP))"
		[ $b -lt $NB ] && echo "$((b * SPP)) $SPP error"
		at=$((b + 1))
	done
}
# lin_err BASE GOOD: blocks 0..GOOD-1 linear, the rest error
lin_err() {
	echo "0 $(($2 * SPP)) linear $RZRAM_BACKING_DEV $1"
	echo "$(($2 * SPP)) $(((NB - $2) * SPP)) error"
}
# put FILE PAGE: write FILE over the image and the device at PAGE
put() {
	dd if="$1" of="$TMP/img" bs=$P seek="$2" conv=notrunc status=none &&
	dd if="$1" of=$DEV bs=$P seek="$2" oflag=direct status=none
}
same() { check_eq "$1" "$(sha256 "$TMP/img")" "$(sha256 $DEV 1)"; }
# rd PAGE COUNT [BS]: read COUNT blocks of BS (default 4096) at block PAGE
# (O_DIRECT); sets RD to "ok" or the error text and RDSUM to the sha256
rd() {
	local bs=${3:-$P} err
	RDSUM=$(dd if=$DEV bs=$bs skip=$1 count=$2 iflag=direct status=none 2>"$TMP/rd.err" | sha256sum)
	RDSUM=${RDSUM%% *}
	if [ -s "$TMP/rd.err" ]; then
		read -r err <"$TMP/rd.err"
		RD=${err##*: }
	else
		RD=ok
	fi
}
imgsum() { img_sum "$TMP/img" $(($1 * P)) $(($2 * P)); }
# raw_same DM FIRST N PAGE: blocks FIRST.. of the dm device hold pages PAGE..
raw_same() {
	cmp -s <(dd if=/dev/mapper/$1 bs=$P skip=$2 count=$3 iflag=direct status=none) \
		<(dd if="$TMP/img" bs=$P skip=$4 count=$3 status=none)
}
limit() { attr $S/writeback_limit; }
huge() { field 8 $S/mm_stat; }

modprobe zsmalloc 2>/dev/null
[ -e /sys/module/zram ] && rmmod zram
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
check "modprobe zram num_devices=1" modprobe zram num_devices=1 || ktap_abort "no zram"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no /dev/rzram0"
check_blockdev "/dev/zram0 is a block device" /dev/zram0 || ktap_abort "no /dev/zram0"
check "dm devices $DMR and $DMZ, all linear" eval \
	"dm_set $DMR \"\$(table 0)\" && dm_set $DMZ \"\$(table $ZBASE)\""

# ---- A. writes fail during a writeback, then the device recovers ----------
diag "A. writes fail during a writeback, then the device recovers"
S=/sys/block/rzram0
DEV=/dev/rzram0
check "rzram: backing_dev $DMR, disksize 1M" eval \
	"attr_write /dev/mapper/$DMR $S/backing_dev && attr_write 1M $S/disksize"
head -c $((1 << 20)) /dev/zero >"$TMP/img"
head -c $((80 * P)) /dev/urandom >"$TMP/rand"
cat /tests/*.sh /tests/README | head -c $((80 * P)) >"$TMP/text"
check "write pages 0-79 random, 80-159 compressible" eval \
	"put $TMP/rand 0 && put $TMP/text 80"
check_eq "80 huge pages" 80 "$(huge)"
check_wr "writeback page_indexes=0-19" ok page_indexes=0-19 $S/writeback
check_bd "bd_stat: 20 written" "20 0 20"
check "pages 0-19 are at blocks 0-19" raw_same $DMR 0 20 0
check "the table fails blocks 30 and up" dm_set $DMR "$(lin_err 0 30)"
check "writeback_limit_enable 1, writeback_limit 40" eval \
	"attr_write 1 $S/writeback_limit_enable && attr_write 40 $S/writeback_limit"
check_wr "writeback huge: EIO" "$EIO" huge $S/writeback
check_bd "bd_stat: 10 more written (blocks 20-29), 30 failed writes' blocks released" "30 0 30"
check_eq "writeback_limit: 40 - 10 written (30 refunded)" 30 "$(limit)"
check_eq "huge_pages: 50 still in memory (30 failed, 20 never tried)" 50 "$(huge)"
same "the whole device reads back as written"
check_bd "bd_stat: each of the 30 written-back pages read once" "30 30 30"
check "pages 20-29 are at blocks 20-29" raw_same $DMR 20 10 20
check "the table recovers (all linear)" dm_set $DMR "$(table 0)"
check "writeback_limit 1000" attr_write 1000 $S/writeback_limit
check_wr "writeback huge: ok" ok huge $S/writeback
check_bd "bd_stat: the other 50 written" "80 30 80"
check_eq "writeback_limit: 1000 - 50" 950 "$(limit)"
check_eq "huge_pages 0" 0 "$(huge)"
check "pages 30-79 are at blocks 60-109 (next after the failed batch's)" raw_same $DMR 60 50 30
same "the whole device reads back, pages written back before the failure included"
check_bd "bd_stat: each of the 80 pages read once more" "80 110 80"
head -c $((10 * P)) /dev/urandom >"$TMP/new"
check "rewrite pages 0-4 (written back before the failure) and 100-104" eval \
	"head -c $((5 * P)) $TMP/new >$TMP/new1 && put $TMP/new1 0 &&
	 tail -c $((5 * P)) $TMP/new >$TMP/new2 && put $TMP/new2 100"
check_bd "5 blocks released (pages 100-104 were in memory)" "75 110 80"
same "the device reads back after the rewrite"
check_bd "bd_stat: 75 written-back pages read" "75 185 80"
check_wr "writeback huge: the 10 new pages" ok huge $S/writeback
check_eq "bd_stat, writeback_limit" "85 185 90 940" "$(bd) $(limit)"
same "the device reads back after the second writeback"
check "reset" attr_write 1 $S/reset
diag "A took $SECONDS s"

# ---- B. read errors on exactly chosen blocks, rzram and zram -----------------
# readerr DRV DM BASE WBCMD FIRSTBLOCK: B for one driver; sets FR_DELTA
# (failed_reads after the 4 failed reads) and FR_PART (rzram: after one
# more, partial-page, failed read)
readerr() {
	local drv=$1 dm=$2 base=$3 wbcmd=$4 first=$5 fr0 b10 b11 b40
	S=/sys/block/${drv}0
	DEV=/dev/${drv}0
	kmsg "B $drv"
	diag "B. $drv: read errors on the blocks of pages 10, 11 and 40"
	check "$drv: backing_dev $dm, disksize 1M" eval \
		"attr_write /dev/mapper/$dm $S/backing_dev && attr_write 1M $S/disksize"
	head -c $((1 << 20)) /dev/zero >"$TMP/img"
	head -c $((64 * P)) /dev/urandom >"$TMP/rand"
	check "$drv: write 64 random pages" put "$TMP/rand" 0
	check_wr "$drv: writeback $wbcmd" ok "$wbcmd" $S/writeback
	check_eq "$drv: bd_count 64" 64 "$(field 1 $S/bd_stat)"
	check "$drv: page p is at block p + $first (raw backing device)" raw_same $dm $first 64 0
	b10=$((10 + first)) b11=$((11 + first)) b40=$((40 + first))
	check "$drv: the table fails blocks $b10, $b11, $b40" dm_set $dm "$(table $base $b10 $b11 $b40)"
	fr0=$(field 1 $S/io_stat)
	rd 10 1; check_eq "$drv: read of page 10: EIO" "$EIO" "$RD"
	rd 11 1; check_eq "$drv: read of page 11: EIO" "$EIO" "$RD"
	rd 40 1; check_eq "$drv: read of page 40: EIO" "$EIO" "$RD"
	rd 0 1 65536; check_eq "$drv: read of pages 0-15 in one 64 KiB request: EIO" "$EIO" "$RD"
	FR_DELTA=$(($(field 1 $S/io_stat) - fr0))
	diag "$drv: failed_reads after 4 failed reads: +$FR_DELTA"
	local bad=
	for r in "0 10" "12 28" "41 23"; do
		set -- $r
		rd $1 $2
		[ "$RD $RDSUM" = "ok $(imgsum $1 $2)" ] || bad="$bad pages $1+$2: $RD"
	done
	check_eq "$drv: every other page reads back right" "" "$bad"
	check_eq "$drv: the pages stay written back (bd_count 64)" 64 "$(field 1 $S/bd_stat)"
	if [ $drv = rzram ]; then
		fr0=$(field 1 $S/io_stat)
		check_fails "$drv: read of page 10 into a misaligned buffer (partial pages) fails" \
			rb_sum $DEV $((10 * P)) $P 4096 512 direct
		FR_PART=$(($(field 1 $S/io_stat) - fr0))
		diag "$drv: failed_reads after the partial-page read: +$FR_PART"
	fi
	check "$drv: the table is all linear again" dm_set $dm "$(table $base)"
	rd 10 1
	check_eq "$drv: page 10 reads back right" "ok $(imgsum 10 1)" "$RD $RDSUM"
	same "$drv: the whole device reads back right"
	check "$drv: reset" attr_write 1 $S/reset
	diag "B $drv done at $SECONDS s"
}
readerr rzram $DMR 0 page_indexes=0-63 0
fr_rzram=$FR_DELTA fr_part=$FR_PART
readerr zram $DMZ $ZBASE huge 1
fr_zram=$FR_DELTA
diag "zram 6.12: failed_reads +$fr_zram after the same 4 failed reads (it does not count chained read errors)"
check_eq "rzram: failed_reads counts each of the 4 failed reads once" 4 "$fr_rzram"
check_eq "rzram: a failed partial-page read counts once" 1 "$fr_part"
check "dmsetup remove" eval "dmsetup remove $DMR && dmsetup remove $DMZ"
ktap_finish
