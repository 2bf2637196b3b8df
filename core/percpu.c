/* SPDX-License-Identifier: MIT */
/*
 * core/percpu.c - per-CPU object caches ("magazines") over rseq, with a
 * per-thread fallback: the slow paths and the policy.
 *
 * Layer: between kmalloc.c (above) and depot.c / slab.c (below).  Owns the
 * per-CPU regions, the per-thread regions, the sampling countdowns in
 * their headers (when they fall due is sampler.c's policy), and the
 * policy that moves batches between a region and the depot (depot.c),
 * which stands in front of the slabs.  The region layout and the inline
 * fast paths are in percpu.h; the rseq critical sections in
 * rseq_x86_64.h; draining a region from outside its fast paths (remote
 * drains, the idle drain, the fork hooks) in percpu_drain.c, and what the
 * two files share in percpu_internal.h.
 *
 * Modes (KMEM_PERCPU, shown by percpu_mode_name()):
 *   rseq    one region per possible CPU, indexed by the rseq area's mm_cid
 *           (dense, about as many as running threads) where the kernel
 *           provides it, else cpu_id.  Pop, push and the batch moves are
 *           rseq critical sections: no lock, no atomic read-modify-write,
 *           and a signal handler that interrupts one makes the kernel
 *           restart it, so handlers may allocate.  A thread whose rseq
 *           registration failed takes the slow path every time.
 *   thread  one region per thread (pcpu_thread_region, initial-exec TLS),
 *           plain loads and stores guarded by hdr->busy: a signal handler
 *           that interrupts a fast path finds busy set and goes to the
 *           depot and slabs instead.  A pthread key destructor flushes the
 *           region when the thread exits; later frees go to the depot.
 *   off     every call goes to the depot and slabs.
 *
 * Batches: an empty stack takes batch[c] objects, from the depot first,
 * then from the slabs; a full stack gives batch[c] objects to the depot,
 * and only what the depot cannot hold goes to the slabs.
 *
 * Bounds: cap[c] = clamp(budget / size, 2, 253), budget =
 * KMEM_PERCPU_BYTES / 16, and the capacities of one region add up to at
 * most KMEM_PERCPU_BYTES beyond their starting ones (chunk_grow), so a
 * region holds at most KMEM_PERCPU_BYTES plus about PCPU_START_BYTES per
 * class used.  (Without the region's bound, CPython, which keeps some 45
 * classes busy, held 2.8 MB per CPU at its peak; with it its peak RSS is
 * 1 MiB lower at the same time.)  Regions whose slow paths saw no
 * activity for a second are drained by the purge thread (percpu_drain.c).
 *
 * Capacities grow (chunk_grow): a class's chunk in a region starts at cap
 * 0, so its first push or pop takes the slow path, which sets the cap to
 * about PCPU_START_BYTES of objects; every later refill of an empty stack
 * and every overflow of a full one doubles it, up to cap[c], and batches
 * are half the chunk's cap (at most PCPU_MAX_BATCH).  A class a program
 * uses now and then keeps a few KiB per CPU, a busy one reaches its full
 * cap within a handful of slow paths; a drained region starts over.  Before
 * (every cap at its maximum from the start, batches of up to 64 objects)
 * a program's first malloc of a size took 32 KiB of objects per CPU, and
 * setting a region up touched every chunk (80 KiB per CPU or thread).
 * Only the slow paths write cap, by compare-and-swap and only upwards
 * (a fast path that reads a stale cap merely takes the slow path), and a
 * region drain, which owns the region, puts it back to 0.
 *
 * Locks: none here (drain_lock is percpu_drain.c's).  Region set-up is
 * a compare-and-swap, so a signal handler or a fork never waits for it.
 */
#include "percpu_internal.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <string.h>

#include "debug.h"
#include "depot.h"
#include "options.h"
#include "os.h"
#include "sampler.h"
#include "slab.h"

#define PCPU_MAX_BATCH 64	/* objects moved per refill or drain */
#define PCPU_START_BYTES 4096	/* a class's first capacity in a region */

_Static_assert(PCPU_MAX_BATCH <= PCPU_CHUNK_SLOTS / 2, "a batch is half a stack");


