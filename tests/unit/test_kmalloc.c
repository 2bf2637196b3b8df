/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_kmalloc.c - size classes, page runs, alignment, krealloc
 * and the checks of kfree (core/kmalloc.c), linked with the core alone.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "kfence.h"
#include "kmalloc.h"
#include "slab.h"

#define CHECK(cond, ...)                              \
	do {                                          \
		if (!(cond))                          \
			ck_abort_msg(__VA_ARGS__);    \
	} while (0)

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

static void expect_abort(void (*fn)(void *), void *arg, const char *w1,
			 const char *w2)
{
	char buf[8192];
	int st = run_capture(fn, arg, buf, sizeof(buf));

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		      "no abort (status %#x); stderr: %s", st, buf);
	ck_assert_msg(!w1 || strstr(buf, w1), "'%s' missing in: %s", w1, buf);
	ck_assert_msg(!w2 || strstr(buf, w2), "'%s' missing in: %s", w2, buf);
}

/* ---- the class table ---- */

START_TEST(class_table_is_fine_and_lookup_is_exact)
{
	void *p = kmalloc(1, 0);	/* brings kmem up */

	kfree(p);
	ck_assert_uint_eq(kmalloc_class_size[0], KMALLOC_MIN_SIZE);
	ck_assert_uint_eq(kmalloc_class_size[NR_KMALLOC_CLASSES - 1],
			  KMALLOC_MAX_CACHE_SIZE);
	for (unsigned int c = 1; c < NR_KMALLOC_CLASSES; c++) {
		ck_assert_uint_gt(kmalloc_class_size[c], kmalloc_class_size[c - 1]);
		ck_assert_uint_eq(kmalloc_class_size[c] % 16, 0);
	}
	/* At least four classes per doubling above 64 bytes. */
	for (unsigned int lo = 64; lo < KMALLOC_MAX_CACHE_SIZE; lo *= 2) {
		unsigned int n = 0;

		for (unsigned int c = 0; c < NR_KMALLOC_CLASSES; c++)
			n += kmalloc_class_size[c] > lo &&
			     kmalloc_class_size[c] <= 2 * lo;
		ck_assert_msg(n >= 4, "%u classes in (%u, %u]", n, lo, 2 * lo);
	}
	/* The lookup gives the smallest class that fits, for every size. */
	for (size_t size = 0; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		unsigned int c = kmalloc_size_class(size);

		CHECK(c < NR_KMALLOC_CLASSES && kmalloc_class_size[c] >= size &&
			      (c == 0 || kmalloc_class_size[c - 1] < size),
		      "size %zu -> class %u", size, c);
		CHECK(kmalloc_index(size) == c, "kmalloc_index(%zu)", size);
	}
	ck_assert_uint_eq(kmalloc_index(KMALLOC_MAX_CACHE_SIZE + 1),
			  NR_KMALLOC_CLASSES);
	for (unsigned int c = 0; c < NR_KMALLOC_CLASSES; c++) {
		struct kmem_cache *s = kmalloc_caches[c];

		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(s->kmalloc_class, (int)c);
		ck_assert_uint_eq(s->object_size, kmalloc_class_size[c]);
		ck_assert_uint_eq(s->size, kmalloc_class_size[c]);
		/* Tail waste of a slab is at most 1/8 of it. */
		ck_assert_uint_le(((PAGE_SIZE << s->order) % s->size) * 8,
				  PAGE_SIZE << s->order);
	}
}
END_TEST

START_TEST(every_size_gets_a_big_enough_block)
{
	for (size_t size = 0; size <= 70000; size += (size < 4096 ? 1 : 97)) {
		unsigned char *p = kmalloc(size, 0);
		size_t usable;

		CHECK(p != NULL, "kmalloc(%zu)", size);
		usable = ksize(p);
		CHECK(usable >= size, "ksize %zu < %zu", usable, size);
		if (kfence_owns(p))	/* a guard sample (KMEM_SAMPLE) */
			CHECK(usable == size, "sampled: ksize(%zu) = %zu",
			      size, usable);
		else if (size <= KMALLOC_MAX_CACHE_SIZE)
			CHECK(usable == kmalloc_class_size[kmalloc_size_class(size)],
			      "ksize(%zu) = %zu", size, usable);
		memset(p, 0x5c, usable);
		kfree(p);
	}
}
END_TEST

