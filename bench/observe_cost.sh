#!/usr/bin/env bash
# bench/observe_cost.sh - what the observability features cost a
# malloc+free pair (docs/observability.md, "What it costs").
#
#   bench/observe_cost.sh [ROUNDS]     (default 9)
#
# Builds, beside $(BUILD), a library without probes ($(BUILD)-nosdt, SDT=0),
# then on bench/pairs.c (malloc(64)+free, and the mixed-size window):
#   1. instructions per pair under callgrind ((Ir(N) - Ir(0)) / N):
#      the default library, with KMEM_SIGNAL=0 (no handler), and without
#      probes;
#   2. wall time per pair, medians over ROUNDS rounds in rotated order:
#      the same three, and the default library while `kmem top -b` asks
#      the process for its statistics every second.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
rounds=${1:-9}
make --no-print-directory BUILD="$BUILD" lib "$BUILD/bench/pairs" >/dev/null
make --no-print-directory BUILD="$BUILD-nosdt" SDT=0 lib >/dev/null
pairs=$PWD/$BUILD/bench/pairs
lib=$PWD/$BUILD/libkmem.so
nosdt=$PWD/$BUILD-nosdt/libkmem.so
readelf -n "$nosdt" | grep -q stapsdt && { echo "SDT=0 build has probes" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"; kill $(jobs -p) 2>/dev/null || true' EXIT

ir() {	# ir LIB MODE N [ENV...]: callgrind's instruction total
	local l=$1 m=$2 n=$3
	shift 3
	env "$@" LD_PRELOAD="$l" valgrind --tool=callgrind \
		--callgrind-out-file="$out/cg" "$pairs" "$m" "$n" >/dev/null 2>&1
	awk '/^(summary|totals):/ {print $2; exit}' "$out/cg"
}
if command -v valgrind >/dev/null; then
	echo "Instructions per malloc+free pair (callgrind, per-thread mode)"
	printf '%-10s %16s %16s %16s\n' mode default KMEM_SIGNAL=0 "SDT=0 (no probes)"
	for m in fixed64 window; do
		n=200000
		a=$(( ($(ir "$lib" $m $n) - $(ir "$lib" $m 0)) ))
		b=$(( ($(ir "$lib" $m $n KMEM_SIGNAL=0) - $(ir "$lib" $m 0 KMEM_SIGNAL=0)) ))
		c=$(( ($(ir "$nosdt" $m $n) - $(ir "$nosdt" $m 0)) ))
		printf '%-10s %16.2f %16.2f %16.2f\n' $m "$(echo "$a / $n" | bc -l)" \
			"$(echo "$b / $n" | bc -l)" "$(echo "$c / $n" | bc -l)"
	done
	echo
fi

N=100000000
t() {	# t OUTFILE LIB MODE [ENV...]: ns per pair of one run
	local f=$1 l=$2 m=$3 s e
	shift 3
	s=$EPOCHREALTIME
	env "$@" LD_PRELOAD="$l" "$pairs" "$m" $N >/dev/null
	e=$EPOCHREALTIME
	echo "($e - $s) * 1000000000 / $N" | bc -l >>"$f"
}
med() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for m in fixed64 window; do
	for r in $(seq "$rounds"); do
		for i in 0 1 2 3; do
			case $(( (i + r) % 4 )) in
			0) t "$out/$m.default" "$lib" $m ;;
			1) t "$out/$m.nosig" "$lib" $m KMEM_SIGNAL=0 ;;
			2) t "$out/$m.nosdt" "$nosdt" $m ;;
			3)	# observed: kmem top asks every second meanwhile
				s=$EPOCHREALTIME
				LD_PRELOAD="$lib" "$pairs" $m $N >/dev/null &
				p=$!
				sleep 0.05
				BUILD=$BUILD bin/kmem top -b -d 1 $p >/dev/null 2>&1 &
				tp=$!
				wait $p
				e=$EPOCHREALTIME
				kill $tp 2>/dev/null || true
				wait $tp 2>/dev/null || true
				echo "($e - $s) * 1000000000 / $N" | bc -l >>"$out/$m.observed"
				;;
			esac
		done
	done
done
echo "Wall time per malloc+free pair, ns (median of $rounds, $N pairs a run; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-10s %10s %14s %18s %22s\n' mode default KMEM_SIGNAL=0 "SDT=0 (no probes)" "observed (kmem top)"
for m in fixed64 window; do
	printf '%-10s %10.2f %14.2f %18.2f %22.2f\n' $m "$(med <"$out/$m.default")" \
		"$(med <"$out/$m.nosig")" "$(med <"$out/$m.nosdt")" "$(med <"$out/$m.observed")"
done
