/* SPDX-License-Identifier: MIT */
/*
 * core/stats_live.h - statistics of a running process on request: the
 * contract of stats_live.c with init.c and with the reader, bin/kmem-live.
 *
 * A request is KMEM_SIGNAL sent with sigqueue(3), whose value is
 *
 *   (KMEM_LIVE_MAGIC << 32) | (kind << 16) | fd
 *
 * fd being a descriptor of the sender's, open on a regular file (a
 * memfd), that the handler opens as /proc/<sender>/fd/<fd> and writes the
 * answer into, ending with the line "# kmem: end".  See stats_live.c.
 */
#ifndef KMEM_STATS_LIVE_H
#define KMEM_STATS_LIVE_H

#include "internal.h"

#define KMEM_LIVE_MAGIC 0x6b6d656dULL	/* "kmem" */
#define KMEM_LIVE_STATS 1		/* slabinfo, buddyinfo, vmallocinfo... */
#define KMEM_LIVE_PROFILE 2		/* the heap profile (profile.h) */

/* Install the handler (KMEM_SIGNAL; 0 = off); called once by __kmem_init. */
void stats_live_init(void) __hidden;
/* The signal the handler answers, 0 if none. */
int stats_live_signal(void) __hidden;
/*
 * The live statistics text to fd: kmem_stats_print's sections and
 * formats, then an "exact" or "approximate" line.  from_handler: locks
 * are only tried (see stats_live.c); otherwise waited for.
 */
void stats_live_write(int fd, bool from_handler) __hidden;

#endif /* KMEM_STATS_LIVE_H */