START_TEST(zero_size_gives_unique_pointers)
{
	void *a = kmalloc(0, 0), *b = kmalloc(0, 0);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	kfree(a);
	kfree(b);
	kfree(NULL);
}
END_TEST

START_TEST(kzalloc_kcalloc_and_overflow)
{
	size_t sizes[] = { 24, 700, 5000, 40000, 300000 };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		unsigned char *p = kmalloc(sizes[k], 0);

		memset(p, 0xee, sizes[k]);
		kfree(p);
		p = kzalloc(sizes[k], 0);
		for (size_t i = 0; i < sizes[k]; i++)
			CHECK(p[i] == 0, "kzalloc(%zu)[%zu] = %d", sizes[k], i, p[i]);
		kfree(p);
		p = kcalloc(sizes[k], 1, 0);
		for (size_t i = 0; i < sizes[k]; i++)
			CHECK(p[i] == 0, "kcalloc(%zu)[%zu]", sizes[k], i);
		kfree(p);
	}
	errno = 0;
	ck_assert_ptr_null(kcalloc(SIZE_MAX / 2, 3, 0));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_ptr_null(kmalloc_array(SIZE_MAX / 16, 17, 0));
	ck_assert_ptr_nonnull(kmalloc_array(10, 10, 0));
}
END_TEST

/*
 * A request that only a mapping of its own could serve (here 3 PiB, past
 * any address space) fails at once with ENOMEM: no direct reclaim, which
 * would drain every cache and free nothing such a request could use
 * (kmalloc_fallback).  glibc's malloc/tst-malloc-too-large makes
 * millions of them and took 19 s under kmem, 10 s under glibc.
 */
START_TEST(an_unmappable_request_fails_without_a_reclaim)
{
	unsigned long before = kmalloc_nr_reclaims();
	const size_t huge = (size_t)3 << 50;

	for (int i = 0; i < 100; i++) {
		kfree(kmalloc(16, 0));
		errno = 0;
		ck_assert_ptr_null(kmalloc(huge, 0));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(kmem_kmalloc_aligned(huge, 64, 0));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(kmem_kmalloc_aligned(4096, (size_t)1 << 52, 0));
		ck_assert_int_eq(errno, ENOMEM);
	}
	ck_assert_uint_eq(kmalloc_nr_reclaims(), before);
}
END_TEST

/*
 * A zeroed page run comes from resident memory when there is some, zeroed
 * by memset: a clean block would cost a page fault at every page the
 * caller touches (buddy.c, __rmqueue; mimalloc's test-stress with large
 * objects made 45,000 faults a second so).  256 KiB: a page run, below
 * the vmalloc threshold.
 */
START_TEST(a_zeroed_page_run_reuses_resident_memory)
{
	const size_t len = 256 << 10;
	struct rusage before, after;
	unsigned char *p = kmalloc(len, 0);

	ck_assert_ptr_nonnull(p);
	memset(p, 0xab, len);
	kfree(p);
	getrusage(RUSAGE_SELF, &before);
	p = kzalloc(len, 0);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i += 64)
		ck_assert_msg(p[i] == 0, "kzalloc(%zu)[%zu] = %#x", len, i, p[i]);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	getrusage(RUSAGE_SELF, &after);
	kfree(p);
#ifndef __SANITIZE_ADDRESS__	/* whose shadow memory faults in too */
	ck_assert_msg(after.ru_minflt - before.ru_minflt < 16,
		      "a zeroed 256 KiB run took %ld page faults",
		      after.ru_minflt - before.ru_minflt);
#endif
}
END_TEST

/* ---- page runs ---- */

/* A page run is a whole buddy block (kmalloc_large.c says why): 40000 bytes
 * take a 16-page block, all of it the run's, usable and given back whole.
 * Only the head is marked; every other page keeps flags 0 and leads to
 * the head through large_run_head (page.h). */
