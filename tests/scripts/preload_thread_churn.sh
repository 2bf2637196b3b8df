#!/usr/bin/env bash
# 2000 iterations of threads that start, allocate and exit: the heap and
# the RSS must not grow (thread caches go back when threads exit).
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog thread_churn
for mode in auto thread; do
	KMEM_PERCPU=$mode run_kmem "$tmp/out" "$tmp/err" "$PROGS/thread_churn" 2000
	rc=$?
	sed "s/^/  KMEM_PERCPU=$mode: /" "$tmp/out"
	[ $rc = 0 ] || { tail -5 "$tmp/err"; fail "thread churn (KMEM_PERCPU=$mode, rc $rc)"; }
	KMEM_PERCPU=$mode check_loaded "$tmp/err"
done
