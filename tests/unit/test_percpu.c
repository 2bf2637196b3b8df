/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_percpu.c - the per-CPU (rseq) and per-thread caches.
 *
 * The property under test: an object is never handed out twice.  Every
 * live object is recorded in a global open-addressing set with an atomic
 * compare-and-swap; inserting an address that is already live fails the
 * test at once.  Each object also carries its owner's tag, checked before
 * it is freed.  The threads flip their CPU affinity while they work (so
 * rseq sections run across migrations) and, in another test, a signal
 * storm interrupts them (so sections abort and restart).  Objects are
 * also passed to other threads to free, so frees land in caches of CPUs
 * that did not allocate them.
 *
 * The same binary runs in every mode: tests/run.sh runs the suite with
 * the mode of the environment, and CI runs it with KMEM_PERCPU=rseq
 * (which must then be the mode in force), thread and off.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Internal headers first: they include <kmem.h> in the core's way. */
#include "buddy.h"
#include "depot.h"
#include "kmalloc.h"
#include "os.h"
#include "percpu.h"

#define SET_BITS 22
#define SET_SIZE (1UL << SET_BITS)
#define NR_WORKERS 4
#define LIVE_PER_THREAD 512

static _Atomic uintptr_t *live_set;
static _Atomic long duplicates;
static atomic_bool stop_storm;

static size_t slot_of(uintptr_t p)
{
	return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ULL >> (64 - SET_BITS));
}

/* Record p as live; false if it already was (a double hand-out). */
static bool set_insert(void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;

	for (size_t i = slot_of(p);; i = (i + 1) & (SET_SIZE - 1)) {
		uintptr_t cur = atomic_load(&live_set[i]);

		if (cur == p)
			return false;
		if (cur == 0 || cur == 1) { /* empty or tombstone */
			if (atomic_compare_exchange_strong(&live_set[i], &cur, p))
				return true;
			i = (i - 1) & (SET_SIZE - 1); /* look again */
		}
	}
}

static void set_remove(void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;

	for (size_t i = slot_of(p);; i = (i + 1) & (SET_SIZE - 1)) {
		uintptr_t cur = atomic_load(&live_set[i]);

		if (cur == p) {
			atomic_store(&live_set[i], 1);
			return;
		}
		if (cur == 0)
			abort(); /* freeing something never recorded */
	}
}

struct obj_hdr {
	uint64_t tag;
	uint64_t size;
};

/* A shared hand-off ring: objects freed by another thread. */
#define RING 1024
static _Atomic(void *) ring[RING];

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void flip_cpu(unsigned int n)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpu < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(n % (unsigned int)ncpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void check_and_free(void *p)
{
	struct obj_hdr *h = p;

	set_remove(p);
	/* Poison the tag: if p is handed out twice, the tag check catches it. */
	h->tag = 0xdeadbeefdeadbeefULL;
	kfree(p);
}

static void *worker(void *arg)
{
	unsigned long id = (unsigned long)arg;
	uint64_t seed = 0x12345678 + id * 7919;
	void *live[LIVE_PER_THREAD] = { 0 };
	long iters = 300000;

	for (long i = 0; i < iters; i++) {
		unsigned int k = (unsigned int)(xorshift(&seed) % LIVE_PER_THREAD);

		if ((i & 1023) == 0)
			flip_cpu((unsigned int)(id + (unsigned long)i / 1024));
		if (live[k]) {
			struct obj_hdr *h = live[k];

			if (h->tag != ((id << 48) | (uint64_t)k))
				atomic_fetch_add(&duplicates, 1);
			live[k] = NULL;
			if (xorshift(&seed) % 4 == 0) {
				/* Hand it to whichever thread takes the slot. */
				void *old;

				set_remove(h);
				h->tag = 0x5151515151515151ULL;
				old = atomic_exchange(&ring[xorshift(&seed) % RING],
						      (void *)h);
				if (old) {
					struct obj_hdr *oh = old;

					if (oh->tag != 0x5151515151515151ULL)
						atomic_fetch_add(&duplicates, 1);
					kfree(old);
				}
			} else {
				check_and_free(h);
			}
		} else {
			size_t size = 16 + xorshift(&seed) % 2048;
			struct obj_hdr *h = kmalloc(size, GFP_KERNEL);

			ck_assert_ptr_nonnull(h);
			if (!set_insert(h))
				atomic_fetch_add(&duplicates, 1);
			h->tag = (id << 48) | (uint64_t)k;
			h->size = size;
			live[k] = h;
		}
	}
	for (unsigned int k = 0; k < LIVE_PER_THREAD; k++)
		if (live[k])
			check_and_free(live[k]);
	return NULL;
}

static void run_workers(void)
{
	pthread_t t[NR_WORKERS];

	live_set = calloc(SET_SIZE, sizeof(*live_set));
	ck_assert_ptr_nonnull(live_set);
	for (unsigned long i = 0; i < NR_WORKERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)i), 0);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(t[i], NULL);
}

