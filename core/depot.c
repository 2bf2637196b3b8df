/* SPDX-License-Identifier: MIT */
/*
 * core/depot.c - the depot: per-class stacks of free objects that the
 * per-CPU caches give their overflow to and refill from.
 *
 * Layer: between percpu.c (above) and slab.c (below).  Owns one struct
 * depot per kmalloc class.  A CPU whose stack of a class is full gives a
 * batch here; a CPU whose stack is empty takes a batch from here before it
 * asks the slabs.  Only what does not fit goes to the slabs, and only
 * when the depot is empty does a refill walk slab free lists.
 *
 * Why: frees land in the freeing CPU's cache.  In a producer/consumer
 * program the consumer's cache overflows and the producer's runs dry,
 * every batch; without a depot both meet on the slab lock of the class
 * and walk free lists object by object (141 ns per object, 48-byte
 * objects, one producer and one consumer).  With it, a batch moves from
 * one CPU to the other as one memcpy of pointers under a lock held for
 * tens of nanoseconds.
 *
 * Invariants: 0 <= d->nr <= d->max; objs[0..nr) are free objects of the
 * class, newest on top (LIFO: the warmest objects are reused first).
 *
 * Memory: max = clamp(DEPOT_BYTES / size, 2 * batch, DEPOT_MAX_OBJS)
 * objects per class; depot_shrink(false), called once a second by the
 * purge thread, gives half of an idle depot back to the slabs, so an idle
 * program's depots empty within seconds.
 *
 * Locks: d->lock (one per class), a leaf on every path but the flush to
 * the slabs, which is done after dropping it.  Taken with kmem_lock_safe
 * or (GFP_ATOMIC) kmem_trylock: a failure means "no depot this time".
 */
#include "depot.h"

#include <errno.h>
#include <string.h>

#include "buddy.h"
#include "fork.h"
#include "percpu.h"
#include "slab.h"

#define DEPOT_BYTES (256UL << 10)	/* per class, at most about */
#define DEPOT_MAX_OBJS 2048		/* per class */
#define DEPOT_FLUSH_BATCH 64		/* objects freed to slabs per call */

struct depot {
	kmem_lock_t lock;
	uint32_t nr;			/* objects in objs[0..nr) */
	uint32_t max;			/* capacity */
	uint32_t gets;			/* depot_get calls served (decay) */
	uint32_t gets_seen;		/* gets at the last decay pass */
	void **objs;			/* max pointers */
	struct kmem_cache *cache;	/* the class's cache */
	size_t size;			/* object size */
} ____cacheline_aligned;

static struct depot depots[PCPU_MAX_CLASSES];
static unsigned int nr_depots;

int depot_init(struct kmem_cache *const *caches, const size_t *sizes,
	       const uint32_t *batch, unsigned int nr)
{
	size_t total = 0, bytes;
	unsigned int order = 0, c;
	struct page *page;
	void **mem;

	kmem_assert(nr <= PCPU_MAX_CLASSES);
	for (c = 0; c < nr; c++) {
		size_t max = DEPOT_BYTES / sizes[c];

		max = MAX(max, 2 * (size_t)batch[c]);
		max = MIN(max, (size_t)DEPOT_MAX_OBJS);
		depots[c].max = caches[c] ? (uint32_t)max : 0;
		depots[c].cache = caches[c];
		depots[c].size = sizes[c];
		total += depots[c].max;
	}
	/* One block for every class's array; pages are touched as used. */
	bytes = total * sizeof(void *);
	while ((PAGE_SIZE << order) < bytes && order < MAX_ORDER)
		order++;
	if ((PAGE_SIZE << order) < bytes)
		return ENOMEM;
	page = __alloc_pages(GFP_KERNEL, order);
	if (!page)
		return ENOMEM;
	mem = page_address(page);
	for (c = 0; c < nr; c++) {
		depots[c].objs = mem;
		mem += depots[c].max;
	}
	nr_depots = nr;
	return 0;
}

unsigned int depot_put(unsigned int cls, void *const *objs, unsigned int n)
{
	struct depot *d = &depots[cls];
	unsigned int k;

	if (!d->max || !kmem_lock_safe(&d->lock))
		return 0;
	k = MIN(n, d->max - d->nr);
	memcpy(d->objs + d->nr, objs, k * sizeof(void *));
	d->nr += k;
	kmem_unlock(&d->lock);
	return k;
}

unsigned int depot_get(unsigned int cls, void **out, unsigned int n,
		       gfp_t gfp)
{
	struct depot *d = &depots[cls];
	unsigned int k;

	if (!READ_ONCE(d->nr) || !kmem_lock_gfp(&d->lock, gfp))
		return 0;
	k = MIN(n, d->nr);
	d->nr -= k;
	memcpy(out, d->objs + d->nr, k * sizeof(void *));
	d->gets++;
	kmem_unlock(&d->lock);
	return k;
}

size_t depot_cached_bytes(void)
{
	size_t bytes = 0;

	for (unsigned int c = 0; c < nr_depots; c++)
		bytes += (size_t)READ_ONCE(depots[c].nr) * depots[c].size;
	return bytes;
}

void depot_class_stats(unsigned int cls, unsigned int *nr, unsigned int *max)
{
	*nr = cls < nr_depots ? READ_ONCE(depots[cls].nr) : 0;
	*max = cls < nr_depots ? depots[cls].max : 0;
}

/* Give up to `want` objects of d back to its slabs; returns how many. */
static size_t depot_flush(struct depot *d, uint32_t want)
{
	void *buf[DEPOT_FLUSH_BATCH];
	size_t done = 0;

	while (want) {
		uint32_t k;

		kmem_lock(&d->lock);
		k = MIN(MIN(want, d->nr), (uint32_t)DEPOT_FLUSH_BATCH);
		d->nr -= k;
		memcpy(buf, d->objs + d->nr, k * sizeof(void *));
		kmem_unlock(&d->lock);
		if (!k)
			break;
		__kmem_cache_free_bulk(d->cache, k, buf);
		done += k;
		want -= k;
	}
	return done;
}

size_t depot_shrink(bool all)
{
	size_t done = 0;

	for (unsigned int c = 0; c < nr_depots; c++) {
		struct depot *d = &depots[c];
		uint32_t gets = READ_ONCE(d->gets), nr = READ_ONCE(d->nr);

		if (!nr)
			continue;
		if (all)
			done += depot_flush(d, nr);
		else if (gets == d->gets_seen)	/* idle since the last pass */
			done += depot_flush(d, (nr + 1) / 2);
		d->gets_seen = gets;
	}
	return done;
}

void depot_fork_prepare(void)
{
	for (unsigned int c = 0; c < nr_depots; c++)
		kmem_fork_lock(&depots[c].lock);
}

void depot_fork_release(void)
{
	for (unsigned int c = nr_depots; c-- > 0;)
		kmem_fork_unlock(&depots[c].lock);
}
