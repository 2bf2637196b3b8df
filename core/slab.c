/* SPDX-License-Identifier: MIT */
/*
 * core/slab.c - object caches (kmem_cache): slabs, free lists, ctor.
 *
 * Layer: below kmalloc.c and percpu.c, above buddy.c; debug.c is its
 * helper for debug caches.  Owns struct kmem_cache (slab.h), the global
 * list of caches, the boot cache of struct kmem_cache, and the slab
 * fields of struct page (slab_cache, freelist, slab_list, inuse, objects).
 *
 * A slab is a buddy block of 2^s->order pages; its head page is PG_slab,
 * the others PG_tail with ->head set (cleared to 0 before the block goes
 * back).  Each slab is on exactly one list of its cache:
 *
 *   full:    page->inuse == page->objects
 *   partial: 0 < page->inuse < page->objects   (allocation takes these first)
 *   free:    page->inuse == 0, at most s->min_free of them; more go back
 *            to the buddy allocator at once.
 *
 *   s->nr_inuse = sum of page->inuse over the cache's slabs,
 *   page->objects - page->inuse = length of page->freelist + the slab's
 *   fresh objects (slab_fresh.c).
 *
 * page->freelist is a plain pointer (it lives outside the heap); the free
 * pointers inside free objects are encoded with slab_secrets.freeptr and
 * their own address (slab.h), so an overflow cannot plant a pointer simply.
 *
 * A new slab's objects are slab_fresh.c's (slab_internal.h): new_slab
 * sets them up (the constructor, the free list in the random order of
 * groups of neighbours), or leaves them fresh, unwritten until
 * take_objects takes them (take_fresh).
 *
 * Locks, in order: slab_mutex (the list of caches: create, destroy, fork)
 * -> s->lock (one cache's lists and counts) -> buddy's locks.  In practice
 * nothing nests: pages are allocated and freed with no cache lock held.
 * Readers of the cache list (slabinfo, shrink_all) use RCU (urcu-bp), so
 * they take no lock while caches come and go; kmem_cache_destroy waits
 * for them with synchronize_rcu(), never called on an alloc/free path.
 *
 * SLAB_CACHE_DMA takes its slabs from ZONE_DMA (pinned memory: an
 * allocation past KMEM_DMA_LIMIT / RLIMIT_MEMLOCK fails with ENOMEM, and
 * SLAB_PANIC aborts), SLAB_CACHE_DMA32 from ZONE_DMA32 (below 4 GiB).  A
 * kmem_cache_alloc whose gfp names a zone the cache's objects are not in
 * fails (ENOMEM), as nothing of kmem ignores a zone it was asked for.
 */
#include "slab_internal.h"

#include <errno.h>
#include <string.h>
#include <urcu-bp.h>
#include <urcu/rculist.h>

#include "debug.h"
#include "fork.h"
#include "os.h"
#include "purge.h"


struct slab_secrets slab_secrets __read_mostly;	/* slab.h */

static kmem_lock_t slab_mutex __fork_lock = KMEM_LOCK_INIT;	/* protects slab_caches */
static CDS_LIST_HEAD(slab_caches);		/* every cache, RCU */
static struct kmem_cache kmem_cache_boot __fork_data;	/* cache of struct kmem_cache */

/* The geometry of a cache (order, stride, free pointer, debug meta)
 * is slab_layout.c's slab_calculate_sizes. */

static int kmem_cache_open(struct kmem_cache *s, const char *name,
			   size_t size, size_t align, slab_flags_t flags,
			   void (*ctor)(void *), bool kmalloc_cache)
{
	memset(s, 0, sizeof(*s));
	INIT_LIST_HEAD(&s->partial);
	INIT_LIST_HEAD(&s->full);
	INIT_LIST_HEAD(&s->free);
	kmem_snprintf(s->name, sizeof(s->name), "%s", name);
	s->flags = flags | debug_flags_for(s->name, kmalloc_cache);
	s->ctor = ctor;
	s->kmalloc_class = -1;	/* kmalloc.c sets it after creation */
	if (flags & SLAB_CACHE_DMA)
		s->gfp |= __GFP_DMA;
	if (flags & SLAB_CACHE_DMA32)
		s->gfp |= __GFP_DMA32;
	return slab_calculate_sizes(s, size, align);
}

/* ---- slabs ---- */

