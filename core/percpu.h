/* SPDX-License-Identifier: MIT */
/*
 * core/percpu.h - per-CPU object caches in front of the slabs: contract of
 * percpu.c with kmalloc.c and preload/.
 *
 * Each CPU (rseq mode) or each thread (fallback mode) has, per kmalloc
 * size class, a bounded array of free objects.  percpu_alloc pops,
 * percpu_free pushes; an empty or full array moves a batch to or from the
 * slab layer.  No lock and no atomic read-modify-write on the fast path.
 */
#ifndef KMEM_PERCPU_H
#define KMEM_PERCPU_H

#include "internal.h"

struct kmem_cache;

/* An object of kmalloc class cls (its cache is s), or NULL. */
void *percpu_alloc(struct kmem_cache *s, unsigned int cls, gfp_t gfp) __hidden;
/* Hand obj (of class cls, cache s) back to this CPU's or thread's cache. */
void percpu_free(struct kmem_cache *s, unsigned int cls, void *obj) __hidden;

/* "rseq", "rseq (mm_cid)", "thread" or "off". */
const char *percpu_mode_name(void) __hidden;
/* Bytes of free objects held in all CPU and thread caches. */
size_t percpu_cached_bytes(void) __hidden;
/* Give every cached object back to the slabs (kmem_trim, exit). */
void percpu_drain_all(void) __hidden;
/* The calling thread is exiting: flush its cache (fallback mode). */
void percpu_thread_exit(void) __hidden;

/*
 * Called once by kmalloc_init(): the per-CPU layer serves classes
 * 0..nr-1, class c being caches[c] with objects of sizes[c] bytes.
 */
int percpu_setup(struct kmem_cache *const *caches, const size_t *sizes,
		 unsigned int nr) __hidden;
/* Bytes of objects one region may hold at most. */
size_t percpu_region_limit(void) __hidden;
void percpu_fork_prepare(void) __hidden;
void percpu_fork_parent(void) __hidden;
void percpu_fork_child(void) __hidden;

#endif /* KMEM_PERCPU_H */
