/* SPDX-License-Identifier: MIT */
/*
 * bench/percpu_counter.c - what a counter update costs, three ways, and
 * what a kmap_atomic round trip costs:
 *
 *   percpu_counter [MILLIONS]      (default 5 million updates a thread
 *                                  a round, 5 rounds)
 *
 *   this_cpu_inc   alloc_percpu(long) and this_cpu_inc (<kmem.h>): an
 *                  rseq section (KMEM_PERCPU=rseq) or one plain add to the
 *                  thread's slot (KMEM_PERCPU=thread); no atomic
 *                  instruction, no shared cache line;
 *   atomic         one shared counter, atomic_fetch_add (lock xadd);
 *   mutex          one shared counter under a pthread mutex;
 * each with 1 and 2 threads (each thread does MILLIONS updates a round),
 * printed as ns per update per thread, the best of 5 rounds and their
 * median (the machine is shared: the best is the least disturbed); the
 * sum is checked exact every round.
 * Then kmap_atomic + kunmap_atomic of a highmem page (two mmap calls: the
 * slot is mapped and unmapped each time) and of a low page (its address
 * at once), and kmap + kunmap of the same highmem page (its window stays
 * mapped: no system call).
 *
 * One line per figure: "RESULT bench=<name> threads=<n> ns=<ns> ..."
 * (kmap figures: one round of 200,000 or 2,000,000).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <kmem.h>

#include "common.h"

#define ROUNDS 5

static long ops;
static long *pcpu_counter;
static _Atomic long atomic_counter;
static long mutex_counter;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;

static void *run_pcpu(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < ops; i++)
		this_cpu_inc(pcpu_counter);
	return NULL;
}

static void *run_atomic(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < ops; i++)
		atomic_fetch_add_explicit(&atomic_counter, 1,
					  memory_order_relaxed);
	return NULL;
}

static void *run_mutex(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < ops; i++) {
		pthread_mutex_lock(&mutex);
		mutex_counter++;
		pthread_mutex_unlock(&mutex);
	}
	return NULL;
}

static long pcpu_sum(void)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(pcpu_counter, cpu);
	return sum;
}

/* One round: ns per update per thread. */
static double round_ns(const char *name, void *(*fn)(void *), int threads,
		       long (*total)(void))
{
	pthread_t t[2];
	long before = total(), got;
	double t0;

	pthread_barrier_init(&start, NULL, (unsigned int)threads + 1);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, fn, NULL);
	t0 = bench_now();
	pthread_barrier_wait(&start);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	t0 = bench_now() - t0;
	pthread_barrier_destroy(&start);
	got = total() - before;
	if (got != ops * threads) {
		fprintf(stderr, "%s: sum %ld, expected %ld\n", name, got,
			ops * threads);
		exit(1);
	}
	return t0 * 1e9 / (double)ops;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ROUNDS rounds: the best (least disturbed) and the median. */
static void timed(const char *name, void *(*fn)(void *), int threads,
		  long (*total)(void))
{
	double ns[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		ns[r] = round_ns(name, fn, threads, total);
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_double);
	printf("RESULT bench=%s threads=%d ns=%.2f median_ns=%.2f\n", name,
	       threads, ns[0], ns[ROUNDS / 2]);
}

static long atomic_total(void)
{
	return atomic_load(&atomic_counter);
}

static long mutex_total(void)
{
	return mutex_counter;
}

static void kmap_round_trips(void)
{
	struct page *high = alloc_page(GFP_HIGHUSER);
	struct page *low = alloc_page(GFP_KERNEL);
	long n = 200000;
	double t0;

	if (!high || !low) {
		fprintf(stderr, "no pages\n");
		exit(1);
	}
	t0 = bench_now();
	for (long i = 0; i < n; i++) {
		volatile char *a = kmap_atomic(high);

		a[0]++;
		kunmap_atomic((void *)a);
	}
	printf("RESULT bench=kmap_atomic_highmem threads=1 ns=%.1f\n",
	       (bench_now() - t0) * 1e9 / (double)n);
	t0 = bench_now();
	for (long i = 0; i < n * 10; i++) {
		volatile char *a = kmap_atomic(low);

		a[0]++;
		kunmap_atomic((void *)a);
	}
	printf("RESULT bench=kmap_atomic_lowmem threads=1 ns=%.1f\n",
	       (bench_now() - t0) * 1e9 / (double)(n * 10));
	t0 = bench_now();
	for (long i = 0; i < n; i++) {
		volatile char *a = kmap(high);

		a[0]++;
		kunmap(high);
	}
	printf("RESULT bench=kmap_highmem_same_page threads=1 ns=%.1f\n",
	       (bench_now() - t0) * 1e9 / (double)n);
	__free_page(high);
	__free_page(low);
}

int main(int argc, char **argv)
{
	ops = (argc > 1 ? atol(argv[1]) : 5) * 1000000L;
	pcpu_counter = alloc_percpu(long);
	if (!pcpu_counter) {
		perror("alloc_percpu");
		return 1;
	}
	printf("# KMEM_PERCPU=%s, %ld updates a thread\n",
	       getenv("KMEM_PERCPU") ? getenv("KMEM_PERCPU") : "(default)",
	       ops);
	for (int threads = 1; threads <= 2; threads++) {
		timed("this_cpu_inc", run_pcpu, threads, pcpu_sum);
		timed("atomic_fetch_add", run_atomic, threads, atomic_total);
		timed("mutex", run_mutex, threads, mutex_total);
	}
	kmap_round_trips();
	free_percpu(pcpu_counter);
	return 0;
}
