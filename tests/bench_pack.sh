#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 7: packed writeback (scripts/bench.sh; not in TEST_PROGS).
# On datasets of about 2:1 and 3:1 (benchtool kinds r2 and r3: each page a
# random number of random bytes, then zeros), BENCH_PAGES pages written
# back and read back on:
#
#   zram      6.12's zram, "idle" after "idle all" (uncompressed pages,
#             one a block: its only writeback)
#   rzram     uncompressed writeback, page_indexes over all pages
#   rzram-z1  compressed_writeback: one object a block
#   rzram-pk  compressed_writeback + packed_writeback
#
# Per variant: the writeback (bytes and requests to the disk, time, CPU,
# bd_count), then a read-back of every page (dd 1 MiB O_DIRECT, timed),
# compared with the data.  For rzram-pk, then: a random half of the pages
# is overwritten, packed_stat is recorded (the fragmentation), and
# writeback_compact is timed and packed_stat recorded again; the device
# must still hold the expected data.  Variants alternate in each
# repetition.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 2
bench_init

# pk_setup DEV VARIANT: a fresh device with the variant's flags
pk_setup() {
	local s=/sys/block/$1
	echo 1 >$s/reset 2>/dev/null
	if [ $1 = rzram0 ]; then
		echo $([ $2 = rzram ] && echo 0 || echo 1) >$s/compressed_writeback || return 1
		echo $([ $2 = rzram-pk ] && echo 1 || echo 0) >$s/packed_writeback || return 1
	fi
	setup $1
}

# pk_stat: packed_stat as fields
pk_stat() { read -r PK_O PK_B PK_N PK_SP PK_D </sys/block/rzram0/packed_stat; }

pack_case() {
	local ds=$1 seed=$2 rep v dev s pages=$NPAGES cmd
	data $ds $pages $seed || return
	local src=$DATA
	data $ds $pages $((seed + 100)) || return
	local new=$DATA
	for rep in $(seq 1 $REPS); do
		for v in zram rzram rzram-z1 rzram-pk; do
			dev=$(dev_of $v) s=/sys/block/$dev
			variant_knobs rzram
			pk_setup $dev $v || { bench_fail "$v: setup"; continue; }
			fill $dev $src || bench_fail "$v: fill"
			cmd="page_indexes=0-$((pages - 1))"
			if [ $v = zram ]; then
				echo all >$s/idle
				cmd=idle
			fi
			local mm
			read -r -a mm <$s/mm_stat
			m_begin $s
			writeback $dev "$cmd"
			m_end case pk_wb variant $v rep $rep pages $pages dataset $ds \
				orig ${mm[0]} compr ${mm[1]}
			m_begin $s
			dd if=/dev/$dev of=$W/rb.img bs=1M iflag=direct count=$((pages / 256)) status=none ||
				bench_fail "$v: read-back"
			m_end case pk_rb variant $v rep $rep pages $pages dataset $ds
			cmp_file $W/rb.img $src $pages "pack $ds $v rep $rep"
			rm -f $W/rb.img
			if [ $v = rzram-pk ]; then
				cp $src $W/expected.img
				$BT rstripe /dev/$dev $W/expected.img $new $pages $((rep + seed)) ||
					bench_fail "$v: rstripe"
				pk_stat
				emit case pk_frag variant $v rep $rep dataset $ds when before \
					objects $PK_O bytes $PK_B blocks $PK_N sparse $PK_SP sparse_dead $PK_D \
					bd_count "$(field 1 $s/bd_stat)"
				m_begin $s
				echo 1 >$s/writeback_compact || bench_fail "$v: writeback_compact"
				m_end case pk_compact variant $v rep $rep pages $pages dataset $ds
				pk_stat
				emit case pk_frag variant $v rep $rep dataset $ds when after \
					objects $PK_O bytes $PK_B blocks $PK_N sparse $PK_SP sparse_dead $PK_D \
					bd_count "$(field 1 $s/bd_stat)"
				verify $dev $W/expected.img $pages "pack $ds $v rep $rep after compact"
				rm -f $W/expected.img
			fi
			reset_dev $dev
		done
	done
	# back to the defaults for whatever runs next
	echo 0 >/sys/block/rzram0/compressed_writeback
	echo 0 >/sys/block/rzram0/packed_writeback
}

section pack_r2 pack_case r2 11
section pack_r3 pack_case r3 12
ktap_finish
