/* SPDX-License-Identifier: MIT */
/*
 * preload/init.c - process plumbing of the malloc replacement: start-up,
 * fork, thread exit and statistics at exit.
 *
 * Layer: preload/ (top).  May call every layer's init, fork and
 * thread-exit hooks, and kmem_stats_print (stats.c).
 *
 * Start-up.  The first malloc can come from the dynamic loader before any
 * constructor has run (and before libc has set environ), so the first call
 * on each thread goes through preload_thread_start(), which brings kmem up
 * with the recursion-safe kmem_init() and arms the thread-exit hook.  The
 * fork handlers are registered by a constructor of high priority (101:
 * before the program's own constructors, so before it can start a thread),
 * or earlier by the first malloc that finds libc initialised (environ set),
 * whichever comes first; pthread_atfork itself may call malloc, so it is
 * called only once kmem is up and with no allocator lock held.
 *
 * Fork.  The handlers are core/fork.c's (kmem_fork_prepare & co.), which
 * explains the protocol.  They are registered before the program's, so
 * our prepare runs after theirs (glibc runs prepare handlers in reverse
 * order), and our child handler before theirs: their handlers may call
 * malloc.
 *
 * Thread exit.  A pthread key whose destructor calls percpu_thread_exit()
 * (the per-thread caches of the fallback mode go back to the slabs).  The
 * key's value is set on each thread's first malloc or free.
 * pthread_key_create never allocates; pthread_setspecific allocates only
 * for keys >= 32, and the thread is marked ready before it is called, so
 * such a nested calloc goes straight through.  glibc may free (or even
 * allocate) after the last key destructor ran: percpu.c handles calls on a
 * thread whose cache is gone; here the thread only stays THREAD_EXITED.
 *
 * Locks: none of its own (atomic flags only).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload.h"

#include "buddy.h"
#include "fork.h"
#include "kmalloc.h"
#include "options.h"
#include "percpu.h"
#include "profile.h"
#include "slab.h"
#include "vmalloc.h"

__thread unsigned char preload_thread_state
	__attribute__((tls_model("initial-exec")));
__thread unsigned char preload_depth __attribute__((tls_model("initial-exec")));

static pthread_key_t exit_key __read_mostly;		/* its destructor flushes a thread */
static _Atomic int exit_key_state __read_mostly;	/* 0 none, 1 being made, 2 ready,
					 * 3 failed (no exit hook) */
static _Atomic int atfork_state __read_mostly;	/* 0 none, 1 registered (or failed) */

/* ---- fork: core/fork.c owns the protocol ---- */

static void preload_fork_child(void)
{
	kmem_fork_child();
	signal_fork_child();
}

static void register_atfork(void)
{
	int expected = 0;

	if (atomic_load_explicit(&atfork_state, memory_order_acquire))
		return;
	if (!atomic_compare_exchange_strong(&atfork_state, &expected, 1))
		return;
	if (pthread_atfork(kmem_fork_prepare, kmem_fork_parent,
			   preload_fork_child))
		kmem_pr_err("pthread_atfork failed: fork may deadlock");
}

/* ---- thread exit ---- */

static void thread_exit(void *arg)
{
	(void)arg;
	preload_thread_state = THREAD_EXITED;
	percpu_thread_exit();
}

/* The key's state once made (2 or 3), or 1 while another thread makes it. */
static int make_exit_key(void)
{
	int st = atomic_load_explicit(&exit_key_state, memory_order_acquire);
	int expected = 0;

	if (st != 0)
		return st;
	if (!atomic_compare_exchange_strong(&exit_key_state, &expected, 1))
		return expected;
	if (pthread_key_create(&exit_key, thread_exit)) {
		kmem_pr_err("pthread_key_create failed: thread caches are not "
			    "flushed at thread exit");
		st = 3;
	} else {
		st = 2;
	}
	atomic_store_explicit(&exit_key_state, st, memory_order_release);
	return st;
}

void preload_thread_start(void)
{
	int st;

	kmem_init();
	if (preload_thread_state == THREAD_EXITED)
		return;
	st = make_exit_key();
	if (st == 1)
		return;	/* another thread is making the key: arm next time */
	preload_thread_state = THREAD_READY;
	if (st == 2)
		pthread_setspecific(exit_key, (void *)1);
	/* Registration before the constructor: only once libc is up. */
	if (environ != NULL)
		register_atfork();
}

/* ---- constructor and destructor ---- */

/*
 * KMEM_STATS: a copy of the stderr descriptor taken at start-up, because
 * many programs close stderr before exit (coreutils' close_stdout does);
 * -1 when statistics are off or the copy failed.
 */
static int stats_fd = -1;
static struct stat stats_st;	/* what stats_fd was: checked before use */

/* stats_fd, if it still is the file it was (a program may close every
 * descriptor and reuse the number), else -1. */
static int stats_fd_valid(void)
{
	struct stat st;

	if (stats_fd < 0 || fstat(stats_fd, &st) ||
	    st.st_dev != stats_st.st_dev || st.st_ino != stats_st.st_ino)
		return -1;
	return stats_fd;
}

__attribute__((constructor(101))) static void preload_ctor(void)
{
	signal_fork_child();	/* this process owns the handler table */
	kmem_init();
	preload_enter();
	register_atfork();
	os_note_runtime();
	if (kmem_opt(OPT_STATS)) {
		stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 64);
		if (stats_fd >= 0 && fstat(stats_fd, &stats_st)) {
			close(stats_fd);
			stats_fd = -1;
		}
	}
}

__attribute__((destructor(101))) static void preload_dtor(void)
{
	FILE *out;

	if (atomic_load_explicit(&kmem_init_state, memory_order_acquire) !=
	    KMEM_UP || !kmem_opt(OPT_STATS))
		return;
	/* Not on the allocation path: stdio (and its malloc) are fine. */
	out = stats_fd_valid() >= 0 ? fdopen(stats_fd, "w") : NULL;
	kmem_stats_print(out ? out : stderr);
	if (out)
		fclose(out);
}
