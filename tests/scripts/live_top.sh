#!/usr/bin/env bash
# kmem top PID in a real terminal (tmux): the screen shows the totals,
# the buddy free blocks, the caches with their growth per second while
# the program's caches grow; a key changes the sort; q quits.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd python3 tmux
need_prog live_grow
python3 -c 'import curses' 2>/dev/null || skip "python3 has no curses module"

LD_PRELOAD="$KMEM_LIB" "$PROGS/live_grow" grow 30 &
pid=$!
cleanup_hooks+=("kill $pid 2>/dev/null")
sock="kmem-top-test-$$"
t() { tmux -L "$sock" "$@"; }
cleanup_hooks+=("tmux -L $sock kill-server 2>/dev/null")
sleep 0.5
t -f /dev/null new-session -d -x 150 -y 60 \
	"env BUILD=$BUILD KMEM_LIB=$KMEM_LIB $root/bin/kmem top $pid; echo TOP-EXITED \$?; sleep 30" ||
	skip "tmux cannot start a session here"

screen() { t capture-pane -p -t 0 >"$tmp/screen"; }
# wait_for TEXT: up to 10 s for TEXT on the screen.
wait_for() {
	for _ in $(seq 50); do
		screen
		grep -q -- "$1" "$tmp/screen" && return 0
		sleep 0.2
	done
	cat "$tmp/screen"
	fail "kmem top: '$1' never showed on the screen"
}

wait_for "kmem top - .* pid $pid (live_grow)"
wait_for "GROWTH/s"
sleep 2.5	# two refreshes: a growth figure exists
screen
for want in 'Mem: .* mapped .*resident.* in use' 'per-CPU caches: ' \
	'Buddy free blocks, order     0     1' '^  Normal ' \
	'^kmalloc-64 ' '^kmalloc-1k' 'sorted by memory (slabs)' 'q:quit'; do
	grep -q -- "$want" "$tmp/screen" || { cat "$tmp/screen"; fail "no '$want' on the screen"; }
done
# The caches that grow show a positive growth per second.
grep -E '^kmalloc-(64|1k) ' "$tmp/screen" | grep -q ' +[0-9.]* [KM]iB$' ||
	{ cat "$tmp/screen"; fail "no growth shown for the growing caches"; }
# Sorted by memory: the first cache row has the most memory of all.
first=$(grep -A1 '^CACHE' "$tmp/screen" | tail -1 | awk '{print $1}')
note "first row by memory: $first; $(grep -E '^kmalloc-(64|1k) ' "$tmp/screen" | tr -s ' ' | cut -c1-80 | head -2 | tr '\n' '|')"

t send-keys -t 0 n
wait_for "sorted by name"
sed -n '/^CACHE/,/^$/p' "$tmp/screen" | sed '1d;/^$/d;/sorted by/d' | awk '{print $1}' >"$tmp/names"
[ "$(wc -l <"$tmp/names")" -ge 10 ] || { cat "$tmp/screen"; fail "too few cache rows"; }
python3 -c 'import sys; l=open(sys.argv[1]).read().split(); sys.exit(l != sorted(l))' "$tmp/names" ||
	{ cat "$tmp/screen"; fail "key n: the rows are not sorted by name"; }
t send-keys -t 0 g
wait_for "sorted by growth per second"
t send-keys -t 0 q
wait_for "TOP-EXITED 0"
note "keys n, g changed the sort; q quit with status 0"
