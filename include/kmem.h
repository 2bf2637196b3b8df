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
#include <stdint.h>
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
#define MAX_ORDER 12
#define NR_PAGE_ORDERS (MAX_ORDER + 1)

/* ---- gfp_t: how an allocation may behave ---- */
typedef unsigned int gfp_t;

/*
 * Zone modifiers (one at most: two together fail, as the kernel's
 * GFP_ZONE_BAD).  Each is honoured at every size and by every allocator
 * that takes a gfp_t, or the call fails with ENOMEM; none is ignored.
 * See "Zones" below and docs/zones.md.
 */
#define __GFP_DMA 0x01u	   /* ZONE_DMA: pinned (mlock'ed), bounded */
#define __GFP_HIGHMEM 0x02u  /* ZONE_HIGHMEM: pages only, kmap to reach */
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

/*
 * ---- zones ----
 *
 * ZONE_DMA32   memory below 4 GiB: 32-bit device addresses, JIT code
 *              that needs short jumps, compressed 32-bit pointers.
 * ZONE_NORMAL  everything else: the default.
 * ZONE_DMA     pinned memory: locked in RAM (mlock), never purged, never
 *              swapped, as DMA, RDMA registration and io_uring fixed
 *              buffers need.  Bounded by RLIMIT_MEMLOCK as kmem reads it
 *              at the zone's first use, or by KMEM_DMA_LIMIT; kmem keeps
 *              the bound itself (root's mlock ignores the rlimit), and an
 *              allocation past it fails with ENOMEM.  Its memory stays
 *              pinned once taken (freed blocks are kept for reuse).
 * ZONE_HIGHMEM pages that are not permanently mapped: their contents live
 *              in a memfd, reached through kmap windows, so a program can
 *              hold more memory than it keeps mapped.  page_address() is
 *              NULL until the page is kmap'ed.  Pages only: kmalloc and
 *              the caches cannot return it (ENOMEM).
 *
 * Fallback, as the kernel's zonelists: HIGHMEM -> NORMAL -> DMA32,
 * NORMAL -> DMA32 (the free pages it has: the low zone is not grown for
 * others), DMA32 and DMA only from themselves.  ZONE_DMA is no one's
 * fallback: its pages are a budget set aside for I/O (the kernel keeps
 * its DMA zone for itself with lowmem_reserve).
 */
enum kmem_zone {
	KMEM_ZONE_DMA, KMEM_ZONE_DMA32, KMEM_ZONE_NORMAL, KMEM_ZONE_HIGHMEM,
	KMEM_NR_ZONES
};

/* ---- the page allocator (buddy_api.c, buddy.c) ---- */
struct page;

/*
 * 2^order pages (order 0..MAX_ORDER); NULL and ENOMEM when the zone (and
 * its fallbacks) cannot serve it, the order is above MAX_ORDER, or gfp
 * names two zones.  The head page's reference count is 1.
 */
struct page *kmem_alloc_pages(gfp_t gfp, unsigned int order);
/* __free_pages(): free a block by its struct page. */
void kmem_free_pages(struct page *page, unsigned int order);
unsigned long kmem_get_free_pages(gfp_t gfp, unsigned int order);
unsigned long kmem_get_zeroed_page(gfp_t gfp);
/* free_pages(): free a block by its address. */
void kmem_free_pages_addr(unsigned long addr, unsigned int order);
/* A highmem page's address while it is kmap'ed (kmap, not the local
 * mappings), else NULL; any other page's address. */
void *kmem_page_address(const struct page *page);
/* The page of an address of kmem's page allocator; NULL for any other
 * address (a kmap window's included: use the page you mapped). */
struct page *kmem_virt_to_page(const void *addr);
/*
 * References (the kernel's _refcount): a block from alloc_pages starts at
 * 1 on its head page.  get_page adds one; put_page and __free_pages drop
 * one, and the block goes back when the last is dropped.  page_count is 0
 * for a free page and for the other pages of a block from alloc_pages (as
 * the kernel's non-compound pages), 1 for a page of a slab or of a
 * kmalloc block (the head's count).  get_page and put_page on anything
 * but the head of an alloc_pages block are reported as errors.
 */
