#!/usr/bin/env bash
# tests/run.sh - run the tests of kmem and end with one summary line,
# "N passed, N failed, N skipped", followed by the reason of every skip.
#
#   tests/run.sh                    everything
#   tests/run.sh PATTERN...         only tests whose path contains a pattern
#   tests/run.sh -PATTERN...        leave out tests whose path contains it
#   make test TESTS="PATTERN..."    the same through make
#
# (CI: TESTS="tests/unit/ tests/api/" is the unit and API tests,
# TESTS="-real_gcc -real_python" everything but the two longest programs.)
#
# Each Check binary and each tests/scripts/*.sh script is one test here;
# Check prints its own per-case lines.  A script exits 0 (pass), 77 (skip)
# or anything else (fail).  A skip must say why on stdout, in a line
# "SKIP: reason" (lib/common.sh's skip does); a 77 without one is a
# failure.  A Check case that cannot apply prints "SKIP: case: reason"
# (tests/skip.h) and returns: its binary still passes or fails on the
# other cases, and the case is counted among the skipped.
#
# KMEM_TEST_STRICT=1 (CI's first run): any skip fails the run, since on
# CI's machine every test applies.  No test at all (a pattern that matches
# nothing, a build that is missing) is a failure too.
set -u
BUILD=${BUILD:-build}
export BUILD
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
case $BUILD in
/*) export KMEM_LIB="$BUILD/libkmem.so" ;;
*) export KMEM_LIB="$root/$BUILD/libkmem.so" ;;
esac
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}

want=() unwanted=()
for p in "$@"; do
	case $p in
	-?*) unwanted+=("${p#-}") ;;
	*) want+=("$p") ;;
	esac
done

tests=()
for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/api/test_* tests/scripts/*.sh; do
	[ -e "$t" ] || continue
	if [ ${#want[@]} -gt 0 ]; then
		keep=0
		for p in "${want[@]}"; do case "$t" in *"$p"*) keep=1 ;; esac; done
		[ $keep = 1 ] || continue
	fi
	for p in ${unwanted[@]+"${unwanted[@]}"}; do
		case "$t" in *"$p"*) continue 2 ;; esac
	done
	tests+=("$t")
done

log=$(mktemp "${TMPDIR:-/tmp}/kmem-run.XXXXXX")
trap 'rm -f "$log"' EXIT
pass=0 fail=0 skip=0 failed=() skipped=() skip_names=() skip_whys=()
for t in ${tests[@]+"${tests[@]}"}; do
	echo "=== $t"
	start=$(date +%s)
	if [ "${t%.sh}" != "$t" ]; then
		bash "$t" 2>&1 | tee "$log"
	else
		# The unit and API tests check the layouts of the normal paths
		# (size classes, slab neighbours, page runs, in-place krealloc):
		# a guard sample (KMEM_SAMPLE, one per 32 MiB by default) is
		# their documented exception, so they run unsampled unless the
		# caller sets KMEM_SAMPLE.  death_tests.sh and the preload tests
		# run with the default.
		KMEM_SAMPLE=${KMEM_SAMPLE:-0} "$t" 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	dur=$(( $(date +%s) - start ))
	name=${t##*/}
	if [ $rc = 77 ]; then
		why=$(sed -n 's/^SKIP: //p' "$log" | head -1)
		if [ -n "$why" ]; then
			skip=$((skip + 1)); skipped+=("$name: $why")
			skip_names+=("$name") skip_whys+=("$why")
			echo "--- SKIP $t (${dur}s): $why"
			continue
		fi
		echo "(exit status 77 without a \"SKIP: reason\" line)"
	fi
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); echo "--- PASS $t (${dur}s)"
		# Cases of a Check binary that could not apply here.
		while IFS= read -r line; do
			skip=$((skip + 1)); skipped+=("$name: $line")
			skip_names+=("$name:${line%%: *}")
			skip_whys+=("${line#*: }")
			echo "--- SKIP $t: $line"
		done < <(sed -n 's/^SKIP: //p' "$log")
	else
		fail=$((fail + 1)); failed+=("$t"); echo "--- FAIL $t (rc=$rc, ${dur}s)"
	fi
done
echo
for t in ${failed[@]+"${failed[@]}"}; do echo "failed: $t"; done
for s in ${skipped[@]+"${skipped[@]}"}; do echo "skipped: $s"; done
# The summary line: the skips grouped by reason, "a, b: why; c: why".
summary="$pass passed, $fail failed, $skip skipped"
if [ $skip -gt 0 ]; then
	reasons="" done_whys=()
	for i in "${!skip_whys[@]}"; do
		why=${skip_whys[$i]} names=""
		for d in ${done_whys[@]+"${done_whys[@]}"}; do
			[ "$d" = "$why" ] && continue 2
		done
		done_whys+=("$why")
		for j in "${!skip_whys[@]}"; do
			[ "${skip_whys[$j]}" = "$why" ] &&
				names="$names, ${skip_names[$j]}"
		done
		reasons="$reasons; ${names#, }: $why"
	done
	summary="$summary (${reasons#; })"
fi
echo "$summary"
if [ ${#tests[@]} = 0 ]; then
	echo "no test ran (BUILD=$BUILD, patterns: $*): make tests first?"
	exit 1
fi
if [ "${KMEM_TEST_STRICT:-0}" = 1 ] && [ $skip -gt 0 ]; then
	echo "KMEM_TEST_STRICT=1: $skip skipped, and every test must apply here"
	exit 1
fi
[ $fail = 0 ]
