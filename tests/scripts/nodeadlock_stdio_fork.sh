#!/usr/bin/env bash
# Never deadlock (issue #14), the stdio cycle: 4 threads fork while 8
# threads getline() 50,000-byte lines (glibc mallocs with the FILE
# locked), one calls fflush(NULL) in a loop (the stdio list lock, then
# each FILE's) and two malloc/realloc/free; every child mallocs, checks
# and _exits.  tests/progs/stdio_fork.c says more.  A run takes
# KMEM_TEST_SECONDS (default 5) per per-CPU mode; one still running
# after 90 s more (KMEM_TEST_WATCHDOG) is a hang: "HANG", every thread's stack, failure.
#   KMEM_LIB=/tmp/old/build/libkmem.so: an older kmem, which hangs here.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog stdio_fork
secs=${KMEM_TEST_SECONDS:-5}
dog=$((secs + ${KMEM_TEST_WATCHDOG:-90}))
for mode in $(percpu_modes); do
	KMEM_PERCPU=$mode run_stress kmem $dog "KMEM_PERCPU=$mode" stdio_fork \
		nice -n 10 "$PROGS/stdio_fork" "$secs" 4 8
	forks=$(sed -n 's/^stdio_fork: \([0-9]*\) forks .*, 0 bad children$/\1/p' "$tmp/out")
	[ -n "$forks" ] || fail "KMEM_PERCPU=$mode: unexpected output"
	[ "$forks" -ge 20 ] || fail "KMEM_PERCPU=$mode: only $forks forks in ${secs}s"
done