int kmem_page_count(const struct page *page);
void kmem_get_page(struct page *page);
void kmem_put_page(struct page *page);
/* Page frame numbers: the page's address >> PAGE_SHIFT (the address a
 * highmem page's section reserves for it).  kmem_pfn_to_page is NULL for
 * a pfn that is not kmem's. */
unsigned long kmem_page_to_pfn(const struct page *page);
struct page *kmem_pfn_to_page(unsigned long pfn);
/* enum kmem_zone of the page, or -1 if it is not a page of kmem. */
int kmem_page_zone(const struct page *page);
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

/*
 * ---- high memory (highmem.c) ----
 *
 * kmem_kmap maps a page for as long as the caller needs (until kunmap),
 * in one of LAST_PKMAP windows shared by the process; with every window
 * in use it waits for a kunmap, as the kernel's kmap sleeps (never call
 * it from a signal handler).  Mapping the same page twice gives the same
 * address (a count).  An unused window keeps its page mapped until the
 * window is needed for another one (or kmem_kmap_flush_unused).
 *
 * kmem_kmap_local_page maps a page in one of KM_MAX_IDX slots of the
 * calling thread, never waiting: usable in signal handlers (the kernel's
 * kmap_atomic and kmap_local_page, for which user space has no
 * preemption to disable).  Local mappings nest, and are undone in the
 * reverse order by kmem_kunmap_local (any address inside the page).
 *
 * A page that is not high memory (any page of the other zones, and a
 * GFP_HIGHUSER page that fell back to ZONE_NORMAL) is not mapped: its
 * address comes back at once, and kunmap of it does nothing.  NULL (and
 * errno) if a window cannot be mapped (the process's mapping limit) or
 * the page is not a page of kmem (reported).
 */
#define LAST_PKMAP 1024
#define KM_MAX_IDX 16
void *kmem_kmap(struct page *page);
void kmem_kunmap(struct page *page);
void *kmem_kmap_local_page(struct page *page);
void kmem_kunmap_local(const void *addr);
/* Unmap every kmap window no one uses now. */
void kmem_kmap_flush_unused(void);

/*
 * ---- per-CPU data (percpu_data.c) ----
 *
 * kmem_alloc_percpu returns one zeroed object of size bytes (aligned to
 * align, a power of two) per CPU, as a pointer to use with the macros
 * below; each CPU's copy is KMEM_PCPU_UNIT_SIZE bytes after the
 * previous one.  At most KMEM_PCPU_UNIT_SIZE bytes of per-CPU data in
 * all; NULL and ENOMEM beyond.
 *
 * "CPU" is the slot the per-CPU caches use (KMEM_PERCPU): in rseq mode
 * the CPU, or the kernel's mm_cid (a dense per-process CPU number), and
 * this_cpu_add is one restartable sequence: no lock and no atomic
 * instruction, exact even against a signal handler or a migration.  In
 * thread mode (and off) each thread has a slot of its own and adds with
 * one plain instruction.  A slot outlives its thread (the next thread
 * takes it over, values and all), so sums over for_each_possible_cpu
 * stay exact.  kmem_nr_cpu_ids() is the number of slots so far; in
 * thread mode it grows as threads come.
 */
#define KMEM_PCPU_UNIT_SHIFT 16
#define KMEM_PCPU_UNIT_SIZE (1UL << KMEM_PCPU_UNIT_SHIFT)
void *kmem_alloc_percpu(size_t size, size_t align);
void kmem_free_percpu(void *p);
unsigned int kmem_nr_cpu_ids(void);
/* The calling thread's CPU slot's copy of p (of the CPU it runs on now:
 * it may move at once; use this_cpu_add for updates). */
void *kmem_this_cpu_ptr(const void *p);
/* this_cpu_add of a size-byte integer (1, 2, 4 or 8), out of line. */
void kmem_this_cpu_add(void *p, long long v, unsigned int size);
/* this_cpu_write, out of line. */
void kmem_this_cpu_write(void *p, long long v, unsigned int size);

