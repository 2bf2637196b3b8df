/* SPDX-License-Identifier: MIT */
/*
 * bench/prof_cost.c - what one heap-profile sample costs (core/profile.c),
 * through the recorder's API, until the malloc path samples by itself:
 *
 *   prof_cost [DEPTH]
 *
 * Times, at a call depth of DEPTH frames (default 12): prof_record_alloc
 * (a stack capture and an insert), prof_record_free of a sample, and
 * prof_record_free of a pointer that is no sample (the lock-free miss);
 * and prof_next_interval.  Then the cost per allocation at KMEM_PROF=512K
 * for allocations of 64 and 1024 bytes (one sample per 512 KiB / size
 * allocations).  Linked with libkmem-core.a (make bench-prof).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "profile.h"

#define N 20000

static void *ptrs[N];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

__attribute__((noinline)) double at_depth(int d, double (*fn)(void))
{
	double r;

	if (d <= 1)
		return fn();
	r = at_depth(d - 1, fn);
	__asm__ volatile("" ::: "memory");
	return r;
}

static double record(void)
{
	double t0 = now();

	for (int i = 0; i < N; i++)
		prof_record_alloc(ptrs[i], 64, 524288);
	return (now() - t0) / N;
}

static double release(void)
{
	double t0 = now();

	for (int i = 0; i < N; i++)
		prof_record_free(ptrs[i]);
	return (now() - t0) / N;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 12;
	double rec = 1e9, rel = 1e9, miss = 1e9, iv = 1e9, t0;
	size_t sink = 0;

	setenv("KMEM_PROF", "524288", 1);
	setenv("KMEM_PROF_MAX", "32768", 1);
	kmem_trim();		/* brings kmem up with the profile on */
	for (int i = 0; i < N; i++)
		ptrs[i] = (void *)(0x100000000UL + 64UL * (unsigned long)i);
	for (int round = 0; round < 5; round++) {
		double r = at_depth(depth, record), f;

		rec = r < rec ? r : rec;
		f = at_depth(depth, release);
		rel = f < rel ? f : rel;
		f = release();		/* now none is a sample: misses */
		miss = f < miss ? f : miss;
		t0 = now();
		for (int i = 0; i < N; i++)
			sink += prof_next_interval();
		f = (now() - t0) / N;
		iv = f < iv ? f : iv;
	}
	printf("depth %d: record %.0f ns, free of a sample %.0f ns, free of a "
	       "non-sample %.1f ns, next interval %.1f ns\n", depth, rec * 1e9,
	       rel * 1e9, miss * 1e9, iv * 1e9);
	for (size_t size = 64; size <= 1024; size *= 16) {
		double per = (rec + rel + iv) / (524288.0 / size);

		printf("KMEM_PROF=512K, %zu-byte blocks: a sample every %.0f "
		       "allocations, %.2f ns per malloc+free on average\n", size,
		       524288.0 / size, per * 1e9);
	}
	return (int)(sink & 0);
}
