/* SPDX-License-Identifier: MIT */
/*
 * tests/api/test_malloc_api.c - every entry point of the malloc ABI, with
 * glibc's rules as the reference.
 *
 * Linked with libkmem.so, so malloc here IS kmem's (checked first: the
 * symbol must resolve into libkmem.so).  Named edge cases: sizes 0, 1,
 * every size up to 16 KiB, powers of two +-1 up to 64 MiB, near SIZE_MAX;
 * alignment from 1 byte to 1 GiB; realloc across every path (slab to slab,
 * slab to pages, pages to vmalloc and back); errno rules; statistics; the
 * mmap/munmap/mremap protection.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kmem.h>

/* The point of several cases is to pass sizes that cannot be met. */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
/* ... and to free pointers that malloc never returned. */
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"

void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);
void *__libc_memalign(size_t, size_t);
void *__libc_valloc(size_t);
void *__libc_pvalloc(size_t);
int __posix_memalign(void **, size_t, size_t);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

/* Fill [p, p+n) with a pattern that depends on seed and position. */
static void fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

/* Index of the first byte that differs from the pattern, or n. */
static size_t check_fill(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed + i * 7 + (i >> 8)))
			return i;
	return n;
}

/* Touch a large block sparsely: 64 bytes spread over it and both ends
 * (the test must not fault in gigabytes). */
static void touch(void *p, size_t n)
{
	unsigned char *c = p;
	size_t stride = n / 64 > 4096 ? n / 64 : 4096;

	for (size_t i = 0; i < n; i += stride)
		c[i] = (unsigned char)i;
	if (n)
		c[n - 1] = 0xa5;
}

/* How many bytes of [p, p+n) equal c. */
static int count_bytes(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += b[i] == c;
	return k;
}

/* The alignment C promises for a block of size n (fundamental types). */
static size_t min_align(size_t n)
{
	size_t a = 16;

	while (a > 1 && a > n)
		a >>= 1;
	return a;
}

/*
 * Run fn(arg) in a child with fd 2 on a pipe: its wait status, and what it
 * wrote to stderr in buf.
 */
