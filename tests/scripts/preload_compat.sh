#!/usr/bin/env bash
# glibc's guarantees under LD_PRELOAD (issue #14), tests/progs/compat.c:
#   - alignment: every size 0..1024 from malloc, calloc, realloc,
#     memalign(16), aligned_alloc(16) and posix_memalign(16) is 16-byte
#     aligned and usable, in every KMEM_DEBUG mode ("", F, Z, P, U, FZPU);
#   - errno: every failing entry point (huge and overflowing sizes, bad
#     alignments) gives what glibc gives: the same result, the same errno,
#     posix_memalign the same return code; a failed realloc keeps the
#     block.  Lines marked "2.38:" are aligned_alloc with an alignment that
#     is not a power of two: kmem rejects it (EINVAL) as glibc 2.38 does,
#     an older glibc rounds it up; those are checked for kmem alone;
#   - malloc_stats in threads cancelled at random moments, and in one with
#     the cancellation already pending: every block of output complete.
# Once per per-CPU mode; a few seconds in all.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog compat
dog=${KMEM_TEST_WATCHDOG:-120}
c=$PROGS/compat

run_glibc "$tmp/glibc.errno" "$tmp/err" "$c" errno || fail "compat errno failed under glibc"
run_glibc "$tmp/glibc.align" "$tmp/err" "$c" align ||
	{ cat "$tmp/glibc.align"; fail "compat align failed under glibc"; }
run_glibc "$tmp/glibc.cancel" "$tmp/err" "$c" cancel "$tmp/stats.glibc" ||
	{ cat "$tmp/glibc.cancel"; fail "compat cancel failed under glibc"; }
note "glibc: $(cat "$tmp/glibc.align")"
note "glibc: $(cat "$tmp/glibc.cancel")"
sed -n 's/^2.38: /glibc: 2.38 line: /p' "$tmp/glibc.errno" | sed 's/^/  /'
grep -v '^2.38: ' "$tmp/glibc.errno" >"$tmp/glibc.errno.cmp"

for mode in $(percpu_modes); do
	for dbg in "" F Z P U FZPU; do
		KMEM_PERCPU=$mode KMEM_DEBUG=$dbg run_watched_kmem "$dog" \
			"$tmp/out" "$tmp/err" "$c" align
		rc=$?
		[ $rc = 124 ] && fail "KMEM_PERCPU=$mode KMEM_DEBUG=$dbg: compat align hung"
		[ $rc = 0 ] || { cat "$tmp/out"; grep -v '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' "$tmp/err" | tail -10
			fail "KMEM_PERCPU=$mode KMEM_DEBUG=$dbg: alignment (rc $rc)"; }
		KMEM_PERCPU=$mode check_loaded "$tmp/err" >/dev/null
		grep -q '^align: 10250 blocks of 0..1024 bytes, 0 not 16-byte aligned or not usable$' \
			"$tmp/out" || fail "KMEM_PERCPU=$mode KMEM_DEBUG=$dbg: $(cat "$tmp/out")"
	done
	note "KMEM_PERCPU=$mode: 10,250 blocks of 0..1024 bytes 16-byte aligned under KMEM_DEBUG= F Z P U FZPU"

	KMEM_PERCPU=$mode run_watched_kmem "$dog" "$tmp/kmem.errno" "$tmp/err" "$c" errno ||
		fail "KMEM_PERCPU=$mode: compat errno failed"
	KMEM_PERCPU=$mode check_loaded "$tmp/err" >/dev/null
	grep -v '^2.38: ' "$tmp/kmem.errno" >"$tmp/kmem.errno.cmp"
	same "$tmp/glibc.errno.cmp" "$tmp/kmem.errno.cmp" \
		"KMEM_PERCPU=$mode: results and errno of $(wc -l <"$tmp/kmem.errno.cmp") failing calls"
	n=$(grep -c '^2.38: aligned_alloc(.*-> NULL, errno EINVAL$' "$tmp/kmem.errno")
	[ "$n" = 3 ] || fail "KMEM_PERCPU=$mode: aligned_alloc with a bad alignment: $(grep '^2.38' "$tmp/kmem.errno")"

	KMEM_PERCPU=$mode run_watched_kmem "$dog" "$tmp/out" "$tmp/err" \
		"$c" cancel "$tmp/stats.kmem"
	rc=$?
	[ $rc = 0 ] || { cat "$tmp/out"; tail -5 "$tmp/stats.kmem"
		fail "KMEM_PERCPU=$mode: malloc_stats under cancellation (rc $rc)"; }
	KMEM_PERCPU=$mode check_loaded "$tmp/err" >/dev/null
	note "KMEM_PERCPU=$mode: $(cat "$tmp/out")"
done
