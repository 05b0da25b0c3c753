#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback: the selection modes and token forms of `writeback`
# (parse errors are in rzram_wb_parse.sh).
#
# Layout of the 2 MiB (512 page) device:
#	pages   0..127  random data          huge (stored raw)
#	pages 128..255  text                 compressible, not huge
#	pages 256..383  zeroes               same-filled (never written back)
#	pages 384..511  never written        empty (never written back)
#
# Semantics checked (zram 6.16+ writeback_store, which rzram mirrors):
# - `idle`, `huge`, `huge_idle`, bare and as `type=<mode>`;
# - `page_index=N`, `page_indexes=A-B` (B inclusive), several per write,
#   overlapping ones writing each page once;
# - a mode token scans the last range given (the whole device if none)
#   and ends the input: later tokens are not even parsed.  A range token
#   scans its range with no filter as soon as it is parsed, so in
#   "page_indexes=A-B huge" every page of A..B is written, huge or not
#   (as upstream);
# - same-filled, empty and written-back pages are never selected.
#
# Every writeback is followed by exact bd_stat checks ("bd_count bd_reads
# bd_writes", 4K units) and, after each mode, an O_DIRECT checksum of the
# whole device, which reads written-back pages from the backing device
# (bd_reads).
#
# A checksum read (like any read) clears the idle flag of every page, so
# idle-mode steps re-mark pages idle with "echo all > idle" first.
. "$(dirname "$0")/lib.sh"
ktap_plan 77
S=/sys/block/rzram0
DEV=/dev/rzram0
MIB=2
NR=512

# read_pages FIRST N: O_DIRECT read of pages FIRST..FIRST+N-1 (clears
# their idle flag)
read_pages() { dd if=$DEV of=/dev/null bs=4096 skip="$1" count="$2" iflag=direct status=none; }
# mark_idle: every stored page idle, then pages 0..31 and 128..159 read
# (so not idle)
mark_idle() {
	attr_write all $S/idle && read_pages 0 32 && read_pages 128 32
}

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"

# With packing on (the +packed run: rzram loaded with wb_packed=1), the
# compressible pages 128..255 share blocks, so bd_stat counts fewer
# blocks than pages.  Each step then checks the slots written back
# (block_state's 'w'), which is what bd_count is without packing, and
# that bd_count is not above it; bd_reads and bd_writes are left to
# rzram_wb_packed.sh.
if [ "$(cat /sys/module/rzram/parameters/wb_packed)" = Y ]; then
	grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug
	check_bd() {
		local w c
		w=$(awk '$3 ~ /^.w/ { n++ } END { print n + 0 }' \
			/sys/kernel/debug/rzram/rzram0/block_state 2>/dev/null)
		# no block_state before disksize: nothing written back
		w=${w:-0} c=$(field 1 $S/bd_stat)
		check_eq "$1 (packed: slots written back, bd_count $c)" "${2%% *} 1" \
			"$w $((c <= w))"
	}
fi

head -c $((512 << 10)) /dev/urandom >"$TMP/rand"
yes "rzram writeback modes test line" | head -c $((512 << 10)) >"$TMP/text"
head -c $((1 << 20)) /dev/zero >"$TMP/zero"
cat "$TMP/rand" "$TMP/text" "$TMP/zero" >"$TMP/img"
want=$(sha256 "$TMP/img")

# setup: initialise and write the layout (3 cases)
setup() {
	check "disksize ${MIB}M" attr_write ${MIB}M $S/disksize
	check "write the layout" dd if="$TMP/img" of=$DEV bs=512K count=3 oflag=direct status=none
	check_eq "checksum after write" "$want" "$(sha256 $DEV $MIB)"
}

check "backing_dev $RZRAM_BACKING_DEV" attr_write "$RZRAM_BACKING_DEV" $S/backing_dev
setup
# ---- idle, huge_idle, huge (bare forms) ---------------------------------
check "mark idle, then access pages 0..31 and 128..159" mark_idle
check_wr "huge_idle" ok huge_idle $S/writeback
check_bd "huge_idle wrote pages 32..127" "96 0 96"
check_eq "checksum after huge_idle" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "96 96 96"
check "mark idle again" mark_idle
check_wr "idle" ok idle $S/writeback
check_bd "idle wrote pages 160..255" "192 96 192"
check_eq "checksum after idle" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "192 288 192"
check_wr "huge" ok huge $S/writeback
check_bd "huge wrote pages 0..31" "224 288 224"
check_eq "checksum after huge" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "224 512 224"
check_wr "huge again: nothing left" ok huge $S/writeback
check "idle marking skips written-back pages" attr_write all $S/idle
check_wr "idle with only compressible pages 128..159 in memory" ok idle $S/writeback
check_bd "idle wrote pages 128..159" "256 512 256"
check_eq "checksum after idle" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "256 768 256"

