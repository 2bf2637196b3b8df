/* SPDX-License-Identifier: MIT */
/*
 * kmem.h - the public API of kmem, the Linux kernel's memory-management
 * design in user space.
 *
 *   #include <kmem.h>        cc prog.c -Ibuild/include -Lbuild -lkmem
 *
 * The shared object exports only the malloc family, mmap/munmap/mremap and
 * the kmem_-prefixed functions declared here.  The kernel's spellings
 * (alloc_pages, kmalloc, kmem_cache_alloc, vmalloc, ...) are static inline
 * wrappers below, so a program that has its own function of one of those
 * names keeps it; define KMEM_NO_KERNEL_NAMES before including this header
 * to leave them out altogether.
 *
 * Errors follow the kernel: allocation functions return NULL (or 0) on
 * failure and set errno to ENOMEM; detected misuse (a free of memory kmem
 * never handed out, a wrong order, a double free) is reported on stderr
 * naming the address and aborts the process, unless KMEM_ABORT=0.
 */
#ifndef KMEM_H
#define KMEM_H

#include <stddef.h>
#include <stdio.h>

/* The kernel spellings below are always inlined, even at -O0, so that
 * the call site kmem records (KMEM_DEBUG=U, leak reports) is the
 * caller's own line, not the wrapper. */
#define KMEM_INLINE static inline __attribute__((always_inline))

#ifdef __cplusplus
extern "C" {
#endif

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
/* Largest buddy order: blocks of PAGE_SIZE << 0 .. PAGE_SIZE << MAX_ORDER. */
#define MAX_ORDER 10
#define NR_PAGE_ORDERS (MAX_ORDER + 1)

/* ---- gfp_t: how an allocation may behave ---- */
typedef unsigned int gfp_t;

#define __GFP_DMA 0x01u	   /* ZONE_DMA: locked (mlock'ed) memory */
#define __GFP_HIGHMEM 0x02u  /* ZONE_HIGHMEM (not implemented: NULL) */
#define __GFP_DMA32 0x04u	   /* ZONE_DMA32: addresses below 4 GiB */
#define __GFP_HIGH 0x20u	   /* may dip into the reserve below min */
#define __GFP_NOWARN 0x200u  /* no message on failure */
#define __GFP_ZERO 0x100u	   /* return zeroed memory */
/* Never wait for a lock: trylocks, then kmem's atomic reserve, else NULL.
 * Async-signal-safe: usable from a signal handler that interrupted kmem
 * anywhere, as the kernel's GFP_ATOMIC is usable in interrupt context. */
#define __GFP_NOBLOCK 0x400u

#define GFP_KERNEL 0u
/* May also dip into the zones' reserve below their min watermark. */
#define GFP_ATOMIC (__GFP_HIGH | __GFP_NOBLOCK)
#define GFP_NOWAIT (__GFP_NOBLOCK)
#define GFP_DMA (__GFP_DMA)
#define GFP_DMA32 (__GFP_DMA32)
#define GFP_HIGHUSER (__GFP_HIGHMEM)

/* ---- the page allocator (buddy.c) ---- */
struct page;

struct page *kmem_alloc_pages(gfp_t gfp, unsigned int order);
/* __free_pages(): free a block by its struct page. */
void kmem_free_pages(struct page *page, unsigned int order);
unsigned long kmem_get_free_pages(gfp_t gfp, unsigned int order);
unsigned long kmem_get_zeroed_page(gfp_t gfp);
/* free_pages(): free a block by its address. */
void kmem_free_pages_addr(unsigned long addr, unsigned int order);
void *kmem_page_address(const struct page *page);
struct page *kmem_virt_to_page(const void *addr);
/* Free-block counts per order, in the format of /proc/buddyinfo. */
void kmem_buddyinfo(FILE *out);

/* ---- object caches (slab.c) ---- */
typedef unsigned int slab_flags_t;

#define SLAB_CONSISTENCY_CHECKS 0x00000100u /* F: check every free */
#define SLAB_RED_ZONE 0x00000400u	     /* Z: guard bytes around objects */
#define SLAB_POISON 0x00000800u	     /* P: poison free objects */
#define SLAB_HWCACHE_ALIGN 0x00002000u      /* align objects to cache lines */
#define SLAB_CACHE_DMA 0x00004000u	     /* objects from ZONE_DMA */
#define SLAB_CACHE_DMA32 0x00008000u	     /* objects from ZONE_DMA32 */
#define SLAB_STORE_USER 0x00010000u	     /* U: record alloc/free callers */
#define SLAB_PANIC 0x00040000u	     /* abort if creation or alloc fails */

struct kmem_cache;

struct kmem_cache *kmem_cache_create(const char *name, size_t size,
				     size_t align, slab_flags_t flags,
				     void (*ctor)(void *));
void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *cache, void *obj);
void kmem_cache_destroy(struct kmem_cache *cache);
/* Give empty slabs back to the page allocator; returns 0. */
int kmem_cache_shrink(struct kmem_cache *cache);
/* Check every slab of cache: the free list, and for debug caches the red
 * zones of live objects and the poison of free ones.  Each problem is
 * reported (and aborts unless KMEM_ABORT=0); returns how many were found. */
