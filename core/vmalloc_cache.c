/* SPDX-License-Identifier: MIT */
/*
 * core/vmalloc_cache.c - freed vmalloc areas: the cache of areas kept
 * mapped for reuse, and the guard quarantine.
 *
 * Layer: part of vmalloc (below slab/kmalloc, above buddy/page/os), with
 * vmalloc.c, which maps, resizes and frees the areas and calls in here;
 * their shared state is in vmalloc_internal.h.  Owns vmap_cache and
 * vmap_quarantine and their counters, the eviction of cached areas (by
 * the bounds below, by age, all at once) and the exported purge pass and
 * trim.  The bounds (vm_cache_shrink_locked) and the search for an area
 * to reuse (vm_cache_find_locked), which every vmalloc and vfree runs,
 * are inline in vmalloc_internal.h.  Unmaps through vmalloc.c's counted
 * system calls; nothing above.
 *
 * Cache of freed areas: a freed area stays mapped (contents kept, not
 * purged: the malloc/free loop of one buffer then makes no system call)
 * on vmap_cache, newest first, bounded by kmem_opt(OPT_VMALLOC_CACHE)
 * bytes and VM_CACHE_MAX areas; the oldest is unmapped first.  Areas that
 * stayed cached longer than kmem_opt(OPT_PURGE_DELAY_MS) are unmapped on
 * the next vmalloc/vfree.  A request reuses the smallest cached area whose
 * RW size is at least the request (and that meets the alignment), else
 * the largest one of at least a quarter of it (VM_GROW_MIN), which
 * vmalloc_caller grows with mremap, its pages coming along.  Up to 5/4 of
 * the request the area keeps its size; above, vm_split cuts it in two
 * (the rest, still mapped and resident, is cached again), or where it
 * cannot, its tail is turned PROT_NONE (one mprotect, the guard again
 * right after the request) but keeps its pages: it is headroom, and the
 * vector that doubles from 512 KiB (the threshold) to 4 MiB, freed and
 * built again, grows back into its old pages with one mprotect per step,
 * no page fault and no copy.  Those pages stay resident until the area is
 * freed (never more than the cache held: they were resident there
 * already; a shrink by vrealloc purges them).  A
 * cached area keeps its radix slot, with state VM_CACHED, so a second
 * vfree of it is reported as a double free; areas already unmapped are
 * remembered in a small ring for the same message.  (The reuse itself,
 * the split or trim of the area taken, is vmalloc.c's vmalloc_caller.)
 *
 * The guard quarantine: a freed area of a sampled block or of one of
 * KMEM_DEBUG's large blocks (vm->quarantine) is made inaccessible instead
 * (a use after free faults, and vmalloc_report.c names the block), and
 * unmapped first in first out beyond VM_QUARANTINE_MAX areas or
 * VM_QUARANTINE_BYTES of address space.
 *
 * Locks: vmap_lock (vmalloc.c) protects everything here.  Evicted areas
 * are collected as vm_ranges and unmapped after unlocking; only
 * vm_quarantine_locked makes system calls under the lock (it says why).
 */
#include "vmalloc_internal.h"

#include "os.h"

struct list_head vmap_cache = LIST_HEAD_INIT(vmap_cache); /* newest first */
size_t nr_cached, cached_bytes;	/* cached areas, their rw bytes */
/* Freed areas of sampled blocks and of KMEM_DEBUG's large blocks: no
 * access (a use after free faults), oldest first, within the bounds
 * below; their pages are given back, so they cost address space only. */
struct list_head vmap_quarantine = LIST_HEAD_INIT(vmap_quarantine);
static size_t nr_quarantined, quarantined_bytes;
#define VM_QUARANTINE_MAX 256		/* areas */
#define VM_QUARANTINE_BYTES (1UL << 30)	/* of address space */

/* ---- the guard quarantine ---- */

/*
 * A freed quarantine area (off vmap_live) goes inaccessible onto
 * vmap_quarantine; the oldest beyond the bounds are unmapped.  vmap_lock
 * held across the system calls, so that no other thread unmaps the area
 * (and a new mapping takes its place) before it is protected: only
 * sampled and KMEM_DEBUG areas come here.
 */
void vm_quarantine_locked(struct vm_struct *vm, uint64_t now)
{
	vm_os_purge(vm->addr, vm->rw_len);
	vm_os_mprotect(vm->addr, vm->rw_len, OS_PROT_NONE);
	vm->freed_ms = now;
	atomic_store_explicit(&vm->state, VM_QUARANTINED, memory_order_release);
	list_add_tail(&vm->list, &vmap_quarantine);
	nr_quarantined++;
	quarantined_bytes += vm->map_len;
	while (nr_quarantined > VM_QUARANTINE_MAX ||
	       quarantined_bytes > VM_QUARANTINE_BYTES) {
		struct vm_struct *old = list_first_entry(&vmap_quarantine,
							 struct vm_struct, list);

		list_del(&old->list);
		nr_quarantined--;
		quarantined_bytes -= old->map_len;
		vm_unindex_locked(old);
		vm_os_munmap(old->map_start, old->map_len);
		vm_struct_put(old);
	}
}

/* ---- the cache of freed areas ---- */

/* Unlink a cached area for unmapping; vmap_lock held. */
void vm_evict_locked(struct vm_struct *vm, struct vm_range *out)
{
	list_del(&vm->list);
	nr_cached--;
	cached_bytes -= vm->rw_len;
	vm_unindex_locked(vm);
	out->start = vm->map_start;
	out->len = vm->map_len;
	vm_struct_put(vm);
}

/* ---- trim and the purge by age ---- */

size_t vmalloc_trim(void)
{
	struct vm_range r[VM_EVICT_MAX];
	size_t freed = 0;
	unsigned int n;

	do {
		n = 0;
		vmap_lock_wait();
		while (!list_empty(&vmap_cache) && n < VM_EVICT_MAX) {
			struct vm_struct *vm = list_entry(vmap_cache.prev,
							  struct vm_struct,
							  list);
			freed += vm->rw_len;
			vm_evict_locked(vm, &r[n++]);
		}
		kmem_unlock(&vmap_lock);
		vm_unmap_ranges(r, n);
	} while (n);
	return freed;
}

uint64_t vmalloc_purge_expired(uint64_t now, bool safe)
{
	uint64_t delay = (uint64_t)kmem_opt(OPT_PURGE_DELAY_MS);
	uint64_t next = UINT64_MAX;
	struct vm_range r[VM_EVICT_MAX];
	unsigned int n;

	if (!READ_ONCE(nr_cached))
		return UINT64_MAX;
	do {
		if (safe) {
			if (!vmap_lock_gfp(0))
				return now + delay;
		} else {
			vmap_lock_wait();
		}
		n = vm_cache_shrink_locked(r, 0, 0, now);
		next = UINT64_MAX;
		if (!list_empty(&vmap_cache))
			next = list_entry(vmap_cache.prev, struct vm_struct,
					  list)->freed_ms + delay;
		kmem_unlock(&vmap_lock);
		vm_unmap_ranges(r, n);
	} while (n == VM_EVICT_MAX);
	return next;
}
