/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/signal_alloc.c - malloc, calloc, realloc and free from a
 * 10 kHz timer signal handler while threads allocate.
 *
 *   signal_alloc [seconds] [threads]        (defaults 10, 3)
 *
 * Each allocating thread has its own timer (timer_create, SIGEV_THREAD_ID)
 * firing SIGALRM every 100 us, so its handler lands anywhere in the
 * thread's own malloc, free, realloc or calloc: fast path, refill, drain,
 * page runs, vmalloc areas.  The handler keeps a ring of 64 blocks of its
 * thread: each run checks one old block's fill and frees it, reallocs
 * another (the kept prefix is checked), and puts a fresh malloc or calloc
 * (zeroes checked) in its place, filled with a pattern.  The threads do
 * the same with blocks of their own and with blocks shared through an
 * array of slots (freed by whichever thread takes them).  Every object's
 * contents are checked in full before it is freed or after it moved.
 *
 * kmem must neither deadlock (the watchdog of the driver script turns a
 * hang into a failure) nor corrupt: a handler that finds a lock held by
 * the code it interrupted takes the atomic reserve or defers its free.
 * Prints one summary line; exits 0 if no check failed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>

#include "stress.h"

#define MAX_THREADS 16
#define RING 64
#define NSLOTS 512

struct blk {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static atomic_bool stop;
static _Atomic unsigned long handler_runs, handler_ops, interrupted;
static _Atomic unsigned long thread_ops, shared_ops;
static _Atomic(unsigned char *) slots[NSLOTS];	/* size in the first word */

static __thread struct blk ring[RING];	/* the handler's blocks */
static __thread uint64_t hseed;
static __thread volatile sig_atomic_t in_call;	/* in a malloc-family call */

static void check_blk(const struct blk *b, const char *who)
{
	size_t bad = check_fill(b->p, b->n, b->tag);

	if (bad)
		stress_die("signal_alloc: %s: block %p of %zu bytes corrupted "
			   "at offset %zu", who, (void *)b->p, b->n, bad - 1);
}

/* Sizes: mostly slab classes, some page runs, a few vmalloc areas. */
static size_t pick_size(uint64_t *seed, size_t big)
{
	uint64_t r = rng_next(seed);

	switch (r % 50) {
	case 0: return (r >> 8) % big + 1;
	case 1: case 2: case 3: case 4: return (r >> 8) % 16384 + 1;
	default: return (r >> 8) % 1024;	/* 0 too */
	}
}

static void handler(int sig)
{
	int saved = errno;
	uint64_t r;
	struct blk *b;
	size_t n;

	(void)sig;
	atomic_fetch_add_explicit(&handler_runs, 1, memory_order_relaxed);
	if (in_call)
		atomic_fetch_add_explicit(&interrupted, 1, memory_order_relaxed);
	r = rng_next(&hseed);
	b = &ring[r % RING];
	/* Free the old block of this slot, or move it with realloc. */
	if (b->p) {
		check_blk(b, "handler");
		if ((r >> 8) % 4 == 0) {
			size_t m = pick_size(&hseed, 200000) + 1;
			unsigned char *q = realloc(b->p, m);

			if (!q)
				stress_die("signal_alloc: realloc(%zu) in a "
					   "handler failed", m);
			b->p = q;
			b->n = b->n < m ? b->n : m;
			check_blk(b, "handler after realloc");
			b->n = m;
			fill(b->p, m, b->tag);
			atomic_fetch_add_explicit(&handler_ops, 1,
						  memory_order_relaxed);
			errno = saved;
			return;
		}
		free(b->p);
		b->p = NULL;
	}
	n = pick_size(&hseed, 200000);
	if ((r >> 12) % 3 == 0) {
		b->p = calloc(1, n);
		if (b->p)
			for (size_t i = 0; i < n; i++)
				if (b->p[i])
					stress_die("signal_alloc: calloc(%zu) "
						   "in a handler: byte %zu is "
						   "not 0", n, i);
	} else {
		b->p = malloc(n);
	}
	if (!b->p)
		stress_die("signal_alloc: allocation of %zu bytes in a handler "
			   "failed", n);
	b->n = n;
	b->tag = (unsigned char)(r >> 20);
	fill(b->p, n, b->tag);
	atomic_fetch_add_explicit(&handler_ops, 2, memory_order_relaxed);
	errno = saved;
}

/* The thread's own work: a ring of its own and the shared slots. */
static void *allocator(void *arg)
{
	int id = (int)(uintptr_t)arg;
	uint64_t seed = (uint64_t)id * 0x9e3779b97f4a7c15ULL + 7;
	struct blk own[256];
	unsigned long ops = 0, shared = 0;
	struct sigevent sev;
	struct itimerspec its;
	timer_t timer;
	sigset_t set;

	memset(own, 0, sizeof(own));
	hseed = seed ^ 0x5555;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		stress_die("signal_alloc: timer_create: %s", strerror(errno));
	its.it_interval.tv_sec = 0;
	its.it_interval.tv_nsec = 100000;	/* 10 kHz */
	its.it_value = its.it_interval;
	timer_settime(timer, 0, &its, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = rng_next(&seed);
		struct blk *b = &own[r % 256];
		size_t n = pick_size(&seed, 600000);

		if (b->p) {
			check_blk(b, "thread");
			if ((r >> 8) % 3 == 0) {
				unsigned char *q;

				in_call = 1;
				q = realloc(b->p, n + 1);
				in_call = 0;
				if (!q)
					stress_die("signal_alloc: realloc failed");
				b->p = q;
				b->n = b->n < n + 1 ? b->n : n + 1;
				check_blk(b, "thread after realloc");
				b->n = n + 1;
				fill(b->p, b->n, b->tag);
				ops++;
				continue;
			}
			in_call = 1;
			free(b->p);
			in_call = 0;
		}
		in_call = 1;
		b->p = (r >> 12) % 4 == 0 ? calloc(n, 1) : malloc(n);
		in_call = 0;
		if (!b->p)
			stress_die("signal_alloc: allocation of %zu failed", n);
		if ((r >> 12) % 4 == 0)
			for (size_t i = 0; i < n; i++)
				if (b->p[i])
					stress_die("signal_alloc: calloc(%zu): "
						   "byte %zu is not 0", n, i);
		b->n = n;
		b->tag = (unsigned char)(r >> 24);
		fill(b->p, n, b->tag);
		ops += 2;

		/* A shared block: freed by whichever thread takes it. */
		if ((r >> 30) % 4 == 0) {
			size_t m = (r >> 34) % 3000 + 16;
			unsigned char *p, *old;

			in_call = 1;
			p = malloc(m);
			in_call = 0;
			if (!p)
				stress_die("signal_alloc: malloc(%zu) failed", m);
			memcpy(p, &m, sizeof(m));
			fill(p + 8, m - 8, (unsigned char)m);
			old = atomic_exchange(&slots[(r >> 40) % NSLOTS], p);
			if (old) {
				memcpy(&m, old, sizeof(m));
				if (m < 16 || m > 3016 ||
				    check_fill(old + 8, m - 8, (unsigned char)m))
					stress_die("signal_alloc: shared block "
						   "%p corrupted", (void *)old);
				in_call = 1;
				free(old);
				in_call = 0;
			}
			shared++;
		}
	}
	timer_delete(timer);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 256; i++)
		if (own[i].p) {
			check_blk(&own[i], "thread at the end");
			free(own[i].p);
		}
	for (int i = 0; i < RING; i++)
		if (ring[i].p) {
			check_blk(&ring[i], "handler's, at the end");
			free(ring[i].p);
		}
	atomic_fetch_add(&thread_ops, ops);
	atomic_fetch_add(&shared_ops, shared);
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	int nthreads = argc > 2 ? atoi(argv[2]) : 3;
	pthread_t th[MAX_THREADS];
	struct sigaction sa;
	sigset_t set;

	if (nthreads < 1 || nthreads > MAX_THREADS)
		stress_die("signal_alloc: 1 to %d threads", MAX_THREADS);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* only allocators take it */
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, allocator, (void *)(uintptr_t)(i + 1));
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NSLOTS; i++) {
		unsigned char *p = atomic_load(&slots[i]);
		size_t m;

		if (!p)
			continue;
		memcpy(&m, p, sizeof(m));
		if (m < 16 || m > 3016 || check_fill(p + 8, m - 8, (unsigned char)m))
			stress_die("signal_alloc: shared block corrupted");
		free(p);
	}
	printf("signal_alloc: %d threads for %.0f s, each with a 10 kHz "
	       "timer: %lu handler runs (%lu of them interrupted a malloc, "
	       "calloc, realloc or free), %lu handler ops, %lu thread ops, "
	       "%lu shared blocks, every block checked, 0 errors\n",
	       nthreads, secs, handler_runs, interrupted, handler_ops,
	       thread_ops, shared_ops);
	return 0;
}
