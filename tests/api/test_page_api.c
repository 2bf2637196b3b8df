/* SPDX-License-Identifier: MIT */
/*
 * tests/api/test_page_api.c - a randomized stress of the exported page
 * API (<kmem.h>: alloc_pages, __get_free_pages, get_zeroed_page,
 * free_pages, __free_pages, kmem_buddyinfo), linked with libkmem.so, so
 * that malloc is kmem's too.
 *
 * Threads allocate and free blocks of random orders (mostly small, a
 * quarter uniform over 0..MAX_ORDER), hand blocks to one another, tag
 * every page of a live block and check the tags before freeing, and check
 * that zeroed pages read as zero.  When everything is freed (and
 * kmem_trim has emptied the caches above), kmem_buddyinfo must show every
 * block merged back: orders 0..7 exactly as before the stress, and at
 * orders 8 to MAX_ORDER the blocks of each 64 MiB section added
 * meanwhile (a section's first 256 pages hold its page map, so pages
 * 256..511, 512..1023, ... are its free blocks, one of each order up to
 * MAX_ORDER - 1, and the rest are MAX_ORDER blocks).
 * A buddy allocator that failed to merge would leave small blocks behind.
 *
 * tests/unit/test_buddy.c checks the same allocator from inside the core
 * (zone figures, bad frees, purges); this is what a user of the library
 * sees.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kmem.h>

#define ORDERS NR_PAGE_ORDERS	/* 0..MAX_ORDER, as kmem_buddyinfo prints */
#define NR_THREADS 4
#define OPS 50000
#define MAX_LIVE 96
#define MAX_LIVE_PAGES 4096	/* 16 MiB per thread at most */
#define SLOTS 16
#define SECTION_PAGES ((64UL << 20) / PAGE_SIZE)	/* a heap section */

struct zone_line {
	char name[16];
	unsigned long count[ORDERS];
};

struct buddyinfo {
	int nr;
	struct zone_line zone[4];
};

/* For hot loops: Check's ck_assert writes to a pipe on every call. */
#define CHECK(cond, ...)                              \
	do {                                          \
		if (!(cond))                          \
			ck_abort_msg(__VA_ARGS__);    \
	} while (0)

static void read_buddyinfo(struct buddyinfo *bi)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	kmem_buddyinfo(f);
	fclose(f);
	memset(bi, 0, sizeof(*bi));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct zone_line *z = &bi->zone[bi->nr];
		int node, used = 0, pos;
		char *p;

		if (bi->nr == 4 || sscanf(line, "Node %d, zone %15s%n", &node,
					  z->name, &used) != 2)
			continue;
		p = line + used;
		for (int o = 0; o < ORDERS; o++, p += pos)
			ck_assert_msg(sscanf(p, "%lu%n", &z->count[o],
					     &pos) == 1, "buddyinfo line: %s",
				      line);
		bi->nr++;
	}
	free(buf);
}

static const struct zone_line *find_zone(const struct buddyinfo *bi,
					 const char *name)
{
	for (int i = 0; i < bi->nr; i++)
		if (strcmp(bi->zone[i].name, name) == 0)
			return &bi->zone[i];
	return NULL;
}

/* Every zone merged back: after == before, plus whole sections.  NULL,
 * or why not. */
static const char *merged(const struct buddyinfo *before,
			  const struct buddyinfo *after)
{
	static const struct zone_line none;
	static char why[256];

	if (after->nr <= 0)
		return "kmem_buddyinfo printed no zone";
	for (int i = 0; i < after->nr; i++) {
		const struct zone_line *a = &after->zone[i];
		const struct zone_line *b = find_zone(before, a->name);
		long sections;

		if (!b)
			b = &none;	/* a zone the stress brought up */
		for (int o = 0; o < 8; o++)
			if (a->count[o] != b->count[o]) {
				snprintf(why, sizeof(why), "zone %s: %lu free "
					 "blocks of order %d, %lu before the "
					 "stress: not merged back", a->name,
					 a->count[o], o, b->count[o]);
				return why;
			}
		/* Each section added: one block of each order from 8 to
		 * MAX_ORDER - 1 after its page map, then MAX_ORDER blocks. */
		sections = (long)a->count[8] - (long)b->count[8];
		for (int o = 8; o <= MAX_ORDER; o++) {
			long per = o < MAX_ORDER ? 1
				 : (long)(SECTION_PAGES >> MAX_ORDER) - 1;

			if (sections >= 0 &&
			    (long)(a->count[o] - b->count[o]) == per * sections)
				continue;
			snprintf(why, sizeof(why), "zone %s: order 8 went from "
				 "%lu to %lu, order %d from %lu to %lu: not "
				 "whole sections", a->name, b->count[8],
				 a->count[8], o, b->count[o], a->count[o]);
			return why;
		}
	}
	for (int i = 0; i < before->nr; i++)
		if (!find_zone(after, before->zone[i].name)) {
			snprintf(why, sizeof(why), "zone %s gone",
				 before->zone[i].name);
			return why;
		}
	return NULL;
}