/* What the inline fast paths read: set by kmem, read-only for programs.
 * rseq_off is the rseq area's offset from the thread pointer (0 before
 * kmem is up), rseq_idx_off that of its CPU index (mm_cid or cpu_id). */
struct kmem_pcpu_fast {
	long rseq_off;
	long rseq_idx_off;
};
extern struct kmem_pcpu_fast kmem_pcpu_fast;
/* The calling thread's slot offset (slot << KMEM_PCPU_UNIT_SHIFT) in
 * thread mode; 0 when it has none (yet). */
extern __thread long kmem_pcpu_thread_off
	__attribute__((tls_model("initial-exec")));

/* ---- process-wide ---- */
/* Return free memory to the OS now; returns 1 if any was released. */
int kmem_trim(void);
/* Everything KMEM_STATS=1 prints at exit. */
void kmem_stats_print(FILE *out);

/*
 * ---- this_cpu fast paths (inline: a program's counters cost no call) ----
 * Each operation tries the rseq section, then the thread's slot, then the
 * out-of-line function (the first call of a thread, kmem not yet up).
 * The section: load the CPU index, address p's copy, and one add (or
 * mov) to memory, which is the commit; a preemption, migration or signal
 * before it restarts the section.  The thread slot's add is one
 * instruction, so a signal handler cannot split it either.
 */
#if defined(__x86_64__) && !defined(KMEM_PCPU_NO_ASM)
#define KMEM__PCPU_OP(name, type, insn, vc)                                   \
KMEM_INLINE int kmem__rseq_##name(void *p, type v)                           \
{                                                                             \
	long rs = kmem_pcpu_fast.rseq_off, ix = kmem_pcpu_fast.rseq_idx_off; \
	__asm__ goto(                                                         \
		".pushsection __rseq_cs, \"aw\"\n\t"                          \
		".balign 32\n\t"                                              \
		".Lkpcs%=:\n\t"                                               \
		".long 0, 0\n\t"                                              \
		".quad .Lkpstart%=, .Lkpcommit%= - .Lkpstart%=, .Lkpabort%=\n\t"\
		".popsection\n\t"                                             \
		"testq %[rs], %[rs]\n\t"                                      \
		"jz %l[fail]\n\t"                                             \
		".Lkpretry%=:\n\t"                                            \
		"leaq .Lkpcs%=(%%rip), %%rax\n\t"                             \
		"movq %%rax, %%fs:8(%[rs])\n\t"                               \
		".Lkpstart%=:\n\t"                                            \
		"cmpl $0, %%fs:4(%[rs])\n\t"                                  \
		"jl %l[fail]\n\t"                                             \
		"movl %%fs:(%[ix]), %%eax\n\t"                                \
		"shlq $" KMEM__STR(KMEM_PCPU_UNIT_SHIFT) ", %%rax\n\t"        \
		"addq %[p], %%rax\n\t"                                        \
		insn " %[v], (%%rax)\n\t"                                     \
		".Lkpcommit%=:\n\t"                                           \
		".pushsection __rseq_failure, \"ax\"\n\t"                     \
		".byte 0x0f, 0xb9, 0x3d\n\t"                                  \
		".long 0x53053053\n\t"                                        \
		".Lkpabort%=:\n\t"                                            \
		"jmp .Lkpretry%=\n\t"                                         \
		".popsection\n\t"                                             \
		:                                                             \
		: [rs] "r"(rs), [ix] "r"(ix), [p] "r"(p), [v] vc(v)           \
		: "rax", "memory", "cc"                                       \
		: fail);                                                      \
	return 1;                                                             \
fail:                                                                         \
	return 0;                                                             \
}                                                                             \
KMEM_INLINE int kmem__thread_##name(void *p, type v)                         \
{                                                                             \
	long off = kmem_pcpu_thread_off;                                      \
                                                                              \
	if (__builtin_expect(!off, 0))                                        \
		return 0;                                                     \
	__asm__ __volatile__(insn " %[v], %[m]"                               \
			     : [m] "+m"(*(type *)((char *)p + off))           \
			     : [v] vc(v)                                      \
			     : "cc");                                         \
	return 1;                                                             \
}
#define KMEM__STR1(x) #x
#define KMEM__STR(x) KMEM__STR1(x)
KMEM__PCPU_OP(add1, uint8_t, "addb", "qi")
KMEM__PCPU_OP(add2, uint16_t, "addw", "ri")
KMEM__PCPU_OP(add4, uint32_t, "addl", "ri")
KMEM__PCPU_OP(add8, uint64_t, "addq", "er")
KMEM__PCPU_OP(mov1, uint8_t, "movb", "qi")
KMEM__PCPU_OP(mov2, uint16_t, "movw", "ri")
KMEM__PCPU_OP(mov4, uint32_t, "movl", "ri")
KMEM__PCPU_OP(mov8, uint64_t, "movq", "er")

