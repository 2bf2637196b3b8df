/* SPDX-License-Identifier: MIT */
/*
 * core/page.h - struct page and the page map: the contract of page.c.
 *
 * Memory comes from the OS in sections of SECTION_SIZE bytes, each aligned
 * to SECTION_SIZE, as the kernel's SPARSEMEM model and memory hotplug do.
 * The first SECTION_META_PAGES pages of a section hold its mem_map: one
 * 64-byte struct page for every 4 KiB page of the section, so
 *
 *   virt_to_page(p)  = section(p) + ((p & SECTION_MASK) >> PAGE_SHIFT) * 64
 *   page_address(pg) = section(pg) + ((pg & SECTION_MASK) / 64) << PAGE_SHIFT
 *
 * are both arithmetic.  Whether an address belongs to kmem at all is one
 * load from section_map[], a flat table indexed by address >> SECTION_SHIFT
 * (kmem_page_valid()).  Sections are never unmapped, so struct pages are
 * type-stable: reading one for a stale pointer is always safe.
 *
 * Sections are not reserved up front: each is mapped when a zone grows, so
 * RLIMIT_AS and overcommit limits apply to the heap as they do to glibc's.
 */
#ifndef KMEM_PAGE_H
#define KMEM_PAGE_H

#include "internal.h"

#define SECTION_SHIFT 26 /* 64 MiB: a multiple of the largest buddy block */
#define SECTION_SIZE (1UL << SECTION_SHIFT)
#define SECTION_MASK (SECTION_SIZE - 1)
#define PAGES_PER_SECTION (SECTION_SIZE >> PAGE_SHIFT)
#define STRUCT_PAGE_SHIFT 6
#define SECTION_META_PAGES ((PAGES_PER_SECTION << STRUCT_PAGE_SHIFT) >> PAGE_SHIFT)
#define VA_BITS 47 /* user space of x86-64 and aarch64 with 4-level tables */
#define NR_SECTIONS (1UL << (VA_BITS - SECTION_SHIFT))

_Static_assert(SECTION_SIZE >= (PAGE_SIZE << MAX_ORDER),
	       "a buddy block must never straddle two sections");
_Static_assert(SECTION_META_PAGES == 256, "mem_map is 1/64 of a section");

/* page->flags */
enum pageflags {
	PG_buddy = 1u << 0,	/* head of a free block in a zone's free_area */
	PG_pcp = 1u << 1,	/* head of a free block on a per-CPU list */
	PG_alloc = 1u << 2,	/* head of a block handed out by alloc_pages */
	PG_slab = 1u << 3,	/* head of a slab (slab.c owns the union) */
	PG_large = 1u << 4,	/* head of a kmalloc page run (kmalloc_large.c) */
	PG_tail = 1u << 5,	/* page inside a slab or run: ->head is valid */
	PG_zero = 1u << 6,	/* free block that is clean: not resident, reads 0 */
	PG_meta = 1u << 7,	/* first page of a section: its record (and mem_map) */
	PG_reserved = 1u << 8,	/* off the lists: being purged, or deferred */
	PG_atomic = 1u << 9,	/* page of the atomic reserve (reserve.c) */
	PG_head = 1u << 10,	/* first page of a reserve block >= a page */
};

#define PG_STATE_MASK (PG_buddy | PG_pcp | PG_alloc | PG_slab | PG_large | \
		       PG_tail | PG_meta | PG_reserved | PG_atomic | PG_head)

struct kmem_cache;

/*
 * One per 4 KiB page.  Only head pages carry state: every page that is
 * neither a block head nor marked PG_tail has flags == 0 (invariant kept
 * by buddy.c, slab.c and kmalloc_large.c), which is how an interior pointer is
 * told from a block start.
 */
