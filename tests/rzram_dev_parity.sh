#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rzram against the in-tree zram in the same boot: the same disksize, the
# same 4 MiB workload (random, two kinds of text, zero and 0xAA pages),
# then mm_stat must agree: orig_data_size, same_pages, huge_pages and
# huge_pages_since exactly, compr_data_size within 1%.  Then the same
# overwrite and the same discard, and again.  For each of zram's
# compression algorithms.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
R=/sys/block/rzram0
Z=/sys/block/zram0
MiB=$((1 << 20))
ALGS="lzo-rle lzo lz4 lz4hc zstd deflate 842"

ktap_plan $((4 + 8 * 7))

# stat_fields FILE: F = the fields of FILE's first line (no fork)
stat_fields() { read -ra F <"$1"; }

# same_field DESC FILE N...: field N of rzram0/FILE equals zram0/FILE's
same_field() {
	local desc=$1 f=$2 n bad=0
	local -a RF ZF
	shift 2
	read -ra RF <"$R/$f"
	read -ra ZF <"$Z/$f"
	for n in "$@"; do
		if [ "${RF[n - 1]}" != "${ZF[n - 1]}" ]; then
			diag "$f field $n: rzram ${RF[n - 1]}, zram ${ZF[n - 1]}"
			bad=1
		fi
	done
	if [ $bad -eq 0 ]; then ktap_ok "$desc"; return 0; fi
	diag "rzram $f: ${RF[*]}"
	diag "zram  $f: ${ZF[*]}"
	ktap_fail "$desc"
	return 1
}

# within DESC PCT: compr_data_size of rzram0 within PCT % of zram0's
within() {
	local desc=$1 pct=$2 r z d
	stat_fields $R/mm_stat; r=${F[1]}
	stat_fields $Z/mm_stat; z=${F[1]}
	d=$((r > z ? r - z : z - r))
	if [ $((d * 100)) -le $((z * pct)) ]; then
		diag "compr_data_size: rzram $r, zram $z"
		ktap_ok "$desc"
		return 0
	fi
	diag "compr_data_size: rzram $r, zram $z (differ by $d bytes)"
	ktap_fail "$desc"
	return 1
}

# ---- setup ---------------------------------------------------------------
load_pair

# the workload: 1 MiB random | 1 MiB numbers | 512K zero | 512K 0xAA |
# 1 MiB of prose-like text (the test scripts and the kernel log, repeated)
make_data "$TMP/rand" 1
seq 1 300000 | head -c $MiB >"$TMP/num"
head -c $((MiB / 2)) /dev/zero >"$TMP/zero"
head -c $((MiB / 2)) /dev/zero | tr '\0' '\252' >"$TMP/aa"
dmesg >"$TMP/dmesg"
scripts=("$(dirname "$0")"/*.sh "$TMP/dmesg")
args=()
for ((i = 0; i < 20; i++)); do args+=("${scripts[@]}"); done
cat "${args[@]}" | head -c $MiB >"$TMP/prose"
cat "$TMP/rand" "$TMP/num" "$TMP/zero" "$TMP/aa" "$TMP/prose" >"$TMP/mix"
want=$(sha256 "$TMP/mix")
# the overwrite: prose over the second half of the random MiB
head -c $((MiB / 2)) "$TMP/prose" >"$TMP/over"

for alg in $ALGS; do
	kmsg "$alg"
	echo $alg >$R/comp_algorithm && echo $alg >$Z/comp_algorithm &&
		echo 64M >$R/disksize && echo 64M >$Z/disksize
	check "$alg: both initialized with 64M" test $? -eq 0 || ktap_abort "could not initialize with $alg"
	check "$alg: the same 4 MiB written to both (O_DIRECT)" eval \
		'dd if="$TMP/mix" of=/dev/rzram0 bs=1M oflag=direct status=none &&
		 dd if="$TMP/mix" of=/dev/zram0 bs=1M oflag=direct status=none'
	check_eq "$alg: rzram reads it back" "$want" "$(sha256 /dev/rzram0 4)"
	same_field "$alg: orig_data_size, same_pages, huge_pages, huge_pages_since equal" mm_stat 1 6 8 9
	within "$alg: compr_data_size within 1%" 1
	dd if="$TMP/over" of=/dev/rzram0 bs=64k seek=8 oflag=direct status=none
	dd if="$TMP/over" of=/dev/zram0 bs=64k seek=8 oflag=direct status=none
	blkdiscard -o $((2 * MiB + MiB / 4)) -l $((MiB / 2)) /dev/rzram0
	blkdiscard -o $((2 * MiB + MiB / 4)) -l $((MiB / 2)) /dev/zram0
	same_field "$alg: after the same overwrite and discard, mm_stat 1 6 8 9 equal" mm_stat 1 6 8 9
	within "$alg: after the same overwrite and discard, compr_data_size within 1%" 1
	same_field "$alg: io_stat equal (notify_free counts the discard)" io_stat 1 2 3 4
	echo 1 >$R/reset
	echo 1 >$Z/reset
done
kmsg "end"

ktap_finish
