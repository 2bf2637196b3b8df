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
	KMEM_PERCPU=$mode run_watched_kmem "$dog" "$tmp/out" "$tmp/err" \
		nice -n 10 "$PROGS/fork_storm" 2000 8 4
	rc=$?
	sed "s/^/  KMEM_PERCPU=$mode: /" "$tmp/out"
	[ $rc = 124 ] && fail "KMEM_PERCPU=$mode: fork_storm hung (stacks above)"
	[ $rc = 0 ] || { grep -v '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' "$tmp/err" | tail -20
		fail "KMEM_PERCPU=$mode: fork_storm failed (rc $rc)"; }
	KMEM_PERCPU=$mode check_loaded "$tmp/err"
	grep -q '^fork_storm: 2000 forks by 8 threads while 4 threads allocated (.*), 0 bad children$' \
		"$tmp/out" || fail "KMEM_PERCPU=$mode: unexpected output"
done