struct page {
	_Atomic uint32_t flags;		/* enum pageflags */
	uint8_t order;			/* order of the block this page heads */
	uint8_t zone;			/* enum zone_type of the section */
	/* Every page of a slab whose class has a per-CPU cache (head and
	 * tails): the class's chunk id in a region (percpu.h); 0 on
	 * every other page (slab.c sets and clears it). */
	uint16_t pcpu_chunk;
	union {
		struct {			/* PG_buddy, PG_pcp */
			struct list_head lru;	/* free_area or pcp list */
			uint64_t freed_at;	/* os_now_ms() when freed */
		};
		struct {			/* PG_slab: owned by slab.c */
			struct kmem_cache *slab_cache;	/* owner */
			void *freelist;		/* first free object, encoded */
			struct list_head slab_list; /* partial/full/free list */
			uint32_t inuse;		/* objects handed out */
			uint32_t objects;	/* objects in this slab */
		};
		struct {			/* PG_large: kmalloc_large.c's */
			size_t nr_pages;	/* pages kept in the run */
			size_t large_size;	/* bytes asked for */
		};
		struct {			/* PG_tail */
			struct page *head;	/* head page of the slab/run */
			/* The first tail page of a slab (slab.c): objects
			 * never handed out yet, from group fresh_next
			 * (object fresh_off in it) to fresh_groups of the
			 * shuffle drawn from fresh_seed. */
			uint64_t fresh_seed;
			uint16_t fresh_next, fresh_off, fresh_groups;
		};
		struct {			/* PG_alloc (alloc_pages): buddy.c */
			uint64_t _free_words[3]; /* lru and freed_at of a free
						  * block: never overlapped */
			/* Head page: page_count(), get_page/put_page. */
			_Atomic uint32_t refcount;
			/* Any page of ZONE_HIGHMEM: window + 1 of the kmap
			 * pool that last mapped it (highmem.c checks it
			 * against the pool: stale values are harmless). */
			uint32_t kmap_hint;
		};
		struct {			/* PG_meta, a section's first page:
						 * page.c's record of the section */
			uint64_t hm_offset;	/* ZONE_HIGHMEM: the section's
						 * offset in the memfd */
			struct page *dma_next;	/* ZONE_DMA: the section mapped
						 * before this one (a list) */
			uint32_t dma_claimed;	/* ZONE_DMA: pages [0, this) are
						 * the mem_map, then pinned */
		};
		uint64_t _pad[5];
	};
	/*
	 * Every page of a slab with pcpu_chunk != 0: what kfree's fast path
	 * needs to check a pointer without going to the head page.  For a
	 * pointer p into this page, n = (p & ~PAGE_MASK) + slab_off is its
	 * offset from the slab's first object (n < 2^32), and with
	 *
	 *   c = slab_magic = floor(2^64 / size) + 1,  e = c * size - 2^64,
	 *   0 < e <= size,   m = n * c  (mod 2^64):
	 *
	 * n = q * size       gives m = q * e, which is < objects * e iff q <
	 *                    objects (the object exists);
	 * n = q * size + r   (0 < r < size) gives m = q * e + r * c >= c, and
	 *                    c > 2^32 > objects * e.
	 *
	 * So "m < slab_limit" (slab_limit = objects * e) is one multiply and
	 * one compare for "p is the start of an object of this slab" (after
	 * Lemire, Kaser, Kurz: "Faster remainder by direct computation").  On
	 * every page that is not part of such a slab, slab_limit is 0, so the
	 * test fails there without looking at anything else.
	 */
	uint32_t slab_off;		/* (page index in slab) << PAGE_SHIFT,
					 * minus the slab's red_left_pad */
	uint32_t slab_limit;		/* objects * e; 0 on other pages */
	uint64_t slab_magic;		/* floor(2^64 / size) + 1 */
};

_Static_assert(sizeof(struct page) == (1 << STRUCT_PAGE_SHIFT),
	       "struct page must be exactly 64 bytes");

_Static_assert(offsetof(struct page, refcount) >=
		       offsetof(struct page, freed_at) + sizeof(uint64_t),
	       "a free block's lru and freed_at leave refcount alone");

/* section_map[addr >> SECTION_SHIFT] is the zone id + 1, or 0. */
extern _Atomic(uint8_t) section_map[NR_SECTIONS] __hidden;

