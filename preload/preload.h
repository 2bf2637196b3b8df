/* SPDX-License-Identifier: MIT */
/*
 * preload/preload.h - what the files of preload/ share.
 *
 * preload/ is the top layer: the C, POSIX and glibc malloc ABI (malloc.c),
 * the interposition of mmap/munmap/mremap (mmap.c) and of sigaction and
 * signal (signal.c: handlers wait for kmem's locks), and the process
 * plumbing (init.c: constructors, pthread_atfork handlers, the thread-exit
 * hook, statistics at exit).  It calls kmalloc.h and, for statistics,
 * trimming and fork, the other layers' contracts; nothing in core/ calls
 * back into it.
 *
 * Per-thread state is one initial-exec TLS byte (preload_thread_state), so
 * the fast path of malloc and free costs one TLS load and one predicted
 * branch before it reaches kmalloc.
 */
#ifndef KMEM_PRELOAD_H
#define KMEM_PRELOAD_H

#include "internal.h"
#include "purge.h"

enum preload_thread_state {
	THREAD_NEW,	/* no malloc or free seen on this thread yet */
	THREAD_READY,	/* kmem is up, the exit hook is armed */
	THREAD_EXITED,	/* the exit hook ran: the thread is going away */
};

extern __thread unsigned char preload_thread_state
	__attribute__((tls_model("initial-exec"))) __hidden;

/*
 * First call on a thread: bring kmem up, arm the thread-exit hook, and
 * register the fork handlers if the constructor could not yet (init.c).
 */
void preload_thread_start(void) __hidden __cold;

static __always_inline void preload_enter(void)
{
	if (unlikely(preload_thread_state != THREAD_READY))
		preload_thread_start();
}

/*
 * Nesting of the slow halves on this thread: 1 inside a slow half called
 * by the program, 2 or more when a signal handler entered kmem while the
 * code it interrupted was in a slow half already.  On the way out of the
 * outermost one (no kmem lock held, not nested) the purge thread may be
 * started.
 */
extern __thread unsigned char preload_depth
	__attribute__((tls_model("initial-exec"))) __hidden;

static __always_inline void preload_begin(void)
{
	preload_enter();
	preload_depth++;
}

/* ip: the slow half's caller (purge_maybe_start_from). */
static __always_inline void preload_end(unsigned long ip)
{
	if (--preload_depth == 0)
		purge_maybe_start_from(ip);
}

/* This process (a new one, or a forked child: not a vfork child, which
 * shares the parent's memory) owns signal.c's table of handlers. */
void signal_fork_child(void) __hidden;

#endif /* KMEM_PRELOAD_H */
