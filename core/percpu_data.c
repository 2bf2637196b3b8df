/* SPDX-License-Identifier: MIT */
/*
 * core/percpu_data.c - per-CPU data for programs: alloc_percpu and
 * this_cpu_*.
 *
 * Layer: top of core/, beside kmalloc.c; calls percpu.c (which CPU slot a
 * thread runs on, and whether it can run rseq sections) and os.c (the
 * area).  Owns the per-CPU area, its allocator and the thread slots.
 * The inline fast paths are in <kmem.h>; here are their slow halves.
 *
 * The area: KMEM_PCPU_MAX_SLOTS units of KMEM_PCPU_UNIT_SIZE bytes each,
 * one reservation (MAP_NORESERVE: a unit costs memory only where it is
 * written), made at the first kmem_alloc_percpu.  An allocation is an
 * offset in a unit, the same in every unit, so that CPU c's copy of p is
 * p + c * KMEM_PCPU_UNIT_SIZE (per_cpu_ptr is one shift and one add).
 * Offsets are handed out in 16-byte granules, first fit, from a bitmap,
 * under pcpu_data_lock (alloc_percpu and free_percpu only: no fast path
 * takes it).
 *
 * Slots (the "CPUs"):
 *   rseq mode    slots [0, nr_regions) are the CPUs (the index percpu.c's
 *                caches use: mm_cid or cpu_id); this_cpu_add is one rseq
 *                section whose commit is the add itself.
 *   any mode     a thread that cannot run rseq sections (thread and off
 *                modes, or a thread the kernel would not register) takes
 *                a thread slot of its own, from [base, MAX): a plain add
 *                (one instruction, so a signal handler cannot split it).
 *                A slot outlives its thread: the next thread takes it
 *                over with its values, so sums stay exact.
 *   overflow     slot base - 1, for threads that find no free thread slot
 *                (or call from a destructor after theirs ran): updated
 *                with atomic adds, as several threads share it.
 * kmem_nr_cpu_ids() is one more than the highest slot ever used, at
 * least base.
 *
 * Locks: pcpu_data_lock (the allocator), nothing under it but os.c.  The
 * thread slots are a bitmap of atomics.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fork.h"
#include "os.h"
#include "percpu.h"
#include "percpu_data.h"

#define GRANULE 16
#define NR_GRANULES (KMEM_PCPU_UNIT_SIZE / GRANULE)
#define SLOT_WORDS (KMEM_PCPU_MAX_SLOTS / 64)

KMEM_EXPORT struct kmem_pcpu_fast kmem_pcpu_fast;
KMEM_EXPORT __thread long kmem_pcpu_thread_off
	__attribute__((tls_model("initial-exec")));
/* This thread's slot + 1, or 0 (kmem_pcpu_thread_off is its offset). */
static __thread unsigned int thread_slot
	__attribute__((tls_model("initial-exec")));

static kmem_lock_t pcpu_data_lock __fork_lock = KMEM_LOCK_INIT;
static uintptr_t area;			/* the reservation, or 0 */
static uint64_t granule_used[NR_GRANULES / 64];
/* Granules of the allocation that starts at a granule, or 0. */
static uint16_t alloc_granules[NR_GRANULES];
static unsigned int cpu_slots __read_mostly;		/* rseq: nr_regions, else 0 */
static unsigned int slot_base;		/* first thread slot */
static _Atomic uint64_t slot_taken[SLOT_WORDS];
static _Atomic unsigned int slots_hw;	/* highest slot used + 1 */
static pthread_key_t slot_key;
static bool slot_key_ok __read_mostly;

static bool granule_busy(unsigned int g)
{
	return granule_used[g / 64] & (1ULL << (g % 64));
}

static void granules_set(unsigned int g, unsigned int n, bool on)
{
	for (unsigned int i = g; i < g + n; i++) {
		if (on)
			granule_used[i / 64] |= 1ULL << (i % 64);
		else
			granule_used[i / 64] &= ~(1ULL << (i % 64));
	}
}

static void slots_hw_raise(unsigned int n)
{
	unsigned int hw = atomic_load_explicit(&slots_hw, memory_order_relaxed);

	while (hw < n && !atomic_compare_exchange_weak_explicit(
			&slots_hw, &hw, n, memory_order_release,
			memory_order_relaxed))
		;
}

KMEM_EXPORT unsigned int kmem_nr_cpu_ids(void)
{
	kmem_init();
	return atomic_load_explicit(&slots_hw, memory_order_acquire);
}

