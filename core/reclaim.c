/* SPDX-License-Identifier: MIT */
/*
 * core/reclaim.c - giving free pages back to the OS: the purge of dirty
 * free blocks by age, the reclaim before a large block is faulted in,
 * and kmem_trim's purge of everything.
 *
 * Layer: the buddy allocator's other half (zone.h).  Owns the purge and
 * reclaim policy: which dirty free blocks go back (madvise through
 * page.c's pagemap_release), when, and in what runs.  Called by the purge
 * thread (purge.c: buddy_purge_expired), the allocation paths' tick, the
 * zone allocation path (zone_reclaim_dirty) and kmem_trim (buddy_trim).
 *
 * The policy, with the figures that chose it, is in docs/ARCHITECTURE.md
 * ("The buddy allocator" and "Why 512 KiB"): dirty blocks older than
 * KMEM_PURGE_DELAY_MS go back beyond WMARK_HIGH dirty pages, in runs of
 * neighbouring blocks (one madvise each); a clean block of order 4 or
 * more taken while more dirty pages stay free than a quarter of the pages
 * in use makes a debt that the purge thread pays in one pass, largest
 * runs first.
 *
 * Locks: the zone lock, dropped around every system call (the blocks are
 * off the lists meanwhile, counted in z->purging).
 */
#include "zone.h"

#include "options.h"
#include "os.h"
#include "purge.h"

#define PURGE_SKIP_MAX 64		/* young blocks a purge pass steps over */
#define PURGE_RUN_BLOCKS 64		/* neighbouring blocks per madvise */
#define PURGE_RUN_MAX (PAGES_PER_SECTION / 4) /* pages per madvise */
#define PURGE_RUN_MIN 16		/* shorter runs wait (zone_purge) */
#define RECLAIM_SLACK_SHIFT 2	/* dirty pages tolerated before a reclaim:
					 * 1/4 of the pages in use (or
					 * WMARK_HIGH_PAGES, if more) */
#define RECLAIM_RUN_MIN 16		/* a reclaim debt is paid in runs of
					 * 64 KiB or more, else forgiven */
#define RECLAIM_BATCH 64		/* pages of reclaim debt paid at once */

/*
 * Take the free dirty block at page (order) and the free dirty blocks that
 * follow it in the address space, as long as they are old enough, into
 * one run of at most PURGE_RUN_MAX pages: blocks that are neighbours
 * without being buddies (a 16 KiB block after a 32 KiB one) cannot merge,
 * but one madvise gives them all back.  z->lock held; the blocks go off
 * their lists, marked PG_reserved.  Returns the blocks taken (run[]).
 */
struct purge_block {
	struct page *page;
	unsigned int order;
};

static unsigned int purge_run_take(struct zone *z, struct page *page,
				   unsigned int order, uint64_t now,
				   uint64_t min_age, struct purge_block *run,
				   size_t *pages, bool take)
{
	uintptr_t pfn = page_to_pfn(page);
	uintptr_t end_of_section = ALIGN_UP(pfn + 1, PAGES_PER_SECTION);
	unsigned int n = 0;

	*pages = 0;
	for (;;) {
		if (take) {
			del_from_free_list(z, page, order);
			set_page_flags(page, PG_reserved);
			run[n].page = page;
			run[n].order = order;
		}
		n++;
		*pages += 1UL << order;
		pfn += 1UL << order;
		if (n == PURGE_RUN_BLOCKS || *pages >= PURGE_RUN_MAX ||
		    pfn >= end_of_section)
			break;
		page = pfn_to_page(pfn);
		if ((page_flags(page) & (PG_buddy | PG_zero)) != PG_buddy ||
		    now - page->freed_at < min_age)
			break;
		order = page->order;
	}
	return n;
}

/*
 * Give back dirty free blocks older than min_age ms until at most keep
 * dirty pages remain, a run of neighbouring blocks per madvise
 * (purge_run_take).  Orders go upwards because a purged block may merge
 * with a dirty buddy into a larger dirty block, which a later pass of the
 * loop then finds; largest_first turns the order around (reclaim: fewest
 * madvise calls, and runs shorter than RECLAIM_RUN_MIN stay; a trim,
 * min_age 0 in order, takes everything).  *next_due: when the youngest block skipped will be old
 * enough (UINT64_MAX if none).  Returns pages purged.  safe: the caller is
 * on an allocation path (kmem_lock_safe).
 */
