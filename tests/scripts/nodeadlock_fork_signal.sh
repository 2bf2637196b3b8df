#!/usr/bin/env bash
# Never deadlock (issue #14): fork from SIGUSR1/SIGUSR2 handlers that
# interrupt malloc, free, realloc and fork.  Three worker threads (malloc/
# free of every size class, batches with realloc, fork in a loop) take a
# signal every few hundred microseconds; both handlers fork (SIGUSR1 may
# interrupt SIGUSR2's fork: nested forks), a handler that interrupted a
# fork() allocates instead (glibc's own atfork lock forbids a fork
# there), and every child mallocs, fills, reallocs, checks and _exits
# (tests/progs/fork_signal.c says more).  A run takes KMEM_TEST_SECONDS
# (default 4) per per-CPU mode; one still running after 90 s more
# (KMEM_TEST_WATCHDOG) is a hang: "HANG", every thread's stack, failure.
#   Before the fix in core/fork.c (a prepare backs off for a waiter of
#   fork_mutex that holds a lock it needs) this hung in every run.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog fork_signal
secs=${KMEM_TEST_SECONDS:-4}
dog=$((secs + ${KMEM_TEST_WATCHDOG:-90}))
for mode in $(percpu_modes); do
	KMEM_PERCPU=$mode run_stress kmem $dog "KMEM_PERCPU=$mode" fork_signal \
		nice -n 10 "$PROGS/fork_signal" "$secs"
	line=$(grep '^fork_signal: .*, 0 fork failures, .*, 0 bad children$' "$tmp/out") ||
		fail "KMEM_PERCPU=$mode: unexpected output"
	usr1=$(echo "$line" | sed -n 's/.* \([0-9]*\) forks from SIGUSR1 and .*/\1/p')
	usr2=$(echo "$line" | sed -n 's/.* and \([0-9]*\) from SIGUSR2 handlers .*/\1/p')
	[ "${usr1:-0}" -ge 5 ] && [ "${usr2:-0}" -ge 5 ] ||
		fail "KMEM_PERCPU=$mode: too few forks from handlers ($usr1, $usr2) in ${secs}s"
done
