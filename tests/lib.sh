# KTAP helpers for the rzram selftests.  Sourced by each test program:
#
#	. "$(dirname "$0")/lib.sh"
#	ktap_plan 3
#	at_exit "rmmod zram"            # cleanups run in reverse order on exit
#	check "modprobe zram" modprobe zram
#	check_eq "initstate is 0" 0 "$(cat /sys/block/zram0/initstate)"
#	...
#	ktap_finish
#
# Each program prints "TAP version 13", a plan "1..N", one "ok N desc" or
# "not ok N desc" per case and "# " diagnostics.  Exit status follows
# kselftest: 0 pass, 1 fail, 4 skip.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KTAP_PLAN=0   # cases announced
KTAP_NUM=0    # cases reported so far
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0
KTAP_NAME=$(basename "$0")

# Scratch space for the test; removed on exit.
TMP=$(mktemp -d "/tmp/${KTAP_NAME%.sh}.XXXXXX")

# ---- output ------------------------------------------------------------

# diag MSG...: a KTAP diagnostic line
diag() { echo "# $*"; }

# diag_cmd CMD...: run CMD, show its output as diagnostics
diag_cmd() { "$@" 2>&1 | sed 's/^/#   /'; }

ktap_plan() {
	KTAP_PLAN=$1
	echo "TAP version 13"
	echo "1..$KTAP_PLAN"
}

ktap_ok() {
	KTAP_NUM=$((KTAP_NUM + 1)); KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_NUM $*"
}

ktap_fail() {
	KTAP_NUM=$((KTAP_NUM + 1)); KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_NUM $*"
}

# ktap_skip DESC REASON
ktap_skip() {
	KTAP_NUM=$((KTAP_NUM + 1)); KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_NUM $1 # SKIP $2"
}

# ktap_abort REASON: a case the rest depends on failed; report every case
# still in the plan as failed (so the count stays right) and exit.
ktap_abort() {
	diag "aborting: $*"
	while [ "$KTAP_NUM" -lt "$KTAP_PLAN" ]; do
		ktap_fail "not run ($*)"
	done
	ktap_finish
}

# ktap_finish: totals and exit status.  Runs the cleanups (EXIT trap).
ktap_finish() {
	if [ "$KTAP_NUM" -ne "$KTAP_PLAN" ]; then
		diag "planned $KTAP_PLAN cases but ran $KTAP_NUM"
		KTAP_FAIL=$((KTAP_FAIL + 1))
	fi
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$KTAP_SKIP error:0"
	if [ "$KTAP_FAIL" -gt 0 ]; then
		exit $KSFT_FAIL
	elif [ "$KTAP_PASS" -eq 0 ] && [ "$KTAP_SKIP" -gt 0 ]; then
		exit $KSFT_SKIP
	fi
	exit $KSFT_PASS
}

# ---- checks ------------------------------------------------------------
# Each check reports one case and returns 0 on pass, 1 on fail, so a
# test can write "check ... || ktap_abort why".

# check DESC CMD...: passes when CMD exits 0; its output is shown on failure
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then
		ktap_ok "$desc"
		return 0
	fi
	diag "'$*' exited $rc"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	ktap_fail "$desc"
	return 1
}

# check_fails DESC CMD...: passes when CMD exits nonzero (expected errors)
check_fails() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -ne 0 ]; then
		ktap_ok "$desc"
		return 0
	fi
	diag "'$*' succeeded but should have failed"
	ktap_fail "$desc"
	return 1
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ktap_ok "$1"
		return 0
	fi
	diag "expected '$2', got '$3'"
	ktap_fail "$1"
	return 1
}

# check_blockdev DESC DEV: DEV must be a block device.  Check this before
# writing to a device node: if the disk did not register, a write to
# /dev/NAME would quietly create a regular file in devtmpfs.
check_blockdev() {
	if [ -b "$2" ]; then
		ktap_ok "$1"
		return 0
	fi
	if [ -e "$2" ]; then
		diag "$2 exists but is not a block device: $(ls -l "$2")"
	else
		diag "$2 does not exist"
	fi
	ktap_fail "$1"
	return 1
}

# ---- helpers -----------------------------------------------------------