KMEM_EXPORT void *kmem_alloc_percpu(size_t size, size_t align)
{
	unsigned int n, step, g, hw;
	void *p = NULL;
	int err = 0;

	kmem_init();
	if (align == 0)
		align = 1;
	if (size == 0 || size > KMEM_PCPU_UNIT_SIZE || (align & (align - 1)) ||
	    align > KMEM_PCPU_UNIT_SIZE) {
		errno = size == 0 || (align & (align - 1)) ? EINVAL : ENOMEM;
		return NULL;
	}
	n = (unsigned int)((size + GRANULE - 1) / GRANULE);
	step = align > GRANULE ? (unsigned int)(align / GRANULE) : 1;
	kmem_lock(&pcpu_data_lock);
	if (!area) {
		void *a = os_mmap_aligned((size_t)KMEM_PCPU_MAX_SLOTS
					  << KMEM_PCPU_UNIT_SHIFT,
					  KMEM_PCPU_UNIT_SIZE, OS_PROT_RW,
					  &err);

		if (!a)
			goto out;
		area = (uintptr_t)a;
	}
	for (g = 0; g + n <= NR_GRANULES; g += step) {
		unsigned int k = 0;

		while (k < n && !granule_busy(g + k))
			k++;
		if (k == n)
			break;
	}
	err = ENOMEM;
	if (g + n > NR_GRANULES)
		goto out;
	granules_set(g, n, true);
	alloc_granules[g] = (uint16_t)n;
	p = (void *)(area + (uintptr_t)g * GRANULE);
	/* Slots above hw were never handed out, so never written: zero. */
	hw = atomic_load_explicit(&slots_hw, memory_order_acquire);
	for (unsigned int s = 0; s < hw; s++)
		memset((char *)p + ((size_t)s << KMEM_PCPU_UNIT_SHIFT), 0,
		       (size_t)n * GRANULE);
	err = 0;
out:
	kmem_unlock(&pcpu_data_lock);
	if (!p)
		errno = err ? err : ENOMEM;
	return p;
}

KMEM_EXPORT void kmem_free_percpu(void *p)
{
	uintptr_t off;
	unsigned int g;

	if (!p)
		return;
	kmem_init();
	kmem_lock(&pcpu_data_lock);
	off = (uintptr_t)p - area;
	g = (unsigned int)(off / GRANULE);
	if (!area || (uintptr_t)p < area || off >= KMEM_PCPU_UNIT_SIZE ||
	    off % GRANULE || !alloc_granules[g]) {
		kmem_unlock(&pcpu_data_lock);
		kmem_report_error("free_percpu(%p): not a pointer from "
				  "alloc_percpu, or freed already", p);
		return;
	}
	granules_set(g, alloc_granules[g], false);
	alloc_granules[g] = 0;
	kmem_unlock(&pcpu_data_lock);
}

/* ---- thread slots ---- */

static void slot_put(void *arg)
{
	unsigned int s = thread_slot;

	(void)arg;
	if (!s--)
		return;
	kmem_pcpu_thread_off = 0;
	thread_slot = 0;
	atomic_fetch_and_explicit(&slot_taken[s / 64], ~(1ULL << (s % 64)),
				  memory_order_release);
}

/* A thread slot for the calling thread: atomics only (a signal handler
 * may be the thread's first user).  False if every slot is taken. */
static bool slot_get(void)
{
	for (unsigned int s = slot_base; s < KMEM_PCPU_MAX_SLOTS; s++) {
		uint64_t bit = 1ULL << (s % 64);

		if (atomic_load_explicit(&slot_taken[s / 64],
					 memory_order_relaxed) & bit)
			continue;
		if (atomic_fetch_or_explicit(&slot_taken[s / 64], bit,
					     memory_order_acquire) & bit)
			continue;
		slots_hw_raise(s + 1);
		thread_slot = s + 1;
		atomic_signal_fence(memory_order_seq_cst);
		kmem_pcpu_thread_off = (long)s << KMEM_PCPU_UNIT_SHIFT;
		/* Keys below PTHREAD_KEY_2NDLEVEL_SIZE need no allocation. */
		if (slot_key_ok)
			pthread_setspecific(slot_key, (void *)1);
		return true;
	}
	return false;
}

/*
 * Where the calling thread's updates go now: 1 if its rseq sections work
 * (rseq mode), 2 if it has a thread slot, 0 for the overflow slot.
 */
static int thread_prepare(void)
{
	if (cpu_slots && percpu_rseq_thread_ready())
		return 1;
	if (kmem_pcpu_thread_off || slot_get())
		return 2;
	return 0;
}

