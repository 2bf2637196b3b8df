/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vmalloc.c - vmalloc areas (core/vmalloc.c), linked with
 * the core alone beside glibc's malloc.
 *
 * Covers: 1 GiB allocate/write/free, guard pages (SIGSEGV one byte past
 * the end and one before the start, in a child), vrealloc growth keeping
 * the contents (1 MiB -> 512 MiB) by mremap, shrinking, the freed-area
 * cache (10,000 vmalloc+vfree of 4 MiB with at most a handful of mmaps),
 * RSS going back after vfree + vmalloc_trim, alignment, vmalloc_covers,
 * threads, reported misuse (interior pointer, double free, foreign
 * pointer: SIGABRT with the message checked) and sizes near SIZE_MAX.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmem.h"
#include "options.h"
#include "os.h"
#include "vmalloc.h"

#define MiB (1UL << 20)
#define GiB (1UL << 30)

static struct vmalloc_stats stats(void)
{
	struct vmalloc_stats st;

	vmalloc_get_stats(&st);
	return st;
}

/*
 * Run fn(arg) in a child with stderr captured.  Returns the signal that
 * killed the child (0 if it exited) and copies what it wrote to stderr.
 */
static int run_child(void (*fn)(void *), void *arg, char *err, size_t size)
{
	int fd[2], status;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], 2);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	close(fd[1]);
	while (got + 1 < size &&
	       (r = read(fd[0], err + got, size - 1 - got)) > 0)
		got += (size_t)r;
	err[got] = '\0';
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

START_TEST(test_one_gib)
{
	struct vmalloc_stats before = stats(), after;
	unsigned char *p = kmem_vmalloc(GiB);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % PAGE_SIZE, 0);
	ck_assert_uint_ge(vmalloc_usable_size(p), GiB);
	ck_assert(is_vmalloc_addr(p));
	memset(p, 0xa5, GiB);
	for (size_t off = 0; off < GiB; off += 64 * MiB + 4093)
		ck_assert_uint_eq(p[off], 0xa5);
	ck_assert_uint_eq(p[GiB - 1], 0xa5);
	after = stats();
	ck_assert_uint_eq(after.nr_areas, before.nr_areas + 1);
	kmem_vfree(p);
	after = stats();
	ck_assert_uint_eq(after.nr_areas, before.nr_areas);
	/* Larger than the cache: unmapped at once. */
	ck_assert_uint_eq(after.cached_bytes, before.cached_bytes);
	ck_assert(!is_vmalloc_addr(p));
}
END_TEST

static void write_at(void *arg)
{
	*(volatile char *)arg = 1;
}

START_TEST(test_guard_after)
{
	static const size_t sizes[] = { 1, PAGE_SIZE, 3 * MiB + 5, 16 * MiB };
	char err[512];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = kmem_vmalloc(sizes[i]);
		size_t usable = vmalloc_usable_size(p);

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_ge(usable, sizes[i]);
		p[usable - 1] = 1;	/* the last byte is fine */
		ck_assert_int_eq(run_child(write_at, p + usable, err,
					   sizeof(err)), SIGSEGV);
		ck_assert_int_eq(run_child(write_at, p - 1, err, sizeof(err)),
				 SIGSEGV);
		ck_assert_int_eq(run_child(write_at, p + usable - 1, err,
					   sizeof(err)), 0);
		kmem_vfree(p);
	}
}
END_TEST

static void fill(unsigned char *p, size_t off, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[off + i] = (unsigned char)((off + i) * 31 + seed);
}

static void check(const unsigned char *p, size_t off, size_t len,
		  unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		ck_assert_uint_eq(p[off + i],
				  (unsigned char)((off + i) * 31 + seed));
}

