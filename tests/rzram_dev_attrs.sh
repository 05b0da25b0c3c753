#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram's sysfs ABI, attribute by attribute, against the in-tree zram as
# the reference: read formats, good writes, and the errno of every bad
# write.  zram0 is loaded next to rzram0 and driven through the same
# steps, so each expected errno is checked on zram too (a case fails if
# either driver disagrees with the expectation; the diagnostics say which).
# Also the control class (hot_add, hot_remove) and num_devices.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
R=/sys/block/rzram0
Z=/sys/block/zram0
RC=/sys/class/rzram-control
ZC=/sys/class/zram-control

ktap_plan 120

# ---- helpers -----------------------------------------------------------
# Process creation is expensive in the TCG + KASAN guest, so these helpers
# use bash builtins only: no $(...), no cat, no awk.

# rd FILE: REPLY = FILE's content, lines joined with "\n" (no final "\n");
# empty and status 1 if unreadable
rd() {
	local -a l
	REPLY=
	mapfile -t l <"$1" 2>/dev/null || return 1
	local IFS=$'\n'
	REPLY="${l[*]}"
}

# nf FILE [LINE]: REPLY = number of whitespace separated fields of LINE
# (1-based, default 1) of FILE; F = those fields
nf() {
	local -a l
	mapfile -t l <"$1" 2>/dev/null
	read -ra F <<<"${l[${2:-1}-1]}"
	REPLY=${#F[@]}
}

# werr VALUE FILE: write "VALUE\n" to FILE in one write(); ERR = "" on
# success, else the error text ("Invalid argument", ...)
werr() {
	ERR=
	{ printf '%s\n' "$1" >"$2"; } 2>"$TMP/err" && return 0
	IFS= read -r ERR <"$TMP/err"
	ERR=${ERR##*: }
	return 1
}

# werr_nonl VALUE FILE: as werr, without the trailing newline
werr_nonl() {
	ERR=
	{ printf '%s' "$1" >"$2"; } 2>"$TMP/err" && return 0
	IFS= read -r ERR <"$TMP/err"
	ERR=${ERR##*: }
	return 1
}

# both_err DESC WANT VALUE RFILE ZFILE [werr|werr_nonl]: writing VALUE to
# RFILE (rzram) and ZFILE (zram) gives WANT ("" = success) on both
both_err() {
	local desc=$1 want=$2 val=$3 rf=$4 zf=$5 w=${6:-werr} r z shown
	$w "$val" "$rf"; r=$ERR
	$w "$val" "$zf"; z=$ERR
	if [ "$r" = "$want" ] && [ "$z" = "$want" ]; then
		ktap_ok "$desc"
		return 0
	fi
	shown=$val
	[ ${#shown} -gt 40 ] && shown="${shown:0:20}...(${#val} chars)"
	diag "write '$shown' to ${rf##*/}: rzram: '${r:-success}', zram: '${z:-success}', expected '${want:-success}'"
	ktap_fail "$desc"
	return 1
}

# dev_err DESC WANT VALUE ATTR: both_err on /sys/block/{rzram0,zram0}/ATTR
dev_err() { both_err "$1" "$2" "$3" "$R/$4" "$Z/$4" "${5:-werr}"; }
# ctl_err DESC WANT VALUE ATTR: both_err on the control classes
ctl_err() { both_err "$1" "$2" "$3" "$RC/$4" "$ZC/$4"; }

# both_write VALUE ATTR: write VALUE to ATTR of both devices, quietly
both_write() { echo "$1" >"$R/$2"; echo "$1" >"$Z/$2"; }

# ok_if DESC COND...: a case that passes when the test(1) expression holds
ok_if() {
	local desc=$1
	shift
	if [ "$@" ]; then ktap_ok "$desc"; return 0; fi
	diag "false: [ $* ]"
	ktap_fail "$desc"
	return 1
}

# same_as_zram DESC ATTR: rzram0/ATTR reads exactly as zram0/ATTR
same_as_zram() {
	local r z
	rd "$R/$2"; r=$REPLY
	rd "$Z/$2"; z=$REPLY
	if [ "$r" = "$z" ]; then
		ktap_ok "$1"
		return 0
	fi
	diag "rzram0/$2: '$r'"
	diag "zram0/$2:  '$z'"
	ktap_fail "$1"
	return 1
}

# same_files DESC NAME...: each NAME reads the same under rzram0 and zram0
same_files() {
	local desc=$1 a r z bad=0
	shift
	for a in "$@"; do
		rd "$R/$a"; r=$REPLY
		rd "$Z/$a"; z=$REPLY
		if [ "$r" != "$z" ]; then
			diag "$a: rzram '$r', zram '$z'"
			bad=1
		fi
	done
	if [ $bad -eq 0 ]; then ktap_ok "$desc"; else ktap_fail "$desc"; fi
}

# same_modes DESC NAME...: each NAME has the same mode under both
same_modes() {
	local desc=$1 r z
	shift
	r=$(cd $R && stat -c '%n %a' "$@" 2>&1)
	z=$(cd $Z && stat -c '%n %a' "$@" 2>&1)
	if [ "$r" = "$z" ]; then ktap_ok "$desc"; return 0; fi
	diag "rzram: $(echo $r)"
	diag "zram:  $(echo $z)"
	ktap_fail "$desc"
}

# mm N, io N: field N of mm_stat, io_stat (REPLY)
mm() { nf $R/mm_stat; REPLY=${F[$1-1]}; }
io() { nf $R/io_stat; REPLY=${F[$1-1]}; }

# ---- setup ---------------------------------------------------------------

for m in rzram zram; do
	if [ -e /sys/module/$m ]; then
		diag "$m already loaded, unloading it first"
		for d in /sys/block/$m[0-9]*; do [ -e "$d/reset" ] && echo 1 >"$d/reset"; done
		rmmod $m || true
	fi
done
at_exit '[ ! -e /sys/module/zram ] || rmmod zram'
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit 'exec 3<&- 4<&- 5<&- 6<&-'

kmsg "start"
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
check "modprobe zram num_devices=1 (reference)" modprobe zram num_devices=1 ||
	ktap_abort "zram did not load"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no /dev/rzram0"
check_blockdev "/dev/zram0 is a block device" /dev/zram0 || ktap_abort "no /dev/zram0"

# ---- read formats, uninitialized ------------------------------------------
kmsg "formats"
rd $R/initstate; check_eq "initstate reads 0" 0 "$REPLY"
rd $R/disksize; check_eq "disksize reads 0" 0 "$REPLY"
rd $R/comp_algorithm
check_eq "comp_algorithm reads '[lzo-rle] lzo lz4 lz4hc zstd deflate 842 '" "[lzo-rle] lzo lz4 lz4hc zstd deflate 842 " "$REPLY"
same_as_zram "comp_algorithm reads as zram's" comp_algorithm
nf $R/io_stat; check_eq "io_stat has 4 fields" 4 "$REPLY"
check_eq "io_stat field 3 (invalid_io) is 0" 0 "${F[2]}"
same_as_zram "io_stat reads as zram's" io_stat
nf $R/mm_stat; check_eq "mm_stat has 9 fields" 9 "$REPLY"
same_as_zram "mm_stat reads as zram's" mm_stat
rd $R/debug_stat
check_eq "debug_stat line 1 is 'version: 1'" "version: 1" "${REPLY%%$'\n'*}"
nf $R/debug_stat 2
ok_if "debug_stat line 2 is 2 numbers" "$REPLY" = 2 -a -n "${F[0]##*[!0-9]*}" -a -n "${F[1]##*[!0-9]*}"
same_as_zram "debug_stat reads as zram's" debug_stat
same_modes "attribute modes are zram's" \
	disksize initstate reset compact mem_limit mem_used_max idle \
	max_comp_streams comp_algorithm algorithm_params recomp_algorithm recompress io_stat mm_stat \
	debug_stat backing_dev writeback writeback_limit writeback_limit_enable bd_stat
same_files "queue limits and disk flags are zram's" \
	queue/logical_block_size queue/physical_block_size queue/minimum_io_size \
	queue/optimal_io_size queue/discard_granularity queue/discard_max_hw_bytes \
	queue/write_zeroes_max_bytes queue/stable_writes queue/rotational \
	range ext_range removable ro

# ---- bad and good writes, uninitialized --------------------------------
kmsg "uninitialized writes"
same_as_zram "max_comp_streams reads as zram's (online CPUs)" max_comp_streams
dev_err "max_comp_streams 4 accepted and ignored" "" 4 max_comp_streams
dev_err "max_comp_streams garbage accepted and ignored" "" garbage max_comp_streams
dev_err "compact before init: EINVAL" "Invalid argument" 1 compact
dev_err "idle all before init: EINVAL" "Invalid argument" all idle
dev_err "idle 60 before init: EINVAL" "Invalid argument" 60 idle
dev_err "mem_used_max 5: EINVAL" "Invalid argument" 5 mem_used_max
dev_err "mem_used_max abc: EINVAL" "Invalid argument" abc mem_used_max
dev_err "mem_used_max 0 accepted" "" 0 mem_used_max
dev_err "mem_limit abc: EINVAL" "Invalid argument" abc mem_limit
dev_err "mem_limit empty: EINVAL" "Invalid argument" "" mem_limit
dev_err "mem_limit 1M accepted" "" 1M mem_limit
dev_err "mem_limit 0 accepted" "" 0 mem_limit
dev_err "reset 0: EINVAL" "Invalid argument" 0 reset
dev_err "reset abc: EINVAL" "Invalid argument" abc reset
dev_err "reset -1: EINVAL" "Invalid argument" -1 reset
dev_err "reset 70000 (not a u16): ERANGE" "Numerical result out of range" 70000 reset
dev_err "reset 1 of an uninitialized device accepted" "" 1 reset
dev_err "disksize 0: EINVAL" "Invalid argument" 0 disksize
dev_err "disksize garbage: EINVAL" "Invalid argument" garbage disksize
dev_err "disksize empty: EINVAL" "Invalid argument" "" disksize

# comp_algorithm: zram measures the length before it strips the newline:
# strlen >= CRYPTO_MAX_ALG_NAME (128) is E2BIG
printf -v a127 '%0127d' 0
a127=${a127//0/a}
a128=${a127}a
dev_err "comp_algorithm nosuch: EINVAL" "Invalid argument" nosuch comp_algorithm
dev_err "comp_algorithm LZ4 (case matters): EINVAL" "Invalid argument" LZ4 comp_algorithm
dev_err "comp_algorithm 128-char name: E2BIG" "Argument list too long" "$a128" comp_algorithm
dev_err "comp_algorithm 128-char name without newline: E2BIG" "Argument list too long" "$a128" comp_algorithm werr_nonl
dev_err "comp_algorithm 127-char name + newline (128 bytes): E2BIG" "Argument list too long" "$a127" comp_algorithm
dev_err "comp_algorithm 127-char name without newline: EINVAL" "Invalid argument" "$a127" comp_algorithm werr_nonl
dev_err "comp_algorithm 300-char name: E2BIG" "Argument list too long" "$a128$a128${a127:0:44}" comp_algorithm
dev_err "comp_algorithm lz4 accepted" "" lz4 comp_algorithm
rd $R/comp_algorithm
check_eq "comp_algorithm reads 'lzo-rle lzo [lz4] lz4hc zstd deflate 842 '" "lzo-rle lzo [lz4] lz4hc zstd deflate 842 " "$REPLY"
dev_err "comp_algorithm zstd (no newline) accepted" "" zstd comp_algorithm werr_nonl
rd $R/comp_algorithm
check_eq "comp_algorithm reads 'lzo-rle lzo lz4 lz4hc [zstd] deflate 842 '" "lzo-rle lzo lz4 lz4hc [zstd] deflate 842 " "$REPLY"
both_write 1M disksize
both_write 1 reset
rd $R/comp_algorithm
check_eq "reset restores the default comp_algorithm" "[lzo-rle] lzo lz4 lz4hc zstd deflate 842 " "$REPLY"

# disksize: memparse (base 0, K/M/G in any case, trailing text ignored),
# rounded up to a page; the disk's size follows
kmsg "disksize parsing"
for spec in 1000:4096 4k:4096 3M:3145728 1G:1073741824 0x100000:1048576 16Mxyz:16777216; do
	v=${spec%%:*} want=${spec#*:}
	werr "$v" $R/disksize; r=$ERR
	werr "$v" $Z/disksize; z=$ERR
	rd $R/disksize; rs=$REPLY
	rd $Z/disksize; zs=$REPLY
	rd $R/size; sz=$REPLY
	if [ -z "$r$z" ] && [ "$rs" = "$want" ] && [ "$zs" = "$want" ] && [ "$sz" = $((want / 512)) ]; then
		ktap_ok "disksize $v reads back $want"
	else
		diag "rzram: write '${r:-ok}' disksize $rs size $sz; zram: write '${z:-ok}' disksize $zs"
		ktap_fail "disksize $v reads back $want"
	fi
	both_write 1 reset
done

# ---- initialized ---------------------------------------------------------
kmsg "initialized"
dev_err "disksize 16M accepted" "" 16M disksize
rd $R/initstate; check_eq "initstate reads 1" 1 "$REPLY"
dev_err "disksize again once initialized: EBUSY" "Device or resource busy" 32M disksize
rd $R/disksize; check_eq "disksize still 16M" 16777216 "$REPLY"
dev_err "comp_algorithm lz4 once initialized: EBUSY" "Device or resource busy" lz4 comp_algorithm
dev_err "comp_algorithm nosuch once initialized: EINVAL" "Invalid argument" nosuch comp_algorithm
dev_err "compact accepted once initialized" "" 1 compact
dev_err "idle all accepted" "" all idle
dev_err "idle 60 accepted" "" 60 idle
dev_err "idle 0x10 accepted (base 0)" "" 0x10 idle
dev_err "idle abc: EINVAL" "Invalid argument" abc idle
dev_err "idle -1: EINVAL" "Invalid argument" -1 idle
dev_err "idle empty: EINVAL" "Invalid argument" "" idle
same_as_zram "mm_stat of an empty initialized device reads as zram's" mm_stat

yes "rzram attrs test: compressible text" | head -c $((1 << 20)) >"$TMP/text"
make_data "$TMP/rand" 1
check "write 1 MiB of text to both (O_DIRECT)" eval \
	'dd if=$TMP/text of=/dev/rzram0 bs=1M oflag=direct status=none &&
	 dd if=$TMP/text of=/dev/zram0 bs=1M oflag=direct status=none'
mm 1; check_eq "mm_stat orig_data_size is 1 MiB" 1048576 "$REPLY"
both_write 0 mem_used_max
nf $R/mm_stat
check_eq "mem_used_max 0 sets mem_used_max to mem_used_total" "${F[2]}" "${F[4]}"

# mem_limit: rounded up to a page; writes that need more fail with EIO
kmsg "mem_limit"
both_write 1000 mem_limit
mm 4; check_eq "mem_limit 1000 reads back as 4096 in mm_stat" 4096 "$REPLY"
both_write 64K mem_limit
mm 4; check_eq "mem_limit 64K reads back as 65536 in mm_stat" 65536 "$REPLY"
for d in rzram0 zram0; do
	out=$(dd if="$TMP/rand" of=/dev/$d bs=1M seek=4 oflag=direct status=none 2>&1)
	if [ $? -ne 0 ] && [[ $out == *"Input/output error"* ]]; then
		ktap_ok "$d: 1 MiB of random data over a 64K mem_limit fails with EIO"
	else
		diag "$d: dd said '$out'"
		ktap_fail "$d: 1 MiB of random data over a 64K mem_limit fails with EIO"
	fi
done
rd $R/io_stat; diag "rzram0 io_stat: $REPLY"
rd $Z/io_stat; diag "zram0 io_stat:  $REPLY"
rd $R/mm_stat; diag "rzram0 mm_stat: $REPLY"
rd $Z/mm_stat; diag "zram0 mm_stat:  $REPLY"
io 2; ok_if "io_stat failed_writes counts the failure" "$REPLY" -gt 0
mm 3; ok_if "mem_used_total stays within mem_limit" "$REPLY" -le 65536
both_write 0 mem_limit
mm 4; check_eq "mem_limit 0 reads back as 0 (no limit)" 0 "$REPLY"
check "with no limit the write succeeds" \
	dd if="$TMP/rand" of=/dev/rzram0 bs=1M seek=4 oflag=direct status=none
check_eq "and reads back" "$(sha256 "$TMP/rand")" \
	"$(dd if=/dev/rzram0 bs=1M skip=4 count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1)"

# reset: EBUSY while anyone has the device open
kmsg "reset busy"
exec 3</dev/rzram0 4</dev/zram0
dev_err "reset while open: EBUSY" "Device or resource busy" 1 reset
rd $R/initstate; check_eq "still initialized after the refused reset" 1 "$REPLY"
exec 3<&- 4<&-
dev_err "reset accepted once closed" "" 1 reset
rd $R/initstate; check_eq "initstate 0 after reset" 0 "$REPLY"
rd $R/disksize; check_eq "disksize 0 after reset" 0 "$REPLY"
same_as_zram "mm_stat after reset reads as zram's" mm_stat
same_as_zram "io_stat after reset reads as zram's (counters cleared)" io_stat
rd $R/stat
check_eq "block layer stat zeroed by reset, as zram's part_stat_set_all" 0 \
	"$(echo $REPLY | tr ' ' '\n' | awk '{ s += $1 } END { print s + 0 }')"
same_as_zram "stat after reset reads as zram's" stat

# ---- control class ------------------------------------------------------
kmsg "control class"
modes=$(stat -c %a $ZC/hot_add $RC/hot_add $ZC/hot_remove $RC/hot_remove)
read -r zadd radd zrm rrm <<<"$(echo $modes)"
check_eq "hot_add mode is zram's ($zadd: reading it creates a device)" "$zadd" "$radd"
check_eq "hot_remove mode is zram's ($zrm)" "$zrm" "$rrm"
rd $ZC/hot_add; zid=$REPLY
rd $RC/hot_add; check_eq "hot_add returns 1" 1 "$REPLY"
check_blockdev "/dev/rzram1 is a block device" /dev/rzram1
rd /sys/block/rzram1/initstate; check_eq "rzram1 initstate 0" 0 "$REPLY"
rd /sys/block/rzram1/comp_algorithm
check_eq "rzram1 comp_algorithm is the default" "[lzo-rle] lzo lz4 lz4hc zstd deflate 842 " "$REPLY"
exec 5</dev/rzram1 6</dev/zram$zid
ctl_err "hot_remove of an open device: EBUSY" "Device or resource busy" 1 hot_remove
ok_if "rzram1 still there after the refused hot_remove" -e /sys/block/rzram1
exec 5<&- 6<&-
ctl_err "hot_remove 1 accepted once closed" "" 1 hot_remove
ok_if "/sys/block/rzram1 is gone" ! -e /sys/block/rzram1
ok_if "/dev/rzram1 is gone" ! -e /dev/rzram1
ctl_err "hot_remove 1 again: ENODEV" "No such device" 1 hot_remove
ctl_err "hot_remove 99 (never existed): ENODEV" "No such device" 99 hot_remove
ctl_err "hot_remove abc: EINVAL" "Invalid argument" abc hot_remove
ctl_err "hot_remove -1: EINVAL" "Invalid argument" -1 hot_remove
ctl_err "hot_remove 4294967296 (not an int): ERANGE" "Numerical result out of range" 4294967296 hot_remove
rd $RC/hot_add; check_eq "hot_add reuses the lowest free id (1)" 1 "$REPLY"
rd $ZC/hot_add
ctl_err "hot_remove 1 accepted" "" 1 hot_remove
ok_if "rzram0 untouched by the control writes" -b /dev/rzram0 -a -e $R/disksize

# ---- num_devices ---------------------------------------------------------
kmsg "num_devices"
check "rmmod rzram" rmmod rzram
check "insmod rzram.ko num_devices=3" insmod "$KO" num_devices=3 ||
	ktap_abort "rzram did not load with num_devices=3"
for i in 0 1 2; do
	check_blockdev "num_devices=3: /dev/rzram$i is a block device" /dev/rzram$i
done
ok_if "num_devices=3: no rzram3" ! -e /sys/block/rzram3
rd $RC/hot_add; check_eq "num_devices=3: hot_add returns 3" 3 "$REPLY"
check "rmmod rzram with 4 devices" rmmod rzram
d=(/sys/block/rzram*)
ok_if "every rzram disk is gone" ! -e "${d[0]}"
kmsg "end"

ktap_finish
