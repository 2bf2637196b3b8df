/* SPDX-License-Identifier: MIT */
/*
 * core/debug_object.h - the byte layout of a debug object and its
 * patterns: the private contract of debug.c, which writes and checks them
 * at every allocation and free, with debug_walk.c, which checks whole
 * slabs (kmem_cache_validate) and reads the call-site records (the leak
 * report).  debug.h has the picture of the layout; everything here is
 * inline, for the hooks.
 */
#ifndef KMEM_DEBUG_OBJECT_H
#define KMEM_DEBUG_OBJECT_H

#include <string.h>

#include "debug.h"

#define FREE_MARK (~(size_t)0)	/* orig_size of a free object */
#define BUSY_MARK (FREE_MARK - 1) /* ... of one changing state (debug.c) */

/* ---- layout ---- */

/*
 * obj's meta: entry i of the array after its slab's objects (slab.c's
 * calculate_sizes).  A slab is a buddy block, aligned to its size, so
 * its start is obj rounded down; i is obj_to_index's multiply.
 */
static inline char *object_meta(const struct kmem_cache *s, const void *obj)
{
	uintptr_t base = (uintptr_t)obj & ~(uintptr_t)((PAGE_SIZE << s->order) - 1);
	unsigned int i = obj_to_index(s, (uintptr_t)obj - base - s->red_left_pad);

	return (char *)base + s->meta_start + (size_t)i * s->meta_size;
}

static inline struct track *get_track(const struct kmem_cache *s,
				      const void *obj, enum track_item item)
{
	return (struct track *)object_meta(s, obj) + item;
}

static inline size_t *orig_size_ptr(const struct kmem_cache *s,
				    const void *obj)
{
	unsigned int off = 0;

	if (s->orig_offset)
		return (size_t *)((char *)obj + s->orig_offset);
	if (s->flags & SLAB_STORE_USER)
		off += 2 * sizeof(struct track);
	return (size_t *)(object_meta(s, obj) + off);
}

/* The whole stride of obj: red zones, object, free pointer. */
static inline char *stride_start(const struct kmem_cache *s, const void *obj)
{
	return (char *)obj - s->red_left_pad;
}

/* Under valgrind: make obj's stride and meta accessible to kmem's own
 * reads and writes, and inaccessible again. */
static inline void vg_open_object(const struct kmem_cache *s, const void *obj)
{
	vg_open(stride_start(s, obj), s->size);
	if (s->meta_size)
		vg_open(object_meta(s, obj), s->meta_size);
}

static inline void vg_close_object(const struct kmem_cache *s, const void *obj)
{
	vg_close(stride_start(s, obj), s->size);
	if (s->meta_size)
		vg_close(object_meta(s, obj), s->meta_size);
}

/*
 * Bytes of the left red zone, from stride_start, that read the free
 * pattern while the object is free: all of them, less the free pointer's
 * 8 when it sits at the zone's end (offset < 0, slab.c's calculate_sizes).
 * While the object is allocated the whole zone reads the live pattern.
 */
static inline unsigned int red_left_free_len(const struct kmem_cache *s)
{
	return s->offset < 0 ? s->red_left_pad - (unsigned int)sizeof(void *)
			     : s->red_left_pad;
}


/* ---- patterns ---- */

static inline bool poisoned(const struct kmem_cache *s)
{
	return (s->flags & SLAB_POISON) && !s->ctor;
}

static __always_inline uint64_t load_word(const void *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static __always_inline void store_word(void *p, uint64_t w)
{
	memcpy(p, &w, 8);
}

/*
 * Whether [p, p+len) is all val, len >= 8, and filling it: unaligned
 * words, from both ends inwards so that they overlap where len is not a
 * multiple of 8, with no branch between the words of a check (the bytes
 * are read whole where they are right, the common case).  Inline and
 * straight-line up to 32 bytes: red zones are 8 to 40 bytes, and a call
 * to a byte-exact loop for each of the six checks of an allocation and a
 * free cost more than the checks (CPython under KMEM_DEBUG=FZPU: 12%).
 * check_bytes finds the first wrong byte afterwards.
 */
static __always_inline bool bytes_are(const void *p, int val, size_t len)
{
	const uint64_t pat = 0x0101010101010101ULL * (unsigned char)val;
	const char *c = p, *e = c + len;
	uint64_t diff = (load_word(c) ^ pat) | (load_word(e - 8) ^ pat);

	if (len > 16) {
		diff |= (load_word(c + 8) ^ pat) | (load_word(e - 16) ^ pat);
		for (size_t i = 16; i + 16 < len; i += 16)
			diff |= (load_word(c + i) ^ pat) |
				(load_word(c + i + 8) ^ pat);
	}
	return diff == 0;
}

static __always_inline void fill_bytes(void *p, int val, size_t len)
{
	const uint64_t pat = 0x0101010101010101ULL * (unsigned char)val;
	char *c = p, *e = c + len;

	store_word(c, pat);
	store_word(e - 8, pat);
	if (len <= 16)
		return;
	if (len > 64) {
		memset(p, val, len);
		return;
	}
	store_word(c + 8, pat);
	store_word(e - 16, pat);
	for (size_t i = 16; i + 16 < len; i += 16) {
		store_word(c + i, pat);
		store_word(c + i + 8, pat);
	}
}

/* First byte of [p, p+len) that is not val, or NULL; eight at a time. */
static inline const unsigned char *check_bytes(const void *p, int val,
					       size_t len)
{
	const uint64_t pat = 0x0101010101010101ULL * (unsigned char)val;
	const unsigned char *c = p;
	size_t i = 0;

	for (; i < len && ((uintptr_t)(c + i) & 7); i++)
		if (c[i] != (unsigned char)val)
			return c + i;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, c + i, 8);
		if (w != pat)
			break;
	}
	for (; i < len; i++)
		if (c[i] != (unsigned char)val)
			return c + i;
	return NULL;
}

