# Memory pressure and the holder process, for helpers/rb_swap.sh and
# rzram_stress.sh (sourced after lib.sh and rb.sh).  The caller sets TMP,
# RB (rbhelper), PRESSURE_MIB, and for holder_cmd HOLDER (the holder's
# pid), its answers in $TMP/hold.out and fd 7 (its commands).

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
swap_used() { awk -v d="$1" '$1 == d { print $4 }' /proc/swaps; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# holder_cmd CMD PREFIX SECS: send CMD to the holder, wait for its answer
# (the first new line starting with PREFIX) and print it; if the holder
# dies first (SIGBUS on a failed swap-in) or does not answer, say so on
# stderr (and dump the blocked tasks to the kernel log), status 1
holder_cmd() {
	local n
	n=$(wc -l <"$TMP/hold.out")
	echo "$1" >&7
	holder_answered() {
		tail -n +$((n + 1)) "$TMP/hold.out" | grep -q "^$1" || ! kill -0 $HOLDER 2>/dev/null
	}
	wait_until "$3" holder_answered "$2"
	if ! tail -n +$((n + 1)) "$TMP/hold.out" | grep -m1 "^$2"; then
		if kill -0 $HOLDER 2>/dev/null; then
			echo "holder: no answer to $1 in $3 s (blocked tasks: see the kernel log)" >&2
			echo w >/proc/sysrq-trigger
		else
			echo "holder died (its exit status follows)" >&2
		fi
		return 1
	fi
}

# memory_short: huge pages reserved for the bulk, then mlocked memory
# (rbhelper balloon) for the rest, until PRESSURE_MIB MiB are available;
# reclaim frees a few MiB more meanwhile, so up to two more balloons top
# it up while more than PRESSURE_MIB + 2 MiB are available.  Sets BALLOON
# (the balloons' pids), MEM_AVAIL (MiB available after) and MEM_SHORT (a
# description for a diag line).
memory_short() {
	local a hp n
	sync
	echo 3 >/proc/sys/vm/drop_caches
	a=$(($(meminfo MemAvailable) / 1024))
	hp=$(((a - PRESSURE_MIB - 16) / 2))
	[ $hp -gt 0 ] || hp=0
	echo $hp >/proc/sys/vm/nr_hugepages
	a=$(($(meminfo MemAvailable) / 1024))
	BALLOON=
	rm -f "$TMP"/balloon.?
	for n in 1 2 3; do
		[ $a -gt $((PRESSURE_MIB + 2)) ] || break
		: >"$TMP/balloon.$n"
		"$RB" balloon $((a - PRESSURE_MIB)) >"$TMP/balloon.$n" 2>&1 &
		BALLOON="$BALLOON $!"
		wait_until 120 grep -q ballooned "$TMP/balloon.$n"
		a=$(($(meminfo MemAvailable) / 1024))
	done
	MEM_AVAIL=$a
	MEM_SHORT="$(cat /proc/sys/vm/nr_hugepages) huge pages reserved, $(cat "$TMP"/balloon.? 2>/dev/null | tr '\n' ' ')MiB mlocked; MemAvailable $a MiB"
}

# memory_release: undo memory_short
memory_release() {
	[ -z "$BALLOON" ] || { kill $BALLOON; wait $BALLOON; }
	rm -f "$TMP"/balloon.?
	BALLOON=
	echo 0 >/proc/sys/vm/nr_hugepages
}