START_TEST(test_realloc_grow)
{
	struct vmalloc_stats before = stats(), after;
	unsigned char *p = kmem_vmalloc(MiB), *q;
	char err[512];

	ck_assert_ptr_nonnull(p);
	fill(p, 0, MiB, 7);
	/* Straight from 1 MiB to 512 MiB. */
	q = kmem_vrealloc(p, 512 * MiB);
	ck_assert_ptr_nonnull(q);
	check(q, 0, MiB, 7);
	ck_assert_uint_ge(vmalloc_usable_size(q), 512 * MiB);
	q[512 * MiB - 1] = 3;
	q[MiB] = 4;
	ck_assert_int_eq(run_child(write_at, q + vmalloc_usable_size(q), err,
				   sizeof(err)), SIGSEGV);
	after = stats();
	ck_assert_uint_ge(after.nr_mremap, before.nr_mremap + 1);
	kmem_vfree(q);

	/* Doubling, with contents checked at several offsets each step. */
	p = kmem_vmalloc(MiB);
	ck_assert_ptr_nonnull(p);
	fill(p, 0, MiB, 9);
	for (size_t sz = 2 * MiB; sz <= 512 * MiB; sz *= 2) {
		q = kmem_vrealloc(p, sz);
		ck_assert_ptr_nonnull(q);
		check(q, 0, 4096, 9);
		check(q, MiB / 2 - 100, 200, 9);
		check(q, MiB - 4096, 4096, 9);
		fill(q, sz - 4096, 4096, 1);	/* the new part is writable */
		p = q;
	}
	check(p, 0, MiB, 9);
	for (size_t sz = 4 * MiB; sz <= 512 * MiB; sz *= 2)
		check(p, sz - 4096, 4096, 1);
	ck_assert_int_eq(run_child(write_at, p + 512 * MiB, err, sizeof(err)),
			 SIGSEGV);
	kmem_vfree(p);
}
END_TEST

START_TEST(test_realloc_shrink)
{
	unsigned char *p = kmem_vmalloc(64 * MiB), *q;
	char err[512];

	ck_assert_ptr_nonnull(p);
	fill(p, 0, 2 * MiB, 5);
	q = kmem_vrealloc(p, MiB);
	ck_assert_ptr_eq(q, p);
	check(q, 0, MiB, 5);
	ck_assert_uint_eq(vmalloc_usable_size(q), MiB);
	ck_assert_int_eq(run_child(write_at, q + MiB, err, sizeof(err)),
			 SIGSEGV);
	/* Grows back in place, into the old tail (now headroom), zeroed. */
	q = kmem_vrealloc(p, 32 * MiB);
	ck_assert_ptr_eq(q, p);
	check(q, 0, MiB, 5);
	ck_assert_uint_eq(q[MiB + 10], 0);
	kmem_vfree(q);
}
END_TEST

START_TEST(test_realloc_null_zero)
{
	void *p = kmem_vrealloc(NULL, 2 * MiB);

	ck_assert_ptr_nonnull(p);
	ck_assert(is_vmalloc_addr(p));
	errno = 0;
	ck_assert_ptr_null(kmem_vrealloc(p, 0));
	ck_assert(!is_vmalloc_addr(p));
}
END_TEST

START_TEST(test_cache_loop)
{
	struct vmalloc_stats before, after;
	void *first = NULL;

	before = stats();
	for (int i = 0; i < 10000; i++) {
		char *p = kmem_vmalloc(4 * MiB);

		ck_assert_ptr_nonnull(p);
		p[0] = (char)i;
		p[4 * MiB - 1] = (char)i;
		if (!first)
			first = p;
		kmem_vfree(p);
	}
	after = stats();
	ck_assert_uint_le(after.nr_mmap - before.nr_mmap, 5);
	ck_assert_uint_le(after.nr_munmap - before.nr_munmap, 5);
	ck_assert_uint_eq(after.cached_areas, 1);
	ck_assert_uint_eq(after.cached_bytes, 4 * MiB);
	ck_assert_uint_eq(vmalloc_trim(), 4 * MiB);
	ck_assert_uint_eq(stats().cached_areas, 0);
}
END_TEST

