/* SPDX-License-Identifier: MIT */
/*
 * core/reserve.h - the atomic reserve: contract of reserve.c with kmalloc.c.
 *
 * Memory for allocations that must not wait for a lock: GFP_ATOMIC and
 * GFP_NOWAIT requests whose normal path is busy, a signal handler that
 * interrupted kmem while it held the lock it needs, and other threads'
 * allocations while a thread forks.  It comes from one section of its
 * own, in power-of-two blocks kept on lock-free stacks, so taking and
 * giving back a block is a compare-and-swap, safe in any context.  When
 * the section is used up, allocations from it fail (NULL): the reserve is
 * bounded, as the kernel's atomic reserves are.
 */
#ifndef KMEM_RESERVE_H
#define KMEM_RESERVE_H

#include "internal.h"

#define RESERVE_MIN_SHIFT 4	/* 16-byte blocks */
#define RESERVE_MAX_SHIFT 22	/* 4 MiB blocks */

/* Map the reserve's section (init). */
int reserve_init(void) __hidden;
/* A block of at least size bytes (aligned to its size, a power of two,
 * and to align), or NULL: size too big or the reserve used up. */
void *reserve_alloc(size_t size, size_t align) __hidden;
/* True if p lies in the reserve's section. */
bool reserve_owns(const void *p) __hidden;
/*
 * Usable size of the block at p, or 0 (and a report, as caller's) if p is
 * not a block of the reserve in use: a double free, an interior pointer.
 */
size_t reserve_usable_size(const void *p, const char *caller) __hidden;
/* Give back a block (checked as reserve_usable_size does). */
void reserve_free(void *p, const char *caller) __hidden;

struct reserve_stats {
	size_t mapped;		/* bytes of the section carved so far */
	size_t in_use;		/* bytes of blocks handed out */
	size_t allocs;		/* blocks handed out, in all */
	size_t failures;	/* requests it could not serve */
};
void reserve_get_stats(struct reserve_stats *st) __hidden;

#endif /* KMEM_RESERVE_H */
