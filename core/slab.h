/* SPDX-License-Identifier: MIT */
/*
 * core/slab.h - object caches: the contract of slab.c with percpu.c,
 * kmalloc.c and debug.c.
 *
 * The public kmem_cache_* functions are declared in <kmem.h>.  Layers
 * above use the double-underscore entry points, which skip argument
 * checks and the per-CPU layer.
 *
 * Object layout inside a slab of 2^order pages (page-aligned start):
 *
 *   | red_left_pad | object_size ... | right red zone | free ptr? | pad |
 *   |<------------------------- size (stride) ---------------------->|
 *
 *   object i starts at  slab + red_left_pad + i * size,
 *   objects = (PAGE_SIZE << order) / size,  (0 <= i < objects)
 *   the free pointer of a free object is at obj + offset, encoded as
 *   next ^ slab_secrets.freeptr ^ bswap(&slot)  (SLUB's FREELIST_HARDENED);
 *   a debug cache keeps it outside the object: in the last 8 bytes of a
 *   left red zone of 16 or more (offset -8), else after the right one,
 *   and its call-site records after the slab's last stride (debug.h).
 *
 * Without debug flags red_left_pad == 0 and there is no red zone; then a
 * kmalloc cache's stride is its class size, so every object of class c is
 * aligned to the largest power of two dividing c (kmalloc's aligned path
 * relies on it: kmem_cache_obj_align()).
 */
#ifndef KMEM_SLAB_H
#define KMEM_SLAB_H

#include <urcu/list.h>

#include "buddy.h"

#define KMEM_CACHE_NAME_LEN 32		/* names are copied, truncated */
#define SLAB_MAX_OBJECTS 1024		/* per slab: bounds the shuffle array */
#define SLAB_MAX_ORDER_SMALL 3		/* slab order for objects <= 4 KiB */
#define SLAB_MAX_ORDER_LARGE 5		/* for larger objects (128 KiB slabs) */
#define SLAB_MAX_OBJECT_SIZE (PAGE_SIZE << MAX_ORDER)

/* Internal flag: a kmalloc cache (KMEM_DEBUG applies; never destroyed). */
#define SLAB_KMALLOC 0x80000000u

/* Internal flag: each object keeps its requested size (kmalloc caches in
 * debug mode or under valgrind; debug.h). */
#define SLAB_KMALLOC_SIZE 0x40000000u

/* Internal flag: a free object's first word holds slab_free_tag(obj)
 * (kmalloc classes with a per-CPU cache; kmalloc.h explains the tag). */
#define SLAB_FREE_TAG 0x20000000u

#define SLAB_DEBUG_FLAGS (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | \
			  SLAB_POISON | SLAB_STORE_USER | SLAB_KMALLOC_SIZE)

struct kmem_cache {
	kmem_lock_t lock;		/* protects the lists and counts below */
	struct list_head partial;	/* slabs with free and used objects */
	struct list_head full;		/* slabs with every object in use */
	struct list_head free;		/* empty slabs kept as a reserve */
	unsigned long nr_partial;	/* slabs on ->partial */
	unsigned long nr_full;		/* slabs on ->full */
	unsigned long nr_free;		/* slabs on ->free */
	unsigned long nr_inuse;		/* objects handed out (or per-CPU) */
	/* Read-only after creation: */
	unsigned int object_size;	/* usable bytes of an object */
	unsigned int size;		/* stride between objects */
	int offset;			/* of the free pointer from the object */
	unsigned int inuse;		/* object + right red zone bytes */
	unsigned int red_left_pad;	/* left red zone before each object */
	unsigned int align;		/* alignment of the stride */
	unsigned int order;		/* slab = 2^order pages */
	unsigned int objects;		/* objects per slab */
	unsigned int meta_size;		/* debug meta bytes per object, kept
					 * after the objects (debug.h) */
	unsigned int meta_start;	/* of that array, from the slab start */
	unsigned int orig_offset;	/* of the state word from the object
					 * when in the stride; 0: in the meta */
	uint32_t reciprocal_size;	/* floor(2^32 / size) + 1: obj_to_index */
	unsigned int min_free;		/* empty slabs kept before release */
	unsigned int shuffle_group;	/* neighbours handed out together from a
					 * new slab (KMEM_SHUFFLE); 0: in order */
	uint16_t pcpu_chunk;		/* chunk of the class's per-CPU cache;
					 * 0: none (kmem_cache_set_pcpu) */
	uint64_t slab_magic;		/* UINT64_MAX / size + 1 (struct page) */
	_Atomic(void *) deferred;	/* frees that found the lock taken */
	_Atomic(void *) deferred_checked; /* ... after their debug checks */
	slab_flags_t flags;		/* SLAB_* given and implied */
	gfp_t gfp;			/* zone bits for the slab pages */
	int kmalloc_class;		/* kmalloc size class, or -1 */
	void (*ctor)(void *);		/* runs once per object, at slab birth */
	struct cds_list_head list;	/* slab_caches, read under RCU */
	char name[KMEM_CACHE_NAME_LEN];	/* NUL-terminated copy */
};

