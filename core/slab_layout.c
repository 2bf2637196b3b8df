/* SPDX-License-Identifier: MIT */
/*
 * core/slab_layout.c - a cache's geometry: the order of its slabs, the
 * stride of its objects, where a free object's free pointer goes and
 * where a debug object's red zones, state word and call-site records go
 * (debug.h has the picture).  Computed once, when the cache is made
 * (slab.c's kmem_cache_open); nothing here runs on an allocation path.
 *
 * Layer: the slab layer's third part (slab_internal.h); asks debug.c for
 * the debug flags' share of the layout (debug_calculate_layout).
 */
#include "slab_internal.h"

#include <errno.h>

#define SLAB_MIN_FREE 2			/* empty slabs a cache keeps */
#define SLAB_MIN_OBJECTS 4		/* objects per slab we aim for, at least */
#define SLAB_MAX_MIN_OBJECTS 16		/* ... and at most */
#define SLAB_TARGET_BYTES (PAGE_SIZE << 3) /* min_objects = this / size */

/*
 * The smallest order whose tail waste is at most 1/16 of the slab (then
 * 1/8, then 1/4), with at least min_objects objects where the maximal
 * order allows it (the kernel's calc_slab_order).
 */
static unsigned int calculate_order(unsigned int size, unsigned int align)
{
	unsigned int min_objects = SLAB_TARGET_BYTES / size;
	unsigned int max_order = size <= PAGE_SIZE ? SLAB_MAX_ORDER_SMALL
						   : SLAB_MAX_ORDER_LARGE;
	unsigned int min_order = 0;

	min_objects = MAX(MIN(min_objects, SLAB_MAX_MIN_OBJECTS),
			  SLAB_MIN_OBJECTS);
	while ((PAGE_SIZE << min_order) < size ||
	       (PAGE_SIZE << min_order) < align)
		min_order++;
	if (min_order >= max_order)
		return min_order;
	for (unsigned int frac = 16; frac >= 4; frac /= 2) {
		for (unsigned int o = min_order; o <= max_order; o++) {
			size_t bytes = PAGE_SIZE << o;
			size_t n = bytes / size;

			if (n > SLAB_MAX_OBJECTS)
				break;
			if (n < min_objects && o < max_order)
				continue;
			if ((bytes % size) * frac <= bytes)
				return o;
		}
	}
	return max_order;
}

int slab_calculate_sizes(struct kmem_cache *s, size_t size, size_t align)
{
	bool fp_outside;
	unsigned int total;

	if (s->flags & SLAB_HWCACHE_ALIGN) {
		size_t ralign = CACHE_LINE_SIZE;

		while (size <= ralign / 2)
			ralign /= 2;
		align = MAX(align, ralign);
	}
	s->align = (unsigned int)MAX(align, sizeof(void *));
	s->object_size = (unsigned int)size;
	s->meta_size = debug_calculate_layout(s, &fp_outside);
	if (fp_outside && s->red_left_pad >= 2 * sizeof(void *)) {
		/*
		 * A left red zone of 16 or more is 8 bytes of zone and the
		 * rest alignment: the free pointer takes the 8 bytes next to
		 * the object, which read as red zone while it is allocated
		 * (debug.c).  KMEM_DEBUG=FZPU's kmalloc-32 went from a stride
		 * of 112 bytes to 96, every class's by 16.
		 */
		s->offset = -(int)sizeof(void *);
		total = s->inuse;
	} else if (fp_outside) {
		s->offset = (int)s->inuse;
		total = s->inuse + sizeof(void *);
	} else {
		/* Mid-object, as SLUB: a small overflow of the previous
		 * object does not reach it. */
		s->offset = (int)ALIGN_DOWN(s->object_size / 2, sizeof(void *));
		if ((unsigned int)s->offset + sizeof(void *) > s->inuse)
			s->offset = 0;
		total = s->inuse;
	}
	/* The state word (SLAB_KMALLOC_SIZE), read first by every debug
	 * free, stays in the stride where the alignment leaves it room. */
	s->orig_offset = 0;
	if ((s->flags & SLAB_KMALLOC_SIZE) &&
	    ALIGN_UP(s->red_left_pad + total + sizeof(size_t), s->align) ==
	    ALIGN_UP(s->red_left_pad + total, s->align)) {
		s->orig_offset = total;
		total += sizeof(size_t);
		s->meta_size -= sizeof(size_t);
	}
	s->size = ALIGN_UP(s->red_left_pad + total, s->align);
	/*
	 * The debug meta (call-site records, the state word) is an array
	 * after the objects, not in their strides: a program that walks its
	 * objects (CPython's garbage collector, under KMEM_DEBUG=FZPU a
	 * third of a JSON round trip's time) touches fewer lines, and an
	 * overflow does not reach the records that its report prints.
	 * kmalloc-32's stride under FZPU went from 96 bytes to 64, with
	 * 32 bytes of meta.
	 */
	s->order = calculate_order(s->size + s->meta_size, s->align);
	if (s->order > MAX_ORDER)
		return EINVAL;
	s->objects = slab_bytes(s) / (s->size + s->meta_size);
	s->meta_start = s->objects * s->size;
	if (s->objects == 0 || s->objects > SLAB_MAX_OBJECTS)
		return EINVAL;
	s->reciprocal_size = (uint32_t)((1ULL << 32) / s->size + 1);
	/* floor(2^64 / size) + 1 (page.h): one more when size divides 2^64. */
	s->slab_magic = UINT64_MAX / s->size + 1;
	if (s->slab_magic * s->size == 0)
		s->slab_magic++;
	s->min_free = SLAB_MIN_FREE;
	s->shuffle_group = slab_shuffle_group(s);
	return 0;
}
