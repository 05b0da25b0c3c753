#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hostile input to every writable sysfs attribute, rzram against the
# in-tree zram in the same boot (modprobe zram num_devices=1): each value
# is written to zram0 and rzram0 with ONE write(2) each (helpers/hostile),
# the two errnos are recorded and compared.
#
# Attributes: every regular file directly in /sys/block/zram0 and
# /sys/block/rzram0 that has a write bit in both (discovered; expected to
# include disksize reset mem_limit mem_used_max idle compact
# comp_algorithm algorithm_params recomp_algorithm recompress
# max_comp_streams backing_dev writeback writeback_limit
# writeback_limit_enable, and the block core's uevent), and hot_remove of
# /sys/class/{zram,rzram}-control.  writeback_batch_size exists only in
# rzram (zram 6.19+): its values are checked against their own expected
# errnos (0 or above 4096, or not a number: EINVAL).  Attributes in
# subdirectories (queue/, power/) are the block and driver core's, not
# the driver's: not tried.
#
# Values: a generic set for every attribute (an empty write, whitespace,
# a bare newline, NUL bytes, a number followed by a NUL, negatives,
# 2^64-1, 2^64, 2^128, an overflowing number with a garbage suffix, hex,
# garbage suffixes, octal-looking, leading '+', trailing space / tab /
# CRLF / two newlines, non-UTF-8 bytes, all/none/modes/ranges in the
# wrong attribute, 4095-byte strings), and values tailored to each
# attribute.  Written in an escaped form (see hostile.c) that is also how
# the table shows them.
#
# States, each for both devices, every value in every state:
#   uninit      not initialised, no backing device
#   init        initialised (disksize 16M, 4 MiB of mixed data), no
#               backing device
#   bdev        a backing device (its own dm-linear slice of /dev/vdb),
#               not initialised
#   init_bdev   a backing device, initialised, the data written, a
#               `huge` writeback done
#   wb_inflight init_bdev with 256 pages rewritten (resident huge pages)
#               and both backing slices suspended (dmsetup suspend): a
#               `huge` writeback is started on each device and the test
#               waits until the writer is in state D and has not
#               returned; then every value is written, each write by a
#               child process, all the values of an attribute at once: a
#               write in state D for 300 ms, or not returned after 3 s,
#               is "blocked" and its result collected after the resume;
#               the writers are checked to be still in D, not returned;
#               then the slices are resumed and the writers must succeed.
# In wb_inflight the attributes that zram stores under init_lock taken
# shared come first (a writer queued on zram's init_lock holds up every
# later reader until the writeback ends): blocked writes are reported in
# the table but only the final errno is compared.
#
# State changes: a value that a device accepts for reset, disksize,
# backing_dev or hot_remove (of the scratch device 1) is undone right
# after that write, before the next one (so zram's accepting a value never
# turns rzram's write of it into another state): the device is reset and
# rebuilt in the state (hot_remove: hot_add).  Each is a diag line
# "restore: ...".  After each group both devices are checked to be in the
# state (initstate, disksize, backing_dev, device 1 present).
# hot_remove is written while zram0 and rzram0 are held open, so a value
# that parses as 0 gets EBUSY instead of removing the device under test;
# values that parse as 1 remove the scratch device 1, which is hot_added
# again.  In wb_inflight, reset values accepted in init_bdev are not
# written (they would reset the device during the writeback; reset
# racing writeback is rzram_wb_race.sh's); the other attributes have no
# value that may change the state of an initialised device.
# Left out, because zram 6.12 itself warns (the run would fail on its
# Call Trace): disksize values that memparse to more than RAM (vzalloc of
# the slot table) or to 0 after page alignment (WARN_ON(!size)) in the
# uninitialised states: 2^64-1, an overflowing number, 4095 nines.
# mem_limit, writeback_limit(_enable), comp_algorithm and
# writeback_batch_size are set back to their defaults after their group
# (in wb_inflight after the resume: zram's mem_limit store waits for the
# writeback).
#
# Expected: the same errno as zram for every case, except the entries of
# the ALLOW table below (each with its reason).  Data written before the
# hostile writes reads back intact afterwards (checksum) in each
# initialised state (after a rebuild, the data written by it); at the
# end both devices take new data, write it back and read it back intact.
# The table is printed as diag lines "case ATTR STATE INPUT zram=E
# rzram=E [same|allowed: reason|DIFFERENT]"; the summary gives the number
# of cases, of differences, allowed and not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
HOSTILE=$(dirname "$0")/helpers/hostile
KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
BDEV=${RZRAM_SMALL_DEV:-/dev/vdb}
declare -A SYS=([z]=/sys/block/zram0 [r]=/sys/block/rzram0)
declare -A DEVN=([z]=/dev/zram0 [r]=/dev/rzram0)
declare -A CTL=([z]=/sys/class/zram-control [r]=/sys/class/rzram-control)
declare -A DMN=([z]=hostile_z [r]=hostile_r)
declare -A SCRATCH=([z]=/sys/block/zram1 [r]=/sys/block/rzram1)
declare -A WBP		# the wb_inflight writers, per device
DMX=hostile_x
DSIZE=16M
DBYTES=16777216
IMG_MIB=4
START=$SECONDS

