/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_slab.c - the slab layer (core/slab.c, core/debug.c),
 * linked with the core alone; glibc's malloc stays the process malloc.
 *
 * Death tests run the bad call in a grandchild whose stderr goes to a
 * pipe (expect_report), so they check both the SIGABRT and the words of
 * the report.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "options.h"
#include "slab.h"

/* ---- helpers ---- */

/* For hot loops: Check's ck_assert writes to a pipe on every call. */
#define CHECK(cond, ...)                              \
	do {                                          \
		if (!(cond))                          \
			ck_abort_msg(__VA_ARGS__);    \
	} while (0)

/*
 * Run fn(arg) in a child with fd 2 on a pipe; return its wait status and
 * what it wrote to stderr in buf.
 */
static int run_capture(void (*fn)(void *), void *arg, char *buf, size_t len)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

/* fn must abort, and its report must contain every one of words. */
static void expect_abort(void (*fn)(void *), void *arg, const char *w1,
			 const char *w2, const char *w3)
{
	char buf[8192];
	int st = run_capture(fn, arg, buf, sizeof(buf));

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		      "no abort (status %#x); stderr: %s", st, buf);
	ck_assert_msg(!w1 || strstr(buf, w1), "'%s' missing in: %s", w1, buf);
	ck_assert_msg(!w2 || strstr(buf, w2), "'%s' missing in: %s", w2, buf);
	ck_assert_msg(!w3 || strstr(buf, w3), "'%s' missing in: %s", w3, buf);
}

static uint64_t rng_state = 0x12345678abcdefULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* ---- constructor ---- */

#define CTOR_MAGIC 0xc0ffee11u
static unsigned int ctor_calls;

struct ctor_obj {
	uint32_t magic;
	uint32_t state;
	char payload[32];
};

static void test_ctor(void *p)
{
	struct ctor_obj *o = p;

	ctor_calls++;
	o->magic = CTOR_MAGIC;
	o->state = 7;
	memset(o->payload, 'c', sizeof(o->payload));
}

