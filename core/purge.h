/* SPDX-License-Identifier: MIT */
/*
 * core/purge.h - giving memory back on time: the contract of purge.c.
 *
 * Free memory goes back to the OS KMEM_PURGE_DELAY_MS after it was freed,
 * whatever the program does next, even nothing at all: a background
 * thread ("kmem-purge") sleeps until the next block is due and purges it
 * with the others that are due, in one pass.  Frees never purge inline.
 */
#ifndef KMEM_PURGE_H
#define KMEM_PURGE_H

#include "internal.h"
#include "os.h"

/*
 * Some layer holds more free resident memory than it keeps for reuse
 * (from any context, also with a layer's lock held: it takes no lock, and
 * makes its one system call, the wake, only when the thread must look
 * again): make sure the purge thread runs and wakes in time for the new
 * memory's deadline, or will be started by the next kmem call that may
 * start it (purge_maybe_start).
 */
void purge_kick(void) __hidden;
/* The same, and the pass should come now, not at the next deadline (a
 * reclaim debt to pay). */
void purge_kick_now(void) __hidden;
/*
 * Start the purge thread if it was kicked and is not running.  Called
 * only at the top of an entry's slow half, where the thread holds no kmem
 * lock and is not inside kmem already (depth 1): kmem's own API entries
 * call purge_maybe_start, preload's slow halves purge_maybe_start_from.
 */
enum { PURGE_NONE, PURGE_STARTING, PURGE_RUNNING, PURGE_FAILED };
extern _Atomic int purge_state __hidden;	/* PURGE_* */
extern _Atomic bool purge_wanted __hidden;	/* kicked, not yet seen */
void __purge_maybe_start(void) __hidden;

/* Inline, the tests that answer almost every call: a debug allocation
 * takes a slow half every time.  A running thread leaves purge_wanted set
 * until its next pass, so its state is tested too. */
static __always_inline bool purge_start_due(void)
{
	return unlikely(atomic_load_explicit(&purge_wanted,
					     memory_order_relaxed)) &&
	       atomic_load_explicit(&purge_state, memory_order_relaxed) ==
		       PURGE_NONE;
}

static __always_inline void purge_maybe_start(void)
{
	if (likely(!purge_start_due()))
		return;
	__purge_maybe_start();
}

/* The same from a slow half called from ip: not when the caller is the
 * C library or the loader (os_in_runtime), which may hold a lock that
 * pthread_create needs.  stdio_fork hung so once in thread mode under
 * KMEM_DEBUG: pthread_join freed a TLS block with glibc's stack-cache
 * lock held, the free started the purge thread, and pthread_create waited
 * for that lock.  The thread then starts at a later call from the
 * program. */
static __always_inline void purge_maybe_start_from(unsigned long ip)
{
	if (likely(!purge_start_due()) || os_in_runtime(ip))
		return;
	__purge_maybe_start();
}
/*
 * Maintenance that the allocation paths do themselves when the thread is
 * off (KMEM_PURGE_THREAD=0) or could not be started: at most once per
 * quarter of the purge delay, the same pass the thread makes.
 */
void purge_tick(void) __hidden;
/* The thread's state, for statistics: "running", "idle", "off", ... */
const char *purge_state_name(void) __hidden;
/* Passes made and bytes given back by them (statistics, tests). */
void purge_get_stats(size_t *passes, size_t *bytes) __hidden;
/* In a forked child: the thread is gone. */
void purge_fork_child(void) __hidden;

#endif /* KMEM_PURGE_H */
