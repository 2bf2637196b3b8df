#!/usr/bin/env bash
# The heap profile of a program with a known allocation pattern
# (tests/static/live_static.c: 3 MB from site_a, half freed again, 1 MB
# from site_b, 1 MB from site_c, sampled with KMEM_PROF=1024 through the
# recorder's API) attributes the bytes to the right call sites within
# sampling error: kmem profile PID (pprof's heap format), --collapsed
# (FlameGraph's format, symbolised here), --svg (google-pprof, where
# installed), and the exit dump of KMEM_PROF_DUMP.
. "$(dirname "$0")/lib/common.sh"
need_cmd python3
lib_a=$root/$BUILD/libkmem.a
[ -f "$lib_a" ] || fail "$lib_a missing (make lib)"
if nm "$lib_a" 2>/dev/null | grep -q '__asan_init\|__tsan_init\|__asan_'; then
	skip "sanitizer build: the sanitizer owns malloc"
fi
kmem=$root/bin/kmem
cc -std=gnu11 -O1 -g -D_GNU_SOURCE -I"$root/include" -I"$root/core" \
	"$root/tests/static/live_static.c" "$lib_a" -lurcu-bp -lpthread \
	-o "$tmp/live_static" || fail "cannot build live_static with libkmem.a"

KMEM_PROF=1024 KMEM_PROF_DUMP="$tmp/exit-%p.heap" "$tmp/live_static" pattern "$tmp/ready" &
pid=$!
cleanup_hooks+=("kill $pid 2>/dev/null")
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || fail "live_static did not get ready"

# Without --force the reader refuses: no libkmem.so in a static program.
"$kmem" profile $pid >/dev/null 2>"$tmp/err" && fail "profile of a static program without --force"
grep -q 'use --force' "$tmp/err" || fail "wrong refusal: $(cat "$tmp/err")"

"$kmem" profile --force -o "$tmp/live.heap" $pid || fail "kmem profile $pid"
head -1 "$tmp/live.heap" | grep -q '^heap profile: .* @ heapprofile$' ||
	fail "not pprof's heap format: $(head -1 "$tmp/live.heap")"
grep -q '^MAPPED_LIBRARIES:$' "$tmp/live.heap" || fail "no MAPPED_LIBRARIES section"
"$kmem" profile --force --collapsed $pid >"$tmp/live.collapsed" || fail "kmem profile --collapsed"

# check COLLAPSED: bytes by leaf call site against the pattern, 4 sigma.
check() {
	python3 - "$1" <<'EOF' || fail "$1: bytes not attributed to the right sites"
import math, sys
rate = 1024.0
def bound(n, size):
    p = 1 - math.exp(-size / rate)
    return 4 * size * math.sqrt(n * (1 - p) / p)
want = {"site_a": (1500000, bound(1500, 1000)), "site_b": (1000000, bound(1000, 1000)),
        "site_c": (1000000, bound(10000, 100))}
got = {k: 0 for k in want}
total = 0
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    frames = stack.split(";")
    total += int(n)
    if frames[-1] in got:
        got[frames[-1]] += int(n)
        assert "main" in frames, f"no main in {stack}"
ok = True
for k, (w, b) in want.items():
    print(f"  {k}: {got[k]} bytes (want {w} +- {b:.0f})")
    ok &= abs(got[k] - w) < b
print(f"  all sites: {total} bytes")
sys.exit(0 if ok and total < 3.5e6 + 2 * 235000 else 1)
EOF
}
check "$tmp/live.collapsed"

# The same from the pprof file, converted offline.
"$kmem" profile --collapsed "$tmp/live.heap" >"$tmp/file.collapsed" || fail "profile --collapsed FILE"
cmp -s "$tmp/live.collapsed" "$tmp/file.collapsed" || fail "FILE and PID conversions differ"

if command -v google-pprof >/dev/null 2>&1 && command -v dot >/dev/null 2>&1; then
	"$kmem" profile --force --svg "$tmp/heap.svg" $pid 2>"$tmp/err" ||
		{ cat "$tmp/err"; fail "kmem profile --svg"; }
	grep -q '<svg' "$tmp/heap.svg" || fail "--svg wrote no SVG"
	for s in site_a site_b site_c; do
		grep -q "$s" "$tmp/heap.svg" || fail "google-pprof's SVG does not name $s"
	done
	google-pprof --text "$tmp/live_static" "$tmp/live.heap" 2>/dev/null >"$tmp/pprof.txt"
	grep -q 'site_a' "$tmp/pprof.txt" || fail "google-pprof --text does not name site_a"
	note "google-pprof: SVG ($(wc -c <"$tmp/heap.svg") bytes) and --text name the three sites"
else
	note "google-pprof or dot not installed: SVG not checked (google-perftools, graphviz)"
fi

# Exit dump: SIGUSR1 makes main return; the destructor writes the file.
kill -USR1 $pid
wait $pid || fail "live_static exited with $?"
[ -s "$tmp/exit-$pid.heap" ] || fail "KMEM_PROF_DUMP wrote no $tmp/exit-$pid.heap"
"$kmem" profile --collapsed "$tmp/exit-$pid.heap" >"$tmp/exit.collapsed"
check "$tmp/exit.collapsed"
note "exit dump: the same attribution"
