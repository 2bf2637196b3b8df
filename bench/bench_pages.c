/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_pages.c - the buddy page allocator, alone: nanoseconds per
 * alloc/free pair for every order 0..MAX_ORDER, with 1 and 2 threads.
 *
 *   make bench-pages                      (build/bench/bench_pages)
 *   build/bench/bench_pages [-n PAIRS] [-r RUNS] [-t MAXTHREADS]
 *
 * Linked statically with build/libkmem-core.a (no malloc interposition):
 * it calls the page API through the kernel spellings of <kmem.h>.
 *
 * Two patterns per order:
 *   pair     p = __get_free_pages(order); free_pages(p, order); repeated.
 *            Orders 0..3 hit the per-CPU lists (LIFO), 4..10 the zone
 *            lock, with a split and a merge per pair when no block of
 *            the order is free.
 *   batch64  64 allocations, then the 64 frees (in allocation order):
 *            refills and drains of the per-CPU lists, splits and merges.
 * The blocks are not touched: this measures the allocator, not page
 * faults.  Each figure is the median over RUNS runs of (wall time of the
 * run) / (pairs done by one thread): with 2 threads both run at once, so
 * a figure equal to the 1-thread one means perfect scaling and a higher
 * one shows contention.
 */
#include <kmem.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_THREADS 16

enum pattern { PAT_PAIR, PAT_BATCH, NR_PATTERNS };
static const char *const pattern_names[NR_PATTERNS] = { "pair", "batch64" };

struct job {
	enum pattern pat;
	unsigned int order;
	long pairs;			/* per thread */
	int nthreads;
	pthread_barrier_t start;	/* all threads and the timer */
	pthread_barrier_t stop;
	int failed;			/* an allocation returned 0 */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	unsigned long v[BATCH];
	unsigned int o = j->order;

	pthread_barrier_wait(&j->start);
	if (j->pat == PAT_PAIR) {
		for (long i = 0; i < j->pairs; i++) {
			unsigned long p = __get_free_pages(GFP_KERNEL, o);

			if (!p) {
				j->failed = 1;
				break;
			}
			__asm__ __volatile__("" : : "r"(p) : "memory");
			free_pages(p, o);
		}
	} else {
		for (long i = 0; i < j->pairs; i += BATCH) {
			for (int k = 0; k < BATCH; k++) {
				v[k] = __get_free_pages(GFP_KERNEL, o);
				if (!v[k])
					j->failed = 1;
			}
			__asm__ __volatile__("" : : "r"(v) : "memory");
			for (int k = 0; k < BATCH; k++)
				free_pages(v[k], o);
		}
	}
	pthread_barrier_wait(&j->stop);
	return NULL;
}

/* One timed run: ns per pair per thread. */
static double run_once(enum pattern pat, unsigned int order, long pairs,
		       int nthreads)
{
	pthread_t t[MAX_THREADS];
	struct job j = { .pat = pat, .order = order, .pairs = pairs,
			 .nthreads = nthreads };
	uint64_t t0, t1;

	pthread_barrier_init(&j.start, NULL, (unsigned int)nthreads + 1);
	pthread_barrier_init(&j.stop, NULL, (unsigned int)nthreads + 1);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, &j)) {
			perror("pthread_create");
			exit(1);
		}
	pthread_barrier_wait(&j.start);
	t0 = now_ns();
	pthread_barrier_wait(&j.stop);
	t1 = now_ns();
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&j.start);
	pthread_barrier_destroy(&j.stop);
	if (j.failed) {
		fprintf(stderr, "allocation failed (order %u)\n", order);
		exit(1);
	}
	return (double)(t1 - t0) / (double)pairs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_run(enum pattern pat, unsigned int order, long pairs,
			 int nthreads, int runs)
{
	double r[64];

	if (runs > 64)
		runs = 64;
	for (int i = 0; i < runs; i++)
		r[i] = run_once(pat, order, pairs, nthreads);
	qsort(r, (size_t)runs, sizeof(r[0]), cmp_double);
	return runs % 2 ? r[runs / 2] : (r[runs / 2 - 1] + r[runs / 2]) / 2;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n PAIRS] [-r RUNS] [-t MAXTHREADS]\n"
		"  PAIRS per thread per run (default 200000), RUNS per figure "
		"(default 5, median),\n  threads 1..MAXTHREADS in powers of "
		"two (default 2)\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	long pairs = 200000;
	int runs = 5, maxthreads = 2, opt, tcounts[8], nt = 0;

	while ((opt = getopt(argc, argv, "n:r:t:h")) != -1) {
		switch (opt) {
		case 'n': pairs = atol(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 't': maxthreads = atoi(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (pairs < BATCH || runs < 1 || maxthreads < 1 ||
	    maxthreads > MAX_THREADS)
		usage(argv[0]);
	pairs -= pairs % BATCH;
	for (int t = 1; t <= maxthreads && nt < 8; t *= 2)
		tcounts[nt++] = t;

	/* Warm up: grow the zone to what the batch runs need. */
	for (int t = 0; t < nt; t++)
		run_once(PAT_BATCH, MAX_ORDER, BATCH, tcounts[t]);

	printf("kmem page allocator: ns per alloc+free pair, per thread "
	       "(median of %d runs, %ld pairs/thread/run, %ld CPUs online)\n",
	       runs, pairs, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-5s %-6s", "order", "size");
	for (int p = 0; p < NR_PATTERNS; p++)
		for (int t = 0; t < nt; t++) {
			char h[32];

			snprintf(h, sizeof(h), "%s/%dT", pattern_names[p], tcounts[t]);
			printf(" %11s", h);
		}
	putchar('\n');
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		size_t kib = (PAGE_SIZE << o) >> 10;

		printf("%-5u %4zu%s", o, kib >= 1024 ? kib >> 10 : kib,
		       kib >= 1024 ? "M " : "K ");
		for (int p = 0; p < NR_PATTERNS; p++)
			for (int t = 0; t < nt; t++)
				printf(" %11.1f", median_run((enum pattern)p, o,
							     pairs, tcounts[t], runs));
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}
