#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Recompression (zram 6.12's CONFIG_ZRAM_MULTI_COMP: recomp_algorithm,
# recompress, the per-slot priority, the incompressible flag) against the
# in-tree zram in the same boot, which the test kernel builds with it.
#
# Expected, as zram 6.12:
# - recomp_algorithm: "#P: " and the algorithm list per configured
#   priority; algo= required, priority= 1 to 3 (default 1), else EINVAL;
#   E2BIG for a name of 128 bytes or more, EINVAL for an unknown one,
#   EBUSY once initialised; reset clears it; algorithm_params algo= finds
#   a secondary's priority.
# - recompress: EINVAL before init, for threshold >= the huge class size,
#   for an algo= no secondary at or above priority= has, for a key
#   without a value; ERANGE/EINVAL for bad numbers; EAGAIN while a
#   writeback runs, and a writeback gets EAGAIN while it runs.
# - type=huge recompresses huge pages with the secondaries in priority
#   order: compr_data_size goes down, huge_pages counts only what stays
#   huge, the slots show 'r' in block_state; pages no secondary makes
#   smaller show 'n' and are skipped next time; the incompressible
#   writeback mode writes exactly those; type=idle with threshold= only
#   takes idle objects of at least that size; max_pages= bounds the
#   pages tried; algo= picks one secondary.
# Each step is done on both devices with the same data: mm_stat's
# orig_data_size, same_pages, huge_pages and huge_pages_since exact and
# compr_data_size within 1% (zstd's and deflate's results on the hex
# pages differ by about 9%, so the algorithm used shows), bd_stat and
# block_state's
# index and flag columns must be zram's, and rzram's data must read back
# with the right checksum (O_DIRECT and buffered).
#
# The races, on rzram (zram's per-slot locking is not under test): an
# 8192-page device of hex pages whose first 1024 are written back; the
# recompression of the other 7168 runs while (1) a writeback is
# attempted: EAGAIN, and the recompression is checked to be still
# running after it; (2) a writer rewrites pages 1024 to 4095 from the
# last to the first, so its position crosses the recompression's, which
# walks from the first page up (checked: the recompression started
# before the writer, past the written-back pages, and still runs when
# the writer is done; the 4096 pages after the writer's keep it running
# well after a crossing); (3) a reader reads the written-back pages
# again and again.  Afterwards every page holds its
# last data, the written-back slots are still written back, every other
# slot is either huge or recompressed, and huge_pages equals the 'h'
# slots of block_state.  A recompression started while a writeback waits
# on a suspended backing device gets EAGAIN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/rb.sh"

KO=${RZRAM_KO:-/lib/rzram/rzram.ko}
R=/sys/block/rzram0
Z=/sys/block/zram0
DR=/sys/kernel/debug/rzram/rzram0/block_state
DZ=/sys/kernel/debug/zram/zram0/block_state
BDEV=${RZRAM_SMALL_DEV:-/dev/vdb}
MiB=$((1 << 20))

