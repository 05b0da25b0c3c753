#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Concurrent I/O on rzram0.
#
# 1. Overlapping pages: four writers each cover the same 1 MiB with their
#    own page pattern (random = huge, text = compressed, 0xAA = same-filled,
#    zero) using different block sizes, while two readers take snapshots,
#    a discarder frees the range and a stats loop reads mm_stat/io_stat and
#    writes compact/idle.  Every page read, during and after, must be one
#    whole pattern: a torn or mixed page is a bug.  Each worker's own exit
#    status (from wait) says whether all its I/O succeeded; the stats loop
#    runs until the others are done, then is told to stop and must exit 0.
# 2. Disjoint regions: fio, four writers with crc32c verify on their own
#    2 MiB regions, plus random readers across all of them.
# The runner checks the kernel log for warnings, lockdep and KASAN reports.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
DEV=/dev/rzram0
S=/sys/block/rzram0
MiB=$((1 << 20))
ITER=${rzram_conc_iter:-3}

ktap_plan 21

# pages_ok FILE: every 4 KiB page of FILE is one of the patterns (od
# prints each page as one line of hex words; no line may be new)
pages_ok() {
	local bad
	bad=$(od -An -v -tx8 -w4096 "$1" | sort -u | grep -vxF -f "$TMP/patlines" | cut -c1-70)
	[ -z "$bad" ] && return 0
	echo "pages matching no pattern (first words):"
	echo "$bad" | head -n 10
	return 1
}

# ---- setup ---------------------------------------------------------------
if [ -e /sys/module/rzram ]; then
	diag "rzram already loaded, unloading it first"
	rmmod rzram || true
fi
PIDS=
mkfifo "$TMP/fifo"
exec 7<>"$TMP/fifo"   # "read -t" on it is a sleep without a process
at_exit '[ ! -e /sys/module/rzram ] || rmmod rzram'
at_exit '[ ! -e '$S'/reset ] || echo 1 >'$S'/reset'
at_exit '[ -z "$PIDS" ] || { kill $PIDS 2>/dev/null; wait; }'

kmsg "start"
modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod "$KO" || ktap_abort "rzram did not load"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no $DEV"
check "disksize 64M" attr_write 64M $S/disksize || ktap_abort "disksize refused"

# ---- 1. overlapping pages ------------------------------------------------
# four one-page patterns, and 1 MiB of each
head -c 4096 /dev/urandom >"$TMP/pat0"
seq 1000 1999 | head -c 4096 >"$TMP/pat1"
head -c 4096 /dev/zero | tr '\0' '\252' >"$TMP/pat2"
head -c 4096 /dev/zero >"$TMP/pat3"
for k in 0 1 2 3; do
	args=()
	for ((i = 0; i < 256; i++)); do args+=("$TMP/pat$k"); done
	cat "${args[@]}" >"$TMP/w$k"
done
cat "$TMP"/pat[0-3] | od -An -v -tx8 -w4096 >"$TMP/patlines"
# the range starts as never written: zeroes, pattern 3

kmsg "overlapping writers"
BS=(4k 16k 64k 1M)
WPIDS=()
for k in 0 1 2 3; do
	(
		for i in $(seq $ITER); do
			dd if="$TMP/w$k" of=$DEV bs=${BS[k]} oflag=direct status=none || exit 1
		done
	) &
	WPIDS+=($!)
done
RPIDS=()
for j in 0 1; do
	(
		for i in $(seq $ITER); do
			dd if=$DEV of="$TMP/snap$j.$i" bs=$((j == 0 ? 4096 : 65536)) count=$((j == 0 ? 256 : 16)) \
				iflag=direct status=none || exit 1
		done
	) &
	RPIDS+=($!)
