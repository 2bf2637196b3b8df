# tests/scripts/lib/common.sh - sourced by the preload test scripts.
#
# Conventions: exit 0 pass, 77 skip (with the reason on stdout in a line
# "SKIP: reason", which skip() prints; tests/run.sh shows it), else
# fail.  fail() ends the script: never call it inside $(...), where it
# would only end the subshell.  Every real program runs twice, once with glibc's malloc and once
# with kmem's (LD_PRELOAD=$KMEM_LIB), under `timeout`, and the results are
# compared; the kmem run also proves that kmem was loaded (KMEM_STATS=1
# output on its stderr).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) builddir=$BUILD ;;
*) builddir=$root/$BUILD ;;
esac
KMEM_LIB=${KMEM_LIB:-$builddir/libkmem.so}
PROGS=$builddir/tests/progs
TIMEOUT=${KMEM_TEST_TIMEOUT:-300}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "  $*"; }

need_lib() {
	[ -f "$KMEM_LIB" ] || fail "$KMEM_LIB missing (make lib)"
	# Under AddressSanitizer the sanitizer owns malloc: no preload tests.
	if nm -D "$KMEM_LIB" 2>/dev/null | grep -q '__asan_init\|__tsan_init'; then
		skip "sanitizer build: the sanitizer owns malloc, preload not tested"
	fi
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			skip "$c is not installed (make deps installs it)"
	done
}

need_prog() {	# a helper from tests/progs/
	[ -x "$PROGS/$1" ] || fail "$PROGS/$1 missing (make tests)"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmem-test.XXXXXX")
cleanup_hooks=()
cleanup() {
	local h
	for h in "${cleanup_hooks[@]}"; do eval "$h"; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# run_glibc OUT ERR CMD...: run CMD with glibc's malloc; returns its status.
run_glibc() {
	local out=$1 err=$2
	shift 2
	env -u LD_PRELOAD -u KMEM_STATS timeout "$TIMEOUT" "$@" >"$out" 2>"$err"
}

# run_kmem OUT ERR CMD...: the same with kmem preloaded and KMEM_STATS=1.
run_kmem() {
	local out=$1 err=$2
	shift 2
	LD_PRELOAD="$KMEM_LIB" KMEM_STATS=1 timeout "$TIMEOUT" "$@" >"$out" 2>"$err"
}

# run_kmem_quiet OUT ERR CMD...: kmem preloaded, no statistics (for
# programs whose children's stderr is parsed, such as CPython's regrtest).
run_kmem_quiet() {
	local out=$1 err=$2
	shift 2
	env -u KMEM_STATS LD_PRELOAD="$KMEM_LIB" timeout "$TIMEOUT" "$@" >"$out" 2>"$err"
}

# check_loaded ERR: kmem's exit statistics must be in ERR, and when
# KMEM_PERCPU names a mode (CI's runs: rseq, thread, off), every process
# must have run in that mode.
check_loaded() {
	local n other
	n=$(grep -c '^==== kmem statistics' "$1" || true)
	[ "$n" -ge 1 ] || { tail -20 "$1"; fail "kmem was not loaded (no statistics in $1)"; }
	case ${KMEM_PERCPU:-auto} in
	rseq | thread | off)
		other=$(grep '^---- per-cpu caches: ' "$1" |
			grep -v "^---- per-cpu caches: $KMEM_PERCPU" | head -1)
		[ -z "$other" ] ||
			fail "KMEM_PERCPU=$KMEM_PERCPU, but a process ran with: ${other#---- }"
		;;
	esac
	note "kmem statistics printed by $n process(es)"
}

# show_totals ERR: the last process's totals, for the log.
show_totals() {
	grep -A4 '^---- totals' "$1" | tail -5 | sed 's/^/  /'
}

# same OUT1 OUT2 WHAT: identical files or a failure with the diff.
same() {
	if ! cmp -s "$1" "$2"; then
		diff -u "$1" "$2" | head -40
		fail "$3 differs between glibc and kmem"
	fi
	note "$3: identical under glibc and kmem ($(wc -c <"$1") bytes)"
}

# ---- watchdog: a hang is a failure, shown with every thread's stack ----

# descendants PID: the pids of every process below PID, parents first.
descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# backtraces PID...: every thread's stack in each process, by gdb (at most
# KMEM_TEST_GDB_MAX processes, default 6), or a note that gdb is missing.
backtraces() {
	local p n=0
	if ! command -v gdb >/dev/null 2>&1; then
		note "(gdb is not installed: no backtraces)"
		return
	fi
	for p in "$@"; do
		n=$((n + 1))
		if [ $n -gt "${KMEM_TEST_GDB_MAX:-6}" ]; then
			note "($(($# - n + 1)) more processes not shown)"
			break
		fi
		echo "---- gdb -batch -ex 'thread apply all bt' -p $p:" \
			"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)"
		timeout 120 gdb -batch -nx -ex 'set pagination off' \
			-ex 'thread apply all bt' -p "$p" </dev/null 2>&1 |
			grep -v '^\[New LWP\|^\[Thread debugging\|^Using host libthread_db\|^$'
	done
}

# run_watched SECS OUT ERR CMD...: run CMD (as it is: put env LD_PRELOAD=...
# in it, or use run_watched_kmem) with stdout in OUT and stderr in ERR.
# If it has not ended after SECS seconds, print "HANG: ...", the last
# lines it wrote, the stacks of every thread of it and of every process
# below it (its forked children), kill them all and return 124.  Else
# CMD's status.  SECS must be generous (several times a normal run on a
# loaded 2-core machine): only a real hang may reach it.
run_watched() {
	local secs=$1 out=$2 err=$3 pid dog done_pid rc pids
	shift 3
	"$@" >"$out" 2>"$err" &
	pid=$!
	sleep "$secs" &
	dog=$!
	wait -n -p done_pid "$pid" "$dog"
	rc=$?
	if [ "${done_pid:-}" = "$pid" ]; then
		kill "$dog" 2>/dev/null
		wait "$dog" 2>/dev/null
		return $rc
	fi
	pids="$pid $(descendants "$pid" | tr '\n' ' ')"
	echo "HANG: still running after ${secs}s: $*"
	echo "HANG: processes (pid, then its descendants): $pids"
	echo "---- last lines of stdout:"
	tail -5 "$out"
	echo "---- last lines of stderr:"
	tail -10 "$err"
	# shellcheck disable=SC2086
	backtraces $pids
	# shellcheck disable=SC2086
	kill -KILL $pids $(descendants "$pid") 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

# run_watched_kmem SECS OUT ERR CMD...: run_watched with kmem preloaded
# and its statistics at exit (KMEM_STATS=1, for check_loaded).
run_watched_kmem() {
	local secs=$1 out=$2 err=$3
	shift 3
	run_watched "$secs" "$out" "$err" env LD_PRELOAD="$KMEM_LIB" \
		KMEM_STATS=1 "$@"
}

# percpu_modes: the per-CPU modes a stress test runs in, KMEM_PERCPU's if
# it names one (CI runs the suite once per mode), else rseq and thread.
percpu_modes() {
	case ${KMEM_PERCPU:-} in
	'' | auto) echo rseq thread ;;
	*) echo "$KMEM_PERCPU" ;;
	esac
}

