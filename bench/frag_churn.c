/* SPDX-License-Identifier: MIT */
/*
 * bench/frag_churn.c - long-running churn with a changing size
 * distribution, to measure fragmentation by resident memory (in the
 * spirit of Wilson and Johnstone's fragmentation studies and of
 * mimalloc-bench's "cfrac"/"espresso" style churn, but synthetic and
 * deterministic).
 *
 * Each thread keeps <slots> live objects.  The run goes through phases;
 * each phase draws sizes from a different range and does <ops> random
 * replacements (free a random slot, allocate a new object there).  At the
 * end of every phase three objects out of four are freed at random, so
 * survivors of old size classes stay scattered among new ones: the
 * allocator must reuse or return the holes.  At the end all but one object
 * in 4 is freed and the resident set is read again.
 *
 * Printed: elapsed time, peak RSS, final RSS and the bytes still live at
 * the end (final RSS / live bytes is the fragmentation left behind).
 *
 *   frag_churn [threads=2] [ops_per_phase=300000] [slots=20000]
 */
#include <pthread.h>

#include "common.h"

static const size_t phase_range[][2] = {
	{ 16, 128 }, { 128, 1024 }, { 1024, 8192 },
	{ 16, 64 }, { 256, 4096 }, { 32, 256 },
};
#define NPHASES (sizeof(phase_range) / sizeof(phase_range[0]))

struct arg {
	unsigned int id;	/* thread number, seeds the generator */
	long ops;		/* replacements per phase */
	long nslots;		/* live objects */
	void **slots;		/* the objects */
	size_t *sizes;		/* their sizes */
	size_t live;		/* bytes live at the end */
};

static void *alloc_touch(size_t size)
{
	unsigned char *p = malloc(size);

	if (!p)
		bench_oom();
	for (size_t off = 0; off < size; off += 4096)
		p[off] = 1;
	p[size - 1] = 1;
	return p;
}

static void *worker(void *p)
{
	struct arg *a = p;
	uint64_t rng = bench_seed(a->id);

	for (size_t ph = 0; ph < NPHASES; ph++) {
		size_t lo = phase_range[ph][0], hi = phase_range[ph][1];

		for (long k = 0; k < a->ops; k++) {
			long i = (long)(bench_rand(&rng) % a->nslots);
			size_t size = bench_range(&rng, lo, hi);

			free(a->slots[i]);
			a->slots[i] = alloc_touch(size);
			a->sizes[i] = size;
		}
		for (long i = 0; i < a->nslots; i++) {
			if (bench_rand(&rng) % 4 != 0) {
				free(a->slots[i]);
				a->slots[i] = NULL;
				a->sizes[i] = 0;
			}
		}
	}
	for (long i = 0; i < a->nslots; i++) {
		if (i % 4) {
			free(a->slots[i]);
			a->slots[i] = NULL;
			a->sizes[i] = 0;
		}
		a->live += a->sizes[i];
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = bench_arg(argc, argv, 1, 2);
	long ops = bench_arg(argc, argv, 2, 300000);
	long nslots = bench_arg(argc, argv, 3, 20000);
	pthread_t *ts = calloc(threads, sizeof(*ts));
	struct arg *as = calloc(threads, sizeof(*as));
	size_t live = 0;
	double t0, t1;

	if (!ts || !as)
		bench_oom();
	for (long i = 0; i < threads; i++) {
		as[i].id = (unsigned int)i;
		as[i].ops = ops;
		as[i].nslots = nslots;
		as[i].slots = calloc(nslots, sizeof(void *));
		as[i].sizes = calloc(nslots, sizeof(size_t));
		if (!as[i].slots || !as[i].sizes)
			bench_oom();
	}
	t0 = bench_now();
	for (long i = 0; i < threads; i++)
		pthread_create(&ts[i], NULL, worker, &as[i]);
	for (long i = 0; i < threads; i++)
		pthread_join(ts[i], NULL);
	t1 = bench_now();
	for (long i = 0; i < threads; i++)
		live += as[i].live;
	printf("RESULT workload=frag-churn threads=%ld elapsed_s=%.6f ops=%ld "
	       "peak_rss_kb=%ld final_rss_kb=%ld live_kb=%zu\n", threads,
	       t1 - t0, threads * ops * (long)NPHASES, bench_peak_rss_kb(),
	       bench_rss_kb(), live / 1024);
	return 0;
}
