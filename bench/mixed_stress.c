/* SPDX-License-Identifier: MIT */
/*
 * bench/mixed_stress.c - mixed-size multi-thread stress with cross-thread
 * frees up to MiB sizes, in the shape of mimalloc-bench's "mstress" and
 * of sh6bench: the workload where small-object speed, the large-block
 * path and page churn (faults, madvise, munmap) all show at once.
 *
 * All threads share one array of <slots> slots.  Each operation draws a
 * size skewed small - 90% 8..1024 B, 9% 1 KiB..64 KiB, 1% 64 KiB..8 MiB,
 * uniform within each band - allocates it, writes its size in its first
 * 4 bytes and a tag in its last byte, and swaps it into a random slot
 * with an atomic exchange; the object that was there, which any thread
 * may have allocated, is checked and freed.  So objects pass between threads, and
 * a large block is freed by whichever thread next hits its slot.  Only
 * the first and last bytes are written, as a program that uses a buffer
 * from both ends would: a large block costs the faults of the pages the
 * allocator itself touches (or does not reuse), not a memset.
 *
 * Why: larson and xmalloc pass small objects between threads, and
 * large-blocks churns MiB blocks in one thread; a real server does both
 * at once, and an allocator that purges or unmaps a large block on free
 * and faults it back in on the next malloc shows here as system time,
 * page faults and madvise calls (bench/run.py counts them).
 *
 * Generators are seeded per thread from fixed constants, so every run
 * draws the same sizes and slots; which thread frees which object
 * depends on the schedule.
 *
 *   mixed_stress [threads=2] [ops_per_thread=1000000] [slots=4096]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

static _Atomic(unsigned char *) *slots;
static long nslots, per_thread;

/* 90% small, 9% medium, 1% large. */
static size_t draw_size(uint64_t *rng)
{
	unsigned int band = (unsigned int)(bench_rand(rng) % 100);

	if (band < 90)
		return bench_range(rng, 8, 1024);
	if (band < 99)
		return bench_range(rng, 1025, 64 << 10);
	return bench_range(rng, (64 << 10) + 1, 8 << 20);
}

static unsigned char tag(size_t size)
{
	return (unsigned char)(size * 0x9E3779B1u >> 24) | 1;
}

static void check_free(unsigned char *p)
{
	uint32_t size;

	memcpy(&size, p, sizeof(size));
	if (size < 8 || size > (8 << 20) || p[size - 1] != tag(size)) {
		fprintf(stderr, "mixed_stress: object %p (%u B) corrupted\n",
			(void *)p, size);
		exit(1);
	}
	free(p);
}

static void *worker(void *arg)
{
	uint64_t rng = bench_seed((unsigned int)(long)arg);

	for (long k = 0; k < per_thread; k++) {
		size_t size = draw_size(&rng);
		long i = (long)(bench_rand(&rng) % (uint64_t)nslots);
		uint32_t size32 = (uint32_t)size;
		unsigned char *p = malloc(size), *old;

		if (!p)
			bench_oom();
		memcpy(p, &size32, sizeof(size32));
		p[size - 1] = tag(size);
		old = atomic_exchange_explicit(&slots[i], p,
					       memory_order_acq_rel);
		if (old)
			check_free(old);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = bench_arg(argc, argv, 1, 2);
	pthread_t *ts;
	double t0, t1;
	long peak;

	per_thread = bench_arg(argc, argv, 2, 1000000);
	nslots = bench_arg(argc, argv, 3, 4096);
	if (threads < 1 || nslots < 1)
		return 2;
	ts = calloc(threads, sizeof(*ts));
	slots = calloc(nslots, sizeof(*slots));
	if (!ts || !slots)
		bench_oom();
	t0 = bench_now();
	for (long i = 0; i < threads; i++)
		pthread_create(&ts[i], NULL, worker, (void *)i);
	for (long i = 0; i < threads; i++)
		pthread_join(ts[i], NULL);
	t1 = bench_now();
	peak = bench_peak_rss_kb();
	for (long i = 0; i < nslots; i++) {
		unsigned char *p = atomic_load(&slots[i]);

		if (p)
			check_free(p);
	}
	printf("RESULT workload=mixed-stress threads=%ld elapsed_s=%.6f "
	       "ops=%ld ops_per_s=%.0f peak_rss_kb=%ld\n", threads, t1 - t0,
	       threads * per_thread, threads * per_thread / (t1 - t0), peak);
	return 0;
}
