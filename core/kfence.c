/* SPDX-License-Identifier: MIT */
/*
 * core/kfence.c - sampled guard allocations (KMEM_SAMPLE), after the
 * kernel's KFENCE and GWP-ASan.
 *
 * Layer: beside slab.c, below kmalloc.c (which samples into it and hands
 * it the frees of its blocks) and fault.c (which asks it about faults).
 * Owns the guard pool and its metadata.  Calls os.c, stacktrace.c and
 * printk.c.
 *
 * The pool is one mapping of 2 * KFENCE_NR_OBJECTS + 1 pages, made at
 * the first sample: guard, object 0, guard, object 1, ..., guard.  Every
 * page starts inaccessible; an object page is readable and writable only
 * while its block is allocated.  Blocks alternate between the left end of
 * their page (an underflow hits the guard before it) and the right end
 * (an overflow hits the guard after it; the block ends at the page's end
 * up to the 16 bytes of malloc's alignment).  The rest of the page holds
 * canary bytes, checked at free: an overflow too short to reach the
 * guard page is still found, later.
 *
 * Reuse is delayed as long as the pool allows: an allocation takes a slot
 * never used, else the one freed longest ago.  A freed page stays
 * inaccessible meanwhile, so a use after free faults, and its frame goes
 * back to the kernel (madvise): a long-running program samples often
 * enough to touch every slot, and kept frames were 1 MiB of resident
 * memory (255 pages) that it did not use, a third of larson's and a
 * fifth of xmalloc's peak.  The price, a third system call and a page
 * fault with a page clear at the slot's next use, is about a third of a
 * sample's few microseconds, once per KMEM_SAMPLE bytes.
 *
 * No lock: each slot has a state word, and a change of state is a
 * compare-and-swap to KF_BUSY first, so a double free (or two racing
 * frees) is seen by whoever loses.  This makes every entry point usable
 * from a signal handler and across fork.  System calls: one mprotect
 * of one page per sampled allocation, one mprotect and one madvise per
 * free.
 *
 * Cost: nothing on the fast paths (the per-CPU countdown already runs);
 * per sample about two system calls and two stack walks (a few
 * microseconds), once per KMEM_SAMPLE bytes on average.
 */
#include "kfence.h"

#include <string.h>

#include "options.h"
#include "os.h"
#include "profile.h"
#include "stacktrace.h"

#define KFENCE_STACK 32		/* frames kept per stack */

enum { KF_UNUSED, KF_ALLOCATED, KF_FREED, KF_BUSY };

struct kfence_meta {
	_Atomic int state;
	uint32_t size;			/* bytes asked */
	uintptr_t addr;			/* the block, in its page */
	uint64_t freed_at;		/* os_now_ns() of the free */
	int alloc_tid, free_tid;
	uint32_t nr_alloc, nr_free;	/* frames in the stacks below */
	unsigned long alloc_stack[KFENCE_STACK];
	unsigned long free_stack[KFENCE_STACK];
};

uintptr_t kfence_pool;
size_t kfence_pool_len;
static struct kfence_meta *meta;
static _Atomic int pool_state;		/* 0 none, 1 mapping, 2 up, 3 failed */
static _Atomic uint32_t alloc_seq;	/* left or right, alternately */
static _Atomic size_t nr_live, nr_total, nr_skipped;

static uintptr_t slot_page(unsigned int i)
{
	return kfence_pool + ((2 * (uintptr_t)i + 1) << PAGE_SHIFT);
}

/* The canary byte at address a: depends on a, so that a block moved by
 * whole bytes does not read as intact. */
static inline uint8_t canary(uintptr_t a)
{
	return (uint8_t)(0xaa ^ (a & 7));
}

/* canary(a) for the 8 bytes of an aligned word, little-endian. */
#define CANARY_WORD 0xadacafaea9a8abaaULL

/* Fill [lo, hi) with canaries, a word at a time between the edges. */
static void canary_fill(uintptr_t lo, uintptr_t hi)
{
	for (; lo < hi && (lo & 7); lo++)
		*(uint8_t *)lo = canary(lo);
	for (; lo + 8 <= hi; lo += 8)
		*(uint64_t *)lo = CANARY_WORD;
	for (; lo < hi; lo++)
		*(uint8_t *)lo = canary(lo);
}