# run_stress [-x REGEX] HOW SECS TAG WHAT CMD...: one run of a stress
# program and the checks every stress test makes of it; the script ends
# (fail) unless CMD exited 0.  CMD's stdout is in $tmp/out (for the
# script's own checks of its summary after this) and its stderr in
# $tmp/err.  HOW, how CMD runs and what is known of its stderr:
#   kmem     run_watched_kmem SECS: kmem preloaded under the watchdog (a
#            hang shows every stack); its statistics are left out of the
#            stderr shown on a failure, and check_loaded must find them.
#   core     run_watched SECS: CMD is linked with kmem's core, nothing is
#            preloaded: no statistics, the stderr is shown as it is.
#   timeout  run_kmem's plain timeout(1), SECS long, no stacks on a hang
#            (preload_fork_stress.sh, older than the watchdog: timeout
#            itself runs under kmem there and prints statistics too).
# Each stdout line is shown with "TAG: " before it (nothing with an empty
# TAG), but not those matching REGEX (-x: an earlier run showed them).
# TAG also starts the failure messages, and WHAT names CMD in them.  Put
# KMEM_PERCPU=MODE before run_stress (as before run_watched_kmem): CMD
# runs in that mode and check_loaded insists on it.
run_stress() {
	local hide='' how secs tag what rc
	if [ "$1" = -x ]; then
		hide=$2
		shift 2
	fi
	how=$1 secs=$2 tag=${3:+$3: } what=$4
	shift 4
	case $how in
	kmem) run_watched_kmem "$secs" "$tmp/out" "$tmp/err" "$@" ;;
	core) run_watched "$secs" "$tmp/out" "$tmp/err" "$@" ;;
	timeout)
		# run_kmem's limit is $TIMEOUT: this call's own, not exported.
		local TIMEOUT=$secs
		run_kmem "$tmp/out" "$tmp/err" "$@"
		;;
	*) fail "run_stress: HOW is kmem, core or timeout, not '$how'" ;;
	esac
	rc=$?
	# The output first: on a failure it says how far CMD got.
	if [ -n "$hide" ]; then
		sed "s/^/  $tag/" "$tmp/out" | grep -v -- "$hide"
	else
		sed "s/^/  $tag/" "$tmp/out"
	fi
	if [ $rc = 124 ]; then
		[ "$how" = timeout ] && fail "$tag$what timed out (deadlock?)"
		fail "$tag$what hung (stacks above)"
	fi
	if [ $rc != 0 ]; then
		if [ "$how" = core ]; then
			tail -20 "$tmp/err"
		else
			# -a: a damaged stderr is still shown as lines, not
			# "binary file matches".
			grep -av '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' \
				"$tmp/err" | tail -20
		fi
		fail "$tag$what failed (rc $rc)"
	fi
	[ "$how" = core ] || check_loaded "$tmp/err"
}
