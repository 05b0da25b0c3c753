#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Allocation failures at each fault-injection point of one system call
# (/proc/self/task/TID/fail-nth, failslab and fail_page_alloc, through
# helpers/faults, which sweeps N = 1, 2, ... without a fork per step and
# checks the state after every one; see faults.c), for rzram and, in the
# same boot, the in-tree zram (its errnos per N are informative: the
# allocation counts differ).  Writeback is swept by rzram_rb_wbfail.sh
# (not repeated here); swap-in under failslab by rzram_rb_swapfail.sh.
#
# 1. The front-end write path: one 4 KiB O_DIRECT write of a random (huge)
#    and of a compressible page over a same-filled one, the other 63 pages
#    of the device holding random, same-filled and zero pages.  Every N
#    until the write makes fewer than N allocations (failslab and
#    fail_page_alloc, order 0 up).  A failed write is EIO or ENOMEM (no
#    other errno, never success with the wrong data); after each: all 64
#    pages read back as expected (the page written: new if the write
#    succeeded, old if it failed), io_stat's failed_writes counts the
#    failed writes exactly, and the write then succeeds without injection.
# 2. `backing_dev` (/dev/vdb), every N (both allocators): a failure is
#    ENOMEM and leaves backing_dev "none"; setting it again without
#    injection succeeds (the device was not left held open) and reset
#    releases it; a call that succeeds despite the injection set it.
#    The profile runs (no injection) also check disksize and a page
#    written back and read back.
# 3. `disksize` (1M, with backing_dev /dev/vdb, so rzram also builds its
#    block map, bio_sets, read workqueue and page pools): a failure is
#    ENOMEM and leaves initstate 0 and disksize 0; disksize then succeeds
#    without injection; either way the device stores and reads back two
#    pages, writes one back (bd_count 1) and reads it back; reset.
# 4. `hot_add` (reading /sys/class/*-control/hot_add): a failure is ENOMEM
#    (or, at most once, EINVAL: 6.12's device_add_disk ignores a failed
#    dev_set_name, and device_add fails with EINVAL) and leaves no device; hot_add then returns the lowest free id; the new
#    device takes disksize, stores and reads back a page; hot_remove
#    removes it.
# 3 and 4 count failslab points only (fail_page_alloc min-order 11): the
# order-0..3 page allocations of slab refills, KASAN's stack depot and
# kmemleak come and go from one call to the next, so with them no two
# calls have the same sequence of points.  Even so the sequences differ by
# a few points (kmemleak, slab and kernfs internals).  A disksize call has
# about 460 (zram) to 590 (rzram) points, 150 to 220 of them inside
# kmem_cache_create (below), whose failure must not be injected; a point
# predicted outside was seen to land inside.  So for rzram's disksize
# failslab's stack-trace filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER,
# reject-start/end: __kmem_cache_create_args) rejects every point with that
# function in its stack: the kernel neither fails nor counts them, and
# every other point is swept (about 360).  zram's disksize (informative)
# also has points inside vmalloc, which one reject range cannot cover: it
# is swept only up to its first noisy point (a vmalloc, so nearly nothing).
# Two targeted failures cover rzram's kmalloc-8k allocations (below).
# hot_add (about 390 points, none noisy) is swept at every point for rzram
# (about 0.3 s a step on the debug kernel) and sampled for zram
# (informative: at most HA_CAP points spread evenly).
# Not injected anywhere: the points whose failure the kernel itself
# reports with a stack dump, which the runner fails on: inside
# kmem_cache_create ("kmem_cache_create(NAME) failed with error -12" and
# dump_stack; 6.12's sysfs_slab_add also leaks the kobject name) except
# its alias lookup, and inside vmalloc (warn_alloc) except the bulk page
# allocator.  helpers/faults finds them by taking two profiles of the call
# (no injection) while kprobes on should_fail_ex and on the entries and
# returns of __kmem_cache_create_args, sysfs_slab_alias,
# __vmalloc_node_range_noprof and alloc_pages_bulk_noprof are traced, and
# skips every point within MARGIN of one in either profile.  disksize
# creates slab caches in both drivers (zsmalloc's zs_handle-NAME and
# zspage-NAME in zs_create_pool; rzram also a "bio-N" cache for each of its
# two bio_sets, unless one of that size exists: bio_find_or_create_slab);
# the program prints how many points each profile has in them.
#
# Figures printed: points per call, faults injected, calls that failed and
# that absorbed the failure, pages verified.  At the end kmemleak must
# report nothing (the runner's scan).  No "scan-before": this program
# cannot leave kmemleak disabled (a failed allocation of kmemleak's own
# metadata falls back to its pool, about 15000 free after boot; about 800
# failures are injected here, and the pool entries come back when the
# objects are freed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"
FH=$(dirname "$0")/helpers/faults
TR=/sys/kernel/tracing
MAXN=${rzram_fault_maxn:-2000}
HA_CAP=${rzram_fault_ha_cap:-8}