START_TEST(ctor_runs_once_per_object_at_slab_creation)
{
	struct kmem_cache *s = kmem_cache_create("ctor_test",
						 sizeof(struct ctor_obj), 0, 0,
						 test_ctor);
	struct ctor_obj *objs[2048];
	unsigned int per_slab, n;

	ck_assert_ptr_nonnull(s);
	per_slab = s->objects;
	ck_assert_uint_gt(per_slab, 1);
	ctor_calls = 0;
	objs[0] = kmem_cache_alloc(s, 0);
	ck_assert_ptr_nonnull(objs[0]);
	/* The whole slab was constructed at once, not one object. */
	ck_assert_uint_eq(ctor_calls, per_slab);
	n = per_slab * 2 + 1;
	for (unsigned int i = 1; i < n; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	ck_assert_uint_eq(ctor_calls, per_slab * 3);
	for (unsigned int i = 0; i < n; i++) {
		ck_assert_uint_eq(objs[i]->magic, CTOR_MAGIC);
		ck_assert_uint_eq(objs[i]->state, 7);
		ck_assert_int_eq(objs[i]->payload[31], 'c');
	}
	/* Objects come back in their constructed state: no ctor on reuse,
	 * and the free pointer does not overwrite the object.  Every other
	 * object is freed, so no slab empties (an emptied slab may go back
	 * to the buddy allocator, and a new one is constructed again). */
	for (unsigned int i = 0; i < n; i += 2)
		kmem_cache_free(s, objs[i]);
	for (unsigned int i = 0; i < n; i += 2) {
		objs[i] = kmem_cache_alloc(s, 0);
		ck_assert_uint_eq(objs[i]->magic, CTOR_MAGIC);
		ck_assert_uint_eq(objs[i]->state, 7);
		for (int j = 0; j < 32; j++)
			ck_assert_int_eq(objs[i]->payload[j], 'c');
	}
	ck_assert_uint_eq(ctor_calls, per_slab * 3);
	for (unsigned int i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_destroy(s);
}
END_TEST

/* ---- alignment ---- */

START_TEST(hwcache_align_objects_are_cache_line_aligned)
{
	static const size_t sizes[] = { 40, 64, 100, 200, 1000, 3000 };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct kmem_cache *s = kmem_cache_create(
			"hwalign", sizes[k], 0, SLAB_HWCACHE_ALIGN, NULL);
		void *objs[300];

		ck_assert_ptr_nonnull(s);
		for (int i = 0; i < 300; i++) {
			objs[i] = kmem_cache_alloc(s, 0);
			ck_assert_ptr_nonnull(objs[i]);
			ck_assert_msg(((uintptr_t)objs[i] & 63) == 0,
				      "size %zu: %p", sizes[k], objs[i]);
			memset(objs[i], 0xa0, sizes[k]);
		}
		for (int i = 0; i < 300; i++)
			kmem_cache_free(s, objs[i]);
		kmem_cache_destroy(s);
	}
}
END_TEST

START_TEST(explicit_alignment_up_to_two_pages)
{
	static const size_t aligns[] = { 8, 16, 32, 128, 512, 4096, 8192 };

	for (size_t k = 0; k < ARRAY_SIZE(aligns); k++) {
		struct kmem_cache *s = kmem_cache_create("align", 24, aligns[k],
							 0, NULL);
		void *objs[64];

		ck_assert_ptr_nonnull(s);
		for (int i = 0; i < 64; i++) {
			objs[i] = kmem_cache_alloc(s, 0);
			ck_assert_ptr_nonnull(objs[i]);
			ck_assert_uint_eq((uintptr_t)objs[i] & (aligns[k] - 1), 0);
		}
		for (int i = 0; i < 64; i++)
			kmem_cache_free(s, objs[i]);
		kmem_cache_destroy(s);
	}
	errno = 0;
	ck_assert_ptr_null(kmem_cache_create("bad", 24, 24, 0, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(kmem_cache_create("bad", 0, 8, 0, NULL));
}
END_TEST

/* ---- a million random operations against a model ---- */

#define NCACHES 8
#define NSLOTS 8192
#define NOPS 1000000

struct slot {
	unsigned char *p;
	int cache;
	uint32_t tag;
};

static const size_t model_sizes[NCACHES] = { 8, 24, 64, 100, 256, 1000,
					     4096, 5000 };

static void fill(unsigned char *p, size_t n, uint32_t tag)
{
	size_t i;

	for (i = 0; i + 4 <= n; i += 4)
		memcpy(p + i, &tag, 4);
	for (; i < n; i++)
		p[i] = (unsigned char)tag;
}

static void check_fill(const unsigned char *p, size_t n, uint32_t tag)
{
	size_t i;

	/* Whole objects up to 256 bytes; the edges and a sample beyond. */
	for (i = 0; i + 4 <= n; i += (n <= 256 || i < 64 || i + 68 > n) ? 4 : 60) {
		uint32_t v;

		memcpy(&v, p + i, 4);
		CHECK(v == tag, "object %p changed at %zu", p, i);
	}
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct slot *)a)->p;
	uintptr_t y = (uintptr_t)((const struct slot *)b)->p;

	return x < y ? -1 : x > y;
}

static void check_no_overlap(struct slot *slots, struct slot *tmp)
{
	size_t n = 0;

	for (size_t i = 0; i < NSLOTS; i++)
		if (slots[i].p)
			tmp[n++] = slots[i];
	qsort(tmp, n, sizeof(*tmp), cmp_ptr);
	for (size_t i = 1; i < n; i++)
		CHECK(tmp[i - 1].p + model_sizes[tmp[i - 1].cache] <= tmp[i].p,
		      "objects %p and %p overlap", tmp[i - 1].p, tmp[i].p);
}

START_TEST(million_random_ops_match_a_model)
{
	struct kmem_cache *caches[NCACHES];
	struct slot *slots = calloc(NSLOTS, sizeof(*slots));
	struct slot *tmp = calloc(NSLOTS, sizeof(*tmp));
	unsigned long live[NCACHES] = { 0 };

	for (int c = 0; c < NCACHES; c++) {
		caches[c] = kmem_cache_create("model", model_sizes[c], 0,
					      c == 3 ? SLAB_HWCACHE_ALIGN : 0,
					      NULL);
		ck_assert_ptr_nonnull(caches[c]);
	}
	for (uint32_t op = 0; op < NOPS; op++) {
		struct slot *sl = &slots[rnd() % NSLOTS];

		if (sl->p) {
			check_fill(sl->p, model_sizes[sl->cache], sl->tag);
			kmem_cache_free(caches[sl->cache], sl->p);
			live[sl->cache]--;
			sl->p = NULL;
		} else {
			int c = (int)(rnd() % NCACHES);

			sl->p = kmem_cache_alloc(caches[c], 0);
			CHECK(sl->p, "allocation failed");
			sl->cache = c;
			sl->tag = (uint32_t)rnd() | 1;
			fill(sl->p, model_sizes[c], sl->tag);
			live[c]++;
		}
		if (op % 100000 == 99999) {
			check_no_overlap(slots, tmp);
			for (int c = 0; c < NCACHES; c++) {
				struct slab_cache_stats st;

				kmem_cache_get_stats(caches[c], &st);
				ck_assert_uint_eq(st.active_objs, live[c]);
			}
		}
	}
	for (size_t i = 0; i < NSLOTS; i++) {
		if (!slots[i].p)
			continue;
		check_fill(slots[i].p, model_sizes[slots[i].cache], slots[i].tag);
		kmem_cache_free(caches[slots[i].cache], slots[i].p);
	}
	for (int c = 0; c < NCACHES; c++) {
		struct slab_cache_stats st;

		kmem_cache_get_stats(caches[c], &st);
		ck_assert_uint_eq(st.active_objs, 0);
		kmem_cache_destroy(caches[c]);
	}
	free(slots);
	free(tmp);
}
END_TEST

/* ---- releasing slabs ---- */

START_TEST(empty_slabs_go_back_and_shrink_releases_the_reserve)
{
	struct kmem_cache *s = kmem_cache_create("release", 512, 0, 0, NULL);
	struct slab_cache_stats st;
	void *objs[1000];
	struct page *first;

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 1000; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 1000);
	ck_assert_uint_ge(st.num_slabs, 1000 / s->objects);
	first = compound_head(virt_to_page(objs[0]));
	ck_assert(page_flags(first) & PG_slab);
	for (int i = 0; i < 1000; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	ck_assert_uint_eq(st.active_slabs, 0);
	/* Beyond a small reserve, empty slabs went back at once. */
	ck_assert_uint_le(st.num_slabs, s->min_free);
	ck_assert_uint_eq(kmem_cache_shrink(s), 0);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.num_slabs, 0);
	ck_assert(!(page_flags(first) & PG_slab));
	kmem_cache_destroy(s);
}
END_TEST

