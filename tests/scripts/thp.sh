#!/usr/bin/env bash
# KMEM_THP: the advice reaches the kernel as each mode says (the VmFlags
# of the mappings in /proc/PID/smaps: hg = MADV_HUGEPAGE, nh =
# MADV_NOHUGEPAGE), for the first heap section and for a 3 MiB vmalloc
# area; kmem stat names the mode; a bad value is reported and ignored.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd python3
need_prog live_grow
[ -e /sys/kernel/mm/transparent_hugepage/enabled ] ||
	skip "this kernel has no transparent huge pages"

# flags MODE: "SECTION-FLAGS AREA-FLAGS" of the first heap section (the
# first mapping holding a whole 64 MiB-aligned 64 MiB range: without
# advice the kernel may merge it with a neighbour) and of the 3 MiB area
# of live_grow stats (its guard pages keep it a mapping of its own).
flags() {
	local pid r=$tmp/ready.$1
	KMEM_THP=$1 LD_PRELOAD="$KMEM_LIB" "$PROGS/live_grow" stats "$tmp/self.$1" "$r" &
	pid=$!
	for _ in $(seq 100); do [ -e "$r" ] && break; sleep 0.1; done
	python3 - "$pid" <<'EOF'
import sys
pid = sys.argv[1]
cur, res = None, {}
for line in open(f"/proc/{pid}/smaps"):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and not line.startswith("VmFlags"):
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        cur = (lo, hi)
    elif line.startswith("VmFlags:") and cur:
        lo, hi = cur
        fl = set(f[1:])
        tag = "hg" if "hg" in fl else "nh" if "nh" in fl else "-"
        sec = (lo + (64 << 20) - 1) & ~((64 << 20) - 1)  # a whole
        if sec + (64 << 20) <= hi and "rd" in fl:          # section in it
            res.setdefault("section", tag)
        elif hi - lo == 3 << 20 and "rd" in fl and "wr" in fl:
            res.setdefault("area", tag)
print(res.get("section", "?"), res.get("area", "?"))
EOF
	kill $pid
	wait $pid 2>/dev/null
}
check() {	# check MODE SECTION AREA
	local got
	got=$(flags "$1")
	[ "$got" = "$2 $3" ] || fail "KMEM_THP=$1: section/area flags '$got', want '$2 $3'"
	note "KMEM_THP=$1: first section $2, 3 MiB area $3"
}
check never nh nh
check always hg hg
check large - hg	# the first section of a small heap: no advice
check system - -

# kmem stat reports the mode; a bad value is reported, the default kept.
KMEM_THP=bogus LD_PRELOAD="$KMEM_LIB" "$PROGS/live_grow" stats "$tmp/self" "$tmp/ready" 2>"$tmp/err" &
pid=$!
cleanup_hooks+=("kill $pid 2>/dev/null")
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
grep -q 'KMEM_THP=bogus: not one of' "$tmp/err" || fail "no message for KMEM_THP=bogus: $(cat "$tmp/err")"
"$root/bin/kmem" stat $pid | grep -q '^---- transparent huge pages: KMEM_THP=system$' ||
	fail "kmem stat does not show the default mode"
note "KMEM_THP=bogus reported; kmem stat shows KMEM_THP=system"
