#!/usr/bin/env bash
# Memory goes back on time whatever the program does next (issue #13): a
# program frees what it allocated and then makes no allocation at all; its
# resident set must fall to within 15% of the freed bytes by the purge
# delay + 600 ms (tests/progs/idle_return.c).  Three shapes: slab pages
# (4000-byte blocks), vmalloc areas of 1 MiB and one of 64 MiB; each from
# a fresh start and with the per-CPU caches holding objects and the purge
# thread already asleep on a timeout ("keep"), in each per-CPU mode.
#   Before the fix (vm_cache_add_locked kicks the purge thread) the freed
#   vmalloc areas stayed resident for as long as the program idled.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_prog idle_return
delay=200
for mode in $(percpu_modes); do
	for shape in "256 4000" "64 1048576" "64 67108864"; do
		for keep in "" keep; do
			# shellcheck disable=SC2086
			KMEM_PERCPU=$mode KMEM_PURGE_DELAY_MS=$delay run_kmem \
				"$tmp/out" "$tmp/err" "$PROGS/idle_return" $shape $delay $keep
			rc=$?
			sed "s/^/  KMEM_PERCPU=$mode: /" "$tmp/out"
			[ $rc = 0 ] || fail "KMEM_PERCPU=$mode, idle_return $shape $delay $keep: not given back in time (rc $rc)"
			check_loaded "$tmp/err"
		done
	done
done
