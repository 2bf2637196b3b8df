#!/usr/bin/env bash
# Out of memory under RLIMIT_AS: NULL with ENOMEM, and the program goes on
# (tests/progs/rlimit_oom.c); then, in a second run, memory kmem holds
# free serves other requests before malloc fails: a freed 60 MiB block
# leaves room for a 245 MiB one (vmalloc.c unmaps its cached areas when a
# new one is refused; an older kmem kept the freed block's mapping and
# failed there), and the limit filled with one size, freed, fills again
# with another (kmalloc.c's direct reclaim, which the statistics count).
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog rlimit_oom
for what in "" reuse; do
	tag=${what:-oom}
	# shellcheck disable=SC2086
	run_glibc "$tmp/g.out" "$tmp/g.err" "$PROGS/rlimit_oom" $what
	grc=$?
	note "$tag: glibc: $(tail -2 "$tmp/g.out" | tr '\n' ' ')(rc $grc, for reference)"
	# shellcheck disable=SC2086
	run_kmem "$tmp/out" "$tmp/err" "$PROGS/rlimit_oom" $what
	rc=$?
	sed "s/^/  $tag: kmem: /" "$tmp/out"
	[ $rc = 0 ] || { grep -v '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' "$tmp/err" | tail; fail "rlimit_oom $what under kmem (rc $rc)"; }
	check_loaded "$tmp/err"
	n=$(sed -n 's/^---- direct reclaims (memory exhausted, caches emptied): \([0-9]*\)$/\1/p' "$tmp/err" | sort -n | tail -1)
	note "$tag: kmem: ${n:-?} direct reclaims"
	[ "${n:-0}" -ge 1 ] || fail "rlimit_oom $what: no direct reclaim counted"
done
