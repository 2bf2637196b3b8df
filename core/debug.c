/* SPDX-License-Identifier: MIT */
/*
 * core/debug.c - poison, red zones and free checks of debug caches.
 *
 * Layer: beside slab.c, which calls it through the hooks of debug.h; it
 * calls only printk (reports) and options (KMEM_DEBUG).  It owns the byte
 * layout of debug objects and the checks on it (debug.h says which).
 * It takes no lock: the free hook runs under the cache lock, taken by
 * slab.c; the others touch only the object they are given.
 *
 * KMEM_DEBUG, as the kernel's slub_debug: "FZPU" letters, optionally
 * followed by ",name,name..." to give them to those caches (any cache);
 * without a list they go to the kmalloc caches (malloc's).  An empty
 * letter list (or "1") means all of F, Z and P.  F = consistency checks,
 * Z = red zones, P = poison, U = store user (accepted; recording call
 * sites is left to the debug issue).
 */
#include "debug.h"

#include <string.h>

#include "options.h"

#define RIGHT_RED_MIN 8		/* bytes of right red zone at least */
#define DUMP_MAX 64		/* bytes of an object dumped in a report */

void debug_calculate_layout(struct kmem_cache *s, bool *fp_outside)
{
	unsigned int inuse = ALIGN_UP(s->object_size, 8u);

	s->red_left_pad = 0;
	if (s->flags & SLAB_RED_ZONE) {
		s->red_left_pad = ALIGN_UP(8u, s->align);
		inuse = ALIGN_UP(s->object_size, 8u) + RIGHT_RED_MIN;
	}
	s->inuse = inuse;
	/* The body must stay intact while free (poison, red zone checks,
	 * constructed state): then the free pointer goes after it. */
	*fp_outside = s->ctor || (s->flags & SLAB_DEBUG_FLAGS);
}

static bool name_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == n && !memcmp(list, name, n))
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

slab_flags_t debug_flags_for(const char *name, bool kmalloc_cache)
{
	const char *opt = kmem_opt_str(OPT_DEBUG);
	slab_flags_t f = 0;
	const char *p;

	if (!opt || !*opt || !strcmp(opt, "0"))
		return 0;
	for (p = opt; *p && *p != ','; p++) {
		switch (*p) {
		case 'F': case 'f': f |= SLAB_CONSISTENCY_CHECKS; break;
		case 'Z': case 'z': f |= SLAB_RED_ZONE; break;
		case 'P': case 'p': f |= SLAB_POISON; break;
		case 'U': case 'u': f |= SLAB_STORE_USER; break;
		default: break;
		}
	}
	if (!f)
		f = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON;
	if (*p == ',')
		return name_in_list(p + 1, name) ? f : 0;
	return kmalloc_cache ? f : 0;
}

static bool poisoned(const struct kmem_cache *s)
{
	return (s->flags & SLAB_POISON) && !s->ctor;
}

static void set_red_zones(struct kmem_cache *s, void *obj, int val)
{
	if (!(s->flags & SLAB_RED_ZONE))
		return;
	memset((char *)obj - s->red_left_pad, val, s->red_left_pad);
	memset((char *)obj + s->object_size, val, s->inuse - s->object_size);
}

static void poison_object(struct kmem_cache *s, void *obj)
{
	if (!poisoned(s))
		return;
	memset(obj, POISON_FREE, s->object_size - 1);
	((unsigned char *)obj)[s->object_size - 1] = POISON_END;
}

/* First byte of [p, p+len) that is not val, or NULL. */
static const unsigned char *check_bytes(const void *p, int val, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i] != (unsigned char)val)
			return c + i;
	return NULL;
}

static __cold void report_object(struct kmem_cache *s, void *obj,
				 const void *bad, const char *what)
{
	const char *start = (const char *)obj - s->red_left_pad;
	size_t len = s->red_left_pad + s->inuse;

	kmem_pr_err("BUG %s: %s at %p (object %p, offset %ld)", s->name, what,
		    bad, obj, (long)((const char *)bad - (const char *)obj));
	if (len > DUMP_MAX) {
		const char *b = (const char *)bad - DUMP_MAX / 2;

		start = b > start ? b : start;
		len = DUMP_MAX;
	}
	kmem_hexdump(2, "object", start, len);
	kmem_report_error("cache %s: object %p: %s", s->name, obj, what);
}

/* Red zones must hold `val`; report what is wrong and return false. */
static bool check_red_zones(struct kmem_cache *s, void *obj, int val,
			    const char *when)
{
	const unsigned char *bad;
	char what[96];

	if (!(s->flags & SLAB_RED_ZONE))
		return true;
	bad = check_bytes((char *)obj - s->red_left_pad, val, s->red_left_pad);
	if (!bad)
		bad = check_bytes((char *)obj + s->object_size, val,
				  s->inuse - s->object_size);
	if (!bad)
		return true;
	if (val == SLUB_RED_ACTIVE && *bad == SLUB_RED_INACTIVE &&
	    !check_bytes((char *)obj + s->object_size, SLUB_RED_INACTIVE,
			 s->inuse - s->object_size)) {
		report_object(s, obj, obj, "double free (object is already free)");
		return false;
	}
	kmem_snprintf(what, sizeof(what), "%s red zone overwritten %s",
		      (char *)bad < (char *)obj ? "left" : "right", when);
	report_object(s, obj, bad, what);
	return false;
}

void __debug_init_object(struct kmem_cache *s, void *obj)
{
	set_red_zones(s, obj, SLUB_RED_INACTIVE);
	poison_object(s, obj);
}

void __debug_alloc_hook(struct kmem_cache *s, void *obj)
{
	if (poisoned(s)) {
		const unsigned char *bad =
			check_bytes(obj, POISON_FREE, s->object_size - 1);

		if (!bad && ((unsigned char *)obj)[s->object_size - 1] !=
				    POISON_END)
			bad = (unsigned char *)obj + s->object_size - 1;
		if (bad)
			report_object(s, obj, bad,
				      "poison overwritten (write after free)");
	}
	check_red_zones(s, obj, SLUB_RED_INACTIVE, "while free");
	set_red_zones(s, obj, SLUB_RED_ACTIVE);
}

bool __debug_free_hook(struct kmem_cache *s, struct page *slab, void *obj)
{
	if (!check_red_zones(s, obj, SLUB_RED_ACTIVE, "(buffer overflow)"))
		return false;
	/* On the slab's free list already?  A walk: debug caches only. */
	if (s->flags & (SLAB_CONSISTENCY_CHECKS | SLAB_POISON)) {
		uintptr_t base = (uintptr_t)page_address(slab);
		unsigned int n = 0;

		for (void *p = slab->freelist; p && n <= slab->objects &&
		     (uintptr_t)p - base < (PAGE_SIZE << s->order);
		     p = get_freepointer(s, p), n++) {
			if (p == obj) {
				report_object(s, obj, obj,
					      "double free (object is on the free list)");
				return false;
			}
		}
	}
	set_red_zones(s, obj, SLUB_RED_INACTIVE);
	poison_object(s, obj);
	return true;
}
