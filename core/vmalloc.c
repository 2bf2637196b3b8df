/* SPDX-License-Identifier: MIT */
/*
 * core/vmalloc.c - large areas, each with its own mapping.
 *
 * Layer: below slab/kmalloc, above buddy/page/os.  Owns the vmalloc areas
 * (struct vm_struct): their mapping, lookup, resizing and freeing, the
 * pool of vm_structs, vmap_lock, and the exported
 * kmem_vmalloc/vzalloc/vrealloc/vfree.  A freed area goes to the cache of
 * freed areas or the guard quarantine, vmalloc_cache.c's; a pointer that
 * is not a live area's start is reported by vmalloc_report.c (what the
 * three share: vmalloc_internal.h).  May call vmap_tree.c (the index of
 * areas by start address), buddy.c (__alloc_pages, for the pages that hold
 * vm_structs) and os.c; nothing above.
 *
 * Layout of an area (one reservation, VMAs in address order):
 *
 *   map_start                addr                addr+rw_len     map_end
 *   | guard (PROT_NONE) 4 KiB | RW: rw_len bytes | PROT_NONE: >= 4 KiB |
 *
 *   map_start + PAGE_SIZE == addr,  addr + rw_len + PAGE_SIZE <= map_end
 *
 * A fresh area costs two system calls: mmap of the whole reservation
 * PROT_NONE, then mprotect of the middle RW (mapping RW and protecting two
 * guards would be three).  The trailing PROT_NONE part is the guard page,
 * plus, for an area that has grown once through vrealloc, headroom for
 * the next growth: growing within the reservation is one mprotect, in
 * place.  Growth beyond it reserves a new region with headroom (the new
 * size again) and moves the pages there with mremap(MAYMOVE|FIXED): the
 * kernel moves page tables, nothing is copied.  The headroom is grown
 * RW by that mremap and then protected, so that it stays one VMA with the
 * area (see __vrealloc).  The old guard pieces are
 * then unmapped one by one, never the old range as a whole: between the
 * mremap and the munmap another thread's mmap may already sit in the hole
 * the pages left.  Shrinking a lot turns the tail PROT_NONE and purges it
 * (it becomes headroom); shrinking a little only lowers the size.
 *
 * Lookup without a global lock: vmap_tree.c indexes areas by the page
 * where they start (why a radix tree and not liburcu's hash table is
 * written there).  A slot holds the vm_struct of the area that STARTS at
 * that page (addr, not map_start).  Readers take no lock; writers of the
 * slots hold vmap_lock.
 *
 * vm_structs are type-stable: carved from buddy pages that are never
 * given back, recycled through vm_free_list.  A reader racing with a free
 * may see a stale vm_struct but never unmapped memory, and validates
 * READ_ONCE(vm->addr) == ptr && vm->state == VM_LIVE after the lookup.
 *
 * A freed area is cached, still mapped, for reuse by a request of about
 * its size (vmalloc_cache.c says how, and when it is unmapped); a cached
 * area keeps its radix slot, with state VM_CACHED, so a second vfree of
 * it is reported as a double free; areas already unmapped are remembered
 * in a small ring (recent_free) for the same message.
 *
 * vmalloc_covers() and the reports that name the area containing an
 * interior pointer (vmalloc_report.c) scan the live and cached lists
 * under vmap_lock: slow paths, O(areas).  Large areas are few (each is >=
 * the vmalloc threshold of kmalloc), so no ordered structure is kept for
 * them.
 *
 * Locks: vmap_lock (one, a leaf lock: nothing else is taken under it)
 * protects vmap_live, vm_free_list, the leaf slots, the recent-free ring
 * and the byte counters, and vmalloc_cache.c's vmap_cache and
 * vmap_quarantine.  No system call is made while it is held (but by the
 * quarantine, which says why): unmaps are collected and done after
 * unlocking, and pages for vm_structs or tree nodes are obtained before
 * locking.
 */
#include "vmalloc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buddy.h"
#include "fork.h"
#include "os.h"
#include "purge.h"
#include "thp.h"
#include "vmap_tree.h"