# ---- values ---------------------------------------------------------------
X4095=$(printf 'x%.0s' {1..4095})
N4095=$(printf '9%.0s' {1..4095})
A127=$(printf 'a%.0s' {1..127})
LONGPATH=/$(printf 'a%.0s' {1..4094})
GEN=(
	''			# an empty write (sysfs never calls the store)
	'\n' ' ' ' \t \n' '\0' '\0\n' '1\0x' '-1' '-9223372036854775809'
	'18446744073709551615' '18446744073709551616'
	'340282366920938463463374607431768211456'
	'99999999999999999999999x' '0x10' '0X1g' '12abc' '4Kx' '010' '08'
	'+1' '++1' '1 ' '1\t' ' 1' '1\n\n' '1\r\n' '\xff\xfe' '1\xff'
	'all' 'none' 'huge huge' 'type=huge type=idle' 'page_indexes=10-5'
	"$X4095" "$N4095"
)
declare -A TAIL
TAIL[disksize]="0|00|0x|4096\\0|1M\\xff|1KK|-4096|4096 4096|1q|\\x001M"
TAIL[reset]="0|00|65535|65536|-0|0x1|00001|1\\0| +1"
TAIL[mem_limit]="0k|1Z|16E|0x|K|-0|1M\\0|1 M"
TAIL[mem_used_max]="0\\0x|00|+0|-0|0x0|0 | 0|1|0\\n\\n"
TAIL[idle]="all\\0x|ALL|all all|all\\n\\n| all|all |0|-1|0x|1.5|4294967296|alll|al"
TAIL[compact]="0|garbage"
TAIL[comp_algorithm]="lz4\\0x|lz4 | lz4|LZ4|lz4\\n\\n|lzo-rle\\xff|zstd\\t|[lz4]|lz4 zstd|$A127|${A127}a"
TAIL[backing_dev]="/dev/null\\0/x|/dev/mapper/$DMX\\0junk|/|/tmp|/nonexistent|none\\n\\n|NONE| none|none |/dev/null|dev/null|$BDEV|/dev/mapper/$DMX\\n\\n|/dev/mapper/$DMX |$LONGPATH"
TAIL[writeback]="page_index=1\\0x|page_index=-1|page_index=+1|page_index=0x1|page_index=18446744073709551616|page_index=4096|page_index=4095|page_index= 1|page_index=1 page_index=2|page_indexes=1-2|page_indexes=0-4096|page_indexes=5-|page_indexes=1-2-3|type=huge|idle huge|huge\\t| huge|huge\\n\\n|HUGE|huge_idle|incompressible|page_index=1\\xff|foo=bar|=huge|page_index|type=|huge\\0idle|huge\\x0b|huge\\xa0|\"huge\"|type=\"huge\""
TAIL[writeback_limit]="0x1|-0|1\\0|01|4294967296|0 "
TAIL[writeback_limit_enable]="0x1|-0|1\\0|01|true|Y|2"
TAIL[hot_remove]="-0|-+0|+0|00|0\\0x|2147483648|-2147483648|4294967297|01|1\\0x|99999|-+1|0x1"
TAIL[recomp_algorithm]="algo=zstd|priority=2 algo=deflate|priority=3 algo=842|priority=0 algo=zstd|priority=4 algo=zstd|priority=-1 algo=lz4|algo=nosuch|algo=|priority=2|algo=zstd priority=x|algo=$A127|algo=${A127}a|algo=zstd\\0x|\"algo=zstd\"|algo=\"lz4\"|algo=ZSTD"
TAIL[recompress]="type=huge|type=idle|type=huge_idle|type=bogus|type=|max_pages=0|max_pages=-1|max_pages=18446744073709551616|threshold=4096|threshold=100|threshold=-1|threshold=4294967296|algo=zstd|algo=nosuch|priority=0|priority=9|priority=2 algo=zstd|type=huge max_pages=1|type=huge\\0x|\"type=huge\""
TAIL[writeback_batch_size]="0|1|4096|4097|00|4294967297|256\\n|-1"
# disksize values zram 6.12 warns for in an uninitialised state (above)
EXCL_DISKSIZE="|18446744073709551615|99999999999999999999999x|$N4095|"