#define KMEM__PCPU_TRY(op, size, p, v)                                        \
	((size) == 1 ? (kmem__rseq_##op##1(p, (uint8_t)(v)) ||                \
			kmem__thread_##op##1(p, (uint8_t)(v))) :              \
	 (size) == 2 ? (kmem__rseq_##op##2(p, (uint16_t)(v)) ||               \
			kmem__thread_##op##2(p, (uint16_t)(v))) :             \
	 (size) == 4 ? (kmem__rseq_##op##4(p, (uint32_t)(v)) ||               \
			kmem__thread_##op##4(p, (uint32_t)(v))) :             \
	 (size) == 8 ? (kmem__rseq_##op##8(p, (uint64_t)(v)) ||               \
			kmem__thread_##op##8(p, (uint64_t)(v))) : 0)

KMEM_INLINE void kmem__this_cpu_add(void *p, long long v, unsigned int size)
{
	if (__builtin_expect(!KMEM__PCPU_TRY(add, size, p, v), 0))
		kmem_this_cpu_add(p, v, size);
}

KMEM_INLINE void kmem__this_cpu_write(void *p, long long v, unsigned int size)
{
	if (__builtin_expect(!KMEM__PCPU_TRY(mov, size, p, v), 0))
		kmem_this_cpu_write(p, v, size);
}

KMEM_INLINE void *kmem__this_cpu_ptr(const void *p)
{
	long rs = kmem_pcpu_fast.rseq_off, off;

	if (__builtin_expect(rs != 0, 1)) {
		int cpu_id;
		unsigned int idx;

		__asm__ __volatile__("movl %%fs:4(%1), %0" : "=r"(cpu_id)
				     : "r"(rs));
		if (__builtin_expect(cpu_id >= 0, 1)) {
			__asm__ __volatile__("movl %%fs:(%1), %0" : "=r"(idx)
					     : "r"(kmem_pcpu_fast.rseq_idx_off));
			return (char *)p + ((unsigned long)idx
					    << KMEM_PCPU_UNIT_SHIFT);
		}
	}
	off = kmem_pcpu_thread_off;
	if (__builtin_expect(off != 0, 1))
		return (char *)p + off;
	return kmem_this_cpu_ptr(p);
}
#else	/* no inline rseq: every operation out of line */
KMEM_INLINE void kmem__this_cpu_add(void *p, long long v, unsigned int size)
{
	kmem_this_cpu_add(p, v, size);
}

KMEM_INLINE void kmem__this_cpu_write(void *p, long long v, unsigned int size)
{
	kmem_this_cpu_write(p, v, size);
}

KMEM_INLINE void *kmem__this_cpu_ptr(const void *p)
{
	return kmem_this_cpu_ptr(p);
}
#endif

#ifndef KMEM_NO_KERNEL_NAMES
enum zone_type {
	ZONE_DMA = KMEM_ZONE_DMA,
	ZONE_DMA32 = KMEM_ZONE_DMA32,
	ZONE_NORMAL = KMEM_ZONE_NORMAL,
	ZONE_HIGHMEM = KMEM_ZONE_HIGHMEM,
	MAX_NR_ZONES = KMEM_NR_ZONES
};

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
/* core/ has inline arithmetic for these four in page.h (where
 * page_address is the address a page's section gives it, mapped or not). */
KMEM_INLINE void *page_address(const struct page *page)
{
	return kmem_page_address(page);
}
KMEM_INLINE struct page *virt_to_page(const void *addr)
{
	return kmem_virt_to_page(addr);
}
KMEM_INLINE unsigned long page_to_pfn(const struct page *page)
{
	return kmem_page_to_pfn(page);
}
KMEM_INLINE struct page *pfn_to_page(unsigned long pfn)
{
	return kmem_pfn_to_page(pfn);
}
#endif
KMEM_INLINE int page_count(const struct page *page)
{
	return kmem_page_count(page);
}
KMEM_INLINE void get_page(struct page *page)
{
	kmem_get_page(page);
}
KMEM_INLINE void put_page(struct page *page)
{
	kmem_put_page(page);
}
KMEM_INLINE enum zone_type page_zonenum(const struct page *page)
{
	return (enum zone_type)kmem_page_zone(page);
}
KMEM_INLINE int PageHighMem(const struct page *page)
{
	return kmem_page_zone(page) == KMEM_ZONE_HIGHMEM;
}
KMEM_INLINE void *kmap(struct page *page)
{
	return kmem_kmap(page);
}
KMEM_INLINE void kunmap(struct page *page)
{
	kmem_kunmap(page);
}
/* The kernel's km_type argument went in Linux 2.6.37; so here. */
KMEM_INLINE void *kmap_atomic(struct page *page)
{
	return kmem_kmap_local_page(page);
}
KMEM_INLINE void kunmap_atomic(const void *addr)
{
	kmem_kunmap_local(addr);
}
KMEM_INLINE void *kmap_local_page(struct page *page)
{
	return kmem_kmap_local_page(page);
}
KMEM_INLINE void kunmap_local(const void *addr)
{
	kmem_kunmap_local(addr);
}
KMEM_INLINE void kmap_flush_unused(void)
{
	kmem_kmap_flush_unused();
}

/* Per-CPU data: alloc_percpu(type) is a type * for the macros below. */
#define __percpu
#define alloc_percpu(type) \
	((type *)kmem_alloc_percpu(sizeof(type), __alignof__(type)))
#define __alloc_percpu(size, align) kmem_alloc_percpu((size), (align))
#define free_percpu(p) kmem_free_percpu((void *)(p))
#define per_cpu_ptr(p, cpu)                                                \
	((__typeof__(p))((char *)(p) + ((unsigned long)(cpu)                  \
					<< KMEM_PCPU_UNIT_SHIFT)))
#define this_cpu_ptr(p) ((__typeof__(p))kmem__this_cpu_ptr(p))
#define raw_cpu_ptr(p) this_cpu_ptr(p)
/* On integers of 1, 2, 4 or 8 bytes. */
#define this_cpu_add(pcp, val) \
	kmem__this_cpu_add((void *)(pcp), (long long)(val), sizeof(*(pcp)))
#define this_cpu_sub(pcp, val) this_cpu_add(pcp, -(long long)(val))
#define this_cpu_inc(pcp) this_cpu_add(pcp, 1)
#define this_cpu_dec(pcp) this_cpu_add(pcp, -1)
#define this_cpu_write(pcp, val) \
	kmem__this_cpu_write((void *)(pcp), (long long)(val), sizeof(*(pcp)))
#define this_cpu_read(pcp) \
	(*(volatile __typeof__(*(pcp)) *)kmem__this_cpu_ptr(pcp))
#define num_possible_cpus() kmem_nr_cpu_ids()
#define for_each_possible_cpu(cpu)                                         \
	for ((cpu) = 0; (cpu) < (__typeof__(cpu))kmem_nr_cpu_ids(); (cpu)++)
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
