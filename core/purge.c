/* SPDX-License-Identifier: MIT */
/*
 * core/purge.c - giving memory back on time: the purge thread.
 *
 * Layer: top of core/ (beside stats.c); calls buddy.c, vmalloc.c,
 * depot.c and percpu.c for their expiry passes.  Owns the thread and its
 * state.
 *
 * Policy (docs/ARCHITECTURE.md, "Memory given back"): a free only puts
 * memory on a list, stamped with its time; nothing is returned to the OS
 * inline.  The purge thread wakes when the oldest dirty block is due
 * (KMEM_PURGE_DELAY_MS after its free) and, in one pass, gives back every
 * block that is due, largest merged blocks as they are, down to the
 * WMARK_HIGH pages (2 MiB) a zone keeps warm; it unmaps cached vmalloc
 * areas that are due; once a second it gives half of every idle depot
 * and every idle CPU cache back to the slabs, so that their slabs, then
 * their pages, follow.  With nothing left to give back it sleeps without
 * a timeout, and after PURGE_IDLE_EXIT_MS of that it exits; the next
 * free that leaves memory to purge starts it again.
 *
 * Starting a thread from inside malloc: only at the top of a slow half
 * (depth 1: not nested in kmem, so no kmem lock is held, and no signal
 * handler that interrupted kmem), never during a fork, with every signal
 * blocked in the new thread.  KMEM_PURGE_THREAD=0 turns it off; then the
 * allocation paths make the same pass themselves, at most once per
 * quarter of the delay (purge_tick), which covers every program that keeps
 * allocating, but not one that goes idle.
 *
 * Locks: none of its own; state is atomic.  The thread takes the layers'
 * locks one at a time with kmem_lock (it holds nothing else, and a fork
 * waits for it, never the other way round).
 */
#include "purge.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>

#include "buddy.h"
#include "depot.h"
#include "options.h"
#include "os.h"
#include "percpu.h"
#include "vmalloc.h"

#define PURGE_IDLE_EXIT_MS 30000	/* exit after this long with no work */
#define PURGE_CACHE_PERIOD_MS 1000	/* decay of depots and CPU caches */

_Atomic int purge_state __fork_data;
_Atomic bool purge_wanted;
static _Atomic uint32_t purge_seq;	/* futex word the thread sleeps on */
static _Atomic bool purge_asleep __fork_data;	/* sleeping with no timeout */
/* When the thread's timed sleep ends (os_now_ms time); UINT64_MAX while it
 * makes a pass, when a kick must make it look again. */
static _Atomic uint64_t purge_deadline = UINT64_MAX;
static _Atomic bool purge_urgent;	/* a reclaim debt waits */
static _Atomic uint64_t last_pass_ms;	/* purge_tick's rate limit */
static _Atomic size_t nr_passes, bytes_purged;
static uint64_t last_cache_decay;	/* the thread's own */

void purge_kick_now(void)
{
	atomic_store_explicit(&purge_urgent, true, memory_order_relaxed);
	purge_kick();
	/* Asleep with a timeout (a deadline ahead): wake it all the same. */
	if (atomic_load_explicit(&purge_state, memory_order_acquire) ==
	    PURGE_RUNNING) {
		atomic_fetch_add_explicit(&purge_seq, 1, memory_order_release);
		os_futex_wake(&purge_seq, 1);
	}
}

