/*
 * heap_bugs CLASS: commit one heap bug of the given class, then keep
 * allocating and freeing as a program would, and print NOT_CAUGHT if
 * nothing stopped it.  tests/scripts/death_tests.sh runs every class
 * under glibc and under kmem in its modes and checks what is caught.
 *
 * forged_pointer is the thirteenth: an overflow that plants a pointer
 * where a free list would read it.
 *
 * The blocks are 64 bytes (a size class of its own in kmem: an overflow
 * lands in the neighbour, not in slack), 100,000 bytes (a page run) and
 * 1 MiB (a mapping of its own).  Every access goes through a volatile
 * pointer, so that the compiler keeps the bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL 64
#define MEDIUM 100000
#define LARGE (1 << 20)

static void *volatile sink;

/* What a program does next: blocks of the size come and go, up to a
 * few hundred KiB of them. */
static void churn(size_t size)
{
	static void *v[2000];
	int n = size <= 64 ? 2000 : 20;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < n; i++) {
			v[i] = malloc(size);
			memset(v[i], 0x11, size < 64 ? size : 64);
		}
		for (int i = 0; i < n; i++)
			free(v[i]);
	}
}

static void *alloc(size_t size)
{
	void *p = malloc(size);

	memset(p, 0x22, size);
	sink = p;
	return p;
}

static int run(const char *what)
{
	volatile char *p;
	char stack_buf[64];

	if (!strcmp(what, "overflow_1")) {		/* one byte past the end */
		p = alloc(SMALL);
		p[SMALL] ^= 0x41;
		free((void *)p);
		churn(SMALL);
	} else if (!strcmp(what, "underflow_1")) {	/* one byte before */
		p = alloc(SMALL);
		p[-1] ^= 0x41;
		free((void *)p);
		churn(SMALL);
	} else if (!strcmp(what, "overflow_16")) {	/* 16 bytes past */
		p = alloc(SMALL);
		for (int i = 0; i < 16; i++)
			p[SMALL + i] = 'A';
		free((void *)p);
		churn(SMALL);
	} else if (!strcmp(what, "uaf_small")) {	/* write after free */
		p = alloc(SMALL);
		free((void *)p);
		for (int i = 0; i < SMALL; i++)
			p[i] = 'A';
		churn(SMALL);
	} else if (!strcmp(what, "uaf_large")) {	/* of 100 KB */
		p = alloc(MEDIUM);
		free((void *)p);
		for (int i = 0; i < MEDIUM; i += 512)
			p[i] = 'A';
		churn(MEDIUM);
	} else if (!strcmp(what, "double_free")) {
		p = alloc(SMALL);
		free((void *)p);
		free((void *)p);
		churn(SMALL);
	} else if (!strcmp(what, "double_free_delayed")) {
		void *a = alloc(SMALL), *b = alloc(SMALL);

		free(a);
		free(b);
		free(a);
		/* glibc's fastbin check misses nothing here; without a check,
		 * the next two mallocs would both return a. */
		void *x = malloc(SMALL), *y = malloc(SMALL), *z = malloc(SMALL);
		if (x == z || x == y || y == z)
			printf("LIVE_TWICE\n");
		churn(SMALL);
	} else if (!strcmp(what, "interior_free")) {
		p = alloc(SMALL);
		sink = (void *)(p + 16);
		free(sink);
		churn(SMALL);
	} else if (!strcmp(what, "foreign_free")) {
		sink = stack_buf;
		free(sink);
		churn(SMALL);
	} else if (!strcmp(what, "realloc_freed")) {
		p = alloc(SMALL);
		free((void *)p);
		sink = realloc((void *)p, 2 * SMALL);
		churn(SMALL);
	} else if (!strcmp(what, "overflow_large")) {	/* past a 1 MiB block */
		p = alloc(LARGE);
		p[LARGE] ^= 0x41;
		free((void *)p);
		churn(LARGE);
	} else if (!strcmp(what, "free_inside_large")) {
		p = alloc(LARGE);
		sink = (void *)(p + 4096);
		free(sink);
		churn(LARGE);
	} else if (!strcmp(what, "forged_pointer")) {
		/* Overflow a live block into its freed neighbour with the
		 * address of a static target, twice over (16 bytes), where an
		 * allocator with in-object free lists keeps its next pointer:
		 * the target must never come back from malloc. */
		static char target[4 * SMALL];
		void *a = alloc(SMALL), *b = alloc(SMALL);
		void *t = target;

		free(b);
		p = a;
		for (int i = 0; i < 16; i++)
			p[SMALL + i] = ((char *)&t)[i % 8];
		for (int i = 0; i < 64; i++) {
			void *x = malloc(SMALL);

			if (x == (void *)target)
				printf("FOLLOWED\n");
			sink = x;
		}
		free(a);	/* the program is done with it */
		churn(SMALL);
	} else {
		fprintf(stderr, "heap_bugs: unknown class %s\n", what);
		return 2;
	}
	printf("NOT_CAUGHT\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: heap_bugs CLASS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	return run(argv[1]);
}
