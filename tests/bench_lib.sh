# SPDX-License-Identifier: GPL-2.0
# Helpers for the benchmark programs (tests/bench_*.sh), which scripts/bench.sh
# runs in one boot of the plain kernel.  Not test programs: they are not in
# TEST_PROGS.  Sourced after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/bench_lib.sh"
#
# Every measurement is one line on the results port,
#	# BENCH {"case":"wb_seed","variant":"zram","rep":1,...}
# (run_guest.sh adds one more "# "), with the raw counter deltas around the
# timed operation; scripts/bench/report.py turns them into the tables.
#
# Environment (kernel command line, see scripts/bench.sh):
#	BENCH_REPS        runs of every variant of every case (5)
#	BENCH_SEED_PAGES  pages of the seed scenario (100001: page 0 plus
#	                  page_indexes=1-100000)
#	BENCH_PAGES       pages of the other writeback and read-back cases (16384)
#	BENCH_RAW_MIB     bytes of each raw-device fio job, MiB (32)
#	BENCH_FIO_IOS     I/Os of each random-read fio job on written-back pages (2048)
#	BENCH_FE_MIB      bytes of each front-end fio job, MiB (8)
#	BENCH_SWAP_MIB    memory the swap-in case pushes out past free memory, MiB (32)

BT=/lib/rzram/benchtool
P=/sys/module/rzram/parameters
BDISK=${RZRAM_BACKING_DEV:-/dev/vda}
BNAME=${BDISK#/dev/}
W=/tmp/bench            # tmpfs; shared by the programs of one boot
mkdir -p $W
REPS=${BENCH_REPS:-5}
SEED_PAGES=${BENCH_SEED_PAGES:-100001}
NPAGES=${BENCH_PAGES:-16384}
NPAGES=$(((NPAGES + 255) / 256 * 256))   # whole MiB for the dd reads
RAW_MIB=${BENCH_RAW_MIB:-32}
FIO_IOS=${BENCH_FIO_IOS:-2048}
FE_MIB=${BENCH_FE_MIB:-8}
SWAP_MIB=${BENCH_SWAP_MIB:-32}
BENCH_FAILS=0

# ---- output ------------------------------------------------------------

# emit KEY VAL...: one BENCH record.  Numbers are written as numbers,
# values starting with { or [ as JSON (fio's output), the rest as strings.
emit() {
	local out="" k v
	while [ $# -ge 2 ]; do
		k=$1 v=$2
		shift 2
		if [[ $v =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$ ]]; then
			out+=",\"$k\":$v"
		elif [[ $v == \{* || $v == \[* ]]; then
			out+=",\"$k\":$v"
		else
			v=${v//\\/\\\\}
			out+=",\"$k\":\"${v//\"/\\\"}\""
		fi
	done
	echo "# BENCH {${out#,}}"
}

# bench_fail MSG: a failed sample (wrong data, failed command); the
# section's KTAP case fails and report.py refuses the results
bench_fail() {
	BENCH_FAILS=$((BENCH_FAILS + 1))
	diag "BENCH-FAIL: $*"
	emit case failure msg "$*"
}

# section NAME CMD...: run one case (a shell function) as one KTAP case
section() {
	local name=$1 before=$BENCH_FAILS t0=${EPOCHREALTIME/./}
	shift
	kmsg "bench section $name"
	diag "section $name: start (uptime $(cut -d' ' -f1 /proc/uptime))"
	"$@"
	local secs=$(((${EPOCHREALTIME/./} - t0) / 1000000))
	emit case section name "$name" secs $secs
	if [ $BENCH_FAILS -eq $before ]; then
		ktap_ok "$name (${secs}s)"
	else
		ktap_fail "$name: $((BENCH_FAILS - before)) failed samples (${secs}s)"
	fi
}

# ---- counters ----------------------------------------------------------

# snap ARRAY [SYSDIR]: counters now, into the associative array ARRAY:
# the backing disk's /sys/block/X/stat, /proc/stat's cpu line and ctxt,
# and SYSDIR's bd_stat.  No forks (this guest is slow).
snap() {
	local -n _s=$1
	local dir=${2:-} a
	read -r -a a </sys/block/$BNAME/stat
	_s[r_ios]=${a[0]} _s[r_merges]=${a[1]} _s[r_sect]=${a[2]}
	_s[w_ios]=${a[4]} _s[w_merges]=${a[5]} _s[w_sect]=${a[6]}
	while read -r -a a; do
		case ${a[0]} in
		cpu) _s[user]=$((a[1] + a[2])) _s[sys]=${a[3]} _s[idle]=${a[4]} \
			_s[iowait]=${a[5]} _s[irq]=$((a[6] + a[7])) ;;
		ctxt) _s[ctxt]=${a[1]} ;;
		esac
	done </proc/stat
	_s[bd_count]=0 _s[bd_reads]=0 _s[bd_writes]=0
	if [ -n "$dir" ] && [ -r "$dir/bd_stat" ]; then
		read -r _s[bd_count] _s[bd_reads] _s[bd_writes] <"$dir/bd_stat"
	fi
}

declare -A S0 S1
# m_begin [SYSDIR]: start a measurement
m_begin() {
	M_DIR=${1:-}
	snap S0 "$M_DIR"
	M_T0=${EPOCHREALTIME/./}
}
# m_end KEY VAL...: end it and emit the record: usec, the deltas (disk
# I/Os, merges, sectors; cpu ticks of USER_HZ=100 summed over CPUs; context
# switches; bd_stat in pages) and the caller's fields
m_end() {
	local t1=${EPOCHREALTIME/./} k f=()
	snap S1 "$M_DIR"
	for k in r_ios r_merges r_sect w_ios w_merges w_sect user sys irq idle iowait ctxt bd_reads bd_writes; do
		f+=("d_$k" $((S1[$k] - S0[$k])))
	done
	emit "$@" usec $((t1 - M_T0)) "${f[@]}" bd_count "${S1[bd_count]}"
}

# ---- devices -----------------------------------------------------------

load_modules() {
	modprobe zsmalloc 2>/dev/null
	[ -e /sys/module/zram ] || modprobe zram num_devices=1 || ktap_abort "no zram"
	at_exit "[ ! -e /sys/module/zram ] || rmmod zram"
	[ -e /sys/module/rzram ] || insmod /lib/rzram/rzram.ko ${RZRAM_MODARGS:-} || ktap_abort "no rzram"
	at_exit "[ ! -e /sys/module/rzram ] || rmmod rzram"
	[ -b /dev/zram0 ] && [ -b /dev/rzram0 ] || ktap_abort "no /dev/zram0 or /dev/rzram0"
	# The design knobs (module parameters writable at run time) and their
	# defaults.  rb_chain and wb_bio_pages are newer than some versions of
	# the module: without them, their variants are skipped.
	local f
	KNOB_DEFAULT=()
	for f in $P/*; do
		case $(stat -c %A "$f") in ?rw*) KNOB_DEFAULT[${f##*/}]=$(cat "$f") ;; esac
	done
	HAVE_RB_CHAIN=0
	[ -e $P/rb_chain ] && HAVE_RB_CHAIN=1
	HAVE_BIO_PAGES=0
	[ -e $P/wb_bio_pages ] && HAVE_BIO_PAGES=1
	variant_knobs rzram
}

declare -A KNOB_DEFAULT
HAVE_RB_CHAIN=0
HAVE_BIO_PAGES=0
# variant_knobs VARIANT: rzram's knobs for a variant name, all at their
# defaults but those the name turns off: noplug (wb_plug=0), nocontig
# (wb_contig=0), bio1 (wb_bio_pages=1: one bio per page), rbold
# (rb_chain=0: reads of written-back pages through the worker)
variant_knobs() {
	local k
	for k in "${!KNOB_DEFAULT[@]}"; do
		echo "${KNOB_DEFAULT[$k]}" >$P/$k
	done
	case $1 in *noplug*) echo 0 >$P/wb_plug ;; esac
	case $1 in *nocontig*) echo 0 >$P/wb_contig ;; esac
	case $1 in *bio1*) [ $HAVE_BIO_PAGES = 1 ] && echo 1 >$P/wb_bio_pages ;; esac
	case $1 in *rbold*) [ $HAVE_RB_CHAIN = 1 ] && echo 0 >$P/rb_chain ;; esac
	return 0
}

