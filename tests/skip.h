/* SPDX-License-Identifier: MIT */
/*
 * tests/skip.h - a Check case that cannot apply here says so.
 *
 * ck_skip("why %s", ...) prints "SKIP: case: why" on stdout and returns
 * from the case, which Check then counts as passed; tests/run.sh finds the
 * line, counts the case among the skipped and shows the reason in its
 * summary (and KMEM_TEST_STRICT=1 fails the run on it).  Only for what the
 * machine or the build cannot do (valgrind, a sanitizer, no permission),
 * never for a result the test did not like.
 */
#ifndef KMEM_TESTS_SKIP_H
#define KMEM_TESTS_SKIP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inline void __attribute__((format(printf, 2, 3), unused))
ck_skip_print(const char *fn, const char *fmt, ...)
{
	size_t len = strlen(fn);
	va_list ap;

	/* START_TEST(name) defines name_fn. */
	if (len > 3 && strcmp(fn + len - 3, "_fn") == 0)
		len -= 3;
	printf("SKIP: %.*s: ", (int)len, fn);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define ck_skip(...)                                  \
	do {                                          \
		ck_skip_print(__func__, __VA_ARGS__); \
		return;                               \
	} while (0)

#endif /* KMEM_TESTS_SKIP_H */
