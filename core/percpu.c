/* SPDX-License-Identifier: MIT */
/*
 * core/percpu.c - per-CPU object caches ("magazines") over rseq, with a
 * per-thread fallback.
 *
 * Layer: between kmalloc.c (above) and slab.c (below).  Owns the per-CPU
 * regions, the per-thread regions, and the policy that moves objects in
 * batches between them and the slabs.  kmalloc registers its size classes
 * with percpu_setup(); debug classes get no cache (capacity 0).
 *
 * A region holds, for every class, an array of free object pointers (its
 * layout is in percpu.h, beside the inline fast paths percpu_pop and
 * percpu_push; this file has the slow paths and the policy).
 *
 * Modes (KMEM_PERCPU, shown by percpu_mode_name()):
 *   rseq    one region per CPU, indexed by the rseq area's mm_cid (dense,
 *           about as many as running threads) where the kernel provides
 *           it, else cpu_id.  Pop, push and the batch moves are rseq
 *           critical sections (rseq_x86_64.h): no lock, no atomic
 *           read-modify-write.  A thread whose rseq registration failed
 *           uses the thread mode.
 *   thread  one region per thread, in TLS; plain loads and stores.  A
 *           pthread key destructor flushes it when the thread exits; a
 *           free that arrives later (glibc frees after the last
 *           destructor) goes straight to the slab.
 *   off     every call goes to the slab layer.
 *
 * Draining a CPU's region from another thread (kmem_trim, idle drain):
 * set region->locked, then membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)
 * restarts any critical section in flight, and every new one sees the
 * lock and takes the slow path; the region is then ours to empty.
 *
 * Bounds: cap[cls] = clamp(budget / size, 2, PCPU_MAX_CAP), budget =
 * KMEM_PERCPU_BYTES / 16, so one region holds at most about
 * KMEM_PERCPU_BYTES (figure printed in the statistics).  Regions whose
 * slow path has not run for a second are drained by the next slow path of
 * any thread (at most one scan per second).
 *
 * Locks: drain_lock serialises remote drains and region setup.  It is
 * never taken on the fast path; slab locks are taken under it.
 */
#include "percpu.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <string.h>

#include "options.h"
#include "os.h"
#include "slab.h"

#define PCPU_MAX_CAP 256	/* objects per class and region */
#define PCPU_MAX_BATCH 64	/* objects moved per refill or drain */
#define PCPU_REGION_SIZE (1UL << PCPU_REGION_SHIFT)
#define PCPU_IDLE_MS 1000	/* a region idle this long is drained */

_Static_assert(PCPU_HDR_OFF + 8 * PCPU_MAX_CLASSES <= 1024,
	       "headers fit before the first slots");

/* What the inline fast paths of percpu.h read; set by percpu_setup(). */
struct percpu_fast pcpu = { .mode = PCPU_OFF };

static bool use_mm_cid;			/* index regions by mm_cid */
static bool can_fence;			/* membarrier RSEQ registered */
static unsigned int nr_classes;
static struct kmem_cache *class_cache[PCPU_MAX_CLASSES];
static size_t class_size[PCPU_MAX_CLASSES];
static uint32_t class_cap[PCPU_MAX_CLASSES];
static uint32_t class_batch[PCPU_MAX_CLASSES];
static size_t region_bytes;			/* bytes of one region in use */
static size_t region_max_cached;		/* bytes of objects a region may hold */

/* Which CPU regions have been set up, and their slow-path activity. */
static _Atomic uint8_t region_ready[KMEM_NR_CPUS];
static _Atomic uint32_t region_activity[KMEM_NR_CPUS];
static uint32_t region_seen[KMEM_NR_CPUS];	/* activity at the last scan */
static _Atomic uint64_t last_scan_ms;
static kmem_lock_t drain_lock = KMEM_LOCK_INIT;

/* Thread mode. */
enum { THREAD_NONE, THREAD_ACTIVE, THREAD_DEAD };
__thread struct pcpu_region *pcpu_thread_region
	__attribute__((tls_model("initial-exec")));
static __thread uint8_t thread_state __attribute__((tls_model("initial-exec")));
static pthread_key_t thread_key;
static bool thread_key_ok;
static _Atomic size_t nr_thread_regions;