# writeback_batch_size (rzram only): expected as the kernel's kstrtoull
# (base 10) reads the C string (up to a NUL, one '+', one final newline),
# then 1..4096; anything else EINVAL; an empty write never reaches it
# (keys prefixed with k: bash has no empty keys)
declare -A WBS_OK=([k]=1 ['k1\0x']=1 [k+1]=1 [k010]=1 [k08]=1 [k1]=1 [k4096]=1 ['k256\n']=1)

# ---- allowed differences --------------------------------------------------
# ATTR|STATE (glob)|INPUT (escaped, exact; * any)|ZRAM ERRNO|RZRAM ERRNO|REASON
# Only deliberate ones: rzram's writeback follows zram 6.16+'s
# writeback_store (checks in the order init, a running writeback (EAGAIN),
# backing device (ENODEV), then the input; whitespace separated tokens;
# type=MODE; page_index=N and page_indexes=A-B, any number of them; unknown
# key=value tokens ignored; an index past the end, a reversed range or an
# overflowing number ERANGE; an empty input writes nothing), where zram
# 6.12 takes exactly one mode (sysfs_streq) or one page_index=N, and
# EINVAL for everything else.
W16="6.16+ parser:"
ALLOW=(
	"writeback|init|*|EINVAL|ENODEV|6.16+ order: no backing device is ENODEV before the input is parsed (6.12 parses first)"
	"writeback|wb_inflight|*|EINVAL|EAGAIN|6.16+ order: a running writeback is EAGAIN before the input is parsed (6.12 parses first)"
	"writeback|init_bdev|\\n|EINVAL|ok|$W16 an empty input (a newline) writes nothing"
	"writeback|init_bdev| |EINVAL|ok|$W16 an empty input (whitespace) writes nothing"
	"writeback|init_bdev| \\t \\n|EINVAL|ok|$W16 an empty input (whitespace) writes nothing"
	"writeback|init_bdev|\\0|EINVAL|ok|$W16 an empty input (the C string ends at the NUL) writes nothing"
	"writeback|init_bdev|\\0\\n|EINVAL|ok|$W16 an empty input (the C string ends at the NUL) writes nothing"
	"writeback|init_bdev|huge huge|EINVAL|ok|$W16 tokens; a mode ends the input"
	"writeback|init_bdev|idle huge|EINVAL|ok|$W16 tokens; a mode ends the input"
	"writeback|init_bdev|type=huge type=idle|EINVAL|ok|$W16 type=MODE; a mode ends the input"
	"writeback|init_bdev|type=huge|EINVAL|ok|$W16 type=MODE"
	"writeback|init_bdev|huge\\t|EINVAL|ok|$W16 whitespace separates tokens"
	"writeback|init_bdev| huge|EINVAL|ok|$W16 whitespace separates tokens"
	"writeback|init_bdev|huge\\n\\n|EINVAL|ok|$W16 whitespace separates tokens"
	"writeback|init_bdev|foo=bar|EINVAL|ok|$W16 unknown key=value tokens are ignored"
	"writeback|init_bdev|page_index=1 page_index=2|EINVAL|ok|$W16 several page_index tokens"
	"writeback|init_bdev|page_indexes=1-2|EINVAL|ok|$W16 page_indexes=A-B"
	"writeback|init_bdev|page_indexes=10-5|EINVAL|ERANGE|$W16 a reversed range is ERANGE"
	"writeback|init_bdev|page_indexes=0-4096|EINVAL|ERANGE|$W16 a range past the end is ERANGE"
	"writeback|init_bdev|page_index=4096|EINVAL|ERANGE|$W16 an index past the end is ERANGE (6.12: EINVAL)"
	"writeback|init_bdev|page_index=18446744073709551616|EINVAL|ERANGE|$W16 kstrtoul's ERANGE is returned (6.12 returns EINVAL for any kstrtol error)"
	"writeback|init_bdev|huge\\x0b|EINVAL|ok|$W16 next_arg: isspace() separates tokens (vertical tab)"
	"writeback|init_bdev|huge\\xa0|EINVAL|ok|$W16 next_arg: isspace() separates tokens (0xa0 is a space in lib/ctype.c)"
	"writeback|init_bdev|\"huge\"|EINVAL|ok|$W16 next_arg strips the quotes of a quoted token"
	"writeback|init_bdev|type=\"huge\"|EINVAL|ok|$W16 next_arg strips the quotes of a quoted value"
)

