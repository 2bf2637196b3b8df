/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc_large.h - the private contract of kmalloc_large.c (blocks
 * above the slab classes: page runs, and the vmalloc threshold that sends
 * larger ones to vmalloc) with kmalloc.c, which classifies every block
 * and calls in here for the large ones.  What the slow halves of free
 * and of sampling test at every call is inline here (the threshold, the
 * valgrind hooks' test), as it was when the files were one; and
 * kmalloc_zone.c's entry for requests that name a zone.  Nothing outside
 * these three files includes it: the other layers use kmalloc.h.
 */
#ifndef KMEM_KMALLOC_LARGE_H
#define KMEM_KMALLOC_LARGE_H

#include "buddy.h"
#include "debug.h"
#include "kmalloc.h"
#include "reserve.h"

/* Sizes from here go to vmalloc (kmalloc_large.c says how it rises). */
extern _Atomic size_t vmalloc_threshold __hidden;
/* The highest it rises to; 0 where the threshold is fixed. */
extern size_t vmalloc_threshold_max __hidden;

static __always_inline size_t vmalloc_threshold_now(void)
{
	return atomic_load_explicit(&vmalloc_threshold, memory_order_relaxed);
}

/*
 * Whether kmalloc_try sends a request of size bytes aligned to align to a
 * vmalloc area, a mapping of its own (the same tests as __kmalloc_large's,
 * for the sizes past the slab classes that get there): memory that a
 * direct reclaim gives back to the buddy allocator cannot serve it, as
 * heap sections are never unmapped.
 */
static inline bool kmalloc_needs_mapping(size_t size, size_t align, gfp_t gfp)
{
	size_t span = MAX((size + PAGE_SIZE - 1) >> PAGE_SHIFT,
			  align >> PAGE_SHIFT);

	if (gfp & GFP_ZONEMASK)
		return false;
	if (size <= KMALLOC_MAX_CACHE_SIZE && align <= KMALLOC_MAX_CACHE_SIZE)
		return false;
	return size >= vmalloc_threshold_now() ||
	       align > (PAGE_SIZE << MAX_ORDER) ||
	       span > (1UL << MAX_ORDER);
}

/* A vmalloc area of n bytes is being freed: raise the threshold past it
 * (see vmalloc_threshold). */
void vmalloc_threshold_raise(const void *p) __hidden __cold;

static __always_inline void vmalloc_threshold_note_free(const void *p)
{
	if (atomic_load_explicit(&vmalloc_threshold, memory_order_relaxed) <
	    vmalloc_threshold_max)
		vmalloc_threshold_raise(p);
}

/* KMEM_DEBUG: every block above the slab classes is a vmalloc area, with
 * guard pages on both sides, quarantined when freed (kmalloc_init). */
extern gfp_t large_gfp __hidden;

/* valgrind: a page run or vmalloc area is born or dies.  Out of line:
 * a client request takes a stack array. */
void __vg_large_alloc(void *p, size_t size, gfp_t gfp) __hidden __cold;
void __vg_large_free(void *p) __hidden __cold;

static __always_inline void vg_large_alloc(void *p, size_t size, gfp_t gfp)
{
	if (unlikely(debug_valgrind) && p)
		__vg_large_alloc(p, size, gfp);
}

static __always_inline void vg_large_free(void *p)
{
	if (unlikely(debug_valgrind))
		__vg_large_free(p);
}

/* May the block p of kmalloc's stay where it is for a request of gfp? */
static inline bool kmalloc_zone_ok(const void *p, gfp_t gfp)
{
	if (likely(!(gfp & GFP_ZONEMASK)))
		return true;
	return kmem_addr_in_heap(p) && !reserve_owns(p) &&
	       zone_satisfies(pagemap_zone_of(p), gfp);
}

/* A request that names a zone: the zone's caches up to 32 KiB, page runs
 * of the zone above, never vmalloc or the reserve (kmalloc_zone.c). */
void *kmalloc_zone(size_t size, size_t align, gfp_t gfp,
		   unsigned long ip) __hidden;

/* A page run for size bytes aligned to align (a power of two), or a
 * vmalloc area at and above the threshold; told to valgrind. */
void *kmalloc_large(size_t size, size_t align, gfp_t gfp,
		    unsigned long ip) __hidden;
/* Give back the page run whose head is page. */
void large_free(struct page *page) __hidden;

/*
 * krealloc's halves for a page run (head page) and a vmalloc area p of
 * old usable bytes: p, or the area's new address, if the block could be
 * kept (resized in place, or the area moved by mremap); else NULL, and
 * the caller moves it to a new block.
 */
void *krealloc_large(void *p, struct page *page, size_t old, size_t new_size,
		     gfp_t gfp) __hidden;
void *krealloc_vmalloc(void *p, size_t old, size_t new_size,
		       gfp_t gfp) __hidden;

#endif /* KMEM_KMALLOC_LARGE_H */