/*
 * Set the capacities.  A CPU region starts as zero pages, which read as
 * "empty and full" (cur == cap == 0), so every operation on a region not
 * yet set up takes the slow path; only cap is written, since a thread
 * that migrated onto this CPU may already be using the region.
 */
static void region_init(struct pcpu_region *r, bool reset)
{
	for (unsigned int c = 0; c < nr_classes; c++) {
		if (reset)
			r->hdr[c].cur = 0;
		WRITE_ONCE(r->hdr[c].cap, class_cap[c]);
	}
}

/* Give objs back to class cls's cache, in slab-sized batches. */
static void flush_objects(unsigned int cls, void **objs, size_t n)
{
	kmem_probe(percpu_drain, cls, n);
	if (n)
		__kmem_cache_free_bulk(class_cache[cls], n, objs);
}

/* Empty every class of a region we own exclusively. */
static void region_flush(struct pcpu_region *r)
{
	for (unsigned int c = 0; c < nr_classes; c++) {
		struct pcpu_hdr *h = pcpu_hdr(r, c);

		flush_objects(c, pcpu_slots(r, c), h->cur);
		h->cur = 0;
	}
}

/* ---- rseq mode ---- */


static __always_inline uint32_t rseq_index(struct kmem_rseq_abi *rs)
{
	return READ_ONCE(*(uint32_t *)((char *)rs + pcpu.idx_off));
}

/* Make sure the region of the CPU we run on exists (slow path). */
static bool cpu_region_prepare(struct kmem_rseq_abi *rs)
{
	uint32_t cpu = rseq_index(rs);

	if (cpu >= KMEM_NR_CPUS)
		return false;
	if (likely(atomic_load_explicit(&region_ready[cpu], memory_order_acquire)))
		return true;
	kmem_lock(&drain_lock);
	if (!atomic_load_explicit(&region_ready[cpu], memory_order_relaxed)) {
		struct pcpu_region *r =
			(struct pcpu_region *)(pcpu.cpu_regions + (cpu << PCPU_REGION_SHIFT));

		region_init(r, false);
		atomic_store_explicit(&region_ready[cpu], 1, memory_order_release);
	}
	kmem_unlock(&drain_lock);
	return true;
}

/* Drain region `cpu` from any thread: lock, fence, empty, unlock. */
static void cpu_region_drain(unsigned int cpu)
{
	struct pcpu_region *r =
		(struct pcpu_region *)(pcpu.cpu_regions + ((uintptr_t)cpu << PCPU_REGION_SHIFT));
	unsigned int flags = 0;
	int err;

	atomic_store_explicit(&r->locked, 1, memory_order_seq_cst);
	if (!use_mm_cid)
		flags = MEMBARRIER_CMD_FLAG_CPU;
	err = os_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, flags, (int)cpu);
	if (err == EINVAL && flags) /* CPU offline: nothing runs there */
		err = 0;
	if (!err)
		region_flush(r);
	atomic_store_explicit(&r->locked, 0, memory_order_release);
}

static void maybe_idle_drain(unsigned int self)
{
	uint64_t now = os_now_ms();

	if (now - atomic_load_explicit(&last_scan_ms, memory_order_relaxed) <
	    PCPU_IDLE_MS || !can_fence || !kmem_trylock(&drain_lock))
		return;
	atomic_store_explicit(&last_scan_ms, now, memory_order_relaxed);
	for (unsigned int cpu = 0; cpu < KMEM_NR_CPUS; cpu++) {
		uint32_t act;

		if (!atomic_load_explicit(&region_ready[cpu], memory_order_acquire))
			continue;
		act = atomic_load_explicit(&region_activity[cpu],
					   memory_order_relaxed);
		if (act == region_seen[cpu] && cpu != self)
			cpu_region_drain(cpu);
		region_seen[cpu] = act;
	}
	kmem_unlock(&drain_lock);
}