static void *overflow_ptr(const void *p)
{
	return (char *)p + ((uintptr_t)(slot_base - 1) << KMEM_PCPU_UNIT_SHIFT);
}

static void *rseq_ptr(const void *p)
{
	char *tp = __builtin_thread_pointer();
	uint32_t idx = READ_ONCE(*(uint32_t *)(tp +
					       kmem_pcpu_fast.rseq_idx_off));

	return (char *)p + ((uintptr_t)idx << KMEM_PCPU_UNIT_SHIFT);
}

KMEM_EXPORT void *kmem_this_cpu_ptr(const void *p)
{
	kmem_init();
	switch (thread_prepare()) {
	case 1:
		return rseq_ptr(p);
	case 2:
		return (char *)p + kmem_pcpu_thread_off;
	default:
		return overflow_ptr(p);
	}
}

/* The update as one atomic operation (the overflow slot, shared). */
#define ATOMIC_OP(T)                                                       \
	do {                                                               \
		if (add)                                                   \
			atomic_fetch_add_explicit((_Atomic T *)q, (T)v,    \
						  memory_order_relaxed);   \
		else                                                       \
			atomic_store_explicit((_Atomic T *)q, (T)v,        \
					      memory_order_relaxed);       \
	} while (0)

static void atomic_op(void *q, long long v, unsigned int size, bool add)
{
	switch (size) {
	case 1:
		ATOMIC_OP(uint8_t);
		break;
	case 2:
		ATOMIC_OP(uint16_t);
		break;
	case 4:
		ATOMIC_OP(uint32_t);
		break;
	case 8:
		ATOMIC_OP(uint64_t);
		break;
	}
}

static void this_cpu_op(void *p, long long v, unsigned int size, bool add)
{
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		kmem_report_error("this_cpu_%s(%p): a %u-byte operand (1, 2, 4 "
				  "or 8 only)", add ? "add" : "write", p, size);
		return;
	}
	kmem_init();
#if defined(__x86_64__) && !defined(KMEM_PCPU_NO_ASM)
	if (thread_prepare() && (add ? KMEM__PCPU_TRY(add, size, p, v)
				     : KMEM__PCPU_TRY(mov, size, p, v)))
		return;
#else
	if (thread_prepare() == 2) {
		/* No inline single-instruction add here: atomics on the
		 * thread's own slot are exact against its signal handlers. */
		atomic_op((char *)p + kmem_pcpu_thread_off, v, size, add);
		return;
	}
#endif
	atomic_op(overflow_ptr(p), v, size, add);
}

KMEM_EXPORT void kmem_this_cpu_add(void *p, long long v, unsigned int size)
{
	this_cpu_op(p, v, size, true);
}

KMEM_EXPORT void kmem_this_cpu_write(void *p, long long v, unsigned int size)
{
	this_cpu_op(p, v, size, false);
}

/* ---- set-up and fork ---- */

int percpu_data_init(void)
{
	const struct percpu_fast *f = &pcpu;

	cpu_slots = percpu_nr_cpu_slots();
	slot_base = cpu_slots + 1;
	atomic_store_explicit(&slots_hw, slot_base, memory_order_relaxed);
	if (pthread_key_create(&slot_key, slot_put) == 0)
		slot_key_ok = true;
#if defined(__x86_64__) && !defined(KMEM_PCPU_NO_ASM)
	if (cpu_slots) {
		kmem_pcpu_fast.rseq_idx_off = (long)f->rseq_idx_off;
		atomic_signal_fence(memory_order_seq_cst);
		WRITE_ONCE(kmem_pcpu_fast.rseq_off, (long)f->rseq_off);
	}
#else
	(void)f;
#endif
	return 0;
}

void percpu_data_fork_prepare(void)
{
	kmem_fork_lock(&pcpu_data_lock);
}

void percpu_data_fork_release(void)
{
	kmem_fork_unlock(&pcpu_data_lock);
}

void percpu_data_fork_child(void)
{
	unsigned int s = thread_slot;

	/* Only this thread survived: the other thread slots are free (with
	 * their values, which the next threads take over).  Each word is
	 * written only if it changes: a page written after the fork is a
	 * copy-on-write fault (fork.c). */
	for (unsigned int i = 0; i < SLOT_WORDS; i++) {
		uint64_t want = s && (s - 1) / 64 == i ? 1ULL << ((s - 1) % 64)
						       : 0;

		if (atomic_load_explicit(&slot_taken[i],
					 memory_order_relaxed) != want)
			atomic_store_explicit(&slot_taken[i], want,
					      memory_order_relaxed);
	}
}
