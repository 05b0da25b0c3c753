#!/usr/bin/env bash
# Run the rzram selftests (tests/) in a QEMU guest and report the results.
#
# usage: run-tests.sh [--kernel plain|debug] [--module PATH] [--timeout SECS]
#                     [--oops panic|continue] [--keep] [--verbose] [TESTS...]
#
#   --kernel    which build-kernel.sh variant to boot (default: debug)
#   --module    the rzram.ko to test (default: ./rzram.ko if it exists;
#               without one the rzram tests fail)
#   --timeout   hard limit for the whole guest run, in seconds (default:
#               boot allowance + per-program timeout from tests/settings
#               for each program + allowance for the final kernel checks)
#   --oops      panic (default): an oops ends the run at once, the console
#               log has the report; continue: the run goes on
#   --keep      keep the disk images and initramfs in the log directory
#   --verbose   stream the guest console while it runs
#   TESTS       program names from tests/ (".sh" optional); default:
#               TEST_PROGS of tests/Makefile
#
# Environment: RZRAM_APPEND (extra kernel command line), RZRAM_QEMU_ARGS
# (extra QEMU arguments, split on spaces), for experiments.  For the
# benchmark (scripts/bench.sh): RZRAM_DISK_CACHE (QEMU cache mode of both
# disks, default unsafe; none = O_DIRECT on the host, like a real disk),
# RZRAM_VDA_SIZE (size of /dev/vda, default 1G), RZRAM_EXTRA_FILES (more
# files for /lib/rzram/ in the guest, split on spaces).
#
# The guest gets /dev/vda (1 GiB) and /dev/vdb (64 MiB), sparse raw images.
# Logs go to $RZRAM_CACHE/logs/<timestamp>-<kernel>/: console.log (serial 0:
# kernel console and test output) and results.log (serial 1: KTAP, the
# kmemleak report and the whole dmesg).
#
# The run fails (exit 1) when a test case fails, a program or case did not
# report (timeout, crash, incomplete plan), the guest timed out or did not
# finish, or the kernel log shows an oops, BUG, WARNING, KASAN or lockdep
# report, a kmemleak leak, or similar.  The last line is always
# "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/common.sh"

usage() { sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

variant=debug
module=
total_timeout=
oops=panic
keep=no
verbose=no
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)  variant=${2:?}; shift 2 ;;
	--module)  module=${2:?}; shift 2 ;;
	--timeout) total_timeout=${2:?}; shift 2 ;;
	--oops)    oops=${2:?}; shift 2 ;;
	--keep)    keep=yes; shift ;;
	-v|--verbose) verbose=yes; shift ;;
	-h|--help) usage ;;
	-*)        echo "run-tests: unknown option $1" >&2; usage ;;
	*)         tests+=("$1"); shift ;;
	esac
done
case $variant in plain|debug) ;; *) usage ;; esac
case $oops in panic|continue) ;; *) usage ;; esac

# ---- inputs ------------------------------------------------------------
kdir=$(kernel_dir "$variant")
if [ ! -f "$kdir/.done" ]; then
	echo "run-tests: the $variant kernel is not built ($kdir);" \
		"run scripts/build-kernel.sh $variant" >&2
	exit 1
fi
bzimage=$kdir/arch/x86/boot/bzImage
krel=$(cat "$kdir/include/config/kernel.release")

if [ -z "$module" ] && [ -f "$RZRAM_TOP/rzram.ko" ]; then
	module=$RZRAM_TOP/rzram.ko
fi
extra=()
if [ -n "$module" ]; then
	[ -f "$module" ] || { echo "run-tests: $module not found" >&2; exit 1; }
	module=$(realpath "$module")
	vermagic=$(modinfo -F vermagic "$module" 2>/dev/null || true)
	if [ "${vermagic%% *}" != "$krel" ]; then
		echo "run-tests: warning: $module is built for '${vermagic%% *}', the kernel is $krel" >&2
	fi
else
	echo "run-tests: no rzram.ko (build it or pass --module); rzram tests will fail" >&2
fi