void purge_kick(void)
{
	bool first = false;

	/* Off: purge_tick does the passes, nothing is to be started.  The
	 * flag is stored only when it changes: kicks come from every CPU,
	 * and a store each time would bounce its cache line between them. */
	if (!kmem_opt(OPT_PURGE_THREAD))
		return;
	if (!atomic_load_explicit(&purge_wanted, memory_order_relaxed)) {
		atomic_store_explicit(&purge_wanted, true,
				      memory_order_seq_cst);
		first = true;
	}
	if (atomic_load_explicit(&purge_state, memory_order_acquire) !=
	    PURGE_RUNNING)
		return;
	if (atomic_load_explicit(&purge_asleep, memory_order_acquire)) {
		atomic_store_explicit(&purge_asleep, false,
				      memory_order_relaxed);
		atomic_fetch_add_explicit(&purge_seq, 1, memory_order_release);
		os_futex_wake(&purge_seq, 1);
		return;
	}
	/*
	 * Asleep with a timeout, or in a pass: the first kick since the
	 * pass (purge_wanted was clear) checks whether the new memory falls
	 * due before the thread wakes.  It sleeps on the decay of the caches
	 * (PURGE_CACHE_PERIOD_MS) when nothing else waits, longer than a
	 * short KMEM_PURGE_DELAY_MS: without this the memory freed now
	 * waited for that, not for the delay.  A pass in progress (deadline
	 * UINT64_MAX) is told to look again.  One clock read per pass.
	 */
	if (first && atomic_load_explicit(&purge_deadline, memory_order_seq_cst) >
			     os_now_ms() + (uint64_t)kmem_opt(OPT_PURGE_DELAY_MS)) {
		atomic_fetch_add_explicit(&purge_seq, 1, memory_order_release);
		os_futex_wake(&purge_seq, 1);
	}
}

/* Caches above the buddy allocator hold objects that decay brings back. */
static bool caches_hold_objects(void)
{
	return percpu_cached_bytes() ||
	       buddy_pcp_holds_pages();
}

/*
 * One pass: everything that is due goes back.  Returns the os_now_ms()
 * time of the next deadline, UINT64_MAX if nothing waits.  thread: the
 * purge thread, which may wait for locks and also decays the caches; else
 * an allocation path (purge_tick), whose locks give up rather than wait.
 */
/* Bytes purged so far, all zones.  An allocation path (!thread) may be a
 * signal handler that interrupted a holder of a zone lock: it takes no
 * lock it cannot have at once (the figure is then read unlocked). */
static size_t purged_bytes_now(bool thread)
{
	struct zone_stats zs;
	size_t sum = 0;
	bool exact = true;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (thread ? zone_get_stats(z, &zs)
			   : zone_get_stats_try(z, &zs, 0, &exact))
			sum += zs.purged_bytes;
	return sum;
}

static uint64_t purge_pass(uint64_t now, bool thread)
{
	size_t before, after;
	uint64_t next, v;

	before = purged_bytes_now(thread);
	if (thread && now - last_cache_decay >= PURGE_CACHE_PERIOD_MS) {
		last_cache_decay = now;
		percpu_drain_idle();
		depot_shrink(false);
		buddy_drain_pcp();
	}
	next = buddy_purge_expired(now, !thread);
	v = vmalloc_purge_expired(now, !thread);
	if (v < next)
		next = v;
	if (caches_hold_objects() && now + PURGE_CACHE_PERIOD_MS < next)
		next = now + PURGE_CACHE_PERIOD_MS;
	after = purged_bytes_now(thread);
	atomic_fetch_add_explicit(&nr_passes, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&bytes_purged, after - before,
				  memory_order_relaxed);
	return next;
}

