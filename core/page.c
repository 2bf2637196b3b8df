/* SPDX-License-Identifier: MIT */
/*
 * core/page.c - the page map: sections of memory and their struct pages.
 *
 * Layer: above os.c, below buddy.c.  Owns section_map[] (which 64 MiB
 * sections of the address space are kmem's heap, and which zone each one
 * feeds) and the mapping of new sections, which thp.c advises (KMEM_THP).
 * See page.h for the arithmetic.
 *
 * Invariants:
 *   - a section is SECTION_SIZE bytes at a SECTION_SIZE-aligned address;
 *   - section_map[a >> SECTION_SHIFT] != 0  <=>  a is in a mapped section,
 *     and it is published (release) only after the section's mem_map is
 *     ready, so a reader that sees it may use virt_to_page(a);
 *   - sections are never unmapped (memory goes back with madvise).
 *
 * Locking: section_lock serialises growth; readers take no lock.
 */
#include "page.h"

#include <errno.h>
#include <string.h>

#include "fork.h"
#include "options.h"
#include "os.h"
#include "thp.h"

/* In .bss: 2 MiB of address space, touched only where sections exist. */
_Atomic(uint8_t) section_map[NR_SECTIONS];
static kmem_lock_t section_lock __fork_lock = KMEM_LOCK_INIT;
static uintptr_t next_hint __read_mostly;	/* end of the last section: try to stay contiguous */
static size_t nr_sections __read_mostly;	/* sections mapped so far (highmem aside) */
/* ZONE_HIGHMEM (section_lock): the memfd and its size, 64 MiB a section. */
static int highmem_fd = -1;
static uint64_t highmem_size;
/* ZONE_DMA (section_lock): the bound, what is pinned, the sections. */
static size_t dma_limit;	/* bytes; read at the first growth */
static bool dma_limit_read;
static size_t dma_pinned;	/* bytes mlock'ed for the zone */
static struct page *dma_sections; /* mem_map of the newest DMA section */

int pagemap_init(void)
{
	return 0;
}

/* Map SECTION_SIZE bytes aligned to SECTION_SIZE, near the last section. */
static void *map_section(bool below_4g, int *err)
{
	void *p;

	if (below_4g) {
		/* Probe downwards from 4 GiB for a free aligned hole. */
		uintptr_t a;

		for (a = (1UL << 32) - SECTION_SIZE; a >= (1UL << 30);
		     a -= SECTION_SIZE) {
			p = os_mmap((void *)a, SECTION_SIZE, OS_PROT_RW, true, err);
			if (p)
				return p;
		}
		*err = ENOMEM;
		return NULL;
	}
	if (next_hint) {
		p = os_mmap((void *)next_hint, SECTION_SIZE, OS_PROT_RW, true, err);
		if (p)
			return p;
	}
	return os_mmap_aligned(SECTION_SIZE, SECTION_SIZE, OS_PROT_RW, err);
}

/*
 * A highmem section: a PROT_NONE reservation whose mem_map alone is made
 * memory, and 64 MiB more of the memfd (sparse: a page of it costs
 * memory only once written).  section_lock held.
 */
static void *map_highmem_section(int *err)
{
	size_t meta = (size_t)SECTION_META_PAGES << PAGE_SHIFT;
	void *p;

	if (highmem_fd < 0) {
		highmem_fd = os_memfd_create("kmem-highmem", err);
		if (highmem_fd < 0)
			return NULL;
	}
	p = os_mmap_aligned(SECTION_SIZE, SECTION_SIZE, OS_PROT_NONE, err);
	if (!p)
		return NULL;
	*err = os_mprotect(p, meta, OS_PROT_RW);
	if (!*err)
		*err = os_ftruncate(highmem_fd, highmem_size + SECTION_SIZE);
	if (*err) {
		os_munmap(p, SECTION_SIZE);
		return NULL;
	}
	((struct page *)p)->hm_offset = highmem_size;
	highmem_size += SECTION_SIZE;
	return p;
}

