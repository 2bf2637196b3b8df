/* SPDX-License-Identifier: MIT */
/*
 * tests/static/atomic_signal.c - kmalloc(GFP_ATOMIC) and GFP_NOWAIT from
 * signal handlers, linked with the core alone (build/libkmem-core.a; see
 * tests/tests.mk), driven by tests/scripts/nodeadlock_atomic_signal.sh.
 *
 *   atomic_signal [seconds]            (default 3): parts 1 and 2
 *   atomic_signal held                 part 3
 *
 * 1. Stress: two threads kmalloc/krealloc/kfree, vmalloc/vfree and
 *    alloc_pages/free_pages (GFP_KERNEL), each with a 10 kHz timer whose
 *    SIGALRM handler kmallocs with GFP_ATOMIC or GFP_NOWAIT (kzalloc too:
 *    zeroes checked), fills, checks and kfrees blocks of a ring of its
 *    own.  include/kmem.h's contract: never waits for a lock, async-
 *    signal-safe, served from the atomic reserve when the normal path is
 *    busy.  A NULL here is a failure (the reserve is far from used up).
 * 2. Exhaustion: the main thread takes every kmem lock, as a fork's
 *    prepare handler does (kmem_fork_prepare), and raises SIGUSR1: its
 *    handler finds every lock held by the code it interrupted, so its
 *    GFP_ATOMIC requests of 1 MiB come from the reserve until it is used
 *    up, after 2,000 GFP_NOWAIT requests of 64 bytes (most from the
 *    reserve too: the per-CPU cache holds a few dozen); then GFP_ATOMIC (1 MiB) and GFP_NOWAIT (256 KiB, sizes that no per-CPU
 *    object cache holds) must give a clear NULL (errno ENOMEM), and a
 *    block given back
 *    serves the next request of its size.  The handler frees everything;
 *    kmem_fork_parent gives the locks back; normal allocation works and
 *    the reserve has nothing in use.
 *
 * 3. atomic_signal held: kmalloc(GFP_KERNEL) in a handler over a holder
 *    of every lock (see held() below).
 *
 * No timeout here: the driver script's watchdog turns a hang into a
 * failure with every thread's stack.  Prints the per-CPU mode and one
 * line per part; exits 0 if every check passed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>

#include <kmem.h>

#include "../progs/stress.h"
#include "fork.h"
#include "percpu.h"
#include "reserve.h"

#define RING 32
#define MAX_BIG 1024
#define MAX_SMALL 2000

static atomic_bool stop;
static _Atomic unsigned long h_runs, h_atomic, h_nowait, h_interrupted;
static _Atomic unsigned long t_ops;

struct blk {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static __thread struct blk ring[RING];
static __thread uint64_t hseed;
static __thread volatile sig_atomic_t in_call;

static void check_blk(const struct blk *b, const char *who)
{
	size_t bad = check_fill(b->p, b->n, b->tag);

	if (bad)
		stress_die("atomic_signal: %s: block %p of %zu bytes corrupted "
			   "at offset %zu", who, (void *)b->p, b->n, bad - 1);
}

static void on_alrm(int sig)
{
	int saved = errno;
	uint64_t r = rng_next(&hseed);
	struct blk *b = &ring[r % RING];
	gfp_t gfp = (r >> 8) % 2 ? GFP_ATOMIC : GFP_NOWAIT;
	size_t n = (r >> 16) % 8 == 0 ? (r >> 20) % 65536 + 1
				      : (r >> 20) % 2048 + 1;

	(void)sig;
	atomic_fetch_add_explicit(&h_runs, 1, memory_order_relaxed);
	if (in_call)
		atomic_fetch_add_explicit(&h_interrupted, 1,
					  memory_order_relaxed);
	if (b->p) {
		check_blk(b, "handler");
		kfree(b->p);
		b->p = NULL;
	}
	if ((r >> 12) % 4 == 0) {
		b->p = kzalloc(n, gfp);
		for (size_t i = 0; b->p && i < n; i++)
			if (b->p[i])
				stress_die("atomic_signal: kzalloc(%zu, %s): "
					   "byte %zu is not 0", n,
					   gfp == GFP_ATOMIC ? "GFP_ATOMIC"
							     : "GFP_NOWAIT", i);
	} else {
		b->p = kmalloc(n, gfp);
	}
	if (!b->p)
		stress_die("atomic_signal: kmalloc(%zu, %s) in a handler "
			   "returned NULL (errno %d) with the reserve far from "
			   "used up", n,
			   gfp == GFP_ATOMIC ? "GFP_ATOMIC" : "GFP_NOWAIT",
			   errno);
	b->n = n;
	b->tag = (unsigned char)(r >> 40);
	fill(b->p, n, b->tag);
	atomic_fetch_add_explicit(gfp == GFP_ATOMIC ? &h_atomic : &h_nowait, 1,
				  memory_order_relaxed);
	errno = saved;
}

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 3;
	struct blk own[128];
	struct page *pages[16] = { 0 };
	unsigned int orders[16] = { 0 };
	unsigned long ops = 0;
	struct sigevent sev;
	struct itimerspec its;
	timer_t timer;
	sigset_t set;

	memset(own, 0, sizeof(own));
	hseed = seed ^ 0xabcdef;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		stress_die("atomic_signal: timer_create: %s", strerror(errno));
	its.it_interval.tv_sec = 0;
	its.it_interval.tv_nsec = 100000;	/* 10 kHz */
	its.it_value = its.it_interval;
	timer_settime(timer, 0, &its, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = rng_next(&seed);
		struct blk *b = &own[r % 128];
		size_t n;

		switch ((r >> 8) % 16) {
		case 0: {	/* pages: order 0..3, filled, checked */
			unsigned int k = (r >> 16) % 16;
			unsigned char tag = (unsigned char)(k * 17);

			if (pages[k]) {
				unsigned char *a = page_address(pages[k]);

				if (check_fill(a, PAGE_SIZE << orders[k], tag))
					stress_die("atomic_signal: pages "
						   "corrupted");
				in_call = 1;
				__free_pages(pages[k], orders[k]);
				in_call = 0;
				pages[k] = NULL;
				continue;
			}
			orders[k] = (unsigned int)(r >> 24) % 4;
			in_call = 1;
			pages[k] = alloc_pages(GFP_KERNEL, orders[k]);
			in_call = 0;
			if (!pages[k])
				stress_die("atomic_signal: alloc_pages failed");
			fill(page_address(pages[k]), PAGE_SIZE << orders[k], tag);
			ops++;
			continue;
		}
		case 1:
			n = (r >> 16) % 900000 + 70000;	/* vmalloc */
			break;
		case 2: case 3:
			n = (r >> 16) % 60000 + 1;	/* page runs */
			break;
		default:
			n = (r >> 16) % 2048 + 1;
		}
		if (b->p) {
			check_blk(b, "thread");
			in_call = 1;
			if (b->n >= 70000)
				vfree(b->p);
			else
				kfree(b->p);
			in_call = 0;
			b->p = NULL;
		}
		in_call = 1;
		b->p = n >= 70000 ? vmalloc(n) : kmalloc(n, GFP_KERNEL);
		in_call = 0;
		if (!b->p)
			stress_die("atomic_signal: allocation of %zu failed", n);
		b->n = n;
		b->tag = (unsigned char)(r >> 32);
		fill(b->p, n, b->tag);
		ops++;
	}
	timer_delete(timer);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 128; i++)
		if (own[i].p) {
			check_blk(&own[i], "thread at the end");
			if (own[i].n >= 70000)
				vfree(own[i].p);
			else
				kfree(own[i].p);
		}
	for (int i = 0; i < 16; i++)
		if (pages[i])
			__free_pages(pages[i], orders[i]);
	for (int i = 0; i < RING; i++)
		if (ring[i].p) {
			check_blk(&ring[i], "handler's, at the end");
			kfree(ring[i].p);
		}
	atomic_fetch_add(&t_ops, ops);
	return NULL;
}

