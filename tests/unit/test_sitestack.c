/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_sitestack.c - the stack kept per call site
 * (core/sitestack.c): the first call through a site keeps the whole stack
 * from the site outwards, later calls through the same site (from other
 * paths) leave it as it is, distinct sites keep their own, site 0 is
 * ignored, and many threads noting at once each find one consistent
 * stack.  The functions are noinline and exported (-rdynamic), so dladdr
 * names them.
 */
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sitestack.h"

static const char *frame_name(unsigned long ip)
{
	Dl_info info;

	if (!dladdr((void *)(ip - 1), &info) || !info.dli_sname)
		return "?";
	return info.dli_sname;
}

static bool has_frame(const unsigned long *ips, unsigned int n,
		      const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(frame_name(ips[i]), name))
			return true;
	return false;
}

/* What an allocator entry point does: note the site it was called from
 * and return it. */
__attribute__((noinline)) unsigned long ss_entry(void)
{
	unsigned long site = (unsigned long)__builtin_return_address(0);

	site_stack_note(site);
	__asm__ volatile("" ::: "memory");
	return site;
}

__attribute__((noinline)) unsigned long ss_path_b(void)
{
	unsigned long s = ss_entry();

	__asm__ volatile("" ::: "memory");
	return s;
}

__attribute__((noinline)) unsigned long ss_path_a(void)
{
	unsigned long s = ss_path_b();

	__asm__ volatile("" ::: "memory");
	return s;
}

__attribute__((noinline)) unsigned long ss_other_site(void)
{
	unsigned long s = ss_entry();

	__asm__ volatile("" ::: "memory");
	return s;
}

__attribute__((noinline)) unsigned long ss_other_path(void)
{
	unsigned long s = ss_path_b();	/* the same site as ss_path_a's */

	__asm__ volatile("" ::: "memory");
	return s;
}

START_TEST(first_call_keeps_the_whole_stack)
{
	const unsigned long *ips;
	unsigned long site = ss_path_a(), again;
	unsigned int n = site_stack_get(site, &ips);

	ck_assert_uint_ge(n, 3);
	ck_assert_uint_eq(ips[0], site);	/* from the site outwards */
	ck_assert_str_eq(frame_name(ips[0]), "ss_path_b");
	ck_assert(has_frame(ips, n, "ss_path_a"));
	ck_assert(!has_frame(ips, n, "ss_entry"));	/* the callee is left out */
	/* The same site from another path: the first stack stays. */
	again = ss_other_path();
	ck_assert_uint_eq(again, site);
	n = site_stack_get(site, &ips);
	ck_assert(has_frame(ips, n, "ss_path_a"));
	ck_assert(!has_frame(ips, n, "ss_other_path"));
}
END_TEST

START_TEST(distinct_sites_keep_their_own)
{
	const unsigned long *ips;
	unsigned long a = ss_path_a(), b = ss_other_site();
	unsigned int n;

	ck_assert_uint_ne(a, b);
	n = site_stack_get(b, &ips);
	ck_assert_uint_ge(n, 2);
	ck_assert_str_eq(frame_name(ips[0]), "ss_other_site");
	n = site_stack_get(a, &ips);
	ck_assert_str_eq(frame_name(ips[0]), "ss_path_b");
	/* Never noted, and 0: nothing. */
	ck_assert_uint_eq(site_stack_get((unsigned long)&frame_name + 1, &ips), 0);
	site_stack_note(0);
	ck_assert_uint_eq(site_stack_get(0, &ips), 0);
}
END_TEST

void *note_many(void *arg);
void *note_many(void *arg)
{
	unsigned long *out = arg;

	for (int i = 0; i < 1000; i++)
		*out = ss_path_a();
	return NULL;
}

START_TEST(threads_noting_at_once_see_one_stack)
{
	pthread_t t[8];
	unsigned long sites[8];
	const unsigned long *ips;
	unsigned int n;

	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, note_many, &sites[i]), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 1; i < 8; i++)
		ck_assert_uint_eq(sites[i], sites[0]);
	n = site_stack_get(sites[0], &ips);
	ck_assert_uint_ge(n, 3);
	ck_assert_uint_eq(ips[0], sites[0]);
	ck_assert(has_frame(ips, n, "ss_path_a"));
	ck_assert(has_frame(ips, n, "note_many"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sitestack");
	TCase *tc = tcase_create("sites");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, first_call_keeps_the_whole_stack);
	tcase_add_test(tc, distinct_sites_keep_their_own);
	tcase_add_test(tc, threads_noting_at_once_see_one_stack);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