static void note_activity(struct kmem_rseq_abi *rs)
{
	uint32_t cpu = rseq_index(rs);

	if (cpu < KMEM_NR_CPUS) {
		atomic_store_explicit(&region_activity[cpu],
				      atomic_load_explicit(&region_activity[cpu],
							   memory_order_relaxed) + 1,
				      memory_order_relaxed);
		maybe_idle_drain(cpu);
	}
}

/* ---- thread mode ---- */

static void thread_exit_destructor(void *arg)
{
	(void)arg;
	percpu_thread_exit();
}

static struct pcpu_region *thread_region_create(void)
{
	struct page *page;
	struct pcpu_region *r;
	unsigned int order = PCPU_REGION_SHIFT - PAGE_SHIFT;

	if (thread_state != THREAD_NONE)
		return NULL;
	/* Just the pages the layout uses. */
	while (order > 0 && (PAGE_SIZE << (order - 1)) >= region_bytes)
		order--;
	page = __alloc_pages(GFP_KERNEL, order);
	if (!page)
		return NULL;
	r = page_address(page);
	region_init(r, true);
	atomic_store_explicit(&r->locked, 0, memory_order_relaxed);
	r->_pad = order;
	pcpu_thread_region = r;
	thread_state = THREAD_ACTIVE;
	atomic_fetch_add_explicit(&nr_thread_regions, 1, memory_order_relaxed);
	/* Key values below PTHREAD_KEY_2NDLEVEL_SIZE need no allocation. */
	if (thread_key_ok)
		pthread_setspecific(thread_key, r);
	return r;
}

void percpu_thread_exit(void)
{
	struct pcpu_region *r = pcpu_thread_region;

	thread_state = THREAD_DEAD;
	pcpu_thread_region = NULL;
	if (!r)
		return;
	region_flush(r);
	__free_pages_ok(virt_to_page(r), r->_pad);
	atomic_fetch_sub_explicit(&nr_thread_regions, 1, memory_order_relaxed);
}

/* ---- the slow paths ---- */

static __noinline void *alloc_refill(struct kmem_cache *s, unsigned int cls,
				     gfp_t gfp)
{
	void *buf[PCPU_MAX_BATCH];
	int got;

	got = __kmem_cache_alloc_bulk(s, gfp & ~__GFP_ZERO, class_batch[cls], buf);
	kmem_probe(percpu_refill, cls, got);
	if (got <= 0)
		return NULL;
	got--;
	if (got) {
		uint32_t taken = 0;

#if HAVE_RSEQ_ASM
		if (pcpu.mode == PCPU_RSEQ && !pcpu_thread_region) {
			struct kmem_rseq_abi *rs = this_rseq();

			taken = rseq_push_batch(rs, pcpu.idx_off, pcpu.cpu_regions,
						PCPU_HDR_OFF + 8 * cls, pcpu.slot_off[cls],
						buf, (uint32_t)got);
		} else
#endif
		if (pcpu_thread_region) {
			struct pcpu_hdr *h = pcpu_hdr(pcpu_thread_region, cls);
			void **slots = pcpu_slots(pcpu_thread_region, cls);

			while (taken < (uint32_t)got && h->cur < h->cap)
				slots[h->cur++] = buf[taken++];
		}
		flush_objects(cls, buf + taken, (size_t)got - taken);
	}
	return buf[got];
}

static __noinline void free_drain(struct kmem_cache *s, unsigned int cls,
				  void *obj)
{
	void *buf[PCPU_MAX_BATCH + 1];
	uint32_t n = 0;

#if HAVE_RSEQ_ASM
	if (pcpu.mode == PCPU_RSEQ && !pcpu_thread_region) {
		struct kmem_rseq_abi *rs = this_rseq();
		uintptr_t hdr = PCPU_HDR_OFF + 8 * cls;

		n = rseq_pop_batch(rs, pcpu.idx_off, pcpu.cpu_regions, hdr, pcpu.slot_off[cls],
				   buf, class_batch[cls]);
		if (rseq_push(rs, pcpu.idx_off, &pcpu.cpu_regions, hdr, &pcpu.slot_off[cls], obj) !=
		    RSEQ_PUSH_OK)
			buf[n++] = obj;
	} else
#endif
	if (pcpu_thread_region) {
		struct pcpu_hdr *h = pcpu_hdr(pcpu_thread_region, cls);
		void **slots = pcpu_slots(pcpu_thread_region, cls);

		while (n < class_batch[cls] && h->cur)
			buf[n++] = slots[--h->cur];
		if (h->cur < h->cap)
			slots[h->cur++] = obj;
		else
			buf[n++] = obj;
	} else {
		buf[n++] = obj;
	}
	(void)s;
	flush_objects(cls, buf, n);
}