START_TEST(test_cache_reuse_zero)
{
	unsigned char *p, *q;

	/* Small (memset) and large (purge) cleared reuse. */
	for (size_t sz = MiB; sz <= 8 * MiB; sz *= 8) {
		p = kmem_vmalloc(sz);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xff, sz);
		kmem_vfree(p);
		q = kmem_vzalloc(sz);
		ck_assert_ptr_eq(q, p);	/* reused from the cache */
		for (size_t i = 0; i < sz; i += 509)
			ck_assert_uint_eq(q[i], 0);
		ck_assert_uint_eq(q[sz - 1], 0);
		kmem_vfree(q);
	}
	vmalloc_trim();
}
END_TEST

static void write_past(void *arg)
{
	((volatile unsigned char *)arg)[2 * MiB] = 1;
}

static void write_past_512k(void *arg)
{
	((volatile unsigned char *)arg)[512 * 1024] = 1;
}

static void write_before(void *arg)
{
	((volatile unsigned char *)arg)[-1] = 1;
}

/*
 * A cached area much larger than the request is cut in two: the request
 * gets its front, with a guard page right after it, and the rest (after a
 * guard of its own) is a cached area that the next request takes, its
 * pages still resident: no mmap, no page faults.
 */
/* AddressSanitizer checks every access to n bytes against n / 8 bytes of
 * shadow, whose pages fault in at their first access: page-fault bounds
 * allow for them (they made test_cache_reuse_trimmed's 32 a flaky bound:
 * 38 faults in 2 of 5 runs under SAN=address,undefined). */
#ifdef __SANITIZE_ADDRESS__
#define SHADOW_FAULTS(n) ((n) / 8 / PAGE_SIZE + 1)
#else
#define SHADOW_FAULTS(n) 0
#endif

/* Faults allowed while the two requests are served and read: kmem's own
 * (a radix-tree node, a guard page's split) are a few, and the shadow of
 * the 8 MiB read (111 faults measured under ASan). */
#define FAULTS_MAX (64 + SHADOW_FAULTS(8 * MiB))

START_TEST(test_cache_reuse_split)
{
	struct vmalloc_stats before, after;
	struct rusage ru0, ru1;
	unsigned char *p, *q, *r;
	char err[256];

	vmalloc_trim();
	p = kmem_vmalloc(32 * MiB);
	ck_assert_ptr_nonnull(p);
	memset(p, 0x5a, 32 * MiB);
	kmem_vfree(p);

	before = stats();
	getrusage(RUSAGE_SELF, &ru0);
	q = kmem_vmalloc(2 * MiB);
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(vmalloc_usable_size(q), 2 * MiB);
	r = kmem_vmalloc(8 * MiB);
	ck_assert_ptr_eq(r, p + 2 * MiB + 2 * PAGE_SIZE);
	for (size_t i = 0; i < 8 * MiB; i += PAGE_SIZE)
		ck_assert_uint_eq(r[i], 0x5a);	/* the old pages */
	getrusage(RUSAGE_SELF, &ru1);
	after = stats();
	/* No area mapped (the count includes the radix-tree node that the
	 * new area's start may need). */
	ck_assert_uint_le(after.nr_mmap - before.nr_mmap, 1);
	ck_assert_int_lt(ru1.ru_minflt - ru0.ru_minflt, FAULTS_MAX);
	ck_assert_int_eq(run_child(write_past, q, err, sizeof(err)), SIGSEGV);
	ck_assert_int_eq(run_child(write_before, r, err, sizeof(err)), SIGSEGV);
	kmem_vfree(q);
	kmem_vfree(r);
	vmalloc_trim();
}
END_TEST

/*
 * A cached area somewhat larger than the request (too little left over to
 * make a second area of) is reused with its tail turned into guarded
 * headroom that keeps its pages: the guard sits right after the request,
 * and growing back is one mprotect, no mmap, no mremap, no page fault
 * (the old contents are still there).  A smaller cached area is grown
 * with mremap, its pages coming along.
 */
