#!/usr/bin/env bash
# Out of memory under RLIMIT_AS: NULL with ENOMEM, and the program goes on.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog rlimit_oom
run_glibc "$tmp/g.out" "$tmp/g.err" "$PROGS/rlimit_oom"
grc=$?
note "glibc: $(tail -1 "$tmp/g.out") (rc $grc, for reference)"
run_kmem "$tmp/out" "$tmp/err" "$PROGS/rlimit_oom"
rc=$?
sed 's/^/  kmem: /' "$tmp/out"
[ $rc = 0 ] || { grep -v '^\(----\|====\|  \|kmalloc\|Node\|slabinfo\|# name\)' "$tmp/err" | tail; fail "rlimit_oom under kmem (rc $rc)"; }
check_loaded "$tmp/err"