/*
 * kmem's own rseq areas, per thread: rseq_own is registered with the
 * kernel by kmem where glibc does not register one of its own (glibc
 * before 2.35), or, under valgrind with KMEM_PERCPU=rseq, given a
 * per-thread region number to count the rseq fast path's instructions;
 * rseq_none never is, and the fast paths of thread and off modes try it
 * and fail at once (cpu_id < 0).
 */
#define RSEQ_CPU_ID_UNINITIALIZED 0xffffffffu
static __thread struct kmem_rseq_abi rseq_own
	__attribute__((tls_model("initial-exec"))) = {
	.cpu_id = RSEQ_CPU_ID_UNINITIALIZED };
static __thread struct kmem_rseq_abi rseq_none
	__attribute__((tls_model("initial-exec"))) = {
	.cpu_id = RSEQ_CPU_ID_UNINITIALIZED };
/* What the inline fast paths of percpu.h read; set by percpu_setup().
 * Until then rseq_off is 0, which the fast paths refuse (RSEQ_REGION). */
struct percpu_fast pcpu __read_mostly = { .mode = PCPU_OFF };

static __thread bool rseq_own_tried __attribute__((tls_model("initial-exec")));
enum { RSEQ_GLIBC, RSEQ_OWN, RSEQ_EMULATED } rseq_kind __read_mostly;
static _Atomic uint64_t emu_slots[PCPU_MAX_REGIONS / 64]; /* taken slots */

/* Those not static are read by percpu_drain.c too (percpu_internal.h). */
bool use_mm_cid __read_mostly;			/* index regions by mm_cid */
unsigned int nr_regions __read_mostly;		/* possible CPUs */
unsigned int nr_classes __read_mostly;
static struct kmem_cache *class_cache[PCPU_MAX_CLASSES];
size_t class_size[PCPU_MAX_CLASSES];
static uint32_t class_cap[PCPU_MAX_CLASSES];
static uint32_t class_batch[PCPU_MAX_CLASSES];
static uint32_t class_start[PCPU_MAX_CLASSES];	/* a chunk's first cap */
static size_t region_max_cached;	/* bytes of objects a region may hold */
/* Without a region (mode off, or a thread without one): a countdown of
 * this thread's own, decremented by percpu_sample_due itself. */
static __thread struct pcpu_sampler thread_sampler
	__attribute__((tls_model("initial-exec")));

/* CPU regions: 0 untouched, 1 being set up, 2 ready. */
_Atomic uint8_t region_state[PCPU_MAX_REGIONS];

/* Thread mode. */
enum { THREAD_NONE, THREAD_ACTIVE, THREAD_DEAD };
__thread struct pcpu_region_hdr *pcpu_thread_region
	__attribute__((tls_model("initial-exec")));
static __thread uint8_t thread_state __attribute__((tls_model("initial-exec")));
static pthread_key_t thread_key;
static bool thread_key_ok __read_mostly;
static _Atomic size_t nr_thread_regions;

/*
 * Set the countdown.  A region starts as zero pages (a CPU region's fresh
 * mapping, a thread region's __GFP_ZERO block), which read as "empty and
 * full" (cur == cap == 0) in every class, so the first operation of each
 * class takes the slow path, which gives the class its first capacity
 * (chunk_grow); the chunks of classes never used stay untouched.
 */
static void region_init(struct pcpu_region_hdr *r)
{
	sampler_init(&r->sample);
	r->reuse_rnd = os_random_u64() | 1;	/* reuse order (percpu.h) */
}

/* Give n objects of class cls to the depot, and what it cannot take to
 * the slabs. */
static void flush_objects(unsigned int cls, void **objs, size_t n)
{
	/* Mode off means no cache at all: not the depot either. */
	unsigned int k = n && READ_ONCE(pcpu.mode) != PCPU_OFF
				 ? depot_put(cls, objs, (unsigned int)n) : 0;

	kmem_probe(percpu_drain, cls, n);
	if (k < n)
		__kmem_cache_free_bulk(class_cache[cls], n - k, objs + k);
}