static __always_inline struct page *virt_to_page(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	return (struct page *)((a & ~SECTION_MASK) +
			       (((a & SECTION_MASK) >> PAGE_SHIFT)
				<< STRUCT_PAGE_SHIFT));
}

static __always_inline void *page_address(const struct page *page)
{
	uintptr_t p = (uintptr_t)page;

	return (void *)((p & ~SECTION_MASK) +
			(((p & SECTION_MASK) >> STRUCT_PAGE_SHIFT)
			 << PAGE_SHIFT));
}

/* Absolute page frame number: the address >> PAGE_SHIFT (for a highmem
 * page, the address its section reserves for it). */
static __always_inline uintptr_t page_to_pfn(const struct page *page)
{
	return (uintptr_t)page_address(page) >> PAGE_SHIFT;
}

static __always_inline struct page *pfn_to_page(uintptr_t pfn)
{
	return virt_to_page((void *)(pfn << PAGE_SHIFT));
}

/* True if addr lies in a section of kmem's heap (not vmalloc areas). */
static __always_inline bool kmem_addr_in_heap(const void *addr)
{
	uintptr_t idx = (uintptr_t)addr >> SECTION_SHIFT;

	if (unlikely(idx >= NR_SECTIONS))
		return false;
	return atomic_load_explicit(&section_map[idx], memory_order_relaxed) != 0;
}

static __always_inline uint32_t page_flags(const struct page *page)
{
	return atomic_load_explicit(&((struct page *)page)->flags,
				    memory_order_relaxed);
}

static __always_inline void set_page_flags(struct page *page, uint32_t flags)
{
	atomic_store_explicit(&page->flags, flags, memory_order_relaxed);
}

/* True if page points at a struct page of kmem's heap (the mem_map of a
 * section, at a multiple of its size). */
static __always_inline bool kmem_page_valid(const struct page *page)
{
	return page && kmem_addr_in_heap(page) &&
	       !((uintptr_t)page & (sizeof(struct page) - 1)) &&
	       virt_to_page(page_address(page)) == page;
}

/* The head page of the slab (or atomic reserve run) that page belongs
 * to; a page of a kmalloc run is its own (see large_run_head). */
static __always_inline struct page *compound_head(struct page *page)
{
	if (page_flags(page) & PG_tail)
		return page->head;
	return page;
}

/*
 * The head of the kmalloc page run that holds page, or NULL.  A run is a
 * buddy block, naturally aligned to its order, and its pages other than
 * the head keep flags 0 (no PG_tail: marking 1,024 struct pages per 4 MiB
 * run at every malloc and clearing them at every free was 11% of
 * mixed-stress's time), so the head is found by trying each order's
 * aligned start: at most MAX_ORDER loads, for error reports and
 * page_count() on an interior page, never on a valid free.
 */
static inline struct page *large_run_head(struct page *page)
{
	uintptr_t pfn = page_to_pfn(page);

	for (unsigned int o = 1; o <= MAX_ORDER; o++) {
		uintptr_t h = pfn & ~((1UL << o) - 1);
		struct page *head = pfn_to_page(h);

		if (h != pfn && (page_flags(head) & PG_large) &&
		    head->nr_pages > pfn - h)
			return head;
	}
	return NULL;
}

/*
 * Whether page describes one of the pages that hold its section's mem_map
 * (never allocated).  Only the first of them carries PG_meta: marking all
 * 256 wrote four pages of every section's mem_map that nothing else
 * touches (16 KiB resident per section, the atomic reserve's included).
 */
static __always_inline bool page_is_meta(const struct page *page)
{
	return ((uintptr_t)page & SECTION_MASK) <
	       (SECTION_META_PAGES << STRUCT_PAGE_SHIFT);
}

/* The first struct page of the section that page (any page) is in. */
static __always_inline struct page *section_meta(const struct page *page)
{
	return (struct page *)((uintptr_t)page & ~SECTION_MASK);
}

