/* SPDX-License-Identifier: MIT */
/*
 * bench/idle_return.c - free-then-idle resident memory: is memory that a
 * program has freed given back to the system while the program goes on
 * doing only small things?
 *
 * The program allocates <mib> MiB in <block>-byte blocks (4000 B: small
 * enough for every allocator's small-object or small-run path, big
 * enough that a 256 MiB heap is 67,000 blocks), writes every byte, and
 * frees them all.  Then, for <idle_ms> ms, it only does malloc(64) +
 * free pairs in a loop - the fast path of every allocator, which never
 * has a reason to look at the freed heap - and samples its own resident
 * set from /proc/self/statm every 10 ms.
 *
 * Printed: the time of the allocate/touch/free phase (elapsed_s), the
 * peak RSS, the RSS half-way through the idle phase and at its end, the
 * end as a percentage of the peak, and how long after the last free the
 * resident set first fell to 15% of the peak (-1: never).  An allocator
 * that purges only from its slow paths, or keeps freed memory cached,
 * stays near the peak for as long as the program runs; one with a
 * purge deadline enforced by a timer or a background thread falls
 * after that deadline (kmem: KMEM_PURGE_DELAY_MS, 1000 ms by default).
 *
 *   idle_return [mib=256] [idle_ms=3000] [block=4000]
 */
#include "common.h"

int main(int argc, char **argv)
{
	long mib = bench_arg(argc, argv, 1, 256);
	long idle_ms = bench_arg(argc, argv, 2, 3000);
	long block = bench_arg(argc, argv, 3, 4000);
	long n = (mib << 20) / block, rss, peak, half = -1, back_ms = -1;
	unsigned long long pairs = 0;
	void **blocks = calloc(n, sizeof(void *));
	double t0, t1, now, next_sample;

	if (!blocks || block < 64)
		bench_oom();
	t0 = bench_now();
	for (long i = 0; i < n; i++) {
		blocks[i] = malloc(block);
		if (!blocks[i])
			bench_oom();
		memset(blocks[i], (int)(i & 0xff) | 1, block);
	}
	peak = bench_rss_kb();
	for (long i = 0; i < n; i++)
		free(blocks[i]);
	free(blocks);
	t1 = bench_now();

	rss = bench_rss_kb();
	next_sample = t1;
	for (;;) {
		/* A batch of pairs between clock reads: 64 B, touched. */
		for (int k = 0; k < 4096; k++) {
			volatile unsigned char *p = malloc(64);

			if (!p)
				bench_oom();
			p[0] = (unsigned char)k;
			p[63] = 1;
			free((void *)p);
		}
		pairs += 4096;
		now = bench_now();
		if (now < next_sample)
			continue;
		next_sample += 0.010;
		rss = bench_rss_kb();
		if (rss > peak)
			peak = rss;
		if (half < 0 && now - t1 >= idle_ms / 2000.0)
			half = rss;
		if (back_ms < 0 && rss * 100 <= peak * 15)
			back_ms = (long)((now - t1) * 1000);
		if (now - t1 >= idle_ms / 1000.0)
			break;
	}
	if (bench_peak_rss_kb() > peak)
		peak = bench_peak_rss_kb();
	printf("RESULT workload=idle-return threads=1 elapsed_s=%.6f ops=%ld "
	       "block=%ld peak_rss_kb=%ld half_rss_kb=%ld final_rss_kb=%ld "
	       "final_pct=%.1f return_ms=%ld idle_pairs=%llu\n", t1 - t0, n,
	       block, peak, half, rss, 100.0 * rss / peak, back_ms, pairs);
	return 0;
}
