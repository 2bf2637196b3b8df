/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/fork_storm.c - many threads fork at once while others
 * allocate.
 *
 *   fork_storm [forks] [forkers] [allocators]     (defaults 2000, 8, 4)
 *
 * forkers     share [forks] forks between them, all forking at once; each
 *             child mallocs, fills, checks and frees one block (its size
 *             varies: small, page run, vmalloc area) and _exit(0)s at
 *             once; the forker waits for it;
 * allocators  malloc, realloc and free with checked contents, and free
 *             each other's blocks through a shared slot array.
 *
 * Concurrent forks meet in kmem's fork protocol (fork_mutex: one thread
 * forks at a time, the others wait for it), and the allocators meet the
 * forking thread's locks.  No timeout here: the driver script's watchdog
 * turns a hang into a failure with every thread's stack.  Prints one
 * summary line; exits 0 if every child exited 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "stress.h"

#define NSLOTS 1024
#define MAX_THREADS 64

struct slot {
	_Atomic(unsigned char *) p;	/* block: size_t size, tag byte, fill */
};

static struct slot slots[NSLOTS];
static atomic_bool stop;
static _Atomic int forks_left;
static _Atomic unsigned long forks, alloc_ops, bad;

/* A block of n >= 16 bytes: its size in the first word, its tag in the
 * ninth byte, the fill after. */
static unsigned char *make_block(size_t n, unsigned char tag)
{
	unsigned char *p = malloc(n);

	if (!p)
		stress_die("fork_storm: malloc(%zu) failed", n);
	memcpy(p, &n, sizeof(n));
	p[8] = tag;
	fill(p + 9, n - 9, tag);
	return p;
}

static void check_block(const unsigned char *p, const char *who)
{
	size_t n;

	memcpy(&n, p, sizeof(n));
	if (n < 16 || n > (8u << 20) || check_fill(p + 9, n - 9, p[8]))
		stress_die("fork_storm: %s: block %p corrupted", who,
			   (const void *)p);
}

static void *allocator(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	unsigned long ops = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = rng_next(&seed);
		size_t n = r % 32 == 0 ? (r >> 8) % 700000 + 16
					: (r >> 8) % 2000 + 16;
		unsigned char *p = make_block(n, (unsigned char)(r >> 40));
		unsigned char *old = atomic_exchange(&slots[r % NSLOTS].p, p);

		if (old) {
			check_block(old, "allocator");
			if ((r >> 50) % 4 == 0) {
				size_t m = (r >> 20) % 5000 + 16;
				unsigned char *q = realloc(old, m);
				size_t keep;

				if (!q)
					stress_die("fork_storm: realloc failed");
				memcpy(&keep, q, sizeof(keep));
				keep = keep < m ? keep : m;
				if (check_fill(q + 9, keep - 9, q[8]))
					stress_die("fork_storm: realloc lost "
						   "the contents");
				old = q;
			}
			free(old);
		}
		ops++;
	}
	atomic_fetch_add(&alloc_ops, ops);
	return NULL;
}

static void child(int k)
{
	static const size_t sizes[] = { 24, 700, 9000, 60000, 1 << 20 };
	size_t n = sizes[k % 5];
	unsigned char *p = malloc(n);

	if (!p)
		_exit(3);
	fill(p, n, (unsigned char)k);
	if (check_fill(p, n, (unsigned char)k))
		_exit(4);
	free(p);
	_exit(0);
}

static void *forker(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (atomic_fetch_sub(&forks_left, 1) > 0) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			if (errno == EAGAIN) {
				atomic_fetch_add(&forks_left, 1);
				usleep(1000);
				continue;
			}
			stress_die("fork_storm: fork: %s", strerror(errno));
		}
		if (pid == 0)
			child((int)n);
		if (waitpid(pid, &status, 0) != pid)
			stress_die("fork_storm: waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork_storm: child %d: %s %d\n", pid,
				WIFSIGNALED(status) ? "killed by signal"
						    : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status)
						    : WEXITSTATUS(status));
			atomic_fetch_add(&bad, 1);
		}
		n++;
	}
	atomic_fetch_add(&forks, n);
	return NULL;
}

int main(int argc, char **argv)
{
	int nforks = argc > 1 ? atoi(argv[1]) : 2000;
	int nforkers = argc > 2 ? atoi(argv[2]) : 8;
	int nalloc = argc > 3 ? atoi(argv[3]) : 4;
	pthread_t fk[MAX_THREADS], al[MAX_THREADS];
	double t0 = now_s();

	if (nforkers > MAX_THREADS || nalloc > MAX_THREADS)
		stress_die("fork_storm: at most %d threads of a kind",
			   MAX_THREADS);
	atomic_store(&forks_left, nforks);
	for (int i = 0; i < nalloc; i++)
		pthread_create(&al[i], NULL, allocator,
			       (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < nforkers; i++)
		pthread_create(&fk[i], NULL, forker, NULL);
	for (int i = 0; i < nforkers; i++)
		pthread_join(fk[i], NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < nalloc; i++)
		pthread_join(al[i], NULL);
	for (int i = 0; i < NSLOTS; i++) {
		unsigned char *p = atomic_load(&slots[i].p);

		if (p) {
			check_block(p, "main");
			free(p);
		}
	}
	printf("fork_storm: %lu forks by %d threads while %d threads "
	       "allocated (%lu ops), %lu bad children\n", forks, nforkers,
	       nalloc, alloc_ops, bad);
	fprintf(stderr, "fork_storm: %.1f s\n", now_s() - t0);
	return bad ? 1 : 0;
}