static inline size_t object_orig_size(const struct kmem_cache *s,
				      const void *obj)
{
	if (s->flags & SLAB_KMALLOC_SIZE) {
		size_t n = *orig_size_ptr(s, obj);

		if (n <= s->object_size)
			return n;
	}
	return s->object_size;
}

/*
 * [p, p+len) must read val: report the damage as `kind` and restore the
 * pattern.  Returns true if the bytes were intact.
 */
/* Whether [p, p+len) is all val, for any len. */
static __always_inline bool region_ok(const void *p, int val, size_t len)
{
	return len >= 8 ? bytes_are(p, val, len) : !check_bytes(p, val, len);
}

/*
 * The state word (SLAB_KMALLOC_SIZE: the requested size of a live object,
 * FREE_MARK of a free one) reads BUSY_MARK while a hook rewrites the
 * object's patterns and records, so that a validation or leak report,
 * which no longer holds every hook off with the cache lock (kmalloc's
 * debug classes run the hooks outside it, in front of their per-CPU
 * caches), skips the object instead of reporting half-written red zones.
 * x86-64's stores become visible in program order: a compiler barrier
 * keeps BUSY_MARK ahead of the writes and the final state behind them.
 */
static __always_inline _Atomic size_t *state_word(const struct kmem_cache *s,
						  const void *obj)
{
	return (_Atomic size_t *)orig_size_ptr(s, obj);
}

/* Whether a live object's red zones are intact (the common case of a
 * free: checked once, where telling a double free from an overflow
 * needs the patterns of both states). */
static __always_inline bool live_red_zones_ok(struct kmem_cache *s, void *obj)
{
	size_t orig = object_orig_size(s, obj);

	return bytes_are(stride_start(s, obj), SLUB_RED_ACTIVE,
			 s->red_left_pad) &&
	       bytes_are((char *)obj + orig, SLUB_RED_ACTIVE, s->inuse - orig);
}

/* Whether a free object's red zones read the free pattern on both sides
 * (on a free: it was freed before), and whether its poison is intact
 * too: the checks of check_free_object, without a report. */
static __always_inline bool free_red_zones_ok(struct kmem_cache *s,
					      void *obj)
{
	return bytes_are(stride_start(s, obj), SLUB_RED_INACTIVE,
			 red_left_free_len(s)) &&
	       bytes_are((char *)obj + s->object_size, SLUB_RED_INACTIVE,
			 s->inuse - s->object_size);
}

static inline bool free_object_ok(struct kmem_cache *s, void *obj)
{
	return (!poisoned(s) ||
		(region_ok(obj, POISON_FREE, s->object_size - 1) &&
		 ((unsigned char *)obj)[s->object_size - 1] == POISON_END)) &&
	       (!(s->flags & SLAB_RED_ZONE) || free_red_zones_ok(s, obj));
}

/* ---- reports, in debug.c ---- */

/* The checks of a free object (poison, free red zones) and of a live one
 * (active red zones), each problem reported; the problems found.
 * found_by: what found them; caller: the API call's return address, 0
 * for a walk. */
unsigned int debug_check_free_object(struct kmem_cache *s, void *obj,
				     const char *found_by,
				     unsigned long caller) __hidden;
unsigned int debug_check_live_object(struct kmem_cache *s, void *obj,
				     const char *found_by,
				     unsigned long caller) __hidden;
/* After a report: abort, or (KMEM_ABORT=0) return. */
void debug_report_end(void) __hidden;
/* "function+0x12 (object)" for a code address. */
void debug_symbolize(char *buf, size_t len, unsigned long addr) __hidden;

#endif /* KMEM_DEBUG_OBJECT_H */
