/* SPDX-License-Identifier: MIT */
/*
 * core/buddy.c - the buddy page allocator.
 *
 * Layer: above page.c and os.c, below vmalloc/slab/kmalloc.  Owns the
 * zones, their free_area[0..MAX_ORDER] lists and the watermarks; struct
 * zone and the list primitives are in zone.h, which the layer's other
 * halves share: reclaim.c returns free memory to the OS (purge by age,
 * reclaim before growth, trim), buddy_pcp.c keeps the per-CPU page lists
 * that ZONE_NORMAL's small blocks go through (buddy_pcp.h).  The exported
 * kmem_* page API, which checks every argument and keeps the reference
 * counts, is buddy_api.c's, over buddy.h's internal interface; buddy.c
 * trusts its callers.
 *
 * Invariants:
 *   - a free block of order k starts at a pfn that is a multiple of 2^k;
 *     its head page has PG_buddy (in a zone list) or PG_pcp (on a per-CPU
 *     list) and page->order == k; all its other pages have flags == 0;
 *   - the buddy of a block is at pfn ^ (1 << k), in the same section;
 *   - zone->nr_free  = sum over free_area blocks of 2^order, plus the
 *     spare blocks' pages; zone->nr_dirty = the same sum over blocks
 *     without PG_zero;
 *   - spare blocks: a grown section lists the blocks of its start, up to
 *     the first MAX_ORDER block; the rest stay a range (zone->spare_*)
 *     whose struct pages are never written until __rmqueue, with every
 *     list empty, carves the next one.  Listing a block writes its head
 *     page's struct page, one page of the mem_map per 16 MiB block: 3
 *     resident pages for each section, most never needed by a small
 *     program.  Statistics count the spare blocks as free MAX_ORDER
 *     blocks, which is what they are;
 *   - free_list[FREE_DIRTY] holds resident blocks, newest first;
 *     free_list[FREE_CLEAN] holds blocks that read as zero and are not
 *     resident (fresh, or purged with madvise).
 *
 * Watermarks, in user space: an allocation that would take a zone below
 * WMARK_MIN first grows the zone by a section; if that fails only
 * __GFP_HIGH (GFP_ATOMIC) allocations may use the reserve below min.  A
 * zone that falls below WMARK_LOW grows right away.  Up to WMARK_HIGH
 * dirty free pages stay resident; beyond it, pages that have been free
 * for KMEM_PURGE_DELAY_MS are returned to the OS with madvise, checked
 * whenever the zone lock is taken to free and by kmem_trim().
 *
 * Zones (see <kmem.h> and docs/zones.md): DMA32 and NORMAL as above;
 * HIGHMEM the same, its memory in page.c's memfd, so that "purging" a
 * block punches a hole in the file and __GFP_ZERO does the same instead
 * of a memset (the pages have no mapping); DMA grows by pinned runs
 * (pagemap_dma_grow) and is never purged: its watermarks are 0 and its
 * free blocks stay locked for the next DMA allocation.  An allocation
 * walks its zonelist (zonelists[]): the preferred zone, which may grow,
 * then the free pages of lower zones, which are not grown for it
 * (ZONE_NORMAL excepted, the zone ordinary memory comes from).
 *
 * Locks, in order: pcp->lock (trylock only), zone->lock, then page.c's
 * section lock.  No system call is made with a zone or pcp lock held.
 */
#include "buddy.h"

#include <string.h>

#include "buddy_pcp.h"
#include "fork.h"
#include "options.h"
#include "os.h"
#include "zone.h"

struct zone zones[MAX_NR_ZONES];	/* zone.h */

static const char *const zone_names[MAX_NR_ZONES] = {
	[ZONE_DMA] = "DMA", [ZONE_DMA32] = "DMA32",
	[ZONE_NORMAL] = "Normal", [ZONE_HIGHMEM] = "HighMem",
};

/*
 * Where an allocation may come from, in order (-1 ends a list), as the
 * kernel's zonelists; ZONE_DMA is in no other zone's list (kmem.h says
 * why).
 */
static const int8_t zonelists[MAX_NR_ZONES][MAX_NR_ZONES] = {
	[ZONE_DMA] = { ZONE_DMA, -1, -1, -1 },
	[ZONE_DMA32] = { ZONE_DMA32, -1, -1, -1 },
	[ZONE_NORMAL] = { ZONE_NORMAL, ZONE_DMA32, -1, -1 },
	[ZONE_HIGHMEM] = { ZONE_HIGHMEM, ZONE_NORMAL, ZONE_DMA32, -1 },
};

