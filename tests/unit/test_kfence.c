/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_kfence.c - the sampled guard pool (core/kfence.c) on its
 * own, through kfence_alloc/kfence_free as kmalloc's sampler calls them.
 *
 * What it promises, each checked here: a block lies in its own page of
 * the pool, against the left guard or the right one in turn (the right
 * end of the block at the page's end, up to 16-byte alignment); its page
 * is accessible while it lives and inaccessible after its free, and so
 * are the guards always; a slot never used is taken before a freed one,
 * and among freed ones the slot freed longest ago; a full pool refuses
 * (NULL, counted as skipped) and serves again after a free; ksize is the
 * size asked; __GFP_ZERO zeroes; a freed block's page is no longer
 * resident (its frame went back to the kernel), and its slot serves
 * again with fresh canaries.  Each test runs in its own process
 * (check's fork mode), so each starts with a pool never mapped.
 *
 * Accessibility is probed without a fault: write(2) into a pipe from a
 * page the process may not read fails with EFAULT.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kfence.h"

static int probe[2] = { -1, -1 };

/* Whether the byte at p can be read: write(2) into a pipe copies it, or
 * fails with EFAULT (/dev/null would not even look at it). */
static bool readable(uintptr_t p)
{
	char c;
	ssize_t n;

	if (probe[0] < 0)
		ck_assert_int_eq(pipe(probe), 0);
	n = write(probe[1], (const void *)p, 1);
	ck_assert_msg(n == 1 || errno == EFAULT, "write: %s", strerror(errno));
	if (n == 1)
		ck_assert_int_eq(read(probe[0], &c, 1), 1);
	return n == 1;
}

static uintptr_t page_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1);
}

START_TEST(blocks_alternate_between_the_guards)
{
	unsigned int left = 0, right = 0;

	for (unsigned int i = 0; i < 8; i++) {
		size_t size = 100 + 37 * i;
		unsigned char *p = kfence_alloc(size, 0, 0);
		uintptr_t pg;

		ck_assert_ptr_nonnull(p);
		ck_assert(kfence_owns(p));
		pg = page_of(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		if ((uintptr_t)p == pg) {
			left++;
		} else {
			ck_assert_uint_eq((uintptr_t)p + ALIGN_UP(size, 16),
					  pg + PAGE_SIZE);
			right++;
		}
		/* The block is usable, both guards are not. */
		memset(p, 0x5a, size);
		ck_assert(readable(pg) && readable(pg + PAGE_SIZE - 1));
		ck_assert(!readable(pg - 1));
		ck_assert(!readable(pg + PAGE_SIZE));
		ck_assert_uint_eq(kfence_ksize(p, "test"), size);
		/* Consecutive blocks take different sides. */
		ck_assert_uint_le(left > right ? left - right : right - left, 1);
	}
	ck_assert_uint_eq(left, 4);
	ck_assert_uint_eq(right, 4);
}
END_TEST

START_TEST(a_freed_block_is_inaccessible)
{
	unsigned char *p = kfence_alloc(64, 0, 0);
	uintptr_t pg = page_of(p);
	struct kfence_stats st;

	ck_assert_ptr_nonnull(p);
	kfence_get_stats(&st);
	ck_assert_uint_eq(st.allocated, 1);
	p[0] = 1;
	kfence_free(p, "test", 0);
	ck_assert(!readable((uintptr_t)p));
	ck_assert(!readable(pg + PAGE_SIZE - 1));
	kfence_get_stats(&st);
	ck_assert_uint_eq(st.allocated, 0);
	ck_assert_uint_eq(st.total, 1);
}
END_TEST

static bool resident(uintptr_t pg)
{
	unsigned char v = 0;

	ck_assert_int_eq(mincore((void *)pg, PAGE_SIZE, &v), 0);
	return v & 1;
}

START_TEST(a_freed_block_gives_its_page_back)
{
	enum { N = 8 };
	unsigned char *p[N];

	for (int i = 0; i < N; i++) {
		p[i] = kfence_alloc(100, 0, 0);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], 0x5a, 100);
		ck_assert(resident(page_of(p[i])));
	}
	for (int i = 0; i < N; i++) {
		kfence_free(p[i], "test", 0);
		ck_assert_msg(!resident(page_of(p[i])), "the page of freed "
			      "block %d is still resident", i);
	}
	/* The slots serve again (the oldest free first, once the unused
	 * ones are gone): the canaries are checked at the next free. */
	for (int i = 0; i < N; i++) {
		unsigned char *q = kfence_alloc(100, 0, 0);

		ck_assert_ptr_nonnull(q);
		q[0] = 1;
		kfence_free(q, "test", 0);
	}
}
END_TEST

