/* SPDX-License-Identifier: MIT */
/*
 * core/profile.h - the sampled heap profile: contract of profile.c with
 * the malloc path (preload/, kmalloc.c) and with stats_live.c.
 *
 * KMEM_PROF=N (bytes, 0 = off, the default) asks for one sample per N
 * bytes allocated on average, in the manner of tcmalloc and jemalloc:
 * the malloc path keeps, per thread, a countdown of bytes drawn from
 * prof_next_interval(); an allocation that takes it to zero or below is
 * sampled.  The sampling decision is the malloc path's (it is inline in
 * the hot path); this file records what is sampled.
 *
 * What the malloc path calls (only when prof_enabled()):
 *
 *   countdown = prof_next_interval();                 per thread, at start
 *   ...
 *   if (countdown -= size) <= 0:                      the decision
 *           countdown = prof_next_interval();
 *           prof_record_alloc(p, size, prof_sample_weight(size));
 *   ...
 *   free(p) of a sampled object:  prof_record_free(p);
 *   realloc(p, n) that moves or resizes a sampled block: prof_record_free
 *           then (if sampled again) prof_record_alloc of the result.
 *
 * prof_record_alloc must be called from the out-of-line slow half of the
 * public entry point (malloc_slow, calloc_slow, ...: the function that the
 * inline malloc tail-calls), so that the first recorded frame is the
 * program's call site; __prof_record_alloc takes the number of kmem
 * frames to leave out for other call depths.  prof_record_free is cheap
 * for a pointer that is not a sample (one lock-free hash lookup, no lock):
 * the free path may call it for every free it handles out of line while
 * prof_enabled(), but a free fast path needs its own way to know that an
 * object was sampled (tcmalloc gives sampled objects their own spans).
 *
 * Both may be called with kmem locks held (prof_lock is the last lock of
 * all, and nothing is called under it), from any thread, never allocate
 * and never make a system call (the tables are mapped once, at init).
 */
#ifndef KMEM_PROFILE_H
#define KMEM_PROFILE_H

#include "internal.h"

/* Mean bytes between samples (KMEM_PROF); 0: profiling is off.  Written
 * once by prof_init, before the first allocation is served. */
extern size_t prof_rate __hidden;

static __always_inline bool prof_enabled(void)
{
	return unlikely(prof_rate != 0);
}

/* Bytes until the next sample: exponentially distributed with mean
 * prof_rate (at least 1), from a per-thread generator. */
size_t prof_next_interval(void) __hidden;

/* The bytes a sample of `size` bytes stands for: size / (1 - e^(-size /
 * prof_rate)), the inverse of the chance that such an allocation is
 * sampled with exponential intervals (pprof's "unsampling"). */
size_t prof_sample_weight(size_t size) __hidden;

/* Record p (size bytes asked, standing for weight_bytes) as a live sample
 * with the current call stack.  Dropped and counted when the table of
 * KMEM_PROF_MAX samples is full. */
void prof_record_alloc(const void *p, size_t size,
		       size_t weight_bytes) __hidden;
/* The same, leaving out `skip` frames of kmem's own above the caller. */
void __prof_record_alloc(const void *p, size_t size, size_t weight_bytes,
			 unsigned int skip) __hidden;
/* The same with a stack the caller took (ips[0..n), innermost first). */
void prof_record_stack(const void *p, size_t size, size_t weight_bytes,
		       const unsigned long *ips, unsigned int n) __hidden;
/* p is freed: forget its sample if it has one. */
void prof_record_free(const void *p) __hidden;

struct prof_stats {
	size_t rate;		/* KMEM_PROF */
	size_t max;		/* KMEM_PROF_MAX: slots */
	size_t live;		/* samples recorded and not freed */
	size_t live_bytes;	/* sum of their weights */
	size_t recorded;	/* prof_record_alloc calls kept, in all */
	size_t dropped;		/* ... dropped: the table was full */
};
void prof_get_stats(struct prof_stats *st) __hidden;
/* The same from the statistics signal handler: false (and st's counts
 * left as they were) if the table's lock stayed busy. */
bool prof_get_stats_try(struct prof_stats *st) __hidden;

/*
 * Write the live samples to fd in the text format of gperftools' heap
 * profiler, which google-pprof and `go tool pprof` read:
 *
 *   heap profile: <objs>: <bytes> [<objs>: <bytes>] @ heapprofile
 *   <objs>: <bytes> [<objs>: <bytes>] @ 0x<ip> 0x<ip> ...    one per sample
 *   (blank line)
 *   MAPPED_LIBRARIES:
 *   <this process's /proc/self/maps>
 *
 * bytes are the samples' weights (already unsampled: the header says
 * "heapprofile", not heap_v2, so pprof does not scale them again), objs
 * their weight / size.  from_handler: called from the statistics signal
 * handler, so locks are only tried (a busy table ends the dump with a
 * "# kmem: incomplete" line).  Never allocates.  Returns 0 or an errno.
 */
int prof_dump(int fd, bool from_handler) __hidden;

/* KMEM_PROF, KMEM_PROF_MAX, KMEM_PROF_DUMP: called once by __kmem_init. */
void prof_init(void) __hidden;
/* KMEM_PROF_DUMP: write the profile at exit (a destructor calls it). */
void prof_exit_dump(void) __hidden;
void prof_fork_prepare(void) __hidden;
void prof_fork_release(void) __hidden;

#endif /* KMEM_PROFILE_H */