/* A new slab, its objects initialised and linked or left fresh; no lock
 * held. */
static struct page *new_slab(struct kmem_cache *s, gfp_t gfp)
{
	unsigned int n = s->objects, i;
	struct page *page;
	void *base, *first;

	page = __alloc_pages(s->gfp | (gfp & __GFP_HIGH), s->order);
	if (!page)
		return NULL;
	base = page_address(page);
	vg_open(base, slab_bytes(s));	/* may be a freed block's pages */
	for (i = 1; i < (1U << s->order); i++) {
		page[i].head = page;
		set_page_flags(&page[i], PG_tail);
	}
	if (s->pcpu_chunk) {
		/* What kfree_fast reads, in every page of the slab. */
		for (i = 0; i < (1U << s->order); i++) {
			page[i].slab_off = (i << PAGE_SHIFT) - s->red_left_pad;
			page[i].slab_limit = n * (uint32_t)(s->slab_magic *
							    s->size);
			page[i].slab_magic = s->slab_magic;
			WRITE_ONCE(page[i].pcpu_chunk, s->pcpu_chunk);
		}
	}
	first = setup_slab_objects(s, page, base);
	page->slab_cache = s;
	page->freelist = first;
	page->inuse = 0;
	page->objects = n;
	page->order = (uint8_t)s->order;
	set_page_flags(page, PG_slab);
	vg_close(base, slab_bytes(s));	/* free objects: no access */
	kmem_probe(slab_grow, s->name, s->order, base, n);
	return page;
}

/* Give a slab's pages back to the buddy allocator; no lock held. */
static void discard_slab(struct kmem_cache *s, struct page *page)
{
	for (unsigned int i = 0; i < (1U << s->order); i++) {
		WRITE_ONCE(page[i].slab_limit, 0);
		WRITE_ONCE(page[i].pcpu_chunk, 0);
	}
	for (unsigned int i = 1; i < (1U << s->order); i++)
		set_page_flags(&page[i], 0);
	/* slab_cache stays: a racing (buggy) free that still saw PG_slab
	 * reads a valid cache; struct kmem_cache memory is never unmapped. */
	page->freelist = NULL;
	kmem_probe(slab_shrink, s->name, s->order, page_address(page));
	vg_open(page_address(page), slab_bytes(s));
	set_page_flags(page, PG_alloc);
	__free_pages_ok(page, s->order);
}

static void discard_list(struct kmem_cache *s, struct list_head *list)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, list, slab_list)
		discard_slab(s, page);
}

static __cold void freelist_corrupted(struct kmem_cache *s, struct page *page,
				      void *obj, void *next)
{
	kmem_report_error("cache %s: free pointer of object %p corrupted "
			  "(decodes to %p, not an object of its slab %p): an "
			  "overflow or a write after free", s->name, obj,
			  next, page_address(page));
}

static __cold void free_tag_damaged(struct kmem_cache *s, void *obj)
{
	kmem_report_error("cache %s: free object %p was written to (its first "
			  "word reads %#lx): a write after free, or an "
			  "overflow from the object before it", s->name, obj,
			  (unsigned long)*(uintptr_t *)obj);
}

/*
 * Take up to nr objects from the cache's slabs, partial ones first;
 * s->lock held.  Returns how many.  A free pointer is followed only to
 * the start of an object of the same slab, and (tagged caches) only out
 * of an object whose free tag is intact: an overflow that reached a free
 * object's free pointer passed its first word first.
 */
