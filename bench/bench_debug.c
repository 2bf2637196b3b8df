/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_debug.c - what debug mode costs: malloc/free pairs and a
 * mixed workload, timed in whatever allocator the process has.
 *
 * Built twice by bench/debug.mk: bench_debug calls malloc/free (the
 * allocator is chosen by LD_PRELOAD: kmem, kmem with KMEM_DEBUG, glibc,
 * glibc with MALLOC_CHECK_=3), bench_debug_core calls kmem_kmalloc and
 * kmem_kfree of the core library directly (for trees without preload/).
 * Prints one line per workload:
 *
 *   RESULT workload=<pairs|mixed> ns_per_op=<x> ops=<n>
 *
 * Deterministic: a fixed-seed xorshift64* picks sizes and slots.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef USE_KMEM_CORE
#include "kmem.h"
#define ALLOC(n) kmem_kmalloc(n, 0)
#define FREE(p) kmem_kfree(p)
#else
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#endif

#define PAIRS 2000000UL		/* malloc/free pairs of 64 bytes */
#define MIXED_OPS 2000000UL	/* replacements in the mixed workload */
#define SLOTS 4096		/* live blocks in the mixed workload */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static volatile char sink;
static char *volatile escape;	/* so the compiler cannot drop a pair */

int main(void)
{
	static char *slot[SLOTS];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	double t;

	t = now();
	for (unsigned long i = 0; i < PAIRS; i++) {
		char *p = ALLOC(64);

		p[0] = (char)i;
		escape = p;
		sink = escape[0];
		FREE(escape);
	}
	printf("RESULT workload=pairs ns_per_op=%.1f ops=%lu\n",
	       (now() - t) * 1e9 / PAIRS, PAIRS);

	t = now();
	for (unsigned long i = 0; i < MIXED_OPS; i++) {
		unsigned int k = (unsigned int)(rnd(&seed) % SLOTS);
		/* Mostly small, sometimes up to 2 KiB, as programs do. */
		size_t n = rnd(&seed) % 8 ? 8 + rnd(&seed) % 256
					  : 8 + rnd(&seed) % 2048;

		FREE(slot[k]);
		slot[k] = ALLOC(n);
		memset(slot[k], (int)i, n < 32 ? n : 32);
	}
	for (unsigned int k = 0; k < SLOTS; k++)
		FREE(slot[k]);
	printf("RESULT workload=mixed ns_per_op=%.1f ops=%lu\n",
	       (now() - t) * 1e9 / MIXED_OPS, MIXED_OPS);
	return 0;
}
