/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/idle_return.c - memory a program freed goes back to the
 * system within the purge delay while the program does nothing at all.
 *
 *   idle_return <mib> <block> <delay_ms> [keep]
 *
 * Allocates <mib> MiB in <block>-byte blocks, writes every byte, frees
 * them all, then makes no allocation and no free: it only sleeps and
 * reads its resident set from /proc/self/statm every 10 ms.  With keep,
 * first a few thousand small blocks are left live and a few hundred
 * freed (the per-CPU caches then hold objects, and the purge thread sleeps
 * on their decay period, not without a timeout), and a large block is
 * freed and left to go back, so that the thread already sleeps so when
 * the real free comes.  Prints the peak, the
 * resident set at the end, and how long after the last free the freed
 * memory was back (resident set within 15% of the freed bytes above the
 * starting point); exits 1 when that took longer than the delay + 600 ms.
 * Plain program: kmem comes by LD_PRELOAD (and KMEM_PURGE_DELAY_MS =
 * <delay_ms>, set by the caller).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* /proc/self/statm through open and read into a stack buffer: fopen
 * would allocate, and the point is that nothing does. */
static long rss_kb(void)
{
	char buf[128];
	long size = 0, res = 0;
	ssize_t len;
	int fd = open("/proc/self/statm", O_RDONLY);

	if (fd < 0)
		exit(2);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		exit(2);
	buf[len] = 0;
	if (sscanf(buf, "%ld %ld", &size, &res) != 2)
		exit(2);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static void *keep[4096];
	long mib, block, delay, n, start, peak, rss = 0, limit;
	double t0, back = -1, t;
	void **blocks;

	if (argc < 4)
		return 2;
	mib = atol(argv[1]);
	block = atol(argv[2]);
	delay = atol(argv[3]);
	if (argc > 4) {
		for (int i = 0; i < 4096; i++)
			keep[i] = malloc(16 + i % 200);
		for (int i = 0; i < 4096; i += 8)
			free(keep[i]);
		/* Start the purge thread and let it fall asleep on the
		 * caches' decay period (1 s) before the real free comes. */
		for (int i = 0; i < 64; i++) {
			void *p = malloc(1 << 20);

			if (!p)
				return 2;
			memset(p, 1, 1 << 20);
			free(p);
		}
		usleep((useconds_t)(delay + 300) * 1000);
	}
	n = (mib << 20) / block;
	blocks = malloc(n * sizeof(void *));
	if (!blocks)
		return 2;
	start = rss_kb();
	for (long i = 0; i < n; i++) {
		blocks[i] = malloc(block);
		if (!blocks[i])
			return 2;
		memset(blocks[i], (int)(i & 0x7f) | 1, block);
	}
	peak = rss_kb();
	for (long i = 0; i < n; i++)
		free(blocks[i]);
	t0 = now_ms();
	/* From here on no allocation and no free: only a purge thread (or
	 * a timer) can give the memory back. */
	limit = start + (peak - start) * 15 / 100;
	while ((t = now_ms() - t0) < delay + 3000) {
		usleep(10 * 1000);
		rss = rss_kb();
		if (rss <= limit) {
			back = now_ms() - t0;
			break;
		}
	}
	printf("%ld MiB in %ld B blocks, delay %ld ms%s: RSS %ld KiB at the "
	       "start, %ld at the peak, %ld at the end; back after %.0f ms\n",
	       mib, block, delay, argc > 4 ? ", caches holding objects" : "",
	       start, peak, rss, back);
	return back >= 0 && back <= delay + 600 ? 0 : 1;
}