/* The first byte of [lo, hi) that is not its canary, or hi. */
static uintptr_t canary_first_bad(uintptr_t lo, uintptr_t hi)
{
	for (; lo < hi && (lo & 7); lo++)
		if (*(uint8_t *)lo != canary(lo))
			return lo;
	for (; lo + 8 <= hi; lo += 8)
		if (*(uint64_t *)lo != CANARY_WORD)
			break;
	for (; lo < hi; lo++)
		if (*(uint8_t *)lo != canary(lo))
			return lo;
	return hi;
}

static bool pool_map(void)
{
	int st = atomic_load_explicit(&pool_state, memory_order_acquire);
	int expected = 0;
	size_t len = (2 * KFENCE_NR_OBJECTS + 1) << PAGE_SHIFT;
	size_t mlen = ALIGN_UP(KFENCE_NR_OBJECTS * sizeof(struct kfence_meta),
			       PAGE_SIZE);
	void *p, *m;
	int err;

	if (st == 2)
		return true;
	if (st != 0 || !atomic_compare_exchange_strong(&pool_state, &expected, 1))
		return false;	/* another thread maps it, or it failed */
	p = os_mmap(NULL, len, OS_PROT_NONE, false, &err);
	m = p ? os_mmap(NULL, mlen, OS_PROT_RW, false, &err) : NULL;
	if (!m) {
		if (p)
			os_munmap(p, len);
		atomic_store_explicit(&pool_state, 3, memory_order_release);
		return false;
	}
	meta = m;
	kfence_pool_len = len;
	atomic_store_explicit((_Atomic uintptr_t *)&kfence_pool, (uintptr_t)p,
			      memory_order_release);
	atomic_store_explicit(&pool_state, 2, memory_order_release);
	return true;
}

/* A slot to use: never used first, else the one freed longest ago. */
static struct kfence_meta *slot_take(unsigned int *index)
{
	for (int tries = 0; tries < 4; tries++) {
		unsigned int best = KFENCE_NR_OBJECTS;
		uint64_t oldest = UINT64_MAX;

		for (unsigned int i = 0; i < KFENCE_NR_OBJECTS; i++) {
			int st = atomic_load_explicit(&meta[i].state,
						      memory_order_relaxed);

			if (st == KF_UNUSED) {
				best = i;
				break;
			}
			if (st == KF_FREED && meta[i].freed_at < oldest) {
				oldest = meta[i].freed_at;
				best = i;
			}
		}
		if (best == KFENCE_NR_OBJECTS)
			return NULL;	/* every block is live */
		int st = atomic_load_explicit(&meta[best].state,
					      memory_order_relaxed);
		if ((st == KF_UNUSED || st == KF_FREED) &&
		    atomic_compare_exchange_strong_explicit(
			    &meta[best].state, &st, KF_BUSY,
			    memory_order_acquire, memory_order_relaxed)) {
			*index = best;
			return &meta[best];
		}
	}
	return NULL;
}

void *kfence_alloc(size_t size, gfp_t gfp, unsigned long ip)
{
	struct kfence_meta *m;
	unsigned int i;
	uintptr_t page, addr;
	size_t room = ALIGN_UP(size, 16);

	if (size > KFENCE_MAX_SIZE || !pool_map())
		return NULL;
	m = slot_take(&i);
	if (!m) {
		atomic_fetch_add_explicit(&nr_skipped, 1, memory_order_relaxed);
		return NULL;
	}
	page = slot_page(i);
	if (os_mprotect((void *)page, PAGE_SIZE, OS_PROT_RW)) {
		atomic_store_explicit(&m->state, KF_FREED, memory_order_release);
		return NULL;
	}
	if (!size)
		addr = page + PAGE_SIZE;	/* any access faults */
	else if (atomic_fetch_add_explicit(&alloc_seq, 1,
					   memory_order_relaxed) & 1)
		addr = page + PAGE_SIZE - room;	/* against the right guard */
	else
		addr = page;			/* against the left guard */
	canary_fill(page, addr);
	canary_fill(addr + size, page + PAGE_SIZE);
	if (gfp & __GFP_ZERO)
		memset((void *)addr, 0, size);
	m->addr = addr;
	m->size = (uint32_t)size;
	m->alloc_tid = os_gettid();
	m->nr_alloc = kmem_stack_capture_from(m->alloc_stack, KFENCE_STACK, ip);
	m->nr_free = 0;
	atomic_fetch_add_explicit(&nr_live, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&nr_total, 1, memory_order_relaxed);
	atomic_store_explicit(&m->state, KF_ALLOCATED, memory_order_release);
	return (void *)addr;
}