/* Counts of a cache at one instant (taken under its lock). */
struct slab_cache_stats {
	unsigned long active_objs;	/* objects handed out */
	unsigned long num_objs;		/* objects in all slabs */
	unsigned long active_slabs;	/* slabs with an object in use */
	unsigned long num_slabs;	/* all slabs, empty ones included */
};

/* Index of the object at byte off of a slab's first object (exact for
 * off below the slab's size). */
static __always_inline unsigned int obj_to_index(const struct kmem_cache *s,
						 uintptr_t off)
{
	return (unsigned int)((off * s->reciprocal_size) >> 32);
}

/*
 * Is obj the start of an object of slab page (a head page of cache s)?
 * No interior pointer, nothing in the slab's tail.  Inline: kfree's fast
 * path checks every pointer it takes this way.
 */
static __always_inline bool slab_obj_valid(const struct kmem_cache *s,
					   const struct page *page,
					   const void *obj)
{
	uintptr_t base = (uintptr_t)page_address(page) + s->red_left_pad;
	uintptr_t off = (uintptr_t)obj - base;
	unsigned int idx = obj_to_index(s, off);

	return (uintptr_t)obj >= base && idx < page->objects &&
	       (uintptr_t)idx * s->size == off;
}

/*
 * The per-process secrets, written once at init and read by every malloc
 * and free: a cache line of their own (the padding of the aligned type),
 * so that no write to a neighbouring variable takes the line from the
 * other CPUs' caches.  A shuffle-seed counter once sat in this line; its
 * lock xadd at every new slab was 75% of build_freelist's samples in
 * CPython's run (build_freelist 1.8% of the run, 0.7% with the counter
 * per thread; the run's time did not move beyond noise).
 */
struct slab_secrets {
	uintptr_t tag;		/* of the free tags (odd, so no tag is 0) */
	uintptr_t freeptr;	/* mixed into every stored free pointer */
} ____cacheline_aligned;
extern struct slab_secrets slab_secrets __hidden;

static __always_inline uintptr_t slab_free_tag(const void *obj)
{
	return (uintptr_t)obj ^ slab_secrets.tag;
}

/* The next free object after obj (obj must be free). */
static __always_inline void *get_freepointer(const struct kmem_cache *s,
					     void *obj)
{
	uintptr_t slot = (uintptr_t)obj + (intptr_t)s->offset;

	return (void *)(*(uintptr_t *)slot ^ slab_secrets.freeptr ^
			__builtin_bswap64(slot));
}

static __always_inline void set_freepointer(const struct kmem_cache *s,
					    void *obj, void *next)
{
	uintptr_t slot = (uintptr_t)obj + (intptr_t)s->offset;

	*(uintptr_t *)slot = (uintptr_t)next ^ slab_secrets.freeptr ^
			     __builtin_bswap64(slot);
}

/*
 * Objects of a cache, moved in bulk between the slab and per-CPU caches.
 * A debug cache's objects move in their free state (poisoned, free red
 * zones, free mark) with no check: kmalloc's debug classes run the debug
 * hooks (debug.h) per object, when an object is handed to the program
 * and when the program gives it back.
 */
int __kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t nr,
			    void **objs) __hidden;  /* returns how many */
void __kmem_cache_free_bulk(struct kmem_cache *s, size_t nr,
			    void **objs) __hidden;
void *__kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp) __hidden;
void __kmem_cache_free(struct kmem_cache *s, void *obj) __hidden;

/*
 * The API boundary of one object (kmem_cache_alloc/free, kmalloc's checked
 * classes): orig_size is the size asked (<= object_size), caller the
 * return address of the API call.  Under valgrind the object becomes a
 * heap block (MALLOCLIKE/FREELIKE); a free may go to the quarantine.
 */