static void finish_ring(void)
{
	for (int i = 0; i < RING; i++) {
		void *p = atomic_exchange(&ring[i], NULL);

		if (p)
			kfree(p);
	}
}

START_TEST(migrating_threads_never_share_an_object)
{
	run_workers();
	finish_ring();
	ck_assert_int_eq(atomic_load(&duplicates), 0);
}
END_TEST

static void on_signal(int sig)
{
	(void)sig;
}

static pthread_t storm_targets[NR_WORKERS];

static void *storm(void *arg)
{
	long sent = 0;

	(void)arg;
	while (!atomic_load(&stop_storm)) {
		for (int i = 0; i < NR_WORKERS; i++)
			if (pthread_kill(storm_targets[i], SIGUSR1) == 0)
				sent++;
		if ((sent & 63) == 0)
			sched_yield();
	}
	return (void *)sent;
}

START_TEST(signal_storm_restarts_sections_safely)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	pthread_t stormer;
	void *sent;

	sigaction(SIGUSR1, &sa, NULL);
	live_set = calloc(SET_SIZE, sizeof(*live_set));
	ck_assert_ptr_nonnull(live_set);
	for (unsigned long i = 0; i < NR_WORKERS; i++)
		ck_assert_int_eq(pthread_create(&storm_targets[i], NULL, worker,
						(void *)i), 0);
	pthread_create(&stormer, NULL, storm, NULL);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(storm_targets[i], NULL);
	atomic_store(&stop_storm, true);
	pthread_join(stormer, &sent);
	finish_ring();
	ck_assert_int_eq(atomic_load(&duplicates), 0);
	ck_assert_int_gt((long)sent, 1000);
}
END_TEST

/* Objects freed by a thread that exits go back; the heap does not grow. */
static void *short_lived(void *arg)
{
	void *p[64];

	(void)arg;
	for (int i = 0; i < 64; i++)
		p[i] = kmalloc(32 + (size_t)i * 16, GFP_KERNEL);
	for (int i = 0; i < 64; i++)
		kfree(p[i]);
	return NULL;
}

/* Pages in use: neither in the zone's free lists nor on its per-CPU page
 * lists (freed thread regions and slabs may sit there, in any number up to
 * the lists' high mark, depending on which CPU freed them). */
static size_t heap_pages(void)
{
	struct zone_stats st;

	zone_get_stats(ZONE_NORMAL, &st);
	return st.managed - st.nr_free - st.nr_pcp;
}

START_TEST(thread_exit_returns_cached_objects)
{
	size_t after_warmup = 0;

	for (int i = 0; i < 1500; i++) {
		pthread_t t;

		ck_assert_int_eq(pthread_create(&t, NULL, short_lived, NULL), 0);
		pthread_join(t, NULL);
		if (i == 300) {
			percpu_drain_all();
			after_warmup = heap_pages();
		}
	}
	percpu_drain_all();
	/* Pages in use did not grow with the number of threads that came
	 * and went (a little slack for slabs kept as a reserve). */
	ck_assert_msg(heap_pages() <= after_warmup + 64,
		      "heap grew from %zu to %zu pages", after_warmup, heap_pages());
	ck_assert_uint_eq(percpu_cached_bytes(), 0);
}
END_TEST