/*
 * Decide which cache this thread uses now: false means "no cache at all,
 * go to the slab" (mode off, a dead thread, no memory for a region).
 */
static bool slow_path_setup(void)
{
	if (pcpu.mode == PCPU_RSEQ && !pcpu_thread_region) {
		struct kmem_rseq_abi *rs = this_rseq();

		if (READ_ONCE(rs->cpu_id) < 0x80000000u) {
			if (!cpu_region_prepare(rs))
				return false;
			note_activity(rs);
			return true;
		}
		/* This thread has no rseq registration: use a thread cache. */
	}
	if (pcpu.mode == PCPU_OFF)
		return false;
	return pcpu_thread_region || thread_region_create();
}

static __noinline void *percpu_alloc_slow(struct kmem_cache *s,
					  unsigned int cls, gfp_t gfp)
{
	void *obj;

	if (slow_path_setup())
		obj = alloc_refill(s, cls, gfp);
	else
		obj = __kmem_cache_alloc(s, gfp & ~__GFP_ZERO);
	if (obj && (gfp & __GFP_ZERO))
		memset(obj, 0, class_size[cls]);
	return obj;
}

/* The object freed last on this CPU or thread is being freed again. */
static __cold void report_double_free(struct kmem_cache *s, void *obj)
{
	kmem_report_error("free(%p): double free of an object of cache %s "
			  "(it is already in this CPU's free cache)", obj,
			  kmem_cache_name(s));
}

static __noinline void percpu_free_slow(struct kmem_cache *s, unsigned int cls,
					void *obj, uint32_t why)
{
	if (why == RSEQ_PUSH_DOUBLE)
		report_double_free(s, obj);
	else if (!slow_path_setup())
		__kmem_cache_free(s, obj);
	else
		free_drain(s, cls, obj);
}

/*
 * percpu_pop()/percpu_push() (percpu.h) are the fast paths; these add the
 * slow paths, for callers inside kmem (kzalloc, krealloc, the slow halves
 * of malloc and free).
 */
void *percpu_alloc(struct kmem_cache *s, unsigned int cls, gfp_t gfp)
{
	void *obj = percpu_pop(cls);

	if (unlikely(!obj))
		return percpu_alloc_slow(s, cls, gfp);
	if (unlikely(gfp & __GFP_ZERO))
		memset(obj, 0, class_size[cls]);
	return obj;
}

void percpu_free(struct kmem_cache *s, unsigned int cls, void *obj)
{
	uint32_t r = percpu_push(cls, obj);

	if (unlikely(r != RSEQ_PUSH_OK))
		percpu_free_slow(s, cls, obj, r);
}

/* ---- setup, statistics, drain, fork ---- */

const char *percpu_mode_name(void)
{
	switch (pcpu.mode) {
	case PCPU_RSEQ:
		return use_mm_cid ? "rseq (per-CPU, indexed by mm_cid)"
				  : "rseq (per-CPU, indexed by cpu_id)";
	case PCPU_THREAD:
		return "thread (per-thread caches)";
	default:
		return "off (no object caches)";
	}
}

static size_t region_cached_bytes(struct pcpu_region *r)
{
	size_t bytes = 0;

	for (unsigned int c = 0; c < nr_classes; c++)
		bytes += (size_t)READ_ONCE(r->hdr[c].cur) * class_size[c];
	return bytes;
}

size_t percpu_cached_bytes(void)
{
	size_t bytes = 0;

	if (pcpu.mode == PCPU_RSEQ)
		for (unsigned int cpu = 0; cpu < KMEM_NR_CPUS; cpu++)
			if (atomic_load_explicit(&region_ready[cpu], memory_order_acquire))
				bytes += region_cached_bytes(
					(struct pcpu_region *)(pcpu.cpu_regions +
							       ((uintptr_t)cpu << PCPU_REGION_SHIFT)));
	if (pcpu_thread_region)
		bytes += region_cached_bytes(pcpu_thread_region);
	return bytes;
}

