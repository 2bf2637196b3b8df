/* SPDX-License-Identifier: MIT */
/*
 * core/debug_walk.c - walks over a debug cache's slabs: kmem_cache_validate
 * (every object's red zones and poison, every slab's free list) and the
 * leak report at exit (live objects grouped by allocation site), and the
 * exit hook that runs them (KMEM_VALIDATE, KMEM_LEAK_REPORT).
 *
 * Layer: beside debug.c, whose object layout and patterns it reads
 * (debug_object.h) and whose reports it uses; calls slab.c (the list of
 * caches, the free pointers) and printk.  Each walk holds one cache's lock
 * at a time; the hooks of kmalloc's debug classes run outside it, so an
 * object is counted free or live by its state word and skipped while a
 * hook rewrites it (walk_state).
 */
#include "debug_object.h"

#include "options.h"
#include "sitestack.h"

#define LEAK_SITES 1024		/* distinct call sites the leak report
				 * tells apart (a power of two) */
_Static_assert((LEAK_SITES & (LEAK_SITES - 1)) == 0, "hash table size");

/* ---- validation ---- */

/* The state of obj for a walk that holds the cache lock: free (on its
 * slab's free list, or in a per-CPU cache with its state word saying so),
 * live, or changing (BUSY_MARK: skip it). */
enum obj_state { OBJ_LIVE, OBJ_FREE, OBJ_CHANGING };

static enum obj_state walk_state(const struct kmem_cache *s, const void *obj,
				 bool on_list, size_t *word)
{
	*word = 0;
	if (on_list)
		return OBJ_FREE;
	if (!(s->flags & SLAB_KMALLOC_SIZE))
		return OBJ_LIVE;
	*word = atomic_load_explicit(state_word(s, obj), memory_order_acquire);
	barrier();
	return *word == FREE_MARK ? OBJ_FREE
	       : *word == BUSY_MARK ? OBJ_CHANGING : OBJ_LIVE;
}

/* The checks of one object of a slab being validated; the problems found.
 * The patterns are read first without a report, and an object whose
 * state word changed meanwhile (a hook ran on it) is skipped. */
static unsigned int validate_object(struct kmem_cache *s, void *obj,
				    bool on_list)
{
	size_t word;
	enum obj_state st = walk_state(s, obj, on_list, &word);
	bool ok;

	if (st == OBJ_CHANGING)
		return 0;
	if (st == OBJ_FREE)
		ok = free_object_ok(s, obj);
	else
		ok = !(s->flags & SLAB_RED_ZONE) || live_red_zones_ok(s, obj);
	if (ok)
		return 0;
	barrier();
	if ((s->flags & SLAB_KMALLOC_SIZE) && !on_list &&
	    atomic_load_explicit(state_word(s, obj), memory_order_acquire) !=
		    word)
		return 0;
	return st == OBJ_FREE
		       ? debug_check_free_object(s, obj, "kmem_cache_validate", 0)
		       : debug_check_live_object(s, obj, "kmem_cache_validate", 0);
}

/* Free objects of slab as a bitmap; reports a broken free list.  s->lock
 * held.  Returns the problems found. */
static unsigned int slab_free_map(struct kmem_cache *s, struct page *slab,
				  uint64_t *map)
{
	char *base = page_address(slab);
	unsigned int n = 0, bad = 0;
	void *p = slab->freelist;

	memset(map, 0, SLAB_MAX_OBJECTS / 8);
	while (p) {
		uintptr_t off = (uintptr_t)p - (uintptr_t)base - s->red_left_pad;
		unsigned int i = (unsigned int)(off / s->size);
		void *next;

		if ((uintptr_t)p < (uintptr_t)base + s->red_left_pad ||
		    off % s->size || i >= slab->objects ||
		    (map[i / 64] >> (i % 64)) & 1) {
			kmem_probe(report, "validate", s->name, (void *)base);
			kmem_pr_err("ERROR: cache %s: free list of slab %p "
				    "corrupted at %p (%s)", s->name,
				    (void *)base, p,
				    i < slab->objects && !(off % s->size)
					    ? "a cycle" : "not an object");
			debug_report_end();
			return bad + 1;
		}
		map[i / 64] |= 1ULL << (i % 64);
		n++;
		vg_open((char *)p + s->offset, sizeof(void *));
		next = get_freepointer(s, p);
		vg_close((char *)p + s->offset, sizeof(void *));
		p = next;
	}
	/* A lazily built slab's fresh objects are free but on no list. */
	n += slab_fresh_left(s, slab);
	if (n != slab->objects - slab->inuse) {
		kmem_probe(report, "validate", s->name, (void *)base);
		kmem_pr_err("ERROR: cache %s: slab %p has %u free objects on "
			    "its list and fresh, but counts %u of %u in use",
			    s->name,
			    (void *)base, n, slab->inuse, slab->objects);
		debug_report_end();
		bad++;
	}
	return bad;
}

static unsigned int validate_slab(struct kmem_cache *s, struct page *slab)
{
	uint64_t map[SLAB_MAX_OBJECTS / 64];
	char *base = page_address(slab);
	unsigned int bad = slab_free_map(s, slab, map);

	if (!cache_debug(s))
		return bad;
	for (unsigned int i = 0; i < slab->objects; i++) {
		void *obj = base + s->red_left_pad + (size_t)i * s->size;

		vg_open_object(s, obj);
		bad += validate_object(s, obj, (map[i / 64] >> (i % 64)) & 1);
		vg_close_object(s, obj);
	}
	return bad;
}

