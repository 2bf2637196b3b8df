#!/usr/bin/env bash
# The program's signal handlers under kmem (preload/signal.c): they never
# run while their thread holds a kmem lock, and nothing else about them
# changes.
#  1. sigaction_compat: sigaction and signal report and behave as under
#     glibc (handler, flags, mask, siginfo, SA_RESETHAND, SIG_IGN/SIG_DFL,
#     refused signals), with deferral on and off.
#  2. signal_defer: real-time signals with values queued to two threads
#     that malloc and free blocks of every kind across each other: every
#     signal arrives once, with its value, in both per-CPU modes; with
#     KMEM_DEFER_SIGNALS=1 (the default) some were held back because
#     their thread held a kmem lock ("signals held ... : N" in the
#     statistics), with 0 none were.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog sigaction_compat
need_prog signal_defer
run_glibc "$tmp/out" "$tmp/err" "$PROGS/sigaction_compat"
grep -q '^sigaction_compat: ok$' "$tmp/out" ||
	{ cat "$tmp/out"; fail "sigaction_compat fails under glibc itself"; }
for d in 1 0; do
	KMEM_DEFER_SIGNALS=$d run_kmem "$tmp/out" "$tmp/err" "$PROGS/sigaction_compat"
	grep -q '^sigaction_compat: ok$' "$tmp/out" ||
		{ cat "$tmp/out"; fail "KMEM_DEFER_SIGNALS=$d: sigaction differs from glibc's"; }
	check_loaded "$tmp/err"
done
note "sigaction and signal behave as under glibc"
secs=${KMEM_TEST_SECONDS:-3}
for mode in $(percpu_modes); do
	for d in 1 0; do
		KMEM_PERCPU=$mode KMEM_DEFER_SIGNALS=$d run_stress kmem \
			$((secs + 60)) "KMEM_PERCPU=$mode KMEM_DEFER_SIGNALS=$d" \
			signal_defer "$PROGS/signal_defer" "$secs"
		held=$(grep -a -m1 '^---- signals held while a kmem lock was: ' "$tmp/err" |
			sed 's/.*: //')
		note "KMEM_PERCPU=$mode KMEM_DEFER_SIGNALS=$d: ${held:-?} signals held back"
		if [ $d = 1 ]; then
			[ "${held:-0}" -ge 1 ] ||
				fail "KMEM_PERCPU=$mode: no signal was held back while a kmem lock was held"
		else
			[ "${held:-1}" = 0 ] ||
				fail "KMEM_PERCPU=$mode: KMEM_DEFER_SIGNALS=0, yet $held signals were held back"
		fi
	done
done