/*
 * Trim, read the zones and compare.  The purge thread takes runs of free
 * blocks out of the lists while it madvises them (milliseconds): a
 * comparison that fails is tried again, for up to a second.
 */
static void assert_merged_after(const struct buddyinfo *before)
{
	struct buddyinfo after;
	const char *why = NULL;

	for (int i = 0; i < 20; i++) {
		kmem_trim();
		read_buddyinfo(&after);
		why = merged(before, &after);
		if (!why)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("%s", why);
}

/* ---- the stress ---- */

struct block {
	unsigned long addr;	/* 0: none */
	unsigned int order;
	uint64_t tag;
};

struct slot {
	pthread_mutex_t lock;
	struct block b;
};

static struct slot slots[SLOTS];
static atomic_int failures;
static char failure[256];

static void thr_fail(const char *what, const struct block *b, long page)
{
	if (atomic_fetch_add(&failures, 1) == 0)
		snprintf(failure, sizeof(failure), "%s: block 0x%lx order %u, "
			 "page %ld", what, b->addr, b->order, page);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int random_order(uint64_t *s)
{
	uint64_t r = splitmix64(s);
	unsigned int o;

	if ((r & 3) == 0)
		return (unsigned int)((r >> 8) % ORDERS);
	o = (unsigned int)__builtin_ctzll((r >> 2) | (1ULL << 40));
	return o >= ORDERS ? ORDERS - 1 : o;
}

static void tag(const struct block *b)
{
	for (size_t i = 0; i < (1UL << b->order); i++)
		*(volatile uint64_t *)(b->addr + i * PAGE_SIZE) = b->tag ^ i;
}

/* First page whose tag is wrong, or -1. */
static long untagged(const struct block *b)
{
	for (size_t i = 0; i < (1UL << b->order); i++)
		if (*(volatile uint64_t *)(b->addr + i * PAGE_SIZE) !=
		    (b->tag ^ i))
			return (long)i;
	return -1;
}

static struct block new_block(uint64_t *seed, unsigned int order, long id)
{
	uint64_t r = splitmix64(seed);
	struct block b = { 0, order, ((uint64_t)id << 56) ^ splitmix64(seed) };

	switch (r % 3) {
	case 0:
		b.addr = __get_free_pages(GFP_KERNEL, order);
		break;
	case 1: {
		struct page *pg = alloc_pages(GFP_KERNEL, order);

		b.addr = pg ? (unsigned long)page_address(pg) : 0;
		break;
	}
	default:
		/* Single zeroed pages: they must read as zero. */
		b.order = 0;
		b.addr = get_zeroed_page(GFP_KERNEL);
		for (size_t i = 0; b.addr && i < PAGE_SIZE / 8; i++)
			if (((volatile uint64_t *)b.addr)[i]) {
				thr_fail("get_zeroed_page not zero", &b,
					 (long)i);
				break;
			}
	}
	if (!b.addr || (b.addr & ((PAGE_SIZE << b.order) - 1)))
		thr_fail("allocation failed or misaligned", &b, -1);
	return b;
}

static void free_block(const struct block *b, uint64_t r)
{
	if (r & 1)
		free_pages(b->addr, b->order);
	else
		__free_pages(virt_to_page((void *)b->addr), b->order);
}

static void *stress(void *arg)
{
	long id = (long)arg;
	uint64_t seed = 0x70616765ULL + (uint64_t)id * 7919;
	struct block live[MAX_LIVE];
	size_t n = 0, pages = 0;

	for (long op = 0; op < OPS && !atomic_load(&failures); op++) {
		uint64_t r = splitmix64(&seed);
		unsigned int order = random_order(&seed);

		if (r % 16 == 0 && n) {
			/* Swap with a shared slot: freed by another thread. */
			struct slot *s = &slots[(r >> 8) % SLOTS];
			struct block out = live[--n], in;

			pthread_mutex_lock(&s->lock);
			in = s->b;
			s->b = out;
			pthread_mutex_unlock(&s->lock);
			pages -= 1UL << out.order;
			if (in.addr) {
				if (untagged(&in) >= 0)
					thr_fail("adopted block damaged", &in,
						 untagged(&in));
				live[n++] = in;
				pages += 1UL << in.order;
			}
		} else if (n == 0 ||
			   (r % 100 < 52 && n < MAX_LIVE &&
			    pages + (1UL << order) <= MAX_LIVE_PAGES)) {
			struct block b = new_block(&seed, order, id);

			if (!b.addr)
				break;
			tag(&b);
			live[n++] = b;
			pages += 1UL << b.order;
		} else {
			size_t i = (size_t)(r >> 32) % n;
			struct block b = live[i];
			long bad = untagged(&b);

			if (bad >= 0)
				thr_fail("block overwritten while live", &b,
					 bad);
			live[i] = live[--n];
			pages -= 1UL << b.order;
			free_block(&b, r >> 40);
		}
	}
	while (n) {
		n--;
		if (untagged(&live[n]) >= 0)
			thr_fail("block damaged at the end", &live[n],
				 untagged(&live[n]));
		free_block(&live[n], n);
	}
	return NULL;
}

static void run_threads(void)
{
	pthread_t t[NR_THREADS];

	for (int i = 0; i < SLOTS; i++)
		pthread_mutex_init(&slots[i].lock, NULL);
	for (long i = 0; i < NR_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, stress, (void *)i),
				 0);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SLOTS; i++) {
		struct block *b = &slots[i].b;

		if (!b->addr)
			continue;
		ck_assert_msg(untagged(b) < 0, "block in a slot damaged");
		free_block(b, 0);
		b->addr = 0;
	}
}