/*
 * Producer/consumer: two threads hand every object they allocate to the
 * other through a ring, and free what the other sends, so every free is
 * remote (of an object the other thread allocated).  Such a free is still
 * local: it goes to the freeing thread's own cache (its CPU's region in
 * rseq mode), so that thread's next allocation of the class takes back an
 * object it freed itself: that very one or, in the reuse order of
 * percpu.h, the one a recent free set aside (each free replaces it with
 * probability 1/2, so it is among the last PC_WINDOW freed but for odds
 * of 2^-PC_WINDOW).  And nothing piles up: the caches stay within their
 * bound, the heap does not grow with the number of hand-offs.
 */
#define PC_ITERS 200000
#define PC_RING 256
#define PC_WINDOW 40

struct pc_ring {
	_Atomic(void *) slot[PC_RING];
	_Atomic unsigned long head;	/* written by the producer */
	_Atomic unsigned long tail;	/* written by the consumer */
};

static struct pc_ring pc_rings[2];	/* pc_rings[i]: to thread i */
static _Atomic long pc_bad;		/* damaged or not the other's */
static _Atomic long pc_peak_pages;	/* heap growth seen while running */
static size_t pc_base_pages;

struct pc_result {
	long frees;		/* objects of the other thread freed */
	long followed;		/* frees followed by an allocation */
	long reused;		/* which returned an object freed just before */
};

static void *pc_take(struct pc_ring *r)
{
	unsigned long t = atomic_load(&r->tail);
	void *p;

	if (t == atomic_load(&r->head))
		return NULL;
	p = atomic_load(&r->slot[t % PC_RING]);
	atomic_store(&r->tail, t + 1);
	return p;
}

static void pc_put(struct pc_ring *r, void *p)
{
	unsigned long h = atomic_load(&r->head);

	while (h - atomic_load(&r->tail) >= PC_RING)
		sched_yield();		/* the other thread is behind */
	atomic_store(&r->slot[h % PC_RING], p);
	atomic_store(&r->head, h + 1);
}

static void *pc_thread(void *arg)
{
	unsigned long self = (unsigned long)arg, other = self ^ 1;
	struct pc_result *res = calloc(1, sizeof(*res));
	void *freed[PC_WINDOW] = { NULL };	/* the last frees, newest first */
	bool just_freed = false;

	for (long i = 0; i < PC_ITERS; i++) {
		uint64_t *p = kmalloc(64, GFP_KERNEL), *q;

		if (!p) {
			atomic_fetch_add(&pc_bad, 1);
			break;
		}
		if (just_freed) {
			res->followed++;
			for (int k = 0; k < PC_WINDOW; k++)
				if ((void *)p == freed[k]) {
					res->reused++;
					break;
				}
		}
		just_freed = false;
		p[0] = self;
		p[7] = ~self;
		pc_put(&pc_rings[other], p);
		q = pc_take(&pc_rings[self]);
		if (q) {
			if (q[0] != other || q[7] != ~other)
				atomic_fetch_add(&pc_bad, 1);
			q[0] = 0xdead;
			kfree(q);
			res->frees++;
			memmove(&freed[1], &freed[0],
				(PC_WINDOW - 1) * sizeof(freed[0]));
			freed[0] = q;
			just_freed = true;
		}
		if ((i & 4095) == 0) {
			long grown = (long)heap_pages() - (long)pc_base_pages;

			if (grown > atomic_load(&pc_peak_pages))
				atomic_store(&pc_peak_pages, grown);
		}
	}
	return res;
}

