#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The writeback demo and benchmark (not part of TEST_PROGS): the seed
# scenario on in-tree zram0 and on rzram0 in the same boot.
#
# Each run: disksize 1G, backing device /dev/vda, WB_PAGES pages of
# /dev/urandom written with O_DIRECT, then the timed writeback:
#   zram   6.12 zram, "huge" (6.12 has no page_indexes; every random page
#          is huge, so it writes back the same pages)
#   rzram  "page_indexes=1-$((WB_PAGES - 1))", the seed's command
# Variants of rzram flip its design knobs (module parameters):
#   rzram-noplug (wb_plug=0), rzram-nocontig (wb_contig=0), both.
# The device is checksummed before and after (read back from the backing
# device) when WB_VERIFY=1.
#
# Environment (kernel command line): WB_PAGES (100001), WB_REPS (1),
# WB_VARIANTS (comma separated, "zram,rzram"), WB_VERIFY (1).
. "$(dirname "$0")/lib.sh"
pages=${WB_PAGES:-100001}
reps=${WB_REPS:-1}
variants=$(echo "${WB_VARIANTS:-zram,rzram}" | tr , " ")
verify=${WB_VERIFY:-1}
nv=$(echo $variants | wc -w)
per=$((verify == 1 ? 3 : 1))
ktap_plan $((reps * nv * per + 2))
P=/sys/module/rzram/parameters

modprobe zsmalloc 2>/dev/null
check "modprobe zram" modprobe zram num_devices=1 || ktap_abort "no zram"
at_exit "rmmod zram"
check "insmod rzram.ko" insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no rzram"
at_exit "rmmod rzram"

# run VARIANT REP
run() {
	local v=$1 dev S cmd plug=1 contig=1 t0 t1 before after
	case $v in
	zram) dev=zram0; cmd=huge ;;
	rzram*) dev=rzram0; cmd="page_indexes=1-$((pages - 1))" ;;
	esac
	case $v in *noplug*) plug=0 ;; esac
	case $v in *nocontig*) contig=0 ;; esac
	S=/sys/block/$dev
	if [ $dev = rzram0 ]; then
		echo $plug >$P/wb_plug
		echo $contig >$P/wb_contig
	fi
	[ -b /dev/$dev ] || { ktap_fail "$v: /dev/$dev missing"; return; }
	echo "$RZRAM_BACKING_DEV" >$S/backing_dev
	echo 1G >$S/disksize
	dd if=/dev/urandom of=/dev/$dev bs=4096 count=$pages oflag=direct status=none
	[ $verify = 1 ] && before=$(sha256 /dev/$dev $(((pages * 4096 + (1 << 20) - 1) >> 20)))
	t0=$EPOCHREALTIME
	if echo "$cmd" >$S/writeback; then
		t1=$EPOCHREALTIME
		local secs
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		diag "result: variant=$v rep=$2 pages=$pages cmd=\"$cmd\" secs=$secs bd_stat=\"$(cat $S/bd_stat | tr -s ' ')\""
		ktap_ok "$v: writeback of $pages pages in ${secs}s"
	else
		ktap_fail "$v: writeback failed"
	fi
	if [ $verify = 1 ]; then
		local written
		written=$(field 3 $S/bd_stat)
		check_eq "$v: bd_writes = $((pages - 1)) or more" 1 "$([ "$written" -ge $((pages - 1)) ] && echo 1 || echo 0)"
		after=$(sha256 /dev/$dev $(((pages * 4096 + (1 << 20) - 1) >> 20)))
		check_eq "$v: content unchanged after writeback (sha256)" "$before" "$after"
	fi
	echo 1 >$S/reset
}

for rep in $(seq 1 $reps); do
	for v in $variants; do
		run $v $rep
	done
done
ktap_finish
