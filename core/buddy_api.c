/* SPDX-License-Identifier: MIT */
/*
 * core/buddy_api.c - the exported page API (<kmem.h>: the kernel's
 * alloc_pages, __get_free_pages, get_zeroed_page, __free_pages,
 * free_pages, page_count, get_page, put_page, page_to_pfn, pfn_to_page
 * and page_zone), which trusts nothing.
 *
 * Layer: the page allocator's front for programs, above buddy.h's
 * internal interface (__alloc_pages, __free_pages_ok), which trusts its
 * callers; nothing in core/ calls it.  It sees no zone (it does not
 * include zone.h): buddy.c keeps the zones, their lists and
 * kmem_buddyinfo.  Every argument is checked before the allocator sees
 * it: an order above MAX_ORDER, an address that is not kmem's, is not
 * aligned to its order or is not the head of an alloc_pages block of that
 * order is reported (kmem_report_error, bad_state saying what it is
 * instead) and nothing is freed.
 *
 * References: the head page's reference count (page->refcount, 1 from
 * alloc_pages): get_page and put_page change it with compare-and-swap,
 * and the put that takes it from 1 to 0 frees the block (__free_pages
 * and free_pages drop a reference the same way: free_pages_checked).  A
 * free may start the purge thread (purge_maybe_start).
 */
#include "buddy.h"

#include <errno.h>

#include "purge.h"

/* ---- blocks: allocation and freeing ---- */

KMEM_EXPORT struct page *kmem_alloc_pages(gfp_t gfp, unsigned int order)
{
	struct page *page;

	kmem_init();
	page = __alloc_pages(gfp, order);
	if (!page)
		errno = ENOMEM;
	return page;
}

KMEM_EXPORT unsigned long kmem_get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *page;

	/* A highmem page has no address to return (the kernel's
	 * __get_free_pages refuses __GFP_HIGHMEM too). */
	if (gfp & __GFP_HIGHMEM) {
		errno = ENOMEM;
		return 0;
	}
	page = kmem_alloc_pages(gfp, order);

	return page ? (unsigned long)page_address(page) : 0;
}

KMEM_EXPORT unsigned long kmem_get_zeroed_page(gfp_t gfp)
{
	return kmem_get_free_pages(gfp | __GFP_ZERO, 0);
}

static const char *bad_state(const struct page *page, uint32_t f,
			     unsigned int order, unsigned int had)
{
	if (page_is_meta(page))	/* PG_meta's page among them */
		return "the address is kmem's own page map";
	if (f & (PG_buddy | PG_pcp))
		return "double free: the block is already free";
	if (f & PG_alloc)
		return order != had ? "wrong order for this block" : "racing free";
	if (f & PG_slab)
		return "the page belongs to a slab (use kmem_cache_free or kfree)";
	if (f & PG_large)
		return "the page belongs to kmalloc (use kfree)";
	return "the address is inside a block, not at the start of one";
}

/*
 * Drop a reference to the block at addr (__free_pages, free_pages,
 * put_page), after checking that it is an alloc_pages block of this
 * order; the last reference frees it.
 */
