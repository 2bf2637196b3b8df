/* SPDX-License-Identifier: MIT */
/*
 * core/highmem.c - kmap: windows onto the pages of ZONE_HIGHMEM.
 *
 * Layer: top of core/, beside kmalloc.c; calls page.c (where a highmem
 * page's contents lie in the memfd: pagemap_highmem_offset) and os.c
 * (the mappings).  Owns the kmap pool, the threads' local mapping slots
 * and the exported page_address, which is the one place that knows
 * whether a highmem page is mapped.
 *
 * Why high memory in user space: a 64-bit process has address space to
 * spare, but not always the right to map what it holds (RLIMIT_AS, a
 * container's mapped-memory accounting), and a program that keeps a
 * large store and touches little of it at a time pays page tables and
 * resident size for all of it.  ZONE_HIGHMEM's pages live in a memfd
 * and are mapped only while someone reads or writes them, as the
 * kernel's high memory is on a 32-bit machine.
 *
 * The pool (kmap/kunmap, the kernel's pkmap): LAST_PKMAP one-page windows
 * in one reservation.  pkmap[i] says which page window i maps and how many
 * kmaps of it are not undone; a highmem page's kmap_hint (struct page)
 * remembers its window + 1, checked against pkmap[] (a stale hint is
 * harmless).  kmap of a page that is in a window counts one more; else it
 * takes a window nobody uses (count 0), looking on from a clock hand, and
 * maps the page there (mmap of the memfd, MAP_FIXED over the window).  An
 * unused window keeps its page until the window is taken for another
 * (as the kernel flushes pkmap lazily), so kmap, kunmap, kmap of one page
 * costs one mmap.  With every window in use, kmap waits on a futex for a
 * kunmap: kmap may sleep, as in the kernel.
 *
 * Local mappings (kmap_local_page, kmap_atomic): KM_MAX_IDX one-page slots
 * per thread, mapped in stack order: slot = the thread's depth, which is
 * raised before the slot is touched and lowered after it is undone, so a
 * signal handler that maps pages in between uses the slots above and
 * leaves them as it found them.  Never a lock, never a wait: usable in a
 * signal handler.  They are per thread, not per CPU as the kernel's: a
 * thread cannot stop being preempted in user space, and an mmap cannot
 * sit in an rseq section.  The slots are unmapped when undone (as the
 * kernel clears the PTE), so a use after kunmap_local faults.
 *
 * Invariants:
 *   pkmap[i].count > 0  =>  pkmap[i].page != NULL and window i maps it;
 *   pkmap[i].page == NULL  =>  window i is PROT_NONE;
 *   nr_pkmap_used = #{ i : pkmap[i].count > 0 };
 *   a thread's local slot k < depth maps kmap_local.pages[k]; the others
 *   are PROT_NONE.
 *
 * Fork: the child gets its own memfd (page.c copies it), so every window
 * that maps a page is mapped again onto the new file, unused ones are
 * emptied, and the local slots of the threads that did not survive the
 * fork are unmapped (they would keep the parent's file alive).
 *
 * Locks: kmap_lock (pool, waiters), taken by kmap/kunmap only (never on
 * an allocation path), with nothing under it but os.c's calls; the local
 * slots take none.
 */
#include <errno.h>
#include <pthread.h>

#include "fork.h"
#include "highmem.h"
#include "os.h"
#include "page.h"

#define KMAP_LOCAL_REGIONS 1024	/* threads whose slots fork can unmap */

struct pkmap_slot {
	struct page *page;	/* what the window maps, or NULL */
	uint32_t count;		/* kmaps of it not yet undone */
};

static kmem_lock_t kmap_lock __fork_lock = KMEM_LOCK_INIT;
static struct pkmap_slot pkmap[LAST_PKMAP];
static uintptr_t pkmap_base __fork_data;		/* LAST_PKMAP pages of windows */
static unsigned int pkmap_hand;		/* a window search starts here */
static unsigned int nr_pkmap_used;	/* windows with count > 0 */
static unsigned int kmap_waiters;	/* kmaps waiting for a window */
static _Atomic uint32_t kmap_wake_seq;	/* futex word: a window is free */