static void *purge_main(void *arg)
{
	uint64_t idle_since = os_now_ms();

	(void)arg;
	pthread_setname_np(pthread_self(), "kmem-purge");
	for (;;) {
		uint32_t seq;
		uint64_t now, next, wait;

		/* Before the pass: a kick from now on wakes the sleep below
		 * (purge_kick reads the deadline after its memory is listed,
		 * the pass reads the lists after this store). */
		atomic_store_explicit(&purge_deadline, UINT64_MAX,
				      memory_order_seq_cst);
		seq = atomic_load_explicit(&purge_seq, memory_order_acquire);

		atomic_store_explicit(&purge_wanted, false,
				      memory_order_relaxed);
		atomic_store_explicit(&purge_urgent, false,
				      memory_order_relaxed);
		now = os_now_ms();
		next = purge_pass(now, true);
		if (next != UINT64_MAX) {
			/* Passes at least a quarter of the delay apart, so that
			 * each gives back many blocks at once (a run of them
			 * per madvise), not one block as it comes due. */
			uint64_t gap = MAX(kmem_opt(OPT_PURGE_DELAY_MS) / 4, 10);

			idle_since = now;
			wait = next > now ? next - now : 1;
			wait = MAX(wait, gap);
			atomic_store_explicit(&purge_deadline, now + wait,
					      memory_order_seq_cst);
			os_futex_wait_ms(&purge_seq, seq, wait);
			continue;
		}
		if (now - idle_since >= PURGE_IDLE_EXIT_MS) {
			atomic_store_explicit(&purge_state, PURGE_NONE,
					      memory_order_release);
			/* A kick that raced with the exit starts a new one. */
			return NULL;
		}
		atomic_store_explicit(&purge_asleep, true, memory_order_release);
		if (!atomic_load_explicit(&purge_wanted, memory_order_acquire))
			os_futex_wait_ms(&purge_seq, seq, PURGE_IDLE_EXIT_MS);
		atomic_store_explicit(&purge_asleep, false,
				      memory_order_relaxed);
	}
}

void __purge_maybe_start(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int expected = PURGE_NONE, err, saved_errno;

	if (!kmem_opt(OPT_PURGE_THREAD) ||
	    atomic_load_explicit(&purge_state, memory_order_relaxed) !=
		    PURGE_NONE ||
	    atomic_load_explicit(&kmem_fork_token, memory_order_acquire))
		return;
	if (!atomic_compare_exchange_strong(&purge_state, &expected,
					    PURGE_STARTING))
		return;
	/* Called on the way out of free and malloc: a failed start (no
	 * memory for the thread's stack) must not leave the program an
	 * errno that its free never set (glibc's tst-free-errno). */
	saved_errno = errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_attr_init(&attr);
	if (!err) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 << 10);
		err = pthread_create(&t, &attr, purge_main, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	atomic_store_explicit(&purge_state, err ? PURGE_FAILED : PURGE_RUNNING,
			      memory_order_release);
	errno = saved_errno;
}

void purge_tick(void)
{
	int st = atomic_load_explicit(&purge_state, memory_order_relaxed);
	uint64_t delay = (uint64_t)kmem_opt(OPT_PURGE_DELAY_MS);
	uint64_t now, last;

	if (st == PURGE_RUNNING || st == PURGE_STARTING)
		return;
	now = os_now_ms();
	last = atomic_load_explicit(&last_pass_ms, memory_order_relaxed);
	if (now - last < MAX(delay / 4, (uint64_t)10) ||
	    !atomic_compare_exchange_strong(&last_pass_ms, &last, now))
		return;
	purge_pass(now, false);
}

const char *purge_state_name(void)
{
	switch (atomic_load_explicit(&purge_state, memory_order_relaxed)) {
	case PURGE_RUNNING:
		return atomic_load_explicit(&purge_asleep, memory_order_relaxed)
			       ? "purge thread idle"
			       : "purge thread running";
	case PURGE_STARTING:
		return "purge thread starting";
	case PURGE_FAILED:
		return "purge thread could not start: purging on allocation";
	default:
		return kmem_opt(OPT_PURGE_THREAD)
			       ? "purge thread not started (nothing to purge yet)"
			       : "purge thread off (KMEM_PURGE_THREAD=0): purging on allocation";
	}
}

void purge_get_stats(size_t *passes, size_t *bytes)
{
	*passes = atomic_load_explicit(&nr_passes, memory_order_relaxed);
	*bytes = atomic_load_explicit(&bytes_purged, memory_order_relaxed);
}

void purge_fork_child(void)
{
	atomic_store_explicit(&purge_state, PURGE_NONE, memory_order_relaxed);
	atomic_store_explicit(&purge_asleep, false, memory_order_relaxed);
}