# sha256 FILE|DEV [MIB]: sha256 of a file or of the first MIB MiB of a
# device, read with O_DIRECT for devices so the page cache is bypassed
sha256() {
	local src=$1 mib=${2:-}
	if [ -b "$src" ]; then
		dd if="$src" bs=1M ${mib:+count=$mib} iflag=direct status=none | sha256sum | cut -d' ' -f1
	elif [ -n "$mib" ]; then
		head -c "$((mib * 1024 * 1024))" "$src" | sha256sum | cut -d' ' -f1
	else
		sha256sum <"$src" | cut -d' ' -f1
	fi
}

# make_data FILE MIB: MIB MiB of random (incompressible) data
make_data() { head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"; }

# wr VAL FILE: write VAL to FILE (no fork: this guest is slow); sets WR
# to "ok" or to the error text of the failed write ("Invalid argument")
wr() {
	if { echo "$1" >"$2"; } 2>"$TMP/wr.$BASHPID"; then
		WR=ok
	else
		read -r WR <"$TMP/wr.$BASHPID"
		WR=${WR##*: }
	fi
}
# check_wr DESC EXPECTED VAL FILE
check_wr() { wr "$3" "$4"; check_eq "$1" "$2" "$WR"; }
# bd: bd_stat of the device under test ($S, its sysfs directory) as
# "COUNT READS WRITES"
bd() {
	local c r w
	read -r c r w <$S/bd_stat
	echo "$c $r $w"
}
# check_bd DESC "COUNT READS WRITES": bd_stat of $S, exactly
check_bd() {
	local c r w
	read -r c r w <$S/bd_stat
	check_eq "$1" "$2" "$c $r $w"
}

# bool_vals FILE WANT VAL...: writes each VAL to the boolean attribute
# FILE; succeeds if every write is accepted and FILE then reads WANT
# (prints what it saw)
bool_vals() {
	local file=$1 want=$2 v out=
	shift 2
	for v in "$@"; do
		wr "$v" "$file"
		out+="$v:$WR:$(cat "$file") "
	done
	echo "$out"
	[ "$out" = "$(for v in "$@"; do printf '%s ' "$v:ok:$want"; done)" ]
}

# attr FILE: a sysfs attribute's value (empty and status 1 if unreadable)
attr() { cat "$1" 2>/dev/null; }

# attr_write VAL FILE: write to a sysfs attribute; the status is the
# write's (a rejected value makes this fail)
attr_write() { echo "$1" >"$2"; }

# field N FILE: the Nth whitespace separated field of FILE (e.g. mm_stat)
field() { awk -v n="$1" '{ print $n }' "$2" 2>/dev/null; }

# kmsg MSG: a marker in the kernel log, to line test steps up with dmesg
kmsg() { echo "rzram-selftest: $KTAP_NAME: $*" >/dev/kmsg 2>/dev/null || true; }

# ---- cleanup -----------------------------------------------------------
# at_exit CMD: run CMD (a string, eval'd) on exit, last registered first.
# Cleanups run whether the test passes, fails, aborts or is killed by the
# runner's timeout (SIGTERM); their output is shown as diagnostics.
KTAP_CLEANUPS=()
at_exit() { KTAP_CLEANUPS+=("$1"); }

_ktap_run_cleanups() {
	local rc=$? i
	trap - EXIT
	for ((i = ${#KTAP_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${KTAP_CLEANUPS[i]}" 2>&1 | sed 's/^/# cleanup: /'
	done
	rm -rf "$TMP"
	exit $rc
}
trap _ktap_run_cleanups EXIT
trap 'diag "killed by SIGTERM (timeout?)"; exit $KSFT_FAIL' TERM INT

# load_pair: rzram.ko ($KO) and zram (num_devices=1) loaded afresh, both
# reset and unloaded at exit ($Z, $R: their sysfs directories); 4 checks
load_pair() {
	local m
	for m in rzram zram; do
		if [ -e /sys/module/$m ]; then
			diag "$m already loaded, unloading it first"
			rmmod $m || true
		fi
	done
	at_exit '[ ! -e /sys/module/zram ] || rmmod zram'
	at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
	at_exit '[ ! -e '$Z'/reset ] || echo 1 >'$Z'/reset'
	at_exit '[ ! -e '$R'/reset ] || echo 1 >'$R'/reset'

	kmsg "start"
	modprobe zsmalloc 2>/dev/null
	check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
	check "modprobe zram num_devices=1" modprobe zram num_devices=1 || ktap_abort "zram did not load"
	check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no /dev/rzram0"
	check_blockdev "/dev/zram0 is a block device" /dev/zram0 || ktap_abort "no /dev/zram0"
}
