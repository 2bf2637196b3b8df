/* SPDX-License-Identifier: MIT */
/*
 * bench/thp_tlb.c - what transparent huge pages buy and cost (KMEM_THP):
 * random access over a large heap of small objects, and the resident
 * size of a small heap.  Run by bench/thp.sh under each KMEM_THP mode.
 *
 *   thp_tlb random MB OBJSIZE STEPS   MB of OBJSIZE-byte objects, then
 *                                     STEPS random read-modify-writes
 *                                     through a pointer table (the table
 *                                     is itself one large malloc)
 *   thp_tlb small KB                  KB of objects of 16..512 bytes, every
 *                                     other one freed: a short program's
 *                                     heap
 *
 * Prints RESULT lines (bench/common.h) with ns per access, the resident
 * size and the process's AnonHugePages (from /proc/self/smaps_rollup).
 */
#include "common.h"

static long anon_huge_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int run_random(long mb, long objsize, long steps)
{
	size_t n = (size_t)(mb << 20) / (size_t)objsize;
	char **objs = malloc(n * sizeof(*objs));
	uint64_t rng = bench_seed(0), sum = 0;
	double t0, t1;

	if (!objs)
		return 1;
	for (size_t i = 0; i < n; i++) {
		objs[i] = malloc((size_t)objsize);
		if (!objs[i])
			return 1;
		memset(objs[i], (int)i, (size_t)objsize);
	}
	t0 = bench_now();
	for (long s = 0; s < steps; s++) {
		char *p = objs[bench_rand(&rng) % n];

		sum += (unsigned char)p[0];
		p[1]++;
	}
	t1 = bench_now();
	printf("RESULT workload=thp-random mb=%ld objsize=%ld ops=%ld "
	       "ns_per_access=%.2f rss_kb=%ld anon_huge_kb=%ld sum=%lu\n", mb,
	       objsize, steps, (t1 - t0) * 1e9 / (double)steps, bench_rss_kb(),
	       anon_huge_kb(), (unsigned long)(sum & 1));
	return 0;
}

static int run_small(long kb)
{
	uint64_t rng = bench_seed(1);
	size_t cap = (size_t)kb * 1024 / 16, n = 0, bytes = 0;
	void **objs = calloc(cap, sizeof(*objs));

	while (bytes < (size_t)kb * 1024 && n < cap) {
		size_t sz = bench_range(&rng, 16, 512);

		objs[n] = malloc(sz);
		memset(objs[n++], 1, sz);
		bytes += sz;
	}
	for (size_t i = 0; i < n; i += 2)
		free(objs[i]);
	printf("RESULT workload=thp-small kb=%ld objects=%zu rss_kb=%ld "
	       "peak_rss_kb=%ld anon_huge_kb=%ld\n", kb, n, bench_rss_kb(),
	       bench_peak_rss_kb(), anon_huge_kb());
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "random"))
		return run_random(atol(argv[2]), atol(argv[3]), atol(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "small"))
		return run_small(atol(argv[2]));
	fprintf(stderr, "usage: thp_tlb random MB OBJSIZE STEPS | small KB\n");
	return 2;
}