size_t region_flush(struct pcpu_region_hdr *r)
{
	size_t n = 0;

	for (unsigned int c = 0; c < nr_classes; c++) {
		struct pcpu_chunk *ch = region_chunk(r, c);
		uint32_t cur = READ_ONCE(ch->cur) & ~PCPU_LOCKED;

		flush_objects(c, ch->slot, cur);
		n += cur;
		if (ch->side[ch->sel & 1]) {	/* the reuse order's side */
			flush_objects(c, &ch->side[ch->sel & 1], 1);
			ch->side[ch->sel & 1] = NULL;
			n++;
		}
		if (READ_ONCE(ch->cap)) { /* untouched chunks stay untouched */
			atomic_fetch_sub_explicit(&r->cap_bytes,
						  READ_ONCE(ch->cap) *
							  class_size[c],
						  memory_order_relaxed);
			WRITE_ONCE(ch->cap, 0);	/* grows again from the start */
		}
		atomic_store_explicit((_Atomic uint32_t *)&ch->cur, 0,
				      memory_order_release);
	}
	return n;
}

/* ---- rseq mode ---- */

static __always_inline uint32_t rseq_index(void)
{
	return READ_ONCE(*(uint32_t *)((char *)__builtin_thread_pointer() +
				       pcpu.rseq_idx_off));
}

static __always_inline bool rseq_registered(void)
{
	struct kmem_rseq_abi *rs = (struct kmem_rseq_abi *)(
		(char *)__builtin_thread_pointer() + pcpu.rseq_off);

	return READ_ONCE(rs->cpu_id) < 0x80000000u;
}

static ptrdiff_t tls_offset(const void *p)
{
	return (const char *)p - (const char *)__builtin_thread_pointer();
}

/* Emulation under valgrind: a region number of this thread's own. */
static bool emu_take_slot(void)
{
	for (unsigned int i = 0; i < nr_regions; i++) {
		uint64_t bit = 1ULL << (i % 64), old;

		old = atomic_fetch_or(&emu_slots[i / 64], bit);
		if (!(old & bit)) {
			rseq_own.cpu_id = i;
			return true;
		}
	}
	return false;
}

static void emu_put_slot(void)
{
	uint32_t i = rseq_own.cpu_id;

	rseq_own.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
	atomic_fetch_and(&emu_slots[i / 64], ~(1ULL << (i % 64)));
}

/* A thread's first slow path where kmem owns the rseq area: register it
 * (or take an emulated slot).  Once per thread. */
static void rseq_own_register(void)
{
	rseq_own_tried = true;
	if (rseq_kind == RSEQ_OWN)
		os_rseq_register(&rseq_own, sizeof(rseq_own), KMEM_RSEQ_SIG);
	else if (rseq_kind == RSEQ_EMULATED)
		emu_take_slot();
}

/* Make sure the region of the CPU we run on exists (slow path). */
static void cpu_region_prepare(void)
{
	uint32_t cpu = rseq_index();
	uint8_t st = 0;

	if (cpu >= nr_regions)
		return;
	if (likely(atomic_load_explicit(&region_state[cpu],
					memory_order_acquire) == 2))
		return;
	if (atomic_compare_exchange_strong(&region_state[cpu], &st, 1)) {
		region_init(cpu_region(cpu));
		atomic_store_explicit(&region_state[cpu], 2,
				      memory_order_release);
	}
	/* Someone else is setting it up: this call just takes the slow
	 * path; a region that is not ready reads as empty and full. */
}

/* ---- thread mode ---- */

static void thread_exit_destructor(void *arg)
{
	(void)arg;
	percpu_thread_exit();
}

static struct pcpu_region_hdr *thread_region_create(void)
{
	size_t bytes = pcpu_chunk_id(nr_classes) << PCPU_CHUNK_ID_SHIFT;
	unsigned int order = 0;
	struct pcpu_region_hdr *r;
	struct page *page;

