#!/usr/bin/env bash
# kmem stat PID on a running preloaded program gives what the program's
# own kmem_stats_print said at the same moment: the same slabinfo,
# buddyinfo, vmallocinfo, per-CPU line and totals (all but the process's
# resident size, which the kernel's figure moves), and says every figure
# is exact.  The program has closed and reused all of its descriptors
# before it is asked.  Also: the answers when nobody can answer.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd python3
need_prog live_grow
kmem=$root/bin/kmem

LD_PRELOAD="$KMEM_LIB" "$PROGS/live_grow" stats "$tmp/self" "$tmp/ready" &
pid=$!
cleanup_hooks+=("kill $pid 2>/dev/null")
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || fail "live_grow did not get ready"
[ -z "$(ls /proc/$pid/fd | grep -v '^[0-9]$')" ] ||
	fail "live_grow still has descriptors above 9: $(ls /proc/$pid/fd)"

BUILD=$BUILD KMEM_LIB=$KMEM_LIB "$kmem" stat $pid >"$tmp/live" 2>"$tmp/err" ||
	{ cat "$tmp/err"; fail "kmem stat $pid"; }
grep -q '^---- exact: ' "$tmp/live" || fail "not exact: $(grep '^---- approx' "$tmp/live")"
# The sections of kmem_stats_print, but the resident size.
body() { sed -n '/^slabinfo - version/,/program.s, live/p' "$1" | grep -v 'resident (process)'; }
body "$tmp/self" >"$tmp/self.body"
body "$tmp/live" >"$tmp/live.body"
[ "$(grep -c kmalloc- "$tmp/self.body")" -ge 40 ] || fail "no slabinfo in kmem_stats_print's output"
grep -q 'pages=768 vmalloc' "$tmp/self.body" || fail "the 3 MiB vmalloc area is missing"
if ! diff -u "$tmp/self.body" "$tmp/live.body" >"$tmp/diff"; then
	head -40 "$tmp/diff"
	fail "kmem stat differs from the program's kmem_stats_print"
fi
note "kmem stat = kmem_stats_print: $(wc -l <"$tmp/live.body") lines identical (resident size aside)"

# A second request on the same process: answered again, process unharmed.
"$kmem" stat $pid >"$tmp/live2" || fail "second kmem stat"
diff -q "$tmp/live.body" <(body "$tmp/live2") >/dev/null || fail "second answer differs"
kill -0 $pid || fail "live_grow died"
# Three askers at once: the signals queue, each gets its own answer.
askers=()
for i in 1 2 3; do "$kmem" stat $pid >"$tmp/par$i" 2>&1 & askers+=($!); done
for a in "${askers[@]}"; do wait "$a" || fail "a concurrent kmem stat failed"; done
for i in 1 2 3; do
	diff -q "$tmp/live.body" <(body "$tmp/par$i") >/dev/null ||
		fail "concurrent request $i: $(tail -2 "$tmp/par$i")"
done
note "three concurrent requests answered alike"

# kill -61 by hand (no sigqueue value) is ignored, not fatal.
kill -61 $pid
sleep 0.2
kill -0 $pid || fail "a plain kill -61 killed the program"
kill $pid; wait $pid 2>/dev/null

# Requests in the middle of a storm of mallocs and frees on 3 threads:
# every one is answered (exact or naming what was busy), none harms it.
LD_PRELOAD="$KMEM_LIB" nice -n 19 "$PROGS/live_grow" storm 60 3 &
storm=$!
cleanup_hooks+=("kill $storm 2>/dev/null")
sleep 0.3
exact=0 approx=0
for i in $(seq 8); do
	"$kmem" stat $storm >"$tmp/storm" 2>"$tmp/err" || { cat "$tmp/err"; fail "kmem stat during the storm ($i)"; }
	if grep -q '^---- exact' "$tmp/storm"; then exact=$((exact + 1))
	elif grep -q '^---- approximate' "$tmp/storm"; then approx=$((approx + 1))
	else fail "answer $i has no exactness line"; fi
	grep -q '^Node 0, zone' "$tmp/storm" || fail "answer $i has no buddyinfo"
done
kill -0 $storm 2>/dev/null || fail "live_grow storm died during the requests"
kill $storm
note "storm: 8 requests answered ($exact exact, $approx approximate), program unharmed"

# The thread that takes the request holds a cache's lock: the answer
# comes (no deadlock), names that cache as approximate, and the rest is
# exact.  (A program linked with libkmem.a, which can take the lock.)
if [ -f "$root/$BUILD/libkmem.a" ]; then
	cc -std=gnu11 -O1 -g -D_GNU_SOURCE -I"$root/include" -I"$root/core" \
		"$root/tests/static/live_static.c" "$root/$BUILD/libkmem.a" \
		-lurcu-bp -lpthread -o "$tmp/live_static" || fail "cannot build live_static"
	"$tmp/live_static" hold "$tmp/held" &
	held=$!
	cleanup_hooks+=("kill $held 2>/dev/null")
	for _ in $(seq 100); do [ -e "$tmp/held" ] && break; sleep 0.1; done
	[ -e "$tmp/held" ] || fail "live_static hold did not get ready"
	timeout 20 "$kmem" stat --force $held >"$tmp/held.out" 2>"$tmp/err" ||
		{ cat "$tmp/err"; fail "kmem stat of a process that holds a cache lock"; }
	grep -q '^---- approximate: kmalloc-64 (locks busy' "$tmp/held.out" ||
		fail "no approximate line for kmalloc-64: $(tail -2 "$tmp/held.out")"
	grep -q '^kmalloc-64 ' "$tmp/held.out" || fail "kmalloc-64's line is missing"
	kill -USR1 $held
	wait $held || fail "live_static hold exited with $?"
	note "a request to a thread holding kmalloc-64's lock: answered, kmalloc-64 marked approximate"
fi

# No answer possible: a program without kmem, and KMEM_SIGNAL=0.
sleep 30 & other=$!
cleanup_hooks+=("kill $other 2>/dev/null")
"$kmem" stat $other >"$tmp/out" 2>"$tmp/err" && fail "kmem stat of a program without kmem succeeded"
grep -q 'not running under kmem' "$tmp/err" || fail "wrong message: $(cat "$tmp/err")"
kill $other
KMEM_SIGNAL=0 LD_PRELOAD="$KMEM_LIB" sleep 30 & off=$!
cleanup_hooks+=("kill $off 2>/dev/null")
sleep 0.3
"$kmem" stat $off >"$tmp/out" 2>"$tmp/err" && fail "kmem stat with KMEM_SIGNAL=0 succeeded"
grep -q 'KMEM_SIGNAL=0' "$tmp/err" || fail "wrong message: $(cat "$tmp/err")"
"$kmem" stat 999999999 2>"$tmp/err" && fail "kmem stat of no process succeeded"
grep -q 'no process' "$tmp/err" || fail "wrong message: $(cat "$tmp/err")"
note "refusals: no kmem, KMEM_SIGNAL=0, no such process"
