/* SPDX-License-Identifier: MIT */
/*
 * bench/workloads.c - micro-benchmark workloads (see workloads.h).
 *
 * Built with -fno-builtin-malloc and friends so that the compiler cannot
 * pair up and delete a malloc with its free; every object is also written
 * through a volatile pointer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "workloads.h"

#define BATCH 1000		/* objects per batch workload */
#define CHURN_SLOTS 4096	/* live objects in the churn workload */
#define CHURN_OPS 1000		/* replacements per churn iteration */

static char dummy_ctx;		/* ctx of workloads that keep no state */

static void *no_setup(long arg) { return &dummy_ctx; }
static void no_teardown(void *ctx) { }

/* ---- malloc + free of one size ---- */
struct size_ctx {
	size_t size;		/* bytes per object */
	void *obj[BATCH];	/* batch workloads: the objects */
};

static void *size_setup(long arg)
{
	struct size_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		bench_oom();
	c->size = (size_t)arg;
	return c;
}

static void size_teardown(void *ctx) { free(ctx); }

static void pair_run(void *ctx)
{
	struct size_ctx *c = ctx;
	volatile char *p = malloc(c->size);

	p[0] = 1;
	free((void *)p);
}

static void calloc_run(void *ctx)
{
	struct size_ctx *c = ctx;
	volatile char *p = calloc(1, c->size);

	p[0] = 1;
	free((void *)p);
}

/* Allocate BATCH objects, then free them in the same order. */
static void batch_run(void *ctx)
{
	struct size_ctx *c = ctx;

	for (int i = 0; i < BATCH; i++) {
		volatile char *p = malloc(c->size);

		p[0] = 1;
		c->obj[i] = (void *)p;
	}
	for (int i = 0; i < BATCH; i++)
		free(c->obj[i]);
}

/* Allocate BATCH objects, then free them in reverse order. */
static void batch_lifo_run(void *ctx)
{
	struct size_ctx *c = ctx;

	for (int i = 0; i < BATCH; i++) {
		volatile char *p = malloc(c->size);

		p[0] = 1;
		c->obj[i] = (void *)p;
	}
	for (int i = BATCH - 1; i >= 0; i--)
		free(c->obj[i]);
}

/* ---- aligned allocation: arg is the alignment, size = alignment ---- */
static void aligned_run(void *ctx)
{
	struct size_ctx *c = ctx;
	void *p;

	if (posix_memalign(&p, c->size, c->size))
		bench_oom();
	*(volatile char *)p = 1;
	free(p);
}

/* aligned_alloc(64, 100): an odd size at cache-line alignment */
static void aligned_odd_run(void *ctx)
{
	volatile char *p = aligned_alloc(64, 128);

	(void)ctx;
	p[99] = 1;
	free((void *)p);
}

/* ---- random-size churn over a live set ---- */
struct churn_ctx {
	uint64_t rng;			/* deterministic random state */
	void *slot[CHURN_SLOTS];	/* live objects */
};

static void *churn_setup(long arg)
{
	struct churn_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		bench_oom();
	c->rng = bench_seed(7);
	for (int i = 0; i < CHURN_SLOTS; i++) {
		c->slot[i] = malloc(bench_range(&c->rng, 8, (size_t)arg));
		if (!c->slot[i])
			bench_oom();
	}
	return c;
}

static void churn_run(void *ctx)
{
	struct churn_ctx *c = ctx;

	for (int k = 0; k < CHURN_OPS; k++) {
		uint64_t r = bench_rand(&c->rng);
		int i = (int)(r % CHURN_SLOTS);
		size_t size = 8 + (size_t)((r >> 32) % 2041);
		volatile char *p;

		free(c->slot[i]);
		p = malloc(size);
		p[0] = 1;
		c->slot[i] = (void *)p;
	}
}

static void churn_teardown(void *ctx)
{
	struct churn_ctx *c = ctx;

	for (int i = 0; i < CHURN_SLOTS; i++)
		free(c->slot[i]);
	free(c);
}

/* ---- realloc growth ---- */
/* A string grown by 16 bytes at a time up to 8 KiB: 511 reallocs. */
static void realloc_append_run(void *ctx)
{
	char *p = NULL;

	(void)ctx;
	for (size_t n = 16; n <= 8192; n += 16) {
		p = realloc(p, n);
		if (!p)
			bench_oom();
		p[n - 1] = 1;
	}
	free(p);
}

/* A vector doubled from 16 bytes to 4 MiB: 19 reallocs. */
static void realloc_double_run(void *ctx)
{
	char *p = NULL;

	(void)ctx;
	for (size_t n = 16; n <= (4UL << 20); n *= 2) {
		p = realloc(p, n);
		if (!p)
			bench_oom();
		p[n - 1] = 1;
	}
	free(p);
}

