#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 2: writeback (scripts/bench.sh; not in TEST_PROGS).
# zram is 6.12's in-tree zram, rzram this module; same boot, same backing
# disk, same data file, disksize 1G, lzo-rle.  Variants run alternately
# (zram, rzram, ... per repetition).
#
#   wb_seed   BENCH_SEED_PAGES random pages: zram "huge", rzram
#             "page_indexes=1-100000" and rzram "huge"; then every page is
#             read back (dd 1 MiB O_DIRECT, timed: case rb_seed_1m) and
#             compared with the data file
#   wb_idle   BENCH_PAGES pages of ~2:1 compressible data, "idle" after
#             "idle all", on both
#   wb_frag   a fragmented backing device: BENCH_PAGES random pages
#             written back ("huge" on both), every other page overwritten
#             with new random data, then written back again (timed: the
#             second writeback goes into the holes); zram, rzram and rzram
#             with each writeback knob off
#   wb_batch  rzram writeback_batch_size 1 8 32 64 256 1024, and the knob
#             matrix wb_plug x wb_contig at the default batch size (and
#             wb_bio_pages=1 where the
#             module has it), BENCH_PAGES random pages on a
#             fresh bitmap each time (the pages are rewritten between
#             samples, which frees their blocks); zram as reference
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 4
bench_init

wb_seed() {
	local rep v dev cmd s pages=$SEED_PAGES
	data random $pages 1 || return
	for rep in $(seq 1 $REPS); do
		for v in zram rzram rzram-huge; do
			dev=$(dev_of $v) s=/sys/block/$dev
			case $v in
			zram|rzram-huge) cmd=huge ;;
			*) cmd="page_indexes=1-$((pages - 1))" ;;
			esac
			variant_knobs rzram
			setup $dev || continue
			m_begin $s
			fill $dev $DATA || bench_fail "$v: fill"
			m_end case fill variant $v rep $rep pages $pages data random
			m_begin $s
			writeback $dev "$cmd"
			m_end case wb_seed variant $v rep $rep pages $pages cmd "$cmd"
			m_begin $s
			dd if=/dev/$dev of=$W/rb.img bs=1M iflag=direct \
				count=$(((pages * 4096 + (1 << 20) - 1) >> 20)) status=none || bench_fail "$v: read-back"
			m_end case rb_seed_1m variant $v rep $rep pages $pages
			cmp_file $W/rb.img $DATA $pages "wb_seed $v rep $rep"
			rm -f $W/rb.img
			reset_dev $dev
		done
	done
}

wb_idle() {
	local rep v dev s pages=$NPAGES
	data half $pages 2 || return
	for rep in $(seq 1 $REPS); do
		for v in zram rzram; do
			dev=$(dev_of $v) s=/sys/block/$dev
			variant_knobs rzram
			setup $dev || continue
			fill $dev $DATA || bench_fail "$v: fill"
			emit case mm_idle variant $v rep $rep mm_stat "$(tr -s ' ' <$s/mm_stat)"
			echo all >$s/idle
			m_begin $s
			writeback $dev idle
			m_end case wb_idle variant $v rep $rep pages $pages cmd idle
			verify $dev $DATA $pages "wb_idle $v rep $rep"
			reset_dev $dev
		done
	done
}

wb_frag() {
	local rep v dev s pages=$NPAGES
	data random $pages 3 || return
	local src=$DATA
	data random $pages 4 || return
	local new=$DATA
	for rep in $(seq 1 $REPS); do
		for v in zram rzram rzram-noplug rzram-nocontig; do
			dev=$(dev_of $v) s=/sys/block/$dev
			variant_knobs $v
			setup $dev || continue
			fill $dev $src || bench_fail "$v: fill"
			m_begin $s
			writeback $dev huge
			m_end case wb_frag1 variant $v rep $rep pages $pages cmd huge
			cp $src $W/expected.img
			$BT stripe /dev/$dev $W/expected.img $new $pages || bench_fail "$v: stripe"
			m_begin $s
			writeback $dev huge
			m_end case wb_frag2 variant $v rep $rep pages $((pages / 2)) cmd huge
			verify $dev $W/expected.img $pages "wb_frag $v rep $rep"
			rm -f $W/expected.img
			reset_dev $dev
		done
	done
}

wb_batch() {
	local rep v dev s pages=$NPAGES list i b cmd
	data random $pages 5 || return
	local all="b1 b8 b32 b64 b256 b1024 noplug nocontig noplug-nocontig"
	[ $HAVE_BIO_PAGES = 1 ] && all+=" bio1"
	for rep in $(seq 1 $REPS); do
		# zram 6.12: one page at a time, no batch size
		setup zram0 || continue
		fill zram0 $DATA || bench_fail "zram: fill"
		m_begin /sys/block/zram0
		writeback zram0 huge
		m_end case wb_batch variant zram rep $rep pages $pages cmd huge batch 1
		verify zram0 $DATA $pages "wb_batch zram rep $rep"
		reset_dev zram0
		# rzram: every batch size and knob setting on one device, in an
		# order rotated by the repetition
		s=/sys/block/rzram0
		setup rzram0 || continue
		# the knob variants run at the module's default batch size
		local defb
		read -r defb <$s/writeback_batch_size
		set -- $all
		case " $all " in *" b$defb "*) ;; *) set -- "$@" b$defb ;; esac
		list=("$@")
		cmd="page_indexes=0-$((pages - 1))"
		for i in $(seq 0 $((${#list[@]} - 1))); do
			v=${list[((i + rep - 1) % ${#list[@]})]}
			b=$defb
			case $v in b[0-9]*) b=${v#b} ;; esac
			variant_knobs $v
			echo $b >$s/writeback_batch_size || bench_fail "writeback_batch_size $b"
			fill rzram0 $DATA || bench_fail "rzram: fill"
			m_begin $s
			writeback rzram0 "$cmd"
			case $v in
			b[0-9]*) m_end case wb_batch variant rzram rep $rep pages $pages cmd "$cmd" batch $b ;;
			*) m_end case wb_knobs variant rzram-$v rep $rep pages $pages cmd "$cmd" batch $b ;;
			esac
		done
		variant_knobs rzram
		echo $defb >$s/writeback_batch_size
		emit case wb_default_batch batch $defb
		# the knob matrix's all-on point is b$defb above
		verify rzram0 $DATA $pages "wb_batch rzram rep $rep"
		reset_dev rzram0
	done
}

section wb_seed wb_seed
section wb_idle wb_idle
section wb_frag wb_frag
section wb_batch wb_batch
ktap_finish
