#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback: what `writeback` rejects or ignores, and the
# `incompressible` mode (the selection modes are in rzram_wb_modes.sh).
#
# Expected (zram 6.16+ writeback_store, which rzram mirrors):
# - EINVAL when not initialised (whatever the input), ENODEV without a
#   backing device;
# - EINVAL for a bare word that is not a mode (modes are case
#   sensitive), `type=` with a bad or empty mode, a key with an empty
#   value, a malformed index or range; as upstream's next_arg(), a token
#   starting with "=" is a bare word ("=huge": EINVAL);
# - ERANGE for an index or range end at or past the end of the device,
#   A > B, or a number that overflows;
# - a parse error writes nothing, not even for earlier good tokens;
# - unknown key=value tokens are ignored, an empty write does nothing,
#   tokens after a mode are not parsed;
# - `incompressible` selects pages flagged incompressible, which only
#   recompression sets; this test configures no recompression, so that
#   mode writes nothing (rzram_recomp.sh writes such pages back).
. "$(dirname "$0")/lib.sh"
ktap_plan 56
S=/sys/block/rzram0
DEV=/dev/rzram0
MIB=2
NR=512


modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"

head -c $((512 << 10)) /dev/urandom >"$TMP/rand"
yes "rzram writeback parse test line" | head -c $((512 << 10)) >"$TMP/text"
head -c $((1 << 20)) /dev/zero >"$TMP/zero"
cat "$TMP/rand" "$TMP/text" "$TMP/zero" >"$TMP/img"
want=$(sha256 "$TMP/img")

# setup: initialise and write the layout (3 cases)
setup() {
	check "disksize ${MIB}M" attr_write ${MIB}M $S/disksize
	check "write the layout" dd if="$TMP/img" of=$DEV bs=512K count=3 oflag=direct status=none
	check_eq "checksum after write" "$want" "$(sha256 $DEV $MIB)"
}

# ---- not initialised, no backing device ---------------------------------
check_wr "writeback before init: EINVAL" "Invalid argument" huge $S/writeback
check_wr "page_index before init: EINVAL" "Invalid argument" page_index=0 $S/writeback
check_wr "garbage before init: EINVAL" "Invalid argument" nonsense $S/writeback
setup
check_wr "huge without backing device: ENODEV" "No such device" huge $S/writeback
check_wr "page_index without backing device: ENODEV" "No such device" page_index=0 $S/writeback
check_bd "bd_stat without backing device" "0 0 0"
check "reset" attr_write 1 $S/reset

# ---- parse errors (initialised, with a backing device) ------------------
check "backing_dev $RZRAM_BACKING_DEV" attr_write "$RZRAM_BACKING_DEV" $S/backing_dev
setup
for tok in foo HUGE Idle "type=bogus" "type=" "type" "page_index" "page_index=" \
	"page_index=abc" "page_index=0x10" "page_index=-1" "page_index=1a" \
	"page_indexes=5" "page_indexes=-5" "page_indexes=5-" "page_indexes=1-2-3" \
	"page_indexes=a-b" "=huge"; do
	check_wr "'$tok': EINVAL" "Invalid argument" "$tok" $S/writeback
done
for tok in "page_index=$NR" "page_index=99999999999999999999999" \
	"page_indexes=0-$NR" "page_indexes=$NR-$NR" "page_indexes=2000-3000" \
	"page_indexes=10-5" "page_indexes=0-99999999999999999999999"; do
	check_wr "'$tok': ERANGE" "Numerical result out of range" "$tok" $S/writeback
done
check_wr "good tokens then a bad one: ERANGE" "Numerical result out of range" \
	"page_index=0 page_indexes=1-3 page_index=$NR" $S/writeback
check_wr "good tokens then a bare word: EINVAL" "Invalid argument" \
	"page_index=0 nonsense" $S/writeback
check_bd "nothing written by rejected input" "0 0 0"
check_wr "unknown key=value is ignored" ok "foo=bar" $S/writeback
check_wr "empty input is accepted" ok "" $S/writeback
check_wr "a mode ends the input: later tokens are not parsed" ok \
	"type=incompressible page_index=$NR" $S/writeback
check_bd "nothing written by ignored input" "0 0 0"

# ---- incompressible: not set without recompression, writes nothing ------
check_wr "incompressible" ok incompressible $S/writeback
check_wr "type=incompressible" ok type=incompressible $S/writeback
check_bd "incompressible wrote nothing" "0 0 0"

# ---- and a good request still works ---------------------------------------
check_wr "huge" ok huge $S/writeback
check_bd "huge wrote the 128 random pages" "128 0 128"
check_eq "checksum" "$want" "$(sha256 $DEV $MIB)"
check_bd "bd_reads after reading back" "128 128 128"
check "reset" attr_write 1 $S/reset
ktap_finish
