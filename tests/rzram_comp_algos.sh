#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every compression algorithm, with levels and dictionaries
# (algorithm_params), against the in-tree zram in the same boot:
#
# - comp_algorithm lists what zram0's lists (every 6.12 backend, in
#   zcomp.c's order);
# - per case (algorithm, level, dictionary) both devices get the same
#   configuration and the same 4 MiB (random, numbers, text, zeros), then
#   rzram reads it back whole, O_DIRECT and buffered after drop_caches,
#   sha256 equal; compr_data_size within 1% of zram0's, and
#   orig_data_size, same_pages and huge_pages equal;
# - algorithm_params: the errno of each malformed or odd input is zram's.
#
# The dictionaries are raw content (zstd takes any bytes without its
# dictionary magic as raw content; lz4 and lz4hc only take raw content):
# 64 KiB of the same kind of text as the data, made in the guest.
. "$(dirname "$0")/lib.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
R=/sys/block/rzram0
Z=/sys/block/zram0
MiB=$((1 << 20))

# "algorithm params...": the algorithm_params line written to both ("-"
# for none); DICT stands for the dictionary's path
CASES=(
	"lzo-rle -" "lzo -" "lz4 -" "lz4hc -" "zstd -" "deflate -" "842 -"
	"lz4 level=8" "lz4hc level=4" "lz4hc level=12"
	"zstd level=1" "zstd level=9" "zstd level=-3"
	"deflate level=1" "deflate level=9"
	"zstd dict=DICT" "zstd level=7 dict=DICT"
	"lz4 dict=DICT" "lz4hc dict=DICT" "lz4hc level=11 dict=DICT"
)
PER_CASE=6
# algorithm_params inputs whose result must be zram's ("ok" or errno)
ERRS=(
	"level=" "level" "foo" "level=abc" "level=99999999999"
	"priority=4 level=1" "priority=-1 level=1" "priority=1 level=3"
	"priority=x" "algo=nosuch level=1" "algo=lzo-rle level=1"
	"unknown=1" "dict=/nonexistent" "dict=" " level=1  priority=0 "
	'"level=2"' "level=2 level=3"
)

ktap_plan $((5 + ${#CASES[@]} * PER_CASE + ${#ERRS[@]} + 1))

stat_fields() { read -ra F <"$1"; }

# mm_same ALG: mm_stat fields 1 (orig_data_size), 6 (same_pages) and 8
# (huge_pages) equal, and 2 (compr_data_size) within 1%
mm_same() {
	local desc=$1 r z d
	local -a RF ZF
	read -ra RF <"$R/mm_stat"
	read -ra ZF <"$Z/mm_stat"
	r=${RF[1]} z=${ZF[1]}
	d=$((r > z ? r - z : z - r))
	diag "$desc: compr_data_size rzram $r, zram $z; huge rzram ${RF[7]}, zram ${ZF[7]}"
	if [ "${RF[0]} ${RF[5]} ${RF[7]}" = "${ZF[0]} ${ZF[5]} ${ZF[7]}" ] &&
		[ $((d * 100)) -le $((z * 1)) ]; then
		ktap_ok "$desc: compr_data_size within 1% of zram's; orig, same, huge equal"
		return 0
	fi
	diag "rzram mm_stat: ${RF[*]}"
	diag "zram  mm_stat: ${ZF[*]}"
	ktap_fail "$desc: compr_data_size within 1% of zram's; orig, same, huge equal"
	return 1
}

# setup_both ALG PARAMS: comp_algorithm, algorithm_params, disksize 32M
setup_both() {
	local alg=$1 params=$2 d
	for d in $R $Z; do
		echo "$alg" >$d/comp_algorithm || return 1
		if [ "$params" != - ]; then
			echo "${params//DICT/$TMP/dict}" >$d/algorithm_params || return 1
		fi
		echo 32M >$d/disksize || return 1
	done
}

# ---- setup ---------------------------------------------------------------
load_pair
check_eq "comp_algorithm lists zram0's algorithms, in its order" \
	"$(cat $Z/comp_algorithm)" "$(cat $R/comp_algorithm)"
diag "comp_algorithm: $(cat $R/comp_algorithm)"

# the data: 512K random | 1 MiB numbers | 512K zero | 2 MiB of text (the
# test scripts and the kernel log); the dictionary: 64 KiB of the same
# text from elsewhere in it
head -c $((MiB / 2)) /dev/urandom >"$TMP/rand"
seq 1 300000 | head -c $MiB >"$TMP/num"
head -c $((MiB / 2)) /dev/zero >"$TMP/zero"
dmesg >"$TMP/dmesg"
scripts=("$(dirname "$0")"/*.sh "$TMP/dmesg")
args=()
for ((i = 0; i < 40; i++)); do args+=("${scripts[@]}"); done
cat "${args[@]}" | head -c $((3 * MiB)) >"$TMP/text"
head -c $((2 * MiB)) "$TMP/text" >"$TMP/prose"
tail -c $((64 * 1024)) "$TMP/text" >"$TMP/dict"
cat "$TMP/rand" "$TMP/num" "$TMP/zero" "$TMP/prose" >"$TMP/mix"
want=$(sha256 "$TMP/mix")

for c in "${CASES[@]}"; do
	alg=${c%% *} params=${c#* }
	desc=$alg; [ "$params" = - ] || desc+=" $params"
	desc=${desc//$TMP\/dict/DICT}
	kmsg "$desc"
	if ! check "$desc: both configured and initialized" setup_both "$alg" "$params"; then
		for ((i = 1; i < PER_CASE; i++)); do ktap_fail "$desc: not run (no device)"; done
		echo 1 >$R/reset; echo 1 >$Z/reset
		continue
	fi
	check "$desc: the same 4 MiB written to both (O_DIRECT)" eval \
		'dd if="$TMP/mix" of=/dev/rzram0 bs=1M oflag=direct status=none &&
		 dd if="$TMP/mix" of=/dev/zram0 bs=1M oflag=direct status=none'
	check_eq "$desc: rzram reads it back (O_DIRECT)" "$want" "$(sha256 /dev/rzram0 4)"
	echo 3 >/proc/sys/vm/drop_caches
	check_eq "$desc: rzram reads it back (buffered, caches dropped)" "$want" \
		"$(dd if=/dev/rzram0 bs=64k count=64 status=none | sha256sum | cut -d' ' -f1)"
	check_eq "$desc: zram reads it back (the reference is sound)" "$want" "$(sha256 /dev/zram0 4)"
	mm_same "$desc"
	echo 1 >$R/reset
	echo 1 >$Z/reset
done

# ---- algorithm_params errnos ------------------------------------------
kmsg "algorithm_params errnos"
for v in "${ERRS[@]}"; do
	wr "$v" $Z/algorithm_params; zr=$WR
	wr "$v" $R/algorithm_params; rr=$WR
	check_eq "algorithm_params '$v': zram's result ($zr)" "$zr" "$rr"
done
# and on an initialized device (zram takes no lock and accepts)
echo 1M >$R/disksize && echo 1M >$Z/disksize
wr "level=3" $Z/algorithm_params; zr=$WR
wr "level=3" $R/algorithm_params; rr=$WR
check_eq "algorithm_params on an initialized device: zram's result ($zr)" "$zr" "$rr"
echo 1 >$R/reset
echo 1 >$Z/reset
kmsg "end"

ktap_finish