/*
 * Steady state first: one round before the baseline, so that what the
 * round leaves allocated by design stays out of the comparison (glibc
 * keeps the stacks and thread descriptors of joined threads, and kmem's
 * purge thread, started by the first frees, has a DTV in the heap).
 */
START_TEST(random_page_api_merges_back)
{
	struct buddyinfo before;

	run_threads();
	ck_assert_msg(atomic_load(&failures) == 0, "%d failures, first: %s",
		      atomic_load(&failures), failure);
	kmem_trim();
	read_buddyinfo(&before);
	run_threads();
	ck_assert_msg(atomic_load(&failures) == 0, "%d failures, first: %s",
		      atomic_load(&failures), failure);
	assert_merged_after(&before);
}
END_TEST

/* Every order, 4 blocks each, in both zones, freed in reverse. */
static void every_order_round(void)
{
	static const gfp_t gfps[] = { GFP_KERNEL, GFP_DMA32 };
	unsigned long v[2][ORDERS][4];

	for (int z = 0; z < 2; z++)
		for (unsigned int o = 0; o < ORDERS; o++)
			for (int k = 0; k < 4; k++) {
				v[z][o][k] = __get_free_pages(gfps[z], o);
				CHECK(v[z][o][k] != 0, "order %u", o);
				memset((void *)v[z][o][k], 0x5a, PAGE_SIZE);
			}
	for (int z = 1; z >= 0; z--)
		for (int o = ORDERS - 1; o >= 0; o--)
			for (int k = 3; k >= 0; k--)
				free_pages(v[z][o][k], (unsigned int)o);
}

/* The same in one thread, with every block freed in address order
 * reversed, and in DMA32 too (a zone of its own). */
START_TEST(every_order_in_both_zones_merges_back)
{
	struct buddyinfo before;

	every_order_round();	/* steady state, as above */
	kmem_trim();
	read_buddyinfo(&before);
	every_order_round();
	assert_merged_after(&before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page_api");
	TCase *tc = tcase_create("stress");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, random_page_api_merges_back);
	tcase_add_test(tc, every_order_in_both_zones_merges_back);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