static void free_pages_checked(const char *fn, void *addr, unsigned int order)
{
	struct page *page;
	uint32_t f, rc;

	if (order > MAX_ORDER) {
		kmem_report_error("%s(%p, order %u): order above MAX_ORDER (%d)",
				  fn, addr, order, MAX_ORDER);
		return;
	}
	if (!kmem_addr_in_heap(addr)) {
		kmem_report_error("%s(%p, order %u): the address was never handed "
				  "out by kmem", fn, addr, order);
		return;
	}
	if (!IS_ALIGNED((uintptr_t)addr, PAGE_SIZE << order)) {
		kmem_report_error("%s(%p, order %u): the address is not aligned to "
				  "its order, so it is not a block kmem handed out",
				  fn, addr, order);
		return;
	}
	page = virt_to_page(addr);
	f = page_flags(page);
	if ((f & PG_STATE_MASK) != PG_alloc || page->order != order) {
		kmem_report_error("%s(%p, order %u): %s%s%u", fn, addr, order,
				  bad_state(page, f, order, page->order),
				  (f & PG_alloc) ? "; it was allocated with order " : "; order on record ",
				  page->order);
		return;
	}
	/* The put that takes the count to 0 owns the free: a get_page that
	 * comes later finds 0 and is refused. */
	rc = atomic_load_explicit(&page->refcount, memory_order_relaxed);
	do {
		if (rc == 0) {
			kmem_report_error("%s(%p, order %u): racing free (the "
					  "reference count is 0 already)", fn,
					  addr, order);
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(
		&page->refcount, &rc, rc - 1, memory_order_acq_rel,
		memory_order_relaxed));
	if (rc > 1)
		return;		/* others hold it still */
	f = PG_alloc;
	if (!atomic_compare_exchange_strong_explicit(&page->flags, &f, 0,
						     memory_order_acq_rel,
						     memory_order_relaxed)) {
		kmem_report_error("%s(%p, order %u): the page changed state "
				  "(%#x) while it was freed", fn, addr, order,
				  f);
		return;
	}
	__free_pages_ok(page, order);
}

KMEM_EXPORT void kmem_free_pages(struct page *page, unsigned int order)
{
	void *addr;

	if (!page)
		return;
	kmem_init();	/* KMEM_ABORT must be read before any report */
	if (!kmem_page_valid(page)) {
		kmem_report_error("__free_pages(%p, order %u): not a struct page "
				  "of kmem", (void *)page, order);
		return;
	}
	addr = page_address(page);
	free_pages_checked("__free_pages", addr, order);
	purge_maybe_start();
}

/* ---- references and page frame numbers ---- */

KMEM_EXPORT int kmem_page_count(const struct page *page)
{
	struct page *head;
	uint32_t f;

	if (!kmem_page_valid(page))
		return 0;
	f = page_flags(page);
	if (f & PG_alloc)
		return (int)atomic_load_explicit(&((struct page *)page)->refcount,
						 memory_order_relaxed);
	head = compound_head((struct page *)page);
	f = page_flags(head);
	if ((f & (PG_slab | PG_large | PG_atomic | PG_head)) ||
	    page_is_meta(head))
		return 1;	/* a slab, a kmalloc block, kmem's own */
	if (!f && large_run_head(head))
		return 1;	/* inside a kmalloc run */
	return 0;		/* free, or inside an alloc_pages block */
}

KMEM_EXPORT void kmem_get_page(struct page *page)
{
	uint32_t rc;

	kmem_init();
	if (!kmem_page_valid(page) ||
	    (page_flags(page) & PG_STATE_MASK) != PG_alloc) {
		kmem_report_error("get_page(%p): not the first page of a block "
				  "from alloc_pages (page state %#x)",
				  (void *)page, kmem_page_valid(page) ?
				  page_flags(page) : 0);
		return;
	}
	rc = atomic_load_explicit(&page->refcount, memory_order_relaxed);
	do {
		if (rc == 0 || rc == UINT32_MAX) {
			kmem_report_error("get_page(%p): reference count %u: "
					  "the page is being freed, or the "
					  "count would overflow", (void *)page,
					  rc);
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(
		&page->refcount, &rc, rc + 1, memory_order_relaxed,
		memory_order_relaxed));
}

KMEM_EXPORT void kmem_put_page(struct page *page)
{
	if (!page)
		return;
	kmem_init();
	if (!kmem_page_valid(page) ||
	    (page_flags(page) & PG_STATE_MASK) != PG_alloc) {
		kmem_report_error("put_page(%p): not the first page of a block "
				  "from alloc_pages (page state %#x)",
				  (void *)page, kmem_page_valid(page) ?
				  page_flags(page) : 0);
		return;
	}
	free_pages_checked("put_page", page_address(page), page->order);
	purge_maybe_start();
}

KMEM_EXPORT unsigned long kmem_page_to_pfn(const struct page *page)
{
	return kmem_page_valid(page) ? (unsigned long)page_to_pfn(page) : 0;
}

KMEM_EXPORT struct page *kmem_pfn_to_page(unsigned long pfn)
{
	if (pfn >= (1UL << (VA_BITS - PAGE_SHIFT)) ||
	    !kmem_addr_in_heap((void *)(pfn << PAGE_SHIFT)))
		return NULL;
	return pfn_to_page(pfn);
}

KMEM_EXPORT int kmem_page_zone(const struct page *page)
{
	int zid;

	if (!kmem_page_valid(page))
		return -1;
	zid = pagemap_zone_of(page_address(page));
	return zid < MAX_NR_ZONES ? zid : ZONE_NORMAL;	/* the reserve */
}

KMEM_EXPORT void kmem_free_pages_addr(unsigned long addr, unsigned int order)
{
	if (!addr)
		return;
	kmem_init();	/* KMEM_ABORT must be read before any report */
	free_pages_checked("free_pages", (void *)addr, order);
	purge_maybe_start();
}
