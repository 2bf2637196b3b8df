/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/thread_churn.c - threads that start, allocate and exit in a
 * loop must not make the heap grow.
 *
 *   thread_churn [iterations]          (default 2000)
 *
 * Each iteration creates two threads: both allocate and free blocks of
 * every small size (filling their thread caches), and each leaves a few
 * blocks behind for the main thread (or the next thread) to free.  The
 * resident set size and the heap's mapped bytes (mallinfo2's arena +
 * hblkhd) after a quarter of the run and at the end are printed; growth
 * beyond a small margin fails.  Plain program: kmem comes by LD_PRELOAD.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEFT 16

struct job {
	void *left[LEFT];	/* blocks this thread leaves behind */
	void *inherited[LEFT];	/* blocks of a previous thread to free */
};

static void *run(void *arg)
{
	struct job *j = arg;
	void *p[256];

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 256; i++) {
			p[i] = malloc((size_t)(i * 37 % 4000) + 1);
			memset(p[i], i, 8);
		}
		for (int i = 0; i < 256; i++)
			free(p[i]);
	}
	for (int i = 0; i < LEFT; i++) {
		free(j->inherited[i]);
		j->left[i] = malloc((size_t)(i * 100) + 16);
	}
	return NULL;
}

static size_t rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

static size_t heap_kib(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (mi.arena + mi.hblkhd) / 1024;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	static struct job jobs[2];
	size_t rss1 = 0, heap1 = 0, rss2, heap2;

	for (int it = 0; it < iters; it++) {
		pthread_t t[2];

		for (int k = 0; k < 2; k++) {
			/* The previous thread's leftovers go to this one. */
			memcpy(jobs[k].inherited, jobs[k].left, sizeof(jobs[k].left));
			if (pthread_create(&t[k], NULL, run, &jobs[k])) {
				perror("pthread_create");
				return 1;
			}
		}
		for (int k = 0; k < 2; k++)
			pthread_join(t[k], NULL);
		if (it == iters / 4 - 1) {
			rss1 = rss_kib();
			heap1 = heap_kib();
		}
	}
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < LEFT; i++)
			free(jobs[k].left[i]);
	rss2 = rss_kib();
	heap2 = heap_kib();
	printf("after %d iterations: rss %zu KiB, heap %zu KiB; after %d: "
	       "rss %zu KiB, heap %zu KiB\n", iters / 4, rss1, heap1, iters,
	       rss2, heap2);
	/* Margin: 4 MiB plus 10% (purge delays, per-CPU caches). */
	if (rss2 > rss1 + 4096 + rss1 / 10) {
		printf("FAIL: resident memory grew by %zu KiB\n", rss2 - rss1);
		return 1;
	}
	if (heap2 > heap1 + 4096 + heap1 / 10) {
		printf("FAIL: the heap grew by %zu KiB\n", heap2 - heap1);
		return 1;
	}
	return 0;
}