START_TEST(partial_slabs_are_preferred)
{
	struct kmem_cache *s = kmem_cache_create("partial", 256, 0, 0, NULL);
	unsigned int n;
	void **objs;
	struct slab_cache_stats st;

	ck_assert_ptr_nonnull(s);
	n = s->objects * 4;
	objs = calloc(n, sizeof(void *));
	for (unsigned int i = 0; i < n; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	/* One free object in each of the four slabs. */
	for (unsigned int i = 0; i < 4; i++)
		kmem_cache_free(s, objs[i * s->objects]);
	for (unsigned int i = 0; i < 4; i++)
		objs[i * s->objects] = kmem_cache_alloc(s, 0);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.num_slabs, 4);	/* no new slab was made */
	for (unsigned int i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	free(objs);
	kmem_cache_destroy(s);
}
END_TEST

/*
 * A new slab hands its objects out in groups of neighbours (about
 * KMEM_SHUFFLE bytes: 4096 by default, a page), the groups in a random
 * order, numbered from a random object (slab_fresh.c's rotation): every
 * break in address order falls on a group's first object (all on one
 * offset within a group) or is the wrap from the slab's end to its start,
 * and the groups do not come in address order.
 */
struct shuffle_seen {
	unsigned int n;		/* objects of the slab */
	unsigned int group;	/* the cache's shuffle_group */
	unsigned int breaks;	/* places where address order breaks */
	unsigned int misplaced;	/* breaks not at a group's start */
	unsigned int backwards;	/* breaks that jump back in the slab */
	unsigned int first;	/* index of the first object handed out */
	unsigned int dup;	/* objects handed out twice */
};

static void shuffle_child(long setting, struct shuffle_seen *w)
{
	struct kmem_cache *s;
	void *objs[SLAB_MAX_OBJECTS];
	uintptr_t base;

	kmem_init();
	kmem_option_values[OPT_SHUFFLE] = setting;	/* KMEM_SHUFFLE */
	s = kmem_cache_create("shuffle", 64, 0, 0, NULL);
	ck_assert_ptr_nonnull(s);
	memset(w, 0, sizeof(*w));
	w->n = s->objects;
	w->group = s->shuffle_group;
	for (unsigned int i = 0; i < w->n; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	base = (uintptr_t)page_address(compound_head(virt_to_page(objs[0])));
	w->first = (unsigned int)(((uintptr_t)objs[0] - base) / s->size);
	for (unsigned int i = 0; i < w->n; i++) {
		unsigned int idx = (unsigned int)(((uintptr_t)objs[i] - base) /
						  s->size);

		for (unsigned int j = 0; j < i; j++)
			w->dup += objs[j] == objs[i];
		if (i && (uintptr_t)objs[i] == (uintptr_t)objs[i - 1] + s->size)
			continue;
		if (i)
			w->breaks++;
		/* Groups start at the first object's offset in a group; the
		 * one wrap lands on object 0. */
		if (w->group && idx && idx % w->group != w->first % w->group)
			w->misplaced++;
		if (i && objs[i] < objs[i - 1])
			w->backwards++;
	}
	for (unsigned int i = 0; i < w->n; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_destroy(s);
}

START_TEST(new_slab_hands_out_groups_of_neighbours_in_random_order)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct shuffle_seen w;
		unsigned int firsts = 0;	/* start offsets seen */

		/* Groups of 512 bytes, in random order. */
		shuffle_child(512, &w);
		if (w.group != 8 || w.misplaced || w.breaks < 2 ||
		    !w.backwards || w.dup)
			_exit(10);
		/* The default, a page: one group in a page of 64-byte objects,
		 * which starts at a random object and wraps once. */
		for (int k = 0; k < 8; k++) {
			shuffle_child(4096, &w);
			if (w.group != MIN(64u, w.n) || w.misplaced || w.dup ||
			    w.breaks > (w.n + w.group - 1) / w.group)
				_exit(13);
			firsts |= 1u << (w.first % 32);
		}
		if (__builtin_popcount(firsts) < 2)	/* 8 slabs, one start */
			_exit(14);
		/* Every object on its own (the kernel's FREELIST_RANDOM). */
		shuffle_child(1, &w);
		if (w.group != 1 || w.breaks < w.n / 2 || !w.backwards)
			_exit(11);
		/* Off: address order. */
		shuffle_child(0, &w);
		if (w.group != 0 || w.breaks != 0)
			_exit(12);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "shuffle check %d failed", WEXITSTATUS(status));
}
END_TEST

/*
 * A new slab of more than one page in a cache with no constructor writes
 * nothing into its objects (fresh objects, core/slab.c): the test fills
 * the free rest of the slab with a pattern after the first allocation,
 * and every later object must come out with the pattern intact, each
 * object exactly once, in the slab; the slab's first tail page counts
 * them down.  A cache with a constructor builds its slabs at once.
 */
static void ctor_mark(void *obj)
{
	memset(obj, 0x3c, 600);
}

START_TEST(fresh_slab_objects_are_not_written_before_use)
{
	struct kmem_cache *s = kmem_cache_create("fresh", 600, 0, 0, NULL);
	struct kmem_cache *c;
	void *objs[SLAB_MAX_OBJECTS], *again[SLAB_MAX_OBJECTS];
	struct page *head;
	unsigned char *base, *a;
	unsigned int n, g;

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_gt(s->order, 0);
	a = objs[0] = kmem_cache_alloc(s, 0);
	ck_assert_ptr_nonnull(a);
	head = compound_head(virt_to_page(a));
	base = page_address(head);
	n = head->objects;
	g = s->shuffle_group ? s->shuffle_group : n;	/* KMEM_SHUFFLE */
	ck_assert_uint_eq(head[1].fresh_groups, (n + g - 1) / g);
	ck_assert_uint_eq(head[1].fresh_next * g + head[1].fresh_off, 1);
	memset(base, 0xa5, (size_t)(a - base));
	memset(a + 600, 0xa5, (PAGE_SIZE << s->order) - (size_t)(a - base) - 600);
	for (unsigned int i = 1; i < n; i++) {
		unsigned char *o = objs[i] = kmem_cache_alloc(s, 0);
		size_t off = (size_t)(o - base);

		ck_assert_ptr_eq(compound_head(virt_to_page(o)), head);
		ck_assert_uint_eq(off % s->size, 0);
		for (unsigned int j = 0; j < i; j++)
			ck_assert_ptr_ne(objs[j], o);
		for (unsigned int b = 0; b < 600; b++)
			ck_assert_msg(o[b] == 0xa5, "object %u byte %u written "
				      "before it was handed out", i, b);
	}
	ck_assert_uint_eq(head[1].fresh_next, head[1].fresh_groups);
	ck_assert_uint_eq(head->inuse, n);
	/* Back on the free list and out again: the same objects. */
	for (unsigned int i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	for (unsigned int i = 0; i < n; i++) {
		bool found = false;

		again[i] = kmem_cache_alloc(s, 0);
		for (unsigned int j = 0; j < n; j++)
			found |= again[i] == objs[j];
		ck_assert(found);
	}
	for (unsigned int i = 0; i < n; i++)
		kmem_cache_free(s, again[i]);
	kmem_cache_destroy(s);

	c = kmem_cache_create("fresh_ctor", 600, 0, 0, ctor_mark);
	ck_assert_ptr_nonnull(c);
	a = kmem_cache_alloc(c, 0);
	head = compound_head(virt_to_page(a));
	ck_assert_uint_eq(head[1].fresh_groups, 0);	/* built at once */
	ck_assert_uint_eq(a[0], 0x3c);
	kmem_cache_free(c, a);
	kmem_cache_destroy(c);
}
END_TEST

START_TEST(bulk_alloc_and_free)
{
	struct kmem_cache *s = kmem_cache_create("bulk", 48, 0, 0, NULL);
	void *objs[200];
	struct slab_cache_stats st;

	ck_assert_int_eq(__kmem_cache_alloc_bulk(s, 0, 200, objs), 200);
	for (int i = 0; i < 200; i++) {
		ck_assert_ptr_eq(virt_to_cache_checked(objs[i], "test"), s);
		memset(objs[i], i, 48);
	}
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 200);
	__kmem_cache_free_bulk(s, 200, objs);
	kmem_cache_get_stats(s, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	kmem_cache_destroy(s);
}
END_TEST

START_TEST(gfp_zero_and_dma_zones)
{
	struct kmem_cache *s = kmem_cache_create("zero", 200, 0, 0, NULL);
	struct kmem_cache *d32 = kmem_cache_create("dma32", 100, 0,
						   SLAB_CACHE_DMA32, NULL);
	struct kmem_cache *dma = kmem_cache_create("dma", 100, 0,
						   SLAB_CACHE_DMA, NULL);
	unsigned char *p = kmem_cache_alloc(s, 0);
	void *q;

	memset(p, 0xff, 200);
	kmem_cache_free(s, p);
	p = kmem_cache_alloc(s, __GFP_ZERO);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(p[i], 0);
	kmem_cache_free(s, p);
	q = kmem_cache_alloc(d32, 0);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_lt((uintptr_t)q, 1ULL << 32);
	kmem_cache_free(d32, q);
	/* SLAB_CACHE_DMA: pinned memory (ZONE_DMA); a zone the cache's
	 * objects are not in fails. */
	q = kmem_cache_alloc(dma, 0);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(kmem_page_zone(kmem_virt_to_page(q)), ZONE_DMA);
	kmem_cache_free(dma, q);
	errno = 0;
	ck_assert_ptr_null(kmem_cache_alloc(s, GFP_DMA32));
	ck_assert_int_eq(errno, ENOMEM);
	q = kmem_cache_alloc(d32, GFP_DMA32);
	ck_assert_ptr_nonnull(q);
	kmem_cache_free(d32, q);
	kmem_cache_destroy(s);
	kmem_cache_destroy(d32);
	kmem_cache_destroy(dma);
}
END_TEST

/* ---- threads ---- */

#define RING 1024
#define PER_THREAD 200000

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void *ring[RING];
	unsigned int head, tail;
	int producers_done;
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static struct kmem_cache *mt_cache;

static void *producer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	for (uint64_t i = 0; i < PER_THREAD; i++) {
		uint64_t *o = kmem_cache_alloc(mt_cache, 0);

		CHECK(o, "allocation failed");
		o[0] = id;
		o[1] = i;
		o[2] = ~(id ^ i);
		if (i % 2) {	/* half are freed by the allocating thread */
			CHECK(o[2] == ~(id ^ i), "object %p changed", o);
			kmem_cache_free(mt_cache, o);
			continue;
		}
		pthread_mutex_lock(&q.lock);
		while (q.head - q.tail == RING)
			pthread_cond_wait(&q.cond, &q.lock);
		q.ring[q.head++ % RING] = o;
		pthread_cond_broadcast(&q.cond);
		pthread_mutex_unlock(&q.lock);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	unsigned long freed = 0;

	for (;;) {
		uint64_t *o;

		pthread_mutex_lock(&q.lock);
		while (q.head == q.tail && q.producers_done < 2)
			pthread_cond_wait(&q.cond, &q.lock);
		if (q.head == q.tail) {
			pthread_mutex_unlock(&q.lock);
			break;
		}
		o = q.ring[q.tail++ % RING];
		pthread_cond_broadcast(&q.cond);
		pthread_mutex_unlock(&q.lock);
		CHECK(o[2] == ~(o[0] ^ o[1]), "object %p changed", o);
		kmem_cache_free(mt_cache, o);
		freed++;
	}
	*(unsigned long *)arg = freed;
	return NULL;
}

START_TEST(threads_allocate_and_another_thread_frees)
{
	pthread_t p1, p2, c;
	unsigned long freed = 0;
	struct slab_cache_stats st;

	mt_cache = kmem_cache_create("mt", 40, 0, 0, NULL);
	ck_assert_ptr_nonnull(mt_cache);
	pthread_create(&c, NULL, consumer, &freed);
	pthread_create(&p1, NULL, producer, (void *)1);
	pthread_create(&p2, NULL, producer, (void *)2);
	pthread_join(p1, NULL);
	pthread_join(p2, NULL);
	pthread_mutex_lock(&q.lock);
	q.producers_done = 2;
	pthread_cond_broadcast(&q.cond);
	pthread_mutex_unlock(&q.lock);
	pthread_join(c, NULL);
	ck_assert_uint_eq(freed, PER_THREAD);	/* half of 2 x PER_THREAD */
	kmem_cache_get_stats(mt_cache, &st);
	ck_assert_uint_eq(st.active_objs, 0);
	kmem_cache_destroy(mt_cache);
}
END_TEST

/*
 * Caches created and destroyed while another thread reads the list
 * (kmem_slabinfo, kmem_cache_shrink_all walk it under RCU): every reading
 * is whole (the caches that always exist are in each, every line is a
 * well-formed slabinfo line), the reader does see caches come and go, and
 * once the churn stops none of them is left.
 */
static _Atomic int churn_stop;
static _Atomic int reader_rounds;

#define CHURN_LIVE 4	/* churn caches alive at once, at most */

static void *churner(void *arg)
{
	struct kmem_cache *live[CHURN_LIVE] = { NULL };
	int i, first = atomic_load(&reader_rounds);

	/* At least 300 caches, and on until the reader has read 50 times,
	 * 20 of them since the churn began (on a loaded machine this thread
	 * may start after the reader's first 50 readings, and run its 300
	 * caches in one time slice); each lives while the next few are
	 * created (a destroy waits for the readers, so a cache destroyed at
	 * once would hardly be seen). */
	for (i = 0; i < 300 || atomic_load(&reader_rounds) < 50 ||
		    atomic_load(&reader_rounds) - first < 20; i++) {
		struct kmem_cache *s = kmem_cache_create("churn", 32 + i % 64,
							 0, 0, NULL);
		void *o = kmem_cache_alloc(s, 0);

		kmem_cache_free(s, o);
		if (live[i % CHURN_LIVE])
			kmem_cache_destroy(live[i % CHURN_LIVE]);
		live[i % CHURN_LIVE] = s;
		if (i > 100000)
			break;	/* the reader is stuck: it fails below */
	}
	for (int k = 0; k < CHURN_LIVE; k++)
		kmem_cache_destroy(live[k]);
	churn_stop = 1;
	return NULL;
}

/* Lines of one slabinfo reading; -1 if one is not a slabinfo line. */
static int slabinfo_lines(const char *buf, int *churn, int *fixed)
{
	int n = 0;

	*churn = *fixed = 0;
	if (strncmp(buf, "slabinfo - version: 2.1\n# name", 30) != 0)
		return -1;
	for (const char *l = strchr(buf, '\n') + 1; (l = strchr(l, '\n'));) {
		char name[64];
		unsigned long v[5];

		l++;
		if (!*l)
			break;
		if (sscanf(l, "%63s %lu %lu %lu %lu %lu : tunables", name,
			   &v[0], &v[1], &v[2], &v[3], &v[4]) != 6 ||
		    v[0] > v[1])
			return -1;
		if (strcmp(name, "churn") == 0) {
			if (v[2] < 32 || v[2] > 96 + 64)
				return -1;
			(*churn)++;
		}
		if (strcmp(name, "kmem_cache") == 0 ||
		    strcmp(name, "kmalloc-64") == 0)
			(*fixed)++;
		n++;
	}
	return n;
}

START_TEST(cache_list_readers_while_caches_come_and_go)
{
	pthread_t t;
	int before, after, churn, fixed, saw_churn = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	kmem_slabinfo(f);
	fclose(f);
	before = slabinfo_lines(buf, &churn, &fixed);
	ck_assert_int_gt(before, 0);
	free(buf);
	atomic_store(&reader_rounds, 0);
	churn_stop = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, churner, NULL), 0);
	while (!churn_stop) {
		int n;

		buf = NULL;
		f = open_memstream(&buf, &len);
		kmem_slabinfo(f);
		fclose(f);
		kmem_cache_shrink_all();
		n = slabinfo_lines(buf, &churn, &fixed);
		CHECK(n > 0, "reading %d is not slabinfo:\n%s",
		      atomic_load(&reader_rounds), buf);
		CHECK(fixed == 2, "reading %d lacks kmem_cache or "
		      "kmalloc-64:\n%s", atomic_load(&reader_rounds), buf);
		CHECK(churn <= CHURN_LIVE + 1, "%d churn caches at once:\n%s",
		      churn, buf);
		saw_churn += churn;
		free(buf);
		atomic_fetch_add(&reader_rounds, 1);
	}
	pthread_join(t, NULL);
	ck_assert_int_ge(atomic_load(&reader_rounds), 50);
	ck_assert_msg(saw_churn > 0, "%d readings and not one churn cache: "
		      "the reader never ran during the churn",
		      atomic_load(&reader_rounds));
	f = open_memstream(&buf, &len);
	kmem_slabinfo(f);
	fclose(f);
	after = slabinfo_lines(buf, &churn, &fixed);
	ck_assert_msg(churn == 0 && after == before, "after the churn: %d "
		      "caches (%d before), %d churn:\n%s", after, before, churn,
		      buf);
	free(buf);
}
END_TEST