START_TEST(test_cache_reuse_trimmed)
{
	struct vmalloc_stats before, after;
	struct rusage ru0, ru1;
	unsigned char *p, *q, *r;
	char err[256];
	const size_t big = 512 * 1024 + 200 * 1024;

	vmalloc_trim();
	p = kmem_vmalloc(big);
	ck_assert_ptr_nonnull(p);
	memset(p, 0x5a, big);
	kmem_vfree(p);

	before = stats();
	getrusage(RUSAGE_SELF, &ru0);
	q = kmem_vmalloc(512 * 1024);
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(vmalloc_usable_size(q), 512 * 1024);
	r = kmem_vrealloc(q, big);
	ck_assert_ptr_eq(r, q);
	for (size_t i = 0; i < big; i += PAGE_SIZE)
		r[i]++;
	getrusage(RUSAGE_SELF, &ru1);
	after = stats();
	ck_assert_uint_eq(r[big - PAGE_SIZE], 0x5b);
	ck_assert_uint_eq(after.nr_mmap, before.nr_mmap);
	ck_assert_uint_eq(after.nr_mremap, before.nr_mremap);
	ck_assert_uint_eq(after.nr_mprotect - before.nr_mprotect, 2);
	/* The pages were kept: far fewer faults than the 178 touched. */
	ck_assert_int_lt(ru1.ru_minflt - ru0.ru_minflt,
			 32 + SHADOW_FAULTS(big));
	kmem_vfree(r);

	/* Reused again, trimmed: one byte past 512 KiB hits the guard. */
	q = kmem_vmalloc(512 * 1024);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(run_child(write_past_512k, q, err, sizeof(err)),
			 SIGSEGV);
	kmem_vfree(q);

	/* Smaller than the request: grown, its pages kept. */
	getrusage(RUSAGE_SELF, &ru0);
	q = kmem_vmalloc(2 * MiB);
	ck_assert_ptr_nonnull(q);
	for (size_t i = 0; i < 512 * 1024; i += PAGE_SIZE)
		ck_assert_uint_ge(q[i], 0x5a);
	getrusage(RUSAGE_SELF, &ru1);
	ck_assert_int_lt(ru1.ru_minflt - ru0.ru_minflt,
			 64 + SHADOW_FAULTS(512 * 1024));
	kmem_vfree(q);
	vmalloc_trim();
}
END_TEST

START_TEST(test_cache_bounds)
{
	void *p[20];
	struct vmalloc_stats st;

	for (int i = 0; i < 20; i++)
		p[i] = kmem_vmalloc(MiB * (size_t)(i + 1));
	for (int i = 0; i < 20; i++)
		kmem_vfree(p[i]);
	st = stats();
	ck_assert_uint_le(st.cached_areas, 8);
	ck_assert_uint_le(st.cached_bytes, (size_t)kmem_opt(OPT_VMALLOC_CACHE));
	/* Aged out: with a delay of 0 the next call unmaps them. */
	kmem_option_values[OPT_PURGE_DELAY_MS] = 0;
	kmem_vfree(kmem_vmalloc(100 * PAGE_SIZE));
	st = stats();
	ck_assert_uint_le(st.cached_areas, 1);
	vmalloc_trim();
}
END_TEST

START_TEST(test_rss_returns)
{
	size_t start, peak, end;
	char *p[8];

	kmem_init();
	start = os_rss_bytes();
	for (int i = 0; i < 8; i++) {
		p[i] = kmem_vmalloc(32 * MiB);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], i + 1, 32 * MiB);
	}
	peak = os_rss_bytes();
	ck_assert_uint_ge(peak, start + 200 * MiB);
	for (int i = 0; i < 8; i++)
		kmem_vfree(p[i]);
	vmalloc_trim();
	end = os_rss_bytes();
	ck_assert_msg(end <= start + 8 * MiB,
		      "rss start %zu peak %zu end %zu", start, peak, end);
}
END_TEST