# ---- helpers --------------------------------------------------------------
# disp VAL: VAL as the table shows it
disp() {
	local v=$1
	if [ ${#v} -gt 48 ]; then
		REPLY="${v:0:8}...{${#v} bytes}"
	else
		REPLY="'$v'"
	fi
}

rd() { REPLY=; IFS= read -r REPLY <"$1" 2>/dev/null; }

# normalise: the defaults of the settings the value groups may change
normalise() {
	local s
	for s in z r; do
		echo 0 >${SYS[$s]}/mem_limit
		echo 0 >${SYS[$s]}/writeback_limit_enable
		echo 0 >${SYS[$s]}/writeback_limit
		rd ${SYS[$s]}/initstate
		[ "$REPLY" = 0 ] && echo lzo-rle >${SYS[$s]}/comp_algorithm
	done
	echo 256 >${SYS[r]}/writeback_batch_size
}

# the expected state of both devices: EXP_INIT (0/1), EXP_BACK (0/1)
EXP_INIT=0
EXP_BACK=0
declare -A BDSHOW	# what backing_dev reads after setup, per device

# state_ok SIDE: the device is in the expected state (and device 1 exists)
state_ok() {
	local S=${SYS[$1]}
	rd $S/initstate; [ "$REPLY" = $EXP_INIT ] || return 1
	rd $S/disksize
	if [ $EXP_INIT = 1 ]; then [ "$REPLY" = $DBYTES ] || return 1; else [ "$REPLY" = 0 ] || return 1; fi
	rd $S/backing_dev
	if [ $EXP_BACK = 1 ]; then [ "$REPLY" = "${BDSHOW[$1]}" ] || return 1; else [ "$REPLY" = none ] || return 1; fi
	[ -e ${SCRATCH[$1]} ]
}

# build SIDE: reset the device and set it up in the expected state
build() {
	local S=${SYS[$1]}
	echo 1 >$S/reset || return 1
	echo lzo-rle >$S/comp_algorithm || return 1
	if [ $EXP_BACK = 1 ]; then
		echo /dev/mapper/${DMN[$1]} >$S/backing_dev || return 1
		rd $S/backing_dev
		BDSHOW[$1]=$REPLY
	fi
	if [ $EXP_INIT = 1 ]; then
		echo $DSIZE >$S/disksize &&
		dd if="$TMP/img" of=${DEVN[$1]} bs=1M oflag=direct status=none || return 1
		if [ $EXP_BACK = 1 ]; then
			echo huge >$S/writeback || return 1
		fi
	fi
	return 0
}

REBUILDS=0

# the cases: CA attr, CS state, CV value, CZ / CR results, CZB / CRB 1 if
# the write was blocked; GIDS["STATE|ATTR"] the case ids of a group
declare -A CA CS CV CZ CR CZB CRB GIDS
NCASE=0
PENDING=()
ADIR=$TMP/async
mkdir -p "$ADIR"

# script SIDE ATTR STATE: the restore script (see hostile.c) for an
# accepted value of ATTR on SIDE in STATE, in $TMP/restore.SIDE; REPLY is
# its name, or "-" for none
script() {
	local f=$TMP/restore.$1 S=${SYS[$1]}
	REPLY=-
	case $2 in
	hot_remove) echo "r ${CTL[$1]}/hot_add" >"$f" ;;
	disksize | reset | backing_dev)
		# in wb_inflight nothing is rebuilt (the state check after the
		# resume shows a change)
		[ "$3" = wb_inflight ] && return
		{
			echo "w $S/reset 1"
			echo "w $S/comp_algorithm lzo-rle"
			[ $EXP_BACK = 1 ] && echo "w $S/backing_dev /dev/mapper/${DMN[$1]}"
			if [ $EXP_INIT = 1 ]; then
				echo "w $S/disksize $DSIZE"
				echo "c $TMP/img ${DEVN[$1]}"
				[ $EXP_BACK = 1 ] && echo "w $S/writeback huge"
			fi
		} >"$f"
		;;
	*) return ;;
	esac
	REPLY=$f
}