# dev_of VARIANT: zram0 or rzram0
dev_of() { case $1 in zram*) echo zram0 ;; raw*) echo "$BNAME" ;; *) echo rzram0 ;; esac; }

# setup DEV [BACKING]: a fresh device, 1 GiB, lzo-rle (both defaults),
# backing device BACKING (default the backing disk; "none" for none)
setup() {
	local dev=$1 bk=${2:-$BDISK} s=/sys/block/$1
	echo 1 >$s/reset 2>/dev/null
	[ "$bk" = none ] || echo "$bk" >$s/backing_dev || { bench_fail "$dev: backing_dev"; return 1; }
	echo 1G >$s/disksize || { bench_fail "$dev: disksize"; return 1; }
}
reset_dev() { echo 1 >/sys/block/$1/reset; }

# ---- data --------------------------------------------------------------

# data KIND PAGES [SEED]: sets DATA to a dataset file in tmpfs, made once
data() {
	DATA=$W/$1-$2-${3:-1}.img
	[ -f "$DATA" ] || $BT gen "$DATA" "$2" "$1" "${3:-1}" || { bench_fail "gen $DATA"; return 1; }
}

# fill DEV FILE: write FILE to the device with O_DIRECT
fill() { dd if="$2" of="/dev/$1" bs=1M oflag=direct status=none; }

