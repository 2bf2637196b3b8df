#!/usr/bin/env bash
# Never deadlock (issue #14): 8 threads fork at once, 2,000 forks in all,
# while 4 threads malloc/realloc/free with checked contents; each child
# mallocs and frees one block and _exits (tests/progs/fork_storm.c).
# Once per per-CPU mode, about 8 s each; one still running after 120 s
# (KMEM_TEST_WATCHDOG) is a hang: "HANG", every thread's stack, failure.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog fork_storm
dog=${KMEM_TEST_WATCHDOG:-120}
for mode in $(percpu_modes); do
	KMEM_PERCPU=$mode run_stress kmem "$dog" "KMEM_PERCPU=$mode" fork_storm \
		nice -n 10 "$PROGS/fork_storm" 2000 8 4
	grep -q '^fork_storm: 2000 forks by 8 threads while 4 threads allocated (.*), 0 bad children$' \
		"$tmp/out" || fail "KMEM_PERCPU=$mode: unexpected output"
done
