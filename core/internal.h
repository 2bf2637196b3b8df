/* SPDX-License-Identifier: MIT */
/*
 * core/internal.h - what every layer of kmem shares.
 *
 * Owns: compiler helpers, the intrusive list, kmem_lock_t (a futex mutex
 * whose slow path lives in os.c), the three assertion levels, and the
 * reporting entry points (printk.c).  It may include only libc headers
 * that never allocate, the public <kmem.h> and probes.h (USDT probe
 * macros: kmem_probe(name, args...) on every layer's slow paths).
 *
 * Layer order (each layer calls only the ones below it):
 *
 *   preload/  ->  kmalloc  ->  percpu  ->  slab (+debug)  ->  vmalloc
 *             ->  buddy  ->  page  ->  os
 *
 * Nothing here allocates, prints through stdio, or reads the environment.
 */
#ifndef KMEM_INTERNAL_H
#define KMEM_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmem.h"
#include "probes.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __hidden __attribute__((visibility("hidden")))
#define __noinline __attribute__((noinline))
#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define __cold __attribute__((cold, noinline))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define KMEM_EXPORT __attribute__((visibility("default")))
/* Return address into the caller of the current function (the kernel's
 * _RET_IP_): API entry points pass it down for debug call-site records. */
#define _RET_IP_ ((unsigned long)__builtin_return_address(0))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define is_power_of_2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier() __asm__ __volatile__("" ::: "memory")

#define CACHE_LINE_SIZE 64
#define ____cacheline_aligned __attribute__((aligned(CACHE_LINE_SIZE)))

/* Upper bound of CPU slots for per-CPU structures: cpu ids wrap modulo it. */
#define KMEM_NR_CPUS 256

/* ---- intrusive doubly linked list (the kernel's list_head) ---- */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_add(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_add(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = e->prev = NULL;
}

static inline void list_move(struct list_head *e, struct list_head *head)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	list_add(e, head);
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)
#define list_for_each_entry(pos, head, member)                         \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head);                                   \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member)                   \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),   \
	    n = list_entry(pos->member.next, __typeof__(*pos), member);  \
	     &pos->member != (head);                                     \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

/* ---- kmem_lock_t: a futex mutex that knows its owner ----
 *
 * val is 0 when the lock is free, else the owner's token (kmem_self(): the
 * thread id shifted left by one, so it is even and never 0) with bit 0 set
 * once a waiter may be asleep on the futex.  A plain zero-initialised word
 * is a free lock.  Knowing the owner is what makes the allocator safe to
 * enter from a signal handler and around fork:
 *
 *   kmem_lock(l)       waits as long as it takes (used where no signal
 *                      handler or fork window can be on the path: cache
 *                      creation, statistics, the fork handlers themselves);
 *   kmem_lock_safe(l)  waits too, except when waiting could never end: the
 *                      owner is this very thread (a signal handler entered
 *                      kmem while the code it interrupted held l: it gives
 *                      up at once), or another thread has been forking for
 *                      KMEM_FORK_WAIT_MS (its prepare handler took every
 *                      lock, and it may be waiting for a lock that this
 *                      thread's caller holds).  Then it returns false and
 *                      sets kmem_bailed: the caller takes a path that
 *                      needs no lock (the atomic reserve, deferred frees),
 *                      and never holds a second lock;
 *   kmem_trylock(l)    never waits (GFP_ATOMIC, GFP_NOWAIT, pcp lists).
 *
 * Every lock on an allocation or free path is taken with kmem_lock_safe or
 * kmem_trylock, and no such path holds two of them at once, so a failed
 * acquisition never has to unwind anything.  The slow halves are in
 * lock.c, the wait and wake system calls in os.c; fork.c owns the fork
 * protocol. */

typedef struct {
	_Atomic uint32_t val;		/* 0, or owner token | waiters bit */
	uint32_t fork_level;		/* level of the fork prepare holding it */
} kmem_lock_t;

#define KMEM_LOCK_INIT { 0, 0 }

/*
 * What the fork handlers write after the fork: the global locks that the
 * prepare handler takes (those inside structures, a zone's or a cache's,
 * stay there), a cache line each, and the other variables the fork path
 * or a child's handler sets.  All of them are in one section, so that the
 * parent's unlock and the child's release write one page for them, not a
 * page each: every page written after a fork is a copy-on-write fault, on
 * both sides (docs/ARCHITECTURE.md, "Locks, fork and signals").
 */
#define __fork_data __attribute__((section("kmem_fork_data")))
#define __fork_lock __fork_data __attribute__((aligned(64)))

/*
 * Written once, at start-up (or at a fork, or at exit), read from then on:
 * the settings, the modes, the secrets, the keys.  Together in one
 * section, as the kernel's __read_mostly, so that they share cache lines
 * with nothing that is written often, and so that starting a process
 * writes one page for them, not a page each: /bin/true took 99 page
 * faults under kmem, glibc alone 48 (bench/notes.md).
 */
#define __read_mostly __attribute__((section("kmem_read_mostly")))

/* This thread's token: its thread id << 1, read once (initial-exec TLS).
 * A forked child keeps its parent thread's token, so the locks that an
 * interrupted context of the thread still holds stay recognisably its. */
