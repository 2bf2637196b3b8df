/* SPDX-License-Identifier: MIT */
/*
 * core/vmalloc_report.c - what is said about a pointer that is not the
 * start of a live vmalloc area, and about a fault in an area's guard
 * page or in a quarantined area.
 *
 * Layer: part of vmalloc, with vmalloc.c and vmalloc_cache.c, whose areas,
 * lists and ring of unmapped starts it reads (vmalloc_internal.h); called
 * by vmalloc.c and kmalloc.c (vmalloc_report_bad) and by fault.c
 * (vmalloc_handle_fault).  Slow paths: the area that starts at a pointer
 * is found without a lock, as lookups are; one that merely contains it is
 * searched for in the live, cached and quarantined lists under vmap_lock
 * (O(areas): vmalloc.c says why no ordered structure is kept), and the
 * report is printed from a copy of it after the lock is dropped.
 */
#include "vmalloc_internal.h"

#include <string.h>

#include "stacktrace.h"

/* Scan live and cached areas for one whose reservation holds addr;
 * copies it to *out.  vmap_lock held. */
static bool vm_containing_locked(uintptr_t addr, struct vm_struct *out,
				 bool *cached)
{
	struct vm_struct *vm;

	list_for_each_entry(vm, &vmap_live, list)
		if (addr >= (uintptr_t)vm->map_start &&
		    addr < (uintptr_t)vm->map_start + vm->map_len) {
			*out = *vm;
			*cached = false;
			return true;
		}
	list_for_each_entry(vm, &vmap_cache, list)
		if (addr >= (uintptr_t)vm->map_start &&
		    addr < (uintptr_t)vm->map_start + vm->map_len) {
			*out = *vm;
			*cached = true;
			return true;
		}
	list_for_each_entry(vm, &vmap_quarantine, list)
		if (addr >= (uintptr_t)vm->map_start &&
		    addr < (uintptr_t)vm->map_start + vm->map_len) {
			*out = *vm;
			*cached = true;
			return true;
		}
	return false;
}

void vmalloc_report_bad(const char *fn, const void *ptr)
{
	size_t fl = strlen(fn);
	/* free, kfree, vfree, free_sized...: a second free; else a use. */
	bool is_free = (fl >= 4 && !strcmp(fn + fl - 4, "free")) ||
		       !strncmp(fn, "free", 4);
	uintptr_t a = (uintptr_t)ptr;
	struct vm_struct area;
	bool cached = false, found, recent = false;
	struct vm_struct *vm;

	/* The area that starts at ptr, freed: lock-free, as lookups are. */
	vm = vm_lookup(ptr);
	found = vm && READ_ONCE(vm->addr) == ptr;
	if (found) {
		int st = atomic_load_explicit(&vm->state, memory_order_acquire);

		found = st == VM_CACHED || st == VM_FREEING ||
			st == VM_QUARANTINED;
		area = *vm;
		cached = true;
	}
	if (!found && vmap_lock_gfp(0)) {
		found = vm_containing_locked(a, &area, &cached);
		for (unsigned int i = 0; !found && i < VM_RECENT; i++)
			if (a && recent_free[i] == a)
				recent = true;
		kmem_unlock(&vmap_lock);
	}

	if (found && (uintptr_t)area.addr == a)
		kmem_report_error("%s(%p): %s of the area %p-%p "
				  "(size %zu), already freed", fn, ptr,
				  is_free ? "double free" : "use after free",
				  area.addr,
				  (char *)area.addr + area.rw_len,
				  area.rw_len);
	else if (found && a >= (uintptr_t)area.addr)
		kmem_report_error("%s(%p): pointer is 0x%zx bytes inside the "
				  "%sarea %p-%p (size %zu)", fn, ptr,
				  (size_t)(a - (uintptr_t)area.addr),
				  cached ? "freed " : "", area.addr,
				  (char *)area.addr + area.rw_len,
				  area.rw_len);
	else if (found)
		kmem_report_error("%s(%p): pointer is in the guard page before "
				  "the %sarea %p-%p (size %zu)", fn, ptr,
				  cached ? "freed " : "", area.addr,
				  (char *)area.addr + area.rw_len,
				  area.rw_len);
	else if (recent)
		kmem_report_error("%s(%p): %s: the area at %p was already "
				  "freed and unmapped", fn, ptr,
				  is_free ? "double free" : "use after free",
				  ptr);
	else
		kmem_report_error("%s(): %p: pointer was never allocated by "
				  "kmem", fn, ptr);
}

bool vmalloc_handle_fault(uintptr_t addr, bool write)
{
	struct vm_struct area;
	bool cached = false, found;
	char sym[256];

	if (!kmem_lock_for(&vmap_lock, 50 * 1000 * 1000))
		return false;
	found = vm_containing_locked(addr, &area, &cached);
	kmem_unlock(&vmap_lock);
	if (!found)
		return false;
	if (addr < (uintptr_t)area.addr)
		kmem_report_begin("%s of %p: underflow, %zu bytes before the "
				  "%sblock %p-%p (%zu bytes), in its guard page",
				  write ? "write" : "read", (void *)addr,
				  (size_t)((uintptr_t)area.addr - addr),
				  cached ? "freed " : "", area.addr,
				  (char *)area.addr + area.rw_len, area.size);
	else if (addr >= (uintptr_t)area.addr + area.rw_len)
		kmem_report_begin("%s of %p: overflow, %zu bytes past the end "
				  "of the %sblock %p-%p (%zu bytes), in its "
				  "guard page", write ? "write" : "read",
				  (void *)addr,
				  (size_t)(addr - ((uintptr_t)area.addr +
						   area.rw_len)),
				  cached ? "freed " : "", area.addr,
				  (char *)area.addr + area.rw_len, area.size);
	else if (atomic_load_explicit(&area.state, memory_order_relaxed) ==
		 VM_QUARANTINED)
		kmem_report_begin("use after free: %s of %p, %zu bytes into the "
				  "freed block %p-%p (%zu bytes)",
				  write ? "write" : "read", (void *)addr,
				  (size_t)(addr - (uintptr_t)area.addr),
				  area.addr, (char *)area.addr + area.rw_len,
				  area.size);
	else
		return false;	/* a fault inside the block is not ours */
	kmem_stack_symbolize(sym, sizeof(sym), (unsigned long)area.caller);
	kmem_pr_err("  the block was allocated at %s", sym);
	return true;
}