void *__kmem_cache_alloc_track(struct kmem_cache *s, gfp_t gfp,
			       size_t orig_size, unsigned long caller) __hidden;
void __kmem_cache_free_track(struct kmem_cache *s, void *obj,
			     unsigned long caller) __hidden;
/* The checks of a free without the free (for the quarantine): false if
 * the free must be dropped.  Then __kmem_cache_free_checked frees it. */
bool __kmem_cache_free_check(struct kmem_cache *s, void *obj,
			     unsigned long caller) __hidden;
void __kmem_cache_free_checked(struct kmem_cache *s, void *obj) __hidden;
/* fn(s, arg) for every cache, in creation order (RCU read side). */
void slab_for_each_cache(void (*fn)(struct kmem_cache *s, void *arg),
			 void *arg) __hidden;

/*
 * Make a cache and publish it at *slot (release), unless a cache is
 * there already, which is returned: one cache per slot whatever the
 * races (kmalloc's zone caches).  The list lock is taken as gfp allows
 * (__GFP_NOBLOCK: a trylock), so NULL may mean "busy" as well as "no
 * memory".
 */
struct kmem_cache *kmem_cache_create_once(struct kmem_cache *_Atomic *slot,
					  const char *name, size_t size,
					  size_t align, slab_flags_t flags,
					  gfp_t gfp) __hidden;

/* kmem_cache_create without the public wrapper's errno and kmem_init. */
struct kmem_cache *__kmem_cache_create(const char *name, size_t size,
				       size_t align, slab_flags_t flags,
				       void (*ctor)(void *)) __hidden;

/*
 * The cache that owns obj, found through its struct page, after checking
 * that obj is the start of an object of that cache; reports (and returns
 * NULL) for an interior pointer or a page that is not a slab.  caller names
 * the API function in the report ("free", "kfree", "kmem_cache_free").
 * obj must lie in kmem's heap (kmem_addr_in_heap).
 */
struct kmem_cache *virt_to_cache_checked(const void *obj, const char *caller) __hidden;

/* How many of the slab's objects are still fresh (never handed out, not
 * on its free list: slab_fresh.c); s->lock held.  For the walks. */
unsigned int slab_fresh_left(const struct kmem_cache *s, struct page *page) __hidden;

/* The report of slab_page_cache_checked: obj is inside an object of s. */
void slab_report_interior(const struct kmem_cache *s, const struct page *page,
			  const void *obj, const char *caller) __hidden __cold;

/*
 * virt_to_cache_checked for a caller that has read obj's head page and
 * seen PG_slab (classify): the check of the object's start, inline, with
 * the report out of line.  Every checked free (KMEM_DEBUG, a class's
 * slack canary) passes here.
 */
static __always_inline struct kmem_cache *
slab_page_cache_checked(const struct page *page, const void *obj,
			const char *caller)
{
	struct kmem_cache *s = READ_ONCE(page->slab_cache);

	if (unlikely(!slab_obj_valid(s, page, obj))) {
		slab_report_interior(s, page, obj, caller);
		return NULL;
	}
	return s;
}

/*
 * Give s's objects the per-CPU fast paths of chunk (kmalloc_init, before
 * the first allocation from s): every page of its slabs then carries
 * pcpu_chunk and the check of kfree_fast, and its free objects their
 * free tag.  Not for debug caches.
 */
void kmem_cache_set_pcpu(struct kmem_cache *s, uint16_t chunk) __hidden;
/* Usable bytes of an object of s. */
size_t kmem_cache_object_size(const struct kmem_cache *s) __hidden;
/* True if the cache has debug flags: no fast path hands its objects out. */
bool kmem_cache_debug(const struct kmem_cache *s) __hidden;
/* Largest power of two (<= the slab size) every object of s is aligned to. */
size_t kmem_cache_obj_align(const struct kmem_cache *s) __hidden;
void kmem_cache_get_stats(struct kmem_cache *s, struct slab_cache_stats *st) __hidden;

int slab_init(void) __hidden;
/* Shrink every cache (kmem_trim). */
void kmem_cache_shrink_all(void) __hidden;
void slab_fork_prepare(void) __hidden;
void slab_fork_release(void) __hidden;

#endif /* KMEM_SLAB_H */
