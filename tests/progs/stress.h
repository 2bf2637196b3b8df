/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/stress.h - shared by the stress helpers (fork, signal and
 * stdio scenarios): a fast PRNG, blocks with a checkable fill pattern,
 * a monotonic clock and a failure report that is safe in a signal
 * handler and in a forked child (write(2), no stdio, no malloc).
 */
#ifndef KMEM_TESTS_STRESS_H
#define KMEM_TESTS_STRESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Byte i of a block with tag t is (t + i) & 0xff: a block moved, cut,
 * overlapped by another or handed out twice shows up. */
static inline void fill(void *p, size_t n, unsigned char tag)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(tag + i);
}

/* 0 if the block is intact, else 1 + the offset of the first bad byte. */
static inline size_t check_fill(const void *p, size_t n, unsigned char tag)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(tag + i))
			return i + 1;
	return 0;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "PROG: message\n" on stderr in one write(2), then abort(): usable in a
 * signal handler or a forked child (vsnprintf of %s %d %zu %p does not
 * allocate in glibc). */
static inline __attribute__((format(printf, 1, 2), noreturn)) void
stress_die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0)
		_exit(99);
	abort();
}

#endif /* KMEM_TESTS_STRESS_H */