extern __thread uint32_t kmem_token
	__attribute__((tls_model("initial-exec"))) __hidden;
/* Why a lock acquisition gave up (kmem_lock_safe, or a trylock of a
 * __GFP_NOBLOCK request) since the flag was last cleared. */
enum kmem_bail { BAIL_NONE, BAIL_SELF, BAIL_FORK, BAIL_BUSY };
extern __thread uint8_t kmem_bailed
	__attribute__((tls_model("initial-exec"))) __hidden;
/* Set by a caller that would rather wait through a fork than fail (the
 * atomic reserve could not serve it): kmem_lock_safe then only gives up
 * on a lock of its own thread. */
extern __thread bool kmem_wait_fork
	__attribute__((tls_model("initial-exec"))) __hidden;
/* How long a waiter waits for a lock that a forking thread holds before
 * it gives up (the fork is then likely stuck behind a lock the waiter's
 * caller holds). */
#define KMEM_FORK_WAIT_MS 10
/* Token of the thread between its fork prepare and parent/child handlers,
 * or 0 (fork.c). */
extern _Atomic uint32_t kmem_fork_token __hidden;

uint32_t __kmem_self_init(void) __hidden;
bool __kmem_lock_slow(kmem_lock_t *l, bool safe) __hidden;
void __kmem_unlock_wake(kmem_lock_t *l) __hidden;

/*
 * Signals deferred while a kmem lock is held (preload/signal.c wraps the
 * program's handlers): kmem_locks_held counts the kmem locks this thread
 * holds; a handler's signal that arrives while it is not 0 is queued
 * again to this thread, blocked, and its bit set in kmem_sig_deferred;
 * the unlock that brings the count to 0 unblocks them (os_signal_replay)
 * and the kernel delivers them there, with no kmem lock held.  Only the
 * owner's unlock counts down (kmem_unlock compares the token).
 */
extern __thread unsigned int kmem_locks_held
	__attribute__((tls_model("initial-exec"))) __hidden;
extern __thread uint64_t kmem_sig_deferred
	__attribute__((tls_model("initial-exec"))) __hidden;
void os_signal_replay(void) __hidden;

static __always_inline uint32_t kmem_self(void)
{
	uint32_t t = kmem_token;

	return likely(t) ? t : __kmem_self_init();
}

static __always_inline bool kmem_trylock(kmem_lock_t *l)
{
	uint32_t c = 0;

	if (!atomic_compare_exchange_strong_explicit(
		    &l->val, &c, kmem_self(), memory_order_acquire,
		    memory_order_relaxed))
		return false;
	kmem_locks_held++;
	return true;
}

static __always_inline void kmem_lock(kmem_lock_t *l)
{
	if (unlikely(!kmem_trylock(l)))
		__kmem_lock_slow(l, false);
}

static __always_inline bool kmem_lock_safe(kmem_lock_t *l)
{
	if (likely(kmem_trylock(l)))
		return true;
	return __kmem_lock_slow(l, true);
}

static __always_inline void kmem_unlock(kmem_lock_t *l)
{
	uint32_t v = atomic_exchange_explicit(&l->val, 0, memory_order_release);

	if (unlikely(v & 1))
		__kmem_unlock_wake(l);
	if (likely((v & ~1u) == kmem_token) && --kmem_locks_held == 0 &&
	    unlikely(kmem_sig_deferred))
		os_signal_replay();
}

/*
 * Take l if it can be had within max_ns nanoseconds (trying, yielding in
 * between), else give up: false.  Only for the statistics signal handler
 * (stats_live.c) and the profiler, which must never wait for a lock that
 * the thread they interrupted may hold.  In lock.c.
 */
bool kmem_lock_for(kmem_lock_t *l, uint64_t max_ns) __hidden;

/* Is l held by the calling thread? */
static inline bool kmem_lock_mine(kmem_lock_t *l)
{
	return (atomic_load_explicit(&l->val, memory_order_relaxed) & ~1u) ==
	       kmem_self();
}

static inline bool kmem_lock_held(kmem_lock_t *l)
{
	return atomic_load_explicit(&l->val, memory_order_relaxed) != 0;
}

/* gfp bits of kmem's own, above the public ones of <kmem.h>:
 * __GFP_KMEM_QUARANTINE: a vmalloc area whose free keeps it inaccessible
 * for a while (sampled blocks, KMEM_DEBUG's large blocks).
 * __GFP_KMEM_COUNTED: the caller's fast half tried a pop, which ran this
 * allocation's bytes down the sampling countdown of its CPU (or thread)
 * already (percpu_sample_due); the kmalloc entries take it off.
 * __GFP_KMEM_SPARSE: with __GFP_ZERO, memory of which the caller will
 * touch a few pages only (a thread's per-CPU region): the buddy allocator
 * takes a clean (not resident) block first, rather than a resident one
 * that would then be zeroed whole (buddy.c, __rmqueue). */
#define __GFP_KMEM_QUARANTINE 0x40000000u
#define __GFP_KMEM_COUNTED 0x20000000u
#define __GFP_KMEM_SPARSE 0x10000000u

