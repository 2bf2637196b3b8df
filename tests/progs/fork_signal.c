/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/fork_signal.c - fork from signal handlers that interrupt
 * malloc, free and fork.
 *
 *   fork_signal [seconds]          (default 5)
 *
 * Three worker threads, the only ones with SIGUSR1 and SIGUSR2 unblocked:
 *   0  malloc/free pairs of every kind of size (slab, page run, vmalloc);
 *   1  batches of mallocs then frees, and reallocs;
 *   2  fork in a loop (each child checks that it can malloc, then exits).
 * A signaler thread sends SIGUSR1 or SIGUSR2 to a random worker every few
 * hundred microseconds.  Both handlers fork; neither blocks the other
 * signal, so a SIGUSR2 handler can be interrupted by SIGUSR1 in the middle
 * of its fork (nested forks, kmem's fork levels).  The SIGUSR2 handler
 * also mallocs and frees in the parent after its fork.  Each child
 * mallocs, fills, checks and frees blocks of several sizes, then _exits
 * (0 if all went well).  A reaper thread waits for every child.
 *
 * The handler may land while the worker holds a kmem lock, is inside
 * another fork's prepare handler, or is in a fork's child half: kmem must
 * neither deadlock (a lock held by the interrupted code is skipped, the
 * fork takes a new level) nor hand the child a broken heap.  No timeout
 * here: the driver script's watchdog turns a hang into a failure with
 * every thread's stack.  Prints one summary line; exits 0 if every
 * child exited 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "stress.h"

#define NWORKERS 3
#define MAX_OUTSTANDING 24	/* children not yet reaped */

static pthread_t workers[NWORKERS];
static atomic_bool stop, reap_done;
static _Atomic unsigned long forked, reaped, bad, fork_failures;
static _Atomic unsigned long handler_forks[2], nested, alloc_in_fork;
static _Atomic unsigned long signals_in_call, worker_ops;
static __thread int depth;		/* handlers running on this thread */
static __thread volatile sig_atomic_t in_call;	/* in malloc, free, realloc */
static __thread volatile sig_atomic_t forking;	/* in fork() */

/* A child's check: it can malloc, and what it gets is memory. */
static void child_check(int base)
{
	static const size_t sizes[] = { 16, 100, 3000, 40000, 1 << 20 };

	for (int i = 0; i < 5; i++) {
		unsigned char *p = malloc(sizes[i]);

		if (!p)
			_exit(base + i);
		fill(p, sizes[i], (unsigned char)(base + i));
		p = realloc(p, sizes[i] * 2);
		if (!p)
			_exit(base + 10 + i);
		if (check_fill(p, sizes[i], (unsigned char)(base + i)))
			_exit(base + 20 + i);
		free(p);
	}
	_exit(0);
}

/* A handler's allocation: the parent of a fork in a handler, or a handler
 * that may not fork (below). */
static void handler_alloc(size_t n, unsigned char tag)
{
	unsigned char *p = malloc(n);

	if (!p)
		stress_die("fork_signal: malloc(%zu) in a handler failed", n);
	fill(p, n, tag);
	if (check_fill(p, n, tag))
		stress_die("fork_signal: handler's block corrupted");
	free(p);
}

static void handler(int sig)
{
	int saved = errno, k = sig == SIGUSR1 ? 0 : 1;
	pid_t pid;

	if (depth++)
		atomic_fetch_add(&nested, 1);
	if (forking) {
		/*
		 * This thread is inside fork() (the loop's, or a handler's
		 * that this signal interrupted).  glibc holds its atfork lock
		 * there, except while it runs the atfork handlers, and a
		 * fork now would wait for it forever: a deadlock of glibc's,
		 * whatever the allocator.  So allocate instead: with kmem's
		 * locks perhaps held by this very thread's fork.
		 */
		atomic_fetch_add(&alloc_in_fork, 1);
		handler_alloc(k ? 3000 : 100, 0x3c);
		depth--;
		errno = saved;
		return;
	}
	if (in_call)
		atomic_fetch_add(&signals_in_call, 1);
	forking = 1;
	pid = fork();
	forking = 0;
	if (pid == 0)
		child_check(k ? 60 : 30);
	if (pid > 0) {
		atomic_fetch_add(&forked, 1);
		atomic_fetch_add(&handler_forks[k], 1);
	} else {
		atomic_fetch_add(&fork_failures, 1);
	}
	if (k)		/* the parent allocates in the handler too */
		handler_alloc(777, 0x5a);
	depth--;
	errno = saved;
}

static size_t rand_size(uint64_t *seed)
{
	uint64_t r = rng_next(seed);

	switch (r % 32) {
	case 0: return (r >> 8) % 1500000 + 1;	/* up to vmalloc areas */
	case 1: case 2: return (r >> 8) % 60000 + 1;	/* page runs */
	default: return (r >> 8) % 1024 + 1;
	}
}

static void *worker(void *arg)
{
	int role = (int)(uintptr_t)arg;
	uint64_t seed = (uint64_t)role * 0x9e3779b97f4a7c15ULL + 11;
	unsigned char *batch[64];
	size_t sizes[64];
	unsigned long ops = 0;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (role == 0) {
			size_t n = rand_size(&seed);
			unsigned char *p;

			in_call = 1;
			p = malloc(n);
			in_call = 0;
			if (!p)
				stress_die("fork_signal: malloc(%zu) failed", n);
			fill(p, n < 256 ? n : 256, (unsigned char)n);
			if (check_fill(p, n < 256 ? n : 256, (unsigned char)n))
				stress_die("fork_signal: block corrupted");
			in_call = 1;
			free(p);
			in_call = 0;
		} else if (role == 1) {
			for (int i = 0; i < 64; i++) {
				sizes[i] = rand_size(&seed) % 5000 + 1;
				in_call = 1;
				batch[i] = malloc(sizes[i]);
				in_call = 0;
				if (!batch[i])
					stress_die("fork_signal: malloc failed");
				fill(batch[i], sizes[i], (unsigned char)i);
			}
			for (int i = 0; i < 64; i++) {
				if (check_fill(batch[i], sizes[i], (unsigned char)i))
					stress_die("fork_signal: batch block "
						   "corrupted");
				if (i % 4 == 0) {
					in_call = 1;
					batch[i] = realloc(batch[i], sizes[i] + 3000);
					in_call = 0;
					if (!batch[i] ||
					    check_fill(batch[i], sizes[i],
						       (unsigned char)i))
						stress_die("fork_signal: realloc");
				}
				in_call = 1;
				free(batch[i]);
				in_call = 0;
			}
		} else {
			pid_t pid;

			if (atomic_load(&forked) - atomic_load(&reaped) >
			    MAX_OUTSTANDING) {
				usleep(200);
				continue;
			}
			forking = 1;
			pid = fork();
			forking = 0;
			if (pid == 0)
				child_check(90);
			if (pid > 0)
				atomic_fetch_add(&forked, 1);
			else
				atomic_fetch_add(&fork_failures, 1);
		}
		ops++;
	}
	atomic_fetch_add(&worker_ops, ops);
	return NULL;
}

