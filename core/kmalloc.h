/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc.h - size classes over the caches: contract of kmalloc.c with
 * preload/ (the malloc ABI).
 *
 * Three paths by size: slab size classes (table lookup) up to
 * KMALLOC_MAX_CACHE_SIZE, page runs from the buddy allocator (tail pages
 * given back) below KMEM_VMALLOC_THRESHOLD, and vmalloc areas above.
 * None of these set errno: preload/ turns NULL into ENOMEM/EINVAL.
 */
#ifndef KMEM_KMALLOC_H
#define KMEM_KMALLOC_H

#include "internal.h"
#include "page.h"
#include "percpu.h"
#include "slab.h"

/*
 * Size classes: 8, 16, 32, 48, 64, 80, 96, 112, 128, then four per
 * doubling (160, 192, 224, 256, 320, ...) up to KMALLOC_MAX_CACHE_SIZE.
 * The table is kmalloc_class_size[] in kmalloc.c; docs/size-classes.md is
 * printed from it (make size-classes-doc).
 */
#define KMALLOC_MIN_SIZE 8		/* smallest class */
#define KMALLOC_SHIFT_LOOKUP 3		/* size_index granule: 8 bytes */
#define KMALLOC_MAX_CACHE_SIZE (32 * 1024) /* largest slab class */
#define NR_KMALLOC_CLASSES 41		/* 9 below 128, 4 per doubling above */

struct kmem_cache;

/* Size of each class, ascending. */
extern const unsigned int kmalloc_class_size[NR_KMALLOC_CLASSES] __hidden;
/* The cache of each class (created by kmalloc_init). */
extern struct kmem_cache *kmalloc_caches[NR_KMALLOC_CLASSES] __hidden;
/* size_index[(size + 7) >> 3] = class of size, for size <= MAX_CACHE_SIZE. */
extern uint8_t kmalloc_size_index[(KMALLOC_MAX_CACHE_SIZE >> KMALLOC_SHIFT_LOOKUP) + 1] __hidden;

/* Class of size (size <= KMALLOC_MAX_CACHE_SIZE): one table load. */
static __always_inline unsigned int kmalloc_size_class(size_t size)
{
	return kmalloc_size_index[(size + (1U << KMALLOC_SHIFT_LOOKUP) - 1) >>
				  KMALLOC_SHIFT_LOOKUP];
}

/* Class of any size; NR_KMALLOC_CLASSES if it is too big for a slab. */
unsigned int kmalloc_index(size_t size) __hidden;

/*
 * ---- the fast paths (inline, for preload/'s malloc and free) ----
 * They serve the common case from this CPU's object cache and give up on
 * anything else, which the caller then hands to __kmalloc or __kfree: no
 * lock, no system call, errno untouched, no report.  A debug class has no
 * per-CPU cache, so its objects always take the checked slow path.
 */

/* An object of size's class (size <= 32 KiB) from this CPU's cache, or
 * NULL. */
static __always_inline void *kmalloc_fast(size_t size)
{
	if (unlikely(size > KMALLOC_MAX_CACHE_SIZE))
		return NULL;
	return percpu_pop(kmalloc_size_class(size));
}

/*
 * The cache of p if p is the start of an object in a slab (one load from
 * section_map, the head page's flags, one multiplication), else NULL: a
 * pointer that is not kmem's, a page run, an interior pointer.  The
 * shared first half of the inline fast paths below.
 */
static __always_inline struct kmem_cache *slab_obj_cache_fast(const void *p)
{
	struct page *page;
	struct kmem_cache *s;

	if (unlikely(!kmem_addr_in_heap(p)))
		return NULL;
	page = compound_head(virt_to_page(p));
	if (unlikely(!(page_flags(page) & PG_slab)))
		return NULL;
	s = READ_ONCE(page->slab_cache);
	if (unlikely(!slab_obj_valid(s, page, p)))
		return NULL;
	return s;
}

/*
 * Free p if it is the start of a live-looking object of a kmalloc class
 * and this CPU's cache has room: true if done.  false (not a heap pointer,
 * a page run, an interior pointer, a full cache, the immediate double free
 * percpu_push notices...): __kfree decides, and reports what is wrong.
 */
static __always_inline bool kfree_fast(void *p)
{
	struct kmem_cache *s = slab_obj_cache_fast(p);

	if (unlikely(!s || s->kmalloc_class < 0))
		return false;
	return percpu_push((unsigned int)s->kmalloc_class, p) == RSEQ_PUSH_OK;
}

/*
 * Usable size of p if it is the start of an object of a cache that
 * records no per-object size (not a debug kmalloc cache); 0 otherwise,
 * and __ksize decides (page runs, vmalloc areas, reports).
 * malloc_usable_size is on the hot path of programs that track their
 * memory (redis).
 */
static __always_inline size_t ksize_fast(const void *p)
{
	struct kmem_cache *s = slab_obj_cache_fast(p);

	if (unlikely(!s || (s->flags & SLAB_KMALLOC_SIZE)))
		return 0;
	return s->object_size;
}

/* size 0 gives a unique smallest object.  NULL on failure or overflow. */
void *__kmalloc(size_t size, gfp_t gfp) __hidden;
/* align: a power of two (any size up to 1 GiB and beyond). */
void *__kmalloc_aligned(size_t size, size_t align, gfp_t gfp) __hidden;
/* realloc semantics: p == NULL is kmalloc; never frees p on failure.
 * new_size == 0 is the caller's business (glibc frees). */
void *__krealloc(void *p, size_t new_size, gfp_t gfp) __hidden;
/* Free any block of kmalloc's; reports invalid and double frees.
 * caller names the API function in a report ("free", "kfree", ...). */
void __kfree(void *p, const char *caller) __hidden;
/*
 * The same, with the return address of the caller of the API (the
 * kernel's kmalloc_track_caller): preload/ passes its caller's, so that
 * debug reports and the leak report name the program's call site.
 */
void *__kmalloc_track(size_t size, gfp_t gfp, unsigned long ip) __hidden;
void *__kmalloc_aligned_track(size_t size, size_t align, gfp_t gfp,
			      unsigned long ip) __hidden;
void *__krealloc_track(void *p, size_t new_size, gfp_t gfp,
		       unsigned long ip) __hidden;
void __kfree_track(void *p, const char *caller, unsigned long ip) __hidden;
/* Usable size of p (>= requested; exactly the requested size for a checked
 * object); reports a pointer that is not kmem's. */
size_t __ksize(const void *p, const char *caller) __hidden;

/* Figures for mallinfo2/malloc_stats. */
struct kmalloc_stats {
	size_t slab_bytes;	/* bytes in slabs of kmalloc caches */
	size_t slab_inuse;	/* bytes of live objects in them */
	size_t large_bytes;	/* page runs handed out */
	size_t vmalloc_bytes;	/* live vmalloc areas */
};
void kmalloc_get_stats(struct kmalloc_stats *st) __hidden;
/* Bytes of live page runs (an atomic counter: no lock). */
size_t kmalloc_large_bytes(void) __hidden;

int kmalloc_init(void) __hidden;

#endif /* KMEM_KMALLOC_H */