/* The calling thread's local slots. */
struct kmap_local {
	uintptr_t base;			/* KM_MAX_IDX pages, or 0 */
	int depth;			/* slots in use: [0, depth) */
	int reg;			/* local_regions index + 1, or 0 */
	struct page *pages[KM_MAX_IDX];	/* what each slot maps */
};
static __thread struct kmap_local kmap_local
	__attribute__((tls_model("initial-exec")));
/* Every thread's slots, for the fork child to unmap. */
static _Atomic uintptr_t local_regions[KMAP_LOCAL_REGIONS];
static pthread_key_t local_key __read_mostly;		/* destructor unmaps the slots */
static bool local_key_ok __read_mostly;

static bool page_is_highmem(const struct page *page)
{
	return pagemap_zone_of(page_address(page)) == ZONE_HIGHMEM;
}

static void *window(unsigned int i)
{
	return (void *)(pkmap_base + ((uintptr_t)i << PAGE_SHIFT));
}

/* The window that maps page, or -1; kmap_lock held. */
static int pkmap_find(const struct page *page)
{
	uint32_t h = READ_ONCE(((struct page *)page)->kmap_hint);

	if (h && h <= LAST_PKMAP && pkmap[h - 1].page == page)
		return (int)h - 1;
	return -1;
}

/* A window with no kmap in force, or -1; kmap_lock held. */
static int pkmap_take(void)
{
	for (unsigned int n = 0; n < LAST_PKMAP; n++) {
		unsigned int i = (pkmap_hand + n) % LAST_PKMAP;

		if (pkmap[i].count == 0) {
			pkmap_hand = (i + 1) % LAST_PKMAP;
			return (int)i;
		}
	}
	return -1;
}

static __cold void *not_a_page(const char *fn, const struct page *page)
{
	kmem_report_error("%s(%p): not a struct page of kmem", fn,
			  (const void *)page);
	errno = EINVAL;
	return NULL;
}

KMEM_EXPORT void *kmem_kmap(struct page *page)
{
	int i, err = 0;

	kmem_init();
	if (!kmem_page_valid(page))
		return not_a_page("kmap", page);
	if (!page_is_highmem(page))
		return page_address(page);
	kmem_lock(&kmap_lock);
	for (;;) {
		uint32_t seq;

		i = pkmap_find(page);
		if (i >= 0) {
			if (pkmap[i].count++ == 0)
				nr_pkmap_used++;
			break;
		}
		if (!pkmap_base) {
			void *p = os_mmap(NULL,
					  (size_t)LAST_PKMAP << PAGE_SHIFT,
					  OS_PROT_NONE, false, &err);

			if (!p)
				goto fail;
			pkmap_base = (uintptr_t)p;
		}
		i = pkmap_take();
		if (i >= 0) {
			if (!os_mmap_file(window((unsigned int)i), PAGE_SIZE,
					  pagemap_highmem_fd(),
					  pagemap_highmem_offset(page), &err))
				goto fail;
			pkmap[i].page = page;
			pkmap[i].count = 1;
			nr_pkmap_used++;
			WRITE_ONCE(page->kmap_hint, (uint32_t)i + 1);
			break;
		}
		/* Every window is in use: wait for a kunmap. */
		seq = atomic_load_explicit(&kmap_wake_seq,
					   memory_order_relaxed);
		kmap_waiters++;
		kmem_unlock(&kmap_lock);
		os_futex_wait(&kmap_wake_seq, seq);
		kmem_lock(&kmap_lock);
		kmap_waiters--;
	}
	kmem_unlock(&kmap_lock);
	return window((unsigned int)i);
fail:
	kmem_unlock(&kmap_lock);
	errno = err;
	return NULL;
}