static size_t take_objects(struct kmem_cache *s, size_t nr, void **objs)
{
	size_t n = 0;

	while (n < nr) {
		struct page *page;
		void *obj;

		if (!list_empty(&s->partial)) {
			page = list_first_entry(&s->partial, struct page,
						slab_list);
		} else if (!list_empty(&s->free)) {
			page = list_first_entry(&s->free, struct page, slab_list);
			list_move(&page->slab_list, &s->partial);
			s->nr_free--;
			s->nr_partial++;
		} else {
			break;
		}
		obj = page->freelist;
		while (n < nr && obj) {
			void *next;

			if (unlikely((s->flags & SLAB_FREE_TAG) &&
				     *(uintptr_t *)obj != slab_free_tag(obj))) {
				free_tag_damaged(s, obj);
				goto lose_slab;
			}
			vg_open((char *)obj + s->offset, sizeof(void *));
			next = get_freepointer(s, obj);
			vg_close((char *)obj + s->offset, sizeof(void *));
			if (unlikely(next && !slab_obj_valid(s, page, next))) {
				freelist_corrupted(s, page, obj, next);
				goto lose_slab;
			}
			objs[n++] = obj;
			page->inuse++;
			obj = next;
			continue;
lose_slab:
			/* Continuing (KMEM_ABORT=0): the rest of the slab's
			 * free objects are never handed out. */
			s->nr_inuse += page->objects - page->inuse;
			page->inuse = page->objects;
			slab_drop_fresh(s, page);
			obj = NULL;
		}
		if (n < nr && !obj && slab_has_fresh(s, page)) {
			size_t got = take_fresh(s, page, nr - n, objs + n);

			page->inuse += (uint32_t)got;
			n += got;
		}
		page->freelist = obj;
		if (!obj && !slab_has_fresh(s, page)) {
			list_move(&page->slab_list, &s->full);
			s->nr_partial--;
			s->nr_full++;
		}
	}
	s->nr_inuse += n;
	return n;
}

static void put_object(struct kmem_cache *s, void *obj,
		       struct list_head *discard, unsigned long caller,
		       bool checked);

/* A free that cannot wait for s->lock: a lock-free push on s->deferred,
 * linked through the (encoded) free pointer. */
static void defer_free(struct kmem_cache *s, void *obj, bool checked)
{
	_Atomic(void *) *head = checked ? &s->deferred_checked : &s->deferred;
	void *old = atomic_load_explicit(head, memory_order_relaxed);

	do {
		set_freepointer(s, obj, old);
	} while (!atomic_compare_exchange_weak_explicit(
		head, &old, obj, memory_order_release, memory_order_relaxed));
}

/* Frees that found s->lock taken by a context that could not wait for
 * it: put them back now; s->lock held. */
static void drain_deferred(struct kmem_cache *s, struct list_head *discard)
{
	for (int checked = 0; checked < 2; checked++) {
		void *obj = llist_take_all(checked ? &s->deferred_checked
						   : &s->deferred);

		while (obj) {
			void *next = get_freepointer(s, obj);

			put_object(s, obj, discard, 0, checked);
			obj = next;
		}
	}
}

/* nr objects for orig_size bytes each, asked by caller (0: internal).
 * raw: a bulk move to the per-CPU layer, which hands debug objects out in
 * their free state (no alloc hook here: kmalloc runs it per object). */
static int alloc_objects(struct kmem_cache *s, gfp_t gfp, size_t nr,
			 void **objs, size_t orig_size, unsigned long caller,
			 bool raw)
{
	struct list_head discard = LIST_HEAD_INIT(discard);
	size_t n = 0;

	if (!kmem_lock_gfp(&s->lock, gfp))
		return 0;
	if (unlikely(READ_ONCE(s->deferred) || READ_ONCE(s->deferred_checked)))
		drain_deferred(s, &discard);
	for (;;) {
		struct page *page;

		n += take_objects(s, nr - n, objs + n);
		if (n == nr)
			break;
		kmem_unlock(&s->lock);
		page = new_slab(s, gfp);
		if (!kmem_lock_gfp(&s->lock, gfp)) {
			if (page)	/* cannot list it: give it back */
				discard_slab(s, page);
			goto unlocked;
		}
		if (!page)
			break;
		list_add(&page->slab_list, &s->free);
		s->nr_free++;
	}
	kmem_unlock(&s->lock);
unlocked:
	if (unlikely(!list_empty(&discard)))
		discard_list(s, &discard);
	if (unlikely(n == 0 && nr && (s->flags & SLAB_PANIC)))
		kmem_panic("kmem_cache_alloc(%s): out of memory (SLAB_PANIC)",
			   s->name);
	if (unlikely((cache_debug(s) && !raw) || (gfp & __GFP_ZERO))) {
		for (size_t i = 0; i < n; i++) {
			if (cache_debug(s)) {
				/* Checks, red zones, call site, zeroing. */
				debug_alloc_hook(s, objs[i], orig_size, gfp,
						 caller);
				continue;
			}
			vg_open(objs[i], s->object_size);
			memset(objs[i], 0, s->object_size);
			vg_close(objs[i], s->object_size);
		}
	}
	return (int)n;
}