START_TEST(producer_consumer_frees_are_local)
{
	pthread_t t[2];
	struct pc_result *res[2];
	long frees = 0, followed = 0, reused = 0, bound;
	size_t after;

	kfree(kmalloc(64, GFP_KERNEL));	/* initialise */
	percpu_drain_all();
	pc_base_pages = heap_pages();
	for (unsigned long i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, pc_thread,
						(void *)i), 0);
	for (int i = 0; i < 2; i++) {
		void *r;

		pthread_join(t[i], &r);
		res[i] = r;
		ck_assert_ptr_nonnull(res[i]);
		frees += res[i]->frees;
		followed += res[i]->followed;
		reused += res[i]->reused;
		free(res[i]);
	}
	for (int i = 0; i < 2; i++)
		for (void *q; (q = pc_take(&pc_rings[i]));)
			kfree(q);
	printf("producer/consumer (%s): %ld remote frees, %ld of the %ld "
	       "followed by an allocation got an object it freed back, heap "
	       "+%ld pages at most\n", percpu_mode_name(), frees, reused, followed,
	       atomic_load(&pc_peak_pages));
	ck_assert_int_eq(atomic_load(&pc_bad), 0);
	ck_assert_msg(frees > PC_ITERS, "only %ld remote frees", frees);
	/* Locality: the freed objects came back to the thread that freed
	 * them.  With per-thread caches always but for a free set aside
	 * into an empty side slot of an empty stack (the allocation then
	 * refills); in rseq mode a migration between the free and the next
	 * allocation may miss too. */
	if (strncmp(percpu_mode_name(), "thread", 6) == 0)
		ck_assert_msg(reused * 1000 >= followed * 999, "%ld of %ld "
			      "remote frees reused by the freeing thread",
			      reused, followed);
	else if (strncmp(percpu_mode_name(), "rseq", 4) == 0)
		ck_assert_msg(reused * 10 > followed * 9, "%ld of %ld remote "
			      "frees reused by the freeing thread's CPU",
			      reused, followed);
	else
		ck_assert_uint_eq(percpu_cached_bytes(), 0);
	/* Bounded: 2 rings of live objects and at most the caches'
	 * capacity (two regions, or a few more if the threads moved),
	 * never the 400000 objects that went through. */
	bound = (long)((4 * percpu_region_limit() + 4 * PC_RING * 64) /
		       PAGE_SIZE) + 64;
	ck_assert_msg(atomic_load(&pc_peak_pages) <= bound,
		      "heap grew by %ld pages while running (bound %ld)",
		      atomic_load(&pc_peak_pages), bound);
	percpu_drain_all();
	after = heap_pages();
	ck_assert_msg(after <= pc_base_pages + 64, "heap grew from %zu to %zu "
		      "pages", pc_base_pages, after);
}
END_TEST

/*
 * The mode in force is the one asked for, and it really is in use: CI's
 * first run asks for rseq (KMEM_PERCPU=rseq) and must fail where rseq is
 * not there; its other runs ask for thread and off.  Unset or auto: rseq
 * where glibc registered it, else per-thread caches, never nothing.
 */
static const char *kernel_rseq(void)
{
	long r = syscall(__NR_rseq, NULL, 0, 0, 0);

	/* A NULL area with flags 0 is invalid: EINVAL means "rseq exists". */
	if (r == -1 && errno == ENOSYS)
		return "the kernel has no rseq system call";
	if (r == -1 && errno == EPERM)
		return "rseq is forbidden (seccomp)";
	return "the kernel has rseq";
}

START_TEST(mode_is_the_one_asked_for)
{
	const char *want = getenv("KMEM_PERCPU");
	const char *mode, *glibc;
	size_t cached = 0;
	void *p, *back = NULL;

	kfree(kmalloc(16, GFP_KERNEL));	/* initialise */
	mode = percpu_mode_name();
	glibc = os_rseq_area() ? "glibc registered rseq for this thread"
			       : "glibc did not register rseq (too old, "
				 "GLIBC_TUNABLES=glibc.pthread.rseq=0, or no "
				 "kernel support)";
	if (!want || !*want || (strcmp(want, "thread") != 0 &&
				strcmp(want, "off") != 0 &&
				strcmp(want, "rseq") != 0))
		want = os_rseq_area() ? "rseq" : "thread";	/* auto */
	ck_assert_msg(strncmp(mode, want, strlen(want)) == 0,
		      "KMEM_PERCPU=%s: the mode is \"%s\"; %s, %s", want, mode,
		      glibc, kernel_rseq());
	/* And the caches in use are that mode's: a freed object stays in
	 * this CPU's region (rseq), this thread's region (thread) or in no
	 * cache at all (off). */
	for (int tries = 0; tries < 100; tries++) {
		p = kmalloc(16, GFP_KERNEL);
		ck_assert_ptr_nonnull(p);
		kfree(p);
		cached = percpu_cached_bytes();
		/* A migration between the free and the allocation (rseq
		 * mode) would take another CPU's object: try again. */
		back = kmalloc(16, GFP_KERNEL);
		kfree(back);
		if (back == p)
			break;
	}
	if (strcmp(want, "off") == 0) {
		ck_assert_ptr_null(pcpu_thread_region);
		ck_assert_uint_eq(cached, 0);
	} else {
		if (strcmp(want, "rseq") == 0)
			ck_assert_ptr_null(pcpu_thread_region);
		else
			ck_assert_ptr_nonnull(pcpu_thread_region);
		ck_assert_uint_ge(cached, 16);
		ck_assert_ptr_eq(back, p);
	}
}
END_TEST

