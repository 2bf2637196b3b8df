/* SPDX-License-Identifier: MIT */
/*
 * core/lock.c - the slow halves of kmem_lock_t (internal.h): the
 * contended acquisition, the wake-up, the bounded wait of the statistics
 * handler, and the per-thread words every lock reads (the owner token,
 * why an acquisition gave up, the count of locks held that signal
 * deferral reads: preload/signal.c).
 *
 * Layer: a utility beside os.c, under every layer that takes a lock.
 * Calls os.c for the futex, the clock, the thread id and yield, and
 * printk for a lock taken twice.  Owns no lock of its own.
 */
#include "internal.h"

#include "os.h"

__thread uint32_t kmem_token __attribute__((tls_model("initial-exec")));
__thread uint8_t kmem_bailed __attribute__((tls_model("initial-exec")));
__thread bool kmem_wait_fork __attribute__((tls_model("initial-exec")));
__thread unsigned int kmem_locks_held __attribute__((tls_model("initial-exec")));
__thread uint64_t kmem_sig_deferred __attribute__((tls_model("initial-exec")));

uint32_t __kmem_self_init(void)
{
	kmem_token = (uint32_t)os_gettid() << 1;
	return kmem_token;
}

#define LOCK_SPINS 100	/* pause loops before sleeping: sections are short */

/*
 * The contended half of kmem_lock and kmem_lock_safe (internal.h).  safe:
 * give up, rather than wait, when the owner is this thread (at once) or
 * another thread has been forking for KMEM_FORK_WAIT_MS.  A waiter that
 * may have slept takes the lock with the waiters bit set, since others
 * may still sleep behind it.
 */
bool __kmem_lock_slow(kmem_lock_t *l, bool safe)
{
	uint32_t me = kmem_self(), v, fork;
	uint64_t fork_seen = 0;

	for (int spin = 0;; spin++) {
		v = atomic_load_explicit(&l->val, memory_order_relaxed);
		if (v == 0) {
			uint32_t want = spin < LOCK_SPINS ? me : me | 1;

			if (atomic_compare_exchange_weak_explicit(
				    &l->val, &v, want, memory_order_acquire,
				    memory_order_relaxed)) {
				kmem_locks_held++;
				return true;
			}
			continue;
		}
		if ((v & ~1u) == me) {
			if (safe) {
				kmem_bailed = BAIL_SELF;
				return false;
			}
			kmem_panic("lock %p taken twice by thread %u", (void *)l,
				   me >> 1);
		}
		fork = atomic_load_explicit(&kmem_fork_token,
					    memory_order_acquire);
		/*
		 * This thread is forking: a signal handler interrupted its
		 * fork, and the owner of l may be waiting for the fork_mutex
		 * that this thread holds (a handler's fork of its own).
		 * Never wait for it.
		 */
		if (safe && fork == me && !kmem_wait_fork) {
			kmem_bailed = BAIL_FORK;
			return false;
		}
		if (safe && fork && fork != me && !kmem_wait_fork) {
			uint64_t now = os_now_ms();

			if (!fork_seen)
				fork_seen = now;
			else if (now - fork_seen >= KMEM_FORK_WAIT_MS) {
				kmem_bailed = BAIL_FORK;
				return false;
			}
		}
		if (spin < LOCK_SPINS) {
			__builtin_ia32_pause();
			continue;
		}
		if (!(v & 1)) {
			if (!atomic_compare_exchange_weak_explicit(
				    &l->val, &v, v | 1, memory_order_relaxed,
				    memory_order_relaxed))
				continue;
			v |= 1;
		}
		if (fork_seen)	/* wake up to look at the clock again */
			os_futex_wait_ms(&l->val, v, KMEM_FORK_WAIT_MS);
		else
			os_futex_wait(&l->val, v);
	}
}

void __kmem_unlock_wake(kmem_lock_t *l)
{
	os_futex_wake(&l->val, 1);
}

bool kmem_lock_for(kmem_lock_t *l, uint64_t max_ns)
{
	uint64_t start = 0;

	if (kmem_lock_mine(l))		/* the interrupted code is ours */
		return false;
	for (unsigned int i = 0;; i++) {
		if (kmem_trylock(l))
			return true;
		if (i < 100) {
			__builtin_ia32_pause();
			continue;
		}
		if (!start)
			start = os_now_ns();
		else if (os_now_ns() - start > max_ns)
			return false;
		os_yield();
	}
}