	if (thread_state != THREAD_NONE)
		return NULL;
	/* Just the pages the layout uses. */
	while ((PAGE_SIZE << order) < bytes)
		order++;
	page = __alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_KMEM_SPARSE,
			     order);
	if (!page)
		return NULL;
	r = page_address(page);
	r->order = order;
	region_init(r);
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
	struct pcpu_region_hdr *r = pcpu_thread_region;

	if (rseq_kind == RSEQ_EMULATED && rseq_own.cpu_id < nr_regions) {
		/* The slot's region was this thread's alone. */
		region_flush(cpu_region(rseq_own.cpu_id));
		emu_put_slot();
	}
	thread_state = THREAD_DEAD;
	if (!r)
		return;
	WRITE_ONCE(r->busy, 1);		/* no fast path touches it again */
	barrier();
	pcpu_thread_region = NULL;
	barrier();
	region_flush(r);
	__free_pages_ok(virt_to_page(r), r->order);
	atomic_fetch_sub_explicit(&nr_thread_regions, 1, memory_order_relaxed);
}

/* ---- the slow paths ---- */

/*
 * Which cache this call may use: PCPU_RSEQ (this CPU's region, set up),
 * PCPU_THREAD (this thread's region, claimed: busy set, the caller clears
 * it) or PCPU_OFF (none: mode off, a dead thread, an unregistered thread
 * in rseq mode, a signal handler that interrupted a thread-mode fast
 * path, no memory for a region).
 */
static enum pcpu_mode slow_path_setup(void)
{
	struct pcpu_region_hdr *r;

	if (pcpu.mode == PCPU_RSEQ) {
		if (!rseq_registered() && rseq_kind != RSEQ_GLIBC &&
		    !rseq_own_tried)
			rseq_own_register();
		if (rseq_registered()) {
			cpu_region_prepare();
			r = cpu_region(rseq_index());
			WRITE_ONCE(r->activity, READ_ONCE(r->activity) + 1);
			return PCPU_RSEQ;
		}
		/* No rseq for this thread: a thread cache instead. */
	}
	if (pcpu.thread_off)
		return PCPU_OFF;
	r = pcpu_thread_region;
	if (!r && !(r = thread_region_create()))
		return PCPU_OFF;
	if (r->busy)
		return PCPU_OFF;
	WRITE_ONCE(r->busy, 1);
	barrier();
	r->activity++;
	return PCPU_THREAD;
}

static void slow_path_done(enum pcpu_mode m)
{
	if (m == PCPU_THREAD) {
		barrier();
		WRITE_ONCE(pcpu_thread_region->busy, 0);
	}
}

/* The region m we hold (slow path), or NULL. */
static struct pcpu_region_hdr *held_region(enum pcpu_mode m)
{
	uint32_t cpu;

	if (m == PCPU_THREAD)
		return pcpu_thread_region;
	if (m != PCPU_RSEQ || (cpu = rseq_index()) >= nr_regions)
		return NULL;
	return cpu_region(cpu);
}

/*
 * Grow the capacity of class cls in the region m we hold: from 0 (not
 * used yet, or drained) to class_start, else doubled, up to class_cap.
 * Returns the capacity it has now.  In rseq mode the thread may have
 * moved to another CPU since it looked the region up: then it grows that
 * CPU's chunk, which does no harm (caps only go up, a drain puts them
 * back).
 */
/*
 * The sum of cap * size over r's classes, stored as its cap_bytes.  The
 * counter can drift upwards: a push commit that read cap before another
 * CPU's chunk_grow raised it writes the old cap back, and the growth
 * stays counted.  So a growth the counter refuses looks at the real sum.
 */
static size_t region_cap_bytes(struct pcpu_region_hdr *r)
{
	size_t sum = 0;

	for (unsigned int c = 0; c < nr_classes; c++)
		sum += (size_t)READ_ONCE(region_chunk(r, c)->cap) * class_size[c];
	atomic_store_explicit(&r->cap_bytes, sum, memory_order_relaxed);
	return sum;
}

/*
 * Whether a growth the counter refuses should look at the exact sum: one
 * refusal in RECOUNT_EVERY.  The sum reads a line of every class's chunk
 * (and maps the zero page under the untouched ones); a region at its
 * budget refuses at every refill and overflow, and summing each time was
 * 10% of frag-churn's samples.  The drift it corrects is rare (a thread
 * that moved CPUs between its look-up and its growth), so a refusal in
 * error lasts a few refills at most.
 */
#define RECOUNT_EVERY 64
static bool region_recount_due(struct pcpu_region_hdr *r)
{
	uint32_t n = READ_ONCE(r->grows_refused);

	WRITE_ONCE(r->grows_refused, n + 1);	/* a lost count does no harm */
	return n % RECOUNT_EVERY == 0;
}