/* ---- reports ---- */

static void print_stacks(const struct kfence_meta *m, bool freed)
{
	kmem_pr_err("  the block %p (%u bytes) was allocated by thread %d:",
		    (void *)m->addr, m->size, m->alloc_tid);
	kmem_stack_print(2, "kmem:     ", m->alloc_stack, m->nr_alloc);
	if (freed) {
		kmem_pr_err("  and freed by thread %d:", m->free_tid);
		kmem_stack_print(2, "kmem:     ", m->free_stack, m->nr_free);
	}
}

/* This thread's stack from ip (the program's call into kmem, or the
 * faulting instruction) outwards. */
static void print_here(unsigned long ip)
{
	unsigned long ips[KFENCE_STACK];
	unsigned int n = kmem_stack_capture_from(ips, KFENCE_STACK, ip);

	kmem_pr_err("  at (thread %d):", os_gettid());
	kmem_stack_print(2, "kmem:     ", ips, n);
}

/* The slot whose page holds addr, or the nearest one for a guard page
 * (the block closer to addr); NULL if addr is outside the pool. */
static struct kfence_meta *slot_near(uintptr_t addr, bool *on_guard)
{
	size_t k = (addr - kfence_pool) >> PAGE_SHIFT;
	unsigned int left, right;

	if (!kfence_owns((void *)addr))
		return NULL;
	*on_guard = !(k & 1);
	if (k & 1)
		return &meta[(k - 1) / 2];
	/* Guard page k: object k/2 - 1 ends below it, object k/2 starts
	 * above it. */
	left = k ? (unsigned int)(k / 2 - 1) : KFENCE_NR_OBJECTS;
	right = (unsigned int)(k / 2);
	if (left < KFENCE_NR_OBJECTS && right < KFENCE_NR_OBJECTS) {
		uintptr_t lend = meta[left].addr + meta[left].size;
		uintptr_t rstart = meta[right].addr;

		if (atomic_load(&meta[right].state) == KF_UNUSED ||
		    (atomic_load(&meta[left].state) != KF_UNUSED &&
		     addr - lend < rstart - addr))
			return &meta[left];
		return &meta[right];
	}
	return left < KFENCE_NR_OBJECTS ? &meta[left] : &meta[right];
}

bool kfence_handle_fault(uintptr_t addr, bool write, unsigned long pc)
{
	struct kfence_meta *m;
	bool guard = false;
	int st;

	if (!kfence_pool || !(m = slot_near(addr, &guard)))
		return false;
	st = atomic_load_explicit(&m->state, memory_order_acquire);
	if (!guard && st == KF_FREED) {
		kmem_report_begin("use after free: %s of %p, %ld bytes into "
				  "the freed sampled block %p (%u bytes)",
				  write ? "write" : "read", (void *)addr,
				  (long)(addr - m->addr), (void *)m->addr,
				  m->size);
	} else if (addr >= m->addr + m->size) {
		kmem_report_begin("out-of-bounds %s of %p, %zu bytes right of "
				  "the sampled block %p (%u bytes)",
				  write ? "write" : "read", (void *)addr,
				  (size_t)(addr - (m->addr + m->size)),
				  (void *)m->addr, m->size);
	} else if (addr < m->addr) {
		kmem_report_begin("out-of-bounds %s of %p, %zu bytes left of "
				  "the sampled block %p (%u bytes)",
				  write ? "write" : "read", (void *)addr,
				  (size_t)(m->addr - addr), (void *)m->addr,
				  m->size);
	} else {
		kmem_report_begin("invalid %s of %p in the guard pool",
				  write ? "write" : "read", (void *)addr);
	}
	print_here(pc);
	print_stacks(m, st == KF_FREED);
	return true;
}

/* Report canary bytes that changed: an overflow or underflow that did
 * not reach a guard page. */
