/* SPDX-License-Identifier: MIT */
/*
 * core/kfence.h - sampled guard allocations: the contract of kfence.c
 * with kmalloc.c (which samples and dispatches frees) and fault.c (which
 * turns a fault on the pool into a report).
 *
 * One allocation in KMEM_SAMPLE bytes on average (kmalloc.c decides, from
 * the per-CPU countdown) is placed on a page of its own in the guard
 * pool, against a guard page on its left or its right, alternately; its
 * free makes the page inaccessible until the slot is reused, as late as
 * the pool allows.  An overflow or underflow that reaches a guard page,
 * and any use after free, faults; a smaller overflow into the rest of the
 * page is found at free by the canary bytes there.  Reports carry the
 * allocation and free stacks.
 */
#ifndef KMEM_KFENCE_H
#define KMEM_KFENCE_H

#include "internal.h"

#define KFENCE_NR_OBJECTS 255	/* slots of the pool */
#define KFENCE_MAX_SIZE PAGE_SIZE /* larger requests are never sampled */

/* The pool, once mapped: [kfence_pool, kfence_pool + kfence_pool_len). */
extern uintptr_t kfence_pool __hidden;
extern size_t kfence_pool_len __hidden;

static inline bool kfence_owns(const void *p)
{
	return (uintptr_t)p - kfence_pool < kfence_pool_len;
}

/*
 * A sampled block of size bytes (at most KFENCE_MAX_SIZE; 16-byte
 * aligned), or NULL when there is no room in the pool (or it cannot be
 * mapped): the caller allocates normally.  ip: the caller's return
 * address, where the recorded stack starts.  Never blocks.
 */
void *kfence_alloc(size_t size, gfp_t gfp, unsigned long ip) __hidden;

/* Free p (kfence_owns(p)); every misuse is reported. */
void kfence_free(void *p, const char *caller, unsigned long ip) __hidden;

/* Bytes usable at p (the size asked), SIZE_MAX after a report. */
size_t kfence_ksize(const void *p, const char *caller) __hidden;

/*
 * A fault at addr (write: a store; pc: the faulting instruction) that hit
 * the pool: print the report (out of bounds of which block, or use after
 * free, with its stacks) and return true; false if addr is not the
 * pool's.
 */
bool kfence_handle_fault(uintptr_t addr, bool write,
			 unsigned long pc) __hidden;

struct kfence_stats {
	size_t allocated;	/* sampled blocks live now */
	size_t total;		/* sampled allocations so far */
	size_t skipped;		/* samples that found the pool full */
};
void kfence_get_stats(struct kfence_stats *st) __hidden;

#endif /* KMEM_KFENCE_H */
