/* SPDX-License-Identifier: MIT */
/*
 * core/reserve.c - the atomic reserve: blocks for allocations that must
 * not wait for a lock (reserve.h says who they are).
 *
 * Layer: beside buddy.c, above page.c (one section of its own, mapped at
 * init) and os.c; called by kmalloc.c only.  Owns that section, its bump
 * pointer and one lock-free stack of free blocks per power of two.
 *
 *   section:  | mem_map (1 MiB) | carved from the bottom up ... | unused |
 *
 * A block of 2^k bytes (k = RESERVE_MIN_SHIFT .. RESERVE_MAX_SHIFT) is
 * aligned to its size.  Blocks below a page are carved from 64 KiB
 * chunks; each page of a chunk has PG_atomic and order = k.  A block of a
 * page or more has PG_atomic | PG_head on its first page (order = k) and
 * PG_atomic | PG_tail on the others.  Carved memory never goes back to
 * the buddy allocator: freed blocks wait on their stack for the next
 * request of their size, so the reserve holds at most the section.
 *
 * Free stacks: head[k] = (tag << 32) | (offset / 16 + 1), 0 when empty;
 * a free block holds slab_free_tag(block) in its first word (a second
 * free is a double free) and the next block's encoded offset in its
 * second.  The tag half of head changes with every pop and push, so a pop
 * that read a stale next (the block was taken and reused meanwhile) fails
 * its compare-and-swap: no ABA.  Every address read is in the section,
 * which stays mapped.
 *
 * Locks: none.  Everything is a compare-and-swap or an atomic add, so it
 * is safe in a signal handler, during a fork, and with any kmem lock held
 * by the interrupted code.
 */
#include "reserve.h"

#include <errno.h>

#include "buddy.h"
#include "page.h"
#include "slab.h"

#define RESERVE_CHUNK (64UL << 10)	/* carved into blocks below a page */
#define NR_RESERVE_CLASSES (RESERVE_MAX_SHIFT - RESERVE_MIN_SHIFT + 1)
#define RESERVE_ZONE MAX_NR_ZONES	/* zone id of the section's pages */

static uintptr_t reserve_base;		/* first usable byte (after mem_map) */
static size_t reserve_size;		/* usable bytes */
static _Atomic size_t reserve_bump;	/* bytes carved from reserve_base */
static _Atomic uint64_t reserve_head[NR_RESERVE_CLASSES];
static _Atomic size_t st_in_use, st_allocs, st_failures;

int reserve_init(void)
{
	int err = 0;
	void *base = pagemap_add_section(RESERVE_ZONE, false, 0, &err);

	if (!base)
		return err ? err : ENOMEM;
	reserve_base = (uintptr_t)base + ((uintptr_t)SECTION_META_PAGES << PAGE_SHIFT);
	reserve_size = SECTION_SIZE - ((size_t)SECTION_META_PAGES << PAGE_SHIFT);
	return 0;
}

bool reserve_owns(const void *p)
{
	return reserve_base && (uintptr_t)p - reserve_base < reserve_size;
}

static unsigned int shift_for(size_t size)
{
	unsigned int k = RESERVE_MIN_SHIFT;

	while (k <= RESERVE_MAX_SHIFT && (1UL << k) < size)
		k++;
	return k;
}

/* Carve len bytes aligned to align off the section; 0 when used up. */
static uintptr_t carve(size_t len, size_t align)
{
	size_t old = atomic_load_explicit(&reserve_bump, memory_order_relaxed);
	size_t start;

	do {
		start = ALIGN_UP(old, align);
		if (start + len > reserve_size || start + len < start)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(
		&reserve_bump, &old, start + len, memory_order_relaxed,
		memory_order_relaxed));
	return reserve_base + start;
}

static uint64_t encode(uintptr_t blk)
{
	return blk ? (blk - reserve_base) / 16 + 1 : 0;
}

static uintptr_t decode(uint64_t off)
{
	return off ? reserve_base + (uintptr_t)(off - 1) * 16 : 0;
}

/* Push the chain first..last (already tagged and linked) on class c. */
static void push_chain(unsigned int c, uintptr_t first, uintptr_t last)
{
	_Atomic uint64_t *head = &reserve_head[c];
	uint64_t old = atomic_load_explicit(head, memory_order_relaxed), new;

	do {
		((uint64_t *)last)[1] = old & 0xffffffffu;
		new = (((old >> 32) + 1) << 32) | encode(first);
	} while (!atomic_compare_exchange_weak_explicit(
		head, &old, new, memory_order_release, memory_order_relaxed));
}

