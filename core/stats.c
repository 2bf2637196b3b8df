/* SPDX-License-Identifier: MIT */
/*
 * core/stats.c - process-wide statistics and trimming: kmem_stats_print()
 * and kmem_trim() of <kmem.h>.
 *
 * Layer: top of core/ (beside kmalloc.c).  It may call every layer's
 * statistics and trim entry points: kmalloc_get_stats and
 * kmalloc_shrink_caches, percpu_*, kmem_slabinfo, vmalloc_*, buddy's
 * zone_get_stats
 * / kmem_buddyinfo / buddy_trim, pagemap_nr_sections, pagemap_dma_* and
 * pagemap_highmem_bytes, highmem_stats, os_rss_bytes.  It
 * owns the counters of the program's own mappings (struct kmem_user_maps),
 * which preload/mmap.c increments.
 *
 * Nothing here is on the allocation path: printing goes through stdio
 * (which may call malloc), and no allocator lock is held while it does;
 * each layer snapshots its figures under its own lock and prints after.
 * Figures from different layers are read one after another, so a snapshot
 * taken while other threads allocate is consistent per layer, not across
 * layers.
 */
#include "stats.h"

#include <stdio.h>

#include "buddy.h"
#include "kfence.h"
#include "highmem.h"
#include "kmalloc.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "percpu.h"
#include "slab.h"
#include "vmalloc.h"

struct kmem_user_maps kmem_user_maps;
static _Atomic size_t max_mapped;	/* high-water mark of t->mapped */

void kmem_get_totals(struct kmem_totals *t)
{
	struct kmalloc_stats ks;
	struct vmalloc_stats vs;
	struct zone_stats zs;
	size_t old;

	kmem_init();
	kmalloc_get_stats(&ks);
	vmalloc_get_stats(&vs);
	t->heap_mapped = pagemap_nr_sections() * SECTION_SIZE;
	t->vmalloc_mapped = vs.bytes + vs.cached_bytes;
	t->mapped = t->heap_mapped + t->vmalloc_mapped;
	t->resident = os_rss_bytes();
	t->slab_bytes = ks.slab_bytes;
	t->slab_inuse = ks.slab_inuse;
	t->large_bytes = ks.large_bytes;
	t->vmalloc_bytes = ks.vmalloc_bytes;
	t->vmalloc_areas = vs.nr_areas;
	t->percpu_cached = percpu_cached_bytes();
	t->buddy_free = 0;
	t->buddy_dirty = 0;
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		if (!zone_get_stats(zid, &zs))
			continue;
		t->buddy_free += (zs.nr_free + zs.nr_pcp) << PAGE_SHIFT;
		t->buddy_dirty += zs.nr_dirty << PAGE_SHIFT;
	}
	t->inuse = ks.slab_inuse + ks.large_bytes + ks.vmalloc_bytes;
	old = atomic_load_explicit(&max_mapped, memory_order_relaxed);
	while (old < t->mapped &&
	       !atomic_compare_exchange_weak_explicit(&max_mapped, &old,
						      t->mapped,
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
	t->max_mapped = MAX(old, t->mapped);
}

/* "123456789 (117.7 MiB)": exact bytes, then a human figure. */
static void print_size(FILE *out, const char *label, size_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024.0 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024.0;
		u++;
	}
	fprintf(out, "  %-22s %14zu  (%.1f %s)\n", label, bytes, v, units[u]);
}

static size_t load(_Atomic size_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

KMEM_EXPORT void kmem_stats_print(FILE *out)
{
	struct kmem_totals t;
	struct kfence_stats ks;
	struct kmem_user_maps *um = &kmem_user_maps;
	size_t user_live;

	kmem_init();
	fprintf(out, "==== kmem statistics (tid %d) ====\n", os_gettid());
	fflush(out);
	kmem_slabinfo(out);
	fprintf(out, "---- buddyinfo\n");
	fflush(out);
	kmem_buddyinfo(out);
	fprintf(out, "---- vmallocinfo\n");
	fflush(out);
	vmalloc_print(out);

	kmem_get_totals(&t);
	fprintf(out, "---- per-cpu caches: %s, holding %zu bytes\n",
		percpu_mode_name(), t.percpu_cached);
	kfence_get_stats(&ks);
	fprintf(out, "---- sampled guard blocks (KMEM_SAMPLE=%ld): %zu live, "
		"%zu so far, %zu skipped (pool full)\n", kmem_opt(OPT_SAMPLE),
		ks.allocated, ks.total, ks.skipped);
	fprintf(out, "---- totals\n");
	print_size(out, "mapped", t.mapped);
	print_size(out, "  heap sections", t.heap_mapped);
	print_size(out, "  vmalloc areas", t.vmalloc_mapped);
	print_size(out, "resident (process)", t.resident);
	print_size(out, "in use", t.inuse);
	print_size(out, "  slab objects", t.slab_inuse);
	print_size(out, "  page runs", t.large_bytes);
	print_size(out, "  vmalloc", t.vmalloc_bytes);
	print_size(out, "slabs (kmalloc)", t.slab_bytes);
	print_size(out, "free in zones", t.buddy_free);
	print_size(out, "  of which resident", t.buddy_dirty);
	if (pagemap_dma_pinned() || pagemap_highmem_bytes()) {
		struct highmem_stats hs;

		highmem_stats(&hs);
		fprintf(out, "---- zones: DMA and HighMem\n");
		print_size(out, "DMA pinned", pagemap_dma_pinned());
		if (pagemap_dma_limit() != SIZE_MAX)
			print_size(out, "  bound", pagemap_dma_limit());
		print_size(out, "HighMem file", pagemap_highmem_bytes());
		fprintf(out, "  kmap windows: %u in use, %u mapped, %u "
			"waiting, of %d\n", hs.windows_used, hs.windows_mapped,
			hs.waiters, LAST_PKMAP);
	}
	user_live = load(&um->bytes_mapped) - load(&um->bytes_unmapped);
	fprintf(out, "---- program's own mappings: %zu mmap, %zu munmap, "
		"%zu mremap, %zu refused\n", load(&um->nr_mmap),
		load(&um->nr_munmap), load(&um->nr_mremap),
		load(&um->nr_refused));
	print_size(out, "mapped by program", load(&um->bytes_mapped));
	print_size(out, "unmapped by program", load(&um->bytes_unmapped));
	print_size(out, "program's, live", user_live);
	fprintf(out, "---- signals held while a kmem lock was: %lu\n",
		os_signals_deferred());
	fprintf(out, "---- direct reclaims (memory exhausted, caches emptied): %lu\n",
		kmalloc_nr_reclaims());
	fflush(out);
}

KMEM_EXPORT int kmem_trim(void)
{
	size_t released;

	kmem_init();
	/* Top down: cached objects to slabs, empty slabs to the zones, then
	 * cached large areas and free pages back to the OS. */
	kmalloc_shrink_caches();
	released = vmalloc_trim();
	released += buddy_trim();
	return released != 0;
}
