/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc.h - size classes over the caches: contract of kmalloc.c with
 * preload/ (the malloc ABI).
 *
 * Three paths by size: slab size classes (table lookup) up to
 * KMALLOC_MAX_CACHE_SIZE, page runs from the buddy allocator (tail pages
 * given back) below KMEM_VMALLOC_THRESHOLD, and vmalloc areas above.
 * None of these set errno: preload/ turns NULL into ENOMEM/EINVAL.
 */
#ifndef KMEM_KMALLOC_H
#define KMEM_KMALLOC_H

#include "internal.h"

/* size 0 gives a unique smallest object.  NULL on failure or overflow. */
void *__kmalloc(size_t size, gfp_t gfp) __hidden;
/* align: a power of two (any size up to 1 GiB and beyond). */
void *__kmalloc_aligned(size_t size, size_t align, gfp_t gfp) __hidden;
/* realloc semantics: p == NULL is kmalloc; never frees p on failure.
 * new_size == 0 is the caller's business (glibc frees). */
void *__krealloc(void *p, size_t new_size, gfp_t gfp) __hidden;
/* Free any block of kmalloc's; reports invalid and double frees.
 * caller names the API function in a report ("free", "kfree", ...). */
void __kfree(void *p, const char *caller) __hidden;
/* Usable size of p (>= requested); reports a pointer that is not kmem's. */
size_t __ksize(const void *p, const char *caller) __hidden;

/* Figures for mallinfo2/malloc_stats. */
struct kmalloc_stats {
	size_t slab_bytes;	/* bytes in slabs of kmalloc caches */
	size_t slab_inuse;	/* bytes of live objects in them */
	size_t large_bytes;	/* page runs handed out */
	size_t vmalloc_bytes;	/* live vmalloc areas */
};
void kmalloc_get_stats(struct kmalloc_stats *st) __hidden;

int kmalloc_init(void) __hidden;

#endif /* KMEM_KMALLOC_H */
