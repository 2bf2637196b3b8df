/* SPDX-License-Identifier: MIT */
/*
 * core/buddy_pcp.h - the per-CPU pagesets (the kernel's per_cpu_pages,
 * "pcp"): the contract between buddy_pcp.c, which owns them, and buddy.c,
 * which sends ZONE_NORMAL's blocks of order 0..PCP_MAX_ORDER through
 * them.  Nothing else includes it.
 *
 * pcp_alloc and pcp_free, which run at every such allocation and free,
 * are inline here, as they were inlined into __alloc_pages and
 * __free_pages_ok when all of it was in buddy.c; the refill from the zone
 * and the drain back to it are buddy_pcp.c's.
 */
#ifndef KMEM_BUDDY_PCP_H
#define KMEM_BUDDY_PCP_H

#include "os.h"
#include "zone.h"

/* Per-CPU lists of small blocks, for ZONE_NORMAL (the kernel's pcp). */
#define PCP_MAX_ORDER 3		/* orders 0..3 (4..32 KiB) are cached */
#define PCP_HIGH 256		/* pages a list may hold before draining */
#define PCP_BATCH 64		/* pages moved per refill or drain */

struct per_cpu_pages {
	kmem_lock_t lock;			/* taken only with trylock */
	unsigned int count;			/* pages on the lists */
	struct list_head lists[PCP_MAX_ORDER + 1];
} ____cacheline_aligned;

extern struct per_cpu_pages pcp_lists[KMEM_NR_CPUS] __hidden;
/* Lists in use: the possible CPUs (at most KMEM_NR_CPUS). */
extern unsigned int nr_pcp __hidden;

/* Move up to PCP_BATCH pages of blocks of `order` from the zone; pcp->lock
 * held. */
void rmqueue_bulk(struct zone *z, struct per_cpu_pages *pcp,
		  unsigned int order, gfp_t gfp) __hidden;
/* Give the oldest `pages` pages of pcp's lists back to the zone; pcp->lock
 * held; safe: may be on a free path that must not wait (the pages then
 * stay). */
void free_pcppages_bulk(struct zone *z, struct per_cpu_pages *pcp,
			unsigned int pages, bool safe) __hidden;
/* Pages on all the lists (statistics: read without the locks). */
size_t pcp_nr_pages(void) __hidden;
/* Set the lists up (buddy_init). */
void pcp_init(void) __hidden;
/* Every list's lock, taken before the zones' at fork and let go after. */
void pcp_fork_lock(void) __hidden;
void pcp_fork_unlock(void) __hidden;

static inline struct per_cpu_pages *this_pcp(void)
{
	return &pcp_lists[os_current_cpu() % nr_pcp];
}

/* A block of ZONE_NORMAL of order <= PCP_MAX_ORDER: this CPU's list,
 * refilled when empty; the zone itself when the list is busy or the
 * refill found nothing. */
static inline struct page *pcp_alloc(struct zone *z, unsigned int order,
				     gfp_t gfp)
{
	struct per_cpu_pages *pcp = this_pcp();
	struct list_head *list = &pcp->lists[order];
	struct page *page = NULL;

	if (!kmem_trylock(&pcp->lock))
		return zone_alloc(z, order, gfp, true);
	if (list_empty(list))
		rmqueue_bulk(z, pcp, order, gfp);
	if (!list_empty(list)) {
		page = list_first_entry(list, struct page, lru);
		list_del(&page->lru);
		pcp->count -= 1U << order;
		set_page_flags(page, page_flags(page) & PG_zero);
	}
	kmem_unlock(&pcp->lock);
	return page ? page : zone_alloc(z, order, gfp, true);
}

/* Free such a block to this CPU's list, which gives PCP_BATCH pages back
 * to the zone past PCP_HIGH; to the zone itself when the list is busy. */
static inline void pcp_free(struct zone *z, struct page *page,
			    unsigned int order)
{
	struct per_cpu_pages *pcp = this_pcp();
	bool drained = false;

	if (!kmem_trylock(&pcp->lock)) {
		zone_free(z, page, order);
		return;
	}
	set_page_flags(page, PG_pcp);
	page->order = (uint8_t)order;
	list_add(&page->lru, &pcp->lists[order]);
	pcp->count += 1U << order;
	if (pcp->count > PCP_HIGH) {
		free_pcppages_bulk(z, pcp, PCP_BATCH, true);
		drained = true;
	}
	kmem_unlock(&pcp->lock);
	if (drained)
		zone_note_dirty(z);
}

#endif /* KMEM_BUDDY_PCP_H */
