/* SPDX-License-Identifier: MIT */
/*
 * core/vmalloc_internal.h - the private contract of the vmalloc files:
 * vmalloc.c (mapping, lookup, resizing and freeing of areas, the
 * vm_struct pool, vmap_lock), vmalloc_cache.c (the cache of freed areas,
 * the guard quarantine) and vmalloc_report.c (bad pointers, guard-page
 * faults).  struct vm_struct and its states, the lists and counters they
 * share under vmap_lock, and the helpers each calls in another; the
 * small ones that the vfree and vmalloc paths call are inline here, as
 * they were when the files were one.  Nothing outside these three files
 * includes it: the other layers use vmalloc.h.
 */
#ifndef KMEM_VMALLOC_INTERNAL_H
#define KMEM_VMALLOC_INTERNAL_H

#include "options.h"
#include "purge.h"
#include "vmalloc.h"
#include "vmap_tree.h"

#define VM_CACHE_MAX 32		/* freed areas kept at most */
#define VM_GROW_MIN 4		/* grow a smaller one if it is >= need/4 */
#define VM_RECENT 32		/* unmapped area starts remembered */
#define VM_EVICT_MAX (VM_CACHE_MAX + 2) /* ranges unmapped per call */

enum vm_state {
	VM_FREE,	/* on vm_free_list, describes nothing */
	VM_LIVE,	/* handed out */
	VM_CACHED,	/* freed, still mapped, on vmap_cache */
	VM_FREEING,	/* freed by a context that could not take vmap_lock,
			 * on vm_deferred until the next holder caches it */
	VM_QUARANTINED,	/* freed, kept inaccessible on vmap_quarantine */
};

struct vm_struct {
	void *addr;		/* first usable byte (page aligned) */
	size_t size;		/* bytes asked for, rounded to pages */
	size_t rw_len;		/* bytes mapped RW from addr (>= size) */
	void *map_start;	/* start of the reservation (front guard) */
	size_t map_len;		/* length of the reservation */
	const void *caller;	/* return address of the allocating call */
	uint64_t freed_ms;	/* os_now_ms() when it entered the cache */
	struct list_head list;	/* on vmap_live, vmap_cache or vm_free_list */
	struct vm_struct *deferred_next; /* on vm_deferred (VM_FREEING) */
	_Atomic int state;	/* enum vm_state */
	bool quarantine;	/* freed: to vmap_quarantine, not the cache */
};

/* A range to unmap after dropping vmap_lock. */
struct vm_range {
	void *start;		/* page aligned */
	size_t len;		/* bytes */
};

/* ---- vmalloc.c: the areas, the lock, the system calls ---- */

extern kmem_lock_t vmap_lock __hidden;
extern struct list_head vmap_live __hidden;
extern _Atomic size_t live_bytes __hidden; /* rw bytes of live areas (also
					     * changed by the owner of an
					     * area, unlocked) */
extern uintptr_t recent_free[VM_RECENT] __hidden; /* starts of unmapped areas */

/* Take vmap_lock (see vmalloc.c), handing the frees deferred meanwhile to
 * the cache or the quarantine. */
bool vmap_lock_gfp(gfp_t gfp) __hidden;
void vmap_lock_wait(void) __hidden;

/* The vm_struct whose area starts at addr, in any state; no lock. */
static inline struct vm_struct *vm_lookup(const void *addr)
{
	_Atomic(void *) *slot;

	if (unlikely(!IS_ALIGNED((uintptr_t)addr, PAGE_SIZE)))
		return NULL;
	slot = vmap_tree_slot(addr);
	return slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
}

/* An area about to be unmapped, off every list, leaves the index: vmap_lock
 * held. */
void vm_unindex_locked(const struct vm_struct *vm) __hidden;
/* Back to the pool; vmap_lock held. */
void vm_struct_put(struct vm_struct *vm) __hidden;

/* System calls, counted for vmalloc_get_stats. */
void vm_os_munmap(void *addr, size_t len) __hidden;
int vm_os_mprotect(void *addr, size_t len, int prot) __hidden;
int vm_os_purge(void *addr, size_t len) __hidden;
void vm_unmap_ranges(const struct vm_range *r, unsigned int n) __hidden;

