#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark, case 4: swap-in of written-back pages (scripts/bench.sh; not in
# TEST_PROGS).  zram0 or rzram0 (disksize 1G, backing device the backing
# disk) is the only swap.  The guest's free memory is first taken down to
# about 32 MiB with reserved huge pages (unswappable), so that a process
# (benchtool swapper) filling 32 + BENCH_SWAP_MIB MiB with random words goes
# past free memory and pushes that much out to swap.  Then the process pages out whatever of it is still
# resident (MADV_PAGEOUT), so that all of its memory is in swap (reclaim
# also swaps out tmpfs pages, the initramfs's, and not only the process's),
# "idle all" and "writeback idle"; the huge pages are released, and either
#   touch    the process reads every word back and compares it with its
#            generator (timed: swap-in of the written-back pages), or
#   swapoff  swapoff is timed (it reads every swapped page back in), then
#            the process checks all its memory.
# Runs last: it deletes the other cases' data files from tmpfs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench_lib.sh"
ktap_plan 1
bench_init
at_exit "echo 0 >/proc/sys/vm/nr_hugepages; swapoff -a 2>/dev/null"

mi() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# squeeze: reserve huge pages until about FREE_MIB MiB stay available
FREE_MIB=32
squeeze() {
	local avail hp n
	avail=$(mi MemAvailable)
	hp=$(mi Hugepagesize)
	n=$(((avail - FREE_MIB * 1024) / hp))
	[ $n -gt 0 ] || n=0
	echo $n >/proc/sys/vm/nr_hugepages
}

swapin() {
	local rep v dev s mode seed=11 line pages bad usec swapped rc
	rm -f $W/*.img
	for rep in $(seq 1 $REPS); do
		for v in zram rzram; do
			for mode in touch swapoff; do
				dev=$(dev_of $v) s=/sys/block/$dev
				variant_knobs rzram
				setup $dev || continue
				mkswap /dev/$dev >/dev/null || { bench_fail "$v: mkswap"; continue; }
				swapon /dev/$dev || { bench_fail "$v: swapon"; continue; }
				squeeze
				# the same process size for every run: FREE_MIB + SWAP_MIB
				local mib=$((FREE_MIB + SWAP_MIB))
				m_begin $s
				coproc SW { exec $BT swapper $mib $seed; }
				local pid=$SW_PID
				if ! read -r -t 900 line <&"${SW[0]}"; then
					bench_fail "$v: swapper did not start"
					echo 0 >/proc/sys/vm/nr_hugepages
					swapoff /dev/$dev; reset_dev $dev
					continue
				fi
				swapped=$(($(mi SwapTotal) - $(mi SwapFree)))
				m_end case swap_fill variant $v rep $rep mode $mode mib $mib swapped_kb $swapped \
					hugepages $(cat /proc/sys/vm/nr_hugepages)
				echo pageout >&"${SW[1]}"
				read -r -t 900 line <&"${SW[0]}"
				swapped=$(($(mi SwapTotal) - $(mi SwapFree)))
				local vmswap=$(awk '/^VmSwap:/ { print $2 }' /proc/$pid/status)
				emit case swap_pageout variant $v rep $rep mode $mode reply "$line" \
					swapped_kb $swapped vmswap_kb $vmswap
				[ "$vmswap" -ge $((mib * 1024 * 9 / 10)) ] ||
					bench_fail "$v: only $vmswap kB of the process's $mib MiB in swap"
				echo all >$s/idle
				m_begin $s
				writeback $dev idle
				m_end case swap_wb variant $v rep $rep mode $mode swapped_kb $swapped
				echo 0 >/proc/sys/vm/nr_hugepages
				if [ $mode = touch ]; then
					m_begin $s
					echo touch >&"${SW[1]}"
					read -r -t 900 line <&"${SW[0]}"
					m_end case swap_touch variant $v rep $rep mib $mib swapped_kb $swapped \
						vmswap_kb $vmswap pages $((vmswap / 4)) reply "$line"
					swapoff /dev/$dev || bench_fail "$v: swapoff"
				else
					m_begin $s
					swapoff /dev/$dev || bench_fail "$v: swapoff"
					m_end case swap_off variant $v rep $rep mib $mib swapped_kb $swapped \
						vmswap_kb $vmswap pages $((swapped / 4))
					echo touch >&"${SW[1]}"
					read -r -t 900 line <&"${SW[0]}"
					emit case swap_check variant $v rep $rep reply "$line"
				fi
				bad=${line##*bad=}
				[ "${line%% *}" = touch ] && [ "$bad" = 0 ] ||
					bench_fail "$v $mode rep $rep: swapped memory differs: '$line'"
				echo quit >&"${SW[1]}"
				rc=0
				wait $pid || rc=$?
				[ $rc = 0 ] || bench_fail "$v $mode rep $rep: swapper exited $rc"
				reset_dev $dev
				seed=$((seed + 1))
			done
		done
	done
}

section swapin swapin
ktap_finish