static void check_canaries(struct kfence_meta *m, const char *caller,
			   unsigned long ip)
{
	uintptr_t page = (m->addr - !m->size) & ~(PAGE_SIZE - 1), a, first;

	a = canary_first_bad(page, m->addr);
	if (a < m->addr) {
		kmem_report_begin("%s(%p): memory corrupted %zu bytes left of "
				  "the sampled block (%u bytes): underflow",
				  caller, (void *)m->addr,
				  (size_t)(m->addr - a), m->size);
		goto report;
	}
	first = canary_first_bad(m->addr + m->size, page + PAGE_SIZE);
	if (first < page + PAGE_SIZE) {
		/* the last corrupted byte */
		for (a = page + PAGE_SIZE; a-- > first;)
			if (*(uint8_t *)a != canary(a))
				break;
		kmem_report_begin("%s(%p): memory corrupted %zu bytes right of "
				  "the sampled block (%u bytes): overflow of "
				  "%zu bytes", caller, (void *)m->addr,
				  (size_t)(first - (m->addr + m->size)),
				  m->size, (size_t)(a - first + 1));
		goto report;
	}
	return;
report:
	print_here(ip);
	print_stacks(m, false);
	kmem_report_end();
}

/* p is in the pool: its slot, or NULL after reporting why p is not a
 * live sampled block. */
static struct kfence_meta *live_block(const void *p, const char *caller,
				      bool is_free, unsigned long ip)
{
	bool guard = false;
	struct kfence_meta *m = slot_near((uintptr_t)p, &guard);
	int st = m ? atomic_load_explicit(&m->state, memory_order_acquire)
		   : KF_UNUSED;

	/* A block of 0 bytes starts where the guard after its page does. */
	if (m && m->addr == (uintptr_t)p && st == KF_ALLOCATED)
		return m;
	if (m && m->addr == (uintptr_t)p && st == KF_FREED)
		kmem_report_begin("%s(%p): %s of the sampled block (%u bytes), "
				  "freed already", caller, p,
				  is_free ? "double free" : "use after free",
				  m->size);
	else if (m && !guard && st == KF_ALLOCATED)
		kmem_report_begin("%s(%p): pointer %ld bytes into the sampled "
				  "block %p (%u bytes)", caller, p,
				  (long)((uintptr_t)p - m->addr),
				  (void *)m->addr, m->size);
	else
		kmem_report_begin("%s(%p): not a block: the pointer is in the "
				  "guard pool, outside any live block", caller,
				  p);
	print_here(ip);
	if (m && st != KF_UNUSED)
		print_stacks(m, st == KF_FREED);
	kmem_report_end();
	return NULL;
}

void kfence_free(void *p, const char *caller, unsigned long ip)
{
	struct kfence_meta *m = live_block(p, caller, true, ip);
	uintptr_t page;
	int st = KF_ALLOCATED;

	if (!m)
		return;
	if (!atomic_compare_exchange_strong_explicit(&m->state, &st, KF_BUSY,
						     memory_order_acquire,
						     memory_order_relaxed)) {
		/* Another free of the same block won the race. */
		kmem_report_begin("%s(%p): double free of the sampled block "
				  "(%u bytes), by two threads at once", caller,
				  p, m->size);
		print_here(ip);
		kmem_report_end();
		return;
	}
	check_canaries(m, caller, ip);
	m->free_tid = os_gettid();
	m->nr_free = kmem_stack_capture_from(m->free_stack, KFENCE_STACK, ip);
	if (prof_enabled())
		prof_record_free(p);
	page = (m->addr - !m->size) & ~(PAGE_SIZE - 1);
	os_mprotect((void *)page, PAGE_SIZE, OS_PROT_NONE);
	os_purge((void *)page, PAGE_SIZE);	/* canaries refilled at reuse */
	m->freed_at = os_now_ns();
	atomic_fetch_sub_explicit(&nr_live, 1, memory_order_relaxed);
	atomic_store_explicit(&m->state, KF_FREED, memory_order_release);
}

size_t kfence_ksize(const void *p, const char *caller)
{
	struct kfence_meta *m = live_block(p, caller, false, 0);

	return m ? m->size : SIZE_MAX;
}

void kfence_get_stats(struct kfence_stats *st)
{
	st->allocated = atomic_load_explicit(&nr_live, memory_order_relaxed);
	st->total = atomic_load_explicit(&nr_total, memory_order_relaxed);
	st->skipped = atomic_load_explicit(&nr_skipped, memory_order_relaxed);
}