static uint32_t chunk_grow(enum pcpu_mode m, unsigned int cls)
{
	struct pcpu_region_hdr *r = held_region(m);
	size_t budget = (size_t)kmem_opt(OPT_PERCPU_BYTES), used;
	struct pcpu_chunk *c;
	_Atomic uint16_t *capp;
	uint16_t cap, want;

	if (!r)
		return 0;
	c = region_chunk(r, cls);
	capp = (_Atomic uint16_t *)&c->cap;
	cap = atomic_load_explicit(capp, memory_order_relaxed);
	do {
		want = (uint16_t)(cap ? MIN(cap * 2u, class_cap[cls])
					: class_start[cls]);
		/* Beyond its start a class grows only within the region's
		 * budget (the other classes' capacities count). */
		used = atomic_load_explicit(&r->cap_bytes,
					    memory_order_relaxed);
		if (cap && want > cap &&
		    used + (want - cap) * class_size[cls] > budget &&
		    region_recount_due(r))
			used = region_cap_bytes(r);	/* the exact sum */
		if (cap && want > cap &&
		    used + (want - cap) * class_size[cls] > budget)
			want = (uint16_t)(used >= budget ? cap
				: MIN((size_t)want,
				      cap + (budget - used) / class_size[cls]));
		if (want <= cap)
			return cap;
	} while (!atomic_compare_exchange_weak_explicit(capp, &cap, want,
							memory_order_relaxed,
							memory_order_relaxed));
	atomic_fetch_add_explicit(&r->cap_bytes,
				  (size_t)(want - cap) * class_size[cls],
				  memory_order_relaxed);
	return want;
}

/* Objects moved at once for a chunk of capacity cap. */
static uint32_t chunk_batch(unsigned int cls, uint32_t cap)
{
	return MAX(MIN(class_batch[cls], cap / 2), 1u);
}

/* Objects for class cls: the depot first, then the slabs. */
static unsigned int take_batch(struct kmem_cache *s, unsigned int cls,
			       gfp_t gfp, void **buf, unsigned int n)
{
	unsigned int got = READ_ONCE(pcpu.mode) != PCPU_OFF
				   ? depot_get(cls, buf, n, gfp) : 0;
	int more;

	if (got)
		return got;
	more = __kmem_cache_alloc_bulk(s, gfp & ~__GFP_ZERO, n, buf);
	kmem_probe(percpu_refill, cls, more);
	return more > 0 ? (unsigned int)more : 0;
}

/* Push buf[0..n) into the region m we hold; returns how many it took. */
static uint32_t region_push_batch(enum pcpu_mode m, unsigned int cls,
				  void **buf, uint32_t n)
{
	uint32_t taken = 0;

#if HAVE_RSEQ_ASM
	if (m == PCPU_RSEQ)
		return rseq_push_batch(pcpu.rseq_off, pcpu.rseq_idx_off,
				       pcpu.cpu_regions, pcpu_chunk_id(cls),
				       buf, n);
#endif
	if (m == PCPU_THREAD) {
		struct pcpu_chunk *c = region_chunk(pcpu_thread_region, cls);

		while (taken < n && c->cur < c->cap)
			c->slot[c->cur++] = buf[taken++];
	}
	return taken;
}

static uint32_t region_pop_batch(enum pcpu_mode m, unsigned int cls,
				 void **buf, uint32_t n)
{
	uint32_t k = 0;

#if HAVE_RSEQ_ASM
	if (m == PCPU_RSEQ)
		return rseq_pop_batch(pcpu.rseq_off, pcpu.rseq_idx_off,
				      pcpu.cpu_regions, pcpu_chunk_id(cls),
				      buf, n);
#endif
	if (m == PCPU_THREAD) {
		struct pcpu_chunk *c = region_chunk(pcpu_thread_region, cls);

		while (k < n && c->cur)
			buf[k++] = c->slot[--c->cur];
	}
	return k;
}

/* obj (free-tagged) onto class cls of the region m we hold, in the
 * reuse order of percpu.h, as a fast-path free would; false if full. */
