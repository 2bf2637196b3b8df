/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/leaky.c - a program with known memory bugs, for
 * tests/scripts/valgrind_memcheck.sh: memcheck must report the same
 * errors with kmem preloaded as with glibc's malloc.
 *
 *   - three blocks (4096 + 100 + 10 = 4206 bytes) definitely lost;
 *   - one read one byte past the end of a 100-byte block;
 *   - one read of a freed 100-byte block (5 bytes inside it).
 *
 * It prints "allocator: kmem" when libkmem.so is loaded (kmem_kmalloc is
 * found), "allocator: other" otherwise.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile char sink;	/* keeps the bad reads */

/* Allocate and forget: no pointer to the block survives the call. */
static __attribute__((noinline)) void leak(size_t n)
{
	char *p = malloc(n);

	memset(p, 0x5a, n);
	sink = p[n / 2];
}

int main(void)
{
	char *buf;

	printf("allocator: %s\n",
	       dlsym(RTLD_DEFAULT, "kmem_kmalloc") ? "kmem" : "other");
	fflush(stdout);
	leak(4096);
	leak(100);
	leak(10);

	buf = malloc(100);
	memset(buf, 1, 100);
	sink = buf[100];		/* out of bounds by one */
	free(buf);
	sink = buf[5];			/* use after free */
	return 0;
}