START_TEST(page_runs_are_whole_blocks)
{
	size_t size = 40000;	/* 10 pages: a 16-page block */
	char *p = kmalloc(size, 0);
	struct page *head = virt_to_page(p);
	struct kmalloc_stats st;

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % (16 * PAGE_SIZE), 0);
	ck_assert_uint_eq(ksize(p), 16 * PAGE_SIZE);
	ck_assert(page_flags(head) & PG_large);
	ck_assert_uint_eq(head->nr_pages, 16);
	for (int i = 1; i < 16; i++) {
		ck_assert_uint_eq(page_flags(head + i), 0);
		ck_assert_ptr_eq(large_run_head(head + i), head);
	}
	ck_assert_ptr_null(large_run_head(head));	/* the head itself */
	kmalloc_get_stats(&st);
	ck_assert_uint_ge(st.large_bytes, 16 * PAGE_SIZE);
	memset(p, 1, ksize(p));
	kfree(p);
	for (int i = 1; i < 16; i++)
		ck_assert_ptr_null(large_run_head(head + i));
	ck_assert(!(page_flags(head) & PG_large));
}
END_TEST

START_TEST(krealloc_keeps_contents_across_paths)
{
	static const size_t steps[] = { 1, 17, 100, 128, 1000, 4000, 9000,
					32768, 40000, 200000, 900000, 1500000,
					3000000, 50000, 300, 5 };
	unsigned char *p = NULL;
	size_t have = 0;

	for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
		size_t n = steps[k];

		p = krealloc(p, n, 0);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_ge(ksize(p), n);
		for (size_t i = 0; i < MIN(have, n); i++)
			CHECK(p[i] == (unsigned char)(i * 7), "krealloc to %zu lost byte %zu", n, i);
		for (size_t i = 0; i < n; i++)
			p[i] = (unsigned char)(i * 7);
		have = n;
	}
	kfree(p);
}
END_TEST

START_TEST(krealloc_in_place)
{
	char *p = kmalloc(100, 0), *q;

	/* Same class: the same pointer. */
	ck_assert_ptr_eq(krealloc(p, 110, 0), p);
	q = krealloc(p, 200, 0);
	ck_assert_ptr_ne(q, p);
	kfree(q);
	/* A page run shrinks in place, giving back upper halves of its
	 * block (buddy blocks themselves): 49 pages in 64, then 13 in 16. */
	p = kmalloc(200000, 0);
	ck_assert_uint_eq(ksize(p), 64 * PAGE_SIZE);
	ck_assert_ptr_eq(krealloc(p, 50000, 0), p);
	ck_assert_uint_eq(ksize(p), 16 * PAGE_SIZE);
	ck_assert_ptr_eq(large_run_head(virt_to_page(p) + 15), virt_to_page(p));
	ck_assert_ptr_null(large_run_head(virt_to_page(p) + 16));
	/* Growing within the block stays in place too. */
	ck_assert_ptr_eq(krealloc(p, 60000, 0), p);
	kfree(p);
}
END_TEST

/* krealloc with __GFP_ZERO: what lies past the old block reads zero,
 * whether the run grew in place (its buddies taken) or moved; a buffer
 * doubled from 64 KiB to 2 MiB grows in place at some steps (that path
 * must be the one tested), its pages dirtied between rounds. */
START_TEST(krealloc_gfp_zero_zeroes_the_growth)
{
	unsigned int in_place = 0;

	for (int round = 0; round < 4; round++) {
		unsigned char *p = kmalloc(64 << 10, 0), *q;

		ck_assert_ptr_nonnull(p);
		memset(p, 0xff, ksize(p));
		for (size_t n = 128 << 10; n <= (2UL << 20); n *= 2) {
			size_t had = ksize(p);

			q = krealloc(p, n, __GFP_ZERO);
			ck_assert_ptr_nonnull(q);
			in_place += q == p;
			for (size_t i = 0; i < had; i += 61)
				CHECK(q[i] == 0xff, "byte %zu of the old block lost", i);
			for (size_t i = had; i < n; i++)
				CHECK(q[i] == 0, "byte %zu past the old block is %#x "
				      "(%s)", i, q[i], q == p ? "in place" : "moved");
			memset(q, 0xff, ksize(q));
			p = q;
		}
		memset(p, 0xee, ksize(p));	/* dirty pages for the next round */
		kfree(p);
	}
	ck_assert_uint_gt(in_place, 0);
}
END_TEST

/* ---- alignment ---- */