/* ---- slabinfo ---- */

START_TEST(slabinfo_format_2_1)
{
	struct kmem_cache *s = kmem_cache_create("info_cache", 100, 0, 0, NULL);
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	void *o[3];
	unsigned long active, num, objsize, perslab, pages, aslabs, nslabs;

	for (int i = 0; i < 3; i++)
		o[i] = kmem_cache_alloc(s, 0);
	kmem_slabinfo(f);
	fclose(f);
	ck_assert(strncmp(buf, "slabinfo - version: 2.1\n# name", 30) == 0);
	line = strstr(buf, "\ninfo_cache ");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(sscanf(line, " info_cache %lu %lu %lu %lu %lu : "
				"tunables %*u %*u %*u : slabdata %lu %lu",
				&active, &num, &objsize, &perslab, &pages,
				&aslabs, &nslabs), 7);
	ck_assert_uint_eq(active, 3);
	ck_assert_uint_eq(num, s->objects);
	ck_assert_uint_eq(objsize, s->size);
	ck_assert_uint_eq(perslab, s->objects);
	ck_assert_uint_eq(pages, 1U << s->order);
	ck_assert_uint_eq(aslabs, 1);
	ck_assert_uint_eq(nslabs, 1);
	ck_assert_ptr_nonnull(strstr(buf, "\nkmem_cache "));
	ck_assert_ptr_nonnull(strstr(buf, "\nkmalloc-64 "));
	free(buf);
	for (int i = 0; i < 3; i++)
		kmem_cache_free(s, o[i]);
	kmem_cache_destroy(s);
}
END_TEST