int gfp_zone(gfp_t gfp)
{
	switch (gfp & GFP_ZONEMASK) {
	case 0:
		return ZONE_NORMAL;
	case __GFP_DMA:
		return ZONE_DMA;
	case __GFP_DMA32:
		return ZONE_DMA32;
	case __GFP_HIGHMEM:
		return ZONE_HIGHMEM;
	default:
		return -1;	/* two zones at once: the kernel's GFP_ZONE_BAD */
	}
}

bool zone_satisfies(int zid, gfp_t gfp)
{
	int want = gfp_zone(gfp);

	if (want < 0 || zid < 0)
		return false;
	for (const int8_t *zl = zonelists[want]; *zl >= 0; zl++)
		if (*zl == zid)
			return true;
	return false;
}

static struct zone *page_zone(struct page *page)
{
	return &zones[pagemap_zone_of(page_address(page))];
}

/* ---- free lists (zone->lock held) ---- */

static void add_to_free_list(struct zone *z, struct page *page,
			     unsigned int order, bool clean, uint64_t freed_at)
{
	int type = clean ? FREE_CLEAN : FREE_DIRTY;

	set_page_flags(page, PG_buddy | (clean ? PG_zero : 0));
	page->order = (uint8_t)order;
	page->freed_at = freed_at;
	list_add(&page->lru, &z->free_area[order].free_list[type]);
	z->free_area[order].nr_free++;
	z->nr_free += 1UL << order;
	if (!clean)
		z->nr_dirty += 1UL << order;
}

void del_from_free_list(struct zone *z, struct page *page,
			       unsigned int order)
{
	list_del(&page->lru);
	z->free_area[order].nr_free--;
	z->nr_free -= 1UL << order;
	if (!(page_flags(page) & PG_zero))
		z->nr_dirty -= 1UL << order;
}

/*
 * Merge a block with its free buddies and put the result on a list.  now
 * is when the block became free.  A merged dirty block carries the oldest
 * free time of its dirty parts (clean parts hold no memory): with the
 * newest, a block that keeps absorbing fresh frees, or a purged block
 * merging with an old dirty buddy, would never age past the purge delay,
 * and a program that churns would keep all its freed memory resident.
 */
void __free_one_page(struct zone *z, struct page *page,
			    unsigned int order, bool clean, uint64_t now)
{
	uintptr_t pfn = page_to_pfn(page);
	uint64_t freed_at = clean ? UINT64_MAX : now;

	while (order < MAX_ORDER) {
		uintptr_t buddy_pfn = pfn ^ (1UL << order);
		struct page *buddy = pfn_to_page(buddy_pfn);
		uint32_t bf = page_flags(buddy);

		if (!(bf & PG_buddy) || buddy->order != order)
			break;
		del_from_free_list(z, buddy, order);
		clean = clean && (bf & PG_zero);
		if (!(bf & PG_zero) && buddy->freed_at < freed_at)
			freed_at = buddy->freed_at;
		/* Whichever of the two is higher stops being a head. */
		if (buddy_pfn < pfn) {
			set_page_flags(page, 0);
			page = buddy;
			pfn = buddy_pfn;
		} else {
			set_page_flags(buddy, 0);
		}
		order++;
		kmem_probe(buddy_merge, page_address(page), order);
	}
	add_to_free_list(z, page, order, clean, clean ? now : freed_at);
}

/* Split a block of order high down to order low; the halves go back. */
static void expand(struct zone *z, struct page *page, unsigned int low,
		   unsigned int high, bool clean, uint64_t freed_at)
{
	while (high > low) {
		high--;
		kmem_probe(buddy_split, page_address(page), high + 1, high);
		add_to_free_list(z, page + (1UL << high), high, clean, freed_at);
	}
}

