/* SPDX-License-Identifier: MIT */
/*
 * core/kmalloc_zone.c - kmalloc's requests that name a zone (__GFP_DMA,
 * __GFP_DMA32): the zones' own caches up to 32 KiB, made on first use,
 * and page runs of the zone above (kmalloc.c's top comment, "Zones",
 * says what is served and what fails).
 *
 * Layer: part of kmalloc (below preload/), with kmalloc.c, which sends
 * every zoned request here (kmalloc_try); calls slab.c for the caches
 * and kmalloc_large.c for the runs, nothing above.  Owns
 * kmalloc_zone_caches.
 *
 * Locks: none of its own; a cache is made once by slab.c's
 * kmem_cache_create_once (compare-and-swap into its slot).
 */
#include "kmalloc_large.h"

#include "slab.h"

/* The caches of the zones kmalloc serves besides ZONE_NORMAL, made on
 * first use (kmalloc_zone_cache). */
enum { KMALLOC_DMA, KMALLOC_DMA32, NR_KMALLOC_ZONES };
static struct kmem_cache *_Atomic kmalloc_zone_caches[NR_KMALLOC_ZONES]
						      [NR_KMALLOC_CLASSES];

/* The cache of class cls for zone kz, made if it is not there yet;
 * NULL if it cannot be made now (gfp may not wait, no memory). */
static struct kmem_cache *kmalloc_zone_cache(int kz, unsigned int cls,
					     gfp_t gfp)
{
	struct kmem_cache *s = atomic_load_explicit(
		&kmalloc_zone_caches[kz][cls], memory_order_acquire);
	unsigned int size = kmalloc_class_size[cls];
	const char *zname = kz == KMALLOC_DMA ? "dma" : "dma32";
	char name[KMEM_CACHE_NAME_LEN];

	if (likely(s))
		return s;
	if (size >= 1024 && size % 1024 == 0)
		kmem_snprintf(name, sizeof(name), "%s-kmalloc-%uk", zname,
			      size / 1024);
	else
		kmem_snprintf(name, sizeof(name), "%s-kmalloc-%u", zname, size);
	return kmem_cache_create_once(&kmalloc_zone_caches[kz][cls], name, size,
				      KMALLOC_MIN_SIZE,
				      SLAB_KMALLOC | (kz == KMALLOC_DMA
						      ? SLAB_CACHE_DMA
						      : SLAB_CACHE_DMA32),
				      gfp);
}

/*
 * A request that names a zone: the zone's caches up to 32 KiB, page runs
 * of the zone above, never vmalloc or the reserve (kmalloc.c, "Zones").
 */
void *kmalloc_zone(size_t size, size_t align, gfp_t gfp,
				     unsigned long ip)
{
	int zid = gfp_zone(gfp);
	int kz = zid == ZONE_DMA ? KMALLOC_DMA : KMALLOC_DMA32;

	if (zid != ZONE_DMA && zid != ZONE_DMA32)
		return NULL;	/* highmem, or two zones */
	if (size <= KMALLOC_MAX_CACHE_SIZE && align <= KMALLOC_MAX_CACHE_SIZE) {
		for (unsigned int c = kmalloc_size_class(size);
		     c < NR_KMALLOC_CLASSES; c++) {
			struct kmem_cache *s = kmalloc_zone_cache(kz, c, gfp);

			if (!s)
				return NULL;
			if (kmem_cache_obj_align(s) >= align)
				return __kmem_cache_alloc_track(
					s, gfp, size, ip ? ip : _RET_IP_);
		}
	}
	return kmalloc_large(MAX(size, 1), MAX(align, PAGE_SIZE), gfp,
			     ip ? ip : _RET_IP_);
}