KMEM_EXPORT void kmem_kunmap(struct page *page)
{
	bool wake = false;
	int i;

	kmem_init();
	if (!kmem_page_valid(page)) {
		not_a_page("kunmap", page);
		return;
	}
	if (!page_is_highmem(page))
		return;
	kmem_lock(&kmap_lock);
	i = pkmap_find(page);
	if (i >= 0 && pkmap[i].count == 0)
		i = -1;		/* mapped once, but no kmap in force */
	if (i >= 0 && --pkmap[i].count == 0) {
		nr_pkmap_used--;
		if (kmap_waiters) {
			atomic_fetch_add_explicit(&kmap_wake_seq, 1,
						  memory_order_relaxed);
			wake = true;
		}
	}
	kmem_unlock(&kmap_lock);
	if (wake)
		os_futex_wake(&kmap_wake_seq, 1 << 30);
	if (i < 0)
		kmem_report_error("kunmap(%p): the page is not kmap'ed",
				  (void *)page);
}

KMEM_EXPORT void kmem_kmap_flush_unused(void)
{
	kmem_init();
	kmem_lock(&kmap_lock);
	for (unsigned int i = 0; pkmap_base && i < LAST_PKMAP; i++) {
		if (pkmap[i].page && pkmap[i].count == 0 &&
		    os_mmap_none(window(i), PAGE_SIZE) == 0)
			pkmap[i].page = NULL;
	}
	kmem_unlock(&kmap_lock);
}

KMEM_EXPORT void *kmem_page_address(const struct page *page)
{
	void *addr = NULL;
	int i;

	if (!kmem_page_valid(page))
		return NULL;
	if (!page_is_highmem(page))
		return page_address(page);
	kmem_lock(&kmap_lock);
	i = pkmap_find(page);
	if (i >= 0 && pkmap[i].count > 0)
		addr = window((unsigned int)i);
	kmem_unlock(&kmap_lock);
	return addr;
}

/* ---- local mappings ---- */

/* The calling thread's slots: a reservation of its own, registered for
 * fork and for the thread's exit.  A system call and atomics only. */
static bool kmap_local_setup(struct kmap_local *c)
{
	void *p = os_mmap(NULL, (size_t)KM_MAX_IDX << PAGE_SHIFT, OS_PROT_NONE,
			  false, NULL);

	if (!p)
		return false;
	for (int i = 0; i < KMAP_LOCAL_REGIONS; i++) {
		uintptr_t none = 0;

		if (atomic_compare_exchange_strong(&local_regions[i], &none,
						   (uintptr_t)p)) {
			c->reg = i + 1;
			break;
		}
	}
	c->base = (uintptr_t)p;
	if (local_key_ok)
		pthread_setspecific(local_key, p);
	return true;
}

KMEM_EXPORT void *kmem_kmap_local_page(struct page *page)
{
	struct kmap_local *c = &kmap_local;
	void *addr;
	int idx, err = 0;

	kmem_init();
	if (!kmem_page_valid(page))
		return not_a_page("kmap_local_page", page);
	if (!page_is_highmem(page))
		return page_address(page);
	if (!c->base && !kmap_local_setup(c)) {
		errno = ENOMEM;
		return NULL;
	}
	idx = c->depth;
	if (idx >= KM_MAX_IDX) {
		kmem_report_error("kmap_local_page(%p): more than %d local "
				  "mappings at once on this thread",
				  (void *)page, KM_MAX_IDX);
		errno = ENOMEM;
		return NULL;
	}
	/* The slot is ours before we touch it (a signal handler that comes
	 * now maps above it). */
	c->depth = idx + 1;
	atomic_signal_fence(memory_order_seq_cst);
	c->pages[idx] = page;
	addr = (void *)(c->base + ((uintptr_t)idx << PAGE_SHIFT));
	if (!os_mmap_file(addr, PAGE_SIZE, pagemap_highmem_fd(),
			  pagemap_highmem_offset(page), &err)) {
		c->pages[idx] = NULL;
		atomic_signal_fence(memory_order_seq_cst);
		c->depth = idx;
		errno = err;
		return NULL;
	}
	return addr;
}