ktap_plan 39
at_exit fi_off
at_exit '[ ! -e /sys/module/zram ] || { echo 1 >/sys/block/zram0/reset; rmmod zram; }'
at_exit '[ ! -e /sys/module/rzram ] || { echo 1 >/sys/block/rzram0/reset; rmmod rzram; }'
[ -w $FI/failslab/probability ] && [ -w $FI/fail_page_alloc/probability ] ||
	ktap_abort "no failslab or fail_page_alloc in $FI"

# ---- tracing: kprobes, armed only while helpers/faults takes a profile ----
# No kprobe optimisation and no sched_switch recording: both patch kernel
# text with int3 breakpoints (text_poke_bp), which under QEMU TCG can
# leave a CPU trapping on a breakpoint already removed (an int3 oops).
trace_setup() {
	[ -d $TR/instances ] || mount -t tracefs nodev $TR || return 1
	echo 0 >/proc/sys/debug/kprobes-optimization &&
	echo 0 >$TR/options/record-cmd && echo 0 >$TR/options/record-tgid &&
	{
		echo 'p:kprobes/faults_fi should_fail_ex attr=%di:x64 size=%si:u64'
		echo 'p:kprobes/faults_kc __kmem_cache_create_args'
		echo 'r:kprobes/faults_kcr __kmem_cache_create_args'
		echo 'p:kprobes/faults_al sysfs_slab_alias'
		echo 'r:kprobes/faults_alr sysfs_slab_alias'
		echo 'p:kprobes/faults_vm __vmalloc_node_range_noprof'
		echo 'r:kprobes/faults_vmr __vmalloc_node_range_noprof'
		echo 'p:kprobes/faults_bk alloc_pages_bulk_noprof'
		echo 'r:kprobes/faults_bkr alloc_pages_bulk_noprof'
	} >>$TR/kprobe_events &&
	mkdir $TR/instances/faults &&
	echo counter >$TR/instances/faults/trace_clock &&
	echo 8192 >$TR/instances/faults/buffer_size_kb
}
trace_teardown() {
	[ -d $TR/instances/faults ] || return 0
	echo 0 >$TR/instances/faults/events/kprobes/enable
	rmdir $TR/instances/faults
	for e in fi kc kcr al alr vm vmr bk bkr; do echo "-:kprobes/faults_$e"; done >>$TR/kprobe_events
	echo 1 >$TR/options/record-cmd
	echo 1 >/proc/sys/debug/kprobes-optimization
}
at_exit trace_teardown
check "kprobes on should_fail_ex and the noisy regions, tracefs instance" trace_setup ||
	ktap_abort "no kprobe events"

modprobe zsmalloc 2>/dev/null
[ -e /sys/module/zram ] && rmmod zram
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no rzram"
check "modprobe zram num_devices=1" modprobe zram num_devices=1 || ktap_abort "no zram"
check_blockdev "/dev/rzram0 is a block device" /dev/rzram0 || ktap_abort "no /dev/rzram0"
check_blockdev "/dev/zram0 is a block device" /dev/zram0 || ktap_abort "no /dev/zram0"

# func_range FUNC: the start of kernel function FUNC and the next symbol's
# address (its end), as 0x... (/proc/kallsyms, sorted: fixed-width hex)
func_range() {
	sort /proc/kallsyms | awk -v f="$1" '$3 == f && !s { s = $1; next }
		s && $1 != s { print "0x" s, "0x" $1; exit }'
}
# run NAME ARGS...: one sweep; its lines go to $TMP/NAME, the summary and
# every bad step to the log
run() {
	local name=$1 t0=$SECONDS
	shift
	"$FH" "$@" >"$TMP/$name" 2>&1
	diag "$name: $((SECONDS - t0)) s"
	grep -v '^n=.* ok=1 ' "$TMP/$name" | sed -n '1,40s/^/#   /p'
}
# sum NAME KEY: a field of the sweep's summary line
sum() { sed -n "s/^summary.* $2=\([0-9]*\).*/\1/p" "$TMP/$1"; }
# results NAME: "N=errno ..." per injected N (zram's: informative)
results() { awk '/^n=/ { split($1, a, "="); split($2, b, "="); printf "%s=%s ", a[2], b[2] } END { print "" }' "$TMP/$1"; }
# done_ok NAME: the sweep ended (an N not reached) and every step was right
checks() {
	local name=$1 what=$2
	check_eq "$what: every step as expected (bad steps)" 0 "$(sum "$name" bad)"
	check "$what: the sweep reached an N past the last point (N <= $MAXN)" \
		grep -q '^end n=[0-9]' "$TMP/$name"
}

