#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 5: the front-end I/O path, no backing device
# (scripts/bench.sh; not in TEST_PROGS).  zram0 and rzram0 side by side
# (disksize 1G, lzo-rle), each filled with the same dataset of 4 x BENCH_FE_MIB
# MiB, compressible (~2:1) or random; then fio, O_DIRECT, psync, each job
# once on zram then on rzram: 4K random read, 128K sequential read, 4K
# random write, 128K sequential write, with 1 and 2 jobs (the jobs split
# the bytes between them: BENCH_FE_MIB MiB for 4K jobs, 4x for 128K).
# Reads are checked by comparing the device with the dataset afterwards;
# writes by comparing zram0 with rzram0 after each write job (fio writes the
# same bytes for the same job: randrepeat, refill_buffers).
# Note: rzram does no block-layer I/O accounting (no bio_start_io_acct),
# zram does; its cost is part of zram's figures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 1
bench_init

frontend() {
	local rep kind v dev job rw bs nj per seed mib pages=$((FE_MIB * 4 * 256))
	local jobs="randread:4k randread:4k:2 read:128k read:128k:2 randwrite:4k randwrite:4k:2 write:128k write:128k:2"
	for rep in $(seq 1 $REPS); do
		for kind in half random; do
			seed=7
			[ $kind = random ] && seed=8
			data $kind $pages $seed || return
			fdata=(--refill_buffers)
			[ $kind = half ] && fdata+=(--buffer_compress_percentage=50)
			for v in zram rzram; do
				setup $(dev_of $v) none || return
				fill $(dev_of $v) $DATA || bench_fail "$v: fill"
			done
			for job in $jobs; do
				IFS=: read -r rw bs nj <<<"$job"
				nj=${nj:-1}
				mib=$FE_MIB
				[ $bs = 128k ] && mib=$((FE_MIB * 4))
				per=$(((mib << 20) / nj))
				args=(--name=fe --filename=/dev/DEV --direct=1 --ioengine=psync --rw=$rw --bs=$bs
					--numjobs=$nj --size=$per --offset_increment=$per --group_reporting
					--randrepeat=1 --lat_percentiles=1 --percentile_list=50:99:99.9 "${fdata[@]}")
				for v in zram rzram; do
					dev=$(dev_of $v)
					m_begin
					fio_run "${args[@]/DEV/$dev}"
					m_end case fe variant $v rep $rep data $kind rw $rw bs $bs jobs $nj \
						bytes $((mib << 20)) fio "$FIO" mm_stat "$(tr -s ' ' </sys/block/$dev/mm_stat)"
				done
				case $rw in
				*write*)
					# fio's data is the same for the same job (randrepeat):
					# both devices must now hold the same bytes
					if ! cmp -s -n $((pages * 4096)) <(dd if=/dev/zram0 bs=1M iflag=direct count=$((pages >> 8)) status=none) \
						<(dd if=/dev/rzram0 bs=1M iflag=direct count=$((pages >> 8)) status=none); then
						bench_fail "fe $job $kind rep $rep: zram0 and rzram0 differ after the same fio writes"
					fi
					;;
				read:128k:2)
					# the reads must not have changed the data
					verify zram0 $DATA $pages "fe zram $kind reads rep $rep"
					verify rzram0 $DATA $pages "fe rzram $kind reads rep $rep"
					;;
				esac
			done
			reset_dev zram0
			reset_dev rzram0
		done
	done
}

section frontend frontend
ktap_finish