static bool region_push(enum pcpu_mode m, unsigned int cls, void *obj)
{
#if HAVE_RSEQ_ASM
	uintptr_t chunk = pcpu_chunk_id(cls);

	if (m == PCPU_RSEQ) {
		if (pcpu.reuse_lifo)
			return rseq_push_lifo(pcpu.rseq_off, pcpu.rseq_idx_off,
					      chunk, obj);
		/* An empty side slot (rseq_push refuses it) takes obj. */
		return rseq_push(pcpu.rseq_off, pcpu.rseq_idx_off, chunk, obj) ||
		       rseq_push_side(pcpu.rseq_off, pcpu.rseq_idx_off, chunk,
				      obj);
	}
#endif
	if (m == PCPU_THREAD)
		return chunk_push(pcpu_thread_region,
				  region_chunk(pcpu_thread_region, cls), obj);
	return false;
}

/* One object off the top of class cls in the region m we hold, or NULL. */
static void *region_pop(enum pcpu_mode m, unsigned int cls)
{
	void *obj = NULL;

	if (region_pop_batch(m, cls, &obj, 1))
		return obj;
	return NULL;
}

void *percpu_alloc(struct kmem_cache *s, unsigned int cls, gfp_t gfp)
{
	void *buf[PCPU_MAX_BATCH];
	enum pcpu_mode m;
	unsigned int got;
	uint32_t taken = 0, cap = 0;
	void *obj = NULL;

	/* The fast path may have failed only because the region was not
	 * set up yet, or for the sampling countdown: try the stack once.
	 * Empty: the stack may hold more from now on (chunk_grow). */
	m = slow_path_setup();
	if (m != PCPU_OFF && class_cap[cls]) {
		obj = region_pop(m, cls);
		if (!obj)
			cap = chunk_grow(m, cls);
	}
	slow_path_done(m);
	if (obj)
		return obj;
	if (m == PCPU_OFF || !class_cap[cls])
		return take_batch(s, cls, gfp, buf, 1) ? buf[0] : NULL;

	/* Refill: a batch from the depot or the slabs, taken with no
	 * region claimed; one object for the caller, the rest stacked. */
	got = take_batch(s, cls, gfp, buf, chunk_batch(cls, cap));
	if (!got)
		return NULL;
	/* Hand the batch out in its own order (the slab's: ascending
	 * addresses within a shuffle group): the caller gets buf[0], and the
	 * rest go onto the stack reversed, so that buf[1] comes off next.
	 * The neighbour after a block is then, most of the time, a free
	 * object of the same slab, whose free tag catches an overflow. */
	obj = buf[0];
	for (unsigned int i = 1, j = got - 1; i < j; i++, j--) {
		void *t = buf[i];

		buf[i] = buf[j];
		buf[j] = t;
	}
	got--;
	if (got) {
		m = slow_path_setup();
		if (m != PCPU_OFF)
			taken = region_push_batch(m, cls, buf + 1, got);
		slow_path_done(m);
		if (taken < got)
			flush_objects(cls, buf + 1 + taken, got - taken);
	}
	return obj;
}

void percpu_free(struct kmem_cache *s, unsigned int cls, void *obj)
{
	void *buf[PCPU_MAX_BATCH + 1];
	enum pcpu_mode m;
	uint32_t n = 0;

	(void)s;
	m = slow_path_setup();
	if (m != PCPU_OFF && class_cap[cls]) {
		/* Full (or not used yet): room for more first, else half of
		 * it goes to the depot. */
		uint32_t cap = chunk_grow(m, cls);

		if (!region_push(m, cls, obj)) {
			n = region_pop_batch(m, cls, buf,
					     chunk_batch(cls, cap));
			if (!region_push(m, cls, obj))
				buf[n++] = obj;
		}
	} else {
		buf[n++] = obj;
	}
	slow_path_done(m);
	flush_objects(cls, buf, n);
}

unsigned int percpu_nr_cpu_slots(void)
{
	return pcpu.mode == PCPU_RSEQ ? nr_regions : 0;
}

bool percpu_rseq_thread_ready(void)
{
	if (pcpu.mode != PCPU_RSEQ)
		return false;
	if (!rseq_registered() && rseq_kind != RSEQ_GLIBC && !rseq_own_tried)
		rseq_own_register();
	return rseq_registered() && rseq_index() < nr_regions;
}

