/* SPDX-License-Identifier: MIT */
/*
 * core/fork.c - the fork protocol: a child gets a consistent heap, and no
 * thread ever waits for a lock in vain while some thread forks.
 *
 * Layer: top of core/ (beside init.c and stats.c); calls every layer's
 * fork hooks.  Owns fork_mutex, the fork nesting level and
 * kmem_fork_token (internal.h).
 *
 * Why not just "take every lock in prepare, as the glibc manual says":
 * glibc's fork (2.36, posix/fork.c) runs the prepare handlers, then takes
 * the stdio list lock and the nss database lock, and only then its own
 * malloc's arena locks, on purpose ("the libio list lock has an indirect
 * malloc dependency": getdelim mallocs with a stream locked).  Between our
 * prepare and our parent handler the forking thread F would wait for the
 * stdio list lock; the thread T that holds it (fflush(NULL)) waits for one
 * stream's lock; the thread G that holds that one (getline) is inside
 * malloc, waiting for a kmem lock that F took.  With plain locks that
 * cycle hung within seconds with four forking threads.  So:
 *
 *  1. F takes the stdio list lock itself, first (glibc exports
 *     _IO_list_lock; it is recursive, so glibc's own acquisition after
 *     ours just counts): then no kmem lock is held while F waits for it,
 *     and G, T and F finish in that order.  This is glibc's order.
 *     The child releases it too, unless glibc resets it there: glibc
 *     does only after a fork by a multi-threaded process, so a child of
 *     a single-threaded one would otherwise keep it, and the first
 *     thread it starts would hang in fflush(NULL) or fopen (glibc's
 *     malloc/tst-malloc-fork-deadlock).
 *  2. Any other lock of glibc's or of the program that F may meet after
 *     our prepare (the nss lock, a program's lock that its prepare handler
 *     took) could close the same kind of cycle.  So a thread that finds a
 *     kmem lock taken by a forking thread waits for it only
 *     KMEM_FORK_WAIT_MS, then gives up (kmem_lock_safe): its allocation
 *     comes from the atomic reserve and its free is deferred, so it goes
 *     on, and whatever it holds is released.  Only if the reserve cannot
 *     serve it does it wait for the fork after all.
 *
 * F still takes every kmem lock, so the child's heap is consistent.
 *
 * Cost: each page written after the fork is a copy-on-write fault in the
 * parent and in the child.  So the global locks taken here, and the
 * variables that this file and the child handlers set, live together in
 * the kmem_fork_data section (internal.h: __fork_lock, __fork_data), and
 * a child handler writes a variable only if its value changes: 46 faults
 * a fork instead of 62 (docs/ARCHITECTURE.md has the figures).
 *
 * Fork from a signal handler.  The handler may have interrupted this very
 * thread anywhere in kmem, with some lock held, or even inside another
 * fork's prepare.  Locks that this thread holds are skipped
 * (kmem_fork_lock): the interrupted code resumes after the handler in the
 * parent and in the child, and releases them; fork_mutex held by this
 * thread means a nested fork, which takes a new level, and releases only
 * the locks its own level took.
 *
 * Such a handler's fork waits for fork_mutex with a kmem lock held by the
 * code it interrupted, and the thread that holds fork_mutex may be waiting
 * for that very lock in its prepare: a cycle.  So every thread waiting
 * for fork_mutex is listed (fork_waiters), and a first-level prepare that
 * finds a lock held by a listed thread backs off: it gives back what it
 * took and fork_mutex, waits until that thread has had its turn, and
 * starts again.  (A nested fork cannot give fork_mutex back: it waits.)
 *
 * Two handlers' forks, each interrupted with a lock the other needs, are
 * a cycle that no back-off breaks: each waits for the other's handler to
 * return.  Programs that install their handlers through sigaction or
 * signal never get there: preload/signal.c holds a handler back while its
 * thread holds a kmem lock (KMEM_DEFER_SIGNALS).  The rules above are for
 * the rest (handlers installed by the raw system call, programs linked
 * with the core alone, KMEM_DEFER_SIGNALS=0).
 *
 * Lock order (every path takes at most one of them at a time, except the
 * prepare handler, which takes them all in this order):
 *
 *   fork_mutex -> pcpu_data_lock -> kmap_lock (both leaves on every
 *   other path) -> percpu drain_lock -> slab_mutex -> depot locks
 *   -> kmem_cache locks -> debug locks -> vmap_lock -> pcp locks
 *   -> zone locks -> prof_lock -> section_lock
 */
#include "fork.h"

#include <limits.h>

#include "buddy.h"
#include "debug.h"
#include "depot.h"
#include "highmem.h"
#include "os.h"
#include "percpu.h"
#include "percpu_data.h"
#include "profile.h"
#include "purge.h"
#include "slab.h"
#include "vmalloc.h"

_Atomic uint32_t kmem_fork_token __fork_data;
static kmem_lock_t fork_mutex __fork_lock = KMEM_LOCK_INIT;
static uint32_t fork_level __fork_data;	/* under fork_mutex: nested forks */
static bool io_list_held __fork_data;	/* level 1 took glibc's stdio list lock */
static bool io_list_reset __fork_data;	/* and glibc resets it in the child */
static uint32_t fork_blocker __fork_data;	/* under fork_mutex: token of the listed
				 * waiter whose lock made level 1 back off */

/* Tokens of the threads waiting for fork_mutex (0: a free slot). */
#define FORK_WAITER_SLOTS 64
static _Atomic uint32_t fork_waiters[FORK_WAITER_SLOTS] __fork_data;

