/* SPDX-License-Identifier: MIT */
/*
 * core/percpu_drain.c - per-CPU object caches: emptying regions from
 * outside their fast paths, and what they hold.
 *
 * Layer: beside percpu.c, whose regions these are (the tables it sets up
 * are in percpu_internal.h); called by kmem_trim (percpu_drain_all),
 * mallopt(M_PERTURB) through percpu.c's percpu_disable, the purge thread
 * (percpu_drain_idle), the statistics (percpu_cached_bytes) and fork.c
 * (the fork hooks: drain_lock around fork; in the child, membarrier
 * registered again and every region given a reuse order of its own).
 * Nothing here runs on an allocation path: the refills and flushes of a
 * region by its own CPU or thread are percpu.c's.
 *
 * Draining a CPU's region from another thread (kmem_trim, idle drain):
 * set PCPU_LOCKED in every class's cur (atomic OR), then
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ): any critical section
 * in flight is aborted, and every later one reads a locked cur and fails.
 * A section that committed between our OR and the fence may have stored
 * an unlocked count over it; so check every class again after the fence
 * and repeat (it converges: each round only races with sections that were
 * already running).  Then the region is ours until we store cur = 0.
 * Regions whose slow paths saw no activity for a second (their activity
 * count unchanged since the purge thread's last scan) are drained by it.
 *
 * Locks: drain_lock serialises remote drains (never on an allocation
 * path); fork takes it (percpu_fork_prepare) before the slab and depot
 * locks, so a child never inherits a drain half done.
 */
#include "percpu_internal.h"

#include <errno.h>
#include <linux/membarrier.h>

#include "depot.h"
#include "fork.h"
#include "os.h"

#define PCPU_DRAIN_TRIES 16	/* lock-and-fence rounds of a remote drain */

bool can_fence __read_mostly;			/* membarrier RSEQ registered */
static uint32_t region_seen[PCPU_MAX_REGIONS];	/* activity at the last scan */
static kmem_lock_t drain_lock __fork_lock = KMEM_LOCK_INIT;

/* Lock every class of region r against its fast paths; true if every
 * class ended up locked (the caller then owns the region). */
static bool region_lock(struct pcpu_region_hdr *r, unsigned int cpu)
{
	unsigned int flags = use_mm_cid ? 0 : MEMBARRIER_CMD_FLAG_CPU;

	for (int tries = 0; tries < PCPU_DRAIN_TRIES; tries++) {
		bool all = true;
		int err;

		for (unsigned int c = 0; c < nr_classes; c++)
			atomic_fetch_or_explicit(
				(_Atomic uint32_t *)&region_chunk(r, c)->cur,
				PCPU_LOCKED, memory_order_seq_cst);
		err = os_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
				    flags, (int)cpu);
		if (err == EINVAL && flags)
			err = 0;	/* CPU offline: nothing runs there */
		if (err)
			return false;
		for (unsigned int c = 0; c < nr_classes; c++)
			if (!(READ_ONCE(region_chunk(r, c)->cur) & PCPU_LOCKED))
				all = false;
		if (all)
			return true;
	}
	return false;
}

static void region_unlock(struct pcpu_region_hdr *r)
{
	for (unsigned int c = 0; c < nr_classes; c++)
		atomic_fetch_and_explicit(
			(_Atomic uint32_t *)&region_chunk(r, c)->cur,
			~PCPU_LOCKED, memory_order_release);
}

/* Drain region `cpu` from any thread; drain_lock held. */
static size_t cpu_region_drain(unsigned int cpu)
{
	struct pcpu_region_hdr *r = cpu_region(cpu);

	if (!region_lock(r, cpu)) {
		region_unlock(r);
		return 0;
	}
	return region_flush(r);	/* stores cur = 0: unlocked and empty */
}

static size_t region_cached_bytes(struct pcpu_region_hdr *r)
{
	size_t bytes = 0;

	for (unsigned int c = 0; c < nr_classes; c++)
		bytes += (size_t)((READ_ONCE(region_chunk(r, c)->cur) &
				   ~PCPU_LOCKED) +
				  !!READ_ONCE(region_chunk(r, c)->side[
					  READ_ONCE(region_chunk(r, c)->sel) & 1])) *
			 class_size[c];
	return bytes;
}

size_t percpu_cached_bytes(void)
{
	size_t bytes = 0;

	if (pcpu.mode == PCPU_RSEQ)
		for (unsigned int cpu = 0; cpu < nr_regions; cpu++)
			if (atomic_load_explicit(&region_state[cpu],
						 memory_order_acquire) == 2)
				bytes += region_cached_bytes(cpu_region(cpu));
	if (pcpu_thread_region)
		bytes += region_cached_bytes(pcpu_thread_region);
	return bytes + depot_cached_bytes();
}

void percpu_drain_all(void)
{
	struct pcpu_region_hdr *r = pcpu_thread_region;

	if (r && !r->busy) {
		WRITE_ONCE(r->busy, 1);
		barrier();
		region_flush(r);
		barrier();
		WRITE_ONCE(r->busy, 0);
	}
	if (pcpu.cpu_regions && can_fence && kmem_lock_safe(&drain_lock)) {
		for (unsigned int cpu = 0; cpu < nr_regions; cpu++)
			if (atomic_load_explicit(&region_state[cpu],
						 memory_order_acquire) == 2)
				cpu_region_drain(cpu);
		kmem_unlock(&drain_lock);
	}
	depot_shrink(true);	/* and what the regions gave the depot */
}

size_t percpu_drain_idle(void)
{
	size_t n = 0;

	if (pcpu.mode != PCPU_RSEQ || !can_fence ||
	    !kmem_trylock(&drain_lock))
		return 0;
	for (unsigned int cpu = 0; cpu < nr_regions; cpu++) {
		struct pcpu_region_hdr *r;
		uint32_t act;

		if (atomic_load_explicit(&region_state[cpu],
					 memory_order_acquire) != 2)
			continue;
		r = cpu_region(cpu);
		act = READ_ONCE(r->activity);
		if (act == region_seen[cpu] && region_cached_bytes(r))
			n += cpu_region_drain(cpu);
		region_seen[cpu] = act;
	}
	kmem_unlock(&drain_lock);
	return n;
}

/* ---- fork ---- */

void percpu_fork_prepare(void)
{
	kmem_fork_lock(&drain_lock);
}

void percpu_fork_release(void)
{
	kmem_fork_unlock(&drain_lock);
}

void percpu_fork_child(void)
{
	uint64_t seed = os_random_u64();

	/* The child is a new mm: register it for membarrier again. */
	if (pcpu.mode == PCPU_RSEQ) {
		bool ok = os_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
					0, 0) == 0;

		if (can_fence != ok)	/* no copy-on-write of its page if not */
			can_fence = ok;
	}
	/* Parent and child would otherwise pick the same reuse order. */
	for (unsigned int i = 0; i < nr_regions; i++)
		if (atomic_load_explicit(&region_state[i],
					 memory_order_acquire) == 2)
			cpu_region(i)->reuse_rnd =
				kmem_xorshift64(seed + i * 0x9e3779b97f4a7c15ULL) | 1;
	if (pcpu_thread_region)
		pcpu_thread_region->reuse_rnd = kmem_xorshift64(~seed) | 1;
}
