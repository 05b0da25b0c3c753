# Shared by the rzram_rb_* programs (sourced after lib.sh).
RB=$(dirname "$0")/helpers/rbhelper
P=4096

# rb_sum DEV OFF LEN SEG MIS [direct|buffered] [fail]: sha256 of LEN bytes
# at OFF of DEV, read by one preadv into SEG-byte segments that each start
# MIS bytes into a page (see rbhelper.c); empty if the read failed
rb_sum() {
	local out
	# pipefail: a failed read must not pass as the sum of what came through
	out=$(set -o pipefail; "$RB" read "$@" | sha256sum) || return 1
	echo "${out%% *}"
}
# img_sum FILE OFF LEN: sha256 of LEN bytes at OFF of FILE
img_sum() { tail -c +$(($2 + 1)) "$1" | head -c "$3" | sha256sum | cut -d' ' -f1; }

# dm_set NAME TABLE: (re)load the table of dm device NAME, creating it
dm_set() {
	if dmsetup info "$1" >/dev/null 2>&1; then
		dmsetup suspend "$1" &&
		printf '%s\n' "$2" | dmsetup load "$1" &&
		dmsetup resume "$1"
	else
		printf '%s\n' "$2" | dmsetup create "$1"
	fi
}

# proc_state PID: the state letter of PID (R, S, D, ...), empty if gone
proc_state() {
	local s
	read -r s <"/proc/$1/stat" 2>/dev/null || return 1
	s=${s##*) }
	echo "${s%% *}"
}
# wait_until SECS CMD...: wait (0.2 s steps) until CMD succeeds; status
# 1 if it did not within SECS.  A synchronisation point, not a retry: the
# caller checks the state it waited for.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
in_state_d() { [ "$(proc_state "$1")" = D ]; }

# ---- fault injection (failslab, fail_page_alloc) ----------------------
FI=/sys/kernel/debug
FI_TIMES=1000000
# fi_on PROBABILITY: fail PROBABILITY % of the allocations of tasks with
# make-it-fail set (task-filter), sleeping ones included, order 0 pages
# included, silently (verbose 0: each report would dump a stack into the
# kernel log); times counts down from FI_TIMES with each injected failure
fi_on() {
	local d
	for d in failslab fail_page_alloc; do
		echo 0 >$FI/$d/probability
		echo 0 >$FI/$d/verbose
		echo Y >$FI/$d/task-filter
		echo N >$FI/$d/ignore-gfp-wait
		echo 1 >$FI/$d/interval
		echo 0 >$FI/$d/space
		echo $FI_TIMES >$FI/$d/times
	done
	echo 0 >$FI/fail_page_alloc/min-order
	echo "$1" >$FI/failslab/probability
	echo "$1" >$FI/fail_page_alloc/probability
}
# fi_off: back to the boot defaults
fi_off() {
	local d
	for d in failslab fail_page_alloc; do
		[ -d $FI/$d ] || continue
		echo 0 >$FI/$d/probability
		echo N >$FI/$d/task-filter
		echo Y >$FI/$d/ignore-gfp-wait
		echo 1 >$FI/$d/times
		echo 2 >$FI/$d/verbose
	done
	[ -d $FI/fail_page_alloc ] && echo 1 >$FI/fail_page_alloc/min-order
	return 0
}
# fi_injected NAME: failures NAME (failslab, fail_page_alloc) injected
# since fi_on
fi_injected() { echo $((FI_TIMES - $(cat $FI/$1/times))); }
