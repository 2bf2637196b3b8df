#!/usr/bin/env bash
# CPython's own regression tests, unmodified, under kmem and under glibc.
. "$(dirname "$0")/lib/common.sh"
need_lib
PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "Debian's python3.11 is not installed (make deps)"
"$PY" -c 'import test.test_dict' 2>/dev/null ||
	skip "libpython3.11-testsuite is not installed (make deps)"

TESTS="test_dict test_list test_set test_unicode test_json test_threading
test_gc test_re test_collections test_bytes test_struct test_itertools
test_sort test_string test_weakref test_deque"
# -j2: two worker processes (each a fresh interpreter under kmem).
args=(-m test -j2 --timeout 240 $TESTS)

run_glibc "$tmp/g.out" "$tmp/g.err" "$PY" "${args[@]}"
grc=$?
# regrtest's workers report through their output: no KMEM_STATS there.
# That the same environment loads kmem is checked first, then the
# statistics of a short run.
LD_PRELOAD="$KMEM_LIB" "$PY" -c 'print(open("/proc/self/maps").read())' |
	grep -q libkmem || fail "libkmem.so is not mapped in python3.11"
short='import json; print(len(json.dumps(list(range(100000)))))'
run_kmem "$tmp/s.out" "$tmp/s.err" "$PY" -c "$short" ||
	{ tail -20 "$tmp/s.err"; fail "the short python3.11 run failed under kmem"; }
check_loaded "$tmp/s.err"
[ "$(cat "$tmp/s.out")" = 688890 ] ||
	fail "the short run printed \"$(head -c 100 "$tmp/s.out")\", not 688890"
run_kmem_quiet "$tmp/k.out" "$tmp/k.err" "$PY" "${args[@]}"
krc=$?
grep -E '^(All )?[0-9]+ tests? (OK|failed)|Tests result' "$tmp/k.out" | sed 's/^/  kmem: /'
[ $grc = 0 ] || note "glibc run failed too (rc=$grc): $(grep -E 'Tests result' "$tmp/g.out")"
if [ $krc != $grc ]; then
	tail -40 "$tmp/k.out"
	tail -20 "$tmp/k.err"
	fail "python regression tests: rc $krc under kmem, $grc under glibc"
fi
# The same tests pass (and the same fail, if any) under both.
grep -E '^[0-9]+:[0-9]+:[0-9]+ .*\] test_[a-z_]+ (passed|failed)' "$tmp/g.out" |
	sed -E 's/.*\] (test_[a-z_]+) (passed|failed).*/\1 \2/' | sort >"$tmp/g.res"
grep -E '^[0-9]+:[0-9]+:[0-9]+ .*\] test_[a-z_]+ (passed|failed)' "$tmp/k.out" |
	sed -E 's/.*\] (test_[a-z_]+) (passed|failed).*/\1 \2/' | sort >"$tmp/k.res"
[ "$(wc -l <"$tmp/k.res")" -ge 16 ] || { cat "$tmp/k.out"; fail "fewer than 16 test results"; }
same "$tmp/g.res" "$tmp/k.res" "per-test results"