done
(
	for i in $(seq $ITER); do
		blkdiscard -o $((i % 2 * MiB / 2)) -l $((MiB / 2)) $DEV || exit 1
		read -t 0.2 -u 7 || :
	done
	exit 0
) &
DPID=$!
# the stats loop runs until told to stop ($TMP/stop); its exit status
# says whether every read and write of it succeeded
(
	n=0
	while [ ! -e "$TMP/stop" ]; do
		read -r _ <$S/mm_stat && read -r _ <$S/io_stat && read -r _ <$S/debug_stat || exit 1
		echo 1 >$S/compact && echo all >$S/idle || exit 1
		n=$((n + 1))
		read -t 0.1 -u 7 || :
	done
	echo $n >"$TMP/n.stats"
	exit 0
) &
SPID=$!
PIDS="${WPIDS[*]} ${RPIDS[*]} $DPID $SPID"
start=$(date +%s)
for k in 0 1 2 3; do
	wait ${WPIDS[k]}
	check_eq "writer $k (pattern $k, bs=${BS[k]}) finished without errors" 0 $?
done
for j in 0 1; do
	wait ${RPIDS[j]}
	check_eq "reader $j finished without errors" 0 $?
done
wait $DPID
check_eq "discarder finished without errors" 0 $?
touch "$TMP/stop"
wait $SPID
r=$?
diag "stats/compact/idle loop: $(cat "$TMP/n.stats" 2>/dev/null || echo ?) rounds"
check_eq "the stats/compact/idle loop ran without errors (its exit status), at least one round" \
	"0 yes" "$r $([ "$(cat "$TMP/n.stats" 2>/dev/null || echo 0)" -gt 0 ] && echo yes || echo no)"
PIDS=
diag "overlapping phase took $(($(date +%s) - start)) s"
dd if=$DEV of="$TMP/final" bs=1M count=1 iflag=direct status=none
check "after the race every page of the range is a whole pattern" pages_ok "$TMP/final"
cat "$TMP"/snap* >"$TMP/snaps" 2>/dev/null
check "every page readers saw during the race is a whole pattern" pages_ok "$TMP/snaps"
rm -f "$TMP"/snap*
read -ra F <$S/mm_stat
diag "mm_stat: ${F[*]}"
check "orig_data_size within the 256 pages of the range" test "${F[0]}" -le $MiB
read -ra F <$S/io_stat
check_eq "io_stat: no failed reads or writes" "0 0" "${F[0]} ${F[1]}"

# ---- 2. disjoint regions with verify, plus readers ---------------------------
kmsg "fio"
FIO_W=(--name=writers --filename=$DEV --direct=1 --ioengine=psync --rw=randwrite
	--bs=4k --offset=8M --size=2M --offset_increment=2M --numjobs=4
	--verify=crc32c --verify_fatal=1 --refill_buffers
	--buffer_compress_percentage=50 --buffer_compress_chunk=1024 --randseed=7)
FIO_R=(--name=readers --filename=$DEV --direct=1 --ioengine=psync --rw=randread
	--bs=16k --offset=0 --size=16M --numjobs=2 --time_based --runtime=8)
start=$(date +%s)
check "fio: 4 writers verify their regions while 2 readers read everything" \
	fio --output="$TMP/fio1.log" "${FIO_W[@]}" "${FIO_R[@]}"
[ $? -eq 0 ] || diag_cmd tail -n 30 "$TMP/fio1.log"
diag "fio took $(($(date +%s) - start)) s"
check "fio: the regions verify again afterwards (verify_only)" \
	fio --output="$TMP/fio2.log" "${FIO_W[@]}" --verify_only
[ $? -eq 0 ] || diag_cmd tail -n 30 "$TMP/fio2.log"
check "the overlapping range is untouched by the fio phase" pages_ok "$TMP/final"
check "and still reads the same" test "$(sha256 "$TMP/final")" = "$(sha256 $DEV 1)"
read -ra F <$S/io_stat
check_eq "io_stat: still no failed reads or writes" "0 0" "${F[0]} ${F[1]}"
check "reset after the concurrent phases" attr_write 1 $S/reset
kmsg "end"

ktap_finish