testdir=$RZRAM_TOP/tests
if [ ${#tests[@]} -eq 0 ]; then
	read -ra tests <<<"$(make -s --no-print-directory -C "$testdir" list)"
fi
# NAME+packed: program NAME run with packed writeback (see run_guest.sh)
for i in "${!tests[@]}"; do
	t=${tests[i]##*/} v=
	[ "${t%+packed}" = "$t" ] || { t=${t%+packed} v=+packed; }
	[ -f "$testdir/$t" ] || t=$t.sh
	[ -f "$testdir/$t" ] || { echo "run-tests: no test program tests/${tests[i]}" >&2; exit 2; }
	tests[i]=$t$v
done
per_test=$(sed -n 's/^timeout=//p' "$testdir/settings")
per_test=${per_test:-300}
# boot (~30 s for the debug kernel under TCG) plus the kmemleak scans and
# the dmesg dump at the end, generously
: "${total_timeout:=$((240 + ${#tests[@]} * (per_test + 15)))}"

# ---- run directory -----------------------------------------------------
logdir=$RZRAM_CACHE/logs/$(date +%Y%m%d-%H%M%S)-$variant-$$
mkdir -p "$logdir"
console=$logdir/console.log
results=$logdir/results.log
# uncompressed: under TCG with KASAN the kernel unpacks a 90 MB cpio ~8 s
# faster than the gzip or zstd one
initramfs=$logdir/initramfs.cpio
tail_pid=
cleanup() {
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	if [ $keep = no ]; then
		rm -f "$logdir/vda.img" "$logdir/vdb.img" "$initramfs" "$logdir/rzram.ko"
	fi
}
trap cleanup EXIT

# the guest expects /lib/rzram/rzram.ko whatever the file is called here
if [ -n "$module" ]; then
	cp "$module" "$logdir/rzram.ko"
	extra+=("$logdir/rzram.ko")
fi
for f in ${RZRAM_EXTRA_FILES:-}; do
	[ -f "$f" ] || { echo "run-tests: extra file $f not found" >&2; exit 1; }
	extra+=("$(realpath "$f")")
done
disk_cache=${RZRAM_DISK_CACHE:-unsafe}
"$RZRAM_TOP/scripts/mkinitramfs.sh" "$initramfs" "$kdir" ${extra[@]+"${extra[@]}"}
truncate -s "${RZRAM_VDA_SIZE:-1G}" "$logdir/vda.img"
truncate -s 64M "$logdir/vdb.img"
: >"$console"
: >"$results"

# ---- boot --------------------------------------------------------------
tlist=$(IFS=,; echo "${tests[*]}")
cmdline=(
	console=ttyS0 printk.time=1 log_buf_len=8M
	panic=-1                 # reboot on panic, which -no-reboot turns into exit
	nokaslr                  # stable addresses in reports
	rzram_tests="$tlist"     # for run_guest.sh, via init's environment
	rzram_timeout="$per_test"
	# RCU's stall warning after 100 s instead of 21: under TCG a vCPU
	# can go unscheduled for seconds on a busy 2-core host (then
	# "clocksource: Long readout interval", "rcu_preempt kthread
	# starved"), seen 3 times in swap-heavy tests with no rzram frame
	# on any stack.  A CPU truly stuck still shows, and so do the soft
	# lockup (20 s) and hung task (120 s) watchdogs.
	rcupdate.rcu_cpu_stall_timeout=100
)
[ $oops = panic ] && cmdline+=(oops=panic)
cmdline+=(${RZRAM_APPEND:-})

qemu=(
	qemu-system-x86_64
	# q35: on the default i440fx machine, the ACPI _PRT method runs into
	# AE_AML_LOOP_TIMEOUT under TCG with KASAN, costing ~50 s of boot
	-machine q35 -accel tcg,thread=multi -cpu max,la57=off -smp 2 -m 2G
	-nodefaults -display none -no-reboot
	-kernel "$bzimage" -initrd "$initramfs" -append "${cmdline[*]}"
	-chardev file,id=con,path="$console" -serial chardev:con
	-chardev file,id=res,path="$results" -serial chardev:res
	-drive file="$logdir/vda.img",format=raw,if=none,id=vda,cache=$disk_cache
	-device virtio-blk-pci,drive=vda
	-drive file="$logdir/vdb.img",format=raw,if=none,id=vdb,cache=$disk_cache
	-device virtio-blk-pci,drive=vdb
	${RZRAM_QEMU_ARGS:-}
)

echo "run-tests: $variant kernel $krel, tests: ${tests[*]}"
echo "run-tests: timeout ${total_timeout}s, logs in $logdir"
if [ $verbose = yes ]; then
	tail -n +1 -f "$console" &
	tail_pid=$!
fi
start=$(date +%s)
qemu_rc=0
timeout --kill-after=10 "$total_timeout" "${qemu[@]}" </dev/null >"$logdir/qemu.out" 2>&1 || qemu_rc=$?
elapsed=$(($(date +%s) - start))
if [ -n "$tail_pid" ]; then
	sleep 0.5
	kill "$tail_pid" 2>/dev/null || true
	tail_pid=
fi

# ---- results -----------------------------------------------------------
# serial output has CRLF line ends
tr -d '\r' <"$results" >"$results.txt" && mv "$results.txt" "$results"
tr -d '\r' <"$console" >"$console.txt" && mv "$console.txt" "$console"
# run_guest.sh writes to the console when there was no second port
src=$results
grep -q '^RZRAM-RUN-BEGIN' "$results" || src=$console

guest_problem=
if [ $qemu_rc -eq 124 ] || [ $qemu_rc -eq 137 ]; then
	guest_problem="guest timed out after ${total_timeout}s"
elif ! grep -q '^RZRAM-RUN-END' "$src"; then
	guest_problem="guest stopped before finishing (qemu exit $qemu_rc; panic or crash?)"
fi

boot=$(sed -n 's/^RZRAM-RUN-BEGIN .*uptime=\([0-9.]*\).*/\1/p' "$src" | sed -n 1p)
echo "run-tests: guest ran ${elapsed}s, tests started ${boot:-?}s after boot"
echo

# KTAP: print every case, the diagnostics before each failure, and count.
# Sets pass/fail/skip from the awk's last line.
counts=$(awk -v progs="${tests[*]}" '
BEGIN {
	nprogs = split(progs, order, " ")
	pass = fail = skip = 0
}
/^RZRAM-TESTS-END/ || /^RZRAM-DMESG-BEGIN/ { done = 1 }
done { next }
# a kmemleak report between programs (checked below, with the final one)
/^RZRAM-KMEMLEAK-BEGIN/ { inleak = 1; next }
/^RZRAM-KMEMLEAK-END/ { inleak = 0; next }
inleak || /^RZRAM-KMEMLEAK/ { next }
/^# selftests: rzram: / {
	cur = $4; seen[cur] = 1; diagbuf = ""
	print "== " cur
	next
}
cur != "" && /^# 1\.\.[0-9]+/ { plan[cur] = substr($2, 4) + 0; next }
cur != "" && /^# TAP version/ { next }
cur != "" && /^# (not )?ok [0-9]+ / {
	line = substr($0, 3)
	ran[cur]++
	if (line ~ /^not ok/) {
		subfail[cur]++; fail++
		printf "%s", diagbuf
		print "  " line
	} else if (line ~ /# SKIP/) {
		skip++; print "  " line
	} else {
		pass++; print "  " line
	}
	diagbuf = ""
	next
}
# anything else a program printed: its diagnostics ("# # ...") and any
# stray output ("# ..."), shown before the case that fails next
cur != "" && /^# / {
	line = substr($0, 3); sub(/^# /, "", line)
	diagbuf = diagbuf "      " line "\n"
	next
}
/^(not )?ok [0-9]+ selftests: rzram: / {
	p = ($1 == "not") ? $6 : $5
	top[p] = $0
	print $0
	print ""
	cur = ""
	next
}
END {
	for (i = 1; i <= nprogs; i++) {
		p = order[i]
		missing = (p in plan) ? plan[p] - ran[p] : 0
		if (missing > 0) {
			print p ": " missing " planned cases did not report"
			fail += missing
		}
		if (!(p in top))
			print p ": no result" ((p in seen) ? " (did not finish)" : " (did not start)")
		else if (top[p] ~ /^not ok/ && subfail[p] + (missing > 0 ? missing : 0) == 0)
			print p ": failed without a failing case"
		else
			continue
		# count a program that failed or vanished at least once
		if (subfail[p] + (missing > 0 ? missing : 0) == 0)
			fail++
	}
	print "COUNTS", pass, fail, skip
}' "$src")
printf '%s\n' "$counts" | grep -v '^COUNTS '
read -r _ pass fail skip <<<"$(printf '%s\n' "$counts" | grep '^COUNTS ')"

# Kernel log: scan the dmesg dump; if the guest never got to dump it, scan
# the kernel lines ("[ seconds] ...") of the console log instead.
bad_re='Oops|BUG:|BUG [^ ]+ \(|WARNING:|KASAN|UBSAN|possible circular locking|lockdep|INFO: possible|INFO: task|sleeping function called from invalid context|kernel BUG|general protection fault|Call Trace|Kernel panic|soft lockup|hard LOCKUP|blocked for more than|detected stall|Unable to handle|kmemleak: .*new suspected memory leak'
if grep -q '^RZRAM-DMESG-END' "$src"; then
	klog_src="dmesg dump"
	klog=$(sed -n '/^RZRAM-DMESG-BEGIN/,/^RZRAM-DMESG-END/p' "$src" | sed '1d;$d')
else
	klog_src="console log (no dmesg dump)"
	klog=$(grep -E '^\[ *[0-9]+\.[0-9]+\]' "$console" || true)
fi
# Name the test program running when each line was logged, from the
# "rzram-selftest: begin/end NAME" markers run_guest.sh leaves in the log.
# known harmless lines that match bad_re
ok_re='RCU lockdep checking is enabled'
klog_bad=$(printf '%s\n' "$klog" | awk -v re="$bad_re" -v ok="$ok_re" '
	/rzram-selftest: begin / { sub(/.*rzram-selftest: begin /, ""); where = "during " $0; next }
	/rzram-selftest: kmemleak scan/ { sub(/.*rzram-selftest: /, ""); where = $0; next }
	/rzram-selftest: end / { sub(/.*rzram-selftest: end /, ""); sub(/ rc=.*/, ""); where = "after " $0; next }
	$0 ~ re && $0 !~ ok { print "[" (where == "" ? "boot" : where) "] " $0 }')
leaks=$(sed -n '/^RZRAM-KMEMLEAK-BEGIN/,/^RZRAM-KMEMLEAK-END/p' "$src" | grep -v '^RZRAM-KMEMLEAK-' || true)
# kmemleak turns itself off when it cannot allocate its metadata (memory
# pressure); say so, and where, rather than claim a clean scan.
# (awk reads all its input: exiting early would kill printf with SIGPIPE,
# which pipefail and set -e turn into the runner's exit status.)
kmemleak_off=$(printf '%s\n' "$klog" | awk '
	/rzram-selftest: begin / { sub(/.*rzram-selftest: begin /, ""); where = $0; next }
	/kmemleak: Kernel memory leak detector disabled/ && off == "" { off = (where == "" ? "boot" : where) }
	END { if (off != "") print off }')

kernel_problem=no
echo
if [ -n "$klog_bad" ]; then
	kernel_problem=yes
	echo "not ok kernel-log: problems in the $klog_src:"
	printf '%s\n' "$klog_bad" | sed -n '1,60s/^/    /p'
	n=$(printf '%s\n' "$klog_bad" | wc -l)
	[ "$n" -le 60 ] || echo "    ... $((n - 60)) more lines"
	first=$(printf '%s\n' "$klog" | grep -nE "$bad_re" | grep -vE "$ok_re" | sed -n '1s/:.*//p')
	echo "  first report in context:"
	printf '%s\n' "$klog" | sed -n "$((first > 5 ? first - 5 : 1)),$((first + 40))p" | sed 's/^/    /'
fi
if [ -n "$leaks" ]; then
	kernel_problem=yes
	echo "not ok kernel-log: kmemleak reports $(printf '%s\n' "$leaks" | grep -c '^unreferenced object') suspected leaks:"
	printf '%s\n' "$leaks" | sed -n '1,60s/^/    /p'
fi
if [ -n "$kmemleak_off" ]; then
	kmemleak="no kmemleak reports (kmemleak turned itself off during $kmemleak_off; scans before it were clean)"
elif grep -q '^RZRAM-KMEMLEAK-BEGIN' "$src"; then
	kmemleak="no kmemleak reports"
elif grep -q '^RZRAM-KMEMLEAK-UNAVAILABLE' "$src"; then
	kmemleak="kmemleak not available"
else
	kmemleak="kmemleak scan did not run"
fi
if [ $kernel_problem = yes ]; then
	fail=$((fail + 1))
else
	echo "ok kernel-log: $klog_src clean, $kmemleak"
fi

if [ -n "$guest_problem" ]; then
	echo "not ok guest: $guest_problem"
	echo "  last console lines:"
	if [ -s "$console" ]; then tail -n 15 "$console" | sed 's/^/    /'; else echo "    (empty)"; fi
	if [ -s "$logdir/qemu.out" ]; then
		echo "  qemu said:"
		sed 's/^/    /' "$logdir/qemu.out"
	fi
	fail=$((fail + 1))
fi

echo
echo "run-tests: logs: $console $results"
[ "$skip" -gt 0 ] && echo "run-tests: $skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
