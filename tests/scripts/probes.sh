#!/usr/bin/env bash
# USDT probes (core/probes.h): every probe's note is in libkmem.so
# (readelf -n), and one probe fires and is seen by a tracer (perf's SDT
# support) where the machine allows it: root, perf, uprobes, tracefs.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd readelf
probes="slab_grow slab_shrink buddy_split buddy_merge buddy_purge section_map
vmalloc_map vmalloc_unmap percpu_refill percpu_drain report"

readelf -n "$KMEM_LIB" >"$tmp/notes" || fail "readelf -n $KMEM_LIB"
if ! grep -q stapsdt "$tmp/notes"; then
	# Built without <sys/sdt.h>: that is only right when it is missing.
	if echo '#include <sys/sdt.h>' | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
		fail "no .note.stapsdt in $KMEM_LIB although <sys/sdt.h> exists (make SDT=0?)"
	fi
	skip "<sys/sdt.h> is not installed (systemtap-sdt-dev): no probes built"
fi
for p in $probes; do
	grep -A2 'stapsdt' "$tmp/notes" | grep -q "Provider: kmem" ||
		fail "no probe of provider kmem"
	grep -q "Name: $p\$" "$tmp/notes" || fail "probe kmem:$p missing from readelf -n"
done
note "readelf -n: $(grep -c 'Provider: kmem' "$tmp/notes") probe sites, all $(echo $probes | wc -w) names"

# ---- one probe fired, seen by perf ----
[ "$(id -u)" = 0 ] || skip "notes checked; firing a probe needs root (uprobes)"
command -v perf >/dev/null 2>&1 || skip "notes checked; perf is not installed (linux-perf)"
perf version >/dev/null 2>&1 || skip "notes checked; perf does not match this kernel"
tracefs=/sys/kernel/tracing mounted=0
if [ ! -e $tracefs/uprobe_events ]; then
	mount -t tracefs nodev $tracefs 2>/dev/null && mounted=1
	[ -e $tracefs/uprobe_events ] ||
		skip "notes checked; no tracefs with uprobe_events (kernel without CONFIG_UPROBE_EVENTS?)"
fi
lib=$(readlink -f "$KMEM_LIB")
pf() { perf --buildid-dir "$tmp/buildid" "$@"; }
[ $mounted = 0 ] || cleanup_hooks+=("umount $tracefs 2>/dev/null")
pf buildid-cache --add "$lib" >"$tmp/perf.log" 2>&1 ||
	{ cat "$tmp/perf.log"; skip "notes checked; perf buildid-cache failed"; }
pf probe -d 'sdt_kmem:slab_grow' >/dev/null 2>&1
pf probe --add sdt_kmem:slab_grow >>"$tmp/perf.log" 2>&1 ||
	{ cat "$tmp/perf.log"; skip "notes checked; perf probe cannot place an SDT probe here"; }
# One hook, in order: the probe goes before tracefs is unmounted.
cleanup_hooks+=("pf probe -d 'sdt_kmem:*' >/dev/null 2>&1; [ \$mounted = 0 ] || umount $tracefs")
pf record -q -o "$tmp/perf.data" -e sdt_kmem:slab_grow -- \
	env LD_PRELOAD="$lib" ls -l / >/dev/null 2>>"$tmp/perf.log" ||
	{ cat "$tmp/perf.log"; skip "notes checked; perf record cannot trace here"; }
pf script -i "$tmp/perf.data" >"$tmp/script" 2>>"$tmp/perf.log" ||
	fail "perf script failed: $(tail -3 "$tmp/perf.log")"
n=$(grep -c 'sdt_kmem:slab_grow' "$tmp/script" || true)
[ "$n" -ge 1 ] || { cat "$tmp/perf.log"; fail "kmem:slab_grow did not fire under perf"; }
# The arguments: cache name (a pointer), order, slab address, objects.
grep -m1 'sdt_kmem:slab_grow' "$tmp/script" | grep -q 'arg4=[1-9]' ||
	fail "kmem:slab_grow's arguments look wrong: $(grep -m1 slab_grow "$tmp/script")"
note "perf saw kmem:slab_grow fire $n times in 'ls -l /'"
