/* SPDX-License-Identifier: MIT */
/*
 * core/depot.h - the depot of free objects between the per-CPU caches and
 * the slabs: contract of depot.c with percpu.c.
 *
 * Bonwick's magazine layer has a depot of full and empty magazines that
 * the per-CPU caches trade whole, so a CPU that only frees (the consumer
 * of a producer/consumer pair) hands its objects to a CPU that only
 * allocates without either touching a slab.  Here a depot is one bounded
 * stack of object pointers per class, taken and given in batches under
 * the class's lock: a batch is a memcpy of at most 64 pointers, so the
 * lock is held for tens of nanoseconds, whoever the objects belong to.
 * Objects in a depot are free: they carry their free tag (kmalloc.h).
 */
#ifndef KMEM_DEPOT_H
#define KMEM_DEPOT_H

#include "internal.h"

struct kmem_cache;

/* Class c holds objects of cache caches[c] (NULL: no depot, a debug
 * class), sizes[c] bytes each, moved in batches of batch[c]. */
int depot_init(struct kmem_cache *const *caches, const size_t *sizes,
	       const uint32_t *batch, unsigned int nr) __hidden;
/*
 * Take up to n of objs[] into class cls's depot; returns how many (the
 * first k).  0 also when the lock could not be taken without risk of
 * deadlock (kmem_lock_safe).
 */
unsigned int depot_put(unsigned int cls, void *const *objs, unsigned int n) __hidden;
/* Give up to n objects of class cls into out[]; returns how many. */
unsigned int depot_get(unsigned int cls, void **out, unsigned int n,
		       gfp_t gfp) __hidden;
/* Bytes of objects held in all depots. */
size_t depot_cached_bytes(void) __hidden;
/* Objects held in class cls's depot, and its capacity. */
void depot_class_stats(unsigned int cls, unsigned int *nr, unsigned int *max) __hidden;
/*
 * Return objects to the slabs: every object (all) or, for each depot
 * that served no get since the previous call, half of what it holds
 * (the purge thread's decay, once a second).  Returns objects returned.
 */
size_t depot_shrink(bool all) __hidden;

void depot_fork_prepare(void) __hidden;
void depot_fork_release(void) __hidden;

#endif /* KMEM_DEPOT_H */