# run_group STATE ATTR ZPATH RPATH ASYNC VALUE...: write each VALUE to
# ZPATH and RPATH ("-": not written), record the results; a value a side
# accepts is undone by that side's restore script before the next write.
# ASYNC=1: the helper's -a; 2: -a -P, every value at once (no restore
# scripts: for groups whose accepted values change nothing).
run_group() {
	local st=$1 at=$2 zp=$3 rp=$4 async=$5 i id z r zx rx n zs rs
	shift 5
	local -a vals=("$@") opts=()
	script z "$at" "$st"; zs=$REPLY
	script r "$at" "$st"; rs=$REPLY
	opts=(-R "$zs,$rs")
	[ $async = 0 ] || opts+=(-a "$ADIR")
	[ $async = 2 ] && opts=(-a "$ADIR" -P)
	local base=$NCASE
	n=${#vals[@]}
	for ((i = 0; i < n; i++)); do
		id=$((base + i))
		CA[$id]=$at CS[$id]=$st CV[$id]=${vals[i]} CZ[$id]=lost CR[$id]=lost
		GIDS["$st|$at"]+=" $id"
	done
	NCASE=$((base + n))
	[ "$zp" = - ] && for ((i = 0; i < n; i++)); do CZ[$((base + i))]=-; done
	while read -r id z r zx rx; do
		CZ[$id]=$z CR[$id]=$r
		[ "$z" = blocked ] && PENDING+=("$id.z")
		[ "$r" = blocked ] && PENDING+=("$id.r")
		for x in "z $zx" "r $rx"; do
			case ${x#? } in
			R) REBUILDS=$((REBUILDS + 1)) ;;
			Rfail*) BROKEN=1 ;;
			*) continue ;;
			esac
			disp "${vals[id - base]}"
			if [ "$at" = hot_remove ]; then
				diag "restore: $st: hot_remove $REPLY accepted by ${CTL[${x%% *}]##*/} (removed ${SCRATCH[${x%% *}]##*/}): hot_add: ${x#? }"
			else
				diag "restore: $st: $at $REPLY accepted by ${SYS[${x%% *}]##*/}: reset and rebuilt: ${x#? }"
			fi
		done
	done < <(for ((i = 0; i < n; i++)); do
			printf '%s %s %s %s\n' $((base + i)) "$zp" "$rp" "${vals[i]}"
		done | "$HOSTILE" batch "${opts[@]}")
	# the state is what it was (in wb_inflight only before anything may
	# be queued on zram's init_lock)
	[ "$st" = wb_inflight ] && [ -n "$QUEUED" ] && return 0
	for x in z r; do
		state_ok $x && continue
		diag "restore: $st: ${SYS[$x]##*/} not in state $st after the $at group"
		BROKEN=1
		[ "$st" = wb_inflight ] || build $x
	done
	return 0
}

# values ATTR STATE: VALS = the values for ATTR in STATE
values() {
	local at=$1 st=$2 v
	local -a t=()
	VALS=()
	if [ -n "${TAIL[$at]}" ]; then
		IFS='|' read -ra t <<<"${TAIL[$at]}"
	fi
	local -a all=("${GEN[@]}" "${t[@]}")
	for v in "${all[@]}"; do
		if [ "$at" = disksize ] && [ "$st" = uninit -o "$st" = bdev ] &&
			[[ "$EXCL_DISKSIZE" == *"|$v|"* ]]; then
			continue
		fi
		if [ "$at" = reset ] && [ "$st" = wb_inflight ] && [[ "$RESET_OK" == *"|$v|"* ]]; then
			continue
		fi
		VALS+=("$v")
	done
}

# allowed ID: REPLY = the reason if case ID's difference is in ALLOW
allowed() {
	local e a s v z r why
	for e in "${ALLOW[@]}"; do
		IFS='|' read -r a s v z r why <<<"$e"
		# shellcheck disable=SC2053
		if [ "$a" = "${CA[$1]}" ] && [[ "${CS[$1]}" == $s ]] && { [ "$v" = "*" ] || [ "${CV[$1]}" = "$v" ]; } &&
			[ "$z" = "${CZ[$1]}" ] && [ "$r" = "${CR[$1]}" ]; then
			REPLY=$why
			return 0
		fi
	done
	return 1
}

NDIFF=0
NALLOWED=0
NBAD=0
BADLIST=()
# report STATE ATTR: the table of a group as diag lines, one KTAP case
report() {
	local st=$1 at=$2 id bad=0 tag zs rs n=0
	for id in ${GIDS["$st|$at"]}; do
		n=$((n + 1))
		zs=${CZ[$id]}${CZB[$id]:+(blocked)}
		rs=${CR[$id]}${CRB[$id]:+(blocked)}
		disp "${CV[$id]}"
		local shown=$REPLY
		if [ "$at" = writeback_batch_size ]; then
			local want=EINVAL
			[ -n "${WBS_OK[k${CV[$id]}]}" ] && want=ok
			if [ "${CR[$id]}" = $want ]; then
				tag="as expected"
			else
				tag="EXPECTED $want"
				bad=$((bad + 1))
				NBAD=$((NBAD + 1))
				BADLIST+=("$at $st $shown rzram=$rs expected=$want")
			fi
			diag "case $at $st $shown rzram=$rs $tag"
			continue
		fi
		if [ "${CZ[$id]}" = "${CR[$id]}" ]; then
			tag=same
		elif allowed $id; then
			tag="allowed: $REPLY"
			NDIFF=$((NDIFF + 1))
			NALLOWED=$((NALLOWED + 1))
		else
			tag=DIFFERENT
			NDIFF=$((NDIFF + 1))
			NBAD=$((NBAD + 1))
			bad=$((bad + 1))
			BADLIST+=("$at $st $shown zram=$zs rzram=$rs")
		fi
		diag "case $at $st $shown zram=$zs rzram=$rs $tag"
	done
	if [ $bad -eq 0 ]; then
		ktap_ok "$at, $st: $n values, errnos as zram's (or allowed)"
	else
		ktap_fail "$at, $st: $n values, $bad unexplained differences"
	fi
}