/*
 * Take a block of exactly `order` pages, splitting a larger one if
 * needed: the smallest order that has a free block, and in it resident
 * (dirty) memory before clean, __GFP_ZERO too (its block is then zeroed
 * with memset, __alloc_pages).  Until 2026-12-08 __GFP_ZERO took clean
 * blocks first, to skip the memset; but calloc's blocks are used, and a
 * clean page costs a fault when it is touched (two when it is read
 * first: the zero page, then a copy), about 25 us each on this project's
 * virtual machines, where a memset zeroes a page in well under 1 us.  In
 * mimalloc's test-stress with its large objects (calloc of 1 and 10 MiB
 * blocks, every word read, then written), the dirty blocks that no calloc
 * took aged into their purge while callocs faulted clean ones in: 45,000
 * faults a second, and 100 iterations took over 200 s against glibc's 65.
 * Only __GFP_KMEM_SPARSE (zeroed memory that will be touched in a few
 * places) still prefers clean blocks.
 * Splitting a larger dirty block before taking a clean block of the exact
 * order was tried (no fault for the small block): small requests then
 * chopped up the large dirty blocks, large requests found none and took
 * clean ones, and CPython's peak RSS went from 32 to 46 MiB.
 */
/* The next spare MAX_ORDER block, off the zone's count; z->lock held. */
static struct page *take_spare(struct zone *z)
{
	struct page *page = pfn_to_page(z->spare_pfn);

	z->spare_pfn += 1UL << MAX_ORDER;
	z->spare_blocks--;
	z->nr_free -= 1UL << MAX_ORDER;
	return page;
}

/*
 * The smallest block of the preferred kind (dirty: resident; clean for
 * __GFP_KMEM_SPARSE) of order or more, split down; only then the other kind.
 * Taking a clean block while a bigger dirty one is free would fault in
 * fresh pages and leave resident ones idle until their purge.
 */
struct page *__rmqueue(struct zone *z, unsigned int order, gfp_t gfp)
{
	int prefer = (gfp & __GFP_KMEM_SPARSE) ? FREE_CLEAN : FREE_DIRTY;

	for (int i = 0; i < NR_FREE_TYPES; i++) {
		for (unsigned int o = order; o <= MAX_ORDER; o++) {
			struct list_head *list =
				&z->free_area[o].free_list[i ? !prefer : prefer];
			struct page *page;
			uint32_t f;

			if (list_empty(list))
				continue;
			page = list_first_entry(list, struct page, lru);
			f = page_flags(page);
			del_from_free_list(z, page, o);
			expand(z, page, order, o, f & PG_zero, page->freed_at);
			/* Keep only the clean bit: the caller sets the state. */
			set_page_flags(page, f & PG_zero);
			page->order = (uint8_t)order;
			return page;
		}
	}
	if (z->spare_blocks) {
		/* The lists are empty: the next spare block, clean. */
		struct page *page = take_spare(z);

		expand(z, page, order, MAX_ORDER, true, UINT64_MAX);
		set_page_flags(page, PG_zero);
		page->order = (uint8_t)order;
		return page;
	}
	return NULL;
}

/* List the spare blocks; z->lock held. */
static void zone_list_spare(struct zone *z)
{
	while (z->spare_blocks)
		__free_one_page(z, take_spare(z), MAX_ORDER, true, 0);
}

/* Free an arbitrary run of pages as the largest aligned blocks in it. */
static void __free_range(struct zone *z, struct page *page, size_t nr,
			 bool clean, uint64_t now)
{
	uintptr_t pfn = page_to_pfn(page);

	while (nr) {
		unsigned int order = MAX_ORDER;

		while ((pfn & ((1UL << order) - 1)) || (1UL << order) > nr)
			order--;
		__free_one_page(z, pfn_to_page(pfn), order, clean, now);
		pfn += 1UL << order;
		nr -= 1UL << order;
	}
}

/* ---- deferred frees ---- */

/*
 * A free that could not take z->lock without risking a deadlock (a
 * signal handler that interrupted its holder, another thread forking):
 * the block goes on z->deferred, a lock-free stack linked through
 * page->lru.next, marked PG_reserved so that no buddy merges with it and
 * a second free of it is refused.  The next holder of z->lock puts it
 * back (zone_drain_deferred).
 */
void zone_defer(struct zone *z, struct page *page, unsigned int order,
		       bool clean)
{
	struct page *old = atomic_load_explicit(&z->deferred,
						memory_order_relaxed);

	page->order = (uint8_t)order;
	set_page_flags(page, PG_reserved | (clean ? PG_zero : 0));
	do {
		page->lru.next = (struct list_head *)old;
	} while (!atomic_compare_exchange_weak_explicit(
		&z->deferred, &old, page, memory_order_release,
		memory_order_relaxed));
}

/* z->lock held. */
static void zone_drain_deferred(struct zone *z, uint64_t now)
{
	struct page *page = atomic_exchange_explicit(&z->deferred, NULL,
						     memory_order_acquire);

	while (page) {
		struct page *next = (struct page *)page->lru.next;

		__free_one_page(z, page, page->order,
				page_flags(page) & PG_zero, now);
		page = next;
	}
}