unsigned int percpu_sample_due(size_t size, bool counted)
{
	struct pcpu_region_hdr *r = NULL;
	struct pcpu_sampler *sm;

	/* An allocation no fast pop counted (the library's own entries,
	 * blocks past the slabs, a realloc's move, an alignment no class
	 * has) runs down this thread's countdown: a second sampler over the
	 * allocations the first never sees, so that together they count
	 * every byte once.  Until 2026-12-02 they were counted only while
	 * this CPU had no region, so kmem_kmalloc was sampled 1000 times
	 * less often than asked once it had one. */
	if (counted && pcpu.mode == PCPU_RSEQ && rseq_registered()) {
		uint32_t cpu = rseq_index();

		if (cpu < nr_regions &&
		    atomic_load_explicit(&region_state[cpu],
					 memory_order_acquire) == 2)
			r = cpu_region(cpu);
	} else if (counted && pcpu.mode == PCPU_THREAD) {
		r = pcpu_thread_region;
	}
	if (r) {
		sm = &r->sample;
	} else {
		/* No fast path counted this allocation: count it here. */
		sm = &thread_sampler;
		sm->left -= (int64_t)size;
	}
	if (likely(READ_ONCE(sm->left) >= 0))
		return 0;
	return sampler_due(sm);
}

/* ---- modes, setup ---- */

const char *percpu_mode_name(void)
{
	switch (pcpu.mode) {
	case PCPU_RSEQ:
		if (rseq_kind == RSEQ_EMULATED)
			return "rseq (emulated under valgrind: a region per thread)";
		if (rseq_kind == RSEQ_OWN)
			return use_mm_cid ? "rseq (per-CPU, indexed by mm_cid, kmem's registration)"
					  : "rseq (per-CPU, indexed by cpu_id, kmem's registration)";
		return use_mm_cid ? "rseq (per-CPU, indexed by mm_cid)"
				  : "rseq (per-CPU, indexed by cpu_id)";
	case PCPU_THREAD:
		return "thread (per-thread caches)";
	default:
		return "off (no object caches)";
	}
}

enum pcpu_mode percpu_mode(void)
{
	return pcpu.mode;
}

size_t percpu_region_limit(void)
{
	return region_max_cached;
}