/* gfp's way of taking a lock on an allocation path: __GFP_NOBLOCK
 * (GFP_ATOMIC, GFP_NOWAIT) never waits. */
static __always_inline bool kmem_lock_gfp(kmem_lock_t *l, gfp_t gfp)
{
	if (unlikely(gfp & __GFP_NOBLOCK)) {
		if (kmem_trylock(l))
			return true;
		kmem_bailed = BAIL_BUSY;
		return false;
	}
	return kmem_lock_safe(l);
}

/* ---- lock-free stacks (Treiber) for deferred frees ----
 * Pushed from any context, taken whole with one exchange by whoever next
 * holds the structure's lock: push + take-all has no ABA problem. */
static inline void llist_push(_Atomic(void *) *head, void *node,
			      void **link)
{
	void *old = atomic_load_explicit(head, memory_order_relaxed);

	do {
		*link = old;
	} while (!atomic_compare_exchange_weak_explicit(
		head, &old, node, memory_order_release, memory_order_relaxed));
}

static inline void *llist_take_all(_Atomic(void *) *head)
{
	if (!atomic_load_explicit(head, memory_order_relaxed))
		return NULL;
	return atomic_exchange_explicit(head, NULL, memory_order_acquire);
}

/* ---- reporting (printk.c): formatted on the stack, written with one
 * write(2), never allocate. ---- */

int kmem_vsnprintf(char *buf, size_t size, const char *fmt, __builtin_va_list ap) __hidden;
int kmem_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4) __hidden;
/* "kmem: <message>\n" to stderr. */
void kmem_pr_err(const char *fmt, ...) __printf(1, 2) __hidden;
/* Same, to an arbitrary file descriptor, without the prefix. */
void kmem_dprintf(int fd, const char *fmt, ...) __printf(2, 3) __hidden;
/* Print a hex dump of [addr, addr+len) with a leading label. */
void kmem_hexdump(int fd, const char *label, const void *addr, size_t len) __hidden;
/*
 * Text written in pieces to a file descriptor (statistics, profiles),
 * formatted by kmem_vsnprintf into a buffer on the caller's stack and
 * written when it fills: no malloc, no stdio, usable in a signal handler.
 * err keeps the first write error; later output is dropped.
 */
struct kmem_out {
	int fd;
	int err;
	size_t len;
	char buf[1024];
};
void kmem_out_init(struct kmem_out *o, int fd) __hidden;
void kmem_out_printf(struct kmem_out *o, const char *fmt, ...) __printf(2, 3) __hidden;
void kmem_out_write(struct kmem_out *o, const void *p, size_t n) __hidden;
/* Write what is buffered; returns o->err (0: all written). */
int kmem_out_flush(struct kmem_out *o) __hidden;
/* Print "kmem: BUG: <message>" and abort(). */
__attribute__((noreturn)) void kmem_panic(const char *fmt, ...) __printf(1, 2) __hidden;
/*
 * A detected heap corruption or invalid call (bad free, double free, ...):
 * print the report and abort, unless KMEM_ABORT=0 asked to continue, in
 * which case return and let the caller drop the operation.
 */
void kmem_report_error(const char *fmt, ...) __printf(1, 2) __hidden;
/* A report of several lines: the first line (as kmem_report_error's),
 * then the caller's details, then kmem_report_end() applies KMEM_ABORT. */
void kmem_report_begin(const char *fmt, ...) __printf(1, 2) __hidden;
void kmem_report_end(void) __hidden;

/* ---- assertions at three levels (conventions.md, rule 5) ---- */

#ifndef KMEM_DEBUG_BUILD
#define KMEM_DEBUG_BUILD 0
#endif
#ifndef KMEM_EXPENSIVE_CHECKS
#define KMEM_EXPENSIVE_CHECKS 0
#endif

#define kmem_assert(cond)                                                 \
	do {                                                              \
		if (unlikely(!(cond)))                                    \
			kmem_panic("assertion '%s' failed at %s:%d", #cond, \
				   __FILE__, __LINE__);                   \
	} while (0)
#define kmem_assert_internal(cond)                  \
	do {                                        \
		if (KMEM_DEBUG_BUILD)               \
			kmem_assert(cond);          \
	} while (0)
#define kmem_assert_expensive(cond)                 \
	do {                                        \
		if (KMEM_EXPENSIVE_CHECKS)          \
			kmem_assert(cond);          \
	} while (0)

/* ---- bootstrap (init.c) ---- */

enum kmem_init_state { KMEM_DOWN, KMEM_PARTIAL, KMEM_UP };
extern _Atomic int kmem_init_state __hidden;
void __kmem_init(void) __hidden;

static __always_inline void kmem_init(void)
{
	if (unlikely(atomic_load_explicit(&kmem_init_state,
					  memory_order_acquire) != KMEM_UP))
		__kmem_init();
}

/* One step of Marsaglia's xorshift64 (x != 0): the cheap random numbers
 * of the sampling countdowns (percpu.c, profile.c).  Not for secrets. */
static inline uint64_t kmem_xorshift64(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

#endif /* KMEM_INTERNAL_H */
