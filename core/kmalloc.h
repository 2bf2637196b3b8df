/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc.h - size classes over the caches: contract of kmalloc.c
 * (and kmalloc_large.c: kmalloc_large_bytes, kmalloc_set_vmalloc_threshold)
 * with preload/ (the malloc ABI).
 *
 * Three paths by size: slab size classes (table lookup) up to
 * KMALLOC_MAX_CACHE_SIZE, page runs from the buddy allocator (whole
 * 2^order blocks) below KMEM_VMALLOC_THRESHOLD, and vmalloc areas above.
 * None of these set errno: preload/ turns NULL into ENOMEM/EINVAL.
 */
#ifndef KMEM_KMALLOC_H
#define KMEM_KMALLOC_H

#include "internal.h"
#include "page.h"
#include "percpu.h"
#include "slab.h"

/*
 * Size classes: 16, 32, 48, 64, 80, 96, 112, 128, then four per doubling
 * (160, 192, 224, 256, 320, ...) up to 1 KiB and eight per doubling from
 * there (1152, 1280, ... 4096, 4608, ...) up to KMALLOC_MAX_CACHE_SIZE:
 * a power of two plus a small header (4096 + 8, 1024 + 8: buffers,
 * sqlite's page cache) wastes at most 12.5% instead of 25%.  Every
 * class is a multiple of 16, so every block is 16-byte aligned, as glibc
 * guarantees (MALLOC_ALIGNMENT) at every size.  The table is
 * kmalloc_class_size[] in kmalloc.c; docs/size-classes.md is printed from
 * it (make size-classes-doc).
 */
#define KMALLOC_MIN_SIZE 16		/* smallest class */
#define KMALLOC_SHIFT_LOOKUP 4		/* size table granule: 16 bytes */
#define KMALLOC_MAX_CACHE_SIZE (32 * 1024) /* largest slab class */
#define NR_KMALLOC_CLASSES 60		/* 8 up to 128, 4 per doubling to 1 KiB,
					 * 8 per doubling above */

struct kmem_cache;

/* Size of each class, ascending. */
extern const unsigned int kmalloc_class_size[NR_KMALLOC_CLASSES] __hidden;
/* The cache of each class (created by kmalloc_init). */
extern struct kmem_cache *kmalloc_caches[NR_KMALLOC_CLASSES] __hidden;
/*
 * kmalloc_size_chunk[(size + 15) >> 4]: the per-CPU chunk id of the
 * class of size (size <= KMALLOC_MAX_CACHE_SIZE), from which
 * pcpu_chunk_class() gives the class.  Debug classes have a chunk too,
 * of capacity 0, so the fast paths always fail for them.
 */
extern uint16_t kmalloc_size_chunk[(KMALLOC_MAX_CACHE_SIZE >> KMALLOC_SHIFT_LOOKUP) + 1] __hidden;

static __always_inline uintptr_t kmalloc_chunk_of(size_t size)
{
	return kmalloc_size_chunk[(size + (1U << KMALLOC_SHIFT_LOOKUP) - 1) >>
				  KMALLOC_SHIFT_LOOKUP];
}

/* Class of size (size <= KMALLOC_MAX_CACHE_SIZE): one table load. */
static __always_inline unsigned int kmalloc_size_class(size_t size)
{
	return pcpu_chunk_class(kmalloc_chunk_of(size));
}

/* Class of any size; NR_KMALLOC_CLASSES if it is too big for a slab. */
unsigned int kmalloc_index(size_t size) __hidden;

/*
 * ---- the fast paths (inline, for preload/'s malloc and free) ----
 * They serve the common case from this CPU's object cache and give up on
 * anything else, which the caller then hands to the slow half: no lock,
 * no system call, errno untouched, no report.  A debug class's chunk has
 * capacity 0 (its objects wait in a chunk of their own that no fast path
 * reads), so its objects always take the checked slow path.
 *
 * The free tag (always on, no option): while kmem holds a free object of
 * a class with a per-CPU cache (in a CPU's stack, the depot or its slab),
 * its first word is slab_free_tag(obj), a per-process secret mixed with
 * its address.  A free that finds the tag in place is a double free,
 * however long ago the first free was; an allocation that finds it
 * changed has found a write after free or an overflow into a free
 * neighbour; malloc clears it.  A program cannot produce the tag by
 * accident (it would need the secret), and a copy of one object's tag
 * into another object is not that object's tag.
 */

/* Report a free object whose tag was damaged (kmalloc.c); the object is
 * dropped and NULL returned, so the caller allocates again. */
void *kmalloc_bad_tag(void *obj) __hidden __cold;

/*
 * An object of size's class (size <= 32 KiB) from this CPU's cache, its
 * free tag still in its first word, or NULL.  The caller checks the tag
 * (kmalloc_fast_tag_ok) and clears it (kmalloc_fast_untag): split so
 * that malloc's every exit is a return or a tail call (no frame).
 */
static __always_inline void *kmalloc_fast_pop(size_t size)
{
	if (unlikely(size > KMALLOC_MAX_CACHE_SIZE))
		return NULL;
	return percpu_pop(kmalloc_chunk_of(size), size);
}

/* Alignment every object of a class has (kmem_cache_obj_align). */
extern size_t kmalloc_class_align[NR_KMALLOC_CLASSES] __hidden;

/* Whether the fast halves try a pop for size bytes aligned to align:
 * every object of size's class has that alignment (class 64 is
 * 64-aligned, 4096 page-aligned; all are 16-aligned once kmem is up). */
static __always_inline bool kmalloc_fast_tries(size_t size, size_t align)
{
	return size <= KMALLOC_MAX_CACHE_SIZE &&
	       kmalloc_class_align[kmalloc_size_class(size)] >= align;
}

