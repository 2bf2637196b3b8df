/* SPDX-License-Identifier: MIT */
/*
 * core/sampler.c - when the next guard sample, heap-profile sample and
 * maintenance tick fall (sampler.h).
 *
 * Layer: a utility of percpu.c, which owns the countdowns (in its region
 * headers) and calls here from its slow path.  Owns the guard sampling
 * rate (KMEM_SAMPLE, read once) and the draws of the intervals.  Calls
 * profile.c (the heap profile's own intervals), os.c (a random seed) and
 * options.c; no locks, nothing on a fast path.
 *
 * Guard intervals are uniform in [1, 2 * KMEM_SAMPLE] bytes, drawn from a
 * per-countdown xorshift state seeded from the kernel's random bytes, so
 * where the next sample falls cannot be predicted from the allocations a
 * program makes (GWP-ASan draws the same way).  Three events share one
 * countdown so that the fast path pays a single subtraction for all of
 * them.
 */
#include "sampler.h"

#include "debug.h"
#include "options.h"
#include "os.h"
#include "profile.h"

static int64_t guard_rate;	/* KMEM_SAMPLE: mean bytes between guard samples */

/* With nothing else due the countdown still runs out every
 * PCPU_TICK_BYTES allocated on a CPU: the allocation paths' maintenance
 * (purge_tick) when there is no purge thread. */
#define PCPU_TICK_BYTES (4L << 20)
#define SAMPLE_NEVER (INT64_MAX / 4)

static uint64_t sampler_random(struct pcpu_sampler *sm)
{
	uint64_t x = sm->rnd;

	if (!x)
		x = os_random_u64() | 1;
	x = kmem_xorshift64(x);
	sm->rnd = x;
	return x;
}

/* Uniform in [1, 2 * guard_rate]: mean guard_rate, and where the next
 * sample falls cannot be predicted (GWP-ASan draws the same way). */
static int64_t guard_interval(struct pcpu_sampler *sm)
{
	if (!guard_rate)
		return SAMPLE_NEVER;
	return 1 + (int64_t)(sampler_random(sm) % (2 * (uint64_t)guard_rate));
}

static int64_t prof_interval(void)
{
	return prof_enabled() ? (int64_t)prof_next_interval() : SAMPLE_NEVER;
}

static void sampler_arm(struct pcpu_sampler *sm)
{
	int64_t next = MIN(sm->tick_left, MIN(sm->guard_left, sm->prof_left));

	next = MAX(next, (int64_t)1);
	sm->armed = next;
	WRITE_ONCE(sm->left, next - 1);	/* due once it goes below 0 */
}

void sampler_init(struct pcpu_sampler *sm)
{
	sm->tick_left = PCPU_TICK_BYTES;
	sm->guard_left = guard_interval(sm);
	sm->prof_left = prof_interval();
	sampler_arm(sm);
}

/* The countdown ran out: which events are due (racy between threads on
 * one CPU: a lost update only moves the next event a little). */
unsigned int sampler_due(struct pcpu_sampler *sm)
{
	int64_t used = sm->armed - READ_ONCE(sm->left);
	unsigned int due = 0;

	if (!sm->armed) {	/* never armed: left counted from 0 */
		sm->tick_left = PCPU_TICK_BYTES;
		sm->guard_left = guard_interval(sm);
		sm->prof_left = prof_interval();
	}
	if ((sm->tick_left -= used) <= 0) {
		due |= PCPU_DUE_TICK;
		sm->tick_left = PCPU_TICK_BYTES;
	}
	if ((sm->guard_left -= used) <= 0) {
		due |= PCPU_DUE_GUARD;
		sm->guard_left = guard_interval(sm);
	}
	if ((sm->prof_left -= used) <= 0) {
		due |= PCPU_DUE_PROF;
		sm->prof_left = prof_interval();
	}
	sampler_arm(sm);
	return due;
}

void sampler_setup(void)
{
	guard_rate = (int64_t)kmem_opt(OPT_SAMPLE);
	/* Under memcheck the default is off: memcheck watches every block
	 * itself, and knows nothing of the guard pool's pages. */
	if (debug_valgrind && !os_getenv("KMEM_SAMPLE"))
		guard_rate = 0;
	if (guard_rate < 0 || guard_rate > SAMPLE_NEVER)
		guard_rate = 0;
}
