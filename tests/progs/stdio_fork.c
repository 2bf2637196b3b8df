/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/stdio_fork.c - the stdio cycle: fork while other threads
 * malloc with a FILE locked and one flushes every stream.
 *
 *   stdio_fork [seconds] [forkers] [readers] [pause]  (defaults 5, 4, 8, 200)
 *
 * readers   each reads its own FILE of 50,000-byte lines with getline()
 *           into a fresh buffer: glibc's getdelim mallocs and reallocs
 *           (a dozen times a line) with that FILE's lock held, then
 *           pauses up to [pause] microseconds (0: never);
 * flusher   fflush(NULL) in a loop (glibc's stdio list lock, then every
 *           FILE's lock in turn), and an fopen/fclose of /dev/null every
 *           64 rounds (malloc and free beside the list lock);
 * 2 allocators  malloc, realloc and free with checked contents;
 * forkers   fork in a loop; each child mallocs, checks and frees a few
 *           blocks (one of 1 MiB) and _exit(0)s; the forker waits for it.
 *
 * That is the cycle fork must not close: a forker holding kmem's locks
 * waits for the stdio list lock, the flusher holding it waits for a
 * reader's FILE lock, the reader holding that is in malloc waiting for
 * kmem (core/fork.c explains how kmem avoids it).  No timeout here: the
 * driver script's watchdog turns a hang into a failure with every
 * thread's stack.  Prints one summary line; exits 0 if every child
 * exited 0 and every line and block read back intact.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "stress.h"

#define LINE_LEN 50000		/* bytes of a line, newline excluded */
#define LINES 6			/* lines in the file */
#define MAX_THREADS 32

static char path[256];
static unsigned int pause_us = 200;	/* readers' pause between lines */
static atomic_bool stop;
static _Atomic unsigned long forks, lines_read, flushes, alloc_ops, bad;

static void *reader(void *arg)
{
	FILE *fp = fopen(path, "r");
	unsigned long n = 0;
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 3;

	if (!fp)
		stress_die("stdio_fork: fopen %s: %s", path, strerror(errno));
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		char *buf = NULL;
		size_t cap = 0;
		ssize_t len = getline(&buf, &cap, fp);

		if (len < 0) {
			free(buf);
			rewind(fp);
			continue;
		}
		/* Line k is LINE_LEN bytes of 'a' + k, then '\n'. */
		if (len != LINE_LEN + 1 || buf[LINE_LEN] != '\n' ||
		    buf[0] < 'a' || buf[0] >= 'a' + LINES ||
		    buf[LINE_LEN - 1] != buf[0])
			stress_die("stdio_fork: getline read a bad line (%zd "
				   "bytes)", len);
		for (size_t i = 0; i < LINE_LEN; i += 997)
			if (buf[i] != buf[0])
				stress_die("stdio_fork: line corrupted at %zu",
					   i);
		free(buf);
		n++;
		/* A pause outside the lock: glibc's FILE locks are not fair,
		 * and without it the flusher (and the forkers behind it)
		 * would wait for seconds. */
		if (pause_us)
			usleep((useconds_t)(rng_next(&seed) % pause_us));
	}
	fclose(fp);
	atomic_fetch_add(&lines_read, n);
	return NULL;
}

static void *flusher(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		fflush(NULL);
		if (++n % 64 == 0) {
			FILE *f = fopen("/dev/null", "w");

			if (!f)
				stress_die("stdio_fork: fopen /dev/null");
			fprintf(f, "%lu\n", n);
			fclose(f);
		}
	}
	atomic_fetch_add(&flushes, n);
	return NULL;
}

