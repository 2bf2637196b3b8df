/* SPDX-License-Identifier: MIT */
/*
 * core/debug.h - object debugging for debug caches: the contract of
 * debug.c with slab.c.
 *
 * A cache is a debug cache when it has one of SLAB_DEBUG_FLAGS (slab.h).
 * Every hook below is an inline stub that returns at once for other caches,
 * so slab.c calls them unconditionally, without #ifdef and at the cost of
 * one flag test.  The out-of-line __debug_* functions do the work.
 *
 * Layout of a debug object (slab.h has the general picture):
 *
 *   [left red zone: red_left_pad][object: object_size][right red zone up
 *    to inuse][free pointer: 8 bytes][padding up to size]
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
 * KMEM_ABORT=0).  Hooks are called with the cache lock held, except
 * debug_alloc_hook.
 */
#ifndef KMEM_DEBUG_H
#define KMEM_DEBUG_H

#include "slab.h"

#define SLUB_RED_INACTIVE 0xbb	/* red zone of a free object */
#define SLUB_RED_ACTIVE 0xcc	/* red zone of an allocated object */
#define POISON_FREE 0x6b	/* body of a free object */
#define POISON_END 0xa5		/* last byte of a free object */

static __always_inline bool cache_debug(const struct kmem_cache *s)
{
	return unlikely(s->flags & SLAB_DEBUG_FLAGS);
}

/* Fill in red_left_pad, inuse and whether the free pointer must sit after
 * the object, from s->object_size, s->align, s->flags and s->ctor. */
void debug_calculate_layout(struct kmem_cache *s, bool *fp_outside) __hidden;
/* Extra SLAB_* debug flags asked for cache `name` by KMEM_DEBUG. */
slab_flags_t debug_flags_for(const char *name, bool kmalloc_cache) __hidden;

void __debug_init_object(struct kmem_cache *s, void *obj) __hidden;
void __debug_alloc_hook(struct kmem_cache *s, void *obj) __hidden;
bool __debug_free_hook(struct kmem_cache *s, struct page *slab, void *obj) __hidden;

/* A new slab's object, before the constructor and the free list. */
static __always_inline void debug_init_object(struct kmem_cache *s, void *obj)
{
	if (cache_debug(s))
		__debug_init_object(s, obj);
}

/* obj is about to be handed out (cache lock not held). */
static __always_inline void debug_alloc_hook(struct kmem_cache *s, void *obj)
{
	if (cache_debug(s))
		__debug_alloc_hook(s, obj);
}

/* obj is being freed into slab (cache lock held); false: drop the free. */
static __always_inline bool debug_free_hook(struct kmem_cache *s,
					    struct page *slab, void *obj)
{
	if (cache_debug(s))
		return __debug_free_hook(s, slab, obj);
	return true;
}

#endif /* KMEM_DEBUG_H */