START_TEST(gfp_zero_zeroes_and_the_rest_of_the_page_is_canaries)
{
	unsigned char *p = kfence_alloc(200, __GFP_ZERO, 0);

	ck_assert_ptr_nonnull(p);
	for (unsigned int i = 0; i < 200; i++)
		ck_assert_uint_eq(p[i], 0);
	/* The bytes after the block are not zero: canaries to check at free. */
	ck_assert_uint_ne(p[200], 0);
	kfence_free(p, "test", 0);
}
END_TEST

START_TEST(unused_slots_first_then_the_oldest_free)
{
	void *live[KFENCE_NR_OBJECTS];
	void *a = kfence_alloc(32, 0, 0), *b;
	uintptr_t freed_first, freed_second;

	ck_assert_ptr_nonnull(a);
	kfence_free(a, "test", 0);
	/* A never-used slot is taken before a's. */
	b = kfence_alloc(32, 0, 0);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_ne(page_of(b), page_of(a));
	kfence_free(b, "test", 0);
	/* Fill every slot: the last two must be a's and b's pages. */
	for (unsigned int i = 0; i < KFENCE_NR_OBJECTS; i++) {
		live[i] = kfence_alloc(32, 0, 0);
		ck_assert_ptr_nonnull(live[i]);
	}
	ck_assert_uint_eq(page_of(live[KFENCE_NR_OBJECTS - 2]), page_of(a));
	ck_assert_uint_eq(page_of(live[KFENCE_NR_OBJECTS - 1]), page_of(b));
	/* Free two in a known order (10, then 3): 10 comes back first. */
	freed_first = page_of(live[10]);
	freed_second = page_of(live[3]);
	kfence_free(live[10], "test", 0);
	usleep(1000);
	kfence_free(live[3], "test", 0);
	live[10] = kfence_alloc(48, 0, 0);
	live[3] = kfence_alloc(48, 0, 0);
	ck_assert_uint_eq(page_of(live[10]), freed_first);
	ck_assert_uint_eq(page_of(live[3]), freed_second);
	for (unsigned int i = 0; i < KFENCE_NR_OBJECTS; i++)
		kfence_free(live[i], "test", 0);
}
END_TEST

START_TEST(a_full_pool_refuses_and_serves_again_after_a_free)
{
	void *live[KFENCE_NR_OBJECTS];
	struct kfence_stats st;

	for (unsigned int i = 0; i < KFENCE_NR_OBJECTS; i++) {
		live[i] = kfence_alloc(16, 0, 0);
		ck_assert_ptr_nonnull(live[i]);
		for (unsigned int j = 0; j < i; j++)
			ck_assert_uint_ne(page_of(live[j]), page_of(live[i]));
	}
	ck_assert_ptr_null(kfence_alloc(16, 0, 0));
	ck_assert_ptr_null(kfence_alloc(16, 0, 0));
	kfence_get_stats(&st);
	ck_assert_uint_eq(st.allocated, KFENCE_NR_OBJECTS);
	ck_assert_uint_eq(st.skipped, 2);
	kfence_free(live[100], "test", 0);
	live[100] = kfence_alloc(16, 0, 0);
	ck_assert_ptr_nonnull(live[100]);
	for (unsigned int i = 0; i < KFENCE_NR_OBJECTS; i++)
		kfence_free(live[i], "test", 0);
	kfence_get_stats(&st);
	ck_assert_uint_eq(st.allocated, 0);
	ck_assert_uint_eq(st.total, KFENCE_NR_OBJECTS + 1);
}
END_TEST

START_TEST(too_big_is_never_sampled)
{
	ck_assert_ptr_null(kfence_alloc(KFENCE_MAX_SIZE + 1, 0, 0));
	ck_assert_ptr_nonnull(kfence_alloc(KFENCE_MAX_SIZE, 0, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kfence");
	TCase *tc = tcase_create("pool");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, blocks_alternate_between_the_guards);
	tcase_add_test(tc, a_freed_block_is_inaccessible);
	tcase_add_test(tc, a_freed_block_gives_its_page_back);
	tcase_add_test(tc, gfp_zero_zeroes_and_the_rest_of_the_page_is_canaries);
	tcase_add_test(tc, unused_slots_first_then_the_oldest_free);
	tcase_add_test(tc, a_full_pool_refuses_and_serves_again_after_a_free);
	tcase_add_test(tc, too_big_is_never_sampled);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