static int run_capture(void (*fn)(void *), void *arg, char *buf, size_t len)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len &&
	       (n = read(fds[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

/* fn(arg) must abort after a report holding w1 and w2. */
static void expect_abort(void (*fn)(void *), void *arg, const char *w1,
			 const char *w2)
{
	char buf[4096];
	int st = run_capture(fn, arg, buf, sizeof(buf));

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		      "no abort (status %#x); stderr: %s", st, buf);
	ck_assert_msg(strstr(buf, "kmem: ERROR: "), "no report: %s", buf);
	ck_assert_msg(!w1 || strstr(buf, w1), "'%s' missing in: %s", w1, buf);
	ck_assert_msg(!w2 || strstr(buf, w2), "'%s' missing in: %s", w2, buf);
}

START_TEST(test_symbols_are_kmem)
{
	Dl_info info;
	const char *names[] = { "malloc", "free", "calloc", "realloc",
		"posix_memalign", "aligned_alloc", "memalign", "valloc",
		"pvalloc", "malloc_usable_size", "reallocarray", "mallinfo2",
		"__libc_malloc", "__libc_free", "__libc_memalign", "mmap",
		"munmap", "mremap", "mmap64" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *sym = dlsym(RTLD_DEFAULT, names[i]);

		ck_assert_msg(sym != NULL, "%s not found", names[i]);
		ck_assert(dladdr(sym, &info) != 0);
		ck_assert_msg(strstr(info.dli_fname, "libkmem") != NULL,
			      "%s resolves to %s", names[i], info.dli_fname);
	}
	ck_assert_ptr_eq(dlsym(RTLD_DEFAULT, "__libc_malloc"),
			 dlsym(RTLD_DEFAULT, "malloc"));
}
END_TEST

START_TEST(test_malloc_zero_unique)
{
	void *p[64];

	for (int i = 0; i < 64; i++) {
		p[i] = malloc(0);
		ck_assert_ptr_nonnull(p[i]);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(p[i], p[j]);
	}
	for (int i = 0; i < 64; i++)
		free(p[i]);
}
END_TEST

START_TEST(test_every_small_size)
{
	enum { MAX = 16 * 1024 };
	void **p = calloc(MAX + 1, sizeof(void *));

	ck_assert_ptr_nonnull(p);
	for (size_t n = 0; n <= MAX; n++) {
		p[n] = malloc(n);
		ck_assert_msg(p[n] != NULL, "malloc(%zu)", n);
		ck_assert_msg(((uintptr_t)p[n] & (min_align(n) - 1)) == 0,
			      "malloc(%zu) = %p misaligned", n, p[n]);
		ck_assert_uint_ge(malloc_usable_size(p[n]), n);
		fill(p[n], n, (unsigned)n);
	}
	for (size_t n = 0; n <= MAX; n++) {
		ck_assert_msg(check_fill(p[n], n, (unsigned)n) == n,
			      "block of %zu bytes overwritten", n);
		free(p[n]);
	}
	free(p);
}
END_TEST

START_TEST(test_class_boundaries_and_large)
{
	/* Powers of two and their neighbours cover every class edge of a
	 * table of several classes per doubling, the slab limit, the page
	 * runs and the vmalloc threshold. */
	for (size_t pw = 8; pw <= 64 * MiB; pw <<= 1) {
		size_t sizes[] = { pw - 1, pw, pw + 1, pw + pw / 4,
				   pw + pw / 2, pw + 3 * pw / 4 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i], u;
			unsigned char *c = malloc(n);

			ck_assert_msg(c != NULL, "malloc(%zu)", n);
			ck_assert_msg(((uintptr_t)c & (min_align(n) - 1)) == 0,
				      "malloc(%zu) = %p", n, (void *)c);
			u = malloc_usable_size(c);
			ck_assert_msg(u >= n, "usable %zu < %zu", u, n);
			if (n <= 256 * KiB) {
				fill(c, u, 3);
				ck_assert_uint_eq(check_fill(c, u, 3), u);
			} else {
				touch(c, u);
			}
			free(c);
		}
	}
}
END_TEST

START_TEST(test_near_size_max)
{
	size_t bad[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4096,
			 SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX,
			 (size_t)PTRDIFF_MAX - 4096, (size_t)1 << 50 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *p;

		errno = 0;
		p = malloc(bad[i]);
		ck_assert_msg(p == NULL, "malloc(%zu) succeeded", bad[i]);
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(calloc(1, bad[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(aligned_alloc(64, bad[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(memalign(4096, bad[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(valloc(bad[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_ptr_null(pvalloc(bad[i]));
		ck_assert_int_eq(errno, ENOMEM);
	}
	/* The process goes on. */
	void *p = malloc(100);
	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

START_TEST(test_calloc)
{
	/* Overflow of n * size. */
	errno = 0;
	ck_assert_ptr_null(calloc(SIZE_MAX / 2, 3));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_ptr_null(calloc((size_t)1 << 32, (size_t)1 << 32));
	ck_assert_int_eq(errno, ENOMEM);
	/* Zero gives unique pointers. */
	void *a = calloc(0, 10), *b = calloc(10, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	free(a);
	free(b);
	/* Zeroed, also when the memory is reused after being dirtied. */
	size_t sizes[] = { 1, 24, 100, 1000, 4000, 40000, 300000, 3 * MiB };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int round = 0; round < 4; round++) {
			unsigned char *c = calloc(1, sizes[i]);

			size_t j = 0;

			ck_assert_ptr_nonnull(c);
			/* (Check asserts cost a write each: test, then assert.) */
			while (j < sizes[i] && c[j] == 0)
				j++;
			ck_assert_msg(j == sizes[i],
				      "calloc(%zu)[%zu] = %u (round %d)",
				      sizes[i], j, c[j], round);
			memset(c, 0xee, sizes[i]);
			free(c);
		}
	}
}
END_TEST

/* realloc from size a to size b keeps min(a, b) bytes. */
static void *realloc_step(void *p, size_t from, size_t to, unsigned seed)
{
	unsigned char *q = realloc(p, to);
	size_t keep = from < to ? from : to;

	ck_assert_msg(q != NULL, "realloc %zu -> %zu", from, to);
	ck_assert_msg(((uintptr_t)q & (min_align(to) - 1)) == 0,
		      "realloc %zu -> %zu = %p", from, to, (void *)q);
	ck_assert_uint_ge(malloc_usable_size(q), to);
	ck_assert_msg(check_fill(q, keep, seed) == keep,
		      "realloc %zu -> %zu lost byte %zu", from, to,
		      check_fill(q, keep, seed));
	fill(q, to, seed);
	return q;
}

START_TEST(test_realloc_paths)
{
	/* slab -> slab (grow, shrink) -> pages -> vmalloc -> bigger vmalloc
	 * -> pages -> slab -> tiny. */
	size_t path[] = { 1, 8, 24, 100, 1000, 3000, 2000, 16, 5000, 40000,
			  100 * KiB, 700 * KiB, 2 * MiB, 5 * MiB, 37 * MiB,
			  3 * MiB, 600 * KiB, 64 * KiB, 2000, 48, 1, 9 * MiB,
			  24, 300 * KiB, 300 * KiB + 1, 290 * KiB };
	size_t n = sizeof(path) / sizeof(path[0]);
	unsigned char *p = malloc(path[0]);

	fill(p, path[0], 5);
	for (size_t i = 1; i < n; i++)
		p = realloc_step(p, path[i - 1], path[i], 5);
	free(p);

	/* realloc(NULL, n) is malloc(n). */
	p = realloc(NULL, 77);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(malloc_usable_size(p), 77);
	/* realloc(p, 0) frees and returns NULL (glibc). */
	ck_assert_ptr_null(realloc(p, 0));
	/* realloc(NULL, 0) is malloc(0). */
	p = realloc(NULL, 0);
	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

/* realloc keeps a block whose new size stays in its size class (its fast
 * half, preload/malloc.c), and moves it, contents and all, when the class
 * changes, up or down. */
START_TEST(test_realloc_within_class_keeps_block)
{
	unsigned char *p = malloc(100), *q;
	size_t usable = malloc_usable_size(p), n[] = { 0, 99, 100 };
	uintptr_t was = (uintptr_t)p;	/* compared as a number, not used */

	ck_assert_uint_ge(usable, 100);
	fill(p, 100, 3);
	n[0] = usable;
	for (size_t i = 0; i < ARRAY_LEN(n); i++) {
		p = realloc(p, n[i]);
		ck_assert_uint_eq((uintptr_t)p, was);
	}
	q = realloc(p, usable + 1);	/* the next class */
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_gt(malloc_usable_size(q), usable);
	ck_assert_uint_eq(check_fill(q, 100, 3), 100);
	p = realloc(q, 10);		/* down to the smallest class */
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(malloc_usable_size(p), usable);
	ck_assert_uint_eq(check_fill(p, 10, 3), 10);
	q = realloc(p, 64 * KiB);	/* past the slabs */
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(check_fill(q, 10, 3), 10);
	free(q);
}
END_TEST

START_TEST(test_realloc_failure_keeps_block)
{
	size_t sizes[] = { 32, 50000, 3 * MiB };

	for (size_t i = 0; i < 3; i++) {
		unsigned char *p = malloc(sizes[i]), *q;

		fill(p, sizes[i], 9);
		errno = 0;
		q = realloc(p, SIZE_MAX - 100);
		ck_assert_ptr_null(q);
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		q = realloc(p, (size_t)1 << 52);
		ck_assert_ptr_null(q);
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		q = reallocarray(p, SIZE_MAX / 4, 8);
		ck_assert_ptr_null(q);
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_uint_eq(check_fill(p, sizes[i], 9), sizes[i]);
		q = reallocarray(p, 2, sizes[i]);
		ck_assert_ptr_nonnull(q);
		ck_assert_uint_eq(check_fill(q, sizes[i], 9), sizes[i]);
		free(q);
	}
}
END_TEST

START_TEST(test_realloc_many_small_steps)
{
	/* A string grown one byte at a time, as interpreters do. */
	char *s = NULL;

	for (size_t n = 1; n < 70000; n++) {
		s = realloc(s, n + 1);
		ck_assert_ptr_nonnull(s);
		s[n - 1] = (char)('a' + n % 26);
		s[n] = 0;
		if (n % 4099 == 0) {
			size_t i = 0;

			while (i < n && s[i] == (char)('a' + (i + 1) % 26))
				i++;
			ck_assert_uint_eq(i, n);
		}
	}
	free(s);
}
END_TEST

static void check_aligned_block(void *p, size_t align, size_t size)
{
	ck_assert_msg(p != NULL, "align %zu size %zu", align, size);
	ck_assert_msg(((uintptr_t)p & (align - 1)) == 0,
		      "%p not aligned to %zu", p, align);
	ck_assert_uint_ge(malloc_usable_size(p), size);
	if (size <= 64 * KiB)
		fill(p, size, 11);
	else
		touch(p, size);
}

START_TEST(test_posix_memalign)
{
	size_t bad[] = { 0, 1, 2, 4, 3, 12, 24, 48, 4097, SIZE_MAX };
	void *p = (void *)0x1234;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 4321;
		ck_assert_int_eq(posix_memalign(&p, bad[i], 16), EINVAL);
		ck_assert_int_eq(errno, 4321);	/* untouched */
		ck_assert_ptr_eq(p, (void *)0x1234);
	}
	for (size_t align = sizeof(void *); align <= GiB; align <<= 1) {
		size_t sizes[] = { 0, 1, 100, align, 3 * align };

		for (size_t i = 0; i < 5; i++) {
			if (sizes[i] > 2 * GiB)
				continue;
			errno = 4321;
			ck_assert_int_eq(posix_memalign(&p, align, sizes[i]), 0);
			ck_assert_int_eq(errno, 4321);
			check_aligned_block(p, align, sizes[i]);
			free(p);
		}
	}
	/* Failure: ENOMEM returned and left in errno, as glibc does (a bad
	 * alignment returns EINVAL and leaves errno alone, as glibc too). */
	errno = 4321;
	ck_assert_int_eq(posix_memalign(&p, 64, SIZE_MAX - 10), ENOMEM);
	ck_assert_int_eq(errno, ENOMEM);
	errno = 4321;
	ck_assert_int_eq(posix_memalign(&p, 64, (size_t)1 << 46), ENOMEM);
	ck_assert_int_eq(errno, ENOMEM);
	errno = 4321;
	ck_assert_int_eq(posix_memalign(&p, 3, 10), EINVAL);
	ck_assert_int_eq(errno, 4321);
	ck_assert_int_eq(__posix_memalign(&p, 256, 10), 0);
	check_aligned_block(p, 256, 10);
	free(p);
}
END_TEST

START_TEST(test_aligned_alloc_and_memalign)
{
	size_t bad[] = { 0, 3, 12, 24, 1000, SIZE_MAX };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(aligned_alloc(bad[i], 64));
		ck_assert_int_eq(errno, EINVAL);
	}
	for (size_t align = 1; align <= GiB; align <<= 1) {
		void *p = aligned_alloc(align, align);

		check_aligned_block(p, align, align);
		free(p);
		p = memalign(align, 10);
		check_aligned_block(p, align, 10);
		free(p);
		p = __libc_memalign(align, align + 1);
		check_aligned_block(p, align, align + 1);
		__libc_free(p);
	}
	/* memalign rounds a non-power of two up, as glibc does. */
	for (size_t align = 17; align < 5000; align += 97) {
		size_t pw = 1;
		void *p;

		while (pw < align)
			pw <<= 1;
		p = memalign(align, 33);
		check_aligned_block(p, pw, 33);
		free(p);
	}
	errno = 0;
	ck_assert_ptr_null(memalign(SIZE_MAX / 2 + 2, 10));
	ck_assert_int_eq(errno, EINVAL);
	/* Many small aligned objects must not each cost a page. */
	void *v[256];
	for (int i = 0; i < 256; i++) {
		v[i] = aligned_alloc(64, 64);
		check_aligned_block(v[i], 64, 64);
	}
	for (int i = 0; i < 256; i++)
		free(v[i]);
}
END_TEST

START_TEST(test_valloc_pvalloc)
{
	size_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000, 3 * MiB };
	long pg = sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = valloc(sizes[i]);
		size_t rounded = (sizes[i] + pg - 1) & ~(size_t)(pg - 1);

		check_aligned_block(p, pg, sizes[i]);
		free(p);
		p = pvalloc(sizes[i]);
		check_aligned_block(p, pg, sizes[i]);
		ck_assert_uint_ge(malloc_usable_size(p), rounded);
		free(p);
		p = __libc_valloc(sizes[i]);
		check_aligned_block(p, pg, sizes[i]);
		__libc_free(p);
		p = __libc_pvalloc(sizes[i]);
		check_aligned_block(p, pg, rounded);
		__libc_free(p);
	}
}
END_TEST

START_TEST(test_errno_kept_by_free)
{
	size_t sizes[] = { 0, 16, 1000, 20000, 500 * KiB, 4 * MiB };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = malloc(sizes[i]);

		errno = 77;
		free(p);
		ck_assert_int_eq(errno, 77);
	}
	errno = 78;
	free(NULL);
	ck_assert_int_eq(errno, 78);
	/* Successful calls leave errno alone too. */
	errno = 79;
	void *p = malloc(10);
	p = realloc(p, 100000);
	free(p);
	ck_assert_int_eq(errno, 79);
}
END_TEST

/* The sizes of the sized-free tests: slab classes, a page run, vmalloc. */
static const size_t sized_sizes[] = { 1, 100, 5000, 100 * KiB, 3 * MiB };

static void sized_then_free(void *arg)
{
	size_t n = *(size_t *)arg;
	void *p = malloc(n);

	free_sized(p, n);
	free(p);		/* freed already: a double free */
}

static void aligned_sized_then_free(void *arg)
{
	size_t n = *(size_t *)arg;
	void *p = aligned_alloc(256, n);

	free_aligned_sized(p, 256, n);
	free(p);
}

static void sized_too_big(void *arg)
{
	void *p = malloc(100);

	(void)arg;
	free_sized(p, malloc_usable_size(p) + 1);
}

static void aligned_sized_too_big(void *arg)
{
	void *p = aligned_alloc(256, 300);

	(void)arg;
	free_aligned_sized(p, 256, malloc_usable_size(p) + 1);
}

START_TEST(test_usable_size_and_sized_free)
{
	char want[128];

	ck_assert_uint_eq(malloc_usable_size(NULL), 0);
	for (size_t n = 1; n < 3 * MiB; n = n * 3 + 1) {
		void *p = malloc(n);

		ck_assert_uint_ge(malloc_usable_size(p), n);
		/* The whole usable size is ours to write. */
		memset(p, 0x5a, malloc_usable_size(p) < 64 * KiB ?
				  malloc_usable_size(p) : 64 * KiB);
		free_sized(p, n);
		p = aligned_alloc(256, n);
		check_aligned_block(p, 256, n);
		free_aligned_sized(p, 256, n);
	}
	free_sized(NULL, 10);
	free_aligned_sized(NULL, 64, 10);
	/* They really free: freeing the block again is a double free. */
	for (size_t i = 0; i < sizeof(sized_sizes) / sizeof(sized_sizes[0]);
	     i++) {
		expect_abort(sized_then_free, (void *)&sized_sizes[i],
			     "double free", NULL);
		expect_abort(aligned_sized_then_free, (void *)&sized_sizes[i],
			     "double free", NULL);
	}
	/* A size the block cannot hold is reported (then freed). */
	expect_abort(sized_too_big, NULL, "free_sized(", "holds only");
	snprintf(want, sizeof(want), "free_aligned_sized(");
	expect_abort(aligned_sized_too_big, NULL, want, "not a block of that "
		     "size and alignment");
}
END_TEST

/*
 * malloc_usable_size (an inline fast half for slab objects, __ksize for
 * the rest) and kmem_ksize (always __ksize) agree on every block: every
 * size up to 32 KiB and beyond, from malloc and from each alignment.
 */
START_TEST(test_usable_size_is_ksize)
{
	static const size_t aligns[] = { 0, 8, 16, 32, 64, 128, 256, 512,
					 1024, 4096, 8192, 64 * KiB, 2 * MiB };
	size_t checked = 0;

	for (size_t n = 0; n <= 600 * KiB;
	     n += n < 33 * KiB ? 1 : n < 128 * KiB ? 509 : 4093) {
		for (size_t a = 0; a < ARRAY_LEN(aligns); a++) {
			void *p = aligns[a] ? aligned_alloc(aligns[a], n)
					    : malloc(n);
			size_t u, k;

			if (!p)
				ck_abort_msg("align %zu size %zu: NULL",
					     aligns[a], n);
			u = malloc_usable_size(p);
			k = kmem_ksize(p);
			if (u != k || u < n)
				ck_abort_msg("%p (size %zu, align %zu): "
					     "malloc_usable_size %zu, "
					     "ksize %zu", p, n, aligns[a], u,
					     k);
			free(p);
			checked++;
		}
	}
	/* Blocks from calloc and realloc are the same blocks. */
	for (size_t n = 1; n <= 40 * KiB; n += 7) {
		char *p = calloc(1, n), *q;

		if (malloc_usable_size(p) != kmem_ksize(p))
			ck_abort_msg("calloc(%zu): %zu != %zu", n,
				     malloc_usable_size(p), kmem_ksize(p));
		q = realloc(p, n * 2);
		if (!q || malloc_usable_size(q) != kmem_ksize(q))
			ck_abort_msg("realloc(%zu): %zu != %zu", n * 2,
				     malloc_usable_size(q), kmem_ksize(q));
		free(q);
	}
	ck_assert_uint_gt(checked, 400000);
}
END_TEST

/* free() checks every pointer, on its inline fast half too. */
static void free_interior(void *arg)
{
	char *p = malloc(*(size_t *)arg);

	fprintf(stderr, "BAD %p\n", (void *)(p + 16));
	free(p + 16);
	free(p);		/* not reached */
}

static void free_stack(void *arg)
{
	char buf[64];

	(void)arg;
	free(buf + 16);
}

START_TEST(test_free_of_bad_pointers_is_reported)
{
	static const size_t sizes[] = { 32, 64, 1000, 8192, 100 * KiB };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		expect_abort(free_interior, (void *)&sizes[i], "free()",
			     "pointer into the middle of");
	expect_abort(free_stack, NULL, "free()", "never allocated by kmem");
}
END_TEST

START_TEST(test_libc_names)
{
	void *p = __libc_malloc(100);

	ck_assert_ptr_nonnull(p);
	p = __libc_realloc(p, 200000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(malloc_usable_size(p), 200000);
	free(p);
	p = __libc_calloc(10, 10);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(count_bytes(p, 100, 0), 100);
	__libc_free(p);
	/* Memory from libc's own functions comes from kmem. */
	char *s = strdup("hello, kmem");
	ck_assert_uint_ge(malloc_usable_size(s), 12);
	free(s);
	FILE *f = tmpfile();	/* libio buffers: __libc_malloc inside */
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d\n", 12345);
	fclose(f);
}
END_TEST

START_TEST(test_mallinfo_and_trim)
{
	struct mallinfo2 before = mallinfo2(), after;
	enum { N = 2000 };
	int trim1, trim2;
	void **v = malloc(N * sizeof(void *));
	void *big;

	for (int i = 0; i < N; i++)
		v[i] = malloc(1000);
	big = malloc(16 * MiB);
	touch(big, 16 * MiB);
	after = mallinfo2();
	ck_assert_uint_gt(after.arena, 0);
	ck_assert_uint_ge(after.uordblks, before.uordblks + N * 1000 / 2);
	ck_assert_uint_ge(after.hblkhd, 16 * MiB);
	ck_assert_uint_ge(after.hblks, 1);
	ck_assert_uint_ge(after.usmblks, after.arena);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
	ck_assert_int_gt(old.arena, 0);
	ck_assert_int_gt(old.uordblks, 0);
	for (int i = 0; i < N; i++)
		free(v[i]);
	free(v);
	free(big);
	/* 1: memory went back (the 16 MiB area, the freed slabs' pages),
	 * then 0: there is nothing left to give back (no Check call in
	 * between: its messages allocate). */
	trim1 = malloc_trim(0);
	trim2 = malloc_trim(0);
	after = mallinfo2();
	ck_assert_int_eq(trim1, 1);
	ck_assert_int_eq(trim2, 0);
	ck_assert_uint_lt(after.uordblks, before.uordblks + N * 1000 / 2);
	ck_assert_uint_lt(after.hblkhd, 16 * MiB);	/* area unmapped */
	ck_assert_uint_eq(after.fsmblks, 0);	/* per-CPU caches drained */
	ck_assert_uint_eq(after.keepcost, 0);	/* no resident free page */
}
END_TEST

/* Run fn with stderr (or the FILE it writes) captured into buf. */
static size_t capture_stderr(void (*fn)(void), char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
	return n;
}

static void call_kmem_stats_print(void)
{
	kmem_stats_print(stderr);
}

START_TEST(test_malloc_stats_and_info)
{
	static char buf[1 << 16];
	FILE *f;
	size_t n;
	void *keep = malloc(5000);

	capture_stderr(malloc_stats, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "Arena 0:") && strstr(buf, "in use bytes"),
		      "malloc_stats printed: %s", buf);
	f = tmpfile();
	ck_assert_int_eq(malloc_info(0, f), 0);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	ck_assert_msg(strncmp(buf, "<malloc version=\"1\">", 20) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "</malloc>\n"));
	ck_assert_ptr_nonnull(strstr(buf, "<system type=\"current\""));
	/* glibc returns EINVAL itself for options it does not know. */
	ck_assert_int_eq(malloc_info(1, stderr), EINVAL);

	capture_stderr(call_kmem_stats_print, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "slabinfo") && strstr(buf, "zone") &&
		      strstr(buf, "per-cpu caches:") && strstr(buf, "mapped") &&
		      strstr(buf, "resident") && strstr(buf, "in use"),
		      "kmem_stats_print printed: %s", buf);
	free(keep);
}
END_TEST

/* The mapping (from /proc/self/maps) that holds p: its length, or 0. */
static size_t vma_len_of(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512];
	size_t len = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    lo <= (uintptr_t)p && (uintptr_t)p < hi) {
			len = hi - lo;
			break;
		}
	fclose(f);
	return len;
}

#define MIB (1UL << 20)
#define RUN_MAX (PAGE_SIZE << MAX_ORDER)	/* the largest page run */

/* Whether p (of size bytes) is a vmalloc area: a mapping of its own, its
 * pages (a cached area reused for a smaller request: its old size) and
 * nothing more, the guard pages being PROT_NONE mappings beside it; else
 * it lies in a heap section (64 MiB or more). */
static bool own_mapping(const void *p, size_t size)
{
	size_t len = vma_len_of(p);

	ck_assert_msg(len >= size, "%p (%zu bytes) lies in a mapping of %zu "
		      "bytes", p, size, len);
	return len < 64 * MIB;
}

static void expect_area(void *p, size_t size, bool area,
			const char *what)
{
	bool own;

	ck_assert_ptr_nonnull(p);
	own = own_mapping(p, size);
	ck_assert_msg(own == area, "%s", what);
}

/*
 * The vmalloc threshold rises as glibc's mmap threshold does: a freed
 * area of n bytes (under RUN_MAX, the largest page run) sends later
 * requests up to n to the heap; mallopt(M_MMAP_THRESHOLD) fixes it.
 * In a child, so that the threshold of the other tests stays as it was.
 */
static void vmalloc_threshold_child(void)
{
	char *p = malloc(3 * MIB), *q;

	expect_area(p, 3 * MIB, true, "3 MiB: not a vmalloc area at first");
	memset(p, 1, 3 * MIB);
	free(p);
	q = malloc(3 * MIB);
	expect_area(q, 3 * MIB, false, "3 MiB after a 3 MiB free: still a vmalloc area");
	p = malloc(2 * MIB);
	expect_area(p, 2 * MIB, false, "2 MiB after a 3 MiB free: still a vmalloc area");
	memset(q, 2, 3 * MIB);
	memset(p, 3, 2 * MIB);
	ck_assert_int_eq(count_bytes((unsigned char *)q, 3 * MIB, 2), 3 * MIB);
	free(q);
	free(p);
	/* Above the largest page run (PAGE_SIZE << MAX_ORDER): always an
	 * area, and it raises nothing. */
	p = malloc(RUN_MAX + 2 * MIB);
	expect_area(p, RUN_MAX + 2 * MIB, true, "largest run + 2 MiB: not a vmalloc area");
	free(p);
	p = malloc(RUN_MAX + MIB);
	expect_area(p, RUN_MAX + MIB, true, "largest run + 1 MiB after a larger free: not a vmalloc area");
	free(p);
	/* Fixed by mallopt: 2 MiB is an area again, and stays one. */
	ck_assert_int_eq(mallopt(M_MMAP_THRESHOLD, 1 << 20), 1);
	p = malloc(3 * MIB);
	expect_area(p, 3 * MIB, true, "3 MiB after mallopt: not a vmalloc area");
	free(p);
	p = malloc(2 * MIB);
	expect_area(p, 2 * MIB, true, "2 MiB after mallopt and a 3 MiB free: not a vmalloc area");
	free(p);
	exit(0);
}

START_TEST(test_vmalloc_threshold_rises)
{
	pid_t pid;
	int st;

	if (getenv("KMEM_VMALLOC_THRESHOLD") || getenv("KMEM_DEBUG"))
		return;	/* fixed there: nothing rises */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		vmalloc_threshold_child();
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the child failed (status %#x)", st);
}
END_TEST

/* A buffer doubled by realloc from 16 bytes to 8 MiB, several rounds
 * (page runs grow in place where their buddy is free, others move, areas
 * grow by mremap): every byte written before each step is still there. */
START_TEST(test_realloc_doubling_keeps_contents)
{
	for (int round = 0; round < 3; round++) {
		unsigned char *p = NULL;
		size_t had = 0;

		for (size_t n = 16; n <= (8UL << 20); n *= 2) {
			p = realloc(p, n);
			ck_assert_ptr_nonnull(p);
			for (size_t i = 0; i < had; i += 4093)
				ck_assert_uint_eq(p[i], (unsigned char)(i * 7 + round));
			ck_assert_uint_eq(p[had ? had - 1 : 0],
					  had ? (unsigned char)((had - 1) * 7 + round) : p[0]);
			for (size_t i = had; i < n; i++)
				p[i] = (unsigned char)(i * 7 + round);
			had = n;
		}
		ck_assert_uint_ge(malloc_usable_size(p), 8UL << 20);
		free(p);
	}
}
END_TEST

START_TEST(test_mallopt)
{
	ck_assert_int_eq(mallopt(M_ARENA_MAX, 1), 1);
	ck_assert_int_eq(mallopt(M_TRIM_THRESHOLD, 1 << 20), 1);
	ck_assert_int_eq(mallopt(M_TOP_PAD, 0), 1);
	ck_assert_int_eq(mallopt(M_MMAP_MAX, 100), 1);
	ck_assert_int_eq(mallopt(M_MMAP_THRESHOLD, 1 << 20), 1);
	ck_assert_int_eq(mallopt(12345, 1), 1);	/* glibc accepts */
	ck_assert_int_eq(mallopt(M_MMAP_THRESHOLD, 10), 0); /* too small */
	/* M_PERTURB: allocated bytes read ~byte, as in glibc. */
	ck_assert_int_eq(mallopt(M_PERTURB, 0xaa), 1);
	unsigned char *p = malloc(64);
	ck_assert_int_eq(count_bytes(p, 64, 0x55), 64);
	free(p);
	ck_assert_int_eq(mallopt(M_PERTURB, 0), 1);
	p = calloc(1, 64);
	ck_assert_int_eq(count_bytes(p, 64, 0), 64);
	free(p);
}
END_TEST

START_TEST(test_munmap_of_heap_refused)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t sizes[] = { 64, 5000, 200 * KiB, 4 * MiB };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]);
		void *page = (void *)((uintptr_t)p & ~(uintptr_t)(pg - 1));

		fill(p, sizes[i], 21);
		errno = 0;
		ck_assert_int_eq(munmap(page, pg), -1);
		ck_assert_int_eq(errno, EINVAL);
		errno = 0;
		ck_assert_ptr_eq(mremap(page, pg, 2 * pg, MREMAP_MAYMOVE),
				 MAP_FAILED);
		ck_assert_int_eq(errno, EINVAL);
		errno = 0;
		ck_assert_ptr_eq(mmap(page, pg, PROT_READ,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				      -1, 0), MAP_FAILED);
		ck_assert_int_eq(errno, EINVAL);
		/* Still there and intact. */
		ck_assert_uint_eq(check_fill(p, sizes[i], 21), sizes[i]);
		free(p);
	}
	/* The program's own mappings work as usual. */
	char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	m[0] = 1;
	m = mremap(m, 3 * pg, 40 * pg, MREMAP_MAYMOVE);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(m[0], 1);
	ck_assert_int_eq(munmap(m, 40 * pg), 0);
	errno = 0;
	ck_assert_ptr_eq(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0), MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

struct xfer {
	void *objs[1000];
};

static void *producer(void *arg)
{
	struct xfer *x = arg;

	for (int i = 0; i < 1000; i++) {
		x->objs[i] = malloc((size_t)(i % 300) * 8 + 1);
		fill(x->objs[i], (size_t)(i % 300) * 8 + 1, (unsigned)i);
	}
	return NULL;
}

START_TEST(test_cross_thread_free)
{
	static struct xfer x;

	for (int round = 0; round < 20; round++) {
		pthread_t t;

		ck_assert_int_eq(pthread_create(&t, NULL, producer, &x), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		for (int i = 0; i < 1000; i++) {
			size_t n = (size_t)(i % 300) * 8 + 1;

			ck_assert_uint_eq(check_fill(x.objs[i], n, (unsigned)i), n);
			free(x.objs[i]);
		}
	}
}
END_TEST

static Suite *malloc_api_suite(void)
{
	Suite *s = suite_create("malloc_api");
	TCase *tc = tcase_create("abi");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_symbols_are_kmem);
	tcase_add_test(tc, test_malloc_zero_unique);
	tcase_add_test(tc, test_every_small_size);
	tcase_add_test(tc, test_class_boundaries_and_large);
	tcase_add_test(tc, test_near_size_max);
	tcase_add_test(tc, test_calloc);
	tcase_add_test(tc, test_realloc_paths);
	tcase_add_test(tc, test_realloc_within_class_keeps_block);
	tcase_add_test(tc, test_realloc_failure_keeps_block);
	tcase_add_test(tc, test_realloc_many_small_steps);
	tcase_add_test(tc, test_posix_memalign);
	tcase_add_test(tc, test_aligned_alloc_and_memalign);
	tcase_add_test(tc, test_valloc_pvalloc);
	tcase_add_test(tc, test_errno_kept_by_free);
	tcase_add_test(tc, test_usable_size_and_sized_free);
	tcase_add_test(tc, test_usable_size_is_ksize);
	tcase_add_test(tc, test_free_of_bad_pointers_is_reported);
	tcase_add_test(tc, test_libc_names);
	tcase_add_test(tc, test_mallinfo_and_trim);
	tcase_add_test(tc, test_malloc_stats_and_info);
	tcase_add_test(tc, test_mallopt);
	tcase_add_test(tc, test_realloc_doubling_keeps_contents);
	tcase_add_test(tc, test_vmalloc_threshold_rises);
	tcase_add_test(tc, test_munmap_of_heap_refused);
	tcase_add_test(tc, test_cross_thread_free);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(malloc_api_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