int kmem_cache_validate(struct kmem_cache *cache);
/* Object size as the cache hands it out (usable bytes). */
size_t kmem_cache_size(struct kmem_cache *cache);
const char *kmem_cache_name(struct kmem_cache *cache);
/* Every cache in the format of /proc/slabinfo version 2.1. */
void kmem_slabinfo(FILE *out);

/* ---- general-purpose allocation (kmalloc.c) ---- */
void *kmem_kmalloc(size_t size, gfp_t gfp);
void *kmem_kmalloc_aligned(size_t size, size_t align, gfp_t gfp);
void *kmem_kmalloc_array(size_t n, size_t size, gfp_t gfp);
void *kmem_krealloc(const void *p, size_t new_size, gfp_t gfp);
void kmem_kfree(const void *p);
/* Usable size of a kmalloc'ed block (>= the size asked for). */
size_t kmem_ksize(const void *p);

/* ---- large areas (vmalloc.c) ---- */
void *kmem_vmalloc(size_t size);
void *kmem_vzalloc(size_t size);
void *kmem_vrealloc(void *p, size_t size);
void kmem_vfree(const void *p);

/* ---- process-wide ---- */
/* Return free memory to the OS now; returns 1 if any was released. */
int kmem_trim(void);
/* Everything KMEM_STATS=1 prints at exit. */
void kmem_stats_print(FILE *out);

#ifndef KMEM_NO_KERNEL_NAMES
KMEM_INLINE struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	return kmem_alloc_pages(gfp, order);
}
KMEM_INLINE struct page *alloc_page(gfp_t gfp)
{
	return kmem_alloc_pages(gfp, 0);
}
KMEM_INLINE unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	return kmem_get_free_pages(gfp, order);
}
KMEM_INLINE unsigned long __get_free_page(gfp_t gfp)
{
	return kmem_get_free_pages(gfp, 0);
}
KMEM_INLINE unsigned long get_zeroed_page(gfp_t gfp)
{
	return kmem_get_zeroed_page(gfp);
}
KMEM_INLINE void __free_pages(struct page *page, unsigned int order)
{
	kmem_free_pages(page, order);
}
KMEM_INLINE void __free_page(struct page *page)
{
	kmem_free_pages(page, 0);
}
KMEM_INLINE void free_pages(unsigned long addr, unsigned int order)
{
	kmem_free_pages_addr(addr, order);
}
KMEM_INLINE void free_page(unsigned long addr)
{
	kmem_free_pages_addr(addr, 0);
}
#ifndef KMEM_INTERNAL_H
/* core/ has faster inline versions of these two in page.h. */
KMEM_INLINE void *page_address(const struct page *page)
{
	return kmem_page_address(page);
}
KMEM_INLINE struct page *virt_to_page(const void *addr)
{
	return kmem_virt_to_page(addr);
}
#endif
KMEM_INLINE void *kmalloc(size_t size, gfp_t gfp)
{
	return kmem_kmalloc(size, gfp);
}
KMEM_INLINE void *kzalloc(size_t size, gfp_t gfp)
{
	return kmem_kmalloc(size, gfp | __GFP_ZERO);
}
KMEM_INLINE void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	return kmem_kmalloc_array(n, size, gfp);
}
KMEM_INLINE void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	return kmem_kmalloc_array(n, size, gfp | __GFP_ZERO);
}
KMEM_INLINE void *krealloc(const void *p, size_t new_size, gfp_t gfp)
{
	return kmem_krealloc(p, new_size, gfp);
}
KMEM_INLINE void kfree(const void *p)
{
	kmem_kfree(p);
}
KMEM_INLINE size_t ksize(const void *p)
{
	return kmem_ksize(p);
}
KMEM_INLINE void *vmalloc(size_t size)
{
	return kmem_vmalloc(size);
}
KMEM_INLINE void *vzalloc(size_t size)
{
	return kmem_vzalloc(size);
}
KMEM_INLINE void vfree(const void *p)
{
	kmem_vfree(p);
}
#endif /* KMEM_NO_KERNEL_NAMES */

#ifdef __cplusplus
}
#endif

#endif /* KMEM_H */
