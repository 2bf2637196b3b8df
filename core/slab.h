/* SPDX-License-Identifier: MIT */
/*
 * core/slab.h - object caches: the contract of slab.c with percpu.c,
 * kmalloc.c and debug.c.
 *
 * The public kmem_cache_* functions are declared in <kmem.h>.  Layers
 * above use the double-underscore entry points, which skip argument
 * checks and the per-CPU layer.
 */
#ifndef KMEM_SLAB_H
#define KMEM_SLAB_H

#include "buddy.h"

/* Objects of a cache, moved in bulk between the slab and per-CPU caches. */
int __kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t nr,
			    void **objs) __hidden;  /* returns how many */
void __kmem_cache_free_bulk(struct kmem_cache *s, size_t nr,
			    void **objs) __hidden;
void *__kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp) __hidden;
void __kmem_cache_free(struct kmem_cache *s, void *obj) __hidden;

/*
 * The cache that owns obj, found through its struct page, after checking
 * that obj is the start of an object of that cache; reports (and returns
 * NULL) for an interior pointer or a page that is not a slab.  caller names
 * the API function in the report ("free", "kfree", "kmem_cache_free").
 */
struct kmem_cache *virt_to_cache_checked(const void *obj, const char *caller) __hidden;

/* Usable bytes of an object of s. */
size_t kmem_cache_object_size(const struct kmem_cache *s) __hidden;
/* True if the cache has debug flags: it bypasses the per-CPU layer. */
bool kmem_cache_debug(const struct kmem_cache *s) __hidden;

int slab_init(void) __hidden;
/* Shrink every cache (kmem_trim). */
void kmem_cache_shrink_all(void) __hidden;
void slab_fork_prepare(void) __hidden;
void slab_fork_parent(void) __hidden;
void slab_fork_child(void) __hidden;

#endif /* KMEM_SLAB_H */
