#!/usr/bin/env bash
# Never deadlock (issue #14): kmalloc(GFP_ATOMIC) and GFP_NOWAIT from
# signal handlers, in a program linked with the core alone
# (build/libkmem-core.a: tests/static/atomic_signal.c, built by
# tests/tests.mk).  First two threads kmalloc/vmalloc/alloc_pages with
# checked contents under a 10 kHz timer each, whose handler kmallocs and
# kfrees with GFP_ATOMIC and GFP_NOWAIT (never NULL there); then a handler
# that interrupted a thread holding every kmem lock (as a fork's prepare
# does) uses the atomic reserve up and must get a clear NULL (ENOMEM),
# a freed block serves again, and nothing is left in use; last, 200 ms
# of kmalloc(GFP_KERNEL)/kfree in a handler over a holder of every lock
# (each lock its own thread's: the reserve serves).  Once per
# per-CPU mode, KMEM_TEST_SECONDS (default 2) of the first part; one still
# running after 90 s more (KMEM_TEST_WATCHDOG) is a hang: "HANG", every
# thread's stack, failure.
. "$(dirname "$0")/lib/common.sh"
prog=$builddir/tests/static/atomic_signal
[ -x "$prog" ] || fail "$prog missing (make tests)"
secs=${KMEM_TEST_SECONDS:-2}
dog=$((secs + ${KMEM_TEST_WATCHDOG:-90}))
for mode in $(percpu_modes); do
	KMEM_PERCPU=$mode run_stress core $dog "KMEM_PERCPU=$mode" atomic_signal \
		env KMEM_PERCPU=$mode nice -n 10 "$prog" "$secs"
	grep -q "^atomic_signal: per-CPU mode $mode " "$tmp/out" ||
		fail "KMEM_PERCPU=$mode, but: $(grep 'per-CPU mode' "$tmp/out")"
	grep -q '^atomic_signal: stress: .*, 0 NULL; ' "$tmp/out" ||
		fail "KMEM_PERCPU=$mode: no stress summary"
	grep -q '^atomic_signal: exhaustion: .* then NULL (errno 12 and 12), .* a freed block served again; after: 0 bytes in use$' \
		"$tmp/out" || fail "KMEM_PERCPU=$mode: no exhaustion summary"
	# Part 3: GFP_KERNEL in a handler over a holder of every lock, with
	# no purge thread (allocation paths purge themselves); its per-CPU
	# mode line was shown by the first part's.
	run_stress -x 'per-CPU mode' core $dog "KMEM_PERCPU=$mode" \
		"atomic_signal held" env KMEM_PERCPU=$mode KMEM_PURGE_THREAD=0 \
		KMEM_PURGE_DELAY_MS=40 nice -n 10 "$prog" held
	grep -q '^atomic_signal: held: .*, all served and intact; 0 bytes of the reserve in use after$' \
		"$tmp/out" || fail "KMEM_PERCPU=$mode: no summary of part 3"
done