# recomp_algorithm inputs on an uninitialised device, each result zram's
RA_ERRS=(
	"algo=zstd" "priority=1 algo=zstd" "algo=deflate priority=2"
	"priority=3 algo=lz4hc" "algo=nosuch" "priority=0 algo=zstd"
	"priority=4 algo=zstd" "priority=-1 algo=zstd" "priority=x algo=zstd"
	"algo=" "algo" "priority=2" "foo=bar" "foo=bar algo=842"
	"algo=$(printf 'a%.0s' {1..127})" "algo=$(printf 'a%.0s' {1..128})"
	'algo="zstd"' "algo=zstd algo=lz4" "priority=99999999999 algo=zstd"
)
# recompress inputs on an initialised device (secondaries configured)
RC_ERRS=(
	"type=huge" "type=idle" "type=huge_idle" "type=bogus" "type="
	"max_pages=0" "max_pages=x" "max_pages=-1" "max_pages=18446744073709551616"
	"threshold=4096" "threshold=3000" "threshold=x" "threshold=4294967296"
	"algo=nosuch" "algo=deflate" "priority=0" "priority=9" "priority=x"
	"priority=9 algo=zstd" "priority=2 algo=zstd" "priority=1 algo=deflate"
	"foo=bar" ""
)
ktap_plan $((4 + 6 + ${#RA_ERRS[@]} + 6 + ${#RC_ERRS[@]} + 33 + 9 + 14 + 8 + 4 + 4 + 16))

# hexdata FILE MIB SEED: MIB MiB of pseudo-random hexadecimal digits:
# huge for lzo-rle (no repeats to find), about half a page for zstd and
# deflate
hexdata() { "$RB" hex $(($2 * MiB)) "$3" >"$1"; }

# same_mm DESC: mm_stat of both as in rzram_comp_algos.sh: fields 1, 6, 8
# and 9 exact, compr_data_size within 1%
same_mm() {
	local r z d
	local -a RF ZF
	read -ra RF <"$R/mm_stat"
	read -ra ZF <"$Z/mm_stat"
	r=${RF[1]} z=${ZF[1]}
	d=$((r > z ? r - z : z - r))
	if [ "${RF[0]} ${RF[5]} ${RF[7]} ${RF[8]}" = "${ZF[0]} ${ZF[5]} ${ZF[7]} ${ZF[8]}" ] &&
		[ $((d * 100)) -le "$z" ]; then
		ktap_ok "$1"
		return 0
	fi
	diag "rzram mm_stat: ${RF[*]}"
	diag "zram  mm_stat: ${ZF[*]}"
	ktap_fail "$1"
	return 1
}

# flags FILE: block_state's index and flag columns
flags() { awk '{ print $1, $3 }' "$1"; }
# same_bs DESC: block_state's index and flag columns are zram's
same_bs() {
	cat $DR >"$TMP/bs.r" 2>&1
	cat $DZ >"$TMP/bs.z" 2>&1
	if [ "$(flags "$TMP/bs.r")" = "$(flags "$TMP/bs.z")" ]; then
		ktap_ok "$1"
		return 0
	fi
	diag "first differences (rzram <, zram >):"
	diff <(flags "$TMP/bs.r") <(flags "$TMP/bs.z") | head -n 8 | sed 's/^/#   /'
	ktap_fail "$1"
	return 1
}
# span A B RE: how many slots of index range [A, B) of the last
# block_state read (same_bs) have flags matching RE
span() { flags "$TMP/bs.r" | awk -v a=$1 -v b=$2 -v re="$3" '$1 >= a && $1 < b && $2 ~ re { n++ } END { print n + 0 }'; }
# nflag C [FILE]: how many slots of block_state show flag C
nflag() { flags "${2:-$TMP/bs.r}" | awk -v c="$1" 'index($2, c) { n++ } END { print n + 0 }'; }
# cdsize DIR: compr_data_size
cdsize() { field 2 "$1/mm_stat"; }
# both CMD...: CMD with D set to each device's sysfs directory
both() { local D; for D in $R $Z; do eval "$*" || return 1; done; }
# reads_back DESC FILE MIB: rzram0's first MIB MiB are FILE, O_DIRECT and
# buffered after drop_caches
reads_back() {
	local want
	want=$(sha256 "$2")
	check_eq "$1 (O_DIRECT)" "$want" "$(sha256 /dev/rzram0 "$3")"
	echo 3 >/proc/sys/vm/drop_caches
	check_eq "$1 (buffered)" "$want" \
		"$(dd if=/dev/rzram0 bs=1M count="$3" status=none | sha256sum | cut -d' ' -f1)"
}
# errnos ATTR VALUE...: each VALUE written to both, the results compared
errnos() {
	local a=$1 v zr rr
	shift
	for v in "$@"; do
		wr "$v" $Z/$a; zr=$WR
		wr "$v" $R/$a; rr=$WR
		check_eq "$a '${v:0:40}': zram's result ($zr)" "$zr" "$rr"
	done
}

load_pair
grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug
# a backing device each: halves of the small disk
half=$(($(blockdev --getsz $BDEV) / 2))
dm_set recomp_z "0 $half linear $BDEV 0" && dm_set recomp_r "0 $half linear $BDEV $half"
at_exit "dmsetup resume recomp_r 2>/dev/null; dmsetup remove recomp_r; dmsetup remove recomp_z"

# ---- recomp_algorithm ------------------------------------------------------
kmsg "recomp_algorithm"
check_eq "recomp_algorithm's mode is zram's" "$(stat -c %a $Z/recomp_algorithm)" \
	"$(stat -c %a $R/recomp_algorithm)"
check_eq "recompress's mode is zram's" "$(stat -c %a $Z/recompress)" "$(stat -c %a $R/recompress)"
check_eq "recomp_algorithm reads empty, as zram's" "$(cat $Z/recomp_algorithm)" \
	"$(cat $R/recomp_algorithm)"
errnos recomp_algorithm "${RA_ERRS[@]}"
check_eq "recomp_algorithm after those writes reads as zram's" "$(cat $Z/recomp_algorithm)" \
	"$(cat $R/recomp_algorithm)"
diag "recomp_algorithm: $(cat $R/recomp_algorithm | tr '\n' '|')"
errnos recompress "type=huge"
both 'echo 1 >$D/reset'
check_eq "reset clears recomp_algorithm (both empty)" "|" \
	"$(cat $R/recomp_algorithm)|$(cat $Z/recomp_algorithm)"

# The configuration for the rest: lzo-rle, then zstd (1) and deflate (2).
config() {
	echo "algo=zstd priority=1" >$D/recomp_algorithm &&
		echo "algo=deflate priority=2" >$D/recomp_algorithm &&
		echo "$1" >$D/backing_dev && echo "$2" >$D/disksize
}
check "both: zstd and deflate as secondaries, a backing device, 8 MiB" eval \
	'D=$R config /dev/mapper/recomp_r 8M && D=$Z config /dev/mapper/recomp_z 8M'
errnos recomp_algorithm "algo=zstd" "priority=3 algo=nosuch" "priority=4 algo=zstd"
errnos algorithm_params "algo=deflate level=3" "algo=lz4 level=3"
errnos recompress "${RC_ERRS[@]}"
both 'echo 1 >$D/reset'

# ---- type=huge, then incompressible writeback ------------------------------
# 2 MiB: 256 hex pages (huge, then recompressed), 128 random pages (huge,
# then incompressible), 128 zero pages (same-filled)
kmsg "type=huge"
hexdata "$TMP/hex" 1 1
head -c $((MiB / 2)) /dev/urandom >"$TMP/rand"
head -c $((MiB / 2)) /dev/zero >"$TMP/zero"
cat "$TMP/hex" "$TMP/rand" "$TMP/zero" >"$TMP/img"
check "both configured again, 2 MiB written to each" eval \
	'D=$R config /dev/mapper/recomp_r 8M && D=$Z config /dev/mapper/recomp_z 8M &&
	 dd if="$TMP/img" of=/dev/rzram0 bs=1M oflag=direct status=none &&
	 dd if="$TMP/img" of=/dev/zram0 bs=1M oflag=direct status=none'
before=$(cdsize $R)
check_eq "384 huge pages before" 384 "$(field 8 $R/mm_stat)"
errnos recompress "type=huge"
after=$(cdsize $R)
diag "compr_data_size $before -> $after (zram $(cdsize $Z))"
check "compr_data_size went down" [ "$after" -lt "$before" ]
check_eq "128 huge pages after (the random ones)" 128 "$(field 8 $R/mm_stat)"
same_mm "mm_stat after recompression is zram's"
same_bs "block_state after recompression is zram's"
check_eq "256 slots recompressed ('r')" 256 "$(nflag r)"
check_eq "128 slots incompressible ('n'), all of them huge" "128 128" \
	"$(nflag n) $(flags "$TMP/bs.r" | awk '$2 ~ /h.*n/ { n++ } END { print n + 0 }')"
reads_back "rzram reads the data back after recompression" "$TMP/img" 2
errnos recompress "type=huge"
same_mm "a second type=huge changes nothing (mm_stat is zram's)"
check_eq "... and compr_data_size stays" "$after" "$(cdsize $R)"
# Three new huge pages over zero pages: 400 and 402 hex, 401 random.
hexdata "$TMP/hex2" 1 9
cp "$TMP/img" "$TMP/img2"
put() { dd if="$1" of="$2" bs=4096 skip="$3" seek="$4" count=1 conv=notrunc status=none; }
check "pages 400-402 (hex, random, hex) written to both" eval \
	'put "$TMP/hex2" "$TMP/img2" 0 400 && put "$TMP/rand" "$TMP/img2" 5 401 &&
	 put "$TMP/hex2" "$TMP/img2" 1 402 &&
	 for d in rzram0 zram0; do
		dd if="$TMP/img2" of=/dev/$d bs=4096 skip=400 seek=400 count=3 oflag=direct \
			conv=notrunc status=none || exit 1
	 done'
# max_pages=1: the incompressible slots 256-383 are skipped, so the one
# page tried is 400
errnos recompress "type=huge max_pages=1"
same_bs "type=huge max_pages=1: block_state is zram's"
check_eq "... the incompressible slots were skipped: page 400 recompressed, 402 not" "1 0" \
	"$(span 400 401 r) $(span 402 403 r)"
# priority=1 only (zstd): page 401 fails without being marked (deflate
# was not tried), and the failed attempt uses the budget of 1
errnos recompress "type=huge priority=1 max_pages=1"
same_bs "type=huge priority=1 max_pages=1: block_state is zram's"
check_eq "... page 401 tried and not marked; the budget spent on it: 402 not recompressed" \
	"0 0" "$(span 401 402 '[rn]') $(span 402 403 r)"
errnos recompress "type=huge max_pages=2"
same_bs "type=huge max_pages=2: block_state is zram's"
check_eq "... now 401 is incompressible (both tried) and 402 recompressed" "1 1" \
	"$(span 401 402 n) $(span 402 403 r)"
same_mm "mm_stat is zram's"
errnos writeback "incompressible"
check_eq "incompressible writeback: bd_stat is zram's" "$(cat $Z/bd_stat)" "$(cat $R/bd_stat)"
check_eq "... 129 pages written" 129 "$(field 1 $R/bd_stat)"
same_bs "block_state after the writeback is zram's"
check_eq "the written-back slots are the incompressible ones" "0 128 1" \
	"$(nflag n) $(span 256 384 w) $(span 401 402 w)"
reads_back "rzram reads the data back after the writeback" "$TMP/img2" 2
both 'echo 1 >$D/reset'

# ---- type=idle with a threshold, max_pages, algo= --------------------------
# 2 MiB: 256 pages of the test scripts (about half a page with lzo-rle),
# 256 pages of one repeated line (tiny)
kmsg "type=idle threshold="
# (the test programs in the guest and the kernel log, repeated to 1 MiB)
dmesg >"$TMP/dmesg"
: >"$TMP/text"
while [ "$(stat -c %s "$TMP/text")" -lt $MiB ]; do
	cat "$(dirname "$0")"/*.sh "$TMP/dmesg" >>"$TMP/text"
done
truncate -s $MiB "$TMP/text"
yes "rzram recompression test line" | head -c $MiB >"$TMP/tiny"
cat "$TMP/text" "$TMP/tiny" >"$TMP/img"
check "both configured, the 2 MiB written, idle all, pages 0-63 rewritten" eval \
	'D=$R config /dev/mapper/recomp_r 8M && D=$Z config /dev/mapper/recomp_z 8M &&
	 for d in rzram0 zram0; do
		dd if="$TMP/img" of=/dev/$d bs=1M oflag=direct status=none || exit 1
	 done && both "echo all >\$D/idle" &&
	 for d in rzram0 zram0; do
		dd if="$TMP/img" of=/dev/$d bs=4096 count=64 oflag=direct conv=notrunc status=none || exit 1
	 done'
errnos recompress "type=idle threshold=2000"
same_mm "mm_stat after type=idle threshold=2000 is zram's"
same_bs "block_state after it is zram's"
ntext=$(span 64 256 r)
diag "recompressed: $ntext of the 192 idle text pages, $(nflag r) in all"
check "some idle text pages were recompressed" [ "$ntext" -gt 0 ]
check_eq "rewritten pages (not idle): none recompressed or idle" "0 0" "$(span 0 64 r) $(span 0 64 i)"
check_eq "tiny pages (under the threshold): all still idle, none recompressed" "256 0" \
	"$(span 256 512 i) $(span 256 512 r)"
reads_back "rzram reads the data back" "$TMP/img" 2
both 'echo 1 >$D/reset'

kmsg "max_pages algo="
check "both configured again, 1 MiB of hex pages written" eval \
	'D=$R config /dev/mapper/recomp_r 8M && D=$Z config /dev/mapper/recomp_z 8M &&
	 dd if="$TMP/hex" of=/dev/rzram0 bs=1M oflag=direct status=none &&
	 dd if="$TMP/hex" of=/dev/zram0 bs=1M oflag=direct status=none'
errnos recompress "type=huge max_pages=10 algo=deflate"
same_bs "block_state after max_pages=10 algo=deflate is zram's"
check_eq "exactly 10 slots recompressed, the first ten" "10 9" \
	"$(nflag r) $(flags "$TMP/bs.r" | awk '$2 ~ /r/ { m = $1 } END { print m }')"
same_mm "mm_stat is zram's (the same algorithm)"
errnos recompress "type=huge priority=1"
same_mm "then priority=1 (zstd) for the rest: mm_stat is zram's"
# writeback of recompressed slots: decompressed with their own algorithm
errnos writeback "huge"
check_eq "huge writeback after recompression writes nothing (none is huge)" 0 \
	"$(field 1 $R/bd_stat)"
both 'echo all >$D/idle'
errnos writeback "idle"
check_eq "idle writeback of the recompressed slots: bd_stat is zram's, 256 pages" \
	"$(cat $Z/bd_stat) 256" "$(cat $R/bd_stat) $(field 1 $R/bd_stat)"
same_bs "block_state after it is zram's"
reads_back "rzram reads the data back" "$TMP/hex" 1
both 'echo 1 >$D/reset'

# ---- a secondary with a level and a dictionary (algorithm_params algo=) ----
kmsg "secondary with level and dictionary"
tail -c 65536 "$TMP/text" >"$TMP/dict"
check "both: zstd as the secondary" both 'echo algo=zstd >$D/recomp_algorithm'
errnos algorithm_params "algo=zstd level=9 dict=$TMP/dict"
check "both initialised, 1 MiB of text written, idle all" eval \
	'both "echo 8M >\$D/disksize" &&
	 dd if="$TMP/text" of=/dev/rzram0 bs=1M oflag=direct status=none &&
	 dd if="$TMP/text" of=/dev/zram0 bs=1M oflag=direct status=none &&
	 both "echo all >\$D/idle"'
errnos recompress "type=idle"
same_mm "mm_stat after recompression with zstd level 9 and the dictionary is zram's"
same_bs "block_state after it is zram's"
diag "recompressed: $(nflag r) of 256; compr_data_size $(cdsize $R) (zram $(cdsize $Z))"
reads_back "rzram reads the text back" "$TMP/text" 1
both 'echo 1 >$D/reset'

# ---- a disksize whose compressor fails forgets the algorithms ----------
kmsg "failed disksize"
printf '\x37\xa4\x30\xecnot a zstd dictionary' >"$TMP/baddict"
check "both: zstd, zstd as secondary 1, a malformed zstd dictionary" eval \
	'both "echo zstd >\$D/comp_algorithm && echo algo=zstd >\$D/recomp_algorithm &&
		echo dict=$TMP/baddict >\$D/algorithm_params"'
errnos disksize 1M
check_eq "comp_algorithm after it is zram's (the default again)" \
	"$(cat $Z/comp_algorithm)" "$(cat $R/comp_algorithm)"
check_eq "recomp_algorithm after it is zram's (empty)" \
	"$(cat $Z/recomp_algorithm)|" "$(cat $R/recomp_algorithm)|"
diag "comp_algorithm: $(cat $R/comp_algorithm)"

# ---- reset clears algorithm_params -------------------------------------
kmsg "reset clears algorithm_params"
prep() { echo zstd >$D/comp_algorithm && echo 4M >$D/disksize &&
	dd if="$TMP/text" of=/dev/$1 bs=1M oflag=direct status=none; }
check "zstd level=1 on both, 1 MiB of text" eval \
	'both "echo level=1 >\$D/algorithm_params" && D=$R prep rzram0 && D=$Z prep zram0'
l1=$(cdsize $R)
check "reset, zstd again without parameters, the same text" eval \
	'both "echo 1 >\$D/reset" && D=$R prep rzram0 && D=$Z prep zram0'
dflt=$(cdsize $R)
diag "compr_data_size at level 1: $l1, after reset: $dflt (zram $(cdsize $Z))"
check "the level did not survive the reset (sizes differ)" [ "$l1" != "$dflt" ]
same_mm "and zram, reset the same way, agrees"
both 'echo 1 >$D/reset'

# ---- races (rzram) ---------------------------------------------------------
kmsg "races"
NP=8192 NWB=1024 NW=4096
hexdata "$TMP/race1" 32 2
hexdata "$TMP/race2" 32 3
check "rzram0: 32 MiB of hex pages, the first $NWB written back" eval \
	'D=$R config /dev/mapper/recomp_r 32M &&
	 dd if="$TMP/race1" of=/dev/rzram0 bs=1M oflag=direct status=none &&
	 echo page_indexes=0-$((NWB - 1)) >$R/writeback'
check_eq "$NWB pages written back" $NWB "$(field 1 $R/bd_stat)"
c0=$(cdsize $R)
t0=$SECONDS
( echo type=huge >$R/recompress; echo $? >"$TMP/rc.status" ) &
rp=$!
started() { [ "$(cdsize $R)" -lt "$c0" ]; }
check "the recompression started (compr_data_size went down)" wait_until 60 started
check_wr "a writeback during the recompression: EAGAIN" "Resource temporarily unavailable" \
	"huge" $R/writeback
check "... and the recompression was still running after it" kill -0 $rp
# the reader: the written-back quarter, until the writer is done
want_wb=$(img_sum "$TMP/race1" 0 $((NWB * 4096)))
( n=0; while [ ! -e "$TMP/wdone" ]; do
	[ "$(sha256 /dev/rzram0 $((NWB / 256)))" = "$want_wb" ] || { echo bad >"$TMP/rbad"; break; }
	n=$((n + 1)); sleep 0.2; done; echo $n >"$TMP/reads" ) &
rdp=$!
# the writer: pages NWB to NW-1, 16 at a time from the last
tw=$SECONDS
check "the writer rewrote pages $NWB-$((NW - 1)) while the recompression still ran" eval \
	'"$RB" rwrite /dev/rzram0 "$TMP/race2" $NWB $NW 16 && kill -0 $rp'
diag "the writer took $((SECONDS - tw)) s"
touch "$TMP/wdone"
wait $rdp
wait $rp
diag "recompression took $((SECONDS - t0)) s; the reader read the quarter $(cat "$TMP/reads") times"
check_eq "the recompression succeeded" 0 "$(cat "$TMP/rc.status")"
check "the reader read the written-back data, always right" \
	eval '[ ! -e "$TMP/rbad" ] && [ "$(cat "$TMP/reads")" -gt 0 ]'
{ head -c $((NWB * 4096)) "$TMP/race1"
  head -c $((NW * 4096)) "$TMP/race2" | tail -c +$((NWB * 4096 + 1))
  tail -c +$((NW * 4096 + 1)) "$TMP/race1"; } >"$TMP/race"
reads_back "every page holds its last data" "$TMP/race" 32
cat $DR >"$TMP/bs.r"
check_eq "written back: the first $NWB; the rest huge or recompressed, not both" \
	"$NWB $((NP - NWB))" "$(span 0 $NWB w) $(span $NWB $NP '^[^hr]*[hr][^hr]*$')"
check_eq "huge_pages counts the 'h' slots" "$(nflag h)" "$(field 8 $R/mm_stat)"
check_eq "pages_stored: every page" $((NP * 4096)) "$(field 1 $R/mm_stat)"
# a recompression while a writeback waits on the suspended backing device
check "rewrite 64 pages (huge), suspend the backing device" eval \
	'dd if="$TMP/race1" of=/dev/rzram0 bs=256k count=1 oflag=direct conv=notrunc status=none &&
	 dmsetup suspend recomp_r'
( echo huge >$R/writeback; echo $? >"$TMP/wb.status" ) &
wp=$!
check "the writeback waits on the suspended device" wait_until 30 in_state_d $wp
check_wr "a recompression during it: EAGAIN" "Resource temporarily unavailable" \
	"type=huge" $R/recompress
dmsetup resume recomp_r
wait $wp
check_eq "the writeback then succeeds" 0 "$(cat "$TMP/wb.status")"
echo 1 >$R/reset
kmsg "end"
ktap_finish
