/* SPDX-License-Identifier: MIT */
/*
 * preload/mmap.c - the program's own mmap, munmap and mremap.
 *
 * Layer: preload/ (top).  May call os.h (the raw system calls), page.h
 * (kmem_addr_in_heap, section_map), vmalloc.h (vmalloc_covers) and the
 * counters of stats.h.  kmem itself never comes here: its mappings are
 * made by os.c with raw system calls.
 *
 * What it adds to the kernel's calls:
 *   - protection: a munmap, an mremap of an old range, an mremap to a
 *     fixed address, or an mmap with MAP_FIXED that overlaps kmem's heap
 *     sections, the section table or a vmalloc area (with its guard pages)
 *     fails with EINVAL and is not forwarded, so a stray call cannot tear
 *     a hole in the allocator's memory;
 *   - accounting: successful calls and bytes are counted (relaxed atomics)
 *     and appear in kmem_stats_print and KMEM_STATS=1 output.
 * Errors follow glibc: MAP_FAILED or -1 with errno set.
 *
 * Locks: none.  The overlap checks read section_map and vmalloc's areas
 * without locks; a range that kmem maps concurrently with the program's
 * call cannot overlap it (the kernel hands out each address once).
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>

#include "preload.h"

#include "os.h"
#include "page.h"
#include "stats.h"
#include "vmalloc.h"


/* True if [addr, addr + len) touches memory that kmem owns. */
static bool hits_kmem(const void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr, end, s;

	if (atomic_load_explicit(&kmem_init_state, memory_order_acquire) ==
	    KMEM_DOWN || len == 0)
		return false;
	if (__builtin_add_overflow(start, len, &end))
		end = UINTPTR_MAX;
	/* Heap sections: one section_map load per 64 MiB spanned. */
	for (s = start & ~SECTION_MASK; s < end; s += SECTION_SIZE) {
		if (kmem_addr_in_heap((void *)s))
			return true;
		if (s > UINTPTR_MAX - SECTION_SIZE ||
		    (s >> SECTION_SHIFT) >= NR_SECTIONS)
			break;
	}
	return vmalloc_covers(addr, end - start);
}

static void count(_Atomic size_t *v, size_t n)
{
	atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static __cold long refuse(void)
{
	count(&kmem_user_maps.nr_refused, 1);
	return -EINVAL;
}

static size_t page_round(size_t len)
{
	return (len + PAGE_SIZE - 1) & PAGE_MASK;
}

KMEM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	long r;

	if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE) &&
	    hits_kmem(addr, len))
		r = refuse();
	else
		r = os_raw_mmap(addr, len, prot, flags, fd, (long)off);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return MAP_FAILED;
	}
	count(&kmem_user_maps.nr_mmap, 1);
	count(&kmem_user_maps.bytes_mapped, page_round(len));
	return (void *)r;
}

/* glibc exports mmap64 as its own symbol (the same function on LP64). */
extern __typeof__(mmap) mmap64
	__attribute__((alias("mmap"), visibility("default")));

KMEM_EXPORT int munmap(void *addr, size_t len)
{
	long r;

	if (hits_kmem(addr, len))
		r = refuse();
	else
		r = os_raw_munmap(addr, len);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	count(&kmem_user_maps.nr_munmap, 1);
	count(&kmem_user_maps.bytes_unmapped, page_round(len));
	return 0;
}

KMEM_EXPORT void *mremap(void *old, size_t old_len, size_t new_len,
			 int flags, ...)
{
	void *new_addr = NULL;
	size_t ol = page_round(old_len), nl = page_round(new_len);
	long r;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	/* old_len 0 duplicates a shared mapping: it still reads old. */
	if (hits_kmem(old, old_len ? old_len : PAGE_SIZE) ||
	    ((flags & MREMAP_FIXED) && hits_kmem(new_addr, new_len)))
		r = refuse();
	else
		r = os_raw_mremap(old, old_len, new_len, flags, new_addr);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return MAP_FAILED;
	}
	count(&kmem_user_maps.nr_mremap, 1);
	if (nl > ol)
		count(&kmem_user_maps.bytes_mapped, nl - ol);
	else
		count(&kmem_user_maps.bytes_unmapped, ol - nl);
	return (void *)r;
}