KMEM_EXPORT int kmem_cache_validate(struct kmem_cache *s)
{
	struct list_head *lists[3];
	unsigned int bad = 0;
	struct page *slab;

	if (!s)
		return 0;
	kmem_init();
	lists[0] = &s->partial;
	lists[1] = &s->full;
	lists[2] = &s->free;
	kmem_lock(&s->lock);
	for (int l = 0; l < 3; l++)
		list_for_each_entry(slab, lists[l], slab_list)
			bad += validate_slab(s, slab);
	kmem_unlock(&s->lock);
	return (int)bad;
}

/* ---- leak report ---- */

struct leak_site {
	unsigned long addr;	/* allocation call site; 0: empty slot */
	unsigned long objects;	/* live objects allocated there */
	unsigned long bytes;	/* their requested bytes */
};

struct leak_walk {
	struct leak_site *sites;	/* hash table of LEAK_SITES */
	unsigned long objects, bytes;	/* totals */
	unsigned long lost_sites;	/* objects whose site did not fit */
};

static void leak_add(struct leak_walk *w, unsigned long addr, size_t bytes)
{
	unsigned int h = (unsigned int)((addr * 0x9e3779b97f4a7c15ULL) >> 54);

	w->objects++;
	w->bytes += bytes;
	for (unsigned int i = 0; i < LEAK_SITES; i++) {
		struct leak_site *e = &w->sites[(h + i) & (LEAK_SITES - 1)];

		if (e->addr == addr || !e->addr) {
			e->addr = addr;
			e->objects++;
			e->bytes += bytes;
			return;
		}
	}
	w->lost_sites++;
}

static void leak_cache(struct kmem_cache *s, void *arg)
{
	struct leak_walk *w = arg;
	struct list_head *lists[2] = { &s->partial, &s->full };
	uint64_t map[SLAB_MAX_OBJECTS / 64];
	struct page *slab;

	if (!(s->flags & SLAB_STORE_USER))
		return;
	kmem_lock(&s->lock);
	for (int l = 0; l < 2; l++) {
		list_for_each_entry(slab, lists[l], slab_list) {
			char *base = page_address(slab);

			if (slab_free_map(s, slab, map))
				continue;
			for (unsigned int i = 0; i < slab->objects; i++) {
				void *obj = base + s->red_left_pad +
					    (size_t)i * s->size;

				size_t word;

				vg_open_object(s, obj);
				if (walk_state(s, obj, (map[i / 64] >>
							(i % 64)) & 1,
					       &word) == OBJ_LIVE)
					leak_add(w, get_track(s, obj,
							      TRACK_ALLOC)->addr,
						 object_orig_size(s, obj));
				vg_close_object(s, obj);
			}
		}
	}
	kmem_unlock(&s->lock);
}

unsigned long debug_leak_report(int fd, unsigned int max_lines)
{
	static struct leak_site sites[LEAK_SITES];
	static kmem_lock_t leak_lock __fork_lock = KMEM_LOCK_INIT;
	struct leak_walk w = { sites, 0, 0, 0 };
	unsigned int nsites = 0;
	char sym[256];

	kmem_lock(&leak_lock);
	memset(sites, 0, sizeof(sites));
	slab_for_each_cache(leak_cache, &w);
	for (unsigned int i = 0; i < LEAK_SITES; i++)
		nsites += sites[i].addr != 0;
	kmem_dprintf(fd, "kmem: leak report: %lu objects, %lu bytes still "
		     "allocated at exit, from %u call sites\n", w.objects,
		     w.bytes, nsites);
	/* Largest first: a selection of max_lines. */
	for (unsigned int line = 0; line < max_lines; line++) {
		struct leak_site *best = NULL;

		for (unsigned int i = 0; i < LEAK_SITES; i++)
			if (sites[i].objects &&
			    (!best || sites[i].bytes > best->bytes))
				best = &sites[i];
		if (!best)
			break;
		debug_symbolize(sym, sizeof(sym), best->addr);
		kmem_dprintf(fd, "kmem:   %lu objects, %lu bytes allocated at "
			     "%s\n", best->objects, best->bytes, sym);
		site_stack_print(fd, "kmem:     ", best->addr);
		best->objects = 0;
		nsites--;
	}
	if (nsites)
		kmem_dprintf(fd, "kmem:   ... and %u more call sites\n", nsites);
	if (w.lost_sites)
		kmem_dprintf(fd, "kmem:   (%lu objects from call sites beyond "
			     "the first %u)\n", w.lost_sites, LEAK_SITES);
	kmem_unlock(&leak_lock);
	return w.objects;
}

/* ---- at exit ---- */

struct validate_walk {
	unsigned int caches;	/* caches checked */
	unsigned int problems;	/* problems found */
};

static void validate_one(struct kmem_cache *s, void *arg)
{
	struct validate_walk *w = arg;

	w->caches++;
	w->problems += (unsigned int)kmem_cache_validate(s);
}

void kmem_debug_exit(void)
{
	static _Atomic int done __read_mostly;

	if (atomic_load_explicit(&kmem_init_state, memory_order_acquire) !=
	    KMEM_UP || atomic_exchange(&done, 1))
		return;
	if (!kmem_opt(OPT_VALIDATE_AT_EXIT) && !kmem_opt(OPT_LEAK_REPORT))
		return;
	debug_quarantine_drain();
	if (kmem_opt(OPT_VALIDATE_AT_EXIT)) {
		struct validate_walk w = { 0, 0 };

		slab_for_each_cache(validate_one, &w);
		kmem_pr_err("validate: %u caches checked, %u problems found",
			    w.caches, w.problems);
	}
	if (kmem_opt(OPT_LEAK_REPORT))
		debug_leak_report(2, 20);
}

/* Runs after the program's own destructors and atexit handlers (a
 * library's destructors run after the executable's). */
__attribute__((destructor)) static void debug_destructor(void)
{
	kmem_debug_exit();
}