# ---- type= forms ---------------------------------------------------------
check "reset" attr_write 1 $S/reset
check_bd "bd_stat cleared by reset" "0 0 0"
check "backing_dev $RZRAM_BACKING_DEV" attr_write "$RZRAM_BACKING_DEV" $S/backing_dev
setup
check "mark idle, then access pages 0..31 and 128..159" mark_idle
check_wr "type=huge_idle" ok type=huge_idle $S/writeback
check_bd "type=huge_idle wrote pages 32..127" "96 0 96"
check_eq "checksum after type=huge_idle" "$want" "$(sha256 $DEV $MIB)"
check "mark idle again" mark_idle
check_wr "type=idle" ok type=idle $S/writeback
check_bd "type=idle wrote pages 160..255" "192 96 192"
check_eq "checksum after type=idle" "$want" "$(sha256 $DEV $MIB)"
check_wr "type=huge" ok type=huge $S/writeback
check_bd "type=huge wrote pages 0..31" "224 288 224"
check_eq "checksum after type=huge" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "224 512 224"

# ---- page_index / page_indexes (pages 128..159 are still in memory) ------
check_wr "page_index=128" ok page_index=128 $S/writeback
check_bd "page_index wrote 1 page" "225 512 225"
check_wr "page_index=128 again" ok page_index=128 $S/writeback
check_wr "page_index of a same-filled page" ok page_index=300 $S/writeback
check_wr "page_index of an empty page" ok page_index=$((NR - 1)) $S/writeback
check_wr "page_indexes over written-back pages" ok page_indexes=0-10 $S/writeback
check_bd "nothing written for those" "225 512 225"
check_wr "page_indexes=129-131" ok page_indexes=129-131 $S/writeback
check_bd "page_indexes wrote 3 pages" "228 512 228"
check_wr "page_indexes=132-132 (one page)" ok page_indexes=132-132 $S/writeback
check_bd "page_indexes A=B wrote 1 page" "229 512 229"
check_wr "several tokens" ok "page_index=133 page_index=137 page_indexes=142-144" $S/writeback
check_bd "several tokens wrote 5 pages" "234 512 234"
check_wr "overlapping tokens" ok "page_indexes=145-148 page_index=146 page_indexes=147-149" $S/writeback
check_bd "overlapping tokens wrote pages 145..149 once each" "239 512 239"
check_eq "checksum after page_index writebacks" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "239 751 239"

# ---- a mode token after ranges -------------------------------------------
# Still in memory: compressible pages 134-136, 138-141 and 150-159.
# Pages 150..153: the range token writes them (no filter), then the mode
# finds nothing more in the range.
check_wr "page_indexes=150-153 huge" ok "page_indexes=150-153 huge" $S/writeback
check_bd "the range was written unfiltered: 4 pages" "243 751 243"
# a mode first: the whole device with its filter (no huge page is left);
# the page_index after it is ignored, so compressible page 154 stays
check_wr "huge page_index=154" ok "huge page_index=154" $S/writeback
check_bd "nothing written after the mode token" "243 751 243"
check_wr "page_indexes=128-141" ok page_indexes=128-141 $S/writeback
check_bd "page_indexes wrote the 7 pages left in 128..141" "250 751 250"
check "mark idle (pages 154..159 are left)" attr_write all $S/idle
check_wr "page_index=155 type=idle" ok "page_index=155 type=idle" $S/writeback
check_bd "page_index then type=idle wrote page 155 only" "251 751 251"
check_wr "type=idle page_indexes=156-157 (range ignored)" ok \
	"type=idle page_indexes=156-157" $S/writeback
check_bd "type=idle scanned the whole device: pages 154..159 but 155" \
	"256 751 256"
check_eq "final checksum" "$want" "$(sha256 $DEV $MIB)"
check_bd "final bd_stat: all 256 non-same pages read back" "256 1007 256"
diag "mm_stat: $(cat $S/mm_stat)"
check_eq "no page left in memory but the same-filled ones" "0 128 0" \
	"$(echo $(awk '{ print $2, $6, $8 }' $S/mm_stat))"
check "reset" attr_write 1 $S/reset
check_bd "bd_stat after reset" "0 0 0"
ktap_finish