static void *signaler(void *arg)
{
	uint64_t seed = 12345;
	unsigned long sent = 0;

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = rng_next(&seed);

		if (atomic_load(&forked) - atomic_load(&reaped) >
		    MAX_OUTSTANDING) {
			usleep(500);
			continue;
		}
		pthread_kill(workers[r % NWORKERS],
			     (r >> 8) % 2 ? SIGUSR1 : SIGUSR2);
		sent++;
		usleep((useconds_t)((r >> 16) % 400));
	}
	return (void *)(uintptr_t)sent;
}

static void *reaper(void *arg)
{
	(void)arg;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				stress_die("fork_signal: waitpid: %s",
					   strerror(errno));
			if (atomic_load(&reap_done))
				return NULL;
			usleep(1000);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork_signal: child %d: %s %d\n", pid,
				WIFSIGNALED(status) ? "killed by signal"
						    : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status)
						    : WEXITSTATUS(status));
			atomic_fetch_add(&bad, 1);
		}
		atomic_fetch_add(&reaped, 1);
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	struct sigaction sa;
	pthread_t sig_th, reap_th;
	void *sent;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);	/* SIGUSR1 may interrupt SIGUSR2's */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	/* Only the workers take the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	pthread_create(&reap_th, NULL, reaper, NULL);
	for (int i = 0; i < NWORKERS; i++)
		pthread_create(&workers[i], NULL, worker, (void *)(uintptr_t)i);
	pthread_create(&sig_th, NULL, signaler, NULL);
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, true);
	pthread_join(sig_th, &sent);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(workers[i], NULL);
	atomic_store(&reap_done, true);
	pthread_join(reap_th, NULL);
	printf("fork_signal: %lu signals sent, %lu forks from SIGUSR1 and %lu "
	       "from SIGUSR2 handlers (%lu of them interrupting a malloc, "
	       "free or realloc), %lu handlers nested in another, %lu "
	       "handlers that interrupted a fork allocated instead, %lu forks "
	       "in the loop; %lu reaped, %lu fork failures, %lu worker ops, "
	       "%lu bad children\n", (unsigned long)(uintptr_t)sent,
	       handler_forks[0], handler_forks[1], signals_in_call, nested,
	       alloc_in_fork,
	       forked - handler_forks[0] - handler_forks[1], reaped,
	       fork_failures, worker_ops, bad);
	return bad || reaped != forked ? 1 : 0;
}