# ---- 1. the front-end write path -------------------------------------------
# fail-nth (one failure) first, then every allocation failing (make-it-fail
# with probability 100 and task-filter, set around the write only)
ALLFAIL=4
for d in rzram zram; do
	S=/sys/block/${d}0
	attr_write 1M $S/disksize
	for kind in random compressible; do
		fi_on 0
		run "$d.write.$kind" write /dev/${d}0 $S $kind $MAXN 0
		fi_on 100
		run "$d.allfail.$kind" write /dev/${d}0 $S $kind $ALLFAIL 0 allfail
		fi_on 0
		diag "$d $kind write: errno per N: $(results "$d.write.$kind")"
		diag "$d $kind write: $(grep '^profiles' "$TMP/$d.write.$kind")"
		diag "$d $kind write: $(grep '^verified' "$TMP/$d.write.$kind"); all failing: $(grep '^verified' "$TMP/$d.allfail.$kind")"
		diag "$d $kind write, all allocations failing: $(awk '/^allfail/ { printf "%s ", $3 }' "$TMP/$d.allfail.$kind")"
		if [ $d = rzram ]; then
			checks "$d.write.$kind" "$d $kind write"
			check_eq "$d $kind write, all allocations failing: $ALLFAIL writes failed with EIO or ENOMEM, content and failed_writes right" \
				0 "$(sum "$d.allfail.$kind" bad)"
		else
			check_eq "$d $kind write: every step as expected" 0 \
				"$(($(sum "$d.write.$kind" bad) + $(sum "$d.allfail.$kind" bad)))"
		fi
	done
	check "$d: reset" attr_write 1 $S/reset
done

# ---- 2. backing_dev ---------------------------------------------------------
for d in rzram zram; do
	S=/sys/block/${d}0
	run "$d.backing" backing $S /dev/${d}0 $RZRAM_SMALL_DEV $MAXN 0
	diag "$d backing_dev: errno per N: $(results "$d.backing")"
	diag "$d backing_dev: $(grep '^profiles' "$TMP/$d.backing")"
	checks "$d.backing" "$d backing_dev"
	check "$d backing_dev: failures injected ($(sum "$d.backing" injected)), some failed the write ($(sum "$d.backing" failed))" \
		test "$(sum "$d.backing" failed)" -gt 0
done