/* For the tests of one region: false with KMEM_PERCPU=off (no caches);
 * else pins the thread to the CPU it is on, so that in rseq mode one
 * region sees everything it does. */
static bool pin_to_one_region(void)
{
	cpu_set_t set;

	if (getenv("KMEM_PERCPU") && !strcmp(getenv("KMEM_PERCPU"), "off"))
		return false;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	return true;
}

/*
 * Capacities grow (percpu.c, chunk_grow): a class's first allocation on a
 * CPU takes a few KiB of objects, not a full batch; a program that keeps
 * allocating and freeing the class grows its stack towards the full cap;
 * a drained region starts small again.  The thread pins itself to one CPU
 * so that in rseq mode one region sees it all.
 */
START_TEST(capacities_start_small_and_grow)
{
	enum { N = 2000, SIZE = 512 };
	static void *objs[N];
	size_t first, grown, again;

	if (!pin_to_one_region())
		return;	/* no caches */
	kfree(kmalloc(16, GFP_KERNEL));	/* initialise */
	percpu_drain_all();
	ck_assert_uint_eq(percpu_cached_bytes(), 0);
	objs[0] = kmalloc(SIZE, GFP_KERNEL);
	first = percpu_cached_bytes();
	/* At most the first cap (4 KiB of objects); 63 objects before. */
	ck_assert_msg(first <= 4096, "one malloc(%d) cached %zu bytes", SIZE,
		      first);
	kfree(objs[0]);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++) {
			objs[i] = kmalloc(SIZE, GFP_KERNEL);
			ck_assert_ptr_nonnull(objs[i]);
		}
		for (int i = 0; i < N; i++)
			kfree(objs[i]);
	}
	grown = percpu_cached_bytes();
	ck_assert_msg(grown >= 16 * SIZE && grown > 4 * first,
		      "after 8000 pairs: %zu bytes cached (first %zu)", grown,
		      first);
	percpu_drain_all();
	ck_assert_uint_eq(percpu_cached_bytes(), 0);
	objs[0] = kmalloc(SIZE, GFP_KERNEL);
	again = percpu_cached_bytes();
	ck_assert_msg(again <= 4096, "after a drain: %zu bytes cached", again);
	kfree(objs[0]);
}
END_TEST

/*
 * The region's budget: with every class busy, what one CPU's (or thread's)
 * region holds stays within KMEM_PERCPU_BYTES (1 MiB) plus each class's
 * starting capacity (4 KiB of objects, at least 2) and one object of
 * slack per class.  Before the bound, each class could grow to 64 KiB on
 * its own: 60 classes, 3.75 MiB.  Pinned to one CPU.
 */
START_TEST(a_region_holds_its_budget_with_every_class_busy)
{
	enum { N = 300 };
	static void *objs[N];
	size_t bound = 1u << 20, held;

	if (!pin_to_one_region())
		return;	/* no caches */
	kfree(kmalloc(16, GFP_KERNEL));	/* initialise */
	percpu_drain_all();
	for (unsigned int c = 0; c < NR_KMALLOC_CLASSES; c++) {
		size_t size = kmalloc_class_size[c];

		bound += MAX((size_t)4096, 2 * size) + size;
		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < N; i++)
				objs[i] = kmalloc(size, GFP_KERNEL);
			for (int i = 0; i < N; i++)
				kfree(objs[i]);
		}
	}
	held = percpu_cached_bytes() - depot_cached_bytes();
	ck_assert_msg(held <= bound, "the region holds %zu bytes (bound %zu)",
		      held, bound);
	ck_assert_msg(held > (1u << 19), "only %zu bytes cached: the caches "
		      "did not grow", held);
}
END_TEST

