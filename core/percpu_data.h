/* SPDX-License-Identifier: MIT */
/*
 * core/percpu_data.h - per-CPU data (alloc_percpu, this_cpu_*): the
 * contract of percpu_data.c with init.c and fork.c.
 *
 * The exported interface and the inline fast paths are in <kmem.h>.
 */
#ifndef KMEM_PERCPU_DATA_H
#define KMEM_PERCPU_DATA_H

#include "internal.h"

/* Slots the per-CPU area has: CPUs, the overflow slot, thread slots. */
#define KMEM_PCPU_MAX_SLOTS 4096

/* Once, from __kmem_init() after percpu_setup(): the slots and the
 * offsets the inline fast paths read. */
int percpu_data_init(void) __hidden;
void percpu_data_fork_prepare(void) __hidden;
void percpu_data_fork_release(void) __hidden;
/* In a forked child: only the calling thread keeps its slot. */
void percpu_data_fork_child(void) __hidden;

#endif /* KMEM_PERCPU_DATA_H */
