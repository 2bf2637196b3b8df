#!/usr/bin/env bash
# bench/thp.sh - KMEM_THP modes side by side: the TLB gain on large heaps
# against the resident-memory cost on small ones (docs/observability.md).
#
#   bench/thp.sh [ROUNDS]      (default 9)
#
# Timing: each round runs the random-access workload (bench/thp_tlb.c)
# under every mode, in an order rotated from round to round, and divides
# each mode's time by the "never" time of the same round; the medians of
# those ratios are printed, so that the load of a shared machine, which
# drifts from round to round, cancels.  Memory: the resident size of
# small programs under each mode (medians of 3 runs; it does not drift).
# Needs $(BUILD)/libkmem.so and $(BUILD)/bench/thp_tlb (make bench-thp).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
lib=$PWD/$BUILD/libkmem.so
prog=$PWD/$BUILD/bench/thp_tlb
rounds=${1:-9}
modes=(never system always large)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
PY='import json, collections, re
words = [f"w{(i * 7919) % 50021}" for i in range(400000)]
freq = collections.Counter(words)
doc = json.dumps({w: [n, w * 3] for w, n in freq.items()})
print(len(json.loads(doc)), len(re.findall(r"w1[0-9]{3}\b", " ".join(words))))'
med() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

echo "THP enabled: $(cat /sys/kernel/mm/transparent_hugepage/enabled)," \
	"defrag: $(cat /sys/kernel/mm/transparent_hugepage/defrag)," \
	"$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mb in 64 256 1024; do
	for r in $(seq "$rounds"); do
		for i in 0 1 2 3; do
			m=${modes[$(( (i + r) % 4 ))]}
			KMEM_THP=$m LD_PRELOAD=$lib "$prog" random $mb 64 10000000 \
				>"$out/r.$mb.$r.$m"
		done
		never=$(field ns_per_access <"$out/r.$mb.$r.never")
		for m in "${modes[@]}"; do
			ns=$(field ns_per_access <"$out/r.$mb.$r.$m")
			echo "$ns" >>"$out/ns.$mb.$m"
			awk -v a="$ns" -v b="$never" 'BEGIN {print a / b}' >>"$out/ratio.$mb.$m"
			field anon_huge_kb <"$out/r.$mb.$r.$m" >>"$out/huge.$mb.$m"
			field rss_kb <"$out/r.$mb.$r.$m" >>"$out/rss.$mb.$m"
		done
	done
done
for r in 1 2 3; do
	for m in "${modes[@]}"; do
		e="env KMEM_THP=$m LD_PRELOAD=$lib"
		$e "$prog" small 1024 | field rss_kb >>"$out/small.$m"
		/usr/bin/time -f "%M" -a -o "$out/py.$m" $e python3 -c "$PY" >/dev/null
		/usr/bin/time -f "%M" -a -o "$out/ls.$m" $e ls -lR /usr/share/doc >/dev/null
	done
done
echo
echo "Random access, 64-byte objects: median ns per access (median ratio to never), huge pages used"
printf '%-8s' mode
for mb in 64 256 1024; do printf ' %30s' "${mb} MiB heap"; done
echo
for m in "${modes[@]}"; do
	printf '%-8s' "$m"
	for mb in 64 256 1024; do
		printf ' %14s ns (x%.2f) %5s MiB' "$(med <"$out/ns.$mb.$m")" \
			"$(med <"$out/ratio.$mb.$m")" \
			"$(med <"$out/huge.$mb.$m" | awk '{printf "%d", $1 / 1024}')"
	done
	echo
done
echo
echo "Resident size (KiB, median of 3): small heaps"
printf '%-8s %18s %22s %22s\n' mode "1 MiB heap (C)" "python3 (make run job)" "ls -lR /usr/share/doc"
for m in "${modes[@]}"; do
	printf '%-8s %18s %22s %22s\n' "$m" "$(med <"$out/small.$m")" \
		"$(med <"$out/py.$m")" "$(med <"$out/ls.$m")"
done
