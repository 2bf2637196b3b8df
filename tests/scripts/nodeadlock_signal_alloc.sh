#!/usr/bin/env bash
# Never deadlock, never corrupt (issue #14): malloc, calloc, realloc and
# free from a 10 kHz timer signal handler (one timer_create timer per
# thread, SIGALRM every 100 us) while 3 threads malloc, calloc, realloc
# and free, each landing anywhere in its own thread's allocator calls;
# every object's contents are checked (fill patterns; calloc's zeroes)
# before it is freed and after it moved (tests/progs/signal_alloc.c).
# A run takes KMEM_TEST_SECONDS per per-CPU mode, default 10 (two halves, below): the 20 s of
# the issue across both modes (CI runs each mode in a stage of its own).
# One still running after 90 s more (KMEM_TEST_WATCHDOG) is a hang:
# "HANG", every thread's stack, failure.  (glibc's malloc deadlocks here
# within a second: it is not async-signal-safe; kmem is, by contract.)
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog signal_alloc
# Each mode runs twice, half the time each: with the handlers held back
# while their thread holds a kmem lock (KMEM_DEFER_SIGNALS=1, the
# default: preload/signal.c) and without (0: a handler that lands on a
# lock holder takes the atomic reserve or defers its free).
secs=$(( ${KMEM_TEST_SECONDS:-10} / 2 ))
[ "$secs" -ge 1 ] || secs=1
dog=$((secs + ${KMEM_TEST_WATCHDOG:-90}))
for run in $(for m in $(percpu_modes); do echo $m:1 $m:0; done); do
	mode=${run%:*} defer=${run#*:}
	KMEM_PERCPU=$mode KMEM_DEFER_SIGNALS=$defer run_stress kmem $dog \
		"KMEM_PERCPU=$mode KMEM_DEFER_SIGNALS=$defer" signal_alloc \
		nice -n 10 "$PROGS/signal_alloc" "$secs" 3
	line=$(grep '^signal_alloc: .*, every block checked, 0 errors$' "$tmp/out") ||
		fail "KMEM_PERCPU=$mode: unexpected output"
	runs=$(echo "$line" | sed -n 's/.*timer: \([0-9]*\) handler runs .*/\1/p')
	intr=$(echo "$line" | sed -n 's/.* handler runs (\([0-9]*\) of them .*/\1/p')
	[ "${runs:-0}" -ge $((secs * 300)) ] ||
		fail "KMEM_PERCPU=$mode: only $runs handler runs in ${secs}s"
	[ "${intr:-0}" -ge 10 ] ||
		fail "KMEM_PERCPU=$mode: only $intr handlers interrupted an allocator call"
done
