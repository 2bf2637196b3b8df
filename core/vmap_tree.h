/* SPDX-License-Identifier: MIT */
/*
 * core/vmap_tree.h - the index of vmalloc areas by address: contract of
 * vmap_tree.c with vmalloc.c.
 *
 * A radix tree over the page numbers of the 47-bit user address space,
 * with one pointer slot per page.  Readers take no lock; nodes are never
 * freed, so a slot found once stays valid memory.  Writers of slot values
 * serialise among themselves (vmalloc.c holds vmap_lock).
 */
#ifndef KMEM_VMAP_TREE_H
#define KMEM_VMAP_TREE_H

#include "internal.h"

#define VA_BITS 47	/* user address space covered */

/* The slot of addr's page, or NULL if no value was ever stored near it
 * (the path does not exist).  Lock-free; load the slot with acquire. */
_Atomic(void *) *vmap_tree_slot(const void *addr) __hidden;

/* The same, creating the path first (may mmap nodes; takes no lock).
 * NULL if addr is outside the address space or memory ran out. */
_Atomic(void *) *vmap_tree_prepare(const void *addr) __hidden;

/* Nodes mapped so far (each one mmap of 32 KiB). */
size_t vmap_tree_nodes(void) __hidden;

#endif /* KMEM_VMAP_TREE_H */
