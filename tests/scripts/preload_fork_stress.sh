#!/usr/bin/env bash
# 300 forks while 4 threads allocate: no deadlock, every child works.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog fork_stress
run_stress timeout "$TIMEOUT" "" "fork stress" "$PROGS/fork_stress" 300 4
grep -q '^300 forks, 4 threads allocating, 0 bad children$' "$tmp/out" || fail "unexpected output"
