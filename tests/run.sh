#!/usr/bin/env bash
# tests/run.sh - run every test of kmem and end with "N passed, N failed".
#
#   tests/run.sh              everything
#   tests/run.sh PATTERN...   only tests whose path contains a pattern
#
# Each Check binary and each tests/scripts/*.sh script is one test here;
# Check prints its own per-case lines.  A script exits 0 (pass), 77 (skip,
# with a reason on stdout) or anything else (fail).
set -u
BUILD=${BUILD:-build}
export BUILD
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export KMEM_LIB="$root/$BUILD/libkmem.so"
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}

tests=()
for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/api/test_* tests/scripts/*.sh; do
	[ -e "$t" ] || continue
	if [ $# -gt 0 ]; then
		keep=0
		for p in "$@"; do case "$t" in *"$p"*) keep=1 ;; esac; done
		[ $keep = 1 ] || continue
	fi
	tests+=("$t")
done

pass=0 fail=0 skip=0 failed=()
for t in "${tests[@]}"; do
	echo "=== $t"
	start=$(date +%s)
	if [ "${t%.sh}" != "$t" ]; then
		bash "$t"
	else
		"$t"
	fi
	rc=$?
	dur=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); echo "--- PASS $t (${dur}s)"
	elif [ $rc = 77 ]; then
		skip=$((skip + 1)); echo "--- SKIP $t (${dur}s)"
	else
		fail=$((fail + 1)); failed+=("$t"); echo "--- FAIL $t (rc=$rc, ${dur}s)"
	fi
done
echo
for t in "${failed[@]}"; do echo "failed: $t"; done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
