/* SPDX-License-Identifier: MIT */
/*
 * core/vmalloc.h - large areas with their own mapping: contract of vmalloc.c
 * (with vmalloc_cache.c: vmalloc_trim, vmalloc_purge_expired; with
 * vmalloc_report.c: vmalloc_report_bad, vmalloc_handle_fault).
 *
 * Each area is its own mmap with a PROT_NONE guard page after it (and one
 * before), as the kernel's vmalloc areas are.  Areas live outside the
 * buddy allocator's sections, so kmem_addr_in_heap() is false for them;
 * find_vm_area() answers for them without taking a global lock.
 */
#ifndef KMEM_VMALLOC_H
#define KMEM_VMALLOC_H

#include "internal.h"

/*
 * Map an area of at least size bytes whose start is aligned to align (a
 * power of two, at least PAGE_SIZE).  __GFP_ZERO: the area reads as zero
 * (fresh mappings always do; a reused cached area is cleared).  Returns
 * NULL with errno unchanged on failure; the caller sets ENOMEM.
 */
void *__vmalloc(size_t size, size_t align, gfp_t gfp) __hidden;
/* The same, recording ip (the program's call site) as the caller. */
void *__vmalloc_ip(size_t size, size_t align, gfp_t gfp,
		   unsigned long ip) __hidden;
/* Free an area by its start address; reports and aborts on a pointer that
 * is not the start of a live area. */
void __vfree(const void *addr) __hidden;
/*
 * Resize an area to new_size, growing in place or moving the pages with
 * mremap (never copying).  Returns the (possibly new) address or NULL,
 * leaving the old area intact.
 */
void *__vrealloc(void *addr, size_t new_size) __hidden;
/* True if addr is the start of a live area. */
bool is_vmalloc_addr(const void *addr) __hidden;
/* Report fn(ptr) of a pointer that is not the start of a live area: a
 * double free, an interior or guard-page pointer, or a stranger. */
void vmalloc_report_bad(const char *fn, const void *ptr) __hidden __cold;
/* A fault at addr in the guard page of an area: print the first lines of
 * the report (kmem_report_begin) and return true; else false.  From the
 * SIGSEGV handler: waits for vmap_lock a bounded time only. */
bool vmalloc_handle_fault(uintptr_t addr, bool write) __hidden __cold;
/* True if addr lies anywhere inside a live area or its guard pages. */
bool vmalloc_covers(const void *addr, size_t len) __hidden;
/* Bytes usable at addr (the mapping's size); 0 if not a live area start. */
size_t vmalloc_usable_size(const void *addr) __hidden;

struct vmalloc_stats {
	size_t nr_areas;	/* live areas */
	size_t bytes;		/* usable bytes in live areas */
	size_t cached_areas;	/* freed areas kept for reuse */
	size_t cached_bytes;
	size_t nr_mmap;		/* mmap calls made so far */
	size_t nr_munmap;	/* munmap calls made so far */
	size_t nr_mremap;	/* mremap calls made so far */
	size_t nr_mprotect;	/* mprotect calls made so far */
	size_t nr_purge;	/* madvise(MADV_DONTNEED) calls made so far */
};
void vmalloc_get_stats(struct vmalloc_stats *st) __hidden;

/* One live area as vmalloc_print shows it. */
struct vmalloc_area_info {
	uintptr_t start, end;	/* the reservation, guard pages included */
	const void *caller;	/* return address of the allocating call */
	size_t pages;		/* pages mapped RW */
};
/*
 * For the statistics signal handler (stats_live.c): vmalloc_get_stats and
 * the first max live areas (those vmalloc_print shows), with vmap_lock
 * only tried for spin_ns.  Returns the number of areas copied, or -1 if
 * the lock stayed busy (then nothing is filled).
 */
long vmalloc_snapshot_try(struct vmalloc_stats *st,
			  struct vmalloc_area_info *areas, size_t max,
			  uint64_t spin_ns) __hidden;
/* Print live areas in the style of /proc/vmallocinfo (bounded). */
void vmalloc_print(FILE *out) __hidden;
/* Unmap every cached area now. */
size_t vmalloc_trim(void) __hidden;

/* Purge pass: unmap cached areas older than KMEM_PURGE_DELAY_MS; returns
 * when the next one will be due (os_now_ms() time), UINT64_MAX if none.
 * safe: on an allocation path (the lock gives up rather than waits). */
uint64_t vmalloc_purge_expired(uint64_t now, bool safe) __hidden;

int vmalloc_init(void) __hidden;
void vmalloc_fork_prepare(void) __hidden;
void vmalloc_fork_release(void) __hidden;

#endif /* KMEM_VMALLOC_H */