/* ---- part 2: the reserve used up from a handler ---- */

static void *big[MAX_BIG];
static void *small[MAX_SMALL];
static size_t n_big, n_small, reserve_big, reserve_small;
static size_t in_use_full, failures_before, failures_after;
static const char *ex_error;
static int null_errno_atomic, null_errno_nowait;
static bool reused;

static void on_usr1(int sig)
{
	struct reserve_stats st;
	void *p, *q;

	(void)sig;
	reserve_get_stats(&st);
	failures_before = st.failures;
	/* Every lock is held by the interrupted code: first 2,000 blocks of
	 * 64 bytes with GFP_NOWAIT (the per-CPU cache, then the reserve),
	 * then 1 MiB at a time with GFP_ATOMIC until the reserve is used up. */
	while (n_small < 2000) {
		p = kmalloc(64, GFP_NOWAIT);
		if (!p) {
			ex_error = "GFP_NOWAIT of 64 bytes failed with the "
				   "reserve not used up";
			goto out;
		}
		if (reserve_owns(p))
			reserve_small++;
		memset(p, 0x5a, 64);
		small[n_small++] = p;
	}
	while (n_big < MAX_BIG && (p = kmalloc(1 << 20, GFP_ATOMIC))) {
		if (reserve_owns(p))
			reserve_big++;
		memset(p, 0xa5, 1 << 20);
		big[n_big++] = p;
	}
	if (n_big == MAX_BIG) {
		ex_error = "GFP_ATOMIC never failed: the reserve is unbounded?";
		goto out;
	}
	/* Now a clear NULL (sizes no per-CPU object cache can serve). */
	errno = 0;
	if (kmalloc(1 << 20, GFP_ATOMIC)) {
		ex_error = "GFP_ATOMIC served 1 MiB from a used-up reserve";
		goto out;
	}
	null_errno_atomic = errno;
	errno = 0;
	if (kzalloc(256 << 10, GFP_NOWAIT)) {
		ex_error = "GFP_NOWAIT served 256 KiB from a used-up reserve";
		goto out;
	}
	null_errno_nowait = errno;
	reserve_get_stats(&st);
	in_use_full = st.in_use;
	failures_after = st.failures;
	/* A block given back serves the next request of its size. */
	if (n_big) {
		q = big[--n_big];
		kfree(q);
		p = kmalloc(1 << 20, GFP_ATOMIC);
		if (!p) {
			ex_error = "a 1 MiB block given back did not serve the "
				   "next 1 MiB GFP_ATOMIC request";
			goto out;
		}
		reused = true;
		big[n_big++] = p;
	}
out:
	for (size_t i = 0; i < n_big; i++)
		kfree(big[i]);
	for (size_t i = 0; i < n_small; i++)
		kfree(small[i]);
}

