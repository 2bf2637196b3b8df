/* SPDX-License-Identifier: MIT */
/*
 * core/buddy_pcp.c - the per-CPU pagesets (the kernel's per_cpu_pages,
 * "pcp"): for each CPU, lists of ZONE_NORMAL's free blocks of order
 * 0..PCP_MAX_ORDER (4..32 KiB), so that most allocations and frees of
 * small blocks take no zone lock.
 *
 * Layer: the buddy allocator's per-CPU front (buddy_pcp.h).  buddy.c
 * sends ZONE_NORMAL's small blocks through pcp_alloc and pcp_free, inline
 * in buddy_pcp.h; here are the lists themselves, their refill from the
 * zone (rmqueue_bulk, PCP_BATCH pages at a time), their drain back to it
 * (free_pcppages_bulk: a list past PCP_HIGH pages gives PCP_BATCH back;
 * buddy_drain_pcp empties them all for the purge thread, trim and
 * buddyinfo), their set-up and their locks at fork.
 *
 * A block on a list has its head page in state PG_pcp (with PG_zero if it
 * came clean from the zone) and page->order its order; a list is newest
 * first, and the drain gives the oldest back.  pcp->count is the pages on
 * a CPU's lists.
 *
 * Locks: pcp->lock is only ever tried (kmem_trylock, kmem_lock_safe): a
 * busy list is passed by, and the zone serves the request.  It comes
 * before zone->lock (buddy.c gives the order); fork takes every list's
 * lock before the zones' (buddy_fork_prepare).
 */
#include "buddy_pcp.h"

#include "fork.h"

struct per_cpu_pages pcp_lists[KMEM_NR_CPUS];	/* buddy_pcp.h */
/* Lists in use: the possible CPUs (at most KMEM_NR_CPUS).  Only these
 * are set up and walked: all 256 were 32 KiB of every process's resident
 * set, touched at start-up. */
unsigned int nr_pcp;

/* Move up to PCP_BATCH pages of blocks of `order` from the zone. */
void rmqueue_bulk(struct zone *z, struct per_cpu_pages *pcp,
		  unsigned int order, gfp_t gfp)
{
	unsigned int n = PCP_BATCH >> order;

	if (!zone_lock(z, gfp))
		return;
	while (n-- && z->nr_free >= z->watermark[WMARK_MIN] + (1UL << order)) {
		struct page *page = __rmqueue(z, order, 0);

		if (!page)
			break;
		set_page_flags(page, PG_pcp | (page_flags(page) & PG_zero));
		list_add_tail(&page->lru, &pcp->lists[order]);
		pcp->count += 1U << order;
	}
	kmem_unlock(&z->lock);
}

/* Give the oldest `pages` pages of pcp's lists back to the zone; safe:
 * may be on a free path that must not wait (the pages then stay). */
void free_pcppages_bulk(struct zone *z, struct per_cpu_pages *pcp,
			unsigned int pages, bool safe)
{
	uint64_t now = os_now_ms();
	unsigned int order = 0, empty = 0;

	if (!zone_lock_ctx(z, safe))
		return;
	while (pages && pcp->count && empty <= PCP_MAX_ORDER) {
		struct list_head *list = &pcp->lists[order];

		if (list_empty(list)) {
			empty++;
		} else {
			struct page *page = list_entry(list->prev, struct page, lru);
			bool clean = page_flags(page) & PG_zero;

			empty = 0;
			list_del(&page->lru);
			pcp->count -= 1U << order;
			pages = pages > (1U << order) ? pages - (1U << order) : 0;
			__free_one_page(z, page, order, clean, now);
		}
		order = order == PCP_MAX_ORDER ? 0 : order + 1;
	}
	kmem_unlock(&z->lock);
}

/*
 * Give every per-CPU list back to the zone (purge thread, trim, buddyinfo).
 * Both locks are taken with kmem_lock_safe: a list whose locks cannot be
 * had while a fork is in flight stays for the next drain.  Waiting for
 * them was a deadlock (nodeadlock_fork_signal, rseq mode, once in CI):
 * this thread held a pcp lock and waited for the zone lock; the zone
 * lock's owner, interrupted inside large_free, forked from a signal
 * handler and waited for fork_mutex; the thread holding fork_mutex waited
 * in its prepare for the pcp lock.
 */
void buddy_drain_pcp(void)
{
	struct zone *z = &zones[ZONE_NORMAL];

	for (unsigned int cpu = 0; cpu < nr_pcp; cpu++) {
		struct per_cpu_pages *pcp = &pcp_lists[cpu];

		if (!READ_ONCE(pcp->count) || !kmem_lock_safe(&pcp->lock))
			continue;
		free_pcppages_bulk(z, pcp, pcp->count, true);
		kmem_unlock(&pcp->lock);
	}
}

/* ---- statistics ---- */

bool buddy_pcp_holds_pages(void)
{
	for (unsigned int cpu = 0; cpu < nr_pcp; cpu++)
		if (READ_ONCE(pcp_lists[cpu].count))
			return true;
	return false;
}

size_t pcp_nr_pages(void)
{
	size_t pages = 0;

	for (unsigned int cpu = 0; cpu < nr_pcp; cpu++)
		pages += READ_ONCE(pcp_lists[cpu].count);
	return pages;
}

/* ---- init and fork ---- */

void pcp_init(void)
{
	nr_pcp = os_nr_possible_cpus();
	if (!nr_pcp)
		nr_pcp = os_nr_cpus();
	nr_pcp = nr_pcp < 1 ? 1 : nr_pcp > KMEM_NR_CPUS ? KMEM_NR_CPUS : nr_pcp;
	for (unsigned int cpu = 0; cpu < nr_pcp; cpu++)
		for (int o = 0; o <= PCP_MAX_ORDER; o++)
			INIT_LIST_HEAD(&pcp_lists[cpu].lists[o]);
}

void pcp_fork_lock(void)
{
	for (unsigned int cpu = 0; cpu < nr_pcp; cpu++)
		kmem_fork_lock(&pcp_lists[cpu].lock);
}

void pcp_fork_unlock(void)
{
	for (unsigned int cpu = nr_pcp; cpu-- > 0;)
		kmem_fork_unlock(&pcp_lists[cpu].lock);
}
