/* SPDX-License-Identifier: MIT */
/*
 * bench/xmalloc.c - producer/consumer workload after xmalloc-test
 * (Lever and Boreham, "malloc() performance in a multithreaded Linux
 * environment", USENIX 2000; also in mimalloc-bench).
 *
 * Half the threads produce: they allocate objects of random size
 * 16..512 bytes, write to them and push them in batches of BATCH onto a
 * shared queue.  The other half consume: they pop batches, read the
 * objects and free them.  Every object is freed by a different thread
 * than the one that allocated it.  With threads=2 there is one producer
 * and one consumer.
 *
 *   xmalloc [threads=2] [objects_per_producer=4000000]
 */
#include <pthread.h>

#include "common.h"

#define BATCH 256	/* objects per queue entry */
#define QUEUE_MAX 64	/* batches in flight before producers wait */

struct batch {
	struct batch *next;	/* queue link */
	int n;			/* objects in obj[] */
	void *obj[BATCH];	/* objects to free */
};

static struct {
	pthread_mutex_t lock;	/* protects everything below */
	pthread_cond_t nonempty; /* consumers wait here */
	pthread_cond_t nonfull;	/* producers wait here */
	struct batch *head;	/* oldest batch */
	struct batch *tail;	/* newest batch */
	int len;		/* batches queued */
	int producers_left;	/* producers still running */
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0 };

static long per_producer;

static void push(struct batch *b)
{
	pthread_mutex_lock(&q.lock);
	while (q.len >= QUEUE_MAX)
		pthread_cond_wait(&q.nonfull, &q.lock);
	b->next = NULL;
	if (q.tail)
		q.tail->next = b;
	else
		q.head = b;
	q.tail = b;
	q.len++;
	pthread_cond_signal(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
}

/* NULL when every producer is done and the queue is empty. */
static struct batch *pop(void)
{
	struct batch *b;

	pthread_mutex_lock(&q.lock);
	while (!q.head && q.producers_left)
		pthread_cond_wait(&q.nonempty, &q.lock);
	b = q.head;
	if (b) {
		q.head = b->next;
		if (!q.head)
			q.tail = NULL;
		q.len--;
		pthread_cond_signal(&q.nonfull);
	}
	pthread_mutex_unlock(&q.lock);
	return b;
}

static void *producer(void *arg)
{
	uint64_t rng = bench_seed((unsigned int)(long)arg);
	long made = 0;

	while (made < per_producer) {
		/* The batch itself is allocated here and freed there, too. */
		struct batch *b = malloc(sizeof(*b));

		if (!b)
			bench_oom();
		b->n = 0;
		while (b->n < BATCH && made < per_producer) {
			size_t size = bench_range(&rng, 16, 512);
			unsigned char *p = malloc(size);

			if (!p)
				bench_oom();
			p[0] = 1;
			p[size - 1] = 1;
			b->obj[b->n++] = p;
			made++;
		}
		push(b);
	}
	pthread_mutex_lock(&q.lock);
	q.producers_left--;
	pthread_cond_broadcast(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	unsigned long long *freed = arg;
	struct batch *b;

	while ((b = pop())) {
		for (int i = 0; i < b->n; i++) {
			*freed += *(unsigned char *)b->obj[i];
			free(b->obj[i]);
		}
		free(b);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = bench_arg(argc, argv, 1, 2);
	long nprod, ncons;
	pthread_t *ts;
	unsigned long long *freed;
	unsigned long long total = 0;
	double t0, t1;

	per_producer = bench_arg(argc, argv, 2, 4000000);
	if (threads < 2)
		threads = 2;
	nprod = threads / 2;
	ncons = threads - nprod;
	q.producers_left = (int)nprod;
	ts = calloc(threads, sizeof(*ts));
	freed = calloc(threads, sizeof(*freed));
	if (!ts || !freed)
		bench_oom();
	t0 = bench_now();
	for (long i = 0; i < nprod; i++)
		pthread_create(&ts[i], NULL, producer, (void *)i);
	for (long i = 0; i < ncons; i++)
		pthread_create(&ts[nprod + i], NULL, consumer, &freed[i]);
	for (long i = 0; i < threads; i++)
		pthread_join(ts[i], NULL);
	t1 = bench_now();
	for (long i = 0; i < ncons; i++)
		total += freed[i];
	if (total != (unsigned long long)(nprod * per_producer)) {
		fprintf(stderr, "xmalloc: freed %llu of %ld objects\n", total,
			nprod * per_producer);
		return 1;
	}
	printf("RESULT workload=xmalloc threads=%ld elapsed_s=%.6f ops=%llu "
	       "ops_per_s=%.0f\n", threads, t1 - t0, total, total / (t1 - t0));
	return 0;
}
