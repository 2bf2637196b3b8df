#!/usr/bin/env bash
# tests/scripts/valgrind_memcheck.sh - memcheck sees kmem's heap as exactly
# as glibc's.
#
# Runs tests/progs/leaky (3 blocks, 4206 bytes, definitely lost; a read one
# byte past a 100-byte block; a read of a freed block) under
# `valgrind --leak-check=full`, once with glibc's malloc and once with
# libkmem.so preloaded and --soname-synonyms=somalloc=nouserintercepts (so
# memcheck leaves kmem in place and learns about blocks from kmem's client
# requests).  Both runs must report the same error kinds, the same address
# descriptions ("0 bytes after a block of size 100 alloc'd", ...) and the
# same definitely-lost bytes and blocks; the kmem run must really use kmem.
# Skips (77) only when valgrind is not installed (make deps installs it)
# and in an AddressSanitizer build (whose libkmem.so cannot be preloaded).
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd valgrind
need_prog leaky
lib=$KMEM_LIB
prog=$PROGS/leaky
nm -D --defined-only "$lib" | grep -qw malloc ||
	fail "$lib does not export malloc"
vg=(valgrind --error-exitcode=0 --leak-check=full --show-leak-kinds=definite
    --num-callers=20)

"${vg[@]}" "$prog" >"$tmp/glibc.out" 2>"$tmp/glibc.err"
LD_PRELOAD="$lib" "${vg[@]}" --soname-synonyms=somalloc=nouserintercepts \
	"$prog" >"$tmp/kmem.out" 2>"$tmp/kmem.err"

# Error kinds and address descriptions, in order of appearance.
kinds() {
	sed -n 's/^==[0-9]*== //p' "$1" | grep -E \
		'^(Invalid (read|write) of size|Invalid free|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* fishy)|^ *Address 0x[0-9A-Fa-f]* is [0-9]* bytes (after|inside|before) a block of size' |
		sed 's/Address 0x[0-9A-Fa-f]* is/Address is/'
}
lost() {
	sed -n 's/^==[0-9]*== *definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 bytes in \2 blocks/p' "$1" | tr -d ,
}

fail=0
grep -q "allocator: kmem" "$tmp/kmem.out" || { echo "FAIL: kmem was not loaded"; fail=1; }
if grep -q "vg_replace_malloc" "$tmp/kmem.err"; then
	echo "FAIL: memcheck replaced kmem's malloc"; fail=1
fi
kinds "$tmp/glibc.err" >"$tmp/glibc.kinds"
kinds "$tmp/kmem.err" >"$tmp/kmem.kinds"
echo "glibc: $(lost "$tmp/glibc.err"); errors:"; sed 's/^/  /' "$tmp/glibc.kinds"
echo "kmem:  $(lost "$tmp/kmem.err"); errors:"; sed 's/^/  /' "$tmp/kmem.kinds"
if [ "$(lost "$tmp/glibc.err")" != "4206 bytes in 3 blocks" ]; then
	echo "FAIL: glibc run does not show the known leak"; fail=1
fi
if [ "$(lost "$tmp/kmem.err")" != "$(lost "$tmp/glibc.err")" ]; then
	echo "FAIL: definitely lost differs"; fail=1
fi
if ! grep -q "Invalid read of size 1" "$tmp/glibc.kinds"; then
	echo "FAIL: glibc run does not show the invalid reads"; fail=1
fi
if ! diff -u "$tmp/glibc.kinds" "$tmp/kmem.kinds"; then
	echo "FAIL: error kinds differ"; fail=1
fi
# The one-word option of bin/kmem does the same.
if [ -x "$root/bin/kmem" ]; then
	KMEM_LIB="$lib" KMEM_VALGRIND_OPTS="--leak-check=full" \
		"$root/bin/kmem" run --valgrind -- "$prog" >"$tmp/bin.out" 2>"$tmp/bin.err"
	if [ "$(lost "$tmp/bin.err")" != "$(lost "$tmp/glibc.err")" ] ||
	   ! grep -q "allocator: kmem" "$tmp/bin.out" ||
	   grep -q "vg_replace_malloc" "$tmp/bin.err"; then
		echo "FAIL: bin/kmem run --valgrind"; cat "$tmp/bin.err"; fail=1
	else
		echo "bin/kmem run --valgrind: $(lost "$tmp/bin.err")"
	fi
fi
if [ $fail != 0 ]; then
	echo "--- kmem run:"; cat "$tmp/kmem.err"
fi
exit $fail
