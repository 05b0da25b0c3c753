#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 6: memory (scripts/bench.sh; not in TEST_PROGS).
#   mem_data   the same BENCH_PAGES-page dataset on zram0 and on rzram0
#              (disksize 1G, lzo-rle, no backing device): mm_stat after the
#              write, for compressible (~2:1), same-filled and random data;
#              the device is compared with the dataset afterwards
#   mem_table  the slot table's real size: /proc/meminfo (VmallocUsed,
#              Slab, Percpu, MemFree) before and after setting disksize 1G
#              and 4G; bytes per slot = the difference between the two
#              increases over the difference in slots (3 GiB / 4 KiB), which
#              cancels what disksize allocates besides the table
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 2
bench_init

mem_data() {
	local rep kind v dev pages=$NPAGES
	for rep in $(seq 1 $REPS); do
		for kind in half same random; do
			data $kind $pages 9 || return
			for v in zram rzram; do
				dev=$(dev_of $v)
				setup $dev none || continue
				m_begin
				fill $dev $DATA || bench_fail "$v: fill"
				m_end case mem_data variant $v rep $rep data $kind pages $pages \
					mm_stat "$(tr -s ' ' </sys/block/$dev/mm_stat)"
				verify $dev $DATA $pages "mem_data $v $kind rep $rep"
				reset_dev $dev
			done
		done
	done
}

# meminfo ARRAY: the fields of /proc/meminfo we need, in kB
meminfo() {
	local -n _m=$1
	local k v u
	while read -r k v u; do
		case $k in
		MemFree:|VmallocUsed:|Slab:|SUnreclaim:|Percpu:) _m[${k%:}]=$v ;;
		esac
	done </proc/meminfo
}

mem_table() {
	local rep v dev size
	declare -A m0 m1
	for rep in $(seq 1 $REPS); do
		for v in zram rzram; do
			dev=$(dev_of $v)
			for size in 1G 4G; do
				reset_dev $dev
				echo 3 >/proc/sys/vm/drop_caches
				meminfo m0
				echo $size >/sys/block/$dev/disksize || { bench_fail "$v: disksize $size"; continue; }
				meminfo m1
				emit case mem_table variant $v rep $rep disksize $size \
					d_vmalloc_kb $((m1[VmallocUsed] - m0[VmallocUsed])) \
					d_slab_kb $((m1[Slab] - m0[Slab])) d_sunreclaim_kb $((m1[SUnreclaim] - m0[SUnreclaim])) \
					d_percpu_kb $((m1[Percpu] - m0[Percpu])) d_memfree_kb $((m0[MemFree] - m1[MemFree]))
				reset_dev $dev
			done
		done
	done
}

section mem_data mem_data
section mem_table mem_table
ktap_finish
