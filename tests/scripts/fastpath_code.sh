#!/usr/bin/env bash
# tests/scripts/fastpath_code.sh - the machine code of malloc, free and
# calloc in libkmem.so has no lock prefix, no atomic read-modify-write
# (xchg, cmpxchg, xadd) and no call: their fast halves are one rseq
# section (or a thread-local pop/push) and everything else is a tail jump
# to an out-of-line slow half (docs/fastpath.md).  Also checks that the
# rseq sections are registered (__rseq_cs, __rseq_failure sections) and
# that each abort handler is preceded by glibc's signature 0x53053053.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=${KMEM_LIB:-$root/$BUILD/libkmem.so}
[ -e "$lib" ] || { echo "FAIL: $lib missing (make lib)"; exit 1; }
command -v objdump >/dev/null || { echo "SKIP: objdump is not installed (binutils)"; exit 77; }
case $(uname -m) in x86_64) ;; *) echo "SKIP: the rseq sections are x86-64 only"; exit 77;; esac

fail=0
body() {	# the instructions of exported function $1
	local addr
	addr=$(nm -D --defined-only "$lib" | awk -v f="$1" '$3 == f {print $1}')
	[ -n "$addr" ] || return 1
	objdump -d --no-show-raw-insn "$lib" |
		awk -v a="$addr" '$0 ~ "^" a " <" {on = 1; next} on && /^$/ {exit} on'
}
for f in malloc free calloc; do
	code=$(body $f) || { echo "FAIL: $f is not exported"; fail=1; continue; }
	n=$(printf '%s\n' "$code" | grep -c ':')
	bad=$(printf '%s\n' "$code" | grep -E $'\t(lock|xchg|cmpxchg|xadd|call)' || true)
	if [ -n "$bad" ]; then
		echo "FAIL: $f has a lock, an atomic or a call:"; echo "$bad"; fail=1
	else
		echo "$f: $n instructions, no lock, no atomic, no call"
	fi
	printf '%s\n' "$code" | grep -q 'jmp.*<[a-z_]*_slow>' ||
		{ echo "FAIL: $f does not tail-jump to its slow half"; fail=1; }
done
# Every rseq abort handler sits right after the 4-byte signature, which
# objdump shows as "ud1 0x53053053(%rip),%edi" in __rseq_failure.
sigs=$(objdump -d --no-show-raw-insn -j __rseq_failure "$lib" 2>/dev/null | grep -c 'ud1 *0x53053053' || true)
cs=$(objdump -h "$lib" | awk '$2 == "__rseq_cs" {print $3}')
[ -n "$cs" ] && cs=$((16#$cs))
if [ -z "$cs" ] || [ "${sigs:-0}" -eq 0 ]; then
	echo "FAIL: no rseq critical sections in $lib"; fail=1
elif [ $((cs / 32)) -ne "$sigs" ]; then
	echo "FAIL: $((cs / 32)) rseq_cs descriptors but $sigs signed abort handlers"; fail=1
else
	echo "rseq: $sigs critical sections, each abort handler signed"
fi
exit $fail
