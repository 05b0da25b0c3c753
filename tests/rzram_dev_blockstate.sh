#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# debugfs block_state (zram: CONFIG_ZRAM_MEMORY_TRACKING) against the
# in-tree zram in the same boot: rzram/rzram0/block_state beside
# zram/zram0/block_state.
#
# Expected, as zram 6.12's read_block_state:
# - reading it before init: EINVAL;
# - a line per stored slot, "%12zd %12lld.%06lu %c%c%c%c%c%c": index,
#   access time (seconds.microseconds of boot time), then the flags
#   s (same-filled), w (written back), h (huge), i (idle), r
#   (recompressed), n (incompressible), '.' when unset;
# - the file offset counts slots, so a reader with a small buffer gets
#   whole lines and the next read goes on at the next slot.
# The same layout on both devices: zero and 0xAA pages (s), random pages
# (h), text pages (compressed), empty slots (no line), then "idle all"
# (i on every stored slot except same-filled ones), a written-back page
# (w, and its idle flag gone), and a page rewritten after the idle
# marking (i cleared).  The index and flag columns must be identical;
# rzram keeps access times in whole seconds, so its microseconds are 0,
# and its seconds must be within 2 of zram's for the same slot.
. "$(dirname "$0")/lib.sh"
ktap_plan 14
R=/sys/block/rzram0
Z=/sys/block/zram0
DR=/sys/kernel/debug/rzram/rzram0/block_state
DZ=/sys/kernel/debug/zram/zram0/block_state

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
check "modprobe zram" modprobe zram num_devices=1 || ktap_abort "no zram"
at_exit "rmmod zram"
at_exit "echo 1 > $R/reset; echo 1 > $Z/reset"
grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug

check_eq "modes: rzram's block_state is zram's (0400)" \
	"$(stat -c %a $DZ 2>&1)" "$(stat -c %a $DR 2>&1)"
rerr() { { cat "$1" >/dev/null; } 2>&1 | sed 's/.*: //'; }
check_eq "read before init: EINVAL, as zram" \
	"Invalid argument Invalid argument" "$(rerr $DZ) $(rerr $DR)"

# 16 pages: 0 zero, 1 0xAA, 2..4 random, 5..7 text, 8..9 empty,
# 10..12 random, 13 zero, 14 text, 15 empty
make_data "$TMP/rand" 1
yes "block_state text page" | head -c 65536 >"$TMP/text"
# layout: the pages, each written to rzram0 and then at once to zram0 (so
# their access times are the same second, give or take one)
layout() {
	local p d
	for p in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		case $p in
		0 | 13) head -c 4096 /dev/zero ;;
		1) head -c 4096 /dev/zero | tr '\0' '\252' ;;
		2 | 3 | 4 | 10 | 11 | 12) dd if="$TMP/rand" bs=4096 skip=$p count=1 status=none ;;
		5 | 6 | 7 | 14) dd if="$TMP/text" bs=4096 skip=$p count=1 status=none ;;
		*) continue ;;
		esac >"$TMP/page"
		for d in /dev/rzram0 /dev/zram0; do
			dd if="$TMP/page" of=$d bs=4096 seek=$p count=1 oflag=direct \
				conv=notrunc status=none || return 1
		done
	done
}
setup() { echo "$2" >"$1/backing_dev" && echo 1M >"$1/disksize"; }
check "rzram0: backing device, 1 MiB" setup $R $RZRAM_BACKING_DEV
check "zram0: backing device, 1 MiB" setup $Z $RZRAM_SMALL_DEV
check "the layout, on both" layout
check "idle all, writeback page 3, rewrite page 6 (both)" eval '
	echo all >$R/idle && echo all >$Z/idle &&
	echo page_index=3 >$R/writeback && echo page_index=3 >$Z/writeback &&
	dd if="$TMP/rand" of=/dev/rzram0 bs=4096 seek=6 count=1 oflag=direct status=none &&
	dd if="$TMP/rand" of=/dev/zram0 bs=4096 seek=6 count=1 oflag=direct status=none'

cols() { awk '{ print $1, $3 }' "$1"; }
cat $DR >"$TMP/r" 2>&1
cat $DZ >"$TMP/z" 2>&1
diag "zram0 block_state:"
diag_cmd cat "$TMP/z"
diag "rzram0 block_state:"
diag_cmd cat "$TMP/r"
check_eq "the index and flag columns are zram's" "$(cols "$TMP/z")" "$(cols "$TMP/r")"
check_eq "13 stored slots" 13 "$(wc -l <"$TMP/r")"
check "every line has zram's format" awk '
	length($0) != 39 || $0 !~ /^ *[0-9]+ +[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9] [s.][w.][h.][i.][r.][n.]$/ { bad = 1 }
	END { exit bad }' "$TMP/r"
check "rzram's times are whole seconds within 2 s of zram's" awk '
	NR == FNR { z[$1] = $2; next }
	{ split($2, t, "."); d = t[1] - int(z[$1]); if (t[2] != "000000" || d > 2 || d < -2) bad = 1 }
	END { exit bad }' "$TMP/z" "$TMP/r"
# a reader of 100 bytes gets two whole lines per read, and all of them
check_eq "reads of 100 bytes: whole lines, all of them" "$(cat "$TMP/r")" \
	"$(dd if=$DR bs=100 status=none)"
check_eq "the same for zram" "$(cat "$TMP/z")" "$(dd if=$DZ bs=100 status=none)"
ktap_finish