# verify DEV FILE PAGES WHAT: the first PAGES pages of DEV must equal FILE
verify() {
	local n=$(($3 * 4096))
	if ! dd if="/dev/$1" bs=1M iflag=direct count=$(((n + (1 << 20) - 1) >> 20)) status=none |
		cmp -s -n $n - "$2"; then
		bench_fail "$4: /dev/$1 differs from $2 (first $3 pages)"
		return 1
	fi
}

# cmp_file GOT WANT PAGES WHAT
cmp_file() {
	if ! cmp -s -n $(($3 * 4096)) "$1" "$2"; then
		bench_fail "$4: $1 differs from $2"
		return 1
	fi
}

# prefill: write the whole backing disk once, before any timed case, so
# host-side allocation of the image does not penalise whichever variant
# touches a block first
prefill() {
	[ -f $W/prefilled ] && return 0
	local sect
	read -r sect </sys/block/$BNAME/size
	m_begin
	dd if=/dev/zero of=$BDISK bs=1M count=$((sect >> 11)) oflag=direct status=none ||
		bench_fail "prefill of $BDISK"
	m_end case prefill variant raw rep 1 bytes $((sect * 512))
	: >$W/prefilled
}

# wb_cmd VARIANT PAGES: the writeback command of a variant for PAGES pages
# written from page 0 (the seed's: zram 6.12 "huge", rzram page_indexes)
wb_cmd() {
	case $1 in
	zram*) echo huge ;;
	*huge*) echo huge ;;
	*) echo "page_indexes=0-$(($2 - 1))" ;;
	esac
}

# writeback DEV CMD: write CMD to DEV's writeback; fails the sample on error
writeback() {
	if ! echo "$2" >/sys/block/$1/writeback; then
		bench_fail "$1: writeback '$2' failed"
		return 1
	fi
}

# bench_init: modules, workspace, prefill
bench_init() {
	load_modules
	prefill
	diag "reps=$REPS seed_pages=$SEED_PAGES pages=$NPAGES raw_mib=$RAW_MIB fio_ios=$FIO_IOS fe_mib=$FE_MIB swap_mib=$SWAP_MIB rb_chain=$HAVE_RB_CHAIN wb_bio_pages=$HAVE_BIO_PAGES"
	emit case config reps $REPS seed_pages $SEED_PAGES pages $NPAGES raw_mib $RAW_MIB \
		fio_ios $FIO_IOS fe_mib $FE_MIB swap_mib $SWAP_MIB have_rb_chain $HAVE_RB_CHAIN \
		have_bio_pages $HAVE_BIO_PAGES \
		kernel "$(uname -r)" cpus "$(nproc)" mem_kib "$(awk '/MemTotal/ {print $2}' /proc/meminfo)" \
		disk "$BNAME" disk_bytes $(($(cat /sys/block/$BNAME/size) * 512)) \
		params "$(cd $P && for f in *; do printf '%s=%s ' "$f" "$(cat $f)"; done)"
}

# fio_run ARGS...: run fio with JSON output; sets FIO to the JSON on one
# line ({} when fio failed, and the sample fails)
fio_run() {
	FIO='{}'
	if ! fio --output-format=json "$@" >$W/fio.out 2>$W/fio.err; then
		bench_fail "fio $* failed: $(head -c 300 $W/fio.err)"
		return 1
	fi
	FIO=$(tr -d '\n\t' <$W/fio.out)
	# drop anything before the JSON (fio may print notes first)
	FIO=${FIO#"${FIO%%\{*}"}
}
