#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The seed scenario of batched writeback (Yuwen Chen's patch): 100001
# pages of random data, then "page_indexes=1-100000" written back in one
# go.  Checks the result exactly (bd_stat, mm_stat, checksum of the whole
# device before and after, which reads every written-back page back) and
# reports how long each step took; the writeback alone is printed as
# "# seed writeback: N s".
#
# The pages are written, and checksummed, by NPAR processes on disjoint
# ranges at once: each read of a written-back page is a synchronous
# backing-device read, so one reader alone takes very long.
#
# This moves 400 MiB through the device several times: on the debug
# kernel under TCG (2 CPUs, otherwise idle host) the whole program took
# 282 s, the writeback itself 18 s.
. "$(dirname "$0")/lib.sh"
ktap_plan 13
S=/sys/block/rzram0
DEV=/dev/rzram0
PAGES=100001
NPAR=4

bd() { echo $(cat $S/bd_stat 2>&1); }
now() { cut -d' ' -f1 /proc/uptime; }
# since T0: seconds elapsed since uptime T0
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# range R: "FIRST COUNT" pages of range R (0..NPAR-1)
range() {
	local per=$(((PAGES + NPAR - 1) / NPAR)) first
	first=$(($1 * per))
	echo $first $((PAGES - first < per ? PAGES - first : per))
}
# fill: random data to every page, NPAR writers at once
fill() {
	local r first n pids=() rc=0
	for ((r = 0; r < NPAR; r++)); do
		read -r first n < <(range $r)
		head -c $((n * 4096)) /dev/urandom |
			dd of=$DEV bs=1M seek=$((first * 4096)) iflag=fullblock \
				oflag=direct,seek_bytes status=none &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait $p || rc=1; done
	return $rc
}
# sums: the sha256 of each range, NPAR readers (O_DIRECT) at once
sums() {
	local r first n
	for ((r = 0; r < NPAR; r++)); do
		read -r first n < <(range $r)
		dd if=$DEV bs=1M skip=$((first * 4096)) count=$((n * 4096)) \
			iflag=direct,skip_bytes,count_bytes status=none |
			sha256sum >"$TMP/sum.$r" &
	done
	wait
	cat "$TMP"/sum.*
}

modprobe zsmalloc 2>/dev/null
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no module"
at_exit "rmmod rzram"
at_exit "[ -e $S/reset ] && echo 1 > $S/reset"
check_blockdev "$DEV is a block device" $DEV || ktap_abort "no disk"
check "backing_dev, disksize 512M" eval \
	"attr_write $RZRAM_BACKING_DEV $S/backing_dev && attr_write 512M $S/disksize"

t=$(now)
check "write $PAGES pages of random data" fill
diag "write: $(since "$t") s"
check_eq "all $PAGES pages are huge" $PAGES "$(field 8 $S/mm_stat)"
t=$(now)
before=$(sums)
diag "checksum from memory: $(since "$t") s"

kmsg "seed writeback start"
t=$(now)
r=$( { echo "page_indexes=1-100000" >$S/writeback; } 2>&1) && r=ok
wb_secs=$(since "$t")
kmsg "seed writeback end"
echo "# seed writeback: $wb_secs s"
check_eq "writeback page_indexes=1-100000" ok "$r"
check_eq "bd_stat: 100000 pages written" "100000 0 100000" "$(bd)"
check_eq "page 0 stays in memory" 1 "$(field 8 $S/mm_stat)"
check_eq "orig_data_size unchanged" $((PAGES * 4096)) "$(field 1 $S/mm_stat)"
t=$(now)
check_eq "checksum after writeback" "$before" "$(sums)"
diag "checksum with 100000 pages from the backing device: $(since "$t") s"
check_eq "bd_reads: every written-back page read once" "100000 100000 100000" "$(bd)"
check_wr_again=$( { echo "page_indexes=1-100000" >$S/writeback; } 2>&1) && check_wr_again=ok
check_eq "again: nothing left to write" "ok 100000 100000 100000" "$check_wr_again $(bd)"
check "reset" attr_write 1 $S/reset
ktap_finish