#define VM_GUARD PAGE_SIZE	/* bytes of each guard */
#define VM_REUSE_SLACK 4	/* reuse as is if rw_len <= need + need/4 */
#define VM_SPLIT_MIN (256UL << 10) /* a split leaves at least this much */
#define VM_ZERO_MEMSET_MAX (2UL << 20) /* reused + __GFP_ZERO: memset to here, purge above */
#define VM_SHRINK_MIN (256UL << 10) /* shrink the mapping if it saves this */

kmem_lock_t vmap_lock __fork_lock = KMEM_LOCK_INIT;
struct list_head vmap_live = LIST_HEAD_INIT(vmap_live);
static struct list_head vm_free_list = LIST_HEAD_INIT(vm_free_list);
static size_t nr_live;			/* live areas */
_Atomic size_t live_bytes;		/* their rw bytes (also changed by
					 * the owner of an area, unlocked) */
uintptr_t recent_free[VM_RECENT];	/* starts of unmapped areas */
static _Atomic(struct vm_struct *) vm_deferred;	/* VM_FREEING areas */
static unsigned int recent_pos;		/* next slot of recent_free */

/* System calls made here; atomic because they are made unlocked. */
static _Atomic size_t nr_mmap, nr_munmap, nr_mremap, nr_mprotect, nr_purge;

