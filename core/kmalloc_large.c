/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc_large.c - kmalloc's blocks above the slab classes: page
 * runs from the buddy allocator, and the vmalloc threshold above which
 * they are vmalloc areas instead.
 *
 * Layer: part of kmalloc (below preload/), with kmalloc.c, which
 * classifies every block and calls in here for those above
 * KMALLOC_MAX_CACHE_SIZE (what the two share: kmalloc_large.h); calls
 * buddy.c for the runs and vmalloc.c for the areas, nothing above.  Owns
 * the page-run ("large") blocks, the vmalloc threshold (kmalloc_init
 * sets it up) and krealloc's halves for runs and areas: resized in place,
 * or NULL and kmalloc.c moves the block.
 *
 * A page run's head page is PG_large with nr_pages (the block's pages)
 * and large_size (bytes asked); its other pages keep the flags 0 the
 * buddy allocator gave them, and an interior pointer is recognised by
 * large_run_head (page.h), which tries each order's aligned start.  The
 * head is cleared before the block goes back.
 *
 * Why the whole block, not the exact pages with the tail given back (as
 * the kernel's alloc_pages_exact): the tail pages of a clean block are
 * never touched, so they cost address space, not memory; but a tail given
 * back is a set of small free blocks that small requests take, and the
 * block can never be whole again.  With tails given back, mstress (4
 * threads, sizes to 10 MiB) made 5,000 madvise calls and peaked at 150
 * MiB (glibc 139); whole blocks: 60 calls and 95 MiB.  A shrinking
 * realloc gives back upper halves, which are buddy blocks too
 * (large_trim).
 *
 * Page runs and vmalloc areas are announced to valgrind here
 * (MALLOCLIKE/FREELIKE/RESIZEINPLACE), the frees by kmalloc.c through
 * vg_large_free.
 *
 * Locks: none of its own; large_bytes is an atomic counter, the
 * threshold an atomic raised by compare-and-swap.
 */
#include "kmalloc_large.h"

#include <string.h>

#include "buddy.h"
#include "profile.h"
#include "vmalloc.h"

/*
 * Sizes from here go to vmalloc.  It starts at KMEM_VMALLOC_THRESHOLD
 * and, unless that option or mallopt(M_MMAP_THRESHOLD) fixed it, rises
 * as glibc's mmap threshold does: a freed area of n bytes, n above the
 * threshold and under vmalloc_threshold_max (the largest page run), puts
 * the threshold at n + 1, so a program that keeps allocating and freeing
 * blocks of that size gets page runs from then on (no system call; the
 * buddy allocator's purge returns them by age), while one that maps a
 * large block once still gets its own mapping, with guard pages and its
 * memory back at its free.  Measured on bench/mixed_stress.c (2 threads,
 * 1% of the operations 64 KiB..8 MiB, freed by either thread): fixed at
 * 512 KiB, 5.0 M ops/s, 0.45 s of system time, 8,000 munmap and 8,000
 * mprotect calls in 2 M operations; raised, see docs/ARCHITECTURE.md.
 * vmalloc_threshold_max is 0 where the threshold is fixed.
 */
_Atomic size_t vmalloc_threshold = 1UL << 20;
size_t vmalloc_threshold_max;
/* Where it started (the option, or mallopt's value): a vmalloc area that
 * grows by realloc stays an area (mremap, no copy) whatever the threshold
 * has risen to. */
static size_t vmalloc_threshold_base;
gfp_t large_gfp;
static _Atomic size_t large_bytes;	/* bytes in live page runs */

/* The client requests behind vg_large_alloc and vg_large_free. */
void __vg_large_alloc(void *p, size_t size, gfp_t gfp)
{
	VALGRIND_MALLOCLIKE_BLOCK(p, size, 0, !!(gfp & __GFP_ZERO));
}

void __vg_large_free(void *p)
{
	VALGRIND_FREELIKE_BLOCK(p, 0);
}

/* ---- page runs ---- */

static unsigned int order_of_pages(size_t pages)
{
	unsigned int order = 0;

	while ((1UL << order) < pages)
		order++;
	return order;
}

static void mark_run(struct page *page, size_t nr, size_t size)
{
	page->nr_pages = nr;
	page->large_size = size;
	set_page_flags(page, PG_large);
}

/* A run of pages for size bytes aligned to align (a power of two). */
static void *__kmalloc_large(size_t size, size_t align, gfp_t gfp,
			     unsigned long ip)
{
	bool zoned = gfp & GFP_ZONEMASK;	/* no vmalloc: it has no zone */
	size_t nr, span;
	unsigned int order;
	struct page *page;

	if (!zoned && (size >= vmalloc_threshold_now() ||
		       align > (PAGE_SIZE << MAX_ORDER)))
		return __vmalloc_ip(size, MAX(align, PAGE_SIZE), gfp | large_gfp,
				    ip);
	nr = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (nr == 0)
		nr = 1;
	span = MAX(nr, align >> PAGE_SHIFT);
	if (zoned && span > (1UL << MAX_ORDER))
		return NULL;
	order = order_of_pages(span);
	if (order > MAX_ORDER)
		return __vmalloc_ip(size, MAX(align, PAGE_SIZE), gfp, ip);
	page = __alloc_pages(gfp, order);
	if (!page)
		return NULL;
	/* The whole block (see the top of the file: no tail given back). */
	nr = 1UL << order;
	mark_run(page, nr, size);
	atomic_fetch_add_explicit(&large_bytes, nr << PAGE_SHIFT,
				  memory_order_relaxed);
	return page_address(page);
}

void *kmalloc_large(size_t size, size_t align, gfp_t gfp, unsigned long ip)
{
	void *p = __kmalloc_large(size, align, gfp, ip);

	vg_large_alloc(p, size, gfp);
	return p;
}

/* Shrink a run to the smallest block that still holds keep pages
 * (keep >= 1): its upper halves go back, each a buddy block of its own. */
static void large_trim(struct page *page, size_t keep)
{
	size_t nr = page->nr_pages, was = nr;

	while (nr > 1 && keep <= nr / 2) {
		nr /= 2;
		set_page_flags(&page[nr], PG_alloc);
		__free_pages_ok(&page[nr], order_of_pages(nr));
	}
	page->nr_pages = nr;
	atomic_fetch_sub_explicit(&large_bytes, (was - nr) << PAGE_SHIFT,
				  memory_order_relaxed);
}

void vmalloc_threshold_raise(const void *p)
{
	size_t n = vmalloc_usable_size(p), t;

	if (n >= vmalloc_threshold_max)
		return;
	t = atomic_load_explicit(&vmalloc_threshold, memory_order_relaxed);
	while (t <= n && t < vmalloc_threshold_max &&
	       !atomic_compare_exchange_weak_explicit(&vmalloc_threshold, &t,
						      n + 1,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

void kmalloc_set_vmalloc_threshold(size_t bytes)
{
	vmalloc_threshold_max = 0;
	vmalloc_threshold_base = MIN(MAX(bytes,
					 (size_t)KMALLOC_MAX_CACHE_SIZE + 1),
				     (PAGE_SIZE << MAX_ORDER) + 1);
	atomic_store_explicit(&vmalloc_threshold, vmalloc_threshold_base,
			      memory_order_relaxed);
}

void large_free(struct page *page)
{
	size_t nr = page->nr_pages;

	set_page_flags(page, PG_alloc);
	page->nr_pages = 0;
	__free_pages_ok(page, order_of_pages(nr));
	atomic_fetch_sub_explicit(&large_bytes, nr << PAGE_SHIFT,
				  memory_order_relaxed);
}

size_t kmalloc_large_bytes(void)
{
	return atomic_load_explicit(&large_bytes, memory_order_relaxed);
}

/* ---- krealloc ---- */

/*
 * Grow a page run in place to hold size bytes: its buddy blocks above it
 * are taken if they are free (buddy.c, __grow_pages), so a doubling
 * buffer is not copied at every step.  A round of realloc-double (16
 * bytes doubled to 4 MiB in 19 reallocs, then freed; the threshold risen
 * to 4 MiB by the first free): 205 us with a copy into a new run at every
 * step past 32 KiB; 105 us at git f53f28c (threshold fixed at 512 KiB,
 * areas grown by mremap, 59 page faults and 7 system calls a round); 42
 * us with runs grown in place (the steps to 128, 256, 512 KiB and 4 MiB;
 * the others found their buddy in use and were copied), no system call,
 * under one page fault a round.  mimalloc 165 us; glibc 0.2 us (it grows
 * the top of its heap).  Not with a heap profile running (its record has
 * the block's size) or under valgrind (which would need telling).
 */
static bool large_grow(struct page *page, size_t size, gfp_t gfp)
{
	size_t nr = page->nr_pages, want = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	unsigned int order = order_of_pages(nr), new_order = order_of_pages(want);

	if (prof_enabled() || debug_valgrind || new_order > MAX_ORDER ||
	    !kmalloc_zone_ok(page_address(page), gfp) ||
	    !__grow_pages(page, order, new_order, gfp & ~__GFP_ZERO))
		return false;
	if (gfp & __GFP_ZERO)	/* past the old block, as a move would */
		memset((char *)page_address(page) + (nr << PAGE_SHIFT), 0,
		       (PAGE_SIZE << new_order) - (nr << PAGE_SHIFT));
	mark_run(page, 1UL << new_order, size);
	atomic_fetch_add_explicit(&large_bytes,
				  ((1UL << new_order) - nr) << PAGE_SHIFT,
				  memory_order_relaxed);
	return true;
}

void *krealloc_large(void *p, struct page *page, size_t old, size_t new_size,
		     gfp_t gfp)
{
	if (new_size > KMALLOC_MAX_CACHE_SIZE &&
	    (new_size < vmalloc_threshold_now() || (gfp & GFP_ZONEMASK)) &&
	    new_size <= old && kmalloc_zone_ok(p, gfp)) {
		/* Shrink in place: the tail pages go back. */
		if (unlikely(debug_valgrind))
			VALGRIND_RESIZEINPLACE_BLOCK(p, page->large_size,
						     new_size, 0);
		large_trim(page, (new_size + PAGE_SIZE - 1) >> PAGE_SHIFT);
		page->large_size = new_size;
		return p;
	}
	if (new_size > old && large_grow(page, new_size, gfp))
		return p;
	return NULL;
}

void *krealloc_vmalloc(void *p, size_t old, size_t new_size, gfp_t gfp)
{
	void *q;

	if ((new_size >= vmalloc_threshold_now() ||
	     (new_size > old && new_size >= vmalloc_threshold_base)) &&
	    !(gfp & GFP_ZONEMASK)) {
		kmem_bailed = BAIL_NONE;
		q = __vrealloc(p, new_size);
		if (q && q != p && prof_enabled())
			prof_record_free(p);
		if (unlikely(debug_valgrind) && q) {
			/* The contents moved with the mapping. */
			VALGRIND_FREELIKE_BLOCK(p, 0);
			VALGRIND_MALLOCLIKE_BLOCK(q, new_size, 0, 1);
		}
		if (q)
			return q;
		/*
		 * No lock for the area, or mremap could not move it
		 * (EFAULT in a forked child: fork gives each VMA its
		 * own anon_vma, so pieces of an area that the parent
		 * mapped at different times stay separate VMAs, and
		 * mremap refuses a range over two VMAs): move it like
		 * a small one.  Out of memory, that fails too.
		 */
	}
	return NULL;
}