START_TEST(test_aligned)
{
	static const size_t aligns[] = { 8192, 2 * MiB, 64 * MiB, GiB };

	kmem_init();	/* __vmalloc trusts its caller to have done it */
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		char *p = __vmalloc(3 * MiB, aligns[i], 0);
		char err[256];

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % aligns[i], 0);
		p[0] = p[3 * MiB - 1] = 1;
		ck_assert_int_eq(run_child(write_at, p - 1, err, sizeof(err)),
				 SIGSEGV);
		__vfree(p);
	}
	vmalloc_trim();
}
END_TEST

START_TEST(test_covers)
{
	char *p = kmem_vmalloc(2 * MiB), stackbuf[16];

	ck_assert(vmalloc_covers(p, 1));
	ck_assert(vmalloc_covers(p + 2 * MiB, 1));		/* guard after */
	ck_assert(vmalloc_covers(p - PAGE_SIZE, PAGE_SIZE));	/* guard before */
	ck_assert(vmalloc_covers(p - 64 * MiB, 128 * MiB));	/* spans it */
	ck_assert(!vmalloc_covers(stackbuf, sizeof(stackbuf)));
	ck_assert(!is_vmalloc_addr(p + PAGE_SIZE));
	ck_assert_uint_eq(vmalloc_usable_size(p + PAGE_SIZE), 0);
	kmem_vfree(p);
	ck_assert(vmalloc_covers(p, 1));	/* cached: still ours */
	vmalloc_trim();
	ck_assert(!vmalloc_covers(p, 1));
}
END_TEST

START_TEST(test_print)
{
	char *p = kmem_vmalloc(3 * MiB), buf[4096];
	FILE *f = tmpfile();
	size_t n;

	vmalloc_print(f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, " vmalloc\n"));
	ck_assert_ptr_nonnull(strstr(buf, "pages=768"));
	kmem_vfree(p);
}
END_TEST

#define NR_THREADS 4

static void *thread_fn(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	const unsigned char tag = (unsigned char)seed;
	unsigned char *held[4] = { 0 };
	size_t sizes[4] = { 0 };

	for (int i = 0; i < 3000; i++) {
		int slot = (int)(rand_r(&seed) % 4);
		unsigned char *p = held[slot];

		if (p) {
			ck_assert_uint_eq(p[0], tag);
			ck_assert_uint_eq(p[sizes[slot] - 1], (unsigned char)(tag + 1));
			ck_assert_uint_ge(vmalloc_usable_size(p), sizes[slot]);
			if (rand_r(&seed) % 4 == 0) {
				size_t ns = sizes[slot] * 2;
				unsigned char a = p[0], b = p[sizes[slot] - 1];

				p = kmem_vrealloc(p, ns);
				ck_assert_ptr_nonnull(p);
				ck_assert_uint_eq(p[0], a);
				ck_assert_uint_eq(p[sizes[slot] - 1], b);
				kmem_vfree(p);
			} else {
				kmem_vfree(p);
			}
			held[slot] = NULL;
			continue;
		}
		sizes[slot] = (1 + rand_r(&seed) % 8) * MiB + rand_r(&seed) % 4096 + 1;
		p = kmem_vmalloc(sizes[slot]);
		ck_assert_ptr_nonnull(p);
		p[0] = tag;
		p[sizes[slot] - 1] = (unsigned char)(tag + 1);
		held[slot] = p;
	}
	for (int s = 0; s < 4; s++)
		kmem_vfree(held[s]);
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[NR_THREADS];
	struct vmalloc_stats st;

	for (uintptr_t i = 0; i < NR_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, thread_fn,
						(void *)(i * 7919 + 1)), 0);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	st = stats();
	ck_assert_uint_eq(st.nr_areas, 0);
	ck_assert_uint_eq(st.bytes, 0);
	vmalloc_trim();
	ck_assert_uint_eq(stats().cached_areas, 0);
}
END_TEST

