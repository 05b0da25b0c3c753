#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram writeback attributes: backing_dev, writeback_limit,
# writeback_limit_enable, writeback_batch_size and bd_stat (formats,
# defaults, errors), and the ownership of the backing device: opened
# exclusively, released by replacing it and by reset.
#
# Expected, as zram (6.12, plus writeback_batch_size from 6.19):
# - backing_dev shows "none" or the path of the device; store: EBUSY once
#   initialised; the error of zram's filp_open(O_RDWR | O_LARGEFILE |
#   O_EXCL) (ENOENT, EISDIR, EBUSY if held exclusively, by this device
#   too), then ENOTBLK for a file that is not a block device, EINVAL for
#   a device of zero pages.  "none" is a path like any other.
# - writeback_limit, writeback_limit_enable: kstrtoull base 10, else
#   EINVAL; enable shows 0/1; no init check; both survive a reset.
# - writeback_batch_size: 1..4096, default 256 (upstream: 32); 0, above 4096 (rzram's bound;
#   upstream has none) or bad input EINVAL.
# - bd_stat: "%8llu %8llu %8llu\n", read-only.
. "$(dirname "$0")/lib.sh"
ktap_plan 104
S=/sys/block/rzram0
CTL=/sys/class/rzram-control
DM=rzram_wb_attrs

# check_attr DESC FILE VAL: write VAL, read back VAL
check_attr() {
	wr "$3" "$2"
	check_eq "$1" "ok $3" "$WR $(attr "$2")"
}

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no disk"
id=$(cat $CTL/hot_add 2>/dev/null)
check_eq "hot_add a second device" 1 "$id"
S1=/sys/block/rzram1
check_blockdev "/dev/rzram1 is a block device" /dev/rzram1 || ktap_abort "no second disk"
at_exit "[ -e $S1/reset ] && echo 1 > $S1/reset"
at_exit "dmsetup remove $DM 2>/dev/null"

# ---- modes and defaults ---------------------------------------------------
for a in backing_dev:644 writeback:200 writeback_limit:644 \
	writeback_limit_enable:644 writeback_batch_size:644 bd_stat:444; do
	check_eq "mode of ${a%%:*}" "${a#*:}" "$(stat -c %a $S/${a%%:*} 2>&1)"
done
check_eq "backing_dev default: none" none "$(attr $S/backing_dev)"
check_eq "writeback_limit default: 0" 0 "$(attr $S/writeback_limit)"
check_eq "writeback_limit_enable default: 0" 0 "$(attr $S/writeback_limit_enable)"
check_eq "writeback_batch_size default: 256" 256 "$(attr $S/writeback_batch_size)"
check_eq "bd_stat format before init" "$(printf '%8d %8d %8d' 0 0 0)" "$(attr $S/bd_stat)"
check_wr "bd_stat is read-only" "Permission denied" 0 $S/bd_stat
check_fails "writeback is write-only" cat $S/writeback

# ---- backing_dev: errors -------------------------------------------------
truncate -s 1M "$TMP/file"
check_wr "backing_dev: regular file: ENOTBLK" "Block device required" "$TMP/file" $S/backing_dev
check_wr "backing_dev: character device: ENOTBLK" "Block device required" /dev/null $S/backing_dev
check_wr "backing_dev: directory: EISDIR" "Is a directory" /tmp $S/backing_dev
check_wr "backing_dev: missing path: ENOENT" "No such file or directory" /dev/rzram_wb_nonexistent $S/backing_dev
check_wr "backing_dev: itself (0 pages before init): EINVAL" "Invalid argument" /dev/rzram0 $S/backing_dev
check_eq "backing_dev still none after the errors" none "$(attr $S/backing_dev)"

# ---- backing_dev: set, replace, exclusive --------------------------------
check_attr "backing_dev $RZRAM_BACKING_DEV" $S/backing_dev "$RZRAM_BACKING_DEV"
check_wr "the same device again: EBUSY (zram's open is O_EXCL)" "Device or resource busy" \
	"$RZRAM_BACKING_DEV" $S/backing_dev
check_eq "backing_dev unchanged by the refused write" "$RZRAM_BACKING_DEV" "$(attr $S/backing_dev)"
check_wr "another device cannot take it: EBUSY" "Device or resource busy" \
	"$RZRAM_BACKING_DEV" $S1/backing_dev
check_fails "dmsetup cannot claim it either" \
	dmsetup create $DM --table "0 2048 linear $RZRAM_BACKING_DEV 0"
check_attr "replace with $RZRAM_SMALL_DEV" $S/backing_dev "$RZRAM_SMALL_DEV"
check_attr "the replaced device was released" $S1/backing_dev "$RZRAM_BACKING_DEV"
check_wr "backing_dev none: a path as any other (ENOENT), as zram" \
	"No such file or directory" none $S1/backing_dev
check_eq "rzram1 keeps its device" "$RZRAM_BACKING_DEV" "$(attr $S1/backing_dev)"
check "reset of uninitialised rzram1" attr_write 1 $S1/reset
check_eq "rzram1 backing_dev none after reset" none "$(attr $S1/backing_dev)"
check_attr "the reset released it" $S/backing_dev "$RZRAM_BACKING_DEV"
check_attr "and the replaced one is free" $S1/backing_dev "$RZRAM_SMALL_DEV"
check "reset rzram1" attr_write 1 $S1/reset
check "reset rzram0" attr_write 1 $S/reset
check_eq "echo -n path works" "ok $RZRAM_BACKING_DEV" \
	"$( { echo -n "$RZRAM_BACKING_DEV" >$S/backing_dev && echo ok; } 2>&1) $(attr $S/backing_dev)"
