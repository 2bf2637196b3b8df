/* SPDX-License-Identifier: MIT */
/*
 * bench/cache_scratch.c - false sharing of small objects between threads,
 * after Hoard's cache-scratch and cache-thrash benchmarks (Berger et al.,
 * "Hoard: a scalable memory allocator for multithreaded applications",
 * ASPLOS 2000; also in mimalloc-bench).
 *
 * scratch (passive false sharing): the main thread allocates one small
 * object per thread, one after the other, so they are likely neighbours in
 * one cache line.  Each thread frees the object it was given, then
 * <iterations> times allocates an object of <objsize> bytes, writes every
 * byte of it <repetitions> times, and frees it.  An allocator that hands
 * the freed neighbour back to the thread makes the threads fight over a
 * cache line.
 *
 * thrash (active false sharing): the same without the objects from the
 * main thread; objects that two threads allocate at the same time may
 * share a cache line.
 *
 *   cache_scratch scratch|thrash [threads=2] [iterations=1000]
 *                 [objsize=8] [repetitions=20000]
 */
#include <pthread.h>

#include "common.h"

struct arg {
	char *given;		/* object from the main thread, or NULL */
	long iterations;	/* allocate/write/free rounds */
	long objsize;		/* bytes per object */
	long repetitions;	/* writes of each byte per round */
};

static void *worker(void *p)
{
	struct arg *a = p;

	free(a->given);
	for (long i = 0; i < a->iterations; i++) {
		volatile char *obj = malloc(a->objsize);

		if (!obj)
			bench_oom();
		for (long r = 0; r < a->repetitions; r++)
			for (long k = 0; k < a->objsize; k++)
				obj[k]++;
		free((void *)obj);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int scratch = argc < 2 || strcmp(argv[1], "thrash") != 0;
	long threads = bench_arg(argc, argv, 2, 2);
	long iterations = bench_arg(argc, argv, 3, 1000);
	long objsize = bench_arg(argc, argv, 4, 8);
	long repetitions = bench_arg(argc, argv, 5, 20000);
	pthread_t *ts = calloc(threads, sizeof(*ts));
	struct arg *as = calloc(threads, sizeof(*as));
	double t0, t1;

	if (!ts || !as)
		bench_oom();
	for (long i = 0; i < threads; i++) {
		as[i].given = scratch ? malloc(objsize) : NULL;
		if (scratch && !as[i].given)
			bench_oom();
		as[i].iterations = iterations;
		as[i].objsize = objsize;
		as[i].repetitions = repetitions;
	}
	t0 = bench_now();
	for (long i = 0; i < threads; i++)
		pthread_create(&ts[i], NULL, worker, &as[i]);
	for (long i = 0; i < threads; i++)
		pthread_join(ts[i], NULL);
	t1 = bench_now();
	printf("RESULT workload=cache-%s threads=%ld elapsed_s=%.6f ops=%ld "
	       "ops_per_s=%.0f\n", scratch ? "scratch" : "thrash", threads,
	       t1 - t0, threads * iterations, threads * iterations / (t1 - t0));
	return 0;
}
