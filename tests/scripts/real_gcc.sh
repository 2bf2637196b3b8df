#!/usr/bin/env bash
# gcc compiles a large generated C file (4000 functions) under kmem and
# under glibc: the object files must be identical, and the program must run.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd gcc cmp

src="$tmp/big.c"
{
	echo '#include <stdio.h>'
	echo 'struct s { int a[8]; double d; const char *name; };'
	for i in $(seq 0 3999); do
		echo "static struct s t$i = { { $i, $((i * 3)), $((i ^ 0x55)), 1, 2, 3, 4, $((i % 97)) }, $i.5, \"fn$i\" };"
		echo "__attribute__((noinline)) unsigned long f$i(unsigned long x) { unsigned long r = x * $((i * 2 + 1))ul; for (int k = 0; k < 8; k++) r += (unsigned long)t$i.a[k] << (k & 7); if (r % $((i % 13 + 2))) r ^= $i; switch (x & 3) { case 0: r += $i; break; case 1: r -= t$i.name[2]; break; default: r *= 3; } return r + (unsigned long)t$i.d; }"
	done
	echo 'int main(void) { unsigned long acc = 1;'
	for i in $(seq 0 3999); do echo "acc = f$i(acc);"; done
	echo 'printf("%lu\n", acc); return 0; }'
} >"$src"
note "source: $(wc -c <"$src") bytes, 4000 functions"
# The same source path and flags for both; -frandom-seed keeps output stable.
flags=(-O1 -g -frandom-seed=kmem -c "$src")
(cd "$tmp" && run_glibc "$tmp/g.log" "$tmp/g.err" gcc "${flags[@]}" -o "$tmp/g.o") ||
	{ tail "$tmp/g.err"; fail "gcc under glibc"; }
(cd "$tmp" && run_kmem "$tmp/k.log" "$tmp/k.err" gcc "${flags[@]}" -o "$tmp/k.o") ||
	{ tail -30 "$tmp/k.err"; fail "gcc under kmem"; }
check_loaded "$tmp/k.err"
cmp "$tmp/g.o" "$tmp/k.o" || fail "object files differ between glibc and kmem"
note "object files identical ($(wc -c <"$tmp/k.o") bytes)"
gcc "$tmp/k.o" -o "$tmp/k.bin" || fail "link"
gcc "$tmp/g.o" -o "$tmp/g.bin" || fail "link"
"$tmp/g.bin" >"$tmp/g.run" && LD_PRELOAD="$KMEM_LIB" "$tmp/k.bin" >"$tmp/k.run" ||
	fail "running the compiled program"
same "$tmp/g.run" "$tmp/k.run" "compiled program's output"
# cc1, the compiler proper, is the big allocator user: its statistics.
show_totals "$tmp/k.err"