static int exhaust(void)
{
	struct reserve_stats st;
	void *p;

	signal(SIGUSR1, on_usr1);
	kmem_fork_prepare();
	raise(SIGUSR1);
	kmem_fork_parent();
	reserve_get_stats(&st);
	if (ex_error) {
		printf("atomic_signal: exhaustion: FAIL: %s\n", ex_error);
		return 1;
	}
	printf("atomic_signal: exhaustion: with every lock held, %zu GFP_NOWAIT "
	       "64-byte blocks (%zu from the reserve), %zu GFP_ATOMIC 1 MiB "
	       "blocks (%zu from the reserve), then NULL (errno %d and %d), "
	       "%zu bytes in use, %zu failures counted; a freed block %s; "
	       "after: %zu bytes in use\n", n_small, reserve_small, n_big,
	       reserve_big, null_errno_atomic,
	       null_errno_nowait, in_use_full, failures_after - failures_before,
	       reused ? "served again" : "NOT served again", st.in_use);
	if (null_errno_atomic != ENOMEM || null_errno_nowait != ENOMEM ||
	    !reused || reserve_big < 16 || reserve_small < 1000 ||
	    in_use_full < (32u << 20) ||
	    failures_after - failures_before < 3 || st.in_use != 0) {
		printf("atomic_signal: exhaustion: FAIL\n");
		return 1;
	}
	/* The locks are back: the normal paths work. */
	p = kmalloc(1 << 20, GFP_KERNEL);
	if (!p || reserve_owns(p)) {
		printf("atomic_signal: FAIL: kmalloc after the fork handlers\n");
		return 1;
	}
	kfree(p);
	p = kmalloc(100, GFP_ATOMIC);
	if (!p) {
		printf("atomic_signal: FAIL: GFP_ATOMIC after the handler\n");
		return 1;
	}
	kfree(p);
	return 0;
}

