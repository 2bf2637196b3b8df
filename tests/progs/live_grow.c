/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/live_grow.c - a program to look at while it runs (kmem
 * stat, kmem top), preloaded with libkmem.so.
 *
 *   live_grow stats SELF READY   a known pattern, then kmem_stats_print to
 *                                SELF; then every descriptor is closed and
 *                                0..9 reopened on /dev/null, READY is
 *                                created, and it waits without allocating
 *                                until killed
 *   live_grow grow SECONDS       keeps allocating (64-byte and 1000-byte
 *                                objects, 20 times a second) for SECONDS
 *   live_grow storm SECONDS N    N threads malloc and free every size class,
 *                                page runs and vmalloc areas as fast as
 *                                they can for SECONDS (requests land in
 *                                the middle of kmem's slow paths)
 *
 * kmem_stats_print comes from the preloaded library (a weak reference:
 * the program is not linked with kmem).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmem.h"

#pragma weak kmem_stats_print

static char stdio_buf[1 << 16];
void *keep[20000];			/* global: the stores are not dead */

static int stats(const char *self, const char *ready)
{
	int fd = open(self, O_WRONLY | O_CREAT | O_TRUNC, 0644), i;
	FILE *out;

	if (fd < 0 || !kmem_stats_print) {
		fprintf(stderr, "live_grow: %s\n", fd < 0 ? "cannot open SELF"
			: "kmem_stats_print not found: run under kmem");
		return 1;
	}
	out = fdopen(fd, "w");	/* its malloc: before the pattern */
	setvbuf(out, stdio_buf, _IOFBF, sizeof(stdio_buf));
	for (i = 0; i < 1000; i++)
		keep[i] = malloc(100);
	for (; i < 1500; i++)
		keep[i] = malloc(3000);
	keep[i++] = malloc(200 << 10);		/* a page run */
	keep[i++] = malloc(3 << 20);		/* a vmalloc area */
	memset(keep[i - 1], 1, 3 << 20);
	kmem_stats_print(out);		/* flushes; never closed */
	/* A program that closed and reused all of its descriptors. */
	for (fd = 0; fd < 1024; fd++)
		close(fd);
	for (fd = 0; fd < 10; fd++)
		open("/dev/null", O_RDWR);
	close(open(ready, O_WRONLY | O_CREAT, 0644));
	for (;;)
		pause();			/* the handler interrupts it */
}

static int grow(int seconds)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };

	for (int n = 0; n < seconds * 20; n++) {
		for (int i = 0; i < 200; i++)
			keep[(n * 200 + i) % 20000] = malloc(i & 1 ? 64 : 1000);
		nanosleep(&tick, NULL);
	}
	return 0;
}

static volatile int storm_stop;

static void *storm_thread(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1;
	void *slot[256] = { 0 };

	while (!storm_stop) {
		unsigned int i, sz;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (unsigned int)(x & 255);
		switch ((x >> 8) & 63) {
		case 0:
			sz = 600u << 10;		/* vmalloc */
			break;
		case 1: case 2:
			sz = 40u << 10;			/* page run */
			break;
		default:
			sz = (unsigned int)((x >> 16) % 4000) + 1;
		}
		free(slot[i]);
		slot[i] = malloc(sz);
		*(volatile char *)slot[i] = 1;
	}
	for (int i = 0; i < 256; i++)
		free(slot[i]);
	return NULL;
}

static int storm(int seconds, int n)
{
	pthread_t t[64];

	if (n > 64)
		n = 64;
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, storm_thread, (void *)(i + 1));
	/* A signal (a kmem stat request) cuts sleep short: sleep again. */
	for (time_t end = time(NULL) + seconds; time(NULL) < end;)
		sleep(1);
	storm_stop = 1;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "storm"))
		return storm(atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "stats"))
		return stats(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "grow"))
		return grow(atoi(argv[2]));
	fprintf(stderr, "usage: live_grow stats SELF READY | grow SECONDS | "
		"storm SECONDS THREADS\n");
	return 2;
}