static int fork_waiter_add(uint32_t token)
{
	for (int i = 0; i < FORK_WAITER_SLOTS; i++) {
		uint32_t free_slot = 0;

		if (atomic_compare_exchange_strong(&fork_waiters[i], &free_slot,
						   token))
			return i;
	}
	return -1;	/* all taken: this waiter cannot be backed off for */
}

static bool fork_waiting(uint32_t token)
{
	for (int i = 0; i < FORK_WAITER_SLOTS; i++)
		if (atomic_load(&fork_waiters[i]) == token)
			return true;
	return false;
}

/* glibc's (exported since 2.2.5); weak, in case of another C library. */
extern void _IO_list_lock(void) __attribute__((weak));
extern void _IO_list_unlock(void) __attribute__((weak));
/* What glibc's fork (2.36, posix/fork.c) reads before the prepare
 * handlers to decide whether to reset its stdio list lock in the child
 * (since 2.32; absent, assume it does, as a multi-threaded fork). */
extern char __libc_single_threaded __attribute__((weak));

/* Will glibc's fork reset its stdio list lock in the child?  Only a fork
 * by a process it believes multi-threaded: after a single-threaded fork
 * the lock we took is still ours in the child, and a thread the child
 * starts hangs in its first fflush(NULL) or fopen unless we release it. */
static bool libc_resets_io_list(void)
{
	return !&__libc_single_threaded || !__libc_single_threaded;
}

void kmem_fork_lock(kmem_lock_t *l)
{
	/* fork_blocker: level 1 is backing off and takes nothing more (a
	 * nested fork that interrupted it takes everything, as always). */
	if (kmem_lock_mine(l) || (fork_blocker && fork_level == 1))
		return;
	if (fork_level == 1) {
		/* Wait, unless the owner waits for fork_mutex (see top). */
		while (!kmem_lock_for(l, 1000000)) {
			uint32_t owner = atomic_load_explicit(
				&l->val, memory_order_relaxed) & ~1u;

			if (owner && fork_waiting(owner)) {
				fork_blocker = owner;
				return;
			}
		}
	} else {
		kmem_lock(l);
	}
	l->fork_level = fork_level;
	if (atomic_load_explicit(&l->val, memory_order_relaxed) & 1)
		os_futex_wake(&l->val, INT_MAX);
}

void kmem_fork_unlock(kmem_lock_t *l)
{
	if (!fork_level || l->fork_level != fork_level)
		return;
	l->fork_level = 0;
	kmem_unlock(l);
}

static bool kmem_is_up(void)
{
	return atomic_load_explicit(&kmem_init_state, memory_order_acquire) ==
	       KMEM_UP;
}

static void fork_lock_all(void)
{
	percpu_data_fork_prepare();
	highmem_fork_prepare();
	percpu_fork_prepare();
	slab_fork_prepare();
	depot_fork_prepare();
	debug_fork_prepare();
	vmalloc_fork_prepare();
	buddy_fork_prepare();
	prof_fork_prepare();
}

static void fork_release(bool child);

void kmem_fork_prepare(void)
{
	uint32_t self, blocker;

	if (!kmem_is_up())
		return;
	if (kmem_lock_mine(&fork_mutex)) {
		fork_level++;		/* a fork from a signal handler */
		fork_lock_all();
		return;
	}
	self = kmem_self();
	for (;;) {
		int slot = fork_waiter_add(self);

		kmem_lock(&fork_mutex);
		if (slot >= 0)
			atomic_store(&fork_waiters[slot], 0);
		fork_level = 1;
		fork_blocker = 0;
		if (_IO_list_lock) {
			io_list_reset = libc_resets_io_list();
			_IO_list_lock();
			io_list_held = true;
		}
		atomic_store_explicit(&kmem_fork_token, self,
				      memory_order_seq_cst);
		fork_lock_all();
		if (!fork_blocker)
			return;
		/* A waiter for fork_mutex holds a lock we need: its turn
		 * first (see top), then take everything again. */
		blocker = fork_blocker;
		fork_blocker = 0;
		fork_release(false);
		for (unsigned int i = 0; i < 100000 && fork_waiting(blocker); i++)
			os_yield();
	}
}

/* Release what this level took, bottom up.  child: in the new process,
 * where glibc has reset its stdio list lock already if io_list_reset. */
static void fork_release(bool child)
{
	prof_fork_release();
	buddy_fork_release();
	vmalloc_fork_release();
	debug_fork_release();
	depot_fork_release();
	slab_fork_release();
	percpu_fork_release();
	highmem_fork_release();
	percpu_data_fork_release();
	if (child && io_list_reset)
		io_list_held = false;
	if (--fork_level == 0) {
		atomic_store_explicit(&kmem_fork_token, 0,
				      memory_order_release);
		if (io_list_held && _IO_list_unlock)
			_IO_list_unlock();
		io_list_held = false;
		kmem_unlock(&fork_mutex);
	}
}

void kmem_fork_parent(void)
{
	if (!kmem_is_up() || !fork_level)
		return;
	fork_release(false);
}

void kmem_fork_child(void)
{
	if (!kmem_is_up() || !fork_level)
		return;
	fork_release(true);
	/* What the child must not inherit: other threads are gone (and
	 * with them every waiter for fork_mutex), and high memory's file
	 * would be shared with the parent. */
	for (int i = 0; i < FORK_WAITER_SLOTS; i++)
		atomic_store_explicit(&fork_waiters[i], 0, memory_order_relaxed);
	buddy_fork_child();
	highmem_fork_child();
	percpu_data_fork_child();
	percpu_fork_child();
	debug_fork_child();
	purge_fork_child();
}