/* Map the section table (once, at init).  Returns 0 or an errno value. */
int pagemap_init(void) __hidden;
/*
 * Map one new section for zone_id and describe its pages.  The mem_map
 * pages are marked PG_meta; the rest are left zeroed (flags == 0) for the
 * zone to take.  Returns the section's base address, or NULL (*err set).
 *
 * What a section is depends on its zone (the ids are buddy.h's):
 *   ZONE_DMA32   mapped below 4 GiB (below_4g);
 *   ZONE_NORMAL  mapped anywhere, next to the last one if it can;
 *   ZONE_HIGHMEM only the mem_map is memory: the rest of the 64 MiB is a
 *                PROT_NONE reservation (it keeps virt_to_page arithmetic
 *                and the buddy rule, and no one else's mapping can land
 *                there), and the pages' contents live in one memfd at
 *                pagemap_highmem_offset(page), reached through kmap
 *                windows (highmem.c);
 *   ZONE_DMA     not here: pagemap_dma_grow.
 */
void *pagemap_add_section(int zone_id, bool below_4g, gfp_t gfp,
			  int *err) __hidden;
/*
 * ZONE_DMA grows in pinned runs: at least 2^order pages (the caller's
 * block), up to DMA_GROW_PAGES at a time, taken from the end of the
 * current DMA section's claimed part (a new section when it is full),
 * mlock'ed, and counted against the bound: KMEM_DMA_LIMIT, or
 * RLIMIT_MEMLOCK as it is at the first call.  kmem enforces the bound
 * itself (root's mlock ignores the rlimit).  Returns the run's first
 * struct page and its length in *nr (pages a multiple of nothing in
 * particular: the caller frees it as aligned blocks), or NULL with *err
 * set (ENOMEM: the bound is reached, or mlock failed).
 */
#define DMA_GROW_PAGES 256		/* 1 MiB pinned at a time */
struct page *pagemap_dma_grow(unsigned int order, gfp_t gfp, size_t *nr,
			      int *err) __hidden;
/* Bytes pinned for ZONE_DMA, and the bound (SIZE_MAX: none; 0 before
 * the first growth read it). */
size_t pagemap_dma_pinned(void) __hidden;
size_t pagemap_dma_limit(void) __hidden;

/* ZONE_HIGHMEM: the memfd (-1 until the first highmem section) and where
 * in it the contents of a highmem page lie. */
int pagemap_highmem_fd(void) __hidden;
static __always_inline uint64_t pagemap_highmem_offset(const struct page *page)
{
	return section_meta(page)->hm_offset +
	       ((((uintptr_t)page & SECTION_MASK) >> STRUCT_PAGE_SHIFT)
		<< PAGE_SHIFT);
}
/* Bytes of memfd reserved for highmem sections so far. */
size_t pagemap_highmem_bytes(void) __hidden;
/*
 * Give the memory of nr free pages from page (one section) back to the
 * OS: madvise for mapped sections, a hole punched in the memfd for
 * ZONE_HIGHMEM.  Either way they read as zero after.  Never for ZONE_DMA,
 * whose memory stays pinned.  Returns 0 or an errno value.
 */
int pagemap_release(struct page *page, size_t nr) __hidden;

/* Zone of a heap address (its section's), or -1 if not kmem's. */
int pagemap_zone_of(const void *addr) __hidden;
/* Sections mapped so far for the buddy zones, high memory aside (its
 * sections are address space, not memory: pagemap_highmem_bytes); the
 * atomic reserve's own section has the id MAX_NR_ZONES and is not
 * counted. */
#define MAX_NR_ZONES 4
size_t pagemap_nr_sections(void) __hidden;

void pagemap_fork_prepare(void) __hidden;
void pagemap_fork_release(void) __hidden;
/*
 * In a forked child: ZONE_DMA's runs are locked again (mlock is not
 * inherited), and ZONE_HIGHMEM gets a memfd of its own with a copy of the
 * parent's (a shared file would let the two processes write each
 * other's high memory), under the same descriptor number.  The caller
 * (highmem.c) then maps its windows again, onto the new file.
 */
void pagemap_fork_child(void) __hidden;

#endif /* KMEM_PAGE_H */
