/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/rlimit_oom.c - out of memory under RLIMIT_AS: malloc returns
 * NULL with errno ENOMEM, and the program goes on.
 *
 * Sets RLIMIT_AS to the current address-space size + 256 MiB, then
 * allocates (and touches) 1 MiB blocks until malloc fails, then small
 * blocks until that fails too, checks errno each time, frees everything
 * and shows that malloc works again, three rounds.
 *
 *   rlimit_oom reuse: memory kmem holds free must serve other requests
 *   before malloc fails (kmalloc.c's direct reclaim), under the same
 *   limit: a freed 60 MiB block, then a 245 MiB one (both do not fit at
 *   once, and the first is too small to be grown into the second: it
 *   must be unmapped, not kept for reuse); then
 *   4000-byte blocks until NULL, all freed, 500-byte blocks until NULL,
 *   all freed, 4000-byte blocks again: each fill reaches at least 150 MiB
 *   of the 256 (glibc: 188-195).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static size_t vm_bytes(void)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

#define MAXB (1 << 20)
static void *blocks[MAXB];

/* Blocks of size until malloc fails (errno ENOMEM), then all freed;
 * returns the bytes obtained, 0 on a wrong errno. */
static size_t fill_and_free(size_t size)
{
	size_t n = 0;
	int err;

	errno = 0;
	while (n < MAXB) {
		char *p = malloc(size);

		if (!p)
			break;
		p[0] = p[size - 1] = 1;
		blocks[n++] = p;
	}
	err = errno;
	for (size_t i = 0; i < n; i++)
		free(blocks[i]);
	if (n == MAXB || err != ENOMEM) {
		printf("FAIL: %zu blocks of %zu bytes, then errno %d\n", n,
		       size, err);
		return 0;
	}
	return n * size;
}

static int reuse(void)
{
	const size_t want = 150ul << 20;
	size_t got[3];
	char *p;

	p = malloc(60ul << 20);
	if (!p) {
		printf("FAIL: malloc(60 MiB) under a limit of 256 MiB more\n");
		return 1;
	}
	memset(p, 1, 60ul << 20);
	free(p);
	p = malloc(245ul << 20);
	if (!p) {
		printf("FAIL: malloc(245 MiB) after a 60 MiB block was freed\n");
		return 1;
	}
	memset(p, 2, 245ul << 20);
	free(p);
	printf("60 MiB freed, then 245 MiB: ok\n");
	got[0] = fill_and_free(4000);
	got[1] = fill_and_free(500);
	got[2] = fill_and_free(4000);
	printf("filled with 4000-byte blocks: %zu MiB, then 500-byte: %zu MiB, "
	       "then 4000-byte: %zu MiB\n", got[0] >> 20, got[1] >> 20,
	       got[2] >> 20);
	for (int i = 0; i < 3; i++)
		if (got[i] < want) {
			printf("FAIL: fill %d reached only %zu MiB\n", i,
			       got[i] >> 20);
			return 1;
		}
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	size_t limit = vm_bytes() + (256ul << 20);

	/* Warm up every path first (so their first mappings exist). */
	free(malloc(100));
	free(malloc(100000));
	free(malloc(4 << 20));
	rl.rlim_cur = rl.rlim_max = limit;
	if (setrlimit(RLIMIT_AS, &rl)) {
		perror("setrlimit");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "reuse"))
		return reuse();
	for (int round = 0; round < 3; round++) {
		size_t nbig = 0, nsmall = 0, n = 0;
		int err_big, err_small;

		errno = 0;
		for (;;) {
			void *p = malloc(1 << 20);

			if (!p)
				break;
			memset(p, 1, 4096);
			blocks[n++] = p;
			nbig++;
			if (n == MAXB)
				break;
		}
		err_big = errno;
		errno = 0;
		for (;;) {
			void *p = malloc(200);

			if (!p)
				break;
			blocks[n++] = p;
			nsmall++;
			if (n == MAXB)
				break;
		}
		err_small = errno;
		if (n == MAXB) {
			printf("FAIL: no failure within the limit\n");
			return 1;
		}
		errno = 0;
		void *c = calloc(1 << 20, 1024);	/* 1 GiB */
		if (c || errno != ENOMEM) {
			printf("FAIL: calloc(1 GiB) = %p errno %d\n", c, errno);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			free(blocks[i]);
		printf("round %d: %zu MiB blocks + %zu small blocks, then "
		       "NULL with errno %s/%s\n", round, nbig, nsmall,
		       err_big == ENOMEM ? "ENOMEM" : strerror(err_big),
		       err_small == ENOMEM ? "ENOMEM" : strerror(err_small));
		if (err_big != ENOMEM || err_small != ENOMEM) {
			printf("FAIL: errno is not ENOMEM\n");
			return 1;
		}
		if (nbig < 100) {
			printf("FAIL: only %zu MiB before the limit\n", nbig);
			return 1;
		}
		/* The program goes on: memory is usable again. */
		void *p = malloc(64 << 20);
		void *q = malloc(100);
		if (!p || !q) {
			printf("FAIL: malloc fails after everything was freed\n");
			return 1;
		}
		memset(p, 2, 64 << 20);
		free(p);
		free(q);
	}
	printf("ok\n");
	return 0;
}
