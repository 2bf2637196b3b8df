/* SPDX-License-Identifier: MIT */
/*
 * core/slab_internal.h - what slab.c and slab_fresh.c share, and nothing
 * else includes: the geometry of a slab's objects, the set-up of a new
 * slab's objects, the fresh-object state of a slab's first tail page
 * (page.h: fresh_*) and slab_fresh.c's entry points.  The contract with
 * the layers above is slab.h.
 *
 * What slab.c calls on its allocation path is inline here, as it was
 * inline when all of it was in slab.c: setup_slab_objects, run by
 * new_slab at every new slab (out of line it cost 0.5% more instructions
 * in a loop of 4000- and 20000-byte mallocs and frees, which makes and
 * discards a slab every few calls), and slab_has_fresh, asked by
 * take_objects at every slab it takes objects from.
 */
#ifndef KMEM_SLAB_INTERNAL_H
#define KMEM_SLAB_INTERNAL_H

#include "debug.h"
#include "slab.h"

/* ---- geometry ---- */

static inline unsigned int slab_bytes(const struct kmem_cache *s)
{
	return (unsigned int)(PAGE_SIZE << s->order);
}

static __always_inline void *slab_obj(const struct kmem_cache *s, void *base,
				      unsigned int i)
{
	return (char *)base + s->red_left_pad + (size_t)i * s->size;
}

/* ---- geometry (slab_layout.c) ---- */

/* Fill in s's order, stride, free pointer offset, debug meta placement,
 * objects per slab and their reciprocals for size bytes aligned to align
 * (s->flags and s->ctor set); EINVAL if no slab can hold them. */
int slab_calculate_sizes(struct kmem_cache *s, size_t size, size_t align) __hidden;

/* ---- a new slab's objects (slab_fresh.c) ---- */

/* Varies shuffle seeds: this thread's slabs made so far (a slab's
 * address and the secret do the rest). */
extern __thread uint64_t slab_seed_ctr __hidden
	__attribute__((tls_model("initial-exec")));

/* s->shuffle_group for a cache whose size and objects are set
 * (KMEM_SHUFFLE). */
unsigned int slab_shuffle_group(const struct kmem_cache *s) __hidden;
/* Link a new slab's n objects into its free list, in the shuffle's order
 * drawn from seed, and return the first. */
void *build_freelist(struct kmem_cache *s, void *base, unsigned int n,
		     uint64_t seed) __hidden;
/*
 * Up to nr of a slab's fresh objects, in its shuffle's order, free-tagged
 * where the cache tags; s->lock held.  Returns how many (page->inuse is
 * the caller's).
 */
size_t take_fresh(struct kmem_cache *s, struct page *page, size_t nr,
		  void **objs) __hidden;

/* Objects per shuffle group (all n of the slab without shuffle groups). */
static inline unsigned int slab_group_size(const struct kmem_cache *s,
					   unsigned int n)
{
	return s->shuffle_group ? s->shuffle_group : n;
}

/* A new slab's shuffle seed: the secret, its address and a counter. */
static inline uint64_t slab_seed(const void *base)
{
	return slab_secrets.freeptr ^ (uintptr_t)base ^
	       (++slab_seed_ctr * 0x9e3779b97f4a7c15ULL) ^
	       (uintptr_t)&slab_seed_ctr;
}

/* Whether a new slab leaves its objects unwritten (fresh objects): more
 * than one page (the first tail page holds the state), no constructor, no
 * debug layout to initialise, not under memcheck (whose view of every
 * object new_slab sets up). */
static inline bool slab_builds_lazily(const struct kmem_cache *s)
{
	return s->order && !s->ctor && !cache_debug(s) && !debug_valgrind;
}

/*
 * The objects of a new slab at page (base its address; the tail pages
 * marked), initialised and linked into a free list whose first object is
 * returned, or left fresh (NULL: slab_fresh.c's top comment).  No lock
 * held; memcheck's view of the slab open.
 */
static inline void *setup_slab_objects(struct kmem_cache *s,
				       struct page *page, void *base)
{
	unsigned int n = s->objects, i;
	void *first;
	uint64_t seed;

	seed = slab_seed(base);
	if (slab_builds_lazily(s)) {
		/* Nothing written into the objects (fresh objects). */
		unsigned int g = slab_group_size(s, n);

		page[1].fresh_seed = seed;
		page[1].fresh_next = page[1].fresh_off = 0;
		page[1].fresh_groups = (uint16_t)((n + g - 1) / g);
		first = NULL;
	} else {
		if (s->order)
			page[1].fresh_next = page[1].fresh_groups = 0;
		for (i = 0; i < n; i++) {
			void *obj = slab_obj(s, base, i);

			debug_init_object(s, obj);
			if (s->ctor)
				s->ctor(obj);
			if (s->flags & SLAB_FREE_TAG)
				*(uintptr_t *)obj = slab_free_tag(obj);
		}
		first = build_freelist(s, base, n, seed);
	}
	return first;
}

/* Whether the slab at page (of cache s) has fresh objects left. */
static inline bool slab_has_fresh(const struct kmem_cache *s,
				  const struct page *page)
{
	return s->order && page[1].fresh_next < page[1].fresh_groups;
}

/* The slab's fresh objects are never handed out (a damaged slab). */
static inline void slab_drop_fresh(const struct kmem_cache *s,
				   struct page *page)
{
	if (s->order)
		page[1].fresh_next = page[1].fresh_groups;
}

#endif /* KMEM_SLAB_INTERNAL_H */