static void free_it(void *arg)
{
	kmem_vfree(arg);
}

static void free_twice(void *arg)
{
	void *p = kmem_vmalloc((size_t)(uintptr_t)arg);

	kmem_vfree(p);
	kmem_vfree(p);
}

static void free_twice_unmapped(void *arg)
{
	void *p = kmem_vmalloc(2 * MiB);

	(void)arg;
	kmem_vfree(p);
	vmalloc_trim();
	kmem_vfree(p);
}

static void realloc_freed(void *arg)
{
	void *p = kmem_vmalloc(2 * MiB);

	(void)arg;
	kmem_vfree(p);
	kmem_vrealloc(p, 4 * MiB);
}

START_TEST(test_bad_free)
{
	char *p = kmem_vmalloc(2 * MiB), err[1024], want[256];
	static char not_ours[8192] __attribute__((aligned(4096)));

	ck_assert_int_eq(run_child(free_it, p + 0x1000, err, sizeof(err)),
			 SIGABRT);
	snprintf(want, sizeof(want),
		 "vfree(%p): pointer is 0x1000 bytes inside the area %p-%p "
		 "(size 2097152)", (void *)(p + 0x1000), (void *)p,
		 (void *)(p + 2 * MiB));
	ck_assert_msg(strstr(err, want), "got: %s", err);

	ck_assert_int_eq(run_child(free_it, p + 17, err, sizeof(err)), SIGABRT);
	ck_assert_ptr_nonnull(strstr(err, "0x11 bytes inside the area"));

	ck_assert_int_eq(run_child(free_twice, (void *)(uintptr_t)(2 * MiB),
				   err, sizeof(err)), SIGABRT);
	ck_assert_msg(strstr(err, "double free of the area"), "got: %s", err);
	/* Too big for the cache: unmapped at once, still recognised. */
	ck_assert_int_eq(run_child(free_twice, (void *)(uintptr_t)(128 * MiB),
				   err, sizeof(err)), SIGABRT);
	ck_assert_msg(strstr(err, "double free"), "got: %s", err);
	ck_assert_int_eq(run_child(free_twice_unmapped, NULL, err, sizeof(err)),
			 SIGABRT);
	ck_assert_msg(strstr(err, "double free"), "got: %s", err);
	ck_assert_int_eq(run_child(realloc_freed, NULL, err, sizeof(err)),
			 SIGABRT);
	ck_assert_msg(strstr(err, "vrealloc("), "got: %s", err);

	ck_assert_int_eq(run_child(free_it, not_ours, err, sizeof(err)),
			 SIGABRT);
	ck_assert_msg(strstr(err, "pointer was never allocated by kmem"),
		      "got: %s", err);
	/* The parent's area is untouched by all that. */
	ck_assert(is_vmalloc_addr(p));
	kmem_vfree(p);
}
END_TEST

/* KMEM_ABORT=0: each misuse is reported once, and the operation dropped. */
static void bad_free_continue(void *arg)
{
	char *p = kmem_vmalloc(2 * MiB);

	(void)arg;
	kmem_option_values[OPT_ABORT] = 0;
	fprintf(stderr, "AREA %p\n", (void *)p);
	kmem_vfree(p + PAGE_SIZE);			/* interior */
	fprintf(stderr, "STEP1\n");
	if (!is_vmalloc_addr(p))
		_exit(2);				/* freed anyway */
	p[0] = 1;
	p[2 * MiB - 1] = 1;				/* still mapped */
	kmem_vfree(p);
	kmem_vfree(p);					/* double free */
	fprintf(stderr, "STEP2\n");
	if (kmem_vrealloc(p + PAGE_SIZE, 4 * MiB))	/* freed, interior */
		_exit(3);
	if (stats().nr_areas != 0)
		_exit(4);
	fprintf(stderr, "DONE\n");
}

