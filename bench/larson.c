/* SPDX-License-Identifier: MIT */
/*
 * bench/larson.c - a server-like workload after Larson and Krishnan's
 * "larson" benchmark (Memory allocation for long-running server
 * applications, ISMM 1998), as used by Hoard, mimalloc-bench and others.
 *
 * Each of <threads> lineages owns an array of <slots> objects.  A worker
 * thread repeatedly picks a random slot, frees the object there and
 * allocates a new one of random size 16..1024 bytes.  After <ops> such
 * replacements the worker exits and hands the array to a NEW thread, which
 * goes on freeing objects that its predecessor allocated: memory crosses
 * threads, and threads die holding cached memory, as in a server that
 * spawns a thread per connection.
 *
 *   larson [threads=2] [rounds=100] [ops=100000] [slots=1000]
 */
#include <pthread.h>

#include "common.h"

struct lineage {
	void **slots;		/* the objects this lineage holds */
	long nslots;		/* number of slots */
	long ops;		/* replacements per worker thread */
	long rounds;		/* worker threads, one after the other */
	uint64_t rng;		/* deterministic random state */
	unsigned long long done; /* replacements done */
	unsigned long long sum;	/* checksum of bytes read, defeats elision */
};

static void *worker(void *arg)
{
	struct lineage *l = arg;

	for (long k = 0; k < l->ops; k++) {
		long i = (long)(bench_rand(&l->rng) % l->nslots);
		size_t size = bench_range(&l->rng, 16, 1024);
		unsigned char *p;

		if (l->slots[i])
			l->sum += *(unsigned char *)l->slots[i];
		free(l->slots[i]);
		p = malloc(size);
		if (!p)
			bench_oom();
		p[0] = (unsigned char)k;
		p[size - 1] = (unsigned char)size;
		l->slots[i] = p;
	}
	l->done += l->ops;
	return NULL;
}

/* One lineage: start a worker, wait for it, start the next on its data. */
static void *controller(void *arg)
{
	struct lineage *l = arg;

	for (long r = 0; r < l->rounds; r++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, l)) {
			perror("pthread_create");
			exit(2);
		}
		pthread_join(t, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = bench_arg(argc, argv, 1, 2);
	long rounds = bench_arg(argc, argv, 2, 100);
	long ops = bench_arg(argc, argv, 3, 100000);
	long nslots = bench_arg(argc, argv, 4, 1000);
	struct lineage *ls = calloc(threads, sizeof(*ls));
	pthread_t *ts = calloc(threads, sizeof(*ts));
	unsigned long long done = 0, sum = 0;
	double t0, t1;

	if (!ls || !ts)
		bench_oom();
	for (long i = 0; i < threads; i++) {
		ls[i].slots = calloc(nslots, sizeof(void *));
		if (!ls[i].slots)
			bench_oom();
		ls[i].nslots = nslots;
		ls[i].ops = ops;
		ls[i].rounds = rounds;
		ls[i].rng = bench_seed(i);
	}
	t0 = bench_now();
	for (long i = 0; i < threads; i++)
		pthread_create(&ts[i], NULL, controller, &ls[i]);
	for (long i = 0; i < threads; i++)
		pthread_join(ts[i], NULL);
	/* The main thread frees what the last workers allocated. */
	for (long i = 0; i < threads; i++) {
		for (long j = 0; j < nslots; j++)
			free(ls[i].slots[j]);
		done += ls[i].done;
		sum += ls[i].sum;
	}
	t1 = bench_now();
	printf("RESULT workload=larson threads=%ld elapsed_s=%.6f ops=%llu "
	       "ops_per_s=%.0f checksum=%llu\n",
	       threads, t1 - t0, done, done / (t1 - t0), sum);
	return 0;
}
