/* SPDX-License-Identifier: MIT */
/*
 * bench/common.h - helpers shared by the workload programs in bench/.
 *
 * The programs are plain C linked with the C library's malloc, so that the
 * allocator under test is the one preloaded (LD_PRELOAD) by bench/run.py.
 * Each program prints exactly one machine-readable line on stdout:
 *
 *   RESULT workload=<name> threads=<n> elapsed_s=<s> ops=<n> [key=value...]
 *
 * Randomness is a per-thread xorshift64* generator seeded from fixed
 * constants, so every run of a program does the same work.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* xorshift64*: small, fast, good enough to pick sizes and slots. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [lo, hi]. */
static inline size_t bench_range(uint64_t *state, size_t lo, size_t hi)
{
	return lo + (size_t)(bench_rand(state) % (hi - lo + 1));
}

static inline uint64_t bench_seed(unsigned int thread)
{
	return 0x9E3779B97F4A7C15ULL * (thread + 1) ^ 0xD1B54A32D192ED03ULL;
}

/* Peak resident set of this process so far, in KiB. */
static inline long bench_peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Current resident set in KiB, from /proc/self/statm. */
static inline long bench_rss_kb(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Integer argument argv[i] or a default. */
static inline long bench_arg(int argc, char **argv, int i, long def)
{
	return argc > i ? strtol(argv[i], NULL, 0) : def;
}

static inline void bench_oom(void)
{
	fprintf(stderr, "out of memory\n");
	exit(2);
}

#endif