/* Reports ("kmem: ERROR: ") in err between two marker lines. */
static int reports_between(const char *err, const char *from, const char *to)
{
	const char *a = from ? strstr(err, from) : err;
	const char *b = to ? strstr(err, to) : err + strlen(err);
	int n = 0;

	if (!a || !b || b < a)
		return -1;
	for (const char *r = a; (r = strstr(r, "kmem: ERROR: ")) && r < b; r++)
		n++;
	return n;
}

START_TEST(test_bad_free_continue)
{
	char err[4096], want[256];
	void *area = NULL;
	const char *s;

	ck_assert_int_eq(run_child(bad_free_continue, NULL, err, sizeof(err)),
			 0);
	ck_assert_msg(strstr(err, "DONE\n"), "child stopped early:\n%s", err);
	ck_assert_msg(!strstr(err, "kmem: aborting"), "%s", err);
	s = strstr(err, "AREA ");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sscanf(s, "AREA %p", &area), 1);
	/* The interior vfree names the pointer and the area. */
	ck_assert_msg(reports_between(err, "AREA", "STEP1") == 1, "%s", err);
	snprintf(want, sizeof(want), "vfree(%p): pointer is 0x1000 bytes "
		 "inside the area %p-", (void *)((char *)area + PAGE_SIZE),
		 area);
	ck_assert_msg(strstr(err, want), "no \"%s\" in:\n%s", want, err);
	/* The second vfree is a double free, the first one was not. */
	ck_assert_msg(reports_between(err, "STEP1", "STEP2") == 1, "%s", err);
	ck_assert_msg(strstr(strstr(err, "STEP1"), "double free"), "%s", err);
	/* vrealloc of a pointer into a freed area: reported, NULL. */
	ck_assert_msg(reports_between(err, "STEP2", "DONE") == 1, "%s", err);
	ck_assert_msg(strstr(strstr(err, "STEP2"), "kmem: ERROR: vrealloc(") &&
		      strstr(strstr(err, "STEP2"), "inside the freed area"),
		      "%s", err);
}
END_TEST

START_TEST(test_huge_sizes)
{
	static const size_t sizes[] = {
		SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - PAGE_SIZE,
		SIZE_MAX - 2 * PAGE_SIZE, SIZE_MAX / 2, (size_t)1 << 62,
		(size_t)1 << 48,
	};
	void *p = kmem_vmalloc(MiB);	/* also initialises kmem */

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(kmem_vmalloc(sizes[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(kmem_vzalloc(sizes[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(kmem_vrealloc(p, sizes[i]));
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert(is_vmalloc_addr(p));	/* left intact */
		ck_assert_ptr_null(__vmalloc(sizes[i], GiB, 0));
	}
	errno = 0;
	ck_assert_ptr_null(kmem_vmalloc(0));
	ck_assert_int_eq(errno, ENOMEM);
	kmem_vfree(p);
	kmem_vfree(NULL);
	ck_assert_uint_eq(stats().nr_areas, 0);
}
END_TEST

static Suite *vmalloc_suite(void)
{
	Suite *s = suite_create("vmalloc");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_one_gib);
	tcase_add_test(tc, test_guard_after);
	tcase_add_test(tc, test_realloc_grow);
	tcase_add_test(tc, test_realloc_shrink);
	tcase_add_test(tc, test_realloc_null_zero);
	tcase_add_test(tc, test_cache_loop);
	tcase_add_test(tc, test_cache_reuse_zero);
	tcase_add_test(tc, test_cache_reuse_trimmed);
	tcase_add_test(tc, test_cache_reuse_split);
	tcase_add_test(tc, test_cache_bounds);
	tcase_add_test(tc, test_rss_returns);
	tcase_add_test(tc, test_aligned);
	tcase_add_test(tc, test_covers);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_bad_free);
	tcase_add_test(tc, test_bad_free_continue);
	tcase_add_test(tc, test_huge_sizes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vmalloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