/* Take z->lock for gfp (kmem_lock_gfp: a signal handler or a fork makes
 * it fail rather than wait), and put deferred frees back. */
bool zone_lock(struct zone *z, gfp_t gfp)
{
	if (!kmem_lock_gfp(&z->lock, gfp))
		return false;
	if (unlikely(atomic_load_explicit(&z->deferred, memory_order_relaxed)))
		zone_drain_deferred(z, os_now_ms());
	return true;
}

/* The same, waiting as long as it takes (purge thread, trim, stats). */
static void zone_lock_wait(struct zone *z)
{
	kmem_lock(&z->lock);
	if (unlikely(atomic_load_explicit(&z->deferred, memory_order_relaxed)))
		zone_drain_deferred(z, os_now_ms());
}

bool zone_lock_ctx(struct zone *z, bool safe)
{
	if (safe)
		return zone_lock(z, 0);
	zone_lock_wait(z);
	return true;
}

/* ---- growth and purging (no lock held on entry) ---- */

/* A section more (ZONE_DMA: a pinned run of at least 2^order pages). */
static bool zone_grow(struct zone *z, gfp_t gfp, unsigned int order)
{
	int zid = (int)(z - zones), err = 0;
	size_t n = PAGES_PER_SECTION - SECTION_META_PAGES;
	struct page *first;

	if (zid == ZONE_DMA) {
		first = pagemap_dma_grow(order, gfp, &n, &err);
		if (!first)
			return false;
	} else {
		void *base = pagemap_add_section(zid, zid == ZONE_DMA32, gfp,
						 &err);

		if (!base)
			return false;
		first = virt_to_page(base) + SECTION_META_PAGES;
	}
	atomic_fetch_add_explicit(&z->managed, n, memory_order_relaxed);
	if (!zone_lock(z, gfp)) {
		/* The section is ours already: hand its blocks over later,
		 * cut as __free_range cuts them (aligned to their order). */
		uintptr_t pfn = page_to_pfn(first);

		for (size_t left = n; left;) {
			unsigned int o = MAX_ORDER;

			while ((pfn & ((1UL << o) - 1)) || (1UL << o) > left)
				o--;
			zone_defer(z, pfn_to_page(pfn), o, true);
			pfn += 1UL << o;
			left -= 1UL << o;
		}
		return true;
	}
	if (z->pinned) {
		__free_range(z, first, n, true, 0);
	} else {
		/* List up to the first MAX_ORDER block; the whole MAX_ORDER
		 * blocks after it become the spare (a section is a multiple
		 * of them, less its mem_map at the start). */
		uintptr_t pfn = page_to_pfn(first);
		uintptr_t mask = (1UL << MAX_ORDER) - 1;
		size_t head = MIN(n, (size_t)(((pfn + mask) & ~mask) - pfn +
					      (1UL << MAX_ORDER)));
		size_t blocks = (n - head) >> MAX_ORDER;
		size_t tail = n - head - (blocks << MAX_ORDER);

		__free_range(z, first, head, true, 0);
		zone_list_spare(z);	/* an older section's, if any left */
		z->spare_pfn = pfn + head;
		z->spare_blocks = blocks;
		z->nr_free += blocks << MAX_ORDER;
		if (tail)
			__free_range(z, pfn_to_page(pfn + n - tail), tail,
				     true, 0);
	}
	kmem_unlock(&z->lock);
	return true;
}

/* ---- zone allocation ---- */

/* may_grow: the zone may map more memory for this request (the zone it
 * asked for, or ZONE_NORMAL); else only its free pages above min serve. */
struct page *zone_alloc(struct zone *z, unsigned int order, gfp_t gfp,
			bool may_grow)
{
	size_t reserve = (gfp & __GFP_HIGH) ? 0 : z->watermark[WMARK_MIN];
	int grows = 0;

	for (;;) {
		struct page *page = NULL;
		bool low;

		if (!zone_lock(z, gfp))
			return NULL;
		if (z->nr_free >= reserve + (1UL << order))
			page = __rmqueue(z, order, gfp);
		low = z->nr_free < z->watermark[WMARK_LOW];
		kmem_unlock(&z->lock);
		if (page) {
			if (low && may_grow)
				zone_grow(z, gfp, 0); /* replenish; failure is fine */
			if (order > PCP_MAX_ORDER && !(gfp & __GFP_NOBLOCK) &&
			    (page_flags(page) & PG_zero) &&
			    !(gfp & __GFP_KMEM_SPARSE))
				zone_reclaim_dirty(z, order);
			return page;
		}
		/* Other threads may take what a growth added: retry a little. */
		if (!may_grow || grows++ >= 3 || !zone_grow(z, gfp, order))
			return NULL;
	}
}

