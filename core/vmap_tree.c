/* SPDX-License-Identifier: MIT */
/*
 * core/vmap_tree.c - the index of vmalloc areas by address.
 *
 * Layer: under vmalloc.c, above os.c.  Owns a radix tree keyed by page
 * number over the 47-bit address space, 11/12/12 bits: a static root of
 * 2048 pointers, then inner nodes and leaves of 4096 slots (32 KiB, one
 * mmap each).  A leaf slot holds whatever vmalloc.c stores for that page
 * (the vm_struct of the area that starts there).
 *
 * Why not liburcu's lock-free hash table, as the design brief suggests:
 * liburcu 0.13 (Debian 12) has no cds_lfht_new_with_flavor_alloc (it came
 * in 0.14), so the table's bucket arrays would come from malloc - malloc
 * called from inside malloc under LD_PRELOAD - and its resizes run
 * call_rcu work that allocates too.  The tree needs no allocator but mmap.
 *
 * Concurrency: nodes are installed with a compare-and-swap outside any
 * lock (the loser unmaps its node) and never freed, so readers do acquire
 * loads down the path and take no lock.
 */
#include "vmap_tree.h"

#include "os.h"

#define RT_BITS_L0 11
#define RT_BITS_L1 12
#define RT_BITS_L2 12
_Static_assert(RT_BITS_L0 + RT_BITS_L1 + RT_BITS_L2 + PAGE_SHIFT == VA_BITS,
	       "radix tree must cover the 47-bit address space");
_Static_assert(RT_BITS_L1 == RT_BITS_L2, "inner nodes and leaves share a size");
#define RT_NODE_SLOTS (1UL << RT_BITS_L1)
#define RT_NODE_BYTES (RT_NODE_SLOTS * sizeof(void *))

struct rt_node {
	_Atomic(void *) slot[RT_NODE_SLOTS];	/* child nodes or values */
};

static _Atomic(struct rt_node *) rt_root[1UL << RT_BITS_L0];
static _Atomic size_t nr_nodes;

static inline uintptr_t rt_pfn(const void *addr)
{
	return (uintptr_t)addr >> PAGE_SHIFT;
}

static inline struct rt_node *rt_load(_Atomic(void *) *slot)
{
	return atomic_load_explicit(slot, memory_order_acquire);
}

_Atomic(void *) *vmap_tree_slot(const void *addr)
{
	uintptr_t pfn = rt_pfn(addr);
	struct rt_node *l1, *leaf;

	if (unlikely((uintptr_t)addr >> VA_BITS))
		return NULL;
	l1 = atomic_load_explicit(&rt_root[pfn >> (RT_BITS_L1 + RT_BITS_L2)],
				  memory_order_acquire);
	if (!l1)
		return NULL;
	leaf = rt_load(&l1->slot[(pfn >> RT_BITS_L2) & (RT_NODE_SLOTS - 1)]);
	if (!leaf)
		return NULL;
	return &leaf->slot[pfn & (RT_NODE_SLOTS - 1)];
}

/* Install a node into slot unless one is there; takes no lock. */
static struct rt_node *rt_install(_Atomic(void *) *slot)
{
	struct rt_node *node = rt_load(slot), *fresh;
	void *expected = NULL;

	if (node)
		return node;
	fresh = os_mmap(NULL, RT_NODE_BYTES, OS_PROT_RW, false, NULL);
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh,
						    memory_order_acq_rel,
						    memory_order_acquire)) {
		atomic_fetch_add_explicit(&nr_nodes, 1, memory_order_relaxed);
		return fresh;
	}
	if (os_munmap(fresh, RT_NODE_BYTES))	/* lost the race */
		kmem_pr_err("vmalloc: munmap(%p) of a tree node failed", fresh);
	return expected;
}

_Atomic(void *) *vmap_tree_prepare(const void *addr)
{
	uintptr_t pfn = rt_pfn(addr);
	struct rt_node *l1, *leaf;

	if ((uintptr_t)addr >> VA_BITS)
		return NULL;
	l1 = rt_install((_Atomic(void *) *)&rt_root[pfn >> (RT_BITS_L1 +
							     RT_BITS_L2)]);
	if (!l1)
		return NULL;
	leaf = rt_install(&l1->slot[(pfn >> RT_BITS_L2) & (RT_NODE_SLOTS - 1)]);
	if (!leaf)
		return NULL;
	return &leaf->slot[pfn & (RT_NODE_SLOTS - 1)];
}

size_t vmap_tree_nodes(void)
{
	return atomic_load_explicit(&nr_nodes, memory_order_relaxed);
}