/* ---- bad input ---- */

static void destroy_busy(void *arg)
{
	struct kmem_cache *s = kmem_cache_create("busy_cache", 64, 0, 0, NULL);
	char *o[5];

	for (int i = 0; i < 5; i++) {
		o[i] = kmem_cache_alloc(s, 0);
		memset(o[i], 'a' + i, 64);
	}
	kmem_cache_destroy(s);
	/* The objects stay valid, and can be freed; then destroy works. */
	for (int i = 0; i < 5; i++) {
		for (int j = 0; j < 64; j++)
			if (o[i][j] != 'a' + i)
				_exit(3);
		kmem_cache_free(s, o[i]);
	}
	if (strcmp(kmem_cache_name(s), "busy_cache"))
		_exit(4);
	kmem_cache_destroy(s);
}

START_TEST(destroy_with_objects_reports_and_keeps_them)
{
	char buf[4096];
	int st = run_capture(destroy_busy, NULL, buf, sizeof(buf));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x: %s",
		      st, buf);
	ck_assert_ptr_nonnull(strstr(buf, "busy_cache"));
	ck_assert_ptr_nonnull(strstr(buf, "5 in use"));
}
END_TEST

static void free_wrong_cache(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("cache_alpha", 64, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("cache_beta", 64, 0, 0, NULL);

	kmem_cache_free(b, kmem_cache_alloc(a, 0));
}

START_TEST(free_into_the_wrong_cache_aborts_naming_both)
{
	expect_abort(free_wrong_cache, NULL, "cache_alpha", "cache_beta",
		     "belongs to");
}
END_TEST

static void free_interior(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("interior_c", 64, 0, 0, NULL);
	char *o = kmem_cache_alloc(a, 0);

	kmem_cache_free(a, o + 8);
}

START_TEST(free_of_an_interior_pointer_aborts)
{
	expect_abort(free_interior, NULL, "interior_c", "middle of an object",
		     "offset 8");
}
END_TEST

static void free_foreign(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("foreign_c", 64, 0, 0, NULL);

	kmem_cache_free(a, arg);
}

START_TEST(free_of_a_pointer_kmem_never_gave_aborts)
{
	int on_stack;
	char text[64];
	void *glibc = malloc(64);

	ck_assert_ptr_nonnull(glibc);
	expect_abort(free_foreign, &on_stack, "never allocated by kmem",
		     "foreign_c", NULL);
	expect_abort(free_foreign, glibc, "never allocated by kmem", NULL,
		     NULL);
	free(glibc);	/* glibc's block: the parent gives it back */
	kmem_snprintf(text, sizeof(text), "%p", (void *)&on_stack);
	expect_abort(free_foreign, &on_stack, text, NULL, NULL);
}
END_TEST

static void free_twice(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("twice_c", 64, 0, 0, NULL);
	void *o = kmem_cache_alloc(a, 0);

	kmem_cache_free(a, o);
	kmem_cache_free(a, o);
}

START_TEST(immediate_double_free_aborts)
{
	expect_abort(free_twice, NULL, "twice_c", "double free", NULL);
}
END_TEST

/* The same through Check's own signal expectation. */
START_TEST(double_free_raises_sigabrt)
{
	free_twice(NULL);
}
END_TEST

static void continue_mode(void *arg)
{
	struct kmem_cache *a, *b;
	void *o;

	setenv("KMEM_ABORT", "0", 1);	/* before kmem reads its options */
	a = kmem_cache_create("cont_a", 64, 0, 0, NULL);
	b = kmem_cache_create("cont_b", 64, 0, 0, NULL);
	o = kmem_cache_alloc(a, 0);
	kmem_cache_free(b, o);		/* reported, dropped */
	kmem_cache_free(a, (char *)o + 1);	/* reported, dropped */
	kmem_cache_free(a, o);		/* the real free */
	kmem_cache_free(a, o);		/* reported, dropped */
	if (kmem_cache_alloc(a, 0) != o)	/* LIFO: the object is back once */
		_exit(5);
}

START_TEST(continue_mode_reports_and_drops_the_operation)
{
	char buf[8192];
	int st = run_capture(continue_mode, NULL, buf, sizeof(buf));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x: %s",
		      st, buf);
	ck_assert_ptr_nonnull(strstr(buf, "belongs to cache cont_a"));
	ck_assert_ptr_nonnull(strstr(buf, "middle of an object"));
	ck_assert_ptr_nonnull(strstr(buf, "double free"));
}
END_TEST