static size_t zone_purge(struct zone *z, uint64_t now, uint64_t min_age,
			 size_t keep, bool largest_first, bool safe,
			 uint64_t *next_due)
{
	struct purge_block run[PURGE_RUN_BLOCKS];
	size_t purged = 0;

	if (!zone_lock_ctx(z, safe))
		return 0;
	z->last_purge = now;
	for (unsigned int i = 0; i <= MAX_ORDER; i++) {
		unsigned int order = largest_first ? MAX_ORDER - i : i;
		struct list_head *list = &z->free_area[order].free_list[FREE_DIRTY];
		struct list_head *pos = list->prev;
		unsigned int young = 0;

		while (z->nr_dirty > keep && pos != list) {
			struct page *page = list_entry(pos, struct page, lru);
			unsigned int n;
			size_t pages;
			int err;

			/* Newest first, but only roughly: a merged block keeps
			 * its oldest part's time.  Skip young blocks, a
			 * bounded number of them. */
			if (now - page->freed_at < min_age) {
				if (next_due && page->freed_at + min_age < *next_due)
					*next_due = page->freed_at + min_age;
				if (++young > PURGE_SKIP_MAX)
					break;
				pos = pos->prev;
				continue;
			}
			/*
			 * A short run (a fragment between blocks in use) goes
			 * back only once it is old (4 delays), and never to
			 * pay a reclaim debt: a program that churns keeps
			 * reusing such fragments, and purging each as it came
			 * due (or as a clean block was taken) cost mstress a
			 * madvise per 50 KiB, 70 times glibc's count.
			 */
			purge_run_take(z, page, order, now, min_age, NULL,
				       &pages, false);
			if (min_age ? pages < PURGE_RUN_MIN &&
					      now - page->freed_at < 4 * min_age
				    : largest_first && pages < RECLAIM_RUN_MIN) {
				if (++young > PURGE_SKIP_MAX)
					break;
				pos = pos->prev;
				continue;
			}
			n = purge_run_take(z, page, order, now, min_age, run,
					   &pages, true);
			atomic_fetch_add_explicit(&z->purging, 1,
						  memory_order_relaxed);
			kmem_unlock(&z->lock);
			err = pagemap_release(page, pages);
			kmem_probe(buddy_purge, page_address(page), pages, err);
			if (!zone_lock_ctx(z, safe)) {
				for (unsigned int k = 0; k < n; k++)
					zone_defer(z, run[k].page, run[k].order,
						   !err);
				atomic_fetch_sub_explicit(&z->purging, 1,
							  memory_order_release);
				return purged;
			}
			atomic_fetch_sub_explicit(&z->purging, 1,
						  memory_order_relaxed);
			/*
			 * madvise fails on locked memory (mlockall with
			 * MCL_FUTURE): the blocks still hold their data, so
			 * they go back dirty (and young: others come first).
			 */
			for (unsigned int k = 0; k < n; k++)
				__free_one_page(z, run[k].page, run[k].order,
						!err, now);
			if (err)
				goto out;
			z->purged += pages;
			purged += pages;
			/* The lock was dropped: start again from the oldest. */
			pos = list->prev;
			young = 0;
		}
	}
out:
	kmem_unlock(&z->lock);
	return purged;
}

/*
 * A large block had to come from clean (not resident) memory: no dirty
 * block of its order or larger was free, though dirty memory may be,
 * scattered in smaller blocks that the buddy rule cannot put together.
 * Faulting the new block in while those stay resident until the purge
 * delay makes a churning program's RSS climb (CPython's 0.5-1 MiB
 * strings did, by 2x).  So as many dirty pages as clean ones taken are
 * given back, age ignored, as the kernel reclaims before it lets a
 * high-order allocation grow memory; but not here, one madvise per
 * allocation (mstress made 5,000 of them): the pages are counted as a
 * debt, and once it reaches RECLAIM_BATCH the purge thread pays it in one
 * pass, largest runs first.  Only above the WMARK_HIGH pages a zone keeps
 * resident anyway; __GFP_KMEM_SPARSE takes clean blocks on purpose.
 */
static size_t zone_reclaim_keep(const struct zone *z)
{
	size_t managed = atomic_load_explicit(&z->managed,
					      memory_order_relaxed);
	size_t free = READ_ONCE(z->nr_free);
	size_t used = managed > free ? managed - free : 0;

	return MAX(z->watermark[WMARK_HIGH], used >> RECLAIM_SLACK_SHIFT);
}

void zone_reclaim_dirty(struct zone *z, unsigned int order)
{
	size_t debt;

	if (z->pinned || READ_ONCE(z->nr_dirty) <= zone_reclaim_keep(z))
		return;
	debt = atomic_fetch_add_explicit(&z->reclaim_debt, 1UL << order,
					 memory_order_relaxed) + (1UL << order);
	if (debt >= RECLAIM_BATCH)
		purge_kick_now();
}

/* Pay the reclaim debt of z (purge thread, or purge_tick). */
static void zone_pay_debt(struct zone *z, uint64_t now, bool safe)
{
	size_t debt = atomic_exchange_explicit(&z->reclaim_debt, 0,
					       memory_order_relaxed);
	size_t dirty = READ_ONCE(z->nr_dirty), keep = zone_reclaim_keep(z);

	if (!debt || dirty <= keep)
		return;
	if (dirty - keep > debt)
		keep = dirty - debt;
	zone_purge(z, now, 0, keep, true, safe, NULL);
}

size_t buddy_trim(void)
{
	size_t purged = 0;

	buddy_drain_pcp();
	for (int zid = 0; zid < MAX_NR_ZONES; zid++)
		if (!zones[zid].pinned &&
		    atomic_load_explicit(&zones[zid].managed, memory_order_relaxed))
			purged += zone_purge(&zones[zid], os_now_ms(), 0, 0,
					     false, false, NULL);
	return purged;
}

uint64_t buddy_purge_expired(uint64_t now, bool safe)
{
	uint64_t delay = (uint64_t)kmem_opt(OPT_PURGE_DELAY_MS);
	uint64_t next = UINT64_MAX;

	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		struct zone *z = &zones[zid];

		if (z->pinned ||
		    !atomic_load_explicit(&z->managed, memory_order_relaxed))
			continue;
		zone_pay_debt(z, now, safe);
		if (READ_ONCE(z->nr_dirty) <= z->watermark[WMARK_HIGH])
			continue;
		zone_purge(z, now, delay, z->watermark[WMARK_HIGH], false,
			   safe, &next);
		if (READ_ONCE(z->nr_dirty) > z->watermark[WMARK_HIGH] &&
		    next == UINT64_MAX)
			next = now + delay;	/* young blocks beyond the skip */
	}
	return next;
}
