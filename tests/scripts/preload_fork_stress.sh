#!/usr/bin/env bash
# 300 forks while 4 threads allocate: no deadlock, every child works.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog fork_stress
run_kmem "$tmp/out" "$tmp/err" "$PROGS/fork_stress" 300 4
rc=$?
cat "$tmp/out" | sed 's/^/  /'
[ $rc = 124 ] && fail "fork stress timed out (deadlock?)"
[ $rc = 0 ] || { grep -v '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' "$tmp/err" | tail -20; fail "fork stress failed (rc $rc)"; }
check_loaded "$tmp/err"
grep -q '^300 forks, 4 threads allocating, 0 bad children$' "$tmp/out" || fail "unexpected output"
