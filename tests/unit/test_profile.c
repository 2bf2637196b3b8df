/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_profile.c - the heap profile recorder (core/profile.c)
 * through its internal API, as the malloc path will call it.
 *
 * A sampler like the one the malloc path will have (a countdown of bytes
 * drawn from prof_next_interval) runs over a known allocation pattern from
 * three call sites; the profile dump must attribute to each site its
 * bytes within sampling error (four standard deviations, computed for the
 * site's sizes).  Also: the interval distribution, the weights, frees,
 * the bound on live samples, the dump's format, and concurrent use.
 */
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"

#define RATE 1024
#define MAXS 20000

static long countdown;
static uintptr_t next_fake = 0x100000;	/* fake, unique "pointers" */

/* The malloc path's part, as it will be: decide, then record.  The
 * recorded stack starts at this function's caller (the call site). */
__attribute__((noinline)) void *fake_malloc(size_t size)
{
	void *p = (void *)next_fake;

	next_fake += (size + 15) & ~15UL;
	if (!countdown)
		countdown = (long)prof_next_interval();
	countdown -= (long)size;
	if (countdown <= 0) {
		countdown = (long)prof_next_interval();
		prof_record_alloc(p, size, prof_sample_weight(size));
	}
	__asm__ volatile("" ::: "memory");
	return p;
}

static void *objs_a[3000];

__attribute__((noinline)) void site_a(void)
{
	for (int i = 0; i < 3000; i++)
		objs_a[i] = fake_malloc(1000);	/* 3,000,000 bytes */
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_b(void)
{
	for (int i = 0; i < 1000; i++)
		fake_malloc(1000);		/* 1,000,000 bytes */
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_c(void)
{
	for (int i = 0; i < 10000; i++)
		fake_malloc(100);		/* 1,000,000 bytes */
	__asm__ volatile("" ::: "memory");
}

/* 4 standard deviations of a site's estimate: n allocations of size. */
static double bound(int n, double size)
{
	double p = 1 - exp(-size / RATE);

	return 4 * size * sqrt(n * (1 - p) / p);
}

struct site_sum {
	const char *name;
	double bytes;
	long lines;
};

/* Dump to a file, then sum the bytes of each sample by its first frame. */
static void dump_and_sum(struct site_sum *sums, int nsums, bool handler,
			 char *header, size_t hlen)
{
	char path[] = "/tmp/kmem-prof-test.XXXXXX", line[8192];
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(prof_dump(fd, handler), 0);
	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "r");
	ck_assert(f != NULL);
	ck_assert(fgets(header, (int)hlen, f) != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned long objs, bytes, ip;
		char *at = strchr(line, '@');
		Dl_info info;

		if (!strncmp(line, "MAPPED_LIBRARIES:", 17))
			break;
		if (sscanf(line, "%lu: %lu", &objs, &bytes) != 2 || !at)
			continue;
		ck_assert_int_eq(sscanf(at + 1, " 0x%lx", &ip), 1);
		if (!dladdr((void *)(ip - 1), &info) || !info.dli_sname)
			continue;
		for (int i = 0; i < nsums; i++)
			if (!strcmp(info.dli_sname, sums[i].name)) {
				sums[i].bytes += (double)bytes;
				sums[i].lines++;
			}
	}
	fclose(f);
}

START_TEST(intervals_are_exponential_with_the_mean_asked)
{
	double sum = 0, sq = 0;
	int n = 200000, small = 0;

	ck_assert_uint_eq(prof_rate, RATE);
	for (int i = 0; i < n; i++) {
		double v = (double)prof_next_interval();

		ck_assert(v >= 1);
		sum += v;
		sq += v * v;
		small += v < RATE * 0.6931;	/* the median: ln 2 * mean */
	}
	/* Mean and standard deviation both the rate; half below ln 2. */
	ck_assert_msg(fabs(sum / n - RATE) < RATE * 0.02, "mean %f", sum / n);
	ck_assert_msg(fabs(sqrt(sq / n - (sum / n) * (sum / n)) - RATE) <
		      RATE * 0.04, "sd off");
	ck_assert_msg(abs(small - n / 2) < n / 50, "median off: %d", small);
}
END_TEST

START_TEST(weights_undo_the_sampling_chance)
{
	/* size / (1 - e^(-size/rate)) */
	ck_assert_uint_eq(prof_sample_weight(RATE),
			  (size_t)(RATE / (1 - exp(-1.0)) + 0.5));
	ck_assert_uint_eq(prof_sample_weight(8), (size_t)(8 / (1 - exp(-8.0 / RATE)) + 0.5));
	ck_assert_uint_eq(prof_sample_weight(1 << 20), 1 << 20);
	ck_assert_uint_eq(prof_sample_weight(0), 0);
	for (size_t s = 1; s < 100000; s = s * 3 + 1) {
		double want = s / (1 - exp(-(double)s / RATE));

		ck_assert_msg(fabs(prof_sample_weight(s) - want) <= 1 + want * 1e-9,
			      "weight(%zu) = %zu, want %f", s,
			      prof_sample_weight(s), want);
	}
}
END_TEST

START_TEST(bytes_are_attributed_to_their_call_sites)
{
	struct site_sum sums[] = { { "site_a", 0, 0 }, { "site_b", 0, 0 },
				   { "site_c", 0, 0 } };
	struct prof_stats st;
	char header[256];
	unsigned long hobjs, hbytes;

	site_a();
	site_b();
	site_c();
	prof_get_stats(&st);
	ck_assert_uint_eq(st.dropped, 0);
	dump_and_sum(sums, 3, false, header, sizeof(header));
	ck_assert_msg(sscanf(header, "heap profile: %lu: %lu", &hobjs, &hbytes) == 2 &&
		      strstr(header, "@ heapprofile"), "header %s", header);
	ck_assert_uint_eq(hbytes, st.live_bytes);
	printf("  site_a %.0f (3000000 +- %.0f), site_b %.0f (1000000 +- %.0f), "
	       "site_c %.0f (1000000 +- %.0f), %zu samples\n",
	       sums[0].bytes, bound(3000, 1000), sums[1].bytes,
	       bound(1000, 1000), sums[2].bytes, bound(10000, 100), st.live);
	ck_assert(fabs(sums[0].bytes - 3e6) < bound(3000, 1000));
	ck_assert(fabs(sums[1].bytes - 1e6) < bound(1000, 1000));
	ck_assert(fabs(sums[2].bytes - 1e6) < bound(10000, 100));
	ck_assert(sums[0].lines > 0 && sums[1].lines > 0 && sums[2].lines > 0);

	/* Free half of site_a's objects: its live bytes halve. */
	for (int i = 0; i < 3000; i += 2)
		prof_record_free(objs_a[i]);
	sums[0].bytes = sums[1].bytes = sums[2].bytes = 0;
	dump_and_sum(sums, 3, true, header, sizeof(header));
	ck_assert_msg(fabs(sums[0].bytes - 1.5e6) < bound(1500, 1000),
		      "site_a after frees: %f", sums[0].bytes);
	ck_assert(fabs(sums[1].bytes - 1e6) < bound(1000, 1000));
	/* Freeing what was never sampled (or freeing twice) does nothing. */
	prof_get_stats(&st);
	for (int i = 0; i < 3000; i += 2)
		prof_record_free(objs_a[i]);
	prof_record_free((void *)0x12345);
	prof_record_free(NULL);
	{
		struct prof_stats st2;

		prof_get_stats(&st2);
		ck_assert_uint_eq(st2.live, st.live);
		ck_assert_uint_eq(st2.live_bytes, st.live_bytes);
	}
}
END_TEST

START_TEST(dump_is_pprof_heap_format_with_the_maps)
{
	char path[] = "/tmp/kmem-prof-test.XXXXXX", buf[1 << 16];
	int fd = mkstemp(path);
	ssize_t n;

	unlink(path);
	fake_malloc(1 << 20);	/* certainly sampled */
	ck_assert_int_eq(prof_dump(fd, false), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert(!strncmp(buf, "heap profile: ", 14));
	ck_assert(strstr(buf, "\n     1:  1048576 [     1:  1048576] @ 0x") != NULL);
	ck_assert(strstr(buf, "\nMAPPED_LIBRARIES:\n") != NULL);
	ck_assert(strstr(buf, "test_profile") != NULL);	/* a maps line */
	close(fd);
}
END_TEST

START_TEST(live_samples_are_bounded)
{
	struct prof_stats st;

	for (int i = 0; i < MAXS + 100; i++)
		prof_record_alloc((void *)(0x40000000UL + 16UL * i), 64, 64);
	prof_get_stats(&st);
	ck_assert_uint_eq(st.max, MAXS);
	ck_assert_uint_eq(st.live, MAXS);
	ck_assert_uint_eq(st.dropped, 100);
	/* Freed slots are used again; tombstones are cleared as it goes. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < MAXS; i++)
			prof_record_free((void *)(0x40000000UL + 16UL * i));
		prof_get_stats(&st);
		ck_assert_uint_eq(st.live, 0);
		ck_assert_uint_eq(st.live_bytes, 0);
		for (int i = 0; i < MAXS; i++)
			prof_record_alloc((void *)(0x40000000UL + 16UL * i), 64, 64);
		prof_get_stats(&st);
		ck_assert_uint_eq(st.live, MAXS);
		ck_assert_uint_eq(st.dropped, 100);
	}
}
END_TEST

#define NTHREADS 4
#define PER_THREAD 20000

static void *churn(void *arg)
{
	uintptr_t base = 0x7000000000UL + (uintptr_t)arg * 0x100000000UL;

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < PER_THREAD; i++)
			if (i % 7 == 0)
				prof_record_alloc((void *)(base + 16UL * i), 32, 100);
		for (int i = 0; i < PER_THREAD; i++)
			prof_record_free((void *)(base + 16UL * i));
	}
	for (int i = 0; i < PER_THREAD; i++)
		if (i % 7 == 0)
			prof_record_alloc((void *)(base + 16UL * i), 32, 100);
	return NULL;
}

START_TEST(concurrent_records_and_frees_stay_consistent)
{
	pthread_t t[NTHREADS];
	struct prof_stats st;
	size_t each = (PER_THREAD + 6) / 7;

	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	prof_get_stats(&st);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.live, NTHREADS * each);
	ck_assert_uint_eq(st.live_bytes, NTHREADS * each * 100);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("recorder");
	SRunner *sr;
	int failed;

	/* Read by the core's first initialisation (in each test's child). */
	setenv("KMEM_PROF", "1024", 1);
	setenv("KMEM_PROF_MAX", "20000", 1);
	setenv("KMEM_PROF_DUMP", "", 1);
	kmem_trim();	/* initialises kmem here, so every test has it */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, intervals_are_exponential_with_the_mean_asked);
	tcase_add_test(tc, weights_undo_the_sampling_chance);
	tcase_add_test(tc, bytes_are_attributed_to_their_call_sites);
	tcase_add_test(tc, dump_is_pprof_heap_format_with_the_maps);
	tcase_add_test(tc, live_samples_are_bounded);
	tcase_add_test(tc, concurrent_records_and_frees_stay_consistent);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
