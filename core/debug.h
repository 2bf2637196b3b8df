/* SPDX-License-Identifier: MIT */
/*
 * core/debug.h - object debugging for debug caches: the contract of
 * debug.c with slab.c and kmalloc.c.
 *
 * A cache is a debug cache when it has one of SLAB_DEBUG_FLAGS (slab.h).
 * Every hook below is an inline stub that returns at once for other caches,
 * so slab.c calls them unconditionally, without #ifdef and at the cost of
 * one flag test.  The out-of-line __debug_* functions do the work.
 *
 * Layout of a debug object (slab.h has the general picture), its stride:
 *
 *   [left red zone: red_left_pad][object: object_size][right red zone up
 *    to inuse][free pointer: 8 bytes][state word?][padding up to size]
 *
 * or, when the left red zone is 16 bytes or more (an alignment of 16:
 * every kmalloc cache), with the free pointer in its last 8 bytes:
 *
 *   [left red zone ... | free pointer][object][right red zone][state?][pad]
 *
 * Those 8 bytes read as red zone (0xcc) while the object is allocated and
 * hold the encoded free pointer while it is on a slab's free list; the
 * free pattern (0xbb) is written and checked only in the rest of the zone
 * (red_left_free_len).
 *
 * and its meta, entry i of an array after the slab's objects (object i):
 *
 *   | stride 0 | stride 1 | ... | stride n-1 | meta 0 | ... | meta n-1 |
 *
 *   meta = struct track alloc, free      (SLAB_STORE_USER)
 *          size_t orig_size              (SLAB_KMALLOC_SIZE, unless it
 *                                         fits in the stride's padding:
 *                                         the state word?, orig_offset)
 *
 * With SLAB_KMALLOC_SIZE (kmalloc caches in debug mode or under valgrind)
 * the requested size is stored, and the bytes [orig_size, object_size) are
 * part of the right red zone (SLUB's kmalloc red zone): malloc(40) from
 * kmalloc-48 catches a one-byte overflow at byte 40.
 *
 * Byte patterns (the kernel's, include/linux/poison.h):
 *   red zones:     0xbb while the object is free, 0xcc while allocated;
 *   free objects:  0x6b, last byte 0xa5 (SLAB_POISON, caches without ctor).
 *
 * Checks: on free, the red zones must read 0xcc (0xbb means a double free,
 * anything else an overflow) and the object must not be on its slab's
 * free list; on allocation, the poison and the 0xbb red zones must be
 * intact (a write after free).  A failed check prints the cache, the object
 * and a hex dump, then goes through kmem_report_error (abort unless
 * KMEM_ABORT=0).  The alloc hook runs without the cache lock, the free
 * hook with it (slab.c) or without it (kmalloc's debug classes, whose
 * checked objects then wait in per-CPU caches): the state word then
 * makes a free exact between threads and lets walks skip an object a
 * hook is rewriting (debug.c, state_set).
 *
 * valgrind: when kmem runs under valgrind (debug_valgrind, read once at
 * init), memcheck sees every object as a heap block (MALLOCLIKE/FREELIKE at
 * the API boundary) and every free object, red zone and meta area as
 * inaccessible; the allocator opens what it touches with vg_open() and
 * closes it with vg_close().  Both are one predictable branch otherwise.
 */
#ifndef KMEM_DEBUG_H
#define KMEM_DEBUG_H

#include "slab.h"

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#define SLUB_RED_INACTIVE 0xbb	/* red zone of a free object */
#define SLUB_RED_ACTIVE 0xcc	/* red zone of an allocated object */
#define POISON_FREE 0x6b	/* body of a free object */
#define POISON_END 0xa5		/* last byte of a free object */

/* Where and when an object was last allocated or freed (SLAB_STORE_USER).
 * 16 bytes, two per object: with 24 (a 64-bit time, whole ints) CPython's
 * 32-byte objects took 128 bytes each under KMEM_DEBUG=FZPU, 112 now.
 * Thread ids fit 22 bits (the kernel's PID_MAX_LIMIT); CPUs beyond 1023
 * are recorded modulo 1024; times wrap after 49 days. */
#define TRACK_CPU_MASK 1023u
struct track {
	unsigned long addr;	/* return address into the caller; 0: none */
	uint32_t when;		/* os_now_ms() of the call, low 32 bits */
	uint32_t tid : 22;	/* thread id of the caller */
	uint32_t cpu : 10;	/* CPU it ran on (modulo 1024) */
};

enum track_item { TRACK_ALLOC, TRACK_FREE };

/* RUNNING_ON_VALGRIND, read once by debug_init(). */
extern bool debug_valgrind __hidden;