static uintptr_t pop(unsigned int c)
{
	_Atomic uint64_t *head = &reserve_head[c];
	uint64_t old = atomic_load_explicit(head, memory_order_acquire), new;
	uintptr_t blk;

	do {
		blk = decode(old & 0xffffffffu);
		if (!blk)
			return 0;
		new = (((old >> 32) + 1) << 32) |
		      (READ_ONCE(((uint64_t *)blk)[1]) & 0xffffffffu);
	} while (!atomic_compare_exchange_weak_explicit(
		head, &old, new, memory_order_acquire, memory_order_acquire));
	return blk;
}

/* A fresh block of class c (shift k), carving a chunk for small ones. */
static uintptr_t carve_block(unsigned int c, unsigned int k)
{
	size_t bsize = 1UL << k;
	struct page *page;
	uintptr_t chunk, first = 0, prev = 0;

	if (bsize >= PAGE_SIZE) {
		chunk = carve(bsize, bsize);
		if (!chunk)
			return 0;
		page = virt_to_page((void *)chunk);
		page->order = (uint8_t)k;
		for (size_t i = 1; i < bsize >> PAGE_SHIFT; i++) {
			page[i].head = page;
			set_page_flags(&page[i], PG_atomic | PG_tail);
		}
		set_page_flags(page, PG_atomic | PG_head);
		return chunk;
	}
	chunk = carve(RESERVE_CHUNK, RESERVE_CHUNK);
	if (!chunk)
		return 0;
	page = virt_to_page((void *)chunk);
	for (size_t i = 0; i < RESERVE_CHUNK >> PAGE_SHIFT; i++) {
		page[i].order = (uint8_t)k;
		set_page_flags(&page[i], PG_atomic);
	}
	/* Keep the first block, stack the rest as one chain. */
	for (uintptr_t b = chunk + bsize; b < chunk + RESERVE_CHUNK; b += bsize) {
		((uintptr_t *)b)[0] = slab_free_tag((void *)b);
		if (prev)
			((uint64_t *)prev)[1] = encode(b);
		else
			first = b;
		prev = b;
	}
	if (first)
		push_chain(c, first, prev);
	return chunk;
}

void *reserve_alloc(size_t size, size_t align)
{
	unsigned int k = shift_for(MAX(size, align));
	unsigned int c = k - RESERVE_MIN_SHIFT;
	uintptr_t blk;

	if (k > RESERVE_MAX_SHIFT || !reserve_base) {
		atomic_fetch_add_explicit(&st_failures, 1, memory_order_relaxed);
		return NULL;
	}
	blk = pop(c);
	if (!blk)
		blk = carve_block(c, k);
	if (!blk) {
		atomic_fetch_add_explicit(&st_failures, 1, memory_order_relaxed);
		return NULL;
	}
	((uintptr_t *)blk)[0] = 0;	/* not free: clear its tag */
	atomic_fetch_add_explicit(&st_in_use, 1UL << k, memory_order_relaxed);
	atomic_fetch_add_explicit(&st_allocs, 1, memory_order_relaxed);
	return (void *)blk;
}

/* The shift of the block that starts at p, or 0 (reported) if none. */
static unsigned int block_shift(const void *p, const char *caller)
{
	struct page *page = virt_to_page(p);
	uint32_t f = page_flags(page);
	unsigned int k = page->order;

	if (!(f & PG_atomic) || (f & PG_tail) ||
	    ((f & PG_head) ? (uintptr_t)p & ~PAGE_MASK
			   : (uintptr_t)p & ((1UL << k) - 1)) ||
	    k < RESERVE_MIN_SHIFT || k > RESERVE_MAX_SHIFT) {
		kmem_report_error("%s(): %p: pointer into kmem's atomic reserve "
				  "that is not the start of a block", caller, p);
		return 0;
	}
	if (*(const uintptr_t *)p == slab_free_tag(p)) {
		kmem_report_error("%s(): %p: double free of a block of kmem's "
				  "atomic reserve (%zu bytes)", caller, p,
				  (size_t)1 << k);
		return 0;
	}
	return k;
}

size_t reserve_usable_size(const void *p, const char *caller)
{
	unsigned int k = block_shift(p, caller);

	return k ? (size_t)1 << k : 0;
}

void reserve_free(void *p, const char *caller)
{
	unsigned int k = block_shift(p, caller);

	if (!k)
		return;
	((uintptr_t *)p)[0] = slab_free_tag(p);
	push_chain(k - RESERVE_MIN_SHIFT, (uintptr_t)p, (uintptr_t)p);
	atomic_fetch_sub_explicit(&st_in_use, 1UL << k, memory_order_relaxed);
}

void reserve_get_stats(struct reserve_stats *st)
{
	st->mapped = atomic_load_explicit(&reserve_bump, memory_order_relaxed);
	st->in_use = atomic_load_explicit(&st_in_use, memory_order_relaxed);
	st->allocs = atomic_load_explicit(&st_allocs, memory_order_relaxed);
	st->failures = atomic_load_explicit(&st_failures, memory_order_relaxed);
}