void percpu_disable(void)
{
	enum pcpu_mode was = pcpu.mode;

	if (was == PCPU_OFF)
		return;
	/* Every fast path fails from now on: the rseq attempt at its first
	 * test, the thread caches on thread_off. */
	WRITE_ONCE(pcpu.thread_off, true);
	WRITE_ONCE(pcpu.rseq_idx_off, tls_offset(&rseq_none) +
		   (ptrdiff_t)offsetof(struct kmem_rseq_abi, cpu_id));
	WRITE_ONCE(pcpu.rseq_off, tls_offset(&rseq_none));
	percpu_drain_all();
	WRITE_ONCE(pcpu.mode, PCPU_OFF);
	depot_shrink(true);	/* what reached it before the store above */
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/*
 * Turn rseq mode on if the kernel, glibc and this machine allow it: with
 * glibc's registration where there is one; with kmem's own where glibc is
 * too old to register (no __rseq_offset); never against a registration
 * that glibc was told not to make (GLIBC_TUNABLES=glibc.pthread.rseq=0).
 * Under valgrind (no rseq system call) KMEM_PERCPU=rseq emulates it:
 * each thread gets a region of its own, so the rseq code runs as it runs
 * on a real CPU, for instruction counts; it is not safe against a signal
 * handler that allocates, which real rseq is.
 */
static void rseq_setup(const char *want)
{
	struct kmem_rseq_abi *rs = os_rseq_area();
	unsigned int n = os_nr_possible_cpus();
	bool valgrind = os_running_on_valgrind();
	void *p;

	if (!HAVE_RSEQ_ASM)
		return;
	if (valgrind && streq(want, "rseq")) {
		rseq_kind = RSEQ_EMULATED;
		n = 64;
	} else if (rs) {
		rseq_kind = RSEQ_GLIBC;
	} else if (!os_glibc_knows_rseq() && !valgrind &&
		   os_rseq_register(&rseq_own, sizeof(rseq_own),
				    KMEM_RSEQ_SIG) == 0) {
		rseq_kind = RSEQ_OWN;
		rseq_own_tried = true;
		rs = &rseq_own;
	} else {
		if (streq(want, "rseq"))
			kmem_pr_err("KMEM_PERCPU=rseq: rseq is not available "
				    "here; using per-thread caches");
		return;
	}
	if (n == 0 || n > PCPU_MAX_REGIONS) {
		kmem_pr_err("KMEM_PERCPU: %u possible CPUs (from sysfs); "
			    "using per-thread caches", n);
		return;
	}
	/* Untouched regions cost address space only. */
	p = os_mmap(NULL, (size_t)n << PCPU_REGION_SHIFT, OS_PROT_RW, false,
		    NULL);
	if (!p)
		return;
	nr_regions = n;
	pcpu.cpu_regions = (uintptr_t)p;
	if (rseq_kind == RSEQ_EMULATED) {
		rs = &rseq_own;
		emu_take_slot();
		rseq_own_tried = true;
		use_mm_cid = false;
	} else {
		use_mm_cid = os_rseq_feature_size() >= 28;
		can_fence = os_membarrier(
			MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0;
	}
	pcpu.rseq_off = tls_offset(rs);
	pcpu.rseq_idx_off = pcpu.rseq_off +
		(ptrdiff_t)(use_mm_cid ? offsetof(struct kmem_rseq_abi, mm_cid)
				       : offsetof(struct kmem_rseq_abi, cpu_id));
	pcpu.mode = PCPU_RSEQ;
}

int percpu_setup(struct kmem_cache *const *caches, const size_t *sizes,
		 unsigned int nr)
{
	const char *want = kmem_opt_str(OPT_PERCPU);
	size_t budget = (size_t)kmem_opt(OPT_PERCPU_BYTES) / 16;
	int err;

	kmem_assert(nr <= PCPU_MAX_CLASSES);
	nr_classes = nr;
	region_max_cached = 0;
	for (unsigned int c = 0; c < nr; c++) {
		size_t cap = budget / sizes[c];

		cap = cap < 2 ? 2 : cap > PCPU_CHUNK_SLOTS ? PCPU_CHUNK_SLOTS : cap;
		if (!caches[c])	/* a debug class: every call is checked */
			cap = 0;
		class_cache[c] = caches[c];
		class_size[c] = sizes[c];
		class_cap[c] = (uint32_t)cap;
		class_batch[c] = (uint32_t)MAX(MIN(cap / 2, (size_t)PCPU_MAX_BATCH),
					       (size_t)1);
		class_start[c] = (uint32_t)MIN(MAX(PCPU_START_BYTES / sizes[c],
						   (size_t)2), cap);
		region_max_cached += cap * sizes[c];
	}
	sampler_setup();
	pcpu.reuse_lifo = streq(kmem_opt_str(OPT_REUSE), "lifo");
	if (!pcpu.reuse_lifo && !streq(kmem_opt_str(OPT_REUSE), "random"))
		kmem_pr_err("KMEM_REUSE=%s is not random or lifo; using random",
			    kmem_opt_str(OPT_REUSE));
	err = depot_init(caches, sizes, class_batch, nr);
	if (err)
		return err;

	if (pthread_key_create(&thread_key, thread_exit_destructor) == 0)
		thread_key_ok = true;

	/* Until rseq_setup says otherwise, the fast paths try an area that
	 * is never registered, and go on to the thread caches. */
	pcpu.rseq_off = pcpu.rseq_idx_off = tls_offset(&rseq_none);
	pcpu.rseq_idx_off += offsetof(struct kmem_rseq_abi, cpu_id);
	pcpu.mode = PCPU_THREAD;
	if (streq(want, "off")) {
		pcpu.mode = PCPU_OFF;
		pcpu.thread_off = true;
	} else if (!streq(want, "thread")) {
		if (!streq(want, "auto") && !streq(want, "rseq"))
			kmem_pr_err("KMEM_PERCPU=%s is not auto, rseq, thread or "
				    "off; using auto", want);
		rseq_setup(want);
	}
	return 0;
}
