/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/compat.c - glibc's guarantees that programs rely on, for
 * tests/scripts/preload_compat.sh (which runs it with glibc's malloc and
 * with kmem's, in every KMEM_DEBUG mode).
 *
 *   compat align        every size 0..1024 from malloc, calloc, realloc
 *                       (from NULL, growing, shrinking), memalign(16),
 *                       aligned_alloc(16) and posix_memalign(16): each
 *                       block 16-byte aligned (glibc's MALLOC_ALIGNMENT),
 *                       usable for its whole size, calloc's zeroed;
 *   compat errno        every failing entry point with huge, overflowing
 *                       sizes and bad alignments: one line per call with
 *                       the result and errno (posix_memalign: the code it
 *                       returns), to compare with glibc's; lines starting
 *                       "2.38:" are where kmem follows glibc 2.38 and
 *                       later (aligned_alloc rejects an alignment that is
 *                       not a power of two) and an older glibc differs;
 *   compat cancel FILE  malloc_stats() in threads cancelled at random
 *                       moments (and one with the cancellation already
 *                       pending), its output (fd 2) in FILE: every block
 *                       must be complete; prints the count.
 *
 * Exits 0 if every check passed (errno: the comparison is the script's).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void bad(const char *what, size_t n, const void *p)
{
	if (failures++ < 20)
		printf("FAIL: %s(%zu) = %p\n", what, n, p);
}

/* 16-byte aligned, writable for n bytes (and kept in its usable size). */
static void check(const char *what, size_t n, unsigned char *p)
{
	if (!p) {
		bad(what, n, p);
		return;
	}
	if ((uintptr_t)p % 16)
		bad(what, n, p);
	if (malloc_usable_size(p) < n)
		bad(what, n, p);
	memset(p, 0xa5, n);
}

static int do_align(void)
{
	unsigned long checks = 0;

	for (size_t n = 0; n <= 1024; n++) {
		unsigned char *p, *q;
		void *v = NULL;

		p = malloc(n);
		check("malloc", n, p);
		free(p);
		p = calloc(1, n);
		for (size_t i = 0; p && i < n; i++)
			if (p[i]) {
				bad("calloc (not zeroed)", n, p);
				break;
			}
		check("calloc", n, p);
		free(p);
		p = calloc(n, 1);
		check("calloc(n, 1)", n, p);
		free(p);
		p = realloc(NULL, n);
		check("realloc(NULL)", n, p);
		q = realloc(p, n + 100);	/* grow */
		check("realloc grow", n + 100, q);
		p = realloc(q, n / 2 + 1);	/* shrink */
		check("realloc shrink", n / 2 + 1, p);
		free(p);
		p = malloc(2048);
		q = realloc(p, n ? n : 1);	/* shrink from a larger class */
		check("realloc from 2048", n ? n : 1, q);
		free(q);
		p = memalign(16, n);
		check("memalign(16)", n, p);
		free(p);
		p = aligned_alloc(16, n);
		check("aligned_alloc(16)", n, p);
		free(p);
		if (posix_memalign(&v, 16, n))
			v = NULL;
		check("posix_memalign(16)", n, v);
		free(v);
		checks += 10;
	}
	printf("align: %lu blocks of 0..1024 bytes, %d not 16-byte aligned "
	       "or not usable\n", checks, failures);
	return failures ? 1 : 0;
}

/* ---- errno ----
 * Every call goes through a volatile function pointer: the compiler
 * knows these functions, and may assume that posix_memalign leaves errno
 * alone, or fold a call whose size is out of range. */

static void *(*volatile p_malloc)(size_t) = malloc;
static void *(*volatile p_calloc)(size_t, size_t) = calloc;
static void *(*volatile p_realloc)(void *, size_t) = realloc;
static void *(*volatile p_reallocarray)(void *, size_t, size_t) = reallocarray;
static int (*volatile p_posix_memalign)(void **, size_t, size_t) = posix_memalign;
static void *(*volatile p_aligned_alloc)(size_t, size_t) = aligned_alloc;
static void *(*volatile p_memalign)(size_t, size_t) = memalign;
static void *(*volatile p_valloc)(size_t) = valloc;
static void *(*volatile p_pvalloc)(size_t) = pvalloc;
#define malloc p_malloc
#define calloc p_calloc
#define realloc p_realloc
#define reallocarray p_reallocarray
#define posix_memalign p_posix_memalign
#define aligned_alloc p_aligned_alloc
#define memalign p_memalign
#define valloc p_valloc
#define pvalloc p_pvalloc

static const char *err_name(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	case 12345: return "unchanged";
	}
	snprintf(buf, sizeof(buf), "%d", e);
	return buf;
}

static void report(const char *call, void *p)
{
	int e = errno;

	printf("%-46s -> %s, errno %s\n", call, p ? "a block" : "NULL",
	       err_name(e));
	free(p);
}

#define TRY(expr)                     \
	do {                          \
		void *r_;             \
		errno = 12345;        \
		r_ = (expr);          \
		report(#expr, r_);    \
	} while (0)

#define TRY_PM(align, size)                                               \
	do {                                                              \
		void *r_ = (void *)1;                                     \
		int rc_;                                                  \
		errno = 12345;                                            \
		rc_ = posix_memalign(&r_, (align), (size));               \
		printf("%-46s -> returns %s, errno %s%s\n",               \
		       "posix_memalign(&p, " #align ", " #size ")",       \
		       err_name(rc_), err_name(errno),                    \
		       rc_ && r_ != (void *)1 ? " (p changed)" : "");     \
		if (!rc_)                                                 \
			free(r_);                                         \
	} while (0)

/* realloc and reallocarray that fail must leave the block intact. */
static void try_realloc_keeps(const char *call, void *(*fn)(void *))
{
	unsigned char *p = malloc(100), *r;
	int e, intact = 1;

	memset(p, 0x3c, 100);
	errno = 12345;
	r = fn(p);
	e = errno;
	for (int i = 0; i < 100; i++)
		if (p[i] != 0x3c)
			intact = 0;
	printf("%-46s -> %s, errno %s, the block %s\n", call,
	       r ? "a block" : "NULL", err_name(e),
	       intact ? "intact" : "CHANGED");
	free(r ? r : p);
}

static void *re_max(void *p) { return realloc(p, SIZE_MAX); }
static void *re_ptrdiff(void *p) { return realloc(p, (size_t)PTRDIFF_MAX + 1); }
static void *ra_over(void *p) { return reallocarray(p, (size_t)1 << 33, (size_t)1 << 33); }
static void *ra_max(void *p) { return reallocarray(p, SIZE_MAX, 1); }

static int do_errno(void)
{
	const size_t big = (size_t)PTRDIFF_MAX + 1;

	TRY(malloc(SIZE_MAX));
	TRY(malloc(big));
	TRY(malloc(SIZE_MAX - 4096));
	TRY(calloc(SIZE_MAX, 2));
	TRY(calloc((size_t)1 << 33, (size_t)1 << 33));
	TRY(calloc(1, SIZE_MAX));
	TRY(calloc(big, 1));
	TRY(realloc(NULL, SIZE_MAX));
	TRY(realloc(NULL, big));
	try_realloc_keeps("realloc(p, SIZE_MAX)", re_max);
	try_realloc_keeps("realloc(p, PTRDIFF_MAX + 1)", re_ptrdiff);
	TRY(reallocarray(NULL, SIZE_MAX, 2));
	TRY(reallocarray(NULL, (size_t)1 << 33, (size_t)1 << 33));
	try_realloc_keeps("reallocarray(p, 1 << 33, 1 << 33)", ra_over);
	try_realloc_keeps("reallocarray(p, SIZE_MAX, 1)", ra_max);
	TRY_PM(0, 16);
	TRY_PM(3, 16);
	TRY_PM(4, 16);
	TRY_PM(24, 16);
	TRY_PM(48, 16);
	TRY_PM(16, SIZE_MAX);
	TRY_PM(16, big);
	TRY_PM(4096, SIZE_MAX - 4096);
	TRY_PM((size_t)1 << 63, 16);
	TRY(aligned_alloc(16, SIZE_MAX));
	TRY(aligned_alloc(4096, big));
	TRY(aligned_alloc((size_t)1 << 63, 16));
	TRY(memalign(16, SIZE_MAX));
	TRY(memalign(4096, big));
	TRY(memalign(SIZE_MAX / 2 + 2, 16));
	TRY(memalign(SIZE_MAX, 16));
	TRY(memalign(3, SIZE_MAX));
	TRY(memalign((size_t)1 << 63, 16));
	TRY(valloc(SIZE_MAX));
	TRY(valloc(big));
	TRY(valloc(SIZE_MAX - 4095));
	TRY(pvalloc(SIZE_MAX));
	TRY(pvalloc(SIZE_MAX - 4095));
	TRY(pvalloc(big));
	/* Where glibc 2.38 and kmem reject, and glibc 2.36 rounds up. */
	printf("2.38: ");
	TRY(aligned_alloc(3, 16));
	printf("2.38: ");
	TRY(aligned_alloc(0, 16));
	printf("2.38: ");
	TRY(aligned_alloc(24, 100));
	return 0;
}

#undef malloc
#undef calloc
#undef realloc
#undef reallocarray
#undef posix_memalign
#undef aligned_alloc
#undef memalign
#undef valloc
#undef pvalloc

/* ---- malloc_stats under cancellation ---- */

static void *stats_loop(void *arg)
{
	(void)arg;
	for (;;) {
		malloc_stats();
		pthread_testcancel();
	}
	return NULL;
}

static void *stats_once(void *arg)
{
	(void)arg;
	malloc_stats();		/* the cancel is pending already */
	pthread_testcancel();
	return NULL;
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : s)
		if (!strncmp(s, prefix, len))
			n++;
	return n;
}

static int do_cancel(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), saved = dup(2);
	unsigned int seed = 1;
	static char first[1 << 22];
	char *text = first, *all;
	ssize_t len;
	off_t size;
	int arenas, totals, ends, pending;
	pthread_t t;

	if (fd < 0 || saved < 0)
		return 2;
	dup2(fd, 2);
	/* A thread cancelled before it starts printing. */
	for (int i = 0; i < 20; i++) {
		pthread_create(&t, NULL, stats_once, NULL);
		pthread_cancel(t);
		pthread_join(t, NULL);
	}
	len = pread(fd, first, sizeof(first) - 1, 0);
	first[len > 0 ? len : 0] = 0;
	pending = count_lines(text, "max mmap bytes");
	/* Threads cancelled at random moments while they print. */
	for (int i = 0; i < 100; i++) {
		pthread_create(&t, NULL, stats_loop, NULL);
		usleep((useconds_t)(rand_r(&seed) % 2000));
		pthread_cancel(t);
		pthread_join(t, NULL);
	}
	dup2(saved, 2);
	/* All of it: on a fast machine the 100 threads print more than any
	 * fixed buffer holds (4 MiB cut the last block once). */
	size = lseek(fd, 0, SEEK_END);
	all = size >= 0 ? malloc((size_t)size + 1) : NULL;
	len = all ? pread(fd, all, (size_t)size, 0) : -1;
	close(fd);
	if (len < 0)
		return 2;
	all[len] = 0;
	text = all;
	arenas = count_lines(text, "Arena 0:");
	totals = count_lines(text, "Total (incl. mmap):");
	ends = count_lines(text, "max mmap bytes");
	printf("cancel: %d of 20 threads with a cancel pending printed their "
	       "malloc_stats; %d blocks in all (%d \"Arena 0:\", %d \"Total\", "
	       "%d \"max mmap bytes\")%s\n", pending, ends, arenas, totals, ends,
	       len && text[len - 1] != '\n' ? ", the last line cut" : "");
	if (arenas != totals || totals != ends || pending != 20 ||
	    (len && text[len - 1] != '\n')) {
		printf("FAIL: an incomplete malloc_stats output\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "align"))
		return do_align();
	if (argc > 1 && !strcmp(argv[1], "errno"))
		return do_errno();
	if (argc > 2 && !strcmp(argv[1], "cancel"))
		return do_cancel(argv[2]);
	fprintf(stderr, "usage: compat align | errno | cancel FILE\n");
	return 2;
}