KMEM_EXPORT void kmem_kunmap_local(const void *addr)
{
	struct kmap_local *c = &kmap_local;
	uintptr_t a = (uintptr_t)addr & PAGE_MASK;
	int idx;

	/* Not a slot of this thread: a page that was not high memory. */
	if (!c->base || a < c->base ||
	    a >= c->base + ((uintptr_t)KM_MAX_IDX << PAGE_SHIFT))
		return;
	idx = (int)((a - c->base) >> PAGE_SHIFT);
	if (idx != c->depth - 1) {
		kmem_report_error("kunmap_local(%p): not the last local "
				  "mapping of this thread (slot %d, %d in "
				  "use): undo them in the reverse order",
				  addr, idx, c->depth);
		return;
	}
	os_mmap_none((void *)a, PAGE_SIZE);
	c->pages[idx] = NULL;
	atomic_signal_fence(memory_order_seq_cst);
	c->depth = idx;
}

static void local_exit(void *arg)
{
	struct kmap_local *c = &kmap_local;

	(void)arg;
	if (!c->base)
		return;
	os_munmap((void *)c->base, (size_t)KM_MAX_IDX << PAGE_SHIFT);
	if (c->reg)
		atomic_store(&local_regions[c->reg - 1], 0);
	c->base = 0;
	c->reg = 0;
	c->depth = 0;
}

void highmem_stats(struct highmem_stats *st)
{
	kmem_lock(&kmap_lock);
	st->windows_used = nr_pkmap_used;
	st->windows_mapped = 0;
	for (unsigned int i = 0; pkmap_base && i < LAST_PKMAP; i++)
		st->windows_mapped += pkmap[i].page != NULL;
	st->waiters = kmap_waiters;
	kmem_unlock(&kmap_lock);
}

int highmem_init(void)
{
	if (pthread_key_create(&local_key, local_exit) == 0)
		local_key_ok = true;
	return 0;
}

void highmem_fork_prepare(void)
{
	kmem_fork_lock(&kmap_lock);
}

void highmem_fork_release(void)
{
	kmem_fork_unlock(&kmap_lock);
}

void highmem_fork_child(void)
{
	struct kmap_local *c = &kmap_local;
	int fd = pagemap_highmem_fd();

	/* No highmem zone, no window: nothing to map again (and nothing
	 * to write, a copy-on-write fault per page written, fork.c). */
	if (fd < 0 && !pkmap_base && !c->base)
		return;
	kmem_lock(&kmap_lock);
	if (kmap_waiters)
		kmap_waiters = 0;	/* they were other threads */
	for (unsigned int i = 0; pkmap_base && i < LAST_PKMAP; i++) {
		struct page *pg = pkmap[i].page;

		if (!pg)
			continue;
		if (pkmap[i].count == 0) {
			os_mmap_none(window(i), PAGE_SIZE);
			pkmap[i].page = NULL;
		} else if (!os_mmap_file(window(i), PAGE_SIZE, fd,
					 pagemap_highmem_offset(pg), NULL)) {
			kmem_panic("fork: cannot map kmap window %u again "
				   "in the child", i);
		}
	}
	kmem_unlock(&kmap_lock);
	for (int i = 0; i < KMAP_LOCAL_REGIONS; i++) {
		uintptr_t r = atomic_load(&local_regions[i]);

		if (r && r != c->base) {
			os_munmap((void *)r, (size_t)KM_MAX_IDX << PAGE_SHIFT);
			atomic_store(&local_regions[i], 0);
		}
	}
	for (int k = 0; c->base && k < c->depth; k++) {
		void *slot = (void *)(c->base + ((uintptr_t)k << PAGE_SHIFT));

		if (c->pages[k] &&
		    !os_mmap_file(slot, PAGE_SIZE, fd,
				  pagemap_highmem_offset(c->pages[k]), NULL))
			kmem_panic("fork: cannot map local slot %d again in "
				   "the child", k);
	}
}