/*
 * Reuse order (percpu.h): a malloc right after a free gets the block just
 * freed about half the time, not every time as with a LIFO stack
 * (KMEM_REUSE=lifo: every time), and
 * the randomised pushes lose and duplicate nothing (every object handed
 * out is checked against the live set, and each of KEEP objects freed
 * onto the stack comes back exactly once).  Pinned to one CPU so that
 * in rseq mode one region sees it all.
 */
START_TEST(reuse_after_free_is_not_lifo)
{
	enum { TRIES = 1000, KEEP = 16, SIZE = 200 };
	void *keep[KEEP], *back[KEEP];
	int same = 0, found = 0;

	if (!pin_to_one_region())
		return;	/* no caches: the slab's free list, LIFO as SLUB's */
	live_set = calloc(SET_SIZE, sizeof(*live_set));
	ck_assert_ptr_nonnull(live_set);
	for (int i = 0; i < KEEP; i++) {
		keep[i] = kmalloc(SIZE, GFP_KERNEL);
		ck_assert(set_insert(keep[i]));
	}
	for (int i = 0; i < KEEP / 2; i++) {	/* the stack is not empty */
		set_remove(keep[i]);
		kfree(keep[i]);
	}
	for (int t = 0; t < TRIES; t++) {
		void *p, *q;

		/* Halfway, every stack and side slot emptied: a swap into
		 * the empty side takes free's slow half (rseq_push_side). */
		if (t == TRIES / 2)
			percpu_drain_all();
		p = kmalloc(SIZE, GFP_KERNEL);

		ck_assert(set_insert(p));
		set_remove(p);
		kfree(p);
		q = kmalloc(SIZE, GFP_KERNEL);
		ck_assert(set_insert(q));
		same += p == q;
		set_remove(q);
		kfree(q);
	}
	if (getenv("KMEM_REUSE") && !strcmp(getenv("KMEM_REUSE"), "lifo"))
		ck_assert_msg(same == TRIES, "KMEM_REUSE=lifo: the freed block "
			      "came back %d times of %d", same, TRIES);
	else
		ck_assert_msg(same > TRIES / 4 && same < 3 * TRIES / 4,
			      "malloc after free returned the freed block %d "
			      "times of %d", same, TRIES);
	/* Free the other half too, take KEEP back: the same objects. */
	for (int i = KEEP / 2; i < KEEP; i++) {
		set_remove(keep[i]);
		kfree(keep[i]);
	}
	for (int i = 0; i < KEEP; i++) {
		back[i] = kmalloc(SIZE, GFP_KERNEL);
		ck_assert(set_insert(back[i]));
	}
	for (int i = 0; i < KEEP; i++)
		for (int j = 0; j < KEEP; j++)
			found += back[i] == keep[j];
	for (int i = 0; i < KEEP; i++) {
		set_remove(back[i]);
		kfree(back[i]);
	}
	ck_assert_msg(found >= KEEP - 2, "%d of %d freed objects came back",
		      found, KEEP);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("percpu");
	TCase *tc = tcase_create("percpu");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, mode_is_the_one_asked_for);
	tcase_add_test(tc, migrating_threads_never_share_an_object);
	tcase_add_test(tc, signal_storm_restarts_sections_safely);
	tcase_add_test(tc, thread_exit_returns_cached_objects);
	tcase_add_test(tc, producer_consumer_frees_are_local);
	tcase_add_test(tc, capacities_start_small_and_grow);
	tcase_add_test(tc, reuse_after_free_is_not_lifo);
	tcase_add_test(tc, a_region_holds_its_budget_with_every_class_busy);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