check "reset rzram0 again" attr_write 1 $S/reset
wr "/dev/../dev/${RZRAM_BACKING_DEV#/dev/}" $S/backing_dev
check_eq "a non-canonical path reads back canonical" "ok $RZRAM_BACKING_DEV" \
	"$WR $(attr $S/backing_dev)"

# ---- after init -----------------------------------------------------------
check "disksize 1M" attr_write 1M $S/disksize
check_eq "backing_dev shows the device after init" "$RZRAM_BACKING_DEV" "$(attr $S/backing_dev)"
check_wr "backing_dev after init: EBUSY" "Device or resource busy" "$RZRAM_SMALL_DEV" $S/backing_dev
check_wr "backing_dev none after init: EBUSY" "Device or resource busy" none $S/backing_dev
check_wr "backing_dev, same device, after init: EBUSY" "Device or resource busy" \
	"$RZRAM_BACKING_DEV" $S/backing_dev
check_eq "backing_dev unchanged" "$RZRAM_BACKING_DEV" "$(attr $S/backing_dev)"
check_bd "bd_stat after init" "0 0 0"
check_wr "still held exclusively" "Device or resource busy" "$RZRAM_BACKING_DEV" $S1/backing_dev
check "reset" attr_write 1 $S/reset
check_eq "backing_dev none after reset" none "$(attr $S/backing_dev)"
check "reset released it: dmsetup can claim it" \
	dmsetup create $DM --table "0 2048 linear $RZRAM_BACKING_DEV 0"
check_wr "rzram1 cannot take it while dm holds it: EBUSY" "Device or resource busy" \
	"$RZRAM_BACKING_DEV" $S1/backing_dev
check "dmsetup remove" dmsetup remove $DM
check_attr "reset released it: rzram1 can take it" $S1/backing_dev "$RZRAM_BACKING_DEV"
check "rzram1 disksize 1M" attr_write 1M $S1/disksize
check_blockdev "/dev/rzram1 still a block device" /dev/rzram1
make_data "$TMP/rand" 1
check "rzram1: write 1 MiB" dd if="$TMP/rand" of=/dev/rzram1 bs=1M oflag=direct status=none
check_wr "rzram1: writeback huge" ok huge $S1/writeback
check_eq "rzram1: bd_stat" "256 0 256" "$(echo $(cat $S1/bd_stat))"
check_eq "rzram1: checksum" "$(sha256 "$TMP/rand")" "$(sha256 /dev/rzram1 1)"
check "rzram1: reset" attr_write 1 $S1/reset
check_eq "rzram1: backing_dev none after reset" none "$(attr $S1/backing_dev)"
check "hot_remove rzram1" attr_write 1 $CTL/hot_remove

# ---- writeback_limit --------------------------------------------------------
check_attr "writeback_limit 100" $S/writeback_limit 100
check_attr "writeback_limit +5" $S/writeback_limit 5
check_eq "reads back without the sign" 5 "$(attr $S/writeback_limit)"
check_attr "writeback_limit 0" $S/writeback_limit 0
check_attr "writeback_limit U64_MAX" $S/writeback_limit 18446744073709551615
for v in abc -1 "" 1.5 0x10 10k " 7" 18446744073709551616; do
	check_wr "writeback_limit '$v': EINVAL" "Invalid argument" "$v" $S/writeback_limit
done
check_eq "writeback_limit unchanged by bad input" 18446744073709551615 "$(attr $S/writeback_limit)"

# ---- writeback_limit_enable -------------------------------------------------
check_attr "writeback_limit_enable 1" $S/writeback_limit_enable 1
check_attr "writeback_limit_enable 0" $S/writeback_limit_enable 0
wr 2 $S/writeback_limit_enable
check_eq "writeback_limit_enable 2 reads 1" "ok 1" "$WR $(attr $S/writeback_limit_enable)"
for v in abc -1 "" yes; do
	check_wr "writeback_limit_enable '$v': EINVAL" "Invalid argument" "$v" $S/writeback_limit_enable
done
check_eq "writeback_limit_enable unchanged by bad input" 1 "$(attr $S/writeback_limit_enable)"

# ---- writeback_batch_size ---------------------------------------------------
check_attr "writeback_batch_size 1" $S/writeback_batch_size 1
check_attr "writeback_batch_size 256" $S/writeback_batch_size 256
check_attr "writeback_batch_size 4096 (the maximum)" $S/writeback_batch_size 4096
for v in 0 abc -1 "" 4097 4294967295 4294967296 1x; do
	check_wr "writeback_batch_size '$v': EINVAL" "Invalid argument" "$v" $S/writeback_batch_size
done
check_eq "writeback_batch_size unchanged by bad input" 4096 "$(attr $S/writeback_batch_size)"
check_attr "writeback_batch_size 7" $S/writeback_batch_size 7

# ---- they survive a reset (as in zram) --------------------------------------
check_attr "writeback_limit 123" $S/writeback_limit 123
check "backing_dev, disksize" eval "attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 1M $S/disksize"
check "reset" attr_write 1 $S/reset
check_eq "limit, enable and batch size survive reset" "123 1 7" \
	"$(attr $S/writeback_limit) $(attr $S/writeback_limit_enable) $(attr $S/writeback_batch_size)"
check_bd "bd_stat after reset" "0 0 0"
ktap_finish
