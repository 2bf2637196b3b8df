/* SPDX-License-Identifier: MIT */
/*
 * bench/pairs.c - N malloc+free pairs, for instruction counts under
 * callgrind.  bench/run.py runs it twice per allocator, with N and with 0,
 * under `valgrind --tool=callgrind`; (Ir(N) - Ir(0)) / N is the cost of
 * one pair with start-up, warm-up and exit cancelled out.
 *
 *   pairs fixed64|mixed|window N
 *
 * fixed64  malloc(64) then free, N times (the fast path of every cache).
 * mixed    malloc(size) then free, sizes 16..1024 from a fixed table.
 * window   256 objects live, sizes 16..1024: each step frees the object
 *          allocated 256 steps ago (frees meet other objects on lists).
 */
#include "common.h"

#define NSIZES 1024	/* entries in the size table */
#define WINDOW 256	/* live objects in window mode */

static size_t sizes[NSIZES];
static void *ring[WINDOW];

__attribute__((noinline)) static void run_fixed(long n)
{
	for (long i = 0; i < n; i++) {
		volatile char *p = malloc(64);

		p[0] = 1;
		free((void *)p);
	}
}

__attribute__((noinline)) static void run_mixed(long n)
{
	for (long i = 0; i < n; i++) {
		volatile char *p = malloc(sizes[i & (NSIZES - 1)]);

		p[0] = 1;
		free((void *)p);
	}
}

__attribute__((noinline)) static void run_window(long n)
{
	for (long i = 0; i < n; i++) {
		long slot = i & (WINDOW - 1);
		volatile char *p;

		free(ring[slot]);
		p = malloc(sizes[i & (NSIZES - 1)]);
		p[0] = 1;
		ring[slot] = (void *)p;
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "fixed64";
	long n = bench_arg(argc, argv, 2, 100000);
	uint64_t rng = bench_seed(0);
	void (*run)(long);

	if (!strcmp(mode, "fixed64"))
		run = run_fixed;
	else if (!strcmp(mode, "mixed"))
		run = run_mixed;
	else if (!strcmp(mode, "window"))
		run = run_window;
	else {
		fprintf(stderr, "pairs: unknown mode %s\n", mode);
		return 2;
	}
	for (int i = 0; i < NSIZES; i++)
		sizes[i] = bench_range(&rng, 16, 1024);
	/* Warm-up, the same in the N and the 0 run: caches are populated. */
	run(4 * WINDOW);
	run(n);
	for (int i = 0; i < WINDOW; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
	printf("RESULT workload=pairs-%s ops=%ld\n", mode, n);
	return 0;
}
