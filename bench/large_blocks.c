/* SPDX-License-Identifier: MIT */
/*
 * bench/large_blocks.c - large-block workload: the path every allocator
 * sends to mmap (or to a vmalloc-like area) rather than to size classes.
 *
 * Part 1: each thread <iterations> times allocates a block of 256 KiB ..
 * 64 MiB (log-uniform), writes one byte per 4 KiB page, and frees it;
 * 8 blocks stay live at a time, so frees and allocations interleave.
 * Part 2: each thread <growths> times grows one block by realloc from
 * 1 MiB to <max_mib> MiB in steps of 1 MiB, writing the new pages each time
 * (realloc in place or by mremap is cheap; copying is not).
 *
 *   large_blocks [threads=2] [iterations=200] [growths=1] [max_mib=256]
 */
#include <pthread.h>

#include "common.h"

#define KIB 1024UL
#define MIB (1024UL * 1024UL)
#define LIVE 8		/* blocks each thread keeps live in part 1 */

struct arg {
	unsigned int id;	/* thread number, seeds the generator */
	long iterations;	/* part 1 blocks */
	long growths;		/* part 2 realloc chains */
	size_t max;		/* part 2 final size */
	unsigned long long sum;	/* bytes read back, defeats elision */
};

static void touch(unsigned char *p, size_t from, size_t to)
{
	for (size_t off = from; off < to; off += 4096)
		p[off] = (unsigned char)((off >> 12) | 1);
}

static void *worker(void *p)
{
	struct arg *a = p;
	uint64_t rng = bench_seed(a->id);
	unsigned char *live[LIVE] = { NULL };

	for (long i = 0; i < a->iterations; i++) {
		/* log-uniform: 2^18 .. 2^26 bytes, then a random fraction */
		unsigned int shift = 18 + (unsigned int)(bench_rand(&rng) % 8);
		size_t size = (1UL << shift) +
			      bench_rand(&rng) % (1UL << shift);
		long slot = i % LIVE;

		if (live[slot])
			a->sum += live[slot][0];
		free(live[slot]);
		live[slot] = malloc(size);
		if (!live[slot])
			bench_oom();
		touch(live[slot], 0, size);
	}
	for (int i = 0; i < LIVE; i++)
		free(live[i]);

	for (long g = 0; g < a->growths; g++) {
		unsigned char *b = NULL;
		size_t size = 0;

		for (size_t n = MIB; n <= a->max; n += MIB) {
			unsigned char *nb = realloc(b, n);

			if (!nb)
				bench_oom();
			b = nb;
			touch(b, size, n);
			size = n;
		}
		a->sum += b[size - 4096];
		free(b);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = bench_arg(argc, argv, 1, 2);
	long iterations = bench_arg(argc, argv, 2, 200);
	long growths = bench_arg(argc, argv, 3, 1);
	size_t max = (size_t)bench_arg(argc, argv, 4, 256) * MIB;
	pthread_t *ts = calloc(threads, sizeof(*ts));
	struct arg *as = calloc(threads, sizeof(*as));
	unsigned long long sum = 0;
	double t0, t1;

	if (!ts || !as)
		bench_oom();
	for (long i = 0; i < threads; i++) {
		as[i].id = (unsigned int)i;
		as[i].iterations = iterations;
		as[i].growths = growths;
		as[i].max = max;
	}
	t0 = bench_now();
	for (long i = 0; i < threads; i++)
		pthread_create(&ts[i], NULL, worker, &as[i]);
	for (long i = 0; i < threads; i++)
		pthread_join(ts[i], NULL);
	t1 = bench_now();
	for (long i = 0; i < threads; i++)
		sum += as[i].sum;
	printf("RESULT workload=large-blocks threads=%ld elapsed_s=%.6f "
	       "ops=%ld checksum=%llu\n", threads, t1 - t0,
	       threads * (iterations + growths * (long)(max / MIB)), sum);
	return 0;
}