/* section_lock held. */
static void *__add_section(int zone_id, bool below_4g, int *err)
{
	struct page *mem_map;
	uintptr_t base;
	void *p;

	if (zone_id == ZONE_HIGHMEM)
		p = map_highmem_section(err);
	else
		p = map_section(below_4g, err);
	if (!p)
		return NULL;
	base = (uintptr_t)p;
	kmem_assert(IS_ALIGNED(base, SECTION_SIZE));
	if (!below_4g && zone_id != ZONE_HIGHMEM)
		next_hint = base + SECTION_SIZE;
	/*
	 * The mem_map lives in the section's first pages.  Fresh anonymous
	 * memory is zero, so every struct page already reads flags == 0;
	 * only the first, the section's record, is marked: the others of
	 * the mem_map's own pages are known by their place (page_is_meta).
	 */
	mem_map = (struct page *)base;
	mem_map[0].flags = PG_meta;
	mem_map[0].zone = (uint8_t)zone_id;
	if (zone_id == ZONE_HIGHMEM || zone_id == ZONE_DMA) {
		/* No huge pages: highmem is a reservation, and a DMA
		 * section is pinned a run at a time. */
		if (zone_id == ZONE_DMA)
			nr_sections++;
	} else if (zone_id < MAX_NR_ZONES) {
		thp_section(p, SECTION_SIZE, nr_sections);
		nr_sections++;
	} else {
		thp_section(p, SECTION_SIZE, 0);	/* the atomic reserve */
	}
	kmem_probe(section_map, p, zone_id);
	atomic_store_explicit(&section_map[base >> SECTION_SHIFT],
			      (uint8_t)(zone_id + 1), memory_order_release);
	return p;
}

void *pagemap_add_section(int zone_id, bool below_4g, gfp_t gfp, int *err)
{
	void *p;

	if (!kmem_lock_gfp(&section_lock, gfp)) {
		*err = EAGAIN;
		return NULL;
	}
	p = __add_section(zone_id, below_4g, err);
	kmem_unlock(&section_lock);
	return p;
}

/* ---- ZONE_DMA: pinned runs ---- */

/* The bound, once: KMEM_DMA_LIMIT, else RLIMIT_MEMLOCK.  section_lock held. */
static void dma_read_limit(void)
{
	const char *opt = kmem_opt_str(OPT_DMA_LIMIT);
	long v;

	dma_limit_read = true;
	dma_limit = os_memlock_limit();
	if (!opt || !*opt || !strcmp(opt, "rlimit"))
		return;
	if (kmem_parse_size(opt, &v))
		dma_limit = (size_t)v;
	else
		kmem_pr_err("KMEM_DMA_LIMIT=%s is not a size or \"rlimit\"; "
			    "using RLIMIT_MEMLOCK", opt);
}

/* The largest power of two <= x (x >= 1). */
static size_t pow2_floor(size_t x)
{
	return (size_t)1 << (63 - __builtin_clzl(x));
}