# groups STATE ATTR...: run the value groups of the attributes in STATE
groups() {
	local st=$1 at async=0 gt0
	shift
	# during a writeback nearly every write blocks (a store queued on
	# zram's init_lock holds up every later one): each group's values are
	# written all at once, so a group costs one wait, not one a value
	[ "$st" = wb_inflight ] && async=2
	for at in "$@"; do
		if [ "$st" = wb_inflight ]; then
			case $at in mem_limit|comp_algorithm|disksize|backing_dev|reset) QUEUED=1 ;; esac
		fi
		values "$at" "$st"
		gt0=$SECONDS
		case $at in
		hot_remove)
			# one at a time: a value that removes the scratch device
			# is undone (hot_add) before the next
			exec 7<${DEVN[z]} 8<${DEVN[r]}
			run_group "$st" "$at" ${CTL[z]}/hot_remove ${CTL[r]}/hot_remove $((async ? 1 : 0)) "${VALS[@]}"
			exec 7<&- 8<&-
			;;
		writeback_batch_size)
			run_group "$st" "$at" - ${SYS[r]}/$at $async "${VALS[@]}" ;;
		*)
			run_group "$st" "$at" ${SYS[z]}/$at ${SYS[r]}/$at $async "${VALS[@]}" ;;
		esac
		# in wb_inflight, nothing more that reads or writes zram's
		# attributes after a store that takes zram's init_lock exclusively,
		# and no normalise at all (its mem_limit store would wait for the
		# writeback): it runs after the resume
		if [ "$st" = wb_inflight ]; then
			case $at in mem_limit|comp_algorithm|disksize|backing_dev|reset) QUEUED=1 ;; esac
			diag "state $st: the $at group took $((SECONDS - gt0)) s"
			continue
		fi
		normalise
	done
}

# data_ok DESC: both devices read back as the image
data_ok() {
	local want z r
	want=$(sha256 "$TMP/img")
	z=$(sha256 ${DEVN[z]} $IMG_MIB)
	r=$(sha256 ${DEVN[r]} $IMG_MIB)
	check_eq "$1" "$want $want" "$z $r"
}

# ---- load, discover ---------------------------------------------------------
for m in rzram zram; do
	if [ -e /sys/module/$m ]; then
		for d in /sys/block/$m[0-9]*; do [ -e "$d/reset" ] && echo 1 >"$d/reset"; done
		rmmod $m
	fi
done
# printk to the serial console is synchronous and slow in this guest, and
# many rejected values make zram or rzram log a line: while this runs the
# console shows errors and worse only (console_loglevel 4; the runner
# scans the dmesg dump, which has every line, warnings included)
read -r PRINTK_LEVEL _ </proc/sys/kernel/printk
echo 4 >/proc/sys/kernel/printk
at_exit "echo $PRINTK_LEVEL >/proc/sys/kernel/printk"
modprobe zsmalloc 2>/dev/null
load_err=
insmod "$KO" || load_err="insmod rzram.ko failed"
[ -z "$load_err" ] && { modprobe zram num_devices=1 || load_err="modprobe zram failed"; }
at_exit '[ ! -e /sys/module/zram ] || rmmod zram'
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit "for d in ${DMN[z]} ${DMN[r]} $DMX; do dmsetup remove \$d 2>/dev/null; done; true"
at_exit 'for d in /sys/block/zram[0-9]* /sys/block/rzram[0-9]*; do [ -e $d/reset ] && echo 1 >$d/reset; done; true'
at_exit "exec 7<&- 8<&-; for d in ${DMN[z]} ${DMN[r]}; do dmsetup resume \$d 2>/dev/null; done; wait; true"

