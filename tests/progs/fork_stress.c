/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/fork_stress.c - fork hundreds of times while other threads
 * allocate; every child must find a consistent heap.
 *
 *   fork_stress [forks] [threads]      (defaults 300 and 4)
 *
 * Worker threads malloc, realloc and free random sizes (deterministic
 * seeds) without pause, also freeing each other's blocks through a shared
 * slot array.  The main thread forks; each child allocates and frees a
 * few thousand blocks across the size classes (and a few large ones),
 * checks their contents, starts a thread of its own, and _exit(0)s.  An
 * alarm in each child and in the parent turns a deadlock into a failure.
 * Plain program: kmem comes in by LD_PRELOAD.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSLOTS 4096

static _Atomic(unsigned char *) slots[NSLOTS];
static atomic_bool stop;

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t rand_size(uint64_t *s)
{
	uint64_t r = next(s);

	switch (r % 16) {
	case 0: return r % 200000 + 1;		/* page runs */
	case 1: return (r >> 8) % 16384 + 1;
	default: return (r >> 8) % 512 + 1;	/* small classes */
	}
}

/* A block of n bytes starts with n and a pattern derived from it. */
static unsigned char *make_block(size_t n)
{
	unsigned char *p = malloc(n + sizeof(size_t));

	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	memset(p + sizeof(n), (int)(n & 0xff), n < 64 ? n : 64);
	return p;
}

static int check_block(unsigned char *p)
{
	size_t n;

	memcpy(&n, p, sizeof(n));
	for (size_t i = 0; i < (n < 64 ? n : 64); i++)
		if (p[sizeof(n) + i] != (unsigned char)(n & 0xff))
			return 0;
	return 1;
}

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		size_t i = next(&seed) % NSLOTS;
		unsigned char *p = make_block(rand_size(&seed));
		unsigned char *old = atomic_exchange(&slots[i], p);

		if (old) {
			if (!check_block(old)) {
				fprintf(stderr, "worker: block corrupted\n");
				abort();
			}
			if (next(&seed) % 4 == 0) {
				size_t n = rand_size(&seed);
				unsigned char *q = realloc(old, n + sizeof(size_t));

				if (!q)
					abort();
				memcpy(q, &n, sizeof(n));
				memset(q + sizeof(n), (int)(n & 0xff), n < 64 ? n : 64);
				old = q;
			}
			free(old);
		}
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	void *p[100];

	for (int i = 0; i < 100; i++)
		p[i] = malloc((size_t)i * 40 + 1);
	for (int i = 0; i < 100; i++)
		free(p[i]);
	return arg;
}

static void child(int k)
{
	enum { N = 3000 };
	static unsigned char *v[N];
	uint64_t seed = (uint64_t)k * 7919 + 3;
	pthread_t t;

	alarm(20);
	for (int i = 0; i < N; i++) {
		v[i] = make_block(i % 100 == 0 ? rand_size(&seed) * 4
					       : (size_t)(i % 1024) * 4 + 1);
		if (!v[i])
			_exit(3);
	}
	for (int i = 0; i < N; i++) {
		if (!check_block(v[i]))
			_exit(4);
		free(v[i]);
	}
	/* Blocks the parent's threads left in the slots are readable. */
	for (int i = 0; i < NSLOTS; i += 97) {
		unsigned char *p = atomic_load(&slots[i]);

		if (p && !check_block(p))
			_exit(5);
	}
	void *big = malloc(8 << 20);
	if (!big)
		_exit(6);
	memset(big, 1, 8 << 20);
	free(big);
	if (pthread_create(&t, NULL, child_thread, NULL) ||
	    pthread_join(t, NULL))
		_exit(7);
	_exit(0);
}

int main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 300;
	int nthreads = argc > 2 ? atoi(argv[2]) : 4;
	pthread_t th[64];
	int bad = 0;

	if (nthreads > 64)
		nthreads = 64;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	for (int k = 0; k < forks; k++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			child(k);
		alarm(60);	/* a child that deadlocks fails the parent */
		if (waitpid(pid, &status, 0) != pid) {
			perror("waitpid");
			return 1;
		}
		alarm(0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "child %d: %s %d\n", k,
				WIFSIGNALED(status) ? "killed by signal" : "exit",
				WIFSIGNALED(status) ? WTERMSIG(status)
						    : WEXITSTATUS(status));
			bad++;
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NSLOTS; i++)
		free(atomic_load(&slots[i]));
	printf("%d forks, %d threads allocating, %d bad children\n", forks,
	       nthreads, bad);
	return bad ? 1 : 0;
}
