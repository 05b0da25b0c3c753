#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 1: the raw backing disk, the physical bound every
# writeback and read-back figure is set against (scripts/bench.sh; not in
# TEST_PROGS).  Writes the whole disk once first (bench_lib.sh prefill).
#
# fio, O_DIRECT, libaio, BENCH_RAW_MIB MiB per job, on the backing disk:
# sequential write then read at 4K QD1, 4K QD32, 128K QD1, 1M QD4, and
# random 4K write then read at QD1 and QD32.  Then a dd round trip of the
# seed's byte count (1 MiB, O_DIRECT) whose read-back is compared with the
# data written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 2
bench_init

shapes="seq:4k:1 seq:4k:32 seq:128k:1 seq:1m:4 rand:4k:1 rand:4k:32"

raw_fio() {
	local rep sh kind bs qd dir rw
	for rep in $(seq 1 $REPS); do
		for sh in $shapes; do
			IFS=: read -r kind bs qd <<<"$sh"
			for dir in write read; do
				rw=$dir
				[ $kind = rand ] && rw=rand$dir
				m_begin
				fio_run --name=raw --filename=$BDISK --direct=1 --ioengine=libaio \
					--rw=$rw --bs=$bs --iodepth=$qd --size=${RAW_MIB}m \
					--lat_percentiles=1 --percentile_list=50:99:99.9
				m_end case raw_fio variant raw rep $rep shape "$kind-$dir-$bs-qd$qd" \
					rw $rw bs $bs qd $qd bytes $((RAW_MIB << 20)) fio "$FIO"
			done
		done
	done
}

raw_dd() {
	local rep pages=$SEED_PAGES
	data random $pages 1 || return
	for rep in $(seq 1 $REPS); do
		m_begin
		dd if=$DATA of=$BDISK bs=1M oflag=direct status=none || bench_fail "raw dd write"
		m_end case raw_dd variant raw rep $rep op write pages $pages
		m_begin
		dd if=$BDISK of=$W/rb.img bs=1M iflag=direct count=$(((pages * 4096 + (1 << 20) - 1) >> 20)) status=none ||
			bench_fail "raw dd read"
		m_end case raw_dd variant raw rep $rep op read pages $pages
		cmp_file $W/rb.img $DATA $pages "raw dd rep $rep"
		rm -f $W/rb.img
	done
}

section raw_fio raw_fio
section raw_dd raw_dd
ktap_finish
