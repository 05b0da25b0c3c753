#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 3: reading back written-back pages (scripts/bench.sh; not
# in TEST_PROGS).  BENCH_PAGES random pages are written to the device and
# all written back (zram "huge", rzram page_indexes), then read:
#   rb_1m    dd bs=1M iflag=direct, every page (to tmpfs, then compared)
#   rb_4k    dd bs=4K iflag=direct, every page (to tmpfs, then compared)
#   rb_qd1   fio 4K random read, QD1 (libaio), BENCH_FIO_IOS I/Os
#   rb_qd16  fio 4K random read, QD16, BENCH_FIO_IOS I/Os
#   rb_buf   dd bs=1M buffered after drop_caches, every page (compared)
# Reads leave the pages written back (bd_stat is checked), so rzram runs
# the set twice on the same state when the module has rb_chain: rzram
# (rb_chain=1) and rzram-rbold (rb_chain=0, the worker path), in an order
# alternating by repetition.  raw: the same reads of the same data on the
# backing disk itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 1
bench_init

# rb_set VARIANT DEV REP: the reads on DEV, whose first NPAGES pages must
# equal $DATA
rb_set() {
	local v=$1 dev=$2 rep=$3 pages=$NPAGES s=/sys/block/$2 c0=0 c1=0 qd
	[ $dev = $BNAME ] && s=
	[ -n "$s" ] && read -r c0 _ <$s/bd_stat
	m_begin $s
	dd if=/dev/$dev of=$W/rb.img bs=1M iflag=direct count=$((pages >> 8)) status=none || bench_fail "$v: dd 1M"
	m_end case rb_1m variant $v rep $rep pages $pages
	cmp_file $W/rb.img $DATA $pages "rb_1m $v rep $rep"
	rm -f $W/rb.img
	m_begin $s
	dd if=/dev/$dev of=$W/rb.img bs=4K iflag=direct count=$pages status=none || bench_fail "$v: dd 4K"
	m_end case rb_4k variant $v rep $rep pages $pages
	cmp_file $W/rb.img $DATA $pages "rb_4k $v rep $rep"
	rm -f $W/rb.img
	for qd in 1 16; do
		m_begin $s
		fio_run --name=rb --filename=/dev/$dev --direct=1 --ioengine=libaio --rw=randread \
			--bs=4k --iodepth=$qd --size=$((pages * 4096)) --number_ios=$FIO_IOS \
			--randrepeat=1 --lat_percentiles=1 --percentile_list=50:99:99.9
		m_end case rb_qd$qd variant $v rep $rep pages $FIO_IOS fio "$FIO"
	done
	echo 3 >/proc/sys/vm/drop_caches
	m_begin $s
	dd if=/dev/$dev of=$W/rb.img bs=1M count=$((pages >> 8)) status=none || bench_fail "$v: dd buffered"
	m_end case rb_buf variant $v rep $rep pages $pages
	cmp_file $W/rb.img $DATA $pages "rb_buf $v rep $rep"
	rm -f $W/rb.img
	echo 3 >/proc/sys/vm/drop_caches
	if [ -n "$s" ]; then
		read -r c1 _ <$s/bd_stat
		[ "$c0" = "$c1" ] || bench_fail "$v: bd_count changed by the reads: $c0 -> $c1"
	fi
}

readback() {
	local rep v dev s order o c pages=$NPAGES
	data random $pages 6 || return
	for rep in $(seq 1 $REPS); do
		for v in zram rzram raw; do
			dev=$(dev_of $v) s=/sys/block/$dev
			if [ $v = raw ]; then
				fill $BNAME $DATA || bench_fail "raw: fill"
				rb_set raw $BNAME $rep
				continue
			fi
			variant_knobs rzram
			setup $dev || continue
			fill $dev $DATA || bench_fail "$v: fill"
			writeback $dev "$(wb_cmd $v $pages)"
			read -r c _ <$s/bd_stat
			[ "$c" -ge "$pages" ] || bench_fail "$v: only $c pages written back"
			if [ $v = zram ] || [ $HAVE_RB_CHAIN = 0 ]; then
				rb_set $v $dev $rep
			else
				order="1 0"
				[ $((rep % 2)) = 0 ] && order="0 1"
				for o in $order; do
					if [ $o = 1 ]; then
						variant_knobs rzram
						rb_set rzram $dev $rep
					else
						variant_knobs rzram-rbold
						rb_set rzram-rbold $dev $rep
					fi
				done
				variant_knobs rzram
			fi
			reset_dev $dev
		done
	done
}

section readback readback
ktap_finish