size_t percpu_region_limit(void)
{
	return region_max_cached;
}

void percpu_drain_all(void)
{
	if (pcpu_thread_region)
		region_flush(pcpu_thread_region);
	if (pcpu.mode != PCPU_RSEQ || !can_fence)
		return;
	kmem_lock(&drain_lock);
	for (unsigned int cpu = 0; cpu < KMEM_NR_CPUS; cpu++)
		if (atomic_load_explicit(&region_ready[cpu], memory_order_acquire))
			cpu_region_drain(cpu);
	kmem_unlock(&drain_lock);
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int percpu_setup(struct kmem_cache *const *caches, const size_t *sizes,
		 unsigned int nr)
{
	const char *want = kmem_opt_str(OPT_PERCPU);
	size_t budget = (size_t)kmem_opt(OPT_PERCPU_BYTES) / 16;
	uintptr_t off = 1024;
	int err = 0;

	kmem_assert(nr <= PCPU_MAX_CLASSES);
	nr_classes = nr;
	region_max_cached = 0;
	for (unsigned int c = 0; c < nr; c++) {
		size_t cap = budget / sizes[c];

		cap = cap < 2 ? 2 : cap > PCPU_MAX_CAP ? PCPU_MAX_CAP : cap;
		if (!caches[c])	/* a debug class: every call is checked */
			cap = 0;
		class_cache[c] = caches[c];
		class_size[c] = sizes[c];
		class_cap[c] = (uint32_t)cap;
		class_batch[c] = (uint32_t)(cap / 2 > PCPU_MAX_BATCH ? PCPU_MAX_BATCH
				       : cap / 2 ? cap / 2 : 1);
		pcpu.slot_off[c] = off;
		off += cap * sizeof(void *);
		region_max_cached += cap * sizes[c];
	}
	region_bytes = off;
	kmem_assert(region_bytes <= PCPU_REGION_SIZE);

	if (pthread_key_create(&thread_key, thread_exit_destructor) == 0)
		thread_key_ok = true;

	pcpu.mode = PCPU_THREAD;
	if (streq(want, "off")) {
		pcpu.mode = PCPU_OFF;
	} else if (streq(want, "thread")) {
		pcpu.mode = PCPU_THREAD;
	} else {
		struct kmem_rseq_abi *rs = os_rseq_area();

		if (!streq(want, "auto") && !streq(want, "rseq"))
			kmem_pr_err("KMEM_PERCPU=%s is not auto, rseq, thread or off; "
				    "using auto", want);
		if (HAVE_RSEQ_ASM && rs) {
			/* Untouched regions cost address space only. */
			void *p = os_mmap(NULL, KMEM_NR_CPUS * PCPU_REGION_SIZE,
					  OS_PROT_RW, false, &err);

			if (p) {
				pcpu.cpu_regions = (uintptr_t)p;
				pcpu.rseq_off = (char *)rs - (char *)__builtin_thread_pointer();
				use_mm_cid = os_rseq_feature_size() >= 28;
				pcpu.idx_off = use_mm_cid ?
					offsetof(struct kmem_rseq_abi, mm_cid) :
					offsetof(struct kmem_rseq_abi, cpu_id);
				can_fence = os_membarrier(
					MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
					0, 0) == 0;
				pcpu.mode = PCPU_RSEQ;
			}
		} else if (streq(want, "rseq")) {
			kmem_pr_err("KMEM_PERCPU=rseq: rseq is not available here; "
				    "using per-thread caches");
		}
	}
	return 0;
}

void percpu_fork_prepare(void)
{
	kmem_lock(&drain_lock);
}

void percpu_fork_parent(void)
{
	kmem_unlock(&drain_lock);
}

void percpu_fork_child(void)
{
	kmem_lock_reinit(&drain_lock);
	/* The child is a new mm: register it for membarrier again. */
	if (pcpu.mode == PCPU_RSEQ)
		can_fence = os_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
					  0, 0) == 0;
}
