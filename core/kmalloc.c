/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc.c - general-purpose allocation: size classes over caches.
 *
 * Layer: below preload/, above percpu.c and slab.c; calls kmalloc_large.c
 * for page runs and vmalloc areas (what the two share: kmalloc_large.h).
 * Owns the size-class table, the kmalloc caches, the classification of
 * every block (classify) and the entries that dispatch on it.
 *
 * Three paths by size:
 *   size <= KMALLOC_MAX_CACHE_SIZE      class = kmalloc_size_class(size),
 *                                       an object of kmalloc_caches[class];
 *   ... < size < vmalloc_threshold      a page run: a whole buddy block
 *                                       of 2^order pages;
 *   size >= vmalloc_threshold           a vmalloc area (vmalloc.c).
 *
 * The last two are kmalloc_large.c's, which says why a page run is a
 * whole buddy block, and how the threshold rises.
 *
 * Alignment: a kmalloc cache without debug flags has stride == class
 * size and page-aligned slabs, so class c's objects are aligned to the
 * lowest set bit of c (kmem_cache_obj_align).  __kmalloc_aligned takes the
 * smallest class that is big enough and aligned enough; larger alignments
 * take a buddy block of the alignment's order (blocks are naturally
 * aligned), then vmalloc.
 *
 * KMALLOC_MAX_CACHE_SIZE is 32 KiB: with four classes per doubling up to
 * 1 KiB and eight above, the classes up to it waste at most 25% (12.5%
 * above 1 KiB; docs/size-classes.md).  The eight came from sqlite3, whose
 * page cache asks for 4096 + 272 bytes (and 4096 + 8): in kmalloc-5k the
 * bench's 200,000-row database peaked at 122 MiB, in kmalloc-4608 at 110
 * (glibc 95); CPython's peak went from 35.0 to 36.8 MiB, frag-churn and
 * larson stayed as they were.  A page
 * run above it wastes under one page (< 12.5% at 32 KiB) but costs a
 * buddy allocation; the per-CPU caches make the slab path the cheap one.
 *
 * Debug and valgrind: a class whose cache is a debug cache (KMEM_DEBUG, or
 * kmem runs under valgrind, or a quarantine is on) is "checked": the fast
 * halves never see its objects, and every allocation and free runs the
 * debug hooks (checks, red zones, poison, requested size, call site).
 * Under KMEM_DEBUG the checked objects, free and poisoned, wait in
 * per-CPU caches of their own (class DEBUG_PCPU_CLASS(c), a chunk no fast
 * half reads): a debug allocation is a pop and the hook, where it was the
 * cache lock and a walk of a slab's free list (CPython under
 * KMEM_DEBUG=FZPU: 3.1 times plain kmem's CPU time before, 2.3 after,
 * with the hooks made cheaper too).  Under valgrind or with a quarantine
 * they go through the slab layer's API boundary (__kmem_cache_alloc_track),
 * which also tells valgrind about the block or holds freed objects back.
 * Which classes are checked is decided once, at init, so the unchecked
 * fast path has no extra branch.  Page runs and vmalloc areas are
 * announced to valgrind by kmalloc_large.c (MALLOCLIKE/FREELIKE/
 * RESIZEINPLACE).  The _track variants take the caller's return address
 * from the layer above (preload/); the plain ones use their own caller's.
 *
 * Zones: a request with __GFP_DMA32 or __GFP_DMA is met at every size
 * from its zone, or fails.  Up to 32 KiB from the zone's own caches
 * ("dma32-kmalloc-64", "dma-kmalloc-1k": the kernel's dma-kmalloc-*),
 * made the first time a class is asked for (slab.c's
 * kmem_cache_create_once: a GFP_ATOMIC caller that finds the list of
 * caches busy gets NULL) and used without a per-CPU cache, as rare
 * requests; above, page runs from the zone up to the largest buddy block
 * (4 MiB, the kernel's KMALLOC_MAX_SIZE): vmalloc areas have no zone, so
 * larger zoned requests fail, as does __GFP_HIGHMEM (high memory has no
 * permanent address to return) and any request naming two zones.  The
 * atomic reserve has no zone either: a zoned request never takes from
 * it.  krealloc keeps a block in place only if it lies in the zone asked
 * for.  The zone paths are kmalloc_zone.c's.
 *
 * Locks: none of its own.
 */
#include "kmalloc_large.h"

#include <errno.h>
#include <string.h>

#include "buddy.h"
#include "debug.h"
#include "kfence.h"
#include "options.h"
#include "percpu.h"
#include "profile.h"
#include "purge.h"
#include "reserve.h"
#include "slab.h"
#include "stacktrace.h"
#include "vmalloc.h"

/* From 1 KiB, eight classes per doubling; between 16 and 32 KiB 23040 and
 * 26208 stand for 22528 and 26624, which would leave more than 1/8 of a
 * 128 KiB slab (the largest) unused: five of them fill it to 88% and
 * 99.98%. */
const unsigned int kmalloc_class_size[NR_KMALLOC_CLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256,
	320, 384, 448, 512,
	640, 768, 896, 1024,
	1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
	2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096,
	4608, 5120, 5632, 6144, 6656, 7168, 7680, 8192,
	9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384,
	18432, 20480, 23040, 24576, 26208, 28672, 30720, 32768,
};
_Static_assert(KMALLOC_MAX_CACHE_SIZE == 32768, "last class of the table");

struct kmem_cache *kmalloc_caches[NR_KMALLOC_CLASSES];
uint16_t kmalloc_size_chunk[(KMALLOC_MAX_CACHE_SIZE >> KMALLOC_SHIFT_LOOKUP) + 1];
_Static_assert(2 * NR_KMALLOC_CLASSES <= PCPU_MAX_CLASSES,
	       "every class, and every debug class again, has a chunk in a "
	       "per-CPU region");

/* Alignment every object of a class has (kmem_cache_obj_align). */
size_t kmalloc_class_align[NR_KMALLOC_CLASSES];
unsigned int kmalloc_index(size_t size)
{
	if (size > KMALLOC_MAX_CACHE_SIZE)
		return NR_KMALLOC_CLASSES;
	return kmalloc_size_class(size);
}

/* Classes whose cache has debug flags: every operation is checked, out
 * of the fast halves' reach. */
static bool kmalloc_class_debug[NR_KMALLOC_CLASSES];
/* The debug classes have per-CPU caches of their own, at class index
 * DEBUG_PCPU_CLASS(cls) (a chunk the fast halves never read): not under
 * valgrind, nor with a quarantine, which keep the slab layer's path. */
static bool kmalloc_debug_pcpu;
#define DEBUG_PCPU_CLASS(cls) (NR_KMALLOC_CLASSES + (cls))

/*
 * Checked classes, out of line.  ip 0 (the plain __kmalloc and __kfree,
 * which must not compute a return address on their fast path): the
 * helper's own return address, which is the caller of __kmalloc when the
 * compiler made the call a tail call (it does at -O2), else a site in kmem.
 */
static __noinline void *kmalloc_checked_alloc(unsigned int cls, size_t size,
					      gfp_t gfp, unsigned long ip)
{
	struct kmem_cache *s = kmalloc_caches[cls];
	void *obj;

	if (!ip)
		ip = _RET_IP_;
	if (!kmalloc_debug_pcpu)
		return __kmem_cache_alloc_track(s, gfp, size, ip);
	/* Size 0: the fast half's countdown has counted this one. */
	obj = percpu_pop(pcpu_chunk_id(DEBUG_PCPU_CLASS(cls)), 0);
	if (!obj)
		obj = percpu_alloc(s, DEBUG_PCPU_CLASS(cls), gfp);
	if (obj)
		__debug_alloc_hook(s, obj, size, gfp, ip);
	return obj;
}

static __noinline void kmalloc_checked_free(unsigned int cls, void *obj,
					    unsigned long ip)
{
	struct kmem_cache *s = kmalloc_caches[cls];

	if (!ip)
		ip = _RET_IP_;
	if (!kmalloc_debug_pcpu)
		__kmem_cache_free_track(s, obj, ip);
	else if (__debug_free_hook(s, compound_head(virt_to_page(obj)), obj,
				   ip, false) &&
		 /* Its first word as it is: a debug object has no tag. */
		 !percpu_push(pcpu_chunk_id(DEBUG_PCPU_CLASS(cls)), obj))
		percpu_free(s, DEBUG_PCPU_CLASS(cls), obj);
}

/* A free object of a tagged class, just taken: check its free tag and
 * clear it.  NULL (after a report) if it was damaged. */
static __always_inline void *untag(void *obj)
{
	if (unlikely(*(uintptr_t *)obj != slab_free_tag(obj)))
		return kmalloc_bad_tag(obj);
	*(uintptr_t *)obj = 0;
	return obj;
}

void *kmalloc_bad_tag(void *obj)
{
	struct kmem_cache *s = READ_ONCE(compound_head(virt_to_page(obj))->slab_cache);

	kmem_report_error("malloc: free object %p of cache %s was written "
			  "after it was freed (its first word reads %#lx, not "
			  "its free tag): a use after free, or an overflow "
			  "from the object before it", obj, s->name,
			  (unsigned long)*(uintptr_t *)obj);
	/* Continuing (KMEM_ABORT=0): the object is never handed out. */
	return NULL;
}

/* The one place where kmalloc meets the object layers below it. */
static __always_inline void *kmalloc_slab_alloc(unsigned int cls, size_t size,
						gfp_t gfp, unsigned long ip)
{
	void *obj;

	if (unlikely(kmalloc_class_debug[cls]))
		return kmalloc_checked_alloc(cls, size, gfp, ip);
	do {
		obj = percpu_alloc(kmalloc_caches[cls], cls, gfp);
		if (!obj)
			return NULL;
		obj = untag(obj);
	} while (unlikely(!obj));
	if (unlikely(gfp & __GFP_ZERO))
		memset(obj, 0, kmalloc_class_size[cls]);
	return obj;
}

/* obj, of a class with a per-CPU cache, is known to be an object and not
 * free: tag it and give it to the per-CPU layer. */
static void kmalloc_slab_free_checked(unsigned int cls, void *obj)
{
	*(uintptr_t *)obj = slab_free_tag(obj);
	percpu_free(kmalloc_caches[cls], cls, obj);
}

static __cold void report_double_free(const char *caller, void *obj,
				      unsigned int cls)
{
	kmem_report_error("%s(%p): double free of an object of cache %s (it "
			  "is free already: its free tag is in place)", caller,
			  obj, kmalloc_caches[cls]->name);
}

static __always_inline void kmalloc_slab_free(unsigned int cls, void *obj,
					      const char *caller,
					      unsigned long ip)
{
	if (unlikely(kmalloc_class_debug[cls])) {
		kmalloc_checked_free(cls, obj, ip);
		return;
	}
	if (unlikely(*(uintptr_t *)obj == slab_free_tag(obj))) {
		report_double_free(caller, obj, cls);
		return;
	}
	kmalloc_slab_free_checked(cls, obj);
}

/* ---- the internal interface (kmalloc.h) ---- */

static void *kmalloc_try(size_t size, size_t align, gfp_t gfp,
			 unsigned long ip);

/*
 * The per-CPU countdown ran out and something is due (percpu_sample_due):
 * the allocation paths' maintenance (purge_tick; the purge thread, once
 * started, does it itself), a guard sample (kfence.c), a heap-profile
 * sample.  Returns the block when a sampler served the allocation, else
 * NULL: allocate normally.
 *
 * A profiled block must come back through a slow free, where
 * prof_record_free sees it: a small one is given a page run of its own
 * (as jemalloc promotes its sampled objects), whose free is never a fast
 * path; larger ones take the page-run and vmalloc paths anyway.
 */
/*
 * A block above the guard pool's 4 KiB that the countdown picked gets an
 * area of its own only at debugging rates (KMEM_SAMPLE below 1 MiB): an
 * area costs about five system calls (map, open, close, purge, unmap),
 * some 50 us, and a countdown in bytes picks a 32 KiB block 8 times as
 * often as a 4 KiB one: at 16 MiB, malloc(32768)+free went from 14 to
 * 67 ns a pair.  At production rates sampling covers blocks up to 4 KiB,
 * as KFENCE and GWP-ASan do; KMEM_DEBUG quarantines every large block.
 */
#define SAMPLE_LARGE_RATE_MAX (1L << 20)

static bool large_sample_picked(void)
{
	return kmem_opt(OPT_SAMPLE) < SAMPLE_LARGE_RATE_MAX;
}

static __noinline void *kmalloc_sample(size_t size, size_t align,
				       gfp_t gfp, unsigned long ip,
				       unsigned int due)
{
	void *p = NULL;

	if ((due & PCPU_DUE_TICK) && !(gfp & __GFP_NOBLOCK))
		purge_tick();
	if (gfp & (__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM))
		return NULL;	/* the pool is in no particular zone */
	/* A guard block sits against its guard page, 16-aligned: an
	 * aligned request is not guarded (its countdown still restarts). */
	if ((due & PCPU_DUE_GUARD) && size <= KFENCE_MAX_SIZE &&
	    align <= KMALLOC_MIN_SIZE) {
		p = kfence_alloc(size, gfp, ip);
	} else if ((due & PCPU_DUE_GUARD) && size < vmalloc_threshold_now() &&
		   align <= PAGE_SIZE && large_sample_picked()) {
		/* Too big for the pool: an area with guard pages, kept
		 * inaccessible for a while after its free. */
		p = __vmalloc_ip(size, PAGE_SIZE, gfp | __GFP_KMEM_QUARANTINE,
				 ip);
		vg_large_alloc(p, size, gfp);
	}
	if ((due & PCPU_DUE_PROF) && prof_enabled()) {
		unsigned long ips[KMEM_STACK_MAX];
		unsigned int n;

		if (!p && size <= KMALLOC_MAX_CACHE_SIZE)
			p = kmalloc_large(MAX(size, (size_t)1),
					  MAX(align, PAGE_SIZE), gfp, ip);
		if (!p)
			p = kmalloc_try(size, align, gfp, ip);
		if (p) {
			n = kmem_stack_capture_from(ips, KMEM_STACK_MAX, ip);
			prof_record_stack(p, size, prof_sample_weight(size),
					  ips, n);
		}
	}
	return p;
}

/*
 * A normal path failed.  If a lock could not be waited for (kmem_bailed:
 * a signal handler that interrupted kmem, a fork stuck for a while) or
 * the caller may not wait (__GFP_NOBLOCK), the atomic reserve serves it.
 * When even the reserve cannot (too big, used up) and the lock was given
 * up only because a fork took long, the request waits for the fork after
 * all: slower, but never a failure a program could not explain.
 */
static __noinline void *kmalloc_reclaim(size_t size, size_t align, gfp_t gfp,
					unsigned long ip);
static _Atomic unsigned long kmalloc_reclaims;	/* kmalloc_reclaim runs */

unsigned long kmalloc_nr_reclaims(void)
{
	return atomic_load_explicit(&kmalloc_reclaims, memory_order_relaxed);
}

static __noinline void *kmalloc_fallback(size_t size, size_t align, gfp_t gfp,
					 unsigned long ip)
{
	void *p;

	if (!kmem_bailed && !(gfp & __GFP_NOBLOCK))
		/* A request for a mapping of its own failed in mmap: what a
		 * reclaim frees stays in the heap's sections, so it would
		 * fail again (100,000 failing memalign(64, 3 << 50) took
		 * 0.86 s, glibc 0.32, draining the caches every time). */
		return kmalloc_needs_mapping(size, align, gfp) ? NULL
			: kmalloc_reclaim(size, align, gfp, ip);
	/* The reserve's memory is in no zone. */
	p = (gfp & GFP_ZONEMASK) ? NULL
				 : reserve_alloc(size ? size : 1,
						 MAX(align, (size_t)16));
	if (p) {
		if (gfp & __GFP_ZERO)
			memset(p, 0, size);
		return p;
	}
	if (kmem_bailed != BAIL_FORK || (gfp & __GFP_NOBLOCK))
		return NULL;
	kmem_wait_fork = true;
	p = kmalloc_try(size, align, gfp, ip);
	kmem_wait_fork = false;
	return p;
}

/*
 * Out of memory (a zone could not grow, or a mapping was refused:
 * RLIMIT_AS, strict overcommit): the kernel's direct reclaim before the
 * request fails.  What kmem holds free for one size only goes back where
 * any request can take it: objects in the per-CPU caches and the depot to
 * their slabs, empty slabs and the per-CPU page lists to the buddy
 * allocator; then the request is tried once more.  (Cached vmalloc areas
 * are vmalloc.c's to give up, when a new area is refused: unmapped here
 * for the heap to grow into, they would become heap sections, which are
 * never unmapped, and a large block freed and asked for again would find
 * no room.)  Only a caller that may wait and holds no kmem lock reclaims
 * (a signal handler that interrupted kmem with a lock held may not wait
 * for that lock).  errno is kept: a retry that succeeds must not show the
 * failed system calls.
 */
void kmalloc_shrink_caches(void)
{
	percpu_drain_all();
	kmem_cache_shrink_all();
	buddy_drain_pcp();
}

static __noinline void *kmalloc_reclaim(size_t size, size_t align, gfp_t gfp,
					unsigned long ip)
{
	int saved = errno;
	void *p;

	if (kmem_locks_held)
		return NULL;
	kmalloc_shrink_caches();
	atomic_fetch_add_explicit(&kmalloc_reclaims, 1, memory_order_relaxed);
	p = kmalloc_try(size, align, gfp, ip);
	errno = saved;
	return p;
}

/* The slab classes, page runs or vmalloc, for size bytes aligned to
 * align (16: any size; larger: a power of two). */
static void *kmalloc_try(size_t size, size_t align, gfp_t gfp,
			 unsigned long ip)
{
	kmem_bailed = BAIL_NONE;
	if (unlikely(gfp & GFP_ZONEMASK))
		return kmalloc_zone(size, align, gfp, ip);
	if (align > KMALLOC_MIN_SIZE) {
		if (size <= KMALLOC_MAX_CACHE_SIZE &&
		    align <= KMALLOC_MAX_CACHE_SIZE)
			for (unsigned int c = kmalloc_size_class(size);
			     c < NR_KMALLOC_CLASSES; c++)
				if (kmalloc_class_align[c] >= align)
					return kmalloc_slab_alloc(c, size, gfp, ip);
		return kmalloc_large(MAX(size, 1), align, gfp, ip);
	}
	if (likely(size <= KMALLOC_MAX_CACHE_SIZE))
		return kmalloc_slab_alloc(kmalloc_size_class(size), size, gfp,
					  ip);
	return kmalloc_large(size, PAGE_SIZE, gfp, ip);
}

/*
 * kmem_bailed is the thread's, and a signal handler that mallocs runs on
 * the same thread: between the interrupted kmalloc_try's failed lock and
 * its kmalloc_fallback, the handler's own kmalloc_try would clear the
 * flag, and the interrupted malloc would return NULL instead of using the
 * reserve (tests/progs/fork_signal.c saw malloc(45368) fail so, about one
 * run in ten).  So every entry that clears it puts back what it found.
 */
static __always_inline void *kmalloc_align_ip(size_t size, size_t align,
					      gfp_t gfp, unsigned long ip)
{
	uint8_t bailed = kmem_bailed;
	/* The countdown the fast paths run down restarts here: left run
	 * out, it would send every later fast allocation here. */
	unsigned int due = percpu_sample_due(size, gfp & __GFP_KMEM_COUNTED);
	void *p = NULL;

	gfp &= ~__GFP_KMEM_COUNTED;
	if (unlikely(due))
		p = kmalloc_sample(size, align, gfp, ip, due);
	if (likely(!p)) {
		/* malloc's slow half, every allocation under KMEM_DEBUG:
		 * kmalloc_try's commonest case without the call. */
		if (likely(!(gfp & GFP_ZONEMASK) && align <= KMALLOC_MIN_SIZE &&
			   size <= KMALLOC_MAX_CACHE_SIZE)) {
			kmem_bailed = BAIL_NONE;
			p = kmalloc_slab_alloc(kmalloc_size_class(size), size,
					       gfp, ip);
		} else {
			p = kmalloc_try(size, align, gfp, ip);
		}
		if (unlikely(!p))
			p = kmalloc_fallback(size, align, gfp, ip);
	}
	kmem_bailed = bailed;
	return p;
}

static __always_inline void *kmalloc_ip(size_t size, gfp_t gfp,
					unsigned long ip)
{
	return kmalloc_align_ip(size, KMALLOC_MIN_SIZE, gfp, ip);
}

void *__kmalloc(size_t size, gfp_t gfp)
{
	return kmalloc_ip(size, gfp, 0);
}

void *__kmalloc_track(size_t size, gfp_t gfp, unsigned long ip)
{
	return kmalloc_ip(size, gfp, ip);
}

/* align: a power of two, else NULL. */
static void *kmalloc_aligned_ip(size_t size, size_t align, gfp_t gfp,
				unsigned long ip)
{
	if (unlikely(!is_power_of_2(align)))
		return NULL;
	return kmalloc_align_ip(size, MAX(align, (size_t)KMALLOC_MIN_SIZE),
				gfp, ip);
}

void *__kmalloc_aligned(size_t size, size_t align, gfp_t gfp)
{
	return kmalloc_aligned_ip(size, align, gfp, 0);
}

void *__kmalloc_aligned_track(size_t size, size_t align, gfp_t gfp,
			      unsigned long ip)
{
	return kmalloc_aligned_ip(size, align, gfp, ip);
}

enum kmalloc_kind { KM_BAD, KM_SLAB, KM_LARGE, KM_VMALLOC, KM_RESERVE,
		    KM_GUARD };

/*
 * What p is, with every check: a kmalloc block's kind and, for slab
 * objects and runs, its cache or head page.  Reports anything else.
 */
static enum kmalloc_kind classify(const void *p, const char *caller,
				  struct kmem_cache **sp, struct page **pp)
{
	if (likely(kmem_addr_in_heap(p))) {
		struct page *page;
		uint32_t flags;

		/* Slabs first: the reserve marks its pages PG_atomic, never
		 * PG_slab, so no block of it passes as a slab. */
		page = compound_head(virt_to_page(p));
		flags = page_flags(page);
		if (likely(flags & PG_slab)) {
			*sp = slab_page_cache_checked(page, p, caller);
			return *sp ? KM_SLAB : KM_BAD;
		}
		if (unlikely(reserve_owns(p)))
			return KM_RESERVE;
		if (!flags) {	/* only a run's head is marked (page.h) */
			struct page *head = large_run_head(page);

			if (head) {
				page = head;
				flags = page_flags(head);
			}
		}
		if (flags & PG_large) {
			if (unlikely(p != page_address(page))) {
				kmem_report_error("%s(): %p: pointer into the "
						  "middle of a block of %zu "
						  "bytes at %p", caller, p,
						  page->large_size,
						  page_address(page));
				return KM_BAD;
			}
			*pp = page;
			return KM_LARGE;
		}
		kmem_report_error("%s(): %p: not an allocated block (page "
				  "state %#x): double free or invalid pointer",
				  caller, p, flags);
		return KM_BAD;
	}
	if (kfence_owns(p))
		return KM_GUARD;
	if (is_vmalloc_addr(p))
		return KM_VMALLOC;
	/* Freed, inside or before an area, or a stranger: it says which. */
	vmalloc_report_bad(caller, p);
	return KM_BAD;
}

static __always_inline void kfree_ip(void *p, const char *caller,
				     unsigned long ip)
{
	struct kmem_cache *s = NULL;
	struct page *page = NULL;

	if (unlikely(!p))
		return;
	switch (classify(p, caller, &s, &page)) {
	case KM_SLAB:
		if (likely(s->kmalloc_class >= 0))
			kmalloc_slab_free((unsigned int)s->kmalloc_class, p,
					  caller, ip);
		else	/* as kfree() in Linux 6.4+ */
			__kmem_cache_free_track(s, p, ip);
		break;
	case KM_RESERVE:
		reserve_free(p, caller);
		break;
	case KM_LARGE:
		if (prof_enabled())
			prof_record_free(p);
		vg_large_free(p);
		large_free(page);
		break;
	case KM_VMALLOC:
		if (prof_enabled())
			prof_record_free(p);
		vg_large_free(p);
		vmalloc_threshold_note_free(p);
		__vfree(p);
		break;
	case KM_GUARD:
		kfence_free(p, caller, ip);
		break;
	case KM_BAD:
		break;
	}
}

void __kfree(void *p, const char *caller)
{
	kfree_ip(p, caller, 0);
}

void __kfree_track(void *p, const char *caller, unsigned long ip)
{
	kfree_ip(p, caller, ip);
}

void __kfree_result(void *p, enum kfree_result r, unsigned long ip)
{
	unsigned int cls;

	switch (r) {
	case KFREE_DOUBLE:
		cls = pcpu_chunk_class(virt_to_page(p)->pcpu_chunk);
		report_double_free("free", p, cls);
		break;
	case KFREE_FULL:
		/* Checked by kfree_fast; the tag may be written already. */
		cls = pcpu_chunk_class(virt_to_page(p)->pcpu_chunk);
		kmalloc_slab_free_checked(cls, p);
		break;
	default:
		kfree_ip(p, "free", ip);
	}
}

size_t __ksize(const void *p, const char *caller)
{
	struct kmem_cache *s = NULL;
	struct page *page = NULL;

	if (!p)
		return 0;
	switch (classify(p, caller, &s, &page)) {
	case KM_SLAB:
		return debug_object_size(s, p);
	case KM_RESERVE:
		return reserve_usable_size(p, caller);
	case KM_LARGE:
		return page->nr_pages << PAGE_SHIFT;
	case KM_VMALLOC:
		return vmalloc_usable_size(p);
	case KM_GUARD: {
		size_t n = kfence_ksize(p, caller);

		return n == SIZE_MAX ? 0 : n;
	}
	case KM_BAD:
		break;
	}
	return 0;
}

static void *__krealloc_ip(void *p, size_t new_size, gfp_t gfp,
			   unsigned long ip)
{
	struct kmem_cache *s = NULL;
	struct page *page = NULL;
	size_t old;
	void *q;

	if (!p)
		return kmalloc_ip(new_size, gfp, ip);
	switch (classify(p, "krealloc", &s, &page)) {
	case KM_SLAB:
		if ((s->flags & SLAB_FREE_TAG) &&
		    *(uintptr_t *)p == slab_free_tag(p)) {
			kmem_report_error("krealloc(%p): the block was freed "
					  "already (object of cache %s)", p,
					  s->name);
			return NULL;
		}
		old = debug_object_size(s, p);
		/* A checked object always moves: its size and red zone are
		 * set at allocation, and a stale pointer hits poison. */
		if (cache_debug(s) || !kmalloc_zone_ok(p, gfp))
			break;
		if (s->kmalloc_class >= 0 ? (new_size <= KMALLOC_MAX_CACHE_SIZE &&
					     kmalloc_size_class(new_size) ==
						     (unsigned int)s->kmalloc_class)
					  : new_size <= old)
			return p;
		break;
	case KM_LARGE:
		old = page->nr_pages << PAGE_SHIFT;
		q = krealloc_large(p, page, old, new_size, gfp);
		if (q)
			return q;
		break;
	case KM_VMALLOC:
		old = vmalloc_usable_size(p);
		q = krealloc_vmalloc(p, old, new_size, gfp);
		if (q)
			return q;
		break;
	case KM_GUARD:
		/* A sampled block always moves: its page is its own. */
		old = kfence_ksize(p, "krealloc");
		if (old == SIZE_MAX)
			return NULL;
		break;
	case KM_RESERVE:
		old = reserve_usable_size(p, "krealloc");
		if (!old)
			return NULL;
		if (new_size <= old && !(gfp & GFP_ZONEMASK))
			return p;
		break;
	default:
		return NULL;
	}
	q = kmalloc_ip(new_size, gfp, ip);
	if (!q)
		return NULL;
	memcpy(q, p, MIN(old, new_size));
	kfree_ip(p, "krealloc", ip);
	return q;
}

static void *krealloc_ip(void *p, size_t new_size, gfp_t gfp,
			 unsigned long ip)
{
	uint8_t bailed = kmem_bailed;	/* as in kmalloc_ip */
	void *q = __krealloc_ip(p, new_size, gfp, ip);

	kmem_bailed = bailed;
	return q;
}

void *__krealloc(void *p, size_t new_size, gfp_t gfp)
{
	return krealloc_ip(p, new_size, gfp, _RET_IP_);
}

void *__krealloc_track(void *p, size_t new_size, gfp_t gfp, unsigned long ip)
{
	return krealloc_ip(p, new_size, gfp, ip);
}

void kmalloc_get_stats(struct kmalloc_stats *st)
{
	struct vmalloc_stats vs;

	memset(st, 0, sizeof(*st));
	for (unsigned int c = 0; c < NR_KMALLOC_CLASSES; c++) {
		struct kmem_cache *s = kmalloc_caches[c];
		struct slab_cache_stats cs;

		if (!s)
			continue;
		kmem_cache_get_stats(s, &cs);
		st->slab_bytes += cs.num_slabs * (PAGE_SIZE << s->order);
		st->slab_inuse += cs.active_objs * s->object_size;
	}
	st->large_bytes = kmalloc_large_bytes();
	vmalloc_get_stats(&vs);
	st->vmalloc_bytes = vs.bytes;
}

int kmalloc_init(void)
{
	size_t sizes[2 * NR_KMALLOC_CLASSES];
	struct kmem_cache *percpu_caches[2 * NR_KMALLOC_CLASSES];
	unsigned int c = 0;
	/* Runs are buddy blocks: at most PAGE_SIZE << MAX_ORDER. */
	kmalloc_set_vmalloc_threshold((size_t)kmem_opt(OPT_VMALLOC_THRESHOLD));
	if (!kmem_option_given[OPT_VMALLOC_THRESHOLD])
		vmalloc_threshold_max = (PAGE_SIZE << MAX_ORDER) + 1;
	for (size_t i = 0; i < ARRAY_SIZE(kmalloc_size_chunk); i++) {
		while (kmalloc_class_size[c] < (i << KMALLOC_SHIFT_LOOKUP))
			c++;
		kmalloc_size_chunk[i] = (uint16_t)pcpu_chunk_id(c);
	}
	for (c = 0; c < NR_KMALLOC_CLASSES; c++) {
		unsigned int size = kmalloc_class_size[c];
		char name[KMEM_CACHE_NAME_LEN];
		struct kmem_cache *s;

		if (size >= 1024 && size % 1024 == 0)
			kmem_snprintf(name, sizeof(name), "kmalloc-%uk",
				      size / 1024);
		else
			kmem_snprintf(name, sizeof(name), "kmalloc-%u", size);
		s = __kmem_cache_create(name, size, KMALLOC_MIN_SIZE, SLAB_KMALLOC,
					 NULL);
		if (!s)
			return ENOMEM;
		s->kmalloc_class = (int)c;
		kmalloc_class_align[c] = kmem_cache_obj_align(s);
		kmalloc_class_debug[c] = kmem_cache_debug(s);
		if (!kmalloc_class_debug[c])
			kmem_cache_set_pcpu(s, (uint16_t)pcpu_chunk_id(c));
		kmalloc_caches[c] = s;
		percpu_caches[c] = kmalloc_class_debug[c] ? NULL : s;
		sizes[c] = size;
	}
	for (c = 0; c < NR_KMALLOC_CLASSES && !debug_valgrind; c++)
		if (kmalloc_class_debug[c]) {
			/* KMEM_DEBUG: large blocks get guard pages and a
			 * quarantine too (valgrind has its own). */
			kmalloc_set_vmalloc_threshold(0);
			large_gfp = __GFP_KMEM_QUARANTINE;
			kmalloc_debug_pcpu = !debug_quarantine_max;
			break;
		}
	if (!kmalloc_debug_pcpu)
		return percpu_setup(percpu_caches, sizes, NR_KMALLOC_CLASSES);
	for (c = 0; c < NR_KMALLOC_CLASSES; c++) {
		percpu_caches[DEBUG_PCPU_CLASS(c)] =
			kmalloc_class_debug[c] ? kmalloc_caches[c] : NULL;
		/* What an object costs: its whole debug stride. */
		sizes[DEBUG_PCPU_CLASS(c)] = kmalloc_caches[c]->size;
	}
	return percpu_setup(percpu_caches, sizes, 2 * NR_KMALLOC_CLASSES);
}

/* ---- the exported API ---- */

KMEM_EXPORT void *kmem_kmalloc(size_t size, gfp_t gfp)
{
	void *p;

	kmem_init();
	p = kmalloc_ip(size, gfp, _RET_IP_);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

KMEM_EXPORT void *kmem_kmalloc_aligned(size_t size, size_t align, gfp_t gfp)
{
	void *p;

	kmem_init();
	if (!is_power_of_2(align)) {
		errno = EINVAL;
		return NULL;
	}
	p = kmalloc_aligned_ip(size, align, gfp, _RET_IP_);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

KMEM_EXPORT void *kmem_kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	kmem_init();
	p = kmalloc_ip(bytes, gfp, _RET_IP_);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

KMEM_EXPORT void *kmem_krealloc(const void *p, size_t new_size, gfp_t gfp)
{
	void *q;

	kmem_init();
	q = krealloc_ip((void *)p, new_size, gfp, _RET_IP_);
	if (unlikely(!q))
		errno = ENOMEM;
	return q;
}

KMEM_EXPORT void kmem_kfree(const void *p)
{
	if (p) {
		kfree_ip((void *)p, "kfree", _RET_IP_);
		purge_maybe_start();
	}
}

KMEM_EXPORT size_t kmem_ksize(const void *p)
{
	if (!p)
		return 0;
	return __ksize(p, "ksize");
}
