#!/usr/bin/env bash
# Never deadlock (issue #14), the child's stdio: children forked by a
# single-threaded process and by one with a thread alive start a thread
# that calls fflush(NULL) and fopen, and fork again, 3 generations deep,
# 50 rounds (tests/progs/fork_child_stdio.c).  glibc resets its stdio
# list lock in the child only after a multi-threaded fork; a kmem that
# left it taken after the other kind hung there (glibc's
# malloc/tst-malloc-fork-deadlock).  Once per per-CPU mode, a few seconds
# each; one still running after 60 s (KMEM_TEST_WATCHDOG) is a hang:
# "HANG", every thread's stack, failure.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog fork_child_stdio
dog=${KMEM_TEST_WATCHDOG:-60}
for mode in $(percpu_modes); do
	KMEM_PERCPU=$mode run_stress kmem "$dog" "KMEM_PERCPU=$mode" fork_child_stdio \
		"$PROGS/fork_child_stdio" 50 3
	grep -q '^fork_child_stdio: 50 rounds of 3 generations, 0 bad children$' \
		"$tmp/out" || fail "KMEM_PERCPU=$mode: unexpected output"
done