# ---- 3. disksize, 4. hot_add: failslab only ------------------------------
echo 11 >$FI/fail_page_alloc/min-order
# rzram: every point but those inside kmem_cache_create, which failslab's
# stack-trace filter rejects (neither failed nor counted by fail-nth);
# zram: informative, the points before its first vmalloc (prefix mode)
KC_RANGE=$(func_range __kmem_cache_create_args)
for d in rzram zram; do
	S=/sys/block/${d}0
	if [ $d = rzram ]; then
		kc=($KC_RANGE)
		if [ ${#kc[@]} = 2 ] && [ -e $FI/failslab/reject-start ] &&
			echo ${kc[0]} >$FI/failslab/reject-start && echo ${kc[1]} >$FI/failslab/reject-end &&
			echo 32 >$FI/failslab/stacktrace-depth; then
			diag "failslab rejects points within __kmem_cache_create_args (${kc[0]}-${kc[1]}), 32 frames deep"
			FAULTS_KC_REJECTED=1 run "$d.disksize" disksize $S /dev/${d}0 $RZRAM_SMALL_DEV $MAXN 0
		else
			diag "no stack-trace filter for __kmem_cache_create_args (range '$KC_RANGE')"
			: >"$TMP/$d.disksize"
		fi
		if [ -e $FI/failslab/reject-start ]; then
			echo 0 >$FI/failslab/reject-start
			echo 0 >$FI/failslab/reject-end
		fi
	else
		run "$d.disksize" disksize $S /dev/${d}0 $RZRAM_SMALL_DEV $MAXN -1
	fi
	diag "$d disksize: errno per N: $(results "$d.disksize")"
	diag "$d disksize: $(grep '^profile' "$TMP/$d.disksize" | tr '\n' ';')"
	if [ $d = rzram ]; then
		check_eq "$d disksize: every step as expected (bad steps)" 0 "$(sum "$d.disksize" bad)"
		check "$d disksize: the sweep reached an N past the last point outside kmem_cache_create (N <= $MAXN)" \
			grep -q '^end n=[0-9]' "$TMP/$d.disksize"
		check_eq "$d disksize: no point in vmalloc (its failure is reported with a stack dump) in either profile" \
			"0 0" "$(sed -n 's/^profile[12] .* in_vmalloc=\([0-9]*\) .*/\1/p' "$TMP/$d.disksize" | tr '\n' ' ' | sed 's/ $//')"
		check "$d disksize: failures injected ($(sum "$d.disksize" injected)), some failed the write ($(sum "$d.disksize" failed))" \
			test "$(sum "$d.disksize" failed)" -gt 0
	else
		check_eq "$d disksize: every step as expected (bad steps)" 0 "$(sum "$d.disksize" bad)"
	fi
done
# Targeted failures: every kmalloc-8k allocation of the writer fails
# (failslab cache-filter).  disksize 1M: the first is the slot table
# (256 slots of 32 bytes).  disksize 2M: the slot table is 16 KiB (a page
# allocation), so the first is a compression stream's buffer, right after
# its crypto transform was allocated (Compressor::new).  Each disksize
# fails with ENOMEM; nothing may leak (kmemleak, at the end).
S=/sys/block/rzram0
fi_on 100
echo 0 >$FI/fail_page_alloc/probability
echo Y >$FI/failslab/cache-filter
if check "kmalloc-8k: failslab" attr_write 1 /sys/kernel/slab/kmalloc-8k/failslab; then
	for size in 1M 2M; do
		attr_write $RZRAM_SMALL_DEV $S/backing_dev
		injected0=$(fi_injected failslab)
		(echo 1 >/proc/self/make-it-fail && echo $size >$S/disksize) 2>"$TMP/err8k"
		read -r err8k <"$TMP/err8k"
		diag "rzram disksize $size with kmalloc-8k failing: ${err8k##*: } ($(($(fi_injected failslab) - injected0)) failures injected)"
		check_eq "rzram disksize $size with kmalloc-8k failing: ENOMEM, initstate 0" \
			"Cannot allocate memory 0" "${err8k##*: } $(attr $S/initstate)"
		echo 0 >/sys/kernel/slab/kmalloc-8k/failslab
		check "rzram: disksize $size then works, reset" eval "attr_write $size $S/disksize && attr_write 1 $S/reset"
		echo 1 >/sys/kernel/slab/kmalloc-8k/failslab
	done
	echo 0 >/sys/kernel/slab/kmalloc-8k/failslab
else
	for size in 1M 2M; do
		ktap_fail "rzram disksize $size with kmalloc-8k failing (no failslab flag)"
		ktap_fail "rzram: disksize $size then works"
	done
fi
echo N >$FI/failslab/cache-filter
fi_on 0
echo 11 >$FI/fail_page_alloc/min-order
for d in rzram zram; do
	cap=$HA_CAP
	[ $d = rzram ] && cap=0
	run "$d.hotadd" hotadd /sys/class/$d-control $d $MAXN $cap
	diag "$d hot_add: errno per N: $(results "$d.hotadd")"
	diag "$d hot_add: $(grep '^profile' "$TMP/$d.hotadd" | tr '\n' ';')"
	checks "$d.hotadd" "$d hot_add"
	check "$d hot_add: failures injected ($(sum "$d.hotadd" injected)), some failed the read ($(sum "$d.hotadd" failed))" \
		test "$(sum "$d.hotadd" failed)" -gt 0
done
fi_off
check "rzram0 still works: disksize, a page written and read back" eval \
	"attr_write 1M /sys/block/rzram0/disksize && head -c 4096 /dev/urandom >$TMP/pg &&
	 dd if=$TMP/pg of=/dev/rzram0 bs=4096 oflag=direct status=none &&
	 cmp $TMP/pg <(dd if=/dev/rzram0 bs=4096 count=1 iflag=direct status=none) &&
	 attr_write 1 /sys/block/rzram0/reset"
diag "figures: faults injected (failed/absorbed):" \
	"$(for f in "$TMP"/*.*; do [ -f "$f" ] && grep -q '^summary' "$f" && printf '%s %s/%s; ' "${f##*/}" "$(sum "${f##*/}" failed)" "$(sum "${f##*/}" absorbed)"; done)"
check "unload zram and rzram" eval "rmmod zram && rmmod rzram"
ktap_finish