int __kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t nr,
			    void **objs)
{
	return alloc_objects(s, gfp, nr, objs, s->object_size, 0, true);
}

void *__kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	void *obj;

	if (alloc_objects(s, gfp, 1, &obj, s->object_size, _RET_IP_,
			  false) != 1)
		return NULL;
	vg_open(obj, s->object_size);	/* kmem's own objects: no block */
	return obj;
}

void *__kmem_cache_alloc_track(struct kmem_cache *s, gfp_t gfp,
			       size_t orig_size, unsigned long caller)
{
	void *obj;

	if (alloc_objects(s, gfp, 1, &obj, orig_size, caller, false) != 1)
		return NULL;
	if (unlikely(debug_valgrind))
		VALGRIND_MALLOCLIKE_BLOCK(obj, orig_size, 0,
					  (gfp & __GFP_ZERO) || s->ctor);
	return obj;
}

/*
 * Put obj back on its slab; s->lock held.  An emptied slab beyond the
 * reserve moves to *discard, to be released after the lock is dropped.
 */
static void put_object(struct kmem_cache *s, void *obj,
		       struct list_head *discard, unsigned long caller,
		       bool checked)
{
	struct page *page = compound_head(virt_to_page(obj));
	bool was_full;

	kmem_assert_internal(page->slab_cache == s);
	if (unlikely(obj == page->freelist)) {
		kmem_report_error("%s: double free of object %p (it was the "
				  "last object freed into its slab)", s->name,
				  obj);
		return;
	}
	if (!checked && !debug_free_hook(s, page, obj, caller, true))
		return;
	if (unlikely(page->inuse == 0)) {
		kmem_report_error("%s: free of object %p into a slab with no "
				  "object in use", s->name, obj);
		return;
	}
	vg_open((char *)obj + s->offset, sizeof(void *));
	set_freepointer(s, obj, page->freelist);
	vg_close((char *)obj + s->offset, sizeof(void *));
	page->freelist = obj;
	was_full = page->inuse == page->objects;
	page->inuse--;
	s->nr_inuse--;
	if (page->inuse == 0) {
		if (was_full)
			s->nr_full--;
		else
			s->nr_partial--;
		if (s->nr_free < s->min_free) {
			list_move(&page->slab_list, &s->free);
			s->nr_free++;
		} else {
			list_move(&page->slab_list, discard);
		}
	} else if (was_full) {
		list_move(&page->slab_list, &s->partial);
		s->nr_full--;
		s->nr_partial++;
	}
}

/*
 * checked: the debug free hook ran already (quarantine).  A context that
 * must not wait for s->lock (a signal handler that interrupted its
 * holder, another thread forking) defers the objects: a lock-free push,
 * put back (and, for debug caches, checked) by the next holder of the
 * lock.
 */
static void free_objects(struct kmem_cache *s, size_t nr, void **objs,
			 unsigned long caller, bool checked)
{
	struct list_head discard = LIST_HEAD_INIT(discard);

	if (unlikely(!kmem_lock_safe(&s->lock))) {
		for (size_t i = 0; i < nr; i++)
			defer_free(s, objs[i], checked);
		return;
	}
	if (unlikely(READ_ONCE(s->deferred) || READ_ONCE(s->deferred_checked)))
		drain_deferred(s, &discard);
	for (size_t i = 0; i < nr; i++)
		put_object(s, objs[i], &discard, caller, checked);
	kmem_unlock(&s->lock);
	if (unlikely(!list_empty(&discard)))
		discard_list(s, &discard);
}

void __kmem_cache_free_bulk(struct kmem_cache *s, size_t nr, void **objs)
{
	/* A debug cache's objects come back checked (kmalloc ran the free
	 * hook when the program freed them). */
	free_objects(s, nr, objs, 0, cache_debug(s));
}

void __kmem_cache_free(struct kmem_cache *s, void *obj)
{
	free_objects(s, 1, &obj, _RET_IP_, false);
}

void __kmem_cache_free_track(struct kmem_cache *s, void *obj,
			     unsigned long caller)
{
	if (unlikely(debug_valgrind))
		VALGRIND_FREELIKE_BLOCK(obj, 0);
	if (unlikely(debug_quarantine_put(s, obj, caller)))
		return;
	free_objects(s, 1, &obj, caller, false);
}

