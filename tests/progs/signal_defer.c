/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/signal_defer.c - real-time signals with values, queued to
 * threads that are busy inside the allocator: none lost, none doubled.
 *
 *   signal_defer [seconds]          (default 3)
 *
 * Two worker threads malloc and free blocks of every kind (slab objects,
 * page runs, vmalloc areas) and hand half of them to each other through
 * a ring, so that their slow paths take kmem's locks (slabs, depot,
 * zones, vmalloc) all the time.  A sender thread queues SIGRTMIN+1 to
 * them alternately with pthread_sigqueue, the value a sequence number;
 * the handler mallocs, fills, checks and frees a block and adds the value
 * to its thread's sum.  With kmem's signal deferral (preload/signal.c) a
 * signal that lands while its thread holds a kmem lock is queued again
 * and delivered at the unlock: it must still arrive exactly once, with
 * its value.  At the end the sender's count and sum of values must equal
 * the handlers'.  Prints one summary line; exits 0 if they do.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "stress.h"

#define NWORKERS 2
#define RING 256

static pthread_t workers[NWORKERS];
static atomic_bool stop;
static _Atomic unsigned long received[NWORKERS], value_sum[NWORKERS];
static _Atomic unsigned long worker_ops;
static _Atomic int started;
static sigset_t worker_sigs;
static _Atomic(void *) ring[RING];
static __thread int self = -1;

static void handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	unsigned char *p;

	(void)sig;
	(void)uc;
	if (self < 0)
		stress_die("signal_defer: handler on a thread that is no worker");
	p = malloc(200);
	if (!p)
		stress_die("signal_defer: malloc(200) in the handler failed");
	fill(p, 200, 0x4d);
	if (check_fill(p, 200, 0x4d))
		stress_die("signal_defer: the handler's block was corrupted");
	free(p);
	atomic_fetch_add(&received[self], 1);
	atomic_fetch_add(&value_sum[self], (unsigned long)si->si_value.sival_int);
	errno = saved;
}

static size_t pick_size(uint64_t *rng)
{
	uint64_t r = rng_next(rng);

	switch (r % 16) {
	case 0:
		return 40000 + (r >> 8) % 200000;	/* page runs */
	case 1:
		return (600 << 10) + (r >> 8) % (1 << 20); /* vmalloc */
	default:
		return 8 + (r >> 8) % 4000;		/* slab objects */
	}
}

static void *worker(void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (uintptr_t)(1 + (intptr_t)arg);
	void *mine[64];
	size_t sizes[64];

	self = (int)(intptr_t)arg;
	pthread_sigmask(SIG_UNBLOCK, &worker_sigs, NULL);
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&stop)) {
		for (int i = 0; i < 64; i++) {
			sizes[i] = pick_size(&rng);
			mine[i] = malloc(sizes[i]);
			if (!mine[i])
				stress_die("signal_defer: malloc(%zu) failed",
					   sizes[i]);
			fill(mine[i], sizes[i] < 256 ? sizes[i] : 256,
			     (unsigned char)i);
		}
		for (int i = 0; i < 64; i++) {
			if (check_fill(mine[i], sizes[i] < 256 ? sizes[i] : 256,
				       (unsigned char)i))
				stress_die("signal_defer: a block was corrupted");
			if (i & 1) {	/* to the other worker, and back */
				void *old = atomic_exchange(
					&ring[rng_next(&rng) % RING], mine[i]);

				free(old);
			} else {
				free(mine[i]);
			}
		}
		atomic_fetch_add(&worker_ops, 64);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, end;
	unsigned long sent = 0, sent_sum = 0, got = 0, got_sum = 0;
	struct sigaction sa;
	sigset_t rt;
	int sig = SIGRTMIN + 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		stress_die("signal_defer: sigaction failed");
	/* Only the workers take the signal, once they know who they are. */
	sigemptyset(&rt);
	sigaddset(&rt, sig);
	worker_sigs = rt;
	pthread_sigmask(SIG_BLOCK, &rt, NULL);
	for (intptr_t i = 0; i < NWORKERS; i++)
		pthread_create(&workers[i], NULL, worker, (void *)i);
	while (atomic_load(&started) < NWORKERS)
		usleep(1000);
	end = now_s() + secs;
	while (now_s() < end) {
		union sigval v = { .sival_int = (int)(sent % 100000) };
		int w = (int)(sent % NWORKERS);

		if (pthread_sigqueue(workers[w], sig, v) == EAGAIN) {
			usleep(100);	/* the queue is full: let it drain */
			continue;
		}
		sent++;
		sent_sum += (unsigned long)v.sival_int;
		if (sent % 8 == 0)
			usleep(20);
	}
	/* Let the last signals arrive, then stop the workers. */
	for (int tries = 0; tries < 500; tries++) {
		got = atomic_load(&received[0]) + atomic_load(&received[1]);
		if (got >= sent)
			break;
		usleep(10000);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(workers[i], NULL);
	for (int i = 0; i < RING; i++)
		free(atomic_load(&ring[i]));
	got = atomic_load(&received[0]) + atomic_load(&received[1]);
	got_sum = atomic_load(&value_sum[0]) + atomic_load(&value_sum[1]);
	printf("signal_defer: %lu signals sent, %lu received, values %s, "
	       "%lu worker ops\n", sent, got,
	       got_sum == sent_sum ? "match" : "DIFFER",
	       atomic_load(&worker_ops));
	return got == sent && got_sum == sent_sum ? 0 : 1;
}
