/* SPDX-License-Identifier: MIT */
/*
 * core/percpu_internal.h - what percpu.c and percpu_drain.c share, and
 * nothing else includes: the region table and the class table, which
 * percpu.c sets up and percpu_drain.c reads, the flag that says drains
 * can fence, and region_flush.  The contract with kmalloc.c above is
 * percpu.h.
 *
 * cpu_region and region_chunk, which percpu.c's slow paths call at every
 * refill and flush, are inline here, as they were inline when all of it
 * was in percpu.c.
 */
#ifndef KMEM_PERCPU_INTERNAL_H
#define KMEM_PERCPU_INTERNAL_H

#include "percpu.h"

#define PCPU_MAX_REGIONS 1024	/* possible CPUs beyond: thread mode */

/* percpu.c's, set by percpu_setup() and not changed after. */
extern bool use_mm_cid __hidden;		/* index regions by mm_cid */
extern unsigned int nr_regions __hidden;	/* possible CPUs */
extern unsigned int nr_classes __hidden;
extern size_t class_size[PCPU_MAX_CLASSES] __hidden;
/* CPU regions: 0 untouched, 1 being set up, 2 ready. */
extern _Atomic uint8_t region_state[PCPU_MAX_REGIONS] __hidden;

/* percpu_drain.c's: membarrier RSEQ registered (rseq_setup, and again in
 * a forked child), without which no CPU region can be drained. */
extern bool can_fence __hidden;

static inline struct pcpu_region_hdr *cpu_region(unsigned int cpu)
{
	return (struct pcpu_region_hdr *)(pcpu.cpu_regions +
					  ((uintptr_t)cpu << PCPU_REGION_SHIFT));
}

static inline struct pcpu_chunk *region_chunk(struct pcpu_region_hdr *r,
					      unsigned int cls)
{
	return (struct pcpu_chunk *)((char *)r + (pcpu_chunk_id(cls)
						  << PCPU_CHUNK_ID_SHIFT));
}

/* Empty every class of a region we own exclusively; returns objects
 * (percpu.c: a thread's exit, and the drains). */
size_t region_flush(struct pcpu_region_hdr *r) __hidden;

#endif /* KMEM_PERCPU_INTERNAL_H */