# writable ATTR names of directory $1
writable() {
	local m t n
	while IFS='|' read -r m t n; do
		[ "${t#regular}" != "$t" ] || continue
		(( 8#$m & 8#222 )) && echo "${n##*/}"
	done < <(stat -c '%a|%F|%n' "$1"/* 2>/dev/null)
}
CORE="algorithm_params backing_dev comp_algorithm compact disksize idle max_comp_streams mem_limit mem_used_max recomp_algorithm recompress reset writeback writeback_limit writeback_limit_enable"
CORE_SKIP="uevent events_poll_msecs make-it-fail"
ORDER="recompress compact idle mem_used_max writeback_limit writeback_limit_enable writeback hot_remove writeback_batch_size mem_limit recomp_algorithm comp_algorithm disksize backing_dev reset"
ATTRS=()
if [ -z "$load_err" ]; then
	wz=" $(writable ${SYS[z]} | tr '\n' ' ') "
	wr_=" $(writable ${SYS[r]} | tr '\n' ' ') "
	both=()
	for a in $wz; do [[ "$wr_" == *" $a "* ]] && both+=("$a"); done
	# unknown ones first (before anything may queue on zram's init_lock);
	# not the block and driver core's own (the same code for both disks)
	for a in "${both[@]}"; do
		[[ " $ORDER $CORE_SKIP " == *" $a "* ]] || ATTRS+=("$a")
	done
	for a in $ORDER; do
		[ $a = hot_remove ] && { ATTRS+=(hot_remove); continue; }
		[ $a = writeback_batch_size ] && { [[ "$wr_" == *" $a "* ]] && ATTRS+=("$a"); continue; }
		[[ " ${both[*]} " == *" $a "* ]] && ATTRS+=("$a")
	done
fi
NG=${#ATTRS[@]}
# rzram_hostile_states=A,B,...: only those states (wb_inflight needs
# init_bdev before it)
STATES=${rzram_hostile_states:-"uninit init bdev init_bdev wb_inflight"}
STATES=${STATES//,/ }
# per state: its setup and a case per attribute; init, init_bdev and
# wb_inflight also check the data; wb_inflight three more cases; at the
# end two "still works" and the restore check
NST=0 NDATA=0 NWB=0
for st in $STATES; do
	NST=$((NST + 1))
	case $st in init | init_bdev) NDATA=$((NDATA + 1)) ;; wb_inflight) NDATA=$((NDATA + 1)) NWB=3 ;; esac
done
ktap_plan $((6 + NST * (1 + NG) + NWB + NDATA + 2 + 1))
[ -z "$load_err" ] || ktap_abort "$load_err"
ktap_ok "insmod rzram.ko, modprobe zram num_devices=1"
diag "writable in zram0: $wz"
diag "writable in rzram0: $wr_"
diag "tried: ${ATTRS[*]} (not: $CORE_SKIP, the block and driver core's)"
miss=
for a in $CORE; do [[ " ${ATTRS[*]} " == *" $a "* ]] || miss+=" $a"; done
check_eq "the writable attributes of both include the expected ones" "" "$miss"
check_blockdev "/dev/zram0 is a block device" /dev/zram0 || ktap_abort "no zram0"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no rzram0"
# slices of $BDEV (64 MiB): zram 0..28 MiB, rzram 28..56 MiB, spare 56..64
check "dm-linear slices ${DMN[z]}, ${DMN[r]}, $DMX of $BDEV" eval \
	"dm_set ${DMN[z]} '0 57344 linear $BDEV 0' && dm_set ${DMN[r]} '0 57344 linear $BDEV 57344' &&
	dm_set $DMX '0 16384 linear $BDEV 114688'"
check_eq "hot_add: scratch device 1 on both" "1 1" "$(cat ${CTL[z]}/hot_add) $(cat ${CTL[r]}/hot_add)"

# the data: 4 MiB, each MiB random / text / zero / random in turn by page
"$(dirname "$0")/helpers/rbhelper" gen $((IMG_MIB * 256)) 7 >"$TMP/img" 2>/dev/null ||
	{ make_data "$TMP/img" $IMG_MIB; }

BROKEN=
RESET_OK="|"
QUEUED=
# ---- the states ---------------------------------------------------------------
for st in $STATES; do
	kmsg "state $st"
	case $st in
	uninit) EXP_INIT=0 EXP_BACK=0 ;;
	init) EXP_INIT=1 EXP_BACK=0 ;;
	bdev) EXP_INIT=0 EXP_BACK=1 ;;
	init_bdev | wb_inflight) EXP_INIT=1 EXP_BACK=1 ;;
	esac
	if [ $st != wb_inflight ]; then
		QUEUED=
		# (not inside check: build records what backing_dev reads)
		build z && build r && normalise
		check "state $st: set up on both" eval "state_ok z && state_ok r" ||
			ktap_abort "cannot set up $st"
		groups $st "${ATTRS[@]}"
		for a in "${ATTRS[@]}"; do report $st $a; done
		[ $EXP_INIT = 1 ] && data_ok "state $st: the data written before the hostile writes reads back intact"
		if [ $st = init_bdev ]; then
			for id in ${GIDS["init_bdev|reset"]}; do
				# (an empty write never reaches the driver)
				[ -n "${CV[$id]}" ] || continue
				[ "${CZ[$id]}" = ok ] || [ "${CR[$id]}" = ok ] && RESET_OK+="${CV[$id]}|"
			done
		fi
		continue
	fi
	# wb_inflight: from init_bdev, pages 0..255 rewritten with random data
	"$(dirname "$0")/helpers/rbhelper" gen 256 99 >"$TMP/new" 2>/dev/null || make_data "$TMP/new" 1
	dd if="$TMP/new" of="$TMP/img" bs=1M conv=notrunc status=none
	check "state $st: init_bdev, 256 pages rewritten, slices suspended, huge writebacks started" eval \
		"state_ok z && state_ok r && normalise &&
		dd if=$TMP/new of=${DEVN[z]} bs=1M oflag=direct status=none &&
		dd if=$TMP/new of=${DEVN[r]} bs=1M oflag=direct status=none &&
		dmsetup suspend ${DMN[z]} && dmsetup suspend ${DMN[r]}" || ktap_abort "cannot set up $st"
	QUEUED=
	(sleep 1500; echo watchdog >"$TMP/watchdog"; dmsetup resume ${DMN[z]}; dmsetup resume ${DMN[r]}) \
		</dev/null >/dev/null 2>&1 &
	WD=$!
	BD0z=$(field 1 ${SYS[z]}/bd_stat)
	BD0r=$(field 1 ${SYS[r]}/bd_stat)
	for s in z r; do
		(wr huge ${SYS[$s]}/writeback; echo "$WR" >"$TMP/wb.$s") </dev/null >/dev/null 2>&1 &
		WBP[$s]=$!
	done
	inflight() {
		[ ! -e "$TMP/wb.z" ] && [ ! -e "$TMP/wb.r" ] &&
		in_state_d ${WBP[z]} && in_state_d ${WBP[r]} &&
		[ "$(field 1 ${SYS[z]}/bd_stat)" -gt "$BD0z" ] && [ "$(field 1 ${SYS[r]}/bd_stat)" -gt "$BD0r" ]
	}
	check "state $st: both writebacks in flight (writer in D, not returned, bd_count grown)" \
		wait_until 60 inflight
	t0=$SECONDS
	groups $st "${ATTRS[@]}"
	diag "state $st: hostile writes took $((SECONDS - t0)) s; ${#PENDING[@]} blocked"
	check "state $st: the writebacks are still in flight after the hostile writes (D, not returned)" \
		eval "[ ! -e $TMP/wb.z ] && [ ! -e $TMP/wb.r ] && in_state_d ${WBP[z]} && in_state_d ${WBP[r]}"
	kmsg "resume"
	dmsetup resume ${DMN[z]}
	dmsetup resume ${DMN[r]}
	wait ${WBP[z]} ${WBP[r]}
	# the blocked writes: their results come in now
	allin() {
		local p
		for p in "${PENDING[@]}"; do [ -e "$ADIR/$p" ] || return 1; done
	}
	wait_until 60 allin
	for p in "${PENDING[@]}"; do
		id=${p%.*}
		rd "$ADIR/$p"
		if [ "${p##*.}" = z ]; then CZ[$id]=${REPLY:-lost} CZB[$id]=1; else CR[$id]=${REPLY:-lost} CRB[$id]=1; fi
	done
	check_eq "state $st: resumed (not by the watchdog); both writebacks succeeded; all blocked writes returned" \
		"nowd ok ok 0" "$([ -e $TMP/watchdog ] && echo wd || echo nowd) $(cat $TMP/wb.z 2>/dev/null) $(cat $TMP/wb.r 2>/dev/null) $(for p in "${PENDING[@]}"; do [ -e "$ADIR/$p" ] || echo x; done | wc -l)"
	kill $WD 2>/dev/null
	wait $WD 2>/dev/null
	normalise
	state_ok z && state_ok r || { diag "restore: $st: a device is not in state $st after the resume"; BROKEN=1; }
	for a in "${ATTRS[@]}"; do report $st $a; done
	data_ok "state $st: the data written before the hostile writes reads back intact"
done

# ---- afterwards: both devices still work ---------------------------------------
"$(dirname "$0")/helpers/rbhelper" gen 1024 123 >"$TMP/new2" 2>/dev/null || make_data "$TMP/new2" 4
# works SIDE: new data at 4 MiB, written back, reads back; the old data too
works() {
	dd if="$TMP/new2" of=${DEVN[$1]} bs=1M seek=4 oflag=direct status=none &&
	echo huge >${SYS[$1]}/writeback &&
	[ "$(dd if=${DEVN[$1]} bs=1M skip=4 count=4 iflag=direct status=none | sha256sum | cut -d' ' -f1)" = \
		"$(sha256 "$TMP/new2")" ] &&
	[ "$(sha256 ${DEVN[$1]} $IMG_MIB)" = "$(sha256 "$TMP/img")" ]
}
for s in z r; do
	check "${DEVN[$s]##*/} still works: 4 MiB new data at 4 MiB, huge writeback, all read back intact" works $s
done
check_eq "every state was kept or restored (no 'restore:' failure)" "" "$BROKEN"

# ---- summary ---------------------------------------------------------------------
diag "summary: $NCASE (attr,state,value) cases, $NDIFF differ from zram ($NALLOWED allowed, $((NDIFF - NALLOWED)) not), $NBAD unexplained or unexpected in all, $REBUILDS restores"
for e in "${BADLIST[@]}"; do diag "unexplained: $e"; done
[ -n "$BROKEN" ] && diag "a state could not be kept or restored (see restore: lines)"
diag "run time: $((SECONDS - START)) s"
ktap_finish