static void forge_freelist(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("forge_c", 64, 0, 0, NULL);
	static char target[64];
	void *o = kmem_cache_alloc(a, 0), *p, *r;
	void **w = o;

	kmem_cache_free(a, o);
	/* A use-after-free write plants a plain pointer everywhere. */
	for (int i = 0; i < 8; i++)
		w[i] = target;
	p = kmem_cache_alloc(a, 0);
	r = kmem_cache_alloc(a, 0);
	if (p == target || r == target)
		_exit(6);	/* the forged pointer was taken: a failure */
	_exit(0);
}

START_TEST(forged_free_pointer_is_detected)
{
	expect_abort(forge_freelist, NULL, "forge_c", "free pointer", "corrupted");
}
END_TEST

static void create_panic(void *arg)
{
	kmem_cache_create("panic_cache", 0, 0, SLAB_PANIC, NULL);
}

START_TEST(slab_panic_aborts_naming_the_cache)
{
	expect_abort(create_panic, NULL, "panic_cache", "kmem_cache_create",
		     NULL);
}
END_TEST

/* ---- debug caches ---- */

static void redzone_overflow(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("rz_cache", 50, 0,
						 SLAB_RED_ZONE, NULL);
	char *o = kmem_cache_alloc(a, 0);

	memset(o, 1, 50);
	o[50] = 0;	/* one byte too far */
	kmem_cache_free(a, o);
}