bool __kmem_cache_free_check(struct kmem_cache *s, void *obj,
			     unsigned long caller)
{
	struct page *page = compound_head(virt_to_page(obj));
	bool ok = true;

	if (!kmem_lock_safe(&s->lock))
		return true;	/* cannot check now: free it unchecked */
	if (unlikely(obj == page->freelist)) {
		kmem_report_error("%s: double free of object %p (it was the "
				  "last object freed into its slab)", s->name,
				  obj);
		ok = false;
	} else {
		ok = debug_free_hook(s, page, obj, caller, true);
	}
	kmem_unlock(&s->lock);
	return ok;
}

void __kmem_cache_free_checked(struct kmem_cache *s, void *obj)
{
	free_objects(s, 1, &obj, 0, true);
}

void slab_for_each_cache(void (*fn)(struct kmem_cache *s, void *arg),
			 void *arg)
{
	struct kmem_cache *s;

	rcu_read_lock();
	cds_list_for_each_entry_rcu(s, &slab_caches, list)
		fn(s, arg);
	rcu_read_unlock();
}

/* ---- checks ---- */

void slab_report_interior(const struct kmem_cache *s, const struct page *page,
			  const void *obj, const char *caller)
{
	uintptr_t base = (uintptr_t)page_address(page) + s->red_left_pad;
	unsigned int idx = obj_to_index(s, (uintptr_t)obj - base);

	if ((uintptr_t)obj < base)
		idx = 0;
	kmem_report_error("%s(): %p: pointer into the middle of an object of "
			  "cache %s (object %p, offset %lu)", caller, obj,
			  s->name,
			  slab_obj(s, (void *)(base - s->red_left_pad), idx),
			  (unsigned long)((uintptr_t)obj - base -
					  (uintptr_t)idx * s->size));
}

struct kmem_cache *virt_to_cache_checked(const void *obj, const char *caller)
{
	struct page *page = compound_head(virt_to_page(obj));
	uint32_t flags = page_flags(page);

	if (unlikely(!(flags & PG_slab))) {
		kmem_report_error("%s(): %p: not an allocated object (page "
				  "state %#x): double free or invalid pointer",
				  caller, obj, flags);
		return NULL;
	}
	return slab_page_cache_checked(page, obj, caller);
}

void kmem_cache_set_pcpu(struct kmem_cache *s, uint16_t chunk)
{
	kmem_assert(!cache_debug(s) && s->object_size >= sizeof(uintptr_t));
	kmem_assert(!s->nr_partial && !s->nr_full && !s->nr_free);
	s->pcpu_chunk = chunk;
	s->flags |= SLAB_FREE_TAG;
	/*
	 * The free pointer goes right after the free tag, in the same cache
	 * line and page: a new slab writes both into every object, and with
	 * the pointer in mid-object each free object of 8 KiB or more cost
	 * two resident pages before it was ever used.  The tag still stands
	 * in front of it: an overflow from the object below passes the tag
	 * first, and take_objects follows no pointer of an object whose tag
	 * is damaged.
	 */
	if (s->object_size >= 2 * sizeof(uintptr_t))
		s->offset = sizeof(uintptr_t);
}

size_t kmem_cache_object_size(const struct kmem_cache *s)
{
	return s->object_size;
}

bool kmem_cache_debug(const struct kmem_cache *s)
{
	return cache_debug(s);
}

size_t kmem_cache_obj_align(const struct kmem_cache *s)
{
	size_t a = s->size & -s->size;	/* lowest set bit */

	if (s->red_left_pad)
		a = MIN(a, (size_t)(s->red_left_pad & -s->red_left_pad));
	/* The slab itself is aligned to its size (a buddy block). */
	return MIN(a, PAGE_SIZE << s->order);
}

void kmem_cache_get_stats(struct kmem_cache *s, struct slab_cache_stats *st)
{
	kmem_lock(&s->lock);
	st->num_slabs = s->nr_partial + s->nr_full + s->nr_free;
	st->active_slabs = s->nr_partial + s->nr_full;
	st->active_objs = s->nr_inuse;
	kmem_unlock(&s->lock);
	st->num_objs = st->num_slabs * s->objects;
}

/* ---- creating and destroying caches ---- */