void zone_free(struct zone *z, struct page *page, unsigned int order)
{
	if (!zone_lock(z, 0)) {
		zone_defer(z, page, order, false);
		return;
	}
	__free_one_page(z, page, order, false, os_now_ms());
	kmem_unlock(&z->lock);
	zone_note_dirty(z);
}

/* ---- the internal interface (buddy.h) ---- */

struct page *__alloc_pages(gfp_t gfp, unsigned int order)
{
	int zid = gfp_zone(gfp);
	struct page *page = NULL;
	const int8_t *zl;

	if (order > MAX_ORDER || zid < 0)
		return NULL;
	for (zl = zonelists[zid]; !page && *zl >= 0; zl++) {
		struct zone *z = &zones[*zl];

		if (*zl == ZONE_NORMAL && order <= PCP_MAX_ORDER)
			page = pcp_alloc(z, order, gfp);
		else
			page = zone_alloc(z, order, gfp, *zl == zid ||
							 *zl == ZONE_NORMAL);
	}
	if (!page)
		return NULL;
	if ((gfp & __GFP_ZERO) && !(page_flags(page) & PG_zero)) {
		if (pagemap_zone_of(page_address(page)) == ZONE_HIGHMEM) {
			/* No mapping to memset: a hole reads as zero. */
			if (pagemap_release(page, 1UL << order)) {
				__free_pages_ok(page, order);
				return NULL;
			}
		} else {
			memset(page_address(page), 0, PAGE_SIZE << order);
		}
	}
	set_page_flags(page, PG_alloc);
	page->order = (uint8_t)order;
	atomic_store_explicit(&page->refcount, 1, memory_order_relaxed);
	return page;
}

/*
 * Grow an allocated block in place: page heads a block of 2^order pages,
 * which becomes one of 2^new_order pages if it is the lower part of such a
 * block and every buddy above it (orders order .. new_order - 1) is free
 * in the zone's lists now.  No split, no copy: krealloc of a page run
 * that doubles takes its free upper half, which the split that made the
 * run put on the list.  Fails (false, nothing changed) if a buddy is in
 * use, on a per-CPU list or off the lists for a purge, or if the zone
 * lock is busy.
 */
bool __grow_pages(struct page *page, unsigned int order, unsigned int new_order,
		  gfp_t gfp)
{
	struct zone *z = page_zone(page);
	uintptr_t pfn = page_to_pfn(page);

	if (new_order > MAX_ORDER || new_order <= order ||
	    (pfn & ((1UL << new_order) - 1)) || !zone_lock(z, gfp))
		return false;
	for (unsigned int o = order; o < new_order; o++) {
		struct page *b = pfn_to_page(pfn + (1UL << o));

		if (!(page_flags(b) & PG_buddy) || b->order != o) {
			kmem_unlock(&z->lock);
			return false;
		}
	}
	for (unsigned int o = order; o < new_order; o++) {
		struct page *b = pfn_to_page(pfn + (1UL << o));

		del_from_free_list(z, b, o);
		set_page_flags(b, 0);
	}
	kmem_unlock(&z->lock);
	page->order = (uint8_t)new_order;
	return true;
}

void __free_pages_ok(struct page *page, unsigned int order)
{
	struct zone *z = page_zone(page);

	kmem_assert_internal(IS_ALIGNED(page_to_pfn(page), 1UL << order));
	if (z == &zones[ZONE_NORMAL] && order <= PCP_MAX_ORDER)
		pcp_free(z, page, order);
	else
		zone_free(z, page, order);
}

void __free_page_run(struct page *page, size_t nr_pages)
{
	uintptr_t pfn = page_to_pfn(page);

	while (nr_pages) {
		unsigned int order = MAX_ORDER;

		while ((pfn & ((1UL << order) - 1)) || (1UL << order) > nr_pages)
			order--;
		__free_pages_ok(pfn_to_page(pfn), order);
		pfn += 1UL << order;
		nr_pages -= 1UL << order;
	}
}

/* ---- statistics ---- */

