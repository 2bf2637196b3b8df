/* SPDX-License-Identifier: MIT */
/*
 * tests/static/live_static.c - programs linked with build/libkmem.a, so
 * that they can call kmem's internal API, for tests/scripts/live_*.sh.
 *
 *   live_static pattern READY   (KMEM_PROF=N) a known allocation pattern
 *                               for the heap profile, then wait
 *   live_static hold READY      hold the lock of kmalloc-64, then wait:
 *                               a statistics request must not deadlock
 *
 * pattern: malloc's own sampler (KMEM_PROF) records the blocks; the
 * leaf frame of each sample is the site that called malloc.  Three call
 * sites allocate 3 MB,
 * 1 MB and 1 MB; half of site_a's blocks are freed again.  Both modes
 * create READY and wait for SIGUSR1 (hold: in sigwait, since kmem would
 * hold a handler back while the lock is held), which makes main return
 * (so KMEM_PROF_DUMP is written at exit).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmalloc.h"
#include "profile.h"

static volatile sig_atomic_t done;
void *keep_a[3000], *keep_b[1000], *keep_c[10000];

__attribute__((noinline)) void site_a(void)
{
	for (int i = 0; i < 3000; i++)
		keep_a[i] = malloc(1000);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_b(void)
{
	for (int i = 0; i < 1000; i++)
		keep_b[i] = malloc(1000);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_c(void)
{
	for (int i = 0; i < 10000; i++)
		keep_c[i] = malloc(100);
	__asm__ volatile("" ::: "memory");
}

static void on_usr1(int sig)
{
	(void)sig;
	done = 1;
}

int main(int argc, char **argv)
{
	struct kmem_cache *s64 = NULL;

	if (argc != 3)
		return 2;
	signal(SIGUSR1, on_usr1);
	if (!strcmp(argv[1], "pattern")) {
		if (!prof_enabled())
			return 2;	/* run it with KMEM_PROF=N */
		site_a();
		site_b();
		site_c();
		for (int i = 0; i < 3000; i += 2)
			free(keep_a[i]);
	} else if (!strcmp(argv[1], "hold")) {
		sigset_t usr1;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);	/* for sigwait */
		free(malloc(64));	/* kmem is up */
		s64 = kmalloc_caches[kmalloc_size_class(64)];
		kmem_lock(&s64->lock);
	} else {
		return 2;
	}
	close(open(argv[2], O_WRONLY | O_CREAT, 0644));
	if (s64) {
		/* No handler while the lock is held: kmem holds handlers
		 * back until its thread's last lock is released
		 * (preload/signal.c), and this one never would be.  The
		 * statistics handler is kmem's own and is not held back. */
		sigset_t usr1;
		int sig;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigwait(&usr1, &sig);
		kmem_unlock(&s64->lock);
		return 0;
	}
	while (!done)
		pause();
	return 0;
}
