/* SPDX-License-Identifier: MIT */
/*
 * bench/workloads.h - the micro-benchmark workloads, written in C.
 *
 * bench/micro.cc registers every entry of bench_workloads[] with Google
 * Benchmark; the timing loop calls run(ctx) once per iteration, and one
 * iteration is ops_per_iter operations (a malloc+free pair, a realloc
 * call, ...), so ns/op = 1e9 / items_per_second.
 *
 * The binary links with the C library's malloc, so LD_PRELOAD picks the
 * allocator under test.  Workloads that use kmem's own API
 * (kmem_cache_alloc, kmem_kmalloc) look it up with dlsym at set-up time;
 * setup() returns NULL when it is absent and the benchmark is skipped.
 */
#ifndef BENCH_WORKLOADS_H
#define BENCH_WORKLOADS_H

#ifdef __cplusplus
extern "C" {
#endif

struct bench_workload {
	const char *name;		/* benchmark name, e.g. "pair/64" */
	long arg;			/* size or other parameter */
	long ops_per_iter;		/* operations in one run() */
	int threads;			/* >1: run in that many threads */
	void *(*setup)(long arg);	/* NULL: skip (API absent) */
	void (*run)(void *ctx);		/* one timed iteration */
	void (*teardown)(void *ctx);	/* frees what setup made */
};

extern const struct bench_workload bench_workloads[];
extern const int bench_nworkloads;

#ifdef __cplusplus
}
#endif

#endif