static __always_inline bool cache_debug(const struct kmem_cache *s)
{
	return unlikely(s->flags & SLAB_DEBUG_FLAGS);
}

/* Under valgrind: make [p, p+n) addressable and defined for the allocator's
 * own reads and writes (vg_open), then inaccessible again (vg_close). */
static __always_inline void vg_open(const void *p, size_t n)
{
	if (unlikely(debug_valgrind))
		(void)VALGRIND_MAKE_MEM_DEFINED(p, n);
}

static __always_inline void vg_close(const void *p, size_t n)
{
	if (unlikely(debug_valgrind))
		(void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
}

/* Read the environment and valgrind state; called by slab_init(). */
void debug_init(void) __hidden;
/* True if every kmalloc class must take the checked slab path (valgrind
 * or a quarantine), even without debug flags. */
bool debug_force_slow_path(void) __hidden;

/* Fill in red_left_pad and inuse from s->object_size, s->align, s->flags
 * and s->ctor; *fp_outside: the free pointer goes after inuse.  Returns
 * the bytes of meta data that follow the free pointer. */
unsigned int debug_calculate_layout(struct kmem_cache *s, bool *fp_outside) __hidden;
/* Extra SLAB_* debug flags asked for cache `name` by KMEM_DEBUG. */
slab_flags_t debug_flags_for(const char *name, bool kmalloc_cache) __hidden;

void __debug_init_object(struct kmem_cache *s, void *obj) __hidden;
void __debug_alloc_hook(struct kmem_cache *s, void *obj, size_t orig_size,
			gfp_t gfp, unsigned long caller) __hidden;
bool __debug_free_hook(struct kmem_cache *s, struct page *slab, void *obj,
		       unsigned long caller, bool locked) __hidden;
size_t __debug_object_size(const struct kmem_cache *s, const void *obj) __hidden;

/* A new slab's object, before the constructor and the free list. */
static __always_inline void debug_init_object(struct kmem_cache *s, void *obj)
{
	if (cache_debug(s))
		__debug_init_object(s, obj);
}

/*
 * obj is about to be handed out (cache lock not held) for orig_size bytes
 * (<= object_size); the hook zeroes them for __GFP_ZERO.  caller: the
 * return address of the API call, or 0.
 */
static __always_inline void debug_alloc_hook(struct kmem_cache *s, void *obj,
					     size_t orig_size, gfp_t gfp,
					     unsigned long caller)
{
	if (cache_debug(s))
		__debug_alloc_hook(s, obj, orig_size, gfp, caller);
}

/* obj is being freed into slab (locked: the cache lock is held; else
 * the hook takes it where it must walk the free list); false: drop the
 * free. */
static __always_inline bool debug_free_hook(struct kmem_cache *s,
					    struct page *slab, void *obj,
					    unsigned long caller, bool locked)
{
	if (cache_debug(s))
		return __debug_free_hook(s, slab, obj, caller, locked);
	return true;
}

/* Bytes the user asked for obj (its kmalloc size where it was stored). */
static __always_inline size_t debug_object_size(const struct kmem_cache *s,
						const void *obj)
{
	if (unlikely(s->flags & SLAB_KMALLOC_SIZE))
		return __debug_object_size(s, obj);
	return s->object_size;
}

/*
 * Quarantine (KMEM_QUARANTINE bytes; 4 MiB by default under valgrind):
 * a freed object of a checked cache is held in a FIFO and really freed
 * (__kmem_cache_free_track) only when newer frees push it out, so a use
 * after free hits memory that memcheck (or the poison) still guards.
 * Returns false when the quarantine is off: free obj now.
 */
extern size_t debug_quarantine_max __hidden;	/* bytes; 0: off */
bool __debug_quarantine_put(struct kmem_cache *s, void *obj,
			    unsigned long caller) __hidden;

static __always_inline bool debug_quarantine_put(struct kmem_cache *s,
						 void *obj,
						 unsigned long caller)
{
	if (unlikely(debug_quarantine_max))
		return __debug_quarantine_put(s, obj, caller);
	return false;
}
/* Free everything held (exit checks, kmem_trim). */
void debug_quarantine_drain(void) __hidden;

/* In a forked child: cached thread ids are stale. */
void debug_fork_child(void) __hidden;
void debug_fork_prepare(void) __hidden;
void debug_fork_release(void) __hidden;

/* KMEM_VALIDATE and KMEM_LEAK_REPORT at exit; runs once. */
void kmem_debug_exit(void) __hidden;
/* Print live objects of caches with call sites, grouped by call site, to
 * fd; at most max_lines lines of sites.  Returns the objects counted. */
unsigned long debug_leak_report(int fd, unsigned int max_lines) __hidden;

#endif /* KMEM_DEBUG_H */
