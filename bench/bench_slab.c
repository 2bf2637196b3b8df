/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_slab.c - nanoseconds per alloc/free pair of the slab layer
 * and of kmalloc, per size, linked statically with libkmem-core.a (so the
 * per-CPU layer, when present, is whatever kmalloc.c calls today).
 *
 *   make bench-slab          (BUILD=... as for the library)
 *
 * Two patterns per size:
 *   pair   alloc then free at once, repeated (the hottest path);
 *   batch  1000 allocs then 1000 frees, repeated (slab list movement).
 * glibc's malloc/free in the same process is printed for reference.
 * Single thread; the figure is the median of 5 runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmem.h"

#define BATCH 1000
#define RUNS 5

static const size_t sizes[] = { 16, 64, 256, 1024, 4096, 32768 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

enum api { API_CACHE, API_KMALLOC, API_GLIBC };

static struct kmem_cache *cache;
static size_t cur_size;
static void *volatile sink;

static inline void *do_alloc(enum api a)
{
	switch (a) {
	case API_CACHE:
		return kmem_cache_alloc(cache, 0);
	case API_KMALLOC:
		return kmem_kmalloc(cur_size, 0);
	default:
		return malloc(cur_size);
	}
}

static inline void do_free(enum api a, void *p)
{
	switch (a) {
	case API_CACHE:
		kmem_cache_free(cache, p);
		break;
	case API_KMALLOC:
		kmem_kfree(p);
		break;
	default:
		free(p);
	}
}

static double run_pair(enum api a, size_t iters)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < iters; i++) {
		void *p = do_alloc(a);

		sink = p;
		do_free(a, p);
	}
	return (double)(now_ns() - t0) / (double)iters;
}

static double run_batch(enum api a, size_t rounds)
{
	static void *objs[BATCH];
	uint64_t t0 = now_ns();

	for (size_t r = 0; r < rounds; r++) {
		for (int i = 0; i < BATCH; i++)
			objs[i] = do_alloc(a);
		for (int i = 0; i < BATCH; i++)
			do_free(a, objs[i]);
	}
	return (double)(now_ns() - t0) / (double)(rounds * BATCH);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double (*fn)(enum api, size_t), enum api a, size_t n)
{
	double v[RUNS];

	fn(a, n / 10 + 1);	/* warm up: slabs exist */
	for (int i = 0; i < RUNS; i++)
		v[i] = fn(a, n);
	qsort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

int main(int argc, char **argv)
{
	size_t pairs = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000000;

	printf("# ns per alloc+free pair, single thread, median of %d runs\n",
	       RUNS);
	printf("%-7s | %-20s | %-20s | %-20s\n", "", "kmem_cache_alloc/free",
	       "kmalloc/kfree", "glibc malloc/free");
	printf("%-7s | %9s %10s | %9s %10s | %9s %10s\n", "size", "pair",
	       "batch1000", "pair", "batch1000", "pair", "batch1000");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		double r[3][2];

		cur_size = sizes[k];
		cache = kmem_cache_create("bench", cur_size, 0, 0, NULL);
		for (int a = 0; a < 3; a++) {
			r[a][0] = median(run_pair, (enum api)a, pairs);
			r[a][1] = median(run_batch, (enum api)a, pairs / BATCH);
		}
		kmem_cache_destroy(cache);
		printf("%-7zu | %9.1f %10.1f | %9.1f %10.1f | %9.1f %10.1f\n",
		       cur_size, r[0][0], r[0][1], r[1][0], r[1][1], r[2][0],
		       r[2][1]);
	}
	return 0;
}
