/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_vmalloc.c - quick timing of core/vmalloc.c.
 *
 *   1. vmalloc + vfree of one size in a loop (the freed-area cache), with
 *      one byte written per round, against glibc malloc/free;
 *   2. the same with the cache off (two or three system calls a round);
 *   3. vrealloc growth 1 MiB -> 512 MiB by doubling, every page written,
 *      against glibc realloc and against malloc + memcpy + free;
 *   4. for the kmalloc threshold: a buddy block of 2^order pages
 *      (__alloc_pages/__free_pages_ok) against a cached vmalloc area of
 *      the same size, each touched once per page.
 *
 * Linked with the core alone: malloc here is glibc's.  Figures are
 * wall-clock medians of a few runs on whatever machine runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buddy.h"
#include "kmem.h"
#include "options.h"
#include "os.h"
#include "vmalloc.h"

#define MiB (1UL << 20)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void touch(volatile char *p, size_t len, size_t step)
{
	for (size_t i = 0; i < len; i += step)
		p[i] = (char)i;
}

static double loop_vmalloc(size_t size, int n, size_t step)
{
	double t = now_ns();

	for (int i = 0; i < n; i++) {
		char *p = kmem_vmalloc(size);

		touch(p, size, step);
		kmem_vfree(p);
	}
	return (now_ns() - t) / n;
}

static double loop_glibc(size_t size, int n, size_t step)
{
	double t = now_ns();

	for (int i = 0; i < n; i++) {
		char *p = malloc(size);

		touch(p, size, step);
		free(p);
	}
	return (now_ns() - t) / n;
}

static double loop_buddy(unsigned int order, int n, size_t step)
{
	double t = now_ns();

	for (int i = 0; i < n; i++) {
		struct page *pg = __alloc_pages(0, order);

		touch(page_address(pg), PAGE_SIZE << order, step);
		__free_pages_ok(pg, order);
	}
	return (now_ns() - t) / n;
}

enum grow_kind { GROW_VREALLOC, GROW_REALLOC, GROW_COPY };

/* ns for the whole 1 MiB -> 512 MiB doubling, pages written as it grows. */
static double grow(enum grow_kind k)
{
	size_t sz = MiB;
	char *p = k == GROW_VREALLOC ? kmem_vmalloc(sz) : malloc(sz);
	double t;

	touch(p, sz, PAGE_SIZE);
	t = now_ns();
	for (size_t ns = 2 * MiB; ns <= 512 * MiB; ns *= 2) {
		char *q;

		if (k == GROW_VREALLOC) {
			q = kmem_vrealloc(p, ns);
		} else if (k == GROW_REALLOC) {
			q = realloc(p, ns);
		} else {
			q = malloc(ns);
			memcpy(q, p, sz);
			free(p);
		}
		touch(q + sz, ns - sz, PAGE_SIZE);
		p = q;
		sz = ns;
	}
	t = now_ns() - t;
	if (k == GROW_VREALLOC)
		kmem_vfree(p);
	else
		free(p);
	return t;
}

static double median3(double a, double b, double c)
{
	if (a > b) { double x = a; a = b; b = x; }
	if (b > c) { double x = b; b = c; c = x; }
	return a > b ? a : b;
}

int main(void)
{
	static const size_t sizes[] = { MiB, 4 * MiB, 16 * MiB };
	struct vmalloc_stats st0, st1;
	long cache;

	kmem_init();
	cache = kmem_option_values[OPT_VMALLOC_CACHE];
	printf("# vmalloc+vfree of one size in a loop, one byte written (ns/round)\n");
	printf("%-10s %12s %12s %12s %14s\n", "size", "kmem cached",
	       "kmem nocache", "glibc", "syscalls/round");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t sz = sizes[i];
		int n = 20000;
		double c, u, g;

		loop_vmalloc(sz, 100, sz);
		c = median3(loop_vmalloc(sz, n, sz), loop_vmalloc(sz, n, sz),
			    loop_vmalloc(sz, n, sz));
		kmem_option_values[OPT_VMALLOC_CACHE] = 0;
		vmalloc_trim();
		vmalloc_get_stats(&st0);
		u = loop_vmalloc(sz, 2000, sz);
		vmalloc_get_stats(&st1);
		kmem_option_values[OPT_VMALLOC_CACHE] = cache;
		loop_glibc(sz, 100, sz);
		g = median3(loop_glibc(sz, n, sz), loop_glibc(sz, n, sz),
			    loop_glibc(sz, n, sz));
		printf("%-10zu %12.0f %12.0f %12.0f %14.1f\n", sz, c, u, g,
		       (double)(st1.nr_mmap + st1.nr_munmap + st1.nr_mprotect -
				st0.nr_mmap - st0.nr_munmap - st0.nr_mprotect) /
			       2000);
	}

	printf("\n# growth 1 MiB -> 512 MiB by doubling, new pages written (ms; MB/s of final size)\n");
	for (int k = 0; k < 3; k++) {
		static const char *names[] = { "kmem_vrealloc", "glibc realloc",
					       "malloc+memcpy" };
		double t = median3(grow(k), grow(k), grow(k));

		printf("%-14s %8.2f ms %10.0f MB/s\n", names[k], t / 1e6,
		       512.0 * MiB / (t / 1e9) / 1e6);
	}
	vmalloc_get_stats(&st0);
	grow(GROW_VREALLOC);
	vmalloc_get_stats(&st1);
	printf("vrealloc syscalls for the 9 steps: mmap %zu mremap %zu mprotect %zu munmap %zu\n",
	       st1.nr_mmap - st0.nr_mmap, st1.nr_mremap - st0.nr_mremap,
	       st1.nr_mprotect - st0.nr_mprotect,
	       st1.nr_munmap - st0.nr_munmap);

	printf("\n# threshold: buddy block vs cached vmalloc area, every page written (ns/round)\n");
	printf("%-10s %12s %12s\n", "size", "buddy", "vmalloc");
	for (unsigned int order = 6; order <= MAX_ORDER; order++) {
		size_t sz = PAGE_SIZE << order;
		int n = 5000;
		double b, v;

		loop_buddy(order, 100, PAGE_SIZE);
		b = median3(loop_buddy(order, n, PAGE_SIZE),
			    loop_buddy(order, n, PAGE_SIZE),
			    loop_buddy(order, n, PAGE_SIZE));
		loop_vmalloc(sz, 100, PAGE_SIZE);
		v = median3(loop_vmalloc(sz, n, PAGE_SIZE),
			    loop_vmalloc(sz, n, PAGE_SIZE),
			    loop_vmalloc(sz, n, PAGE_SIZE));
		printf("%-10zu %12.0f %12.0f\n", sz, b, v);
	}
	kmem_option_values[OPT_VMALLOC_CACHE] = 0;
	vmalloc_trim();
	printf("\n# the same, cache off (fresh mapping each round: faults included)\n");
	for (unsigned int order = 6; order <= MAX_ORDER; order += 2) {
		size_t sz = PAGE_SIZE << order;

		printf("%-10zu %12s %12.0f\n", sz, "",
		       loop_vmalloc(sz, 500, PAGE_SIZE));
	}
	return 0;
}