/* The gfp bit a slow half passes on when its fast half tried a pop,
 * which ran the sampling countdown down (internal.h). */
static __always_inline gfp_t kmalloc_fast_counted(size_t size, size_t align)
{
	return kmalloc_fast_tries(size, align) ? __GFP_KMEM_COUNTED : 0;
}

/* kmalloc_fast_pop for a block aligned to align (a power of two), where
 * kmalloc_fast_tries; NULL otherwise, and the slow half searches the
 * classes above or takes a page run. */
static __always_inline void *kmalloc_fast_pop_aligned(size_t size,
						      size_t align)
{
	if (unlikely(!kmalloc_fast_tries(size, align)))
		return NULL;
	return percpu_pop(kmalloc_chunk_of(size), size);
}

static __always_inline bool kmalloc_fast_tag_ok(const void *obj)
{
	return *(const uintptr_t *)obj == slab_free_tag(obj);
}

static __always_inline void kmalloc_fast_untag(void *obj)
{
	*(uintptr_t *)obj = 0;
}

/*
 * If p is the start of an object in a slab with a per-CPU cache, the
 * struct page of p, else NULL (a pointer that is not kmem's, a page run,
 * a debug class, an interior pointer, the tail of a slab): one load from
 * section_map, then only p's own struct page (one cache line), no
 * division.  The shared first half of the fast paths below.
 */
static __always_inline struct page *kmalloc_obj_page(const void *p)
{
	uintptr_t a = (uintptr_t)p, idx = a >> SECTION_SHIFT;
	struct page *page;
	uint32_t n;

	/* kmem_addr_in_heap and virt_to_page, sharing the section number. */
	if (unlikely(idx >= NR_SECTIONS || !READ_ONCE(section_map[idx])))
		return NULL;
	page = (struct page *)((idx << SECTION_SHIFT) |
			       ((a >> (PAGE_SHIFT - STRUCT_PAGE_SHIFT)) &
				(SECTION_MASK >> (PAGE_SHIFT - STRUCT_PAGE_SHIFT)) &
				~(uintptr_t)((1 << STRUCT_PAGE_SHIFT) - 1)));
	n = (uint32_t)(a & ~PAGE_MASK) + page->slab_off;
	if (unlikely((uint64_t)n * page->slab_magic >= page->slab_limit))
		return NULL;	/* not an object (page.h: slab_limit) */
	return page;
}

/* What kfree_fast did: done, or why the slow half must finish. */
enum kfree_result {
	KFREE_DONE,	/* in this CPU's cache, tagged */
	KFREE_SLOW,	/* not a fast-path object: classify and check all */
	KFREE_DOUBLE,	/* p carries its free tag: a double free */
	KFREE_FULL,	/* checked, but no room: the tag may be written */
};

static __always_inline enum kfree_result kfree_fast(void *p)
{
	struct page *page = kmalloc_obj_page(p);
	uintptr_t tag;

	if (unlikely(!page))
		return KFREE_SLOW;
	tag = slab_free_tag(p);
	if (unlikely(*(uintptr_t *)p == tag))
		return KFREE_DOUBLE;
	*(uintptr_t *)p = tag;		/* before the push: percpu_push */
	if (unlikely(!percpu_push(page->pcpu_chunk, p)))
		return KFREE_FULL;
	return KFREE_DONE;
}

/*
 * realloc's fast half: the chunk id of p's class (pcpu_chunk_id, never 0)
 * if p is the start of an object of a class with a per-CPU cache that
 * is not free (no free tag in its first word), else 0: the slow half
 * decides, and reports a freed or foreign p.  The caller keeps p where
 * kmalloc_chunk_of(new size) is the same chunk, as __krealloc does.
 */
static __always_inline uintptr_t krealloc_fast_chunk(const void *p)
{
	struct page *page = kmalloc_obj_page(p);

	if (unlikely(!page) ||
	    unlikely(*(const uintptr_t *)p == slab_free_tag(p)))
		return 0;
	return page->pcpu_chunk;
}

/*
 * Usable size of p if it is the start of an object of a class with a
 * per-CPU cache (which records no per-object size); 0 otherwise, and
 * __ksize decides (page runs, vmalloc areas, debug classes, reports).
 * malloc_usable_size is on the hot path of programs that track their
 * memory (redis).
 */
static __always_inline size_t ksize_fast(const void *p)
{
	struct page *page = kmalloc_obj_page(p);

	if (unlikely(!page))
		return 0;
	return kmalloc_class_size[pcpu_chunk_class(page->pcpu_chunk)];
}

/* The slow half of free after kfree_fast: result says what is known. */
void __kfree_result(void *p, enum kfree_result r, unsigned long ip) __hidden;

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
/* Free objects and pages held for one use back where any request can
 * take them: the per-CPU caches and the depot into their slabs, empty
 * slabs and the per-CPU page lists to the buddy allocator (the direct
 * reclaim's and kmem_trim's first step; no lock may be held). */
void kmalloc_shrink_caches(void) __hidden;
/* Direct reclaims so far: requests that found memory exhausted and had
 * kmem's caches emptied before they were tried again (kmalloc.c). */
unsigned long kmalloc_nr_reclaims(void) __hidden;
/* Bytes of live page runs (an atomic counter: no lock). */
size_t kmalloc_large_bytes(void) __hidden;
/* Fix the vmalloc threshold at bytes (KMEM_VMALLOC_THRESHOLD,
 * mallopt(M_MMAP_THRESHOLD)): it no longer rises with the areas freed. */
void kmalloc_set_vmalloc_threshold(size_t bytes) __hidden;

int kmalloc_init(void) __hidden;

#endif /* KMEM_KMALLOC_H */
