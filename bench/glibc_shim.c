/* SPDX-License-Identifier: MIT */
/*
 * bench/glibc_shim.c - preload shim that routes the malloc family to
 * glibc's own malloc (__libc_malloc and friends).
 *
 * Debian's redis-server is linked with libjemalloc.so.2, which comes
 * before libc.so.6 in its search order, so "no preload" would measure
 * jemalloc, not glibc.  bench/run.py preloads this shim for the glibc
 * column of programs like that (and says so in docs/benchmarks.md).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

void *malloc(size_t size) { return __libc_malloc(size); }
void free(void *p) { __libc_free(p); }
void *calloc(size_t n, size_t size) { return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { return __libc_realloc(p, size); }
void *memalign(size_t align, size_t size)
{
	return __libc_memalign(align, size);
}
void *aligned_alloc(size_t align, size_t size)
{
	return __libc_memalign(align, size);
}
void *valloc(size_t size) { return __libc_valloc(size); }
void *pvalloc(size_t size) { return __libc_pvalloc(size); }

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* glibc's malloc_usable_size, looked up in libc.so.6 itself. */
size_t malloc_usable_size(void *p)
{
	static size_t (*real)(void *);

	if (!real) {
		void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

		real = (size_t (*)(void *))(uintptr_t)dlsym(libc,
						"malloc_usable_size");
	}
	return p ? real(p) : 0;
}
