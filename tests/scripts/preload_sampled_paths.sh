#!/usr/bin/env bash
# Every allocation entry of the preloaded library runs down the sampling
# countdown and is seen by the heap profile: 3,000 live blocks of 1000
# bytes made by malloc, by realloc (a block that moves through realloc's
# fast half), by posix_memalign, by aligned_alloc and by the library's
# own kmem_kmalloc, each profiled with KMEM_PROF=1024 and dumped at exit
# (KMEM_PROF_DUMP), must add up to 3,000,000 bytes within four standard
# deviations of the sampling; so must a mix of small and 1 MB mallocs.
# Until 2026-12-02 the aligned entries never restarted the countdown
# (their blocks were never profiled, and an aligned fast path would have
# sent every later allocation down the slow path once it ran out), and
# the entries no fast pop had counted (kmem_kmalloc, realloc's moves)
# were counted only while the CPU had no cache of its own: 0.2% of
# kmem_kmalloc's bytes were profiled.
# The blocks must also keep their alignment and contents.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd cc python3
cat > "$tmp/blocks.c" <<'C'
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void *blocks[3000];
int main(int argc, char **argv)
{
	const char *how = argv[1];
	void *(*kmem_kmalloc)(size_t, unsigned int) =
		(void *(*)(size_t, unsigned int))dlsym(RTLD_DEFAULT,
						       "kmem_kmalloc");

	if (!kmem_kmalloc)
		return 5;
	for (int i = 0; i < 3000; i++) {
		void *p = NULL;

		/* A small malloc+free first: this CPU's cache is set up and
		 * in use, as in any program. */
		free(malloc(64));
		if (!strcmp(how, "malloc")) {
			p = malloc(1000);
		} else if (!strcmp(how, "kmem_kmalloc")) {
			p = kmem_kmalloc(1000, 0);	/* GFP_KERNEL */
		} else if (!strcmp(how, "large")) {
			p = malloc(i % 10 ? 1000 : 1000 * 1000);
		} else if (!strcmp(how, "malloc")) {
			p = malloc(1000);
		} else if (!strcmp(how, "realloc")) {
			p = malloc(24);	/* class 32: moves to class 1024 */
			memset(p, 0x33, 24);
			p = realloc(p, 1000);
			if (p && memcmp(p, (char[24]){ [0 ... 23] = 0x33 }, 24))
				return 3;
		} else if (!strcmp(how, "posix_memalign")) {
			if (posix_memalign(&p, 64, 1000))
				p = NULL;
		} else {
			p = aligned_alloc(128, 1000);
		}
		if (!p)
			return 2;
		/* malloc's 16 bytes, or what was asked: a guard-sampled
		 * block of malloc's sits at the end of its page, 16-aligned
		 * (a 64-byte check of the "large" mix failed so, now and
		 * then, when a 1000-byte block was sampled). */
		if ((uintptr_t)p & (!strcmp(how, "posix_memalign") ? 63 :
				    !strcmp(how, "aligned_alloc") ? 127 : 15))
			return 4;
		memset((char *)p + 24, 0x5a, 1000 - 24);
		blocks[i] = p;	/* live at exit, so in the exit dump */
	}
	printf("%p\n", blocks[2999]);
	return 0;
}
C
cc -O1 -o "$tmp/blocks" "$tmp/blocks.c" || fail "cannot build blocks.c"
for how in malloc realloc posix_memalign aligned_alloc kmem_kmalloc large; do
	rm -f "$tmp"/prof.*
	# (timeout itself not preloaded: its own dump would be a second file)
	timeout "$TIMEOUT" env LD_PRELOAD="$KMEM_LIB" KMEM_PROF=1024 \
		KMEM_PROF_DUMP="$tmp/prof.%p" "$tmp/blocks" $how >/dev/null ||
		fail "$how: the program failed (status $?)"
	dump=$(ls "$tmp"/prof.* 2>/dev/null)
	[ -n "$dump" ] || fail "$how: KMEM_PROF_DUMP wrote nothing"
	[ "$(echo "$dump" | wc -l)" = 1 ] || fail "$how: more than one dump: $dump"
	bytes=$(head -1 "$dump" | sed -n 's/^heap profile: *[0-9]*: *\([0-9]*\) .*/\1/p')
	[ -n "$bytes" ] || fail "$how: not a heap profile: $(head -1 "$dump")"
	python3 - "$how" "$bytes" <<'EOF' || fail "$how: $bytes profiled bytes, not what was allocated within sampling error"
import math, sys
rate = 1024.0
def var(n, size):
    p = 1 - math.exp(-size / rate)
    return n * size * size * (1 - p) / p
if sys.argv[1] == "large":	# 2700 of 1000 bytes, 300 of 1,000,000
    want, bound = 2700 * 1000 + 300 * 1e6, 4 * math.sqrt(var(2700, 1000) + var(300, 1e6))
else:
    want, bound = 3e6, 4 * math.sqrt(var(3000, 1000))
got = int(sys.argv[2])
# The program's own start-up (stdio's buffer) may add a sample or two.
print(f"  {sys.argv[1]}: {got} profiled bytes ({want:.0f} +- {bound:.0f})")
sys.exit(0 if abs(got - want) < bound + 8192 else 1)
EOF
done
