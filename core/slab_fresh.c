/* SPDX-License-Identifier: MIT */
/*
 * core/slab_fresh.c - a new slab's objects: the random order of groups of
 * neighbours they are handed out in (KMEM_SHUFFLE), and fresh objects,
 * which a new slab leaves unwritten until they are taken.
 *
 * Layer: the slab layer's other half (slab_internal.h).  slab.c allocates
 * a slab's pages, marks its struct pages and owns its lists; new_slab
 * sets the objects up with setup_slab_objects (inline in slab_internal.h,
 * with the seed and the choice of lazy or eager), take_objects takes fresh
 * ones with take_fresh.  Owns the shuffle's per-thread seed counter and
 * the fresh_* fields of a slab's first tail page (page.h).
 *
 * A new slab hands its objects out in a random order of groups of
 * neighbours (build_freelist).  The constructor runs once per object when
 * the slab is made.
 *
 * Fresh objects: a new slab of more than one page in a cache with no
 * constructor and no debug flags writes nothing into its objects.  Its
 * first tail page records the shuffle's seed and how far it has been
 * handed out (fresh_*), and take_objects takes from there once the free
 * list is empty, writing each object's free tag as it goes: a page of the
 * slab becomes resident when one of its objects is first used, not when
 * the slab is made (mimalloc's pages are built as lazily).  The order is
 * the same random order of groups an eager slab's free list has.
 *
 * Locks: none of its own.  A new slab's objects are set up with no lock
 * held (no other thread sees the slab yet); take_fresh runs under the
 * cache's s->lock.
 */
#include "slab_internal.h"

#include "options.h"

/* slab_internal.h */
__thread uint64_t slab_seed_ctr __attribute__((tls_model("initial-exec")));

unsigned int slab_shuffle_group(const struct kmem_cache *s)
{
	size_t shuffle = (size_t)kmem_opt(OPT_SHUFFLE);

	return shuffle == 0 ? 0 :
		(unsigned int)MAX(1, MIN(shuffle / s->size, s->objects));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* perm[0..ng): the order of a slab's ng groups drawn from seed (a
 * Fisher-Yates shuffle; address order without shuffle groups). */
static void slab_group_order(const struct kmem_cache *s, uint64_t seed,
			     unsigned int ng, uint16_t *perm)
{
	for (unsigned int k = 0; k < ng; k++)
		perm[k] = (uint16_t)k;
	if (!s->shuffle_group)
		return;
	for (unsigned int k = ng - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(((splitmix64(&seed) & 0xffffffffULL) *
					 (k + 1)) >> 32);
		uint16_t t = perm[k];

		perm[k] = perm[j];
		perm[j] = t;
	}
}

/*
 * Where a slab's sequence of objects starts: its objects are taken as if
 * numbered from a random one, object (i + rot) mod n for number i, so that
 * the groups are runs of neighbours that start anywhere in the slab (and
 * one of them wraps from the slab's end to its start).  Even a slab that
 * is one group (a page of small objects at the default KMEM_SHUFFLE) hides
 * where its first object lies.  Drawn from the seed as the group order is;
 * 0 without shuffle groups (address order).
 */
static unsigned int slab_rotation(const struct kmem_cache *s, uint64_t seed,
				  unsigned int n)
{
	uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;	/* not the order's draw */

	if (!s->shuffle_group)
		return 0;
	return (unsigned int)(((splitmix64(&x) & 0xffffffffULL) * n) >> 32);
}

/* Object number i of a slab of n whose sequence starts at rot. */
static inline unsigned int slab_rotated(unsigned int i, unsigned int rot,
					unsigned int n)
{
	i += rot;
	return i >= n ? i - n : i;
}

/*
 * Link a new slab's n objects into its free list and return the first.
 * Objects go in groups of s->shuffle_group neighbours (about
 * KMEM_SHUFFLE bytes), the groups in a random order drawn from the
 * per-process secret, the slab's address and a counter: consecutive
 * allocations stay next to each other within a group (what hardware
 * prefetchers and the program's own sequential reads need), while which
 * group comes next, and so where in the slab an allocation lands, is not
 * predictable without the secret.  shuffle_group 0: address order.
 */
void *build_freelist(struct kmem_cache *s, void *base, unsigned int n,
		     uint64_t seed)
{
	uint16_t perm[SLAB_MAX_OBJECTS];
	unsigned int g = slab_group_size(s, n);
	unsigned int ng = (n + g - 1) / g, k, i;
	unsigned int rot = slab_rotation(s, seed, n);
	void *prev = NULL, *first = NULL;

	slab_group_order(s, seed, ng, perm);
	for (k = 0; k < ng; k++) {
		unsigned int end = MIN((perm[k] + 1) * g, n);

		for (i = perm[k] * g; i < end; i++) {
			void *obj = slab_obj(s, base, slab_rotated(i, rot, n));

			if (prev)
				set_freepointer(s, prev, obj);
			else
				first = obj;
			prev = obj;
		}
	}
	set_freepointer(s, prev, NULL);
	return first;
}

/* A slab's fresh objects, where its shuffle has got to (slab_internal.h). */
unsigned int slab_fresh_left(const struct kmem_cache *s, struct page *page)
{
	uint16_t perm[SLAB_MAX_OBJECTS];
	struct page *t = page + 1;
	unsigned int n = page->objects, g = slab_group_size(s, n), left = 0;

	if (!slab_has_fresh(s, page))
		return 0;
	slab_group_order(s, t->fresh_seed, t->fresh_groups, perm);
	for (unsigned int k = t->fresh_next; k < t->fresh_groups; k++)
		left += MIN(g, n - perm[k] * g) -
			(k == t->fresh_next ? t->fresh_off : 0u);
	return left;
}

size_t take_fresh(struct kmem_cache *s, struct page *page, size_t nr,
		  void **objs)
{
	uint16_t perm[SLAB_MAX_OBJECTS];
	struct page *t = page + 1;
	unsigned int n = page->objects, g = slab_group_size(s, n);
	unsigned int rot = slab_rotation(s, t->fresh_seed, n);
	char *base = page_address(page);
	size_t got = 0;

	slab_group_order(s, t->fresh_seed, t->fresh_groups, perm);
	while (got < nr && t->fresh_next < t->fresh_groups) {
		unsigned int first = perm[t->fresh_next] * g;
		unsigned int cnt = MIN(g, n - first);

		while (got < nr && t->fresh_off < cnt) {
			void *obj = slab_obj(s, base,
					     slab_rotated(first + t->fresh_off++,
							  rot, n));

			if (s->flags & SLAB_FREE_TAG)
				*(uintptr_t *)obj = slab_free_tag(obj);
			objs[got++] = obj;
		}
		if (t->fresh_off == cnt) {
			t->fresh_next++;
			t->fresh_off = 0;
		}
	}
	return got;
}
