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

#include "fork.h"
#include "os.h"
#include "thp.h"

/* In .bss: 2 MiB of address space, touched only where sections exist. */
_Atomic(uint8_t) section_map[NR_SECTIONS];
static kmem_lock_t section_lock = KMEM_LOCK_INIT;
static uintptr_t next_hint;	/* end of the last section: try to stay contiguous */
static size_t nr_sections;	/* sections mapped so far */

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

void *pagemap_add_section(int zone_id, bool below_4g, gfp_t gfp, int *err)
{
	struct page *mem_map;
	uintptr_t base;
	void *p;
	size_t i;

	if (!kmem_lock_gfp(&section_lock, gfp)) {
		*err = EAGAIN;
		return NULL;
	}
	p = map_section(below_4g, err);
	if (!p) {
		kmem_unlock(&section_lock);
		return NULL;
	}
	base = (uintptr_t)p;
	kmem_assert(IS_ALIGNED(base, SECTION_SIZE));
	if (!below_4g)
		next_hint = base + SECTION_SIZE;
	/*
	 * The mem_map lives in the section's first pages.  Fresh anonymous
	 * memory is zero, so every struct page already reads flags == 0;
	 * only the pages that hold the mem_map itself are marked.
	 */
	mem_map = (struct page *)base;
	for (i = 0; i < SECTION_META_PAGES; i++) {
		mem_map[i].flags = PG_meta;
		mem_map[i].zone = (uint8_t)zone_id;
	}
	if (zone_id < MAX_NR_ZONES_PAGE) {
		thp_section(p, SECTION_SIZE, nr_sections);
		nr_sections++;
	} else {
		thp_section(p, SECTION_SIZE, 0);	/* the atomic reserve */
	}
	kmem_probe(section_map, p, zone_id);
	atomic_store_explicit(&section_map[base >> SECTION_SHIFT],
			      (uint8_t)(zone_id + 1), memory_order_release);
	kmem_unlock(&section_lock);
	return p;
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

/* Exported spellings of the page-map arithmetic. */
KMEM_EXPORT void *kmem_page_address(const struct page *page)
{
	return page ? page_address(page) : NULL;
}

KMEM_EXPORT struct page *kmem_virt_to_page(const void *addr)
{
	if (!kmem_addr_in_heap(addr))
		return NULL;
	return virt_to_page(addr);
}