struct kmem_cache *__kmem_cache_create(const char *name, size_t size,
				       size_t align, slab_flags_t flags,
				       void (*ctor)(void *))
{
	struct kmem_cache *s;
	int err;

	if (!name || size == 0 || size > SLAB_MAX_OBJECT_SIZE ||
	    (align && !is_power_of_2(align)) ||
	    align > SLAB_MAX_OBJECT_SIZE) {
		err = EINVAL;
		goto fail;
	}
	s = __kmem_cache_alloc(&kmem_cache_boot, 0);
	if (!s) {
		err = ENOMEM;
		goto fail;
	}
	err = kmem_cache_open(s, name, size, align, flags, ctor,
			      flags & SLAB_KMALLOC);
	if (err) {
		__kmem_cache_free(&kmem_cache_boot, s);
		goto fail;
	}
	kmem_lock(&slab_mutex);
	cds_list_add_tail_rcu(&s->list, &slab_caches);
	kmem_unlock(&slab_mutex);
	return s;
fail:
	if (flags & SLAB_PANIC)
		kmem_panic("kmem_cache_create(%s): cannot create the cache "
			   "(size %zu, align %zu, error %d)",
			   name ? name : "(null)", size, align, err);
	errno = err;
	return NULL;
}

struct kmem_cache *kmem_cache_create_once(struct kmem_cache *_Atomic *slot,
					  const char *name, size_t size,
					  size_t align, slab_flags_t flags,
					  gfp_t gfp)
{
	struct kmem_cache *s;

	if (!kmem_lock_gfp(&slab_mutex, gfp))
		return NULL;
	s = atomic_load_explicit(slot, memory_order_relaxed);
	if (s)
		goto out;
	s = __kmem_cache_alloc(&kmem_cache_boot,
			       gfp & (__GFP_NOBLOCK | __GFP_HIGH));
	if (!s)
		goto out;
	if (kmem_cache_open(s, name, size, align, flags, NULL,
			    flags & SLAB_KMALLOC)) {
		__kmem_cache_free(&kmem_cache_boot, s);
		s = NULL;
		goto out;
	}
	cds_list_add_tail_rcu(&s->list, &slab_caches);
	atomic_store_explicit(slot, s, memory_order_release);
out:
	kmem_unlock(&slab_mutex);
	return s;
}

KMEM_EXPORT struct kmem_cache *kmem_cache_create(const char *name, size_t size,
						 size_t align,
						 slab_flags_t flags,
						 void (*ctor)(void *))
{
	kmem_init();
	return __kmem_cache_create(name, size, align, flags, ctor);
}

static size_t __kmem_cache_shrink(struct kmem_cache *s)
{
	struct list_head discard = LIST_HEAD_INIT(discard);
	size_t n;

	kmem_lock(&s->lock);
	n = s->nr_free;
	while (!list_empty(&s->free))
		list_move(s->free.next, &discard);
	s->nr_free = 0;
	kmem_unlock(&s->lock);
	discard_list(s, &discard);
	return n;
}

KMEM_EXPORT void kmem_cache_destroy(struct kmem_cache *s)
{
	unsigned long inuse;

	if (!s)
		return;
	kmem_init();
	if (s == &kmem_cache_boot || (s->flags & SLAB_KMALLOC)) {
		kmem_report_error("kmem_cache_destroy(%s): a cache of kmem "
				  "itself cannot be destroyed", s->name);
		return;
	}
	if (debug_quarantine_max)
		debug_quarantine_drain();	/* its objects count as in use */
	kmem_lock(&s->lock);
	inuse = s->nr_inuse;
	kmem_unlock(&s->lock);
	if (inuse) {
		/* As the kernel: warn and keep the cache, so its objects
		 * stay valid (and can still be freed). */
		kmem_pr_err("kmem_cache_destroy %s: Slab cache still has "
			    "objects (%lu in use); cache kept", s->name, inuse);
		return;
	}
	kmem_lock(&slab_mutex);
	cds_list_del_rcu(&s->list);
	kmem_unlock(&slab_mutex);
	synchronize_rcu();	/* no slabinfo or shrink_all reads s now */
	__kmem_cache_shrink(s);
	__kmem_cache_free(&kmem_cache_boot, s);
}

KMEM_EXPORT int kmem_cache_shrink(struct kmem_cache *s)
{
	kmem_init();
	if (s)
		__kmem_cache_shrink(s);
	return 0;
}