static void redzone_underflow(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("rz_cache", 50, 0,
						 SLAB_RED_ZONE, NULL);
	char *o = kmem_cache_alloc(a, 0);

	o[-1] = 0;
	kmem_cache_free(a, o);
}

static void poison_uaf(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("poison_c", 64, 0,
						 SLAB_POISON | SLAB_RED_ZONE,
						 NULL);
	char *o = kmem_cache_alloc(a, 0);
	char *more[4];

	memset(o, 2, 64);
	kmem_cache_free(a, o);
	o[10] = 'x';	/* write after free */
	for (int i = 0; i < 4; i++)
		more[i] = kmem_cache_alloc(a, 0);	/* o is LIFO-first */
	(void)more;
}

static void debug_double_free(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("dbl_c", 64, 0,
						 SLAB_CONSISTENCY_CHECKS, NULL);
	void *x = kmem_cache_alloc(a, 0), *y = kmem_cache_alloc(a, 0);

	kmem_cache_free(a, x);
	kmem_cache_free(a, y);
	kmem_cache_free(a, x);	/* not the last one freed */
}

START_TEST(debug_caches_catch_overflow_uaf_and_double_free)
{
	expect_abort(redzone_overflow, NULL, "rz_cache", "right red zone",
		     "offset 50");
	expect_abort(redzone_underflow, NULL, "rz_cache", "left red zone",
		     "offset -1");
	expect_abort(poison_uaf, NULL, "poison_c", "poison overwritten",
		     "offset 10");
	expect_abort(debug_double_free, NULL, "dbl_c", "double free", NULL);
}
END_TEST

