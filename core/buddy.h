/* SPDX-License-Identifier: MIT */
/*
 * core/buddy.h - the page allocator's contract with the layers above.
 *
 * Blocks of 2^order pages (order 0..MAX_ORDER), naturally aligned to
 * PAGE_SIZE << order.  Callers above (slab.c, kmalloc_large.c, vmalloc.c) use
 * the double-underscore functions, which trust their arguments; the
 * exported kmem_* page API in buddy_api.c validates everything.
 *
 * A block returned by __alloc_pages() has its head page in state
 * PG_alloc, page->order == order, and every other page's flags == 0.  The
 * caller may change the head's state (PG_slab, PG_large) and mark tail
 * pages PG_tail (slabs do; kmalloc runs leave them 0), but must return
 * all of them to 0 (head: any state, it is overwritten) before handing
 * the block back to __free_pages_ok().
 */
#ifndef KMEM_BUDDY_H
#define KMEM_BUDDY_H

#include "page.h"

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

#define GFP_ZONEMASK (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32)

/* Zone that a gfp mask asks for, or -1 if it names two. */
int gfp_zone(gfp_t gfp) __hidden;
/* True if memory of zone zid meets what gfp asks for (zid is in the
 * zonelist of gfp's zone). */
bool zone_satisfies(int zid, gfp_t gfp) __hidden;

struct page *__alloc_pages(gfp_t gfp, unsigned int order) __hidden;
void __free_pages_ok(struct page *page, unsigned int order) __hidden;
/* Grow the allocated block page of 2^order pages in place to 2^new_order
 * pages, if it is the lower part of such a block and the rest is free in
 * the zone now; false (nothing changed) otherwise. */
bool __grow_pages(struct page *page, unsigned int order, unsigned int new_order,
		  gfp_t gfp) __hidden;
/*
 * Free nr_pages pages starting at page, a run that is not itself a
 * buddy block (the tail of an exact allocation): it is freed as the
 * largest aligned blocks that tile it.
 */
void __free_page_run(struct page *page, size_t nr_pages) __hidden;

/* Per-zone figures for statistics. */
struct zone_stats {
	const char *name;
	size_t managed;		/* pages the zone owns (sections - mem_map) */
	size_t nr_free;		/* pages in free_area lists */
	size_t nr_dirty;	/* free pages still resident (not purged) */
	size_t nr_pcp;		/* pages on per-CPU lists */
	size_t nr_free_blocks[NR_PAGE_ORDERS];
	size_t purged_bytes;	/* total bytes returned to the OS so far */
};
/* Returns false if the zone has no memory. */
bool zone_get_stats(int zone, struct zone_stats *st) __hidden;
/*
 * The same for the statistics signal handler (stats_live.c): the zone
 * lock is only tried for spin_ns; if it stays busy the figures are read
 * without it (approximate) and *exact is set false.
 */
bool zone_get_stats_try(int zone, struct zone_stats *st, uint64_t spin_ns,
			bool *exact) __hidden;

/* Drain per-CPU lists and purge all dirty free pages now. Returns pages purged. */
size_t buddy_trim(void) __hidden;
/* Drain every per-CPU page list into its zone. */
void buddy_drain_pcp(void) __hidden;
/* Purge thread: give back dirty blocks free for KMEM_PURGE_DELAY_MS, down
 * to the WMARK_HIGH pages a zone keeps; returns when the next block will
 * be due (os_now_ms() time), UINT64_MAX if none is waiting.  safe: on an
 * allocation path (locks give up rather than wait). */
uint64_t buddy_purge_expired(uint64_t now, bool safe) __hidden;
/* True if some per-CPU page list holds pages. */
bool buddy_pcp_holds_pages(void) __hidden;

int buddy_init(void) __hidden;
void buddy_fork_prepare(void) __hidden;
void buddy_fork_release(void) __hidden;
/* In a forked child, after the release: page.c's child work. */
void buddy_fork_child(void) __hidden;

#endif /* KMEM_BUDDY_H */
