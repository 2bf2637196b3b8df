/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/fork_child_stdio.c - a forked child's threads use stdio:
 * the stdio list lock that kmem's fork prepare takes must be free in
 * the child whether or not the parent had threads.
 *
 *   fork_child_stdio [rounds] [depth]   (defaults 50, 3)
 *
 * Each round forks a child twice: once from a single-threaded process
 * and once while a thread of it is alive (glibc resets its stdio list
 * lock in the child only in the second case, see core/fork.c).  Each
 * child starts a thread that calls fflush(NULL), fopen/fprintf/fclose
 * of /dev/null and mallocs, joins it, and forks its own child the same
 * way, [depth] generations in all.  A child that exits otherwise than 0
 * fails the round.  No timeout here: the driver script's watchdog turns
 * a hang (glibc's malloc/tst-malloc-fork-deadlock hung in the child's
 * first fflush(NULL)) into a failure with every thread's stack.  Prints
 * one summary line; exits 0 if every child did.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "stress.h"

static void *use_stdio(void *arg)
{
	FILE *f;
	char *p;

	fflush(NULL);
	f = fopen("/dev/null", "w");
	if (!f)
		stress_die("fork_child_stdio: fopen /dev/null failed");
	fprintf(f, "%p\n", arg);
	fclose(f);
	p = malloc(1000);
	if (!p)
		stress_die("fork_child_stdio: malloc failed");
	fill(p, 1000, 7);
	if (check_fill(p, 1000, 7))
		stress_die("fork_child_stdio: block damaged");
	free(p);
	return arg;
}

static void run_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, use_stdio, NULL) ||
	    pthread_join(t, NULL))
		stress_die("fork_child_stdio: pthread_create/join failed");
}

static void *idle_thread(void *arg)
{
	pthread_barrier_t *b = arg;

	pthread_barrier_wait(b);	/* forked while here */
	pthread_barrier_wait(b);
	return NULL;
}

/* Fork a child that runs generation gen of depth; 0 if it exited 0. */
static int fork_generation(int gen, int depth, bool with_thread);

static void child(int gen, int depth)
{
	run_thread();
	if (gen + 1 < depth &&
	    (fork_generation(gen + 1, depth, false) ||
	     fork_generation(gen + 1, depth, true)))
		_exit(2);
	_exit(0);
}

static int fork_generation(int gen, int depth, bool with_thread)
{
	pthread_barrier_t b;
	pthread_t t;
	pid_t pid;
	int status;

	if (with_thread) {
		pthread_barrier_init(&b, NULL, 2);
		if (pthread_create(&t, NULL, idle_thread, &b))
			stress_die("fork_child_stdio: pthread_create failed");
		pthread_barrier_wait(&b);
	}
	pid = fork();
	if (pid < 0)
		stress_die("fork_child_stdio: fork failed");
	if (pid == 0)
		child(gen, depth);
	if (with_thread) {
		pthread_barrier_wait(&b);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&b);
	}
	if (waitpid(pid, &status, 0) != pid)
		stress_die("fork_child_stdio: waitpid failed");
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 50;
	int depth = argc > 2 ? atoi(argv[2]) : 3;
	int bad = 0;

	for (int i = 0; i < rounds; i++) {
		bad += fork_generation(0, depth, false);
		bad += fork_generation(0, depth, true);
	}
	printf("fork_child_stdio: %d rounds of %d generations, %d bad children\n",
	       rounds, depth, bad);
	return bad != 0;
}