/* ---- part 3: GFP_KERNEL from a handler over a holder of every lock ---- */

static unsigned long held_ops;
static const char *held_error;

static void on_usr2(int sig)
{
	static const size_t sizes[] = { 16, 64, 200, 1000, 4096, 30000,
					100000, 700000 };
	unsigned char *p[64];
	double t0 = now_s();

	(void)sig;
	while (now_s() - t0 < 0.2) {
		for (int i = 0; i < 64; i++) {
			size_t n = sizes[(i + held_ops) % 8];

			p[i] = kmalloc(n, GFP_KERNEL);
			if (!p[i]) {
				held_error = "kmalloc(GFP_KERNEL) returned NULL";
				return;
			}
			fill(p[i], n, (unsigned char)i);
		}
		for (int i = 0; i < 64; i++) {
			size_t n = sizes[(i + held_ops) % 8];

			if (check_fill(p[i], n, (unsigned char)i)) {
				held_error = "a block was corrupted";
				return;
			}
			kfree(p[i]);
		}
		held_ops += 64;
	}
}

/*
 * atomic_signal held: 200 ms of kmalloc(GFP_KERNEL)/kfree in a handler
 * that interrupted a thread holding every kmem lock.  Every lock is the
 * thread's own: kmem_lock_safe gives up at once and the atomic reserve
 * serves; whatever else an allocation path does on the way (run with
 * KMEM_PURGE_THREAD=0, it purges itself every few milliseconds) must not
 * wait for those locks either.
 */
static int held(void)
{
	struct reserve_stats st;

	kfree(kmalloc(16, GFP_KERNEL));
	printf("atomic_signal: per-CPU mode %s\n", percpu_mode_name());
	signal(SIGUSR2, on_usr2);
	kmem_fork_prepare();
	raise(SIGUSR2);
	kmem_fork_parent();
	reserve_get_stats(&st);
	printf("atomic_signal: held: %lu kmalloc(GFP_KERNEL)/kfree pairs of "
	       "16 bytes to 700 KB in a handler over a holder of every lock, "
	       "%s; %zu bytes of the reserve in use after\n", held_ops,
	       held_error ? held_error : "all served and intact", st.in_use);
	return held_error || held_ops < 64 || st.in_use ? 1 : 0;
}

int main(int argc, char **argv)
{
	double secs;

	if (argc > 1 && !strcmp(argv[1], "held"))
		return held();
	secs = argc > 1 ? atof(argv[1]) : 3;
	struct reserve_stats st0, st1;
	struct sigaction sa;
	pthread_t th[2];
	sigset_t set;

	kfree(kmalloc(16, GFP_KERNEL));		/* kmem is up */
	printf("atomic_signal: per-CPU mode %s\n", percpu_mode_name());
	reserve_get_stats(&st0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	reserve_get_stats(&st1);
	printf("atomic_signal: stress: %lu handler runs (%lu interrupted a "
	       "kmalloc, kfree, vmalloc or vfree), %lu GFP_ATOMIC and %lu "
	       "GFP_NOWAIT blocks, %zu from the reserve, 0 NULL; %lu thread "
	       "ops\n", h_runs, h_interrupted, h_atomic, h_nowait,
	       st1.allocs - st0.allocs, t_ops);
	return exhaust();
}