/* Copy zone zid's counters; exact only when its lock is held. */
static void zone_fill_stats(int zid, struct zone_stats *st)
{
	struct zone *z = &zones[zid];

	memset(st, 0, sizeof(*st));
	st->name = z->name;
	if (zid == ZONE_NORMAL)
		st->nr_pcp = pcp_nr_pages();
	st->managed = atomic_load_explicit(&z->managed, memory_order_relaxed);
	st->nr_free = READ_ONCE(z->nr_free);
	st->nr_dirty = READ_ONCE(z->nr_dirty);
	st->purged_bytes = READ_ONCE(z->purged) << PAGE_SHIFT;
	for (int o = 0; o <= MAX_ORDER; o++)
		st->nr_free_blocks[o] = READ_ONCE(z->free_area[o].nr_free);
	st->nr_free_blocks[MAX_ORDER] += READ_ONCE(z->spare_blocks);
}

/*
 * Exact counts: a purge in flight has a run off the lists while it makes
 * its system call (zone_purge), so wait a little for it to put the run
 * back (and take the deferred frees in: zone_lock_wait); after about
 * 100 ms the counts are taken as they are.
 */
bool zone_get_stats(int zid, struct zone_stats *st)
{
	struct zone *z = &zones[zid];

	for (int tries = 0;; tries++) {
		_Atomic uint32_t nap = 0;

		zone_lock_wait(z);
		if (!atomic_load_explicit(&z->purging, memory_order_acquire) ||
		    tries >= 100)
			break;
		kmem_unlock(&z->lock);
		os_futex_wait_ms(&nap, 0, 1);	/* 1 ms: nobody wakes it */
	}
	zone_fill_stats(zid, st);
	kmem_unlock(&z->lock);
	return st->managed != 0;
}

/* For the statistics signal handler: never waits longer than spin_ns. */
bool zone_get_stats_try(int zid, struct zone_stats *st, uint64_t spin_ns,
			bool *exact)
{
	struct zone *z = &zones[zid];
	bool locked = kmem_lock_for(&z->lock, spin_ns);

	zone_fill_stats(zid, st);
	if (locked)
		kmem_unlock(&z->lock);
	else
		*exact = false;
	return st->managed != 0;
}

KMEM_EXPORT void kmem_buddyinfo(FILE *out)
{
	struct zone_stats st[MAX_NR_ZONES];
	bool up[MAX_NR_ZONES];

	kmem_init();
	buddy_drain_pcp();
	/* Every zone first, then print: stdio may call malloc, which would
	 * change the zones not yet read. */
	for (int zid = 0; zid < MAX_NR_ZONES; zid++)
		up[zid] = zone_get_stats(zid, &st[zid]);
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		if (!up[zid])
			continue;
		fprintf(out, "Node 0, zone %8s ", st[zid].name);
		for (int o = 0; o <= MAX_ORDER; o++)
			fprintf(out, "%6zu ", st[zid].nr_free_blocks[o]);
		fputc('\n', out);
	}
	fflush(out);
}

/* ---- init and fork ---- */

int buddy_init(void)
{
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		struct zone *z = &zones[zid];

		z->name = zone_names[zid];
		for (int o = 0; o <= MAX_ORDER; o++)
			for (int t = 0; t < NR_FREE_TYPES; t++)
				INIT_LIST_HEAD(&z->free_area[o].free_list[t]);
		z->watermark[WMARK_MIN] = WMARK_MIN_PAGES;
		z->watermark[WMARK_LOW] = WMARK_LOW_PAGES;
		z->watermark[WMARK_HIGH] = WMARK_HIGH_PAGES;
	}
	/* Pinned memory is a budget: no reserve held back from it, no
	 * growth ahead of need, nothing purged. */
	zones[ZONE_DMA].pinned = true;
	for (int w = 0; w < NR_WMARK; w++)
		zones[ZONE_DMA].watermark[w] = 0;
	pcp_init();
	return pagemap_init();
}

void buddy_fork_prepare(void)
{
	pcp_fork_lock();
	for (int zid = 0; zid < MAX_NR_ZONES; zid++)
		kmem_fork_lock(&zones[zid].lock);
	pagemap_fork_prepare();
}

void buddy_fork_child(void)
{
	pagemap_fork_child();
}

void buddy_fork_release(void)
{
	pagemap_fork_release();
	for (int zid = MAX_NR_ZONES - 1; zid >= 0; zid--)
		kmem_fork_unlock(&zones[zid].lock);
	pcp_fork_unlock();
}
