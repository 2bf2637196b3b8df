/* SPDX-License-Identifier: MIT */
/*
 * core/stats.h - process-wide figures: the contract of stats.c.
 *
 * stats.c gathers what every layer counts into one snapshot (struct
 * kmem_totals) for kmem_stats_print(), mallinfo2(), malloc_stats() and
 * malloc_info().  It also owns the counters of the program's own
 * mappings; preload/mmap.c, which interposes mmap/munmap/mremap, bumps
 * them (relaxed atomics: figures, not synchronisation), so the layering
 * stays downward: preload writes a core counter, core never calls up.
 */
#ifndef KMEM_STATS_H
#define KMEM_STATS_H

#include "internal.h"

/* The program's own mmap/munmap/mremap calls, as seen by preload/mmap.c. */
struct kmem_user_maps {
	_Atomic size_t nr_mmap;		/* successful mmap calls */
	_Atomic size_t nr_munmap;	/* successful munmap calls */
	_Atomic size_t nr_mremap;	/* successful mremap calls */
	_Atomic size_t nr_refused;	/* calls refused: would hit kmem's memory */
	_Atomic size_t bytes_mapped;	/* bytes mapped in total (mmap + growth) */
	_Atomic size_t bytes_unmapped;	/* bytes unmapped in total (+ shrink) */
};
extern struct kmem_user_maps kmem_user_maps __hidden;

/* One consistent-enough snapshot of every layer's figures. */
struct kmem_totals {
	size_t heap_mapped;	/* bytes of heap sections (mem_map included) */
	size_t vmalloc_mapped;	/* bytes of live + cached vmalloc areas */
	size_t mapped;		/* heap_mapped + vmalloc_mapped */
	size_t resident;	/* RSS of the whole process */
	size_t slab_bytes;	/* bytes in slabs of kmalloc caches */
	size_t slab_inuse;	/* bytes of live kmalloc objects in them */
	size_t large_bytes;	/* kmalloc page runs handed out */
	size_t vmalloc_bytes;	/* live vmalloc areas (kmalloc's) */
	size_t vmalloc_areas;	/* live vmalloc areas */
	size_t percpu_cached;	/* free objects held in per-CPU caches */
	size_t buddy_free;	/* bytes free in the buddy zones */
	size_t buddy_dirty;	/* of which still resident */
	size_t inuse;		/* slab_inuse + large_bytes + vmalloc_bytes */
	size_t max_mapped;	/* highest mapped seen by a snapshot */
};
void kmem_get_totals(struct kmem_totals *t) __hidden;

#endif /* KMEM_STATS_H */