void kmem_cache_shrink_all(void)
{
	struct kmem_cache *s;

	rcu_read_lock();
	cds_list_for_each_entry_rcu(s, &slab_caches, list)
		__kmem_cache_shrink(s);
	rcu_read_unlock();
}

KMEM_EXPORT void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	void *obj;

	kmem_init();
	if (unlikely(!s)) {
		errno = EINVAL;
		return NULL;
	}
	if (unlikely((gfp & GFP_ZONEMASK) &&
		     !zone_satisfies(gfp_zone(s->gfp), gfp))) {
		errno = ENOMEM;	/* the cache's objects are not in that zone */
		return NULL;
	}
	obj = __kmem_cache_alloc_track(s, gfp, s->object_size, _RET_IP_);
	if (unlikely(!obj))
		errno = ENOMEM;
	return obj;
}

KMEM_EXPORT void kmem_cache_free(struct kmem_cache *s, void *obj)
{
	struct kmem_cache *owner;

	if (unlikely(!obj))
		return;
	kmem_init();
	if (unlikely(!kmem_addr_in_heap(obj))) {
		kmem_report_error("kmem_cache_free(%s): %p: pointer was never "
				  "allocated by kmem", s ? s->name : "(null)",
				  obj);
		return;
	}
	owner = virt_to_cache_checked(obj, "kmem_cache_free");
	if (unlikely(!owner))
		return;
	if (unlikely(owner != s)) {
		kmem_report_error("kmem_cache_free(%s): %p: object belongs to "
				  "cache %s, not %s", s ? s->name : "(null)",
				  obj, owner->name, s ? s->name : "(null)");
		return;
	}
	__kmem_cache_free_track(s, obj, _RET_IP_);
	purge_maybe_start();
}

KMEM_EXPORT size_t kmem_cache_size(struct kmem_cache *s)
{
	return s ? s->object_size : 0;
}

KMEM_EXPORT const char *kmem_cache_name(struct kmem_cache *s)
{
	return s ? s->name : NULL;
}

/* ---- /proc/slabinfo ---- */

KMEM_EXPORT void kmem_slabinfo(FILE *out)
{
	struct kmem_cache *s;

	kmem_init();
	fprintf(out, "slabinfo - version: 2.1\n");
	fprintf(out, "# name            <active_objs> <num_objs> <objsize> "
		"<objperslab> <pagesperslab> : tunables <limit> <batchcount> "
		"<sharedfactor> : slabdata <active_slabs> <num_slabs> "
		"<sharedavail>\n");
	/* Counts are taken under each cache's lock; stdio (which may call
	 * malloc, i.e. kmem) runs with no kmem lock held.  The read-side
	 * section only keeps s alive until we move past it. */
	rcu_read_lock();
	cds_list_for_each_entry_rcu(s, &slab_caches, list) {
		struct slab_cache_stats st;

		kmem_cache_get_stats(s, &st);
		fprintf(out, "%-17s %6lu %6lu %6u %4u %4u : tunables %4u %4u "
			"%4u : slabdata %6lu %6lu %6u\n", s->name,
			st.active_objs, st.num_objs, s->size, s->objects,
			1U << s->order, 0U, 0U, 0U, st.active_slabs,
			st.num_slabs, 0U);
	}
	rcu_read_unlock();
	fflush(out);
}

/* ---- init and fork ---- */

int slab_init(void)
{
	int err;

	slab_secrets.freeptr = (uintptr_t)os_random_u64();
	slab_secrets.tag = (uintptr_t)os_random_u64() | 1;
	debug_init();
	err = kmem_cache_open(&kmem_cache_boot, "kmem_cache",
			      sizeof(struct kmem_cache), CACHE_LINE_SIZE,
			      SLAB_HWCACHE_ALIGN, NULL, false);
	if (err)
		return err;
	cds_list_add_tail_rcu(&kmem_cache_boot.list, &slab_caches);
	return 0;
}

void slab_fork_prepare(void)
{
	struct kmem_cache *s;

	kmem_fork_lock(&slab_mutex);
	cds_list_for_each_entry(s, &slab_caches, list)
		kmem_fork_lock(&s->lock);
}

void slab_fork_release(void)
{
	struct kmem_cache *s;

	cds_list_for_each_entry(s, &slab_caches, list)
		kmem_fork_unlock(&s->lock);
	kmem_fork_unlock(&slab_mutex);
}