START_TEST(alignment_from_one_byte_to_one_gib)
{
	static const size_t sizes[] = { 1, 24, 100, 5000, 40000, 2 << 20 };

	for (unsigned int sh = 0; sh <= 30; sh++) {
		size_t align = (size_t)1 << sh;

		for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
			unsigned char *p;

			if (align >= (64UL << 20) && k != 0)
				continue;	/* keep the big ones few */
			p = kmem_kmalloc_aligned(sizes[k], align, 0);
			ck_assert_msg(p != NULL, "size %zu align %zu", sizes[k], align);
			ck_assert_msg(((uintptr_t)p & (align - 1)) == 0,
				      "%p: size %zu align %zu", p, sizes[k], align);
			ck_assert_uint_ge(ksize(p), sizes[k]);
			p[0] = 1;
			p[sizes[k] - 1] = 2;
			kfree(p);
		}
	}
	errno = 0;
	ck_assert_ptr_null(kmem_kmalloc_aligned(10, 24, 0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(small_aligned_objects_do_not_take_a_page)
{
	void *p[64];

	for (int i = 0; i < 64; i++) {
		p[i] = kmem_kmalloc_aligned(16, 64, 0);
		ck_assert_uint_eq((uintptr_t)p[i] % 64, 0);
		ck_assert_uint_eq(ksize(p[i]), 64);
	}
	for (int i = 0; i < 64; i++)
		kfree(p[i]);
	p[0] = kmem_kmalloc_aligned(100, 256, 0);
	ck_assert_uint_eq(ksize(p[0]), 256);
	kfree(p[0]);
	p[0] = kmem_kmalloc_aligned(3000, 1024, 0);
	ck_assert_uint_eq((uintptr_t)p[0] % 1024, 0);
	ck_assert_uint_eq(ksize(p[0]), 3072);
	kfree(p[0]);
	/* 8 KiB alignment from the slab of class 8k (order >= 1). */
	p[0] = kmem_kmalloc_aligned(5000, 8192, 0);
	ck_assert_uint_eq((uintptr_t)p[0] % 8192, 0);
	ck_assert(page_flags(compound_head(virt_to_page(p[0]))) & PG_slab);
	kfree(p[0]);
}
END_TEST

START_TEST(vmalloc_path_above_threshold)
{
	char *p = kmalloc(2 << 20, 0);

	ck_assert_ptr_nonnull(p);
	ck_assert(!kmem_addr_in_heap(p));
	ck_assert_uint_ge(ksize(p), 2 << 20);
	memset(p, 3, 2 << 20);
	kfree(p);
}
END_TEST

START_TEST(stats_count_slab_and_large_bytes)
{
	struct kmalloc_stats a, b;
	void *p[100], *big;

	kfree(kmalloc(1, 0));
	kmalloc_get_stats(&a);
	for (int i = 0; i < 100; i++)
		p[i] = kmalloc(1000, 0);
	big = kmalloc(100000, 0);
	kmalloc_get_stats(&b);
	ck_assert_uint_ge(b.slab_inuse, a.slab_inuse + 100 * 1024);
	ck_assert_uint_ge(b.large_bytes, a.large_bytes + 100000);
	ck_assert_uint_ge(b.slab_bytes, b.slab_inuse);
	for (int i = 0; i < 100; i++)
		kfree(p[i]);
	kfree(big);
}
END_TEST

/* ---- bad frees ---- */

static void kfree_stack(void *arg)
{
	int x;

	kfree(kmalloc(8, 0));
	kfree(&x);
}

static void kfree_glibc(void *arg)
{
	kfree(kmalloc(8, 0));
	kfree(malloc(32));
}

static void kfree_interior_slab(void *arg)
{
	char *p = kmalloc(100, 0);

	kfree(p + 16);
}

static void kfree_interior_run(void *arg)
{
	char *p = kmalloc(40000, 0);

	kfree(p + PAGE_SIZE);
}

static void kfree_twice_run(void *arg)
{
	char *p = kmalloc(100000, 0);

	kfree(p);
	kfree(p);
}

static void kfree_twice_slab(void *arg)
{
	char *p = kmalloc(100, 0);

	kfree(p);
	kfree(p);
}

static void ksize_bad(void *arg)
{
	int x;

	kfree(kmalloc(8, 0));
	ksize(&x);
}

START_TEST(bad_frees_are_reported_and_abort)
{
	expect_abort(kfree_stack, NULL, "kfree()", "never allocated by kmem");
	expect_abort(kfree_glibc, NULL, "kfree()", "never allocated by kmem");
	expect_abort(kfree_interior_slab, NULL, "middle of an object",
		     "kmalloc-112");
	expect_abort(kfree_interior_run, NULL, "middle of a block", "40000");
	expect_abort(kfree_twice_run, NULL, "double free or invalid pointer",
		     NULL);
	expect_abort(kfree_twice_slab, NULL, "double free", "kmalloc-112");
	expect_abort(ksize_bad, NULL, "ksize()", "never allocated by kmem");
}
END_TEST

static void debug_malloc_caches(void *arg)
{
	char *p;

	setenv("KMEM_DEBUG", "ZP", 1);
	p = kmalloc(40, 0);
	if (!kmem_cache_debug(kmalloc_caches[kmalloc_size_class(40)]))
		_exit(7);
	p[48] = 0;	/* past the class size: into the red zone */
	kfree(p);
}

START_TEST(kmem_debug_turns_on_red_zones_for_kmalloc)
{
	expect_abort(debug_malloc_caches, NULL, "kmalloc-48", "red zone");
}

/*
 * A malloc that a signal handler makes on a thread whose own malloc had
 * just given up a lock (kmem_bailed set, its fallback to the reserve still
 * to come) must leave the flag as it found it: clearing it made the
 * interrupted malloc return NULL (seen in tests/progs/fork_signal.c).
 * Here the handler's calls are made directly, over a flag set by hand.
 */
START_TEST(an_entry_leaves_the_bail_flag_as_it_found_it)
{
	void *p, *q;

	kfree(kmalloc(16, GFP_KERNEL));	/* initialise */
	for (uint8_t b = BAIL_SELF; b <= BAIL_BUSY; b++) {
		kmem_bailed = b;
		p = kmalloc(100, GFP_KERNEL);
		ck_assert_uint_eq(kmem_bailed, b);
		q = kmalloc(100000, GFP_KERNEL);	/* a page run */
		ck_assert_uint_eq(kmem_bailed, b);
		p = krealloc(p, 5000, GFP_KERNEL);
		ck_assert_uint_eq(kmem_bailed, b);
		q = krealloc(q, 3 << 20, GFP_KERNEL);	/* to vmalloc */
		ck_assert_uint_eq(kmem_bailed, b);
		kfree(p);
		kfree(q);
		p = kmem_kmalloc_aligned(64, 4096, GFP_KERNEL);
		ck_assert_uint_eq(kmem_bailed, b);
		ck_assert_ptr_nonnull(p);
		kfree(p);
	}
	kmem_bailed = BAIL_NONE;
}
END_TEST

END_TEST

static Suite *kmalloc_suite(void)
{
	Suite *s = suite_create("kmalloc");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, class_table_is_fine_and_lookup_is_exact);
	tcase_add_test(tc, every_size_gets_a_big_enough_block);
	tcase_add_test(tc, zero_size_gives_unique_pointers);
	tcase_add_test(tc, kzalloc_kcalloc_and_overflow);
	tcase_add_test(tc, an_unmappable_request_fails_without_a_reclaim);
	tcase_add_test(tc, a_zeroed_page_run_reuses_resident_memory);
	tcase_add_test(tc, page_runs_are_whole_blocks);
	tcase_add_test(tc, krealloc_keeps_contents_across_paths);
	tcase_add_test(tc, krealloc_in_place);
	tcase_add_test(tc, krealloc_gfp_zero_zeroes_the_growth);
	tcase_add_test(tc, alignment_from_one_byte_to_one_gib);
	tcase_add_test(tc, small_aligned_objects_do_not_take_a_page);
	tcase_add_test(tc, vmalloc_path_above_threshold);
	tcase_add_test(tc, stats_count_slab_and_large_bytes);
	tcase_add_test(tc, bad_frees_are_reported_and_abort);
	tcase_add_test(tc, kmem_debug_turns_on_red_zones_for_kmalloc);
	tcase_add_test(tc, an_entry_leaves_the_bail_flag_as_it_found_it);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kmalloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