/*
 * ---- vmalloc_cache.c: freed areas ----
 * The bounds of the cache and the search in it are inline: vmalloc_caller
 * and __vfree run them under vmap_lock at every call, and out of line
 * they cost a call and a frame each time (+0.8% of the instructions of a
 * program of vmalloc-sized blocks, under callgrind).
 */

extern struct list_head vmap_cache __hidden;	  /* newest first */
extern struct list_head vmap_quarantine __hidden; /* oldest first */
extern size_t nr_cached __hidden;	/* cached areas */
extern size_t cached_bytes __hidden;	/* their rw bytes */

/* Move a freed area (already off vmap_live) into the cache; vmap_lock
 * held.  The purge thread is told: it unmaps the area once it is
 * KMEM_PURGE_DELAY_MS old, also in a program that allocates nothing more
 * (without the kick a program that freed its large blocks and went idle
 * kept them mapped, and resident, for as long as it ran). */
static inline void vm_cache_add_locked(struct vm_struct *vm, uint64_t now)
{
	vm->freed_ms = now;
	atomic_store_explicit(&vm->state, VM_CACHED, memory_order_release);
	list_add(&vm->list, &vmap_cache);
	nr_cached++;
	cached_bytes += vm->rw_len;
	purge_kick();
}

/*
 * Bytes of freed areas the cache may hold: KMEM_VMALLOC_CACHE, or half of
 * the bytes in live areas when that is more, so that a program with
 * hundreds of MiB in large blocks reuses them the way glibc reuses its
 * heap, instead of unmapping and faulting them in again.  What the cache
 * holds goes back anyway once it is KMEM_PURGE_DELAY_MS old.
 */
static inline size_t vm_cache_limit(void)
{
	size_t opt = (size_t)kmem_opt(OPT_VMALLOC_CACHE);
	size_t half = atomic_load_explicit(&live_bytes, memory_order_relaxed) / 2;

	return MAX(opt, half);
}

/* Unlink a cached area for unmapping; vmap_lock held. */
void vm_evict_locked(struct vm_struct *vm, struct vm_range *out) __hidden;

/*
 * Evict areas beyond the bounds (count, bytes, age) into out; vmap_lock
 * held.  extra: bytes about to be added.  Returns the number of ranges.
 */
static inline unsigned int vm_cache_shrink_locked(struct vm_range *out,
						  unsigned int n, size_t extra,
						  uint64_t now)
{
	size_t limit = vm_cache_limit();
	uint64_t delay = (uint64_t)kmem_opt(OPT_PURGE_DELAY_MS);
	struct vm_struct *old;

	while (!list_empty(&vmap_cache) && n < VM_EVICT_MAX) {
		old = list_entry(vmap_cache.prev, struct vm_struct, list);
		if (nr_cached + (extra ? 1 : 0) <= VM_CACHE_MAX &&
		    cached_bytes + extra <= limit && now - old->freed_ms < delay)
			break;
		vm_evict_locked(old, &out[n++]);
	}
	return n;
}

/*
 * A cached area for need bytes: the smallest that is large enough (it is
 * split, or trimmed, by the caller); else, for page alignment, the largest
 * that is at least need / VM_GROW_MIN, which the caller grows with mremap
 * (its pages come along, resident, and only the rest is faulted in).
 * vmap_lock held.
 */
static inline struct vm_struct *vm_cache_find_locked(size_t need,
						     size_t align)
{
	struct vm_struct *vm, *best = NULL, *grow = NULL;

	list_for_each_entry(vm, &vmap_cache, list) {
		if (!IS_ALIGNED((uintptr_t)vm->addr, align))
			continue;
		if (vm->rw_len < need) {
			if (align <= PAGE_SIZE &&
			    vm->rw_len >= need / VM_GROW_MIN &&
			    (!grow || vm->rw_len > grow->rw_len))
				grow = vm;
			continue;
		}
		if (!best || vm->rw_len < best->rw_len)
			best = vm;
		if (vm->rw_len == need)
			break;
	}
	return best ? best : grow;
}

/* A freed area with vm->quarantine (off vmap_live) goes inaccessible onto
 * vmap_quarantine; vmap_lock held. */
void vm_quarantine_locked(struct vm_struct *vm, uint64_t now) __hidden;

#endif /* KMEM_VMALLOC_INTERNAL_H */