static inline void count(_Atomic size_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ---- system calls, counted ---- */

static void *vm_os_mmap(void *hint, size_t len, bool fixed)
{
	count(&nr_mmap);
	return os_mmap(hint, len, OS_PROT_NONE | OS_MAP_ACCOUNT, fixed, NULL);
}

void vm_os_munmap(void *addr, size_t len)
{
	if (!len)
		return;
	count(&nr_munmap);
	kmem_probe(vmalloc_unmap, addr, len);
	if (os_munmap(addr, len))
		kmem_pr_err("vmalloc: munmap(%p, %zu) failed", addr, len);
}

int vm_os_mprotect(void *addr, size_t len, int prot)
{
	count(&nr_mprotect);
	return os_mprotect(addr, len, prot);
}

int vm_os_purge(void *addr, size_t len)
{
	count(&nr_purge);
	return os_purge(addr, len);
}

void vm_unmap_ranges(const struct vm_range *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		vm_os_munmap(r[i].start, r[i].len);
}

/* ---- locking, and frees that could not wait ---- */

/* vmap_lock held: areas freed while it was taken go to the cache (the
 * bounds are enforced by the next vfree or purge pass). */
static void vm_drain_deferred_locked(void)
{
	struct vm_struct *vm = atomic_exchange_explicit(&vm_deferred, NULL,
							memory_order_acquire);
	uint64_t now = vm ? os_now_ms() : 0;

	while (vm) {
		struct vm_struct *next = vm->deferred_next;

		list_del(&vm->list);
		nr_live--;
		live_bytes -= vm->rw_len;
		if (vm->quarantine)
			vm_quarantine_locked(vm, now);
		else
			vm_cache_add_locked(vm, now);
		vm = next;
	}
}

/* Take vmap_lock on an allocation path (gfp) or a free path (0): gives up
 * rather than wait in a signal handler that interrupted its holder, or
 * while another thread forks (internal.h). */
bool vmap_lock_gfp(gfp_t gfp)
{
	if (!kmem_lock_gfp(&vmap_lock, gfp))
		return false;
	if (unlikely(atomic_load_explicit(&vm_deferred, memory_order_relaxed)))
		vm_drain_deferred_locked();
	return true;
}

void vmap_lock_wait(void)
{
	kmem_lock(&vmap_lock);
	if (unlikely(atomic_load_explicit(&vm_deferred, memory_order_relaxed)))
		vm_drain_deferred_locked();
}

/* ---- lookup ---- */

/* The live area starting at addr, or NULL; no lock.  (vm_lookup, the
 * slot's vm_struct in any state, is inline in vmalloc_internal.h.) */
static struct vm_struct *find_vm_area(const void *addr)
{
	struct vm_struct *vm = vm_lookup(addr);

	if (vm && READ_ONCE(vm->addr) == addr &&
	    atomic_load_explicit(&vm->state, memory_order_acquire) == VM_LIVE)
		return vm;
	return NULL;
}

/* An area about to be unmapped, off every list, leaves the index: lookups
 * no longer find it, and its start is remembered in recent_free for the
 * double-free message.  vmap_lock held. */
void vm_unindex_locked(const struct vm_struct *vm)
{
	atomic_store_explicit(vmap_tree_slot(vm->addr), NULL,
			      memory_order_release);
	recent_free[recent_pos++ % VM_RECENT] = (uintptr_t)vm->addr;
}

/* ---- vm_struct pool (type-stable) ---- */

/* Called with vmap_lock held. */
static struct vm_struct *vm_struct_get(void)
{
	struct vm_struct *vm;

	if (list_empty(&vm_free_list))
		return NULL;
	vm = list_first_entry(&vm_free_list, struct vm_struct, list);
	list_del(&vm->list);
	return vm;
}

/* Called with vmap_lock held. */
void vm_struct_put(struct vm_struct *vm)
{
	atomic_store_explicit(&vm->state, VM_FREE, memory_order_release);
	list_add(&vm->list, &vm_free_list);
}

/* Refill the pool with a page of vm_structs; called unlocked. */
static bool vm_struct_refill(void)
{
	struct page *page = __alloc_pages(__GFP_ZERO, 0);
	struct vm_struct *vm;
	size_t n = PAGE_SIZE / sizeof(*vm);

	if (!page)
		return false;
	vm = page_address(page);
	if (!vmap_lock_gfp(0)) {
		__free_pages_ok(page, 0);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		list_add(&vm[i].list, &vm_free_list);
	kmem_unlock(&vmap_lock);
	return true;
}

/* ---- allocation ---- */

/* Page-rounded size, or 0 on overflow (or size 0). */
static size_t vm_round(size_t size)
{
	if (size == 0 || size > SIZE_MAX - (PAGE_SIZE - 1))
		return 0;
	return ALIGN_UP(size, PAGE_SIZE);
}

/*
 * Map a fresh reservation of len RW bytes aligned to align with guards.
 * Returns the first usable byte and the reservation through *map_start,
 * *map_len; NULL if the address space is exhausted.
 */
static void *vm_map_fresh(size_t len, size_t align, void **map_start,
			  size_t *map_len)
{
	size_t span, extra = align > PAGE_SIZE ? align : 0;
	uintptr_t start, addr, end;
	void *p;

	if (len > SIZE_MAX - 2 * VM_GUARD - extra)
		return NULL;
	span = len + 2 * VM_GUARD + extra;
	p = vm_os_mmap(NULL, span, false);
	if (!p)
		return NULL;
	start = (uintptr_t)p;
	end = start + span;
	addr = ALIGN_UP(start + VM_GUARD, align);
	if (extra) {
		/* Trim the over-reservation down to guard + len + guard. */
		vm_os_munmap(p, addr - VM_GUARD - start);
		vm_os_munmap((void *)(addr + len + VM_GUARD),
			     end - (addr + len + VM_GUARD));
		start = addr - VM_GUARD;
		end = addr + len + VM_GUARD;
	}
	if ((end >> VA_BITS) || vm_os_mprotect((void *)addr, len, OS_PROT_RW)) {
		vm_os_munmap((void *)start, end - start);
		return NULL;
	}
	*map_start = (void *)start;
	*map_len = end - start;
	thp_area((void *)addr, len);
	kmem_probe(vmalloc_map, (void *)addr, len);
	return (void *)addr;
}

/*
 * Turn the RW part of a live area beyond len PROT_NONE (headroom, still in
 * the reservation; its pages are kept).  false if mprotect failed: the
 * area then simply stays larger.  Used when a cached area is reused for a
 * much smaller request (see top) and when vrealloc shrinks a lot.
 */
static bool vm_protect_tail(struct vm_struct *vm, size_t len)
{
	size_t excess = vm->rw_len - len;

	if (vm_os_mprotect((char *)vm->addr + len, excess, OS_PROT_NONE))
		return false;
	/* The area is its owner's: no lock for its own fields. */
	WRITE_ONCE(vm->rw_len, len);
	atomic_fetch_sub_explicit(&live_bytes, excess, memory_order_relaxed);
	return true;
}

/*
 * vm, just taken from the cache for len bytes, is much larger: cut it in
 * two.  vm keeps [addr, addr + len) and a trailing guard; two pages past
 * it turn PROT_NONE (that guard, and the front guard of the rest), and
 * the rest, still mapped and resident, becomes a cached area of its own:
 *
 *   | guard | vm: len | guard | guard | rest ................ | guard |
 *
 * One mprotect instead of a fresh mapping that the next request of that
 * size would fault in page by page.  false if it did not happen (too
 * small a rest, no vm_struct or tree node, a lock that cannot be waited
 * for): the caller then trims instead.
 */
static bool vm_split(struct vm_struct *vm, size_t len)
{
	uintptr_t a = (uintptr_t)vm->addr, rest = a + len + 2 * VM_GUARD;
	uintptr_t map_end = (uintptr_t)vm->map_start + vm->map_len;
	size_t rest_len;
	_Atomic(void *) *slot;
	struct vm_struct *rv;

	if (vm->rw_len < len + 2 * VM_GUARD + VM_SPLIT_MIN)
		return false;
	rest_len = a + vm->rw_len - rest;
	slot = vmap_tree_prepare((void *)rest);
	if (!slot || vm_os_mprotect((void *)(a + len), 2 * VM_GUARD,
				    OS_PROT_NONE))
		return false;
	if (!vmap_lock_gfp(0))
		goto undo;
	rv = vm_struct_get();
	if (!rv) {
		kmem_unlock(&vmap_lock);
		goto undo;
	}
	rv->size = rest_len;
	rv->rw_len = rest_len;
	rv->map_start = (void *)(a + len + VM_GUARD);
	rv->map_len = map_end - (a + len + VM_GUARD);
	rv->caller = NULL;
	WRITE_ONCE(rv->addr, (void *)rest);
	vm_cache_add_locked(rv, os_now_ms());
	atomic_store_explicit(slot, rv, memory_order_release);
	WRITE_ONCE(vm->rw_len, len);
	WRITE_ONCE(vm->map_len, a + len + VM_GUARD -
				(uintptr_t)vm->map_start);
	live_bytes -= rest_len + 2 * VM_GUARD;
	kmem_unlock(&vmap_lock);
	return true;
undo:
	vm_os_mprotect((void *)(a + len), 2 * VM_GUARD, OS_PROT_RW);
	return false;
}

static void *vmalloc_caller(size_t size, size_t align, gfp_t gfp,
			    const void *caller)
{
	struct vm_range r[VM_EVICT_MAX];
	_Atomic(void *) *slot;
	struct vm_struct *vm;
	void *map_start, *p;
	size_t len = vm_round(size), map_len;
	unsigned int n = 0;

	if (!len || !is_power_of_2(align) || align < PAGE_SIZE)
		return NULL;

	/* A cached area of about this size: no system call at all.  Areas
	 * cached for too long are dropped on the way. */
	if (READ_ONCE(nr_cached)) {
		uint64_t now = os_now_ms();

		if (!vmap_lock_gfp(gfp))
			return NULL;
		n = vm_cache_shrink_locked(r, 0, 0, now);
		vm = vm_cache_find_locked(len, align);
		if (vm) {
			list_del(&vm->list);
			nr_cached--;
			cached_bytes -= vm->rw_len;
			vm->size = len;
			vm->caller = caller;
			vm->quarantine = !!(gfp & __GFP_KMEM_QUARANTINE);
			list_add(&vm->list, &vmap_live);
			nr_live++;
			atomic_fetch_add_explicit(&live_bytes, vm->rw_len,
						  memory_order_relaxed);
			atomic_store_explicit(&vm->state, VM_LIVE,
					      memory_order_release);
			kmem_unlock(&vmap_lock);
			vm_unmap_ranges(r, n);
			p = vm->addr;
			if (vm->rw_len < len) {
				/* Smaller: grow it, its pages come along. */
				size_t had = vm->rw_len;

				p = __vrealloc(vm->addr, len);
				if (!p) {
					__vfree(vm->addr);
					goto fresh;
				}
				if (gfp & __GFP_ZERO)
					memset(p, 0, MIN(had, len));
				return p;
			}
			if (vm->rw_len - len > len / VM_REUSE_SLACK &&
			    !vm_split(vm, len))
				vm_protect_tail(vm, len);
			if (gfp & __GFP_ZERO) {
				if (len <= VM_ZERO_MEMSET_MAX) {
					memset(p, 0, len);
				} else if (vm_os_purge(p, len)) {
					memset(p, 0, len);
				}
			}
			return p;
		}
		kmem_unlock(&vmap_lock);
		vm_unmap_ranges(r, n);
	}
fresh:
	p = vm_map_fresh(len, align, &map_start, &map_len);
	if (!p && READ_ONCE(nr_cached) && !(gfp & __GFP_NOBLOCK) &&
	    !kmem_locks_held) {
		/* Refused (RLIMIT_AS, strict overcommit) while cached areas
		 * hold address space: unmap them and try once more, as the
		 * kernel purges its lazily freed areas before a vmalloc fails.
		 * A success leaves errno as the caller had it. */
		int saved = errno;

		vmalloc_trim();
		p = vm_map_fresh(len, align, &map_start, &map_len);
		if (p)
			errno = saved;
	}
	if (!p)
		return NULL;
	slot = vmap_tree_prepare(p);
	if (!slot)
		goto fail;
	for (;;) {
		if (!vmap_lock_gfp(gfp))
			goto fail;
		vm = vm_struct_get();
		if (vm)
			break;
		kmem_unlock(&vmap_lock);
		if (!vm_struct_refill())
			goto fail;
	}
	vm->size = len;
	vm->rw_len = len;
	vm->map_start = map_start;
	vm->map_len = map_len;
	vm->caller = caller;
	vm->freed_ms = 0;
	vm->quarantine = !!(gfp & __GFP_KMEM_QUARANTINE);
	WRITE_ONCE(vm->addr, p);
	atomic_store_explicit(&vm->state, VM_LIVE, memory_order_release);
	list_add(&vm->list, &vmap_live);
	nr_live++;
	live_bytes += len;
	atomic_store_explicit(slot, vm, memory_order_release);
	kmem_unlock(&vmap_lock);
	return p;
fail:
	vm_os_munmap(map_start, map_len);
	return NULL;
}

void *__vmalloc(size_t size, size_t align, gfp_t gfp)
{
	return vmalloc_caller(size, align, gfp,
			      __builtin_return_address(0));
}

void *__vmalloc_ip(size_t size, size_t align, gfp_t gfp, unsigned long ip)
{
	return vmalloc_caller(size, align, gfp,
			      ip ? (const void *)ip
				 : __builtin_return_address(0));
}

/* ---- freeing ---- */

void __vfree(const void *addr)
{
	struct vm_range r[VM_EVICT_MAX];
	struct vm_struct *vm;
	size_t limit = vm_cache_limit();
	uint64_t now;
	unsigned int n = 0;

	if (!addr)
		return;
	vm = find_vm_area(addr);
	if (unlikely(!vm)) {
		vmalloc_report_bad("vfree", addr);
		return;
	}
	if (unlikely(!vmap_lock_gfp(0))) {
		/* Cannot wait for vmap_lock: the next holder caches it. */
		int live = VM_LIVE;

		if (!atomic_compare_exchange_strong(&vm->state, &live,
						    VM_FREEING) ||
		    READ_ONCE(vm->addr) != addr) {
			vmalloc_report_bad("vfree", addr);
			return;
		}
		vm->deferred_next = atomic_load_explicit(&vm_deferred,
							 memory_order_relaxed);
		while (!atomic_compare_exchange_weak_explicit(
			&vm_deferred, &vm->deferred_next, vm,
			memory_order_release, memory_order_relaxed))
			;
		return;
	}
	now = os_now_ms();
	if (unlikely(vm->addr != addr ||
		     atomic_load_explicit(&vm->state, memory_order_relaxed) !=
			     VM_LIVE)) {
		/* Lost a race with another vfree of the same pointer. */
		kmem_unlock(&vmap_lock);
		vmalloc_report_bad("vfree", addr);
		return;
	}
	list_del(&vm->list);
	nr_live--;
	live_bytes -= vm->rw_len;
	if (vm->quarantine) {
		vm_quarantine_locked(vm, now);
	} else if (vm->rw_len <= limit) {
		n = vm_cache_shrink_locked(r, 0, vm->rw_len, now);
		vm_cache_add_locked(vm, now);
	} else {
		/* Too big to cache: unmap now. */
		vm_unindex_locked(vm);
		r[n].start = vm->map_start;
		r[n++].len = vm->map_len;
		vm_struct_put(vm);
		n = vm_cache_shrink_locked(r, n, 0, now);
	}
	kmem_unlock(&vmap_lock);
	vm_unmap_ranges(r, n);
}

/* ---- resizing ---- */

void *__vrealloc(void *addr, size_t new_size)
{
	struct vm_struct *vm = find_vm_area(addr);
	size_t len = vm_round(new_size), old_len, headroom, span;
	_Atomic(void *) *slot, *old_slot;
	uintptr_t a = (uintptr_t)addr, start, old_end;
	void *r, *p;

	if (unlikely(!vm)) {
		vmalloc_report_bad("vrealloc", addr);
		return NULL;
	}
	if (!len)
		return NULL;
	old_len = vm->rw_len;
	old_end = (uintptr_t)vm->map_start + vm->map_len;

	if (len <= old_len) {
		/* Shrink: give the tail back only if that saves enough. */
		if (old_len - len >= MAX(VM_SHRINK_MIN, old_len / 4) &&
		    vm_protect_tail(vm, len))
			vm_os_purge((char *)addr + len, old_len - len);
		WRITE_ONCE(vm->size, len);
		return addr;
	}

	/* Grow within the reservation: one mprotect, in place. */
	if (len <= old_end - a - VM_GUARD) {
		if (vm_os_mprotect((char *)addr + old_len, len - old_len,
				   OS_PROT_RW))
			return NULL;
		/* The area is its owner's: no lock for its own fields. */
		WRITE_ONCE(vm->rw_len, len);
		WRITE_ONCE(vm->size, len);
		live_bytes += len - old_len;
		return addr;
	}

	/*
	 * Move: reserve guard + len + headroom (len again, the next doubling)
	 * and let mremap move the pages there and grow them.
	 */
	headroom = len <= SIZE_MAX / 2 - 2 * VM_GUARD ? len : 0;
	if (len > SIZE_MAX - 2 * VM_GUARD - headroom)
		return NULL;
	span = VM_GUARD + len + headroom + VM_GUARD;
	r = vm_os_mmap(NULL, span, false);
	if (!r && headroom) {
		headroom = 0;
		span = VM_GUARD + len + VM_GUARD;
		r = vm_os_mmap(NULL, span, false);
	}
	if (!r)
		return NULL;
	start = (uintptr_t)r;
	if ((start + span) >> VA_BITS)
		goto fail;
	slot = vmap_tree_prepare((char *)r + VM_GUARD);
	if (!slot)
		goto fail;
	/*
	 * Move and grow to len + headroom as one VMA, then turn the headroom
	 * PROT_NONE.  Split off the same VMA, the headroom keeps its anon_vma
	 * and page offset, so a later mprotect back to RW merges into one
	 * VMA again: the next mremap move sees a single VMA.  (Headroom
	 * mapped fresh from the reservation would stay a VMA of its own,
	 * and mremap of a range over two VMAs fails with EFAULT.)
	 */
	count(&nr_mremap);
	p = os_mremap(addr, old_len, len + headroom, true,
		      (char *)r + VM_GUARD, NULL);
	if (!p)
		goto fail;
	if (headroom && vm_os_mprotect((char *)p + len, headroom,
				       OS_PROT_NONE)) {
		/* Cannot place the guard: keep the whole RW part usable
		 * up to the reservation's own trailing guard. */
		len += headroom;
	}
	/* The old front guard and tail: each unmapped alone (see top). */
	vm_os_munmap(vm->map_start, a - (uintptr_t)vm->map_start);
	vm_os_munmap((char *)addr + old_len, old_end - (a + old_len));

	/*
	 * The old pages left addr at the mremap: another area may already
	 * start there and own the slot, so clear it only if it is still
	 * ours (compare-and-swap: no lock).  The new slot is at an address
	 * only our own reservation covers.  The area's fields are its
	 * owner's; readers revalidate vm->addr after a lookup.
	 */
	old_slot = vmap_tree_slot(addr);
	{
		void *expected = vm;

		atomic_compare_exchange_strong_explicit(
			old_slot, &expected, NULL, memory_order_release,
			memory_order_relaxed);
	}
	WRITE_ONCE(vm->map_start, r);
	WRITE_ONCE(vm->map_len, span);
	WRITE_ONCE(vm->rw_len, len);
	WRITE_ONCE(vm->size, len);
	WRITE_ONCE(vm->addr, p);
	live_bytes += len - old_len;
	atomic_store_explicit(slot, vm, memory_order_release);
	return p;
fail:
	vm_os_munmap(r, span);
	return NULL;
}

/* ---- queries ---- */

bool is_vmalloc_addr(const void *addr)
{
	return find_vm_area(addr) != NULL;
}

size_t vmalloc_usable_size(const void *addr)
{
	struct vm_struct *vm = find_vm_area(addr);
	size_t len;

	if (!vm)
		return 0;
	len = READ_ONCE(vm->rw_len);
	/* Revalidate: the area may have been freed meanwhile. */
	return find_vm_area(addr) == vm ? len : 0;
}

bool vmalloc_covers(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, e = a + len;
	struct vm_struct *vm;
	bool hit = false;

	if (e < a)
		e = UINTPTR_MAX;
	if (!READ_ONCE(nr_live) && !READ_ONCE(nr_cached))
		return false;
	/* A signal handler that interrupted the lock's holder, or another
	 * thread forking: the lists cannot be read now; say no. */
	if (!vmap_lock_gfp(0))
		return false;
	list_for_each_entry(vm, &vmap_live, list)
		if (a < (uintptr_t)vm->map_start + vm->map_len &&
		    e > (uintptr_t)vm->map_start) {
			hit = true;
			goto out;
		}
	list_for_each_entry(vm, &vmap_cache, list)
		if (a < (uintptr_t)vm->map_start + vm->map_len &&
		    e > (uintptr_t)vm->map_start) {
			hit = true;
			goto out;
		}
out:
	kmem_unlock(&vmap_lock);
	return hit;
}

void vmalloc_get_stats(struct vmalloc_stats *st)
{
	kmem_lock(&vmap_lock);
	st->nr_areas = nr_live;
	st->bytes = live_bytes;
	st->cached_areas = nr_cached;
	st->cached_bytes = cached_bytes;
	kmem_unlock(&vmap_lock);
	st->nr_mmap = atomic_load_explicit(&nr_mmap, memory_order_relaxed) +
		      vmap_tree_nodes();
	st->nr_munmap = atomic_load_explicit(&nr_munmap, memory_order_relaxed);
	st->nr_mremap = atomic_load_explicit(&nr_mremap, memory_order_relaxed);
	st->nr_mprotect = atomic_load_explicit(&nr_mprotect,
					       memory_order_relaxed);
	st->nr_purge = atomic_load_explicit(&nr_purge, memory_order_relaxed);
}

long vmalloc_snapshot_try(struct vmalloc_stats *st,
			  struct vmalloc_area_info *areas, size_t max,
			  uint64_t spin_ns)
{
	struct vm_struct *vm;
	long n = 0;

	if (!kmem_lock_for(&vmap_lock, spin_ns))
		return -1;
	list_for_each_entry(vm, &vmap_live, list) {
		if ((size_t)n == max)
			break;
		areas[n].start = (uintptr_t)vm->map_start;
		areas[n].end = (uintptr_t)vm->map_start + vm->map_len;
		areas[n].caller = vm->caller;
		areas[n].pages = vm->rw_len >> PAGE_SHIFT;
		n++;
	}
	st->nr_areas = nr_live;
	st->bytes = live_bytes;
	st->cached_areas = nr_cached;
	st->cached_bytes = cached_bytes;
	kmem_unlock(&vmap_lock);
	st->nr_mmap = atomic_load_explicit(&nr_mmap, memory_order_relaxed) +
		      vmap_tree_nodes();
	st->nr_munmap = atomic_load_explicit(&nr_munmap, memory_order_relaxed);
	st->nr_mremap = atomic_load_explicit(&nr_mremap, memory_order_relaxed);
	st->nr_mprotect = atomic_load_explicit(&nr_mprotect,
					       memory_order_relaxed);
	st->nr_purge = atomic_load_explicit(&nr_purge, memory_order_relaxed);
	return n;
}

#define VM_PRINT_MAX 64	/* areas printed by vmalloc_print */

void vmalloc_print(FILE *out)
{
	struct vm_struct snap[VM_PRINT_MAX], *vm;
	size_t n = 0, more = 0, total;

	/* Snapshot under the lock, print after: stdio may allocate. */
	kmem_lock(&vmap_lock);
	list_for_each_entry(vm, &vmap_live, list) {
		if (n < VM_PRINT_MAX)
			snap[n++] = *vm;
		else
			more++;
	}
	total = nr_live;
	kmem_unlock(&vmap_lock);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "0x%016lx-0x%016lx %10zu %p pages=%zu vmalloc\n",
			(unsigned long)(uintptr_t)snap[i].map_start,
			(unsigned long)((uintptr_t)snap[i].map_start +
					snap[i].map_len),
			snap[i].map_len, snap[i].caller,
			snap[i].rw_len >> PAGE_SHIFT);
	if (more)
		fprintf(out, "... and %zu more areas (%zu live)\n", more, total);
	fflush(out);
}

int vmalloc_init(void)
{
	return 0;
}

void vmalloc_fork_prepare(void)
{
	kmem_fork_lock(&vmap_lock);
}

void vmalloc_fork_release(void)
{
	kmem_fork_unlock(&vmap_lock);
}

/* ---- the exported API ---- */

KMEM_EXPORT void *kmem_vmalloc(size_t size)
{
	void *p;

	kmem_init();
	p = vmalloc_caller(size, PAGE_SIZE, 0,
			   __builtin_return_address(0));
	if (!p)
		errno = ENOMEM;
	return p;
}

KMEM_EXPORT void *kmem_vzalloc(size_t size)
{
	void *p;

	kmem_init();
	p = vmalloc_caller(size, PAGE_SIZE, __GFP_ZERO,
			   __builtin_return_address(0));
	if (!p)
		errno = ENOMEM;
	return p;
}

KMEM_EXPORT void *kmem_vrealloc(void *p, size_t size)
{
	void *q;

	kmem_init();
	if (!p) {
		q = vmalloc_caller(size, PAGE_SIZE, 0,
				   __builtin_return_address(0));
	} else if (!size) {
		__vfree(p);
		return NULL;
	} else {
		q = __vrealloc(p, size);
	}
	if (!q)
		errno = ENOMEM;
	return q;
}

KMEM_EXPORT void kmem_vfree(const void *p)
{
	kmem_init();
	__vfree(p);
	purge_maybe_start();
}