static void *allocator(void *arg)
{
	enum { SLOTS = 256 };
	struct { unsigned char *p; size_t n; unsigned char tag; } s[SLOTS] = {0};
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 7;
	unsigned long ops = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned int i = (unsigned int)(rng_next(&seed) % SLOTS);
		uint64_t r = rng_next(&seed);
		size_t n = r % 16 == 0 ? (r >> 8) % 200000 + 1 : (r >> 8) % 1024;

		if (s[i].p) {
			if (check_fill(s[i].p, s[i].n, s[i].tag))
				stress_die("stdio_fork: block %p (%zu bytes) "
					   "corrupted", (void *)s[i].p, s[i].n);
			if (r % 3 == 0) {
				unsigned char *q = realloc(s[i].p, n + 1);
				size_t keep = n + 1 < s[i].n ? n + 1 : s[i].n;

				if (!q)
					stress_die("stdio_fork: realloc failed");
				if (check_fill(q, keep, s[i].tag))
					stress_die("stdio_fork: realloc lost "
						   "the contents");
				s[i].p = q;
				s[i].n = n + 1;
				fill(q, n + 1, s[i].tag);
				ops++;
				continue;
			}
			free(s[i].p);
			s[i].p = NULL;
		}
		s[i].p = malloc(n);
		if (!s[i].p && n)
			stress_die("stdio_fork: malloc(%zu) failed", n);
		s[i].n = s[i].p ? n : 0;
		s[i].tag = (unsigned char)r;
		fill(s[i].p, s[i].n, s[i].tag);
		ops++;
	}
	for (unsigned int i = 0; i < SLOTS; i++)
		free(s[i].p);
	atomic_fetch_add(&alloc_ops, ops);
	return NULL;
}

static void child(void)
{
	static const size_t sizes[] = { 16, 200, 3000, 40000, 1 << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]);

		if (!p)
			_exit(10 + (int)i);
		fill(p, sizes[i], (unsigned char)i);
		if (check_fill(p, sizes[i], (unsigned char)i))
			_exit(20 + (int)i);
		free(p);
	}
	_exit(0);
}

static void *forker(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			if (errno == EAGAIN)
				continue;
			stress_die("stdio_fork: fork: %s", strerror(errno));
		}
		if (pid == 0)
			child();
		if (waitpid(pid, &status, 0) != pid)
			stress_die("stdio_fork: waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "stdio_fork: child %d: %s %d\n", pid,
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
	double secs = argc > 1 ? atof(argv[1]) : 5;
	int nforkers = argc > 2 ? atoi(argv[2]) : 4;
	int nreaders = argc > 3 ? atoi(argv[3]) : 8;
	pause_us = argc > 4 ? (unsigned int)atoi(argv[4]) : pause_us;
	pthread_t th[MAX_THREADS];
	int nth = 0, fd;
	char *line = malloc(LINE_LEN + 1);
	struct timespec ts;

	if (nforkers + nreaders + 3 > MAX_THREADS || !line)
		stress_die("stdio_fork: too many threads");
	snprintf(path, sizeof(path), "%s/stdio_fork.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		stress_die("stdio_fork: mkstemp %s: %s", path, strerror(errno));
	for (int k = 0; k < LINES; k++) {
		memset(line, 'a' + k, LINE_LEN);
		line[LINE_LEN] = '\n';
		if (write(fd, line, LINE_LEN + 1) != LINE_LEN + 1)
			stress_die("stdio_fork: write %s", path);
	}
	close(fd);
	free(line);

	for (int i = 0; i < nreaders; i++)
		pthread_create(&th[nth++], NULL, reader,
			       (void *)(uintptr_t)(i + 1));
	pthread_create(&th[nth++], NULL, flusher, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[nth++], NULL, allocator,
			       (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < nforkers; i++)
		pthread_create(&th[nth++], NULL, forker, NULL);
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	atomic_store(&stop, true);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	unlink(path);
	printf("stdio_fork: %lu forks by %d threads, %lu lines of %d bytes "
	       "read by %d threads, %lu fflush(NULL), %lu allocator ops, "
	       "%lu bad children\n", forks, nforkers, lines_read, LINE_LEN,
	       nreaders, flushes, alloc_ops, bad);
	return bad ? 1 : 0;
}
