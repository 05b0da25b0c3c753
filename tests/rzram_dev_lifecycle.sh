#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram device lifecycle: reset and reuse (old data must read as zeroes),
# init/reset cycles with every algorithm, reset and hot_remove refused
# (EBUSY) while the device is open, hot_add of a second device that works
# independently, hot_remove, id reuse, rmmod refused while a device is
# open, rmmod with three initialized devices holding data.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
S=/sys/block/rzram0
RC=/sys/class/rzram-control
MiB=$((1 << 20))

ktap_plan 43

# werr VALUE FILE: write VALUE; ERR = "" on success, else the error text
werr() {
	ERR=
	{ printf '%s\n' "$1" >"$2"; } 2>"$TMP/err" && return 0
	IFS= read -r ERR <"$TMP/err"
	ERR=${ERR##*: }
	return 1
}
# expect_err DESC WANT VALUE FILE: the write gives WANT ("" = success)
expect_err() {
	werr "$3" "$4"
	check_eq "$1" "${2:-success}" "${ERR:-success}"
}
# rd FILE: REPLY = FILE's first line
rd() { REPLY=; read -r REPLY <"$1"; }
# holds DEV FILE: DEV starts with FILE's 2 MiB.  A process costs about a
# second in this guest, so a plain cmp (one process); nothing keeps the
# device open across these calls, so its page cache is dropped at each
# last close and the bytes come from the driver.
# (Every FILE here is 2 MiB.)
holds() { cmp -n $((2 * MiB)) "$2" "$1"; }

# ---- setup ---------------------------------------------------------------
if [ -e /sys/module/rzram ]; then
	diag "rzram already loaded, unloading it first"
	rmmod rzram || true
fi
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit 'for r in /sys/block/rzram*/reset; do [ ! -e $r ] || echo 1 >$r; done'
at_exit 'exec 3<&- 4<&-'

kmsg "start"
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no $DEV"

make_data "$TMP/rand" 2
seq 1 1000000 | head -c $MiB >"$TMP/mix"
head -c $MiB "$TMP/rand" >>"$TMP/mix"
head -c $((2 * MiB)) /dev/zero >"$TMP/zero"

# ---- reset, then reuse ------------------------------------------------------
kmsg "reset and reuse"
expect_err "disksize 16M" "" 16M $S/disksize
check "write 2 MiB" dd if="$TMP/rand" of=$DEV bs=1M oflag=direct status=none
check "it reads back" holds $DEV "$TMP/rand"
expect_err "reset" "" 1 $S/reset
rd $S/initstate; i=$REPLY
rd $S/disksize; d=$REPLY
rd $S/size
check_eq "after reset: initstate 0, disksize 0, size 0" "0 0 0" "$i $d $REPLY"
expect_err "disksize 16M again" "" 16M $S/disksize
check "the data from before the reset reads as zeroes" holds $DEV "$TMP/zero"
read -ra F <$S/mm_stat
check_eq "mm_stat counts start from zero again" "0 0 0" "${F[0]} ${F[5]} ${F[7]}"
expect_err "reset" "" 1 $S/reset

# ---- init/reset cycles with each algorithm ------------------------------------
kmsg "algorithm cycles"
for alg in lzo lz4 zstd lzo-rle; do
	if werr $alg $S/comp_algorithm && werr 8M $S/disksize &&
		dd if="$TMP/mix" of=$DEV bs=64k oflag=direct status=none &&
		holds $DEV "$TMP/mix" &&
		read -r c <$S/comp_algorithm && [[ $c == *"[$alg]"* ]] &&
		werr 1 $S/reset; then
		ktap_ok "cycle with $alg: set, init, write, verify, reset"
	else
		diag "error '$ERR'; comp_algorithm '$(cat $S/comp_algorithm)'; mm_stat $(cat $S/mm_stat)"
		ktap_fail "cycle with $alg: set, init, write, verify, reset"
		echo 1 >$S/reset
	fi
done

# ---- refused while open ------------------------------------------------------
kmsg "reset while open"
expect_err "disksize 16M" "" 16M $S/disksize
check "write 2 MiB" dd if="$TMP/mix" of=$DEV bs=1M oflag=direct status=none
exec 3<$DEV
expect_err "reset while open: EBUSY" "Device or resource busy" 1 $S/reset
dd if=$DEV of="$TMP/got" bs=1M count=2 iflag=direct status=none
check "the data survived the refused reset" cmp "$TMP/mix" "$TMP/got"
check_fails "rmmod refused while /dev/rzram0 is open" rmmod rzram ||
	ktap_abort "rzram was unloaded under an open device"
exec 3<&-

# ---- a second device ----------------------------------------------------------
kmsg "hot_add"
rd $RC/hot_add
check_eq "hot_add returns 1" 1 "$REPLY"
check_blockdev "/dev/rzram1 is a block device" /dev/rzram1 || ktap_abort "no /dev/rzram1"
expect_err "rzram1: disksize 8M" "" 8M /sys/block/rzram1/disksize
check "rzram1: write 2 MiB of random data" \
	dd if="$TMP/rand" of=/dev/rzram1 bs=1M oflag=direct status=none
check "rzram1 reads back its data" holds /dev/rzram1 "$TMP/rand"
check "rzram0 still reads back its own" holds $DEV "$TMP/mix"
exec 4</dev/rzram1
expect_err "hot_remove 1 while open: EBUSY" "Device or resource busy" 1 $RC/hot_remove
dd if=/dev/rzram1 of="$TMP/got" bs=1M count=2 iflag=direct status=none
check "rzram1 still works after the refused hot_remove" cmp "$TMP/rand" "$TMP/got"
check_fails "rmmod refused while rzram1 is open" rmmod rzram ||
	ktap_abort "rzram was unloaded under an open device"
exec 4<&-
expect_err "hot_remove 1 once closed" "" 1 $RC/hot_remove
check "rzram1 is gone (sysfs and /dev)" test ! -e /sys/block/rzram1 -a ! -e /dev/rzram1
check "rzram0 unaffected by the removal" holds $DEV "$TMP/mix"
rd $RC/hot_add
check_eq "hot_add reuses id 1" 1 "$REPLY"
rd /sys/block/rzram1/initstate; i=$REPLY
rd /sys/block/rzram1/disksize
check_eq "the new rzram1 is fresh (initstate 0, disksize 0)" "0 0" "$i $REPLY"
bad=
for n in 1 2 3 4 5; do
	werr 1 $RC/hot_remove || bad="$bad remove:$ERR"
	rd $RC/hot_add; [ "$REPLY" = 1 ] || bad="$bad add:$REPLY"
done
check_eq "5 hot_remove/hot_add cycles, id 1 each time" "" "$bad"

# ---- rmmod with three devices holding data --------------------------------------
kmsg "rmmod with data"
rd $RC/hot_add
check_eq "hot_add returns 2" 2 "$REPLY"
ok=yes
for n in 1 2; do
	[ -b /dev/rzram$n ] && werr 8M /sys/block/rzram$n/disksize &&
		dd if="$TMP/mix" of=/dev/rzram$n bs=1M oflag=direct status=none || ok="no ($n: $ERR)"
done
check_eq "rzram1 and rzram2 initialized and written" yes "$ok"
read -ra F </sys/block/rzram2/mm_stat
check_eq "rzram2 holds 2 MiB" $((2 * MiB)) "${F[0]}"
check "rmmod with 3 initialized devices holding data" rmmod rzram
check "every rzram disk is gone" eval '! ls -d /sys/block/rzram* /dev/rzram* 2>/dev/null'
check "insmod again" insmod "$KO"
rd $S/initstate
check_eq "rzram0 comes back fresh" 0 "$REPLY"
check "rmmod" rmmod rzram
kmsg "end"

ktap_finish