/* ---- kmem's own API, looked up at run time ---- */
struct kmem_api {
	void *(*cache_create)(const char *, size_t, size_t, unsigned int,
			      void (*)(void *));
	void *(*cache_alloc)(void *, unsigned int);
	void (*cache_free)(void *, void *);
	void (*cache_destroy)(void *);
	void *(*kmalloc)(size_t, unsigned int);
	void (*kfree)(const void *);
};

struct kmem_ctx {
	struct kmem_api api;	/* kmem's functions */
	void *cache;		/* kmem_cache_create()d for this run */
	size_t size;		/* object size */
};

#define LOOKUP(field, name)                                              \
	(*(void **)&c->api.field = dlsym(RTLD_DEFAULT, name))

static void *kmem_setup(long arg)
{
	struct kmem_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		bench_oom();
	if (!LOOKUP(cache_create, "kmem_cache_create") ||
	    !LOOKUP(cache_alloc, "kmem_cache_alloc") ||
	    !LOOKUP(cache_free, "kmem_cache_free") ||
	    !LOOKUP(cache_destroy, "kmem_cache_destroy") ||
	    !LOOKUP(kmalloc, "kmem_kmalloc") || !LOOKUP(kfree, "kmem_kfree")) {
		free(c);
		return NULL;
	}
	c->size = (size_t)arg;
	c->cache = c->api.cache_create("bench", c->size, 0, 0, NULL);
	if (!c->cache) {
		free(c);
		return NULL;
	}
	return c;
}

static void kmem_teardown(void *ctx)
{
	struct kmem_ctx *c = ctx;

	c->api.cache_destroy(c->cache);
	free(c);
}

static void kmem_cache_run(void *ctx)
{
	struct kmem_ctx *c = ctx;
	volatile char *p = c->api.cache_alloc(c->cache, 0);

	p[0] = 1;
	c->api.cache_free(c->cache, (void *)p);
}

static void kmalloc_run(void *ctx)
{
	struct kmem_ctx *c = ctx;
	volatile char *p = c->api.kmalloc(c->size, 0);

	p[0] = 1;
	c->api.kfree((void *)p);
}

#define PAIR(sz) { "pair/" #sz, sz, 1, 1, size_setup, pair_run, size_teardown }

const struct bench_workload bench_workloads[] = {
	PAIR(16), PAIR(64), PAIR(256), PAIR(1024), PAIR(4096), PAIR(32768),
	PAIR(262144),
	{ "pair/64", 64, 1, 2, size_setup, pair_run, size_teardown },
	{ "calloc/4096", 4096, 1, 1, size_setup, calloc_run, size_teardown },
	{ "batch-fifo/64", 64, BATCH, 1, size_setup, batch_run,
	  size_teardown },
	{ "batch-fifo/256", 256, BATCH, 1, size_setup, batch_run,
	  size_teardown },
	{ "batch-lifo/64", 64, BATCH, 1, size_setup, batch_lifo_run,
	  size_teardown },
	{ "batch-fifo/4096", 4096, BATCH, 1, size_setup, batch_run,
	  size_teardown },
	{ "churn/8-2048", 2048, CHURN_OPS, 1, churn_setup, churn_run,
	  churn_teardown },
	{ "realloc-append/16-8192", 0, 511, 1, no_setup, realloc_append_run,
	  no_teardown },
	{ "realloc-double/16-4M", 0, 19, 1, no_setup, realloc_double_run,
	  no_teardown },
	{ "posix_memalign/64", 64, 1, 1, size_setup, aligned_run,
	  size_teardown },
	{ "posix_memalign/4096", 4096, 1, 1, size_setup, aligned_run,
	  size_teardown },
	{ "aligned_alloc/64x128", 0, 1, 1, no_setup, aligned_odd_run,
	  no_teardown },
	{ "kmem_cache_alloc/64", 64, 1, 1, kmem_setup, kmem_cache_run,
	  kmem_teardown },
	{ "kmem_kmalloc/64", 64, 1, 1, kmem_setup, kmalloc_run,
	  kmem_teardown },
	{ "kmem_cache_alloc/256", 256, 1, 1, kmem_setup, kmem_cache_run,
	  kmem_teardown },
	{ "kmem_kmalloc/256", 256, 1, 1, kmem_setup, kmalloc_run,
	  kmem_teardown },
};

const int bench_nworkloads = sizeof(bench_workloads) /
			     sizeof(bench_workloads[0]);
