/* SPDX-License-Identifier: MIT */
/*
 * core/fork.h - the fork protocol: contract of fork.c with the layers and
 * with preload/ (which registers the three handlers with pthread_atfork).
 *
 * Each layer's *_fork_prepare() takes its locks with kmem_fork_lock(), in
 * the global lock order (fork.c lists it), and its *_fork_parent() and
 * *_fork_child() give them back with kmem_fork_unlock(); a child handler
 * may also reset what a child must not inherit (threads, registrations).
 */
#ifndef KMEM_FORK_H
#define KMEM_FORK_H

#include "internal.h"

/*
 * Take l for the fork under way, unless this thread already holds it (the
 * fork came from a signal handler that interrupted kmem: the interrupted
 * code goes on after the handler, in the parent and in the child, and
 * releases l itself).  Sleeping waiters are woken so that they see the
 * fork and give up instead of waiting through it.
 */
void kmem_fork_lock(kmem_lock_t *l) __hidden;
/* Give l back if this fork's prepare took it. */
void kmem_fork_unlock(kmem_lock_t *l) __hidden;

/* The pthread_atfork handlers (preload/init.c registers them). */
void kmem_fork_prepare(void) __hidden;
void kmem_fork_parent(void) __hidden;
void kmem_fork_child(void) __hidden;

#endif /* KMEM_FORK_H */
