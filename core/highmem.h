/* SPDX-License-Identifier: MIT */
/*
 * core/highmem.h - kmap: the contract of highmem.c with init.c, fork.c
 * and stats.
 *
 * The exported kmap family is declared in <kmem.h>; here are the hooks
 * the rest of core/ calls.
 */
#ifndef KMEM_HIGHMEM_H
#define KMEM_HIGHMEM_H

#include "internal.h"

struct highmem_stats {
	unsigned int windows_used;	/* windows with a kmap in force */
	unsigned int windows_mapped;	/* windows that map a page */
	unsigned int waiters;		/* kmaps waiting for a window */
};
void highmem_stats(struct highmem_stats *st) __hidden;

/* Once, from __kmem_init(): the thread-exit key of the local slots. */
int highmem_init(void) __hidden;
/* fork.c: kmap_lock around fork; in the child, after page.c gave it a
 * memfd of its own, the windows and this thread's slots mapped onto it. */
void highmem_fork_prepare(void) __hidden;
void highmem_fork_release(void) __hidden;
void highmem_fork_child(void) __hidden;

#endif /* KMEM_HIGHMEM_H */
