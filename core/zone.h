/* SPDX-License-Identifier: MIT */
/*
 * core/zone.h - struct zone and the free-list primitives: the contract
 * between buddy.c (allocation, freeing, growth) and the buddy layer's
 * other halves, reclaim.c (giving free memory back) and buddy_pcp.c (the
 * per-CPU pagesets, which refill from and drain to a zone).  Nothing
 * above the buddy layer includes it; the rest of kmem sees zones through
 * buddy.h.
 */
#ifndef KMEM_ZONE_H
#define KMEM_ZONE_H

#include "buddy.h"
#include "purge.h"

enum { FREE_DIRTY, FREE_CLEAN, NR_FREE_TYPES };

struct free_area {
	struct list_head free_list[NR_FREE_TYPES];
	size_t nr_free;				/* blocks of this order */
};

struct zone {
	kmem_lock_t lock;
	struct free_area free_area[NR_PAGE_ORDERS];
	_Atomic size_t managed;			/* pages owned (sections - mem_map) */
	size_t nr_free;				/* free pages in free_area,
						 * and in the spare blocks */
	/* The last grown section's MAX_ORDER blocks not yet on a list
	 * (buddy.c: never touched, clean; carved when the lists are empty):
	 * spare_blocks of them from spare_pfn. */
	uintptr_t spare_pfn;
	size_t spare_blocks;
	size_t nr_dirty;			/* free pages not known clean */
	size_t watermark[NR_WMARK];		/* in pages */
	uint64_t last_purge;			/* os_now_ms() of the last check */
	_Atomic(struct page *) deferred;	/* frees that could not wait */
	_Atomic size_t reclaim_debt;		/* clean pages taken while dirty
						 * ones stayed (zone_reclaim_dirty) */
	size_t purged;				/* pages given back, in all */
	const char *name;			/* as in /proc/buddyinfo */
	bool pinned;				/* ZONE_DMA: never purged */
	_Atomic unsigned int purging;		/* runs off the lists for a
						 * purge's system call */
} ____cacheline_aligned;

/* Watermark defaults, in pages. */
#define WMARK_MIN_PAGES 64		/* 256 KiB reserve for GFP_ATOMIC */
#define WMARK_LOW_PAGES 128		/* grow the zone below this */
#define WMARK_HIGH_PAGES 512		/* 2 MiB of dirty pages kept resident */

extern struct zone zones[MAX_NR_ZONES] __hidden;

/* Take z->lock for gfp (kmem_lock_gfp: a signal handler or a fork makes
 * it fail rather than wait), and put deferred frees back. */
bool zone_lock(struct zone *z, gfp_t gfp) __hidden;
/* Take z->lock: with kmem_lock_safe on an allocation path (safe), else
 * waiting; false if it could not be had (a fork, a signal handler). */
bool zone_lock_ctx(struct zone *z, bool safe) __hidden;
/* Hand a block to z without its lock: put back at the next locking. */
void zone_defer(struct zone *z, struct page *page, unsigned int order,
		bool clean) __hidden;
/* Take a free block off its list; z->lock held. */
void del_from_free_list(struct zone *z, struct page *page,
			unsigned int order) __hidden;
/* Merge a free block with its buddies and list it; z->lock held. */
void __free_one_page(struct zone *z, struct page *page, unsigned int order,
		     bool clean, uint64_t now) __hidden;
/* Take a block of exactly 2^order pages off z's lists, split down from
 * the smallest that has one; z->lock held. */
struct page *__rmqueue(struct zone *z, unsigned int order, gfp_t gfp) __hidden;
/* A block from z itself, under its lock and watermarks (may_grow: z may
 * map more memory for it); no lock held. */
struct page *zone_alloc(struct zone *z, unsigned int order, gfp_t gfp,
			bool may_grow) __hidden;
/* Give a block back to z itself; no lock held. */
void zone_free(struct zone *z, struct page *page, unsigned int order) __hidden;

/* The purge thread has work when a zone keeps more dirty pages than it
 * should; called with no lock held. */
static inline void zone_note_dirty(struct zone *z)
{
	if (!z->pinned && READ_ONCE(z->nr_dirty) > z->watermark[WMARK_HIGH])
		purge_kick();
}

/* reclaim.c: a block of 2^order pages had to come from clean memory
 * while dirty pages stayed free; no lock held. */
void zone_reclaim_dirty(struct zone *z, unsigned int order) __hidden;

#endif /* KMEM_ZONE_H */