START_TEST(debug_cache_normal_use_is_clean)
{
	struct kmem_cache *a = kmem_cache_create("dbg_ok", 50, 0,
						 SLAB_RED_ZONE | SLAB_POISON |
						 SLAB_CONSISTENCY_CHECKS, NULL);
	char *o[100];

	ck_assert(kmem_cache_debug(a));
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 100; i++) {
			o[i] = kmem_cache_alloc(a, 0);
			memset(o[i], i, 50);
		}
		for (int i = 0; i < 100; i++)
			kmem_cache_free(a, o[i]);
	}
	kmem_cache_destroy(a);
}
END_TEST

/* A slab of two pages or more is built lazily: its objects not yet
 * handed out are on no free list, and the walk counts them as free. */
START_TEST(validate_counts_a_lazy_slabs_fresh_objects_free)
{
	struct kmem_cache *c = kmem_cache_create("lazy_v", 320, 0, 0, NULL);
	void *o[5];

	for (int i = 0; i < 5; i++)
		o[i] = kmem_cache_alloc(c, 0);
	kmem_cache_free(c, o[1]);
	kmem_cache_free(c, o[3]);
	ck_assert_int_eq(kmem_cache_validate(c), 0);
	for (int i = 0; i < 5; i += 2)
		kmem_cache_free(c, o[i]);
	ck_assert_int_eq(kmem_cache_validate(c), 0);
	kmem_cache_destroy(c);
}
END_TEST

static Suite *slab_suite(void)
{
	Suite *s = suite_create("slab");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ctor_runs_once_per_object_at_slab_creation);
	tcase_add_test(tc, hwcache_align_objects_are_cache_line_aligned);
	tcase_add_test(tc, explicit_alignment_up_to_two_pages);
	tcase_add_test(tc, million_random_ops_match_a_model);
	tcase_add_test(tc, empty_slabs_go_back_and_shrink_releases_the_reserve);
	tcase_add_test(tc, partial_slabs_are_preferred);
	tcase_add_test(tc, new_slab_hands_out_groups_of_neighbours_in_random_order);
	tcase_add_test(tc, fresh_slab_objects_are_not_written_before_use);
	tcase_add_test(tc, bulk_alloc_and_free);
	tcase_add_test(tc, gfp_zero_and_dma_zones);
	tcase_add_test(tc, threads_allocate_and_another_thread_frees);
	tcase_add_test(tc, cache_list_readers_while_caches_come_and_go);
	tcase_add_test(tc, slabinfo_format_2_1);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_input");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, destroy_with_objects_reports_and_keeps_them);
	tcase_add_test(tc, free_into_the_wrong_cache_aborts_naming_both);
	tcase_add_test(tc, free_of_an_interior_pointer_aborts);
	tcase_add_test(tc, free_of_a_pointer_kmem_never_gave_aborts);
	tcase_add_test(tc, immediate_double_free_aborts);
	tcase_add_test_raise_signal(tc, double_free_raises_sigabrt, SIGABRT);
	tcase_add_test(tc, continue_mode_reports_and_drops_the_operation);
	tcase_add_test(tc, forged_free_pointer_is_detected);
	tcase_add_test(tc, slab_panic_aborts_naming_the_cache);
	tcase_add_test(tc, debug_caches_catch_overflow_uaf_and_double_free);
	tcase_add_test(tc, debug_cache_normal_use_is_clean);
	tcase_add_test(tc, validate_counts_a_lazy_slabs_fresh_objects_free);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(slab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
