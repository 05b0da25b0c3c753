#!/bin/bash
# kselftest-style runner inside the test guest, started by /init (see
# scripts/mkinitramfs.sh).  Runs each selected test program with a timeout
# and wraps its KTAP output the way kselftest's runner does:
#
#	TAP version 13
#	1..2
#	# selftests: rzram: zram_basic.sh
#	# TAP version 13
#	# 1..14
#	# ok 1 modprobe zram num_devices=1
#	...
#	ok 1 selftests: rzram: zram_basic.sh
#
# then dumps a kmemleak scan and the whole kernel log between markers.
# Everything goes to $RZRAM_RESULTS (the second serial port, which only
# this script writes to); the KTAP part is echoed to the console as well.
#
# Inputs, from the kernel command line (the kernel passes unknown
# "name=value" parameters to init as environment variables):
#	rzram_tests    comma separated program names; default TEST_PROGS
#	rzram_timeout  per-program timeout in seconds; default from ./settings
set -u
cd "$(dirname "$0")"
RESULTS=${RZRAM_RESULTS:-/dev/console}

# ---- configuration -----------------------------------------------------
if [ -n "${rzram_tests:-}" ]; then
	progs=$(echo "$rzram_tests" | tr ',' ' ')
else
	# TEST_PROGS := a.sh b.sh \ (continuation lines allowed)
	progs=$(awk '/^TEST_PROGS[ \t]*:?=/ { on = 1; sub(/^[^=]*=/, "") }
		on { cont = sub(/\\[ \t]*$/, ""); printf "%s ", $0; if (!cont) on = 0 }' Makefile)
fi
timeout=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
timeout=${rzram_timeout:-${timeout:-300}}

# The disks run-tests.sh attaches: /dev/vda (large backing device) and
# /dev/vdb (small, for "backing device too small" cases).  Tests read
# these variables instead of hard-coding the names.
export RZRAM_BACKING_DEV=/dev/vda RZRAM_SMALL_DEV=/dev/vdb

kmsg() { echo "rzram-selftest: $*" >/dev/kmsg 2>/dev/null || true; }
kmsg "runner start"

# kmemleak_scan WHERE: scan for leaks and print the report between
# markers (run-tests.sh fails the run on any).  kmemleak only reports an
# object when it is older than 5 s and its contents did not change since
# the previous scan: the first scan records checksums, the second one, at
# least 6 s later, reports.  It runs at the end, and before any program
# that holds the line "# rzram-kmemleak: scan-before" (one that may leave
# kmemleak disabled: it turns itself off when memory runs out).
leaks=/sys/kernel/debug/kmemleak
# No automatic scans (a scan of guest memory under TCG takes minutes of
# CPU and slows whatever test is running): only the explicit ones.
[ -w "$leaks" ] && echo scan=off >"$leaks" 2>/dev/null
kmemleak_scan() {
	local start secs n
	if [ ! -w "$leaks" ]; then
		echo "RZRAM-KMEMLEAK-UNAVAILABLE"
		return
	fi
	start=$(date +%s)
	echo "# kmemleak: scanning ($1)"
	kmsg "kmemleak scan ($1)"
	echo scan >"$leaks"
	secs=$(($(date +%s) - start))
	[ $secs -ge 6 ] || sleep $((6 - secs))
	echo scan >"$leaks"
	n=$(grep -c '^unreferenced object' "$leaks")
	echo "# kmemleak: $n suspected leaks ($(($(date +%s) - start))s)"
	echo "RZRAM-KMEMLEAK-BEGIN"
	cat "$leaks"
	echo "RZRAM-KMEMLEAK-END"
	echo clear >"$leaks"
}

# ---- the tests ---------------------------------------------------------
run_tests() {
	local n=0 total name prog modargs rc start secs line
	total=$(echo $progs | wc -w)
	echo "RZRAM-RUN-BEGIN kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
	echo "TAP version 13"
	echo "1..$total"
	for dev in $RZRAM_BACKING_DEV $RZRAM_SMALL_DEV; do
		if [ -b "$dev" ]; then
			echo "# $dev: $(($(cat /sys/block/${dev#/dev/}/size) / 2048)) MiB"
		else
			echo "# $dev: missing"
		fi
	done
	for name in $progs; do
		n=$((n + 1))
		# NAME+packed: program NAME with rzram loaded wb_packed=1 (its
		# devices start with compressed and packed writeback)
		prog=${name%+packed} modargs=
		[ "$prog" = "$name" ] || modargs=wb_packed=1
		echo "# selftests: rzram: $name"
		if [ ! -f "$prog" ]; then
			echo "not ok $n selftests: rzram: $name # no such test program"
			continue
		fi
		if grep -q '^# rzram-kmemleak: scan-before' "$prog"; then
			kmemleak_scan "before $prog"
		fi
		kmsg "begin $name"
		start=$(date +%s)
		# GNU timeout signals the whole process group: TERM first, so the
		# program's cleanups run, then KILL 10 s later.  Read line by line
		# so output reaches the host even if the guest hangs mid-program.
		RZRAM_MODARGS=$modargs timeout --kill-after=10 "$timeout" bash "./$prog" </dev/null 2>&1 |
			while IFS= read -r line; do printf '# %s\n' "$line"; done
		rc=${PIPESTATUS[0]}
		secs=$(($(date +%s) - start))
		kmsg "end $name rc=$rc"
		case $rc in
		0)       echo "ok $n selftests: rzram: $name # ${secs}s" ;;
		4)       echo "ok $n selftests: rzram: $name # SKIP" ;;
		124|137) echo "not ok $n selftests: rzram: $name # TIMEOUT $timeout seconds" ;;
		*)       echo "not ok $n selftests: rzram: $name # exit=$rc" ;;
		esac
	done
	echo "RZRAM-TESTS-END"
}
if [ "$RESULTS" = /dev/console ]; then
	run_tests 2>&1
else
	run_tests 2>&1 | tee "$RESULTS"
fi

# ---- kernel checks -----------------------------------------------------
kmemleak_scan "at the end" >>"$RESULTS" 2>&1
{
	echo "RZRAM-DMESG-BEGIN"
	dmesg
	echo "RZRAM-DMESG-END"
	echo "RZRAM-RUN-END"
} >>"$RESULTS" 2>&1