struct page *pagemap_dma_grow(unsigned int order, gfp_t gfp, size_t *nr,
			      int *err)
{
	size_t need = 1UL << order, left, chunk, start, run;
	struct page *meta;
	uintptr_t base;

	if (!kmem_lock_gfp(&section_lock, gfp)) {
		*err = EAGAIN;
		return NULL;
	}
	if (!dma_limit_read)
		dma_read_limit();
	left = (dma_limit - dma_pinned) >> PAGE_SHIFT;
	*err = ENOMEM;
	if (left < need)
		goto out;
	/* A run is the caller's block, or more (up to DMA_GROW_PAGES) while
	 * the bound allows: a power of two, aligned to itself. */
	chunk = MAX(need, pow2_floor(MIN(left, (size_t)DMA_GROW_PAGES)));
	meta = dma_sections;
	if (meta && ALIGN_UP((size_t)meta->dma_claimed, chunk) + chunk >
			    PAGES_PER_SECTION)
		meta = NULL;
	if (!meta) {
		base = (uintptr_t)__add_section(ZONE_DMA, false, err);
		if (!base)
			goto out;
		meta = (struct page *)base;
		meta->dma_claimed = SECTION_META_PAGES;
		meta->dma_next = dma_sections;
		dma_sections = meta;
	}
	/*
	 * Aligning the run may skip pages after the claimed part: they are
	 * pinned and handed to the zone too, so that a section's claimed
	 * part is one locked range (pagemap_fork_child relocks it whole).
	 * Smaller runs first, if the skip would pass the bound.
	 */
	for (;;) {
		start = ALIGN_UP((size_t)meta->dma_claimed, chunk);
		run = start + chunk - meta->dma_claimed;
		if (run <= left)
			break;
		if (chunk == need) {
			*err = ENOMEM;
			goto out;
		}
		chunk >>= 1;
	}
	base = (uintptr_t)meta;
	*err = os_mlock((void *)(base + ((size_t)meta->dma_claimed << PAGE_SHIFT)),
			run << PAGE_SHIFT);
	if (*err) {
		/* EAGAIN and EPERM: the kernel's own bound (no CAP_IPC_LOCK). */
		*err = ENOMEM;
		goto out;
	}
	*nr = run;
	meta = meta + meta->dma_claimed;
	dma_sections->dma_claimed = (uint32_t)(start + chunk);
	dma_pinned += run << PAGE_SHIFT;
	kmem_unlock(&section_lock);
	return meta;
out:
	kmem_unlock(&section_lock);
	return NULL;
}

size_t pagemap_dma_pinned(void)
{
	return READ_ONCE(dma_pinned);
}

size_t pagemap_dma_limit(void)
{
	return READ_ONCE(dma_limit);
}

/* ---- ZONE_HIGHMEM ---- */

int pagemap_highmem_fd(void)
{
	return READ_ONCE(highmem_fd);
}

size_t pagemap_highmem_bytes(void)
{
	return (size_t)READ_ONCE(highmem_size);
}

int pagemap_release(struct page *page, size_t nr)
{
	if (section_meta(page)->zone == ZONE_HIGHMEM)
		return os_punch_hole(READ_ONCE(highmem_fd),
				     pagemap_highmem_offset(page),
				     (uint64_t)nr << PAGE_SHIFT);
	kmem_assert_internal(section_meta(page)->zone != ZONE_DMA);
	return os_purge(page_address(page), nr << PAGE_SHIFT);
}

int pagemap_zone_of(const void *addr)
{
	if (!kmem_addr_in_heap(addr))
		return -1;
	return (int)atomic_load_explicit(
		       &section_map[(uintptr_t)addr >> SECTION_SHIFT],
		       memory_order_relaxed) - 1;
}

size_t pagemap_nr_sections(void)
{
	return READ_ONCE(nr_sections);
}

void pagemap_fork_prepare(void)
{
	kmem_fork_lock(&section_lock);
}

void pagemap_fork_release(void)
{
	kmem_fork_unlock(&section_lock);
}

void pagemap_fork_child(void)
{
	int err = 0, fd;

	kmem_lock(&section_lock);
	for (struct page *meta = dma_sections; meta; meta = meta->dma_next) {
		size_t off = (size_t)SECTION_META_PAGES << PAGE_SHIFT;
		size_t len = ((size_t)meta->dma_claimed << PAGE_SHIFT) - off;

		if (len && os_mlock((char *)meta + off, len))
			kmem_pr_err("fork: cannot lock ZONE_DMA's %zu bytes "
				    "again in the child", len);
	}
	if (highmem_fd >= 0) {
		fd = os_memfd_clone(highmem_fd, highmem_size, &err);
		if (fd < 0 || (err = os_dup_onto(fd, highmem_fd)) != 0)
			/* The child would write its parent's high memory. */
			kmem_panic("fork: cannot copy high memory for the "
				   "child (error %d)", err);
	}
	kmem_unlock(&section_lock);
}

/* Exported spelling of the page-map arithmetic (kmem_page_address is
 * highmem.c's: it knows the kmap windows). */
KMEM_EXPORT struct page *kmem_virt_to_page(const void *addr)
{
	if (!kmem_addr_in_heap(addr))
		return NULL;
	return virt_to_page(addr);
}
