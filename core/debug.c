/* SPDX-License-Identifier: MIT */
/*
 * core/debug.c - finding the user's memory bugs: poison, red zones, free
 * checks, call-site records, reports, the quarantine and valgrind's view
 * of the heap.  Walks over whole slabs (validation, the leak report) are
 * debug_walk.c's.
 *
 * Layer: beside slab.c, which calls it through the hooks of debug.h; it
 * calls slab.c (the list of caches, freeing out of the quarantine),
 * printk (reports), options and os.c (time, thread id).  It owns the byte
 * layout of debug objects (debug.h's picture, debug_object.h's helpers)
 * and the checks on it.
 *
 * KMEM_DEBUG, as the kernel's slub_debug: "FZPU" letters, optionally
 * followed by ",name,name..." to give them to those caches (any cache;
 * "name*" matches a prefix); without a list they go to the kmalloc caches
 * (malloc's).  An empty letter list (or "1") means F, Z and P; "-" means
 * none.  F = consistency checks (free-list walk on free), Z = red zones,
 * P = poison, U = store user (call sites of allocation and free).
 * KMEM_LEAK_REPORT=1 implies U for the kmalloc caches.
 *
 * Reports are formatted on the stack (kmem_snprintf) and written with
 * os_write; call sites are symbolised with dladdr, on the report path
 * only (glibc's dladdr does not allocate).  A report names the kind of
 * corruption, the cache, the object and its size, the first damaged byte,
 * where the object was allocated and freed, and dumps the damaged bytes;
 * then it aborts, or with KMEM_ABORT=0 restores the damaged pattern (so
 * the same damage is not reported twice) and lets the caller go on.
 *
 * Locks: report_lock serialises report output (taken under a cache lock:
 * order s->lock -> report_lock); quarantine_lock protects the quarantine
 * ring and is never held while freeing.  Validation and the leak report
 * take each cache's lock in turn.
 */
#include "debug_object.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "fork.h"
#include "os.h"
#include "sitestack.h"

#define RIGHT_RED_MIN 8		/* bytes of right red zone at least */
#define DUMP_BYTES 64		/* bytes dumped around the first bad one */
#define MAX_REPORTS 100		/* reports printed before going quiet */
#define QUARANTINE_SLOTS 16384	/* objects the quarantine holds at most */
#define QUARANTINE_VALGRIND (4UL << 20) /* default bytes under valgrind */
_Static_assert(sizeof(struct track) == 16, "track layout");

bool debug_valgrind __read_mostly;
size_t debug_quarantine_max;
static kmem_lock_t report_lock __fork_lock = KMEM_LOCK_INIT;
static _Atomic unsigned int nr_reports;	/* reports printed so far */

/*
 * Is the program running under memcheck?  Only memcheck watches the heap;
 * under callgrind or cachegrind kmem keeps its normal paths, so that
 * instruction counts are those of a real run.  GET_VBITS is memcheck's own
 * request: it answers 1 there and the default 0 under any other tool.
 */
static bool under_memcheck(void)
{
	unsigned char byte = 0, vbits;

	if (!RUNNING_ON_VALGRIND)
		return false;
	return VALGRIND_GET_VBITS(&byte, &vbits, 1) == 1;
}

void debug_init(void)
{
	debug_valgrind = under_memcheck();
	debug_quarantine_max = (size_t)kmem_opt(OPT_QUARANTINE);
	if (!debug_quarantine_max && debug_valgrind &&
	    !os_getenv("KMEM_QUARANTINE"))
		debug_quarantine_max = QUARANTINE_VALGRIND;
}

bool debug_force_slow_path(void)
{
	return debug_valgrind || debug_quarantine_max;
}

/* ---- layout ---- */

unsigned int debug_calculate_layout(struct kmem_cache *s, bool *fp_outside)
{
	unsigned int inuse = ALIGN_UP(s->object_size, 8u);
	unsigned int meta = 0;

	s->red_left_pad = 0;
	if (s->flags & SLAB_RED_ZONE) {
		s->red_left_pad = ALIGN_UP(8u, s->align);
		inuse += RIGHT_RED_MIN;
	}
	s->inuse = inuse;
	if (s->flags & SLAB_STORE_USER)
		meta += 2 * sizeof(struct track);
	if (s->flags & SLAB_KMALLOC_SIZE)
		meta += sizeof(size_t);
	/* The body must stay intact while free (poison, red zone checks,
	 * constructed state): then the free pointer goes after it. */
	*fp_outside = s->ctor || (s->flags & SLAB_DEBUG_FLAGS);
	return meta;
}

/* ---- KMEM_DEBUG ---- */

static bool name_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == n && !memcmp(list, name, n))
			return true;
		if (len && list[len - 1] == '*' && n >= len - 1 &&
		    !memcmp(list, name, len - 1))
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

slab_flags_t debug_flags_for(const char *name, bool kmalloc_cache)
{
	const char *opt = kmem_opt_str(OPT_DEBUG);
	slab_flags_t f = 0;
	const char *p = "";

	if (opt && *opt && strcmp(opt, "0") && strcmp(opt, "-")) {
		for (p = opt; *p && *p != ','; p++) {
			switch (*p) {
			case 'F': case 'f': f |= SLAB_CONSISTENCY_CHECKS; break;
			case 'Z': case 'z': f |= SLAB_RED_ZONE; break;
			case 'P': case 'p': f |= SLAB_POISON; break;
			case 'U': case 'u': f |= SLAB_STORE_USER; break;
			default: break;
			}
		}
		if (!f)
			f = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON;
		if (*p == ',' ? !name_in_list(p + 1, name) : !kmalloc_cache)
			f = 0;
	}
	if (!kmalloc_cache)
		return f;
	if (kmem_opt(OPT_LEAK_REPORT))
		f |= SLAB_STORE_USER;
	/* Checked kmalloc caches keep each block's requested size. */
	if (f || debug_force_slow_path())
		f |= SLAB_KMALLOC_SIZE;
	return f;
}

/* ---- patterns ---- */

size_t __debug_object_size(const struct kmem_cache *s, const void *obj)
{
	size_t n;

	vg_open(orig_size_ptr(s, obj), sizeof(size_t));
	n = object_orig_size(s, obj);
	vg_close(orig_size_ptr(s, obj), sizeof(size_t));
	return n;
}

/* ---- reports ---- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "sym+0x12 (module)", or "0x... (module+0x...)" without a symbol. */
void debug_symbolize(char *buf, size_t len, unsigned long addr)
{
	Dl_info info;

	if (addr && dladdr((void *)addr, &info) && info.dli_fname) {
		if (info.dli_sname && info.dli_saddr)
			kmem_snprintf(buf, len, "%s+0x%lx (%s)", info.dli_sname,
				      addr - (unsigned long)info.dli_saddr,
				      base_name(info.dli_fname));
		else
			kmem_snprintf(buf, len, "0x%lx (%s+0x%lx)", addr,
				      base_name(info.dli_fname),
				      addr - (unsigned long)info.dli_fbase);
		return;
	}
	kmem_snprintf(buf, len, "0x%lx", addr);
}

static void print_track(const char *what, const struct track *t, uint64_t now)
{
	char sym[256];

	if (!t->addr) {
		kmem_pr_err("  %s: %s", what, strcmp(what, "freed") ? "no record"
			    : "not since its allocation");
		return;
	}
	debug_symbolize(sym, sizeof(sym), t->addr);
	kmem_pr_err("  %s at %s by thread %d on cpu %d, %lu ms ago", what, sym,
		    (int)t->tid, (int)t->cpu,
		    (unsigned long)(uint32_t)(now - t->when));
	site_stack_print(2, "kmem:     ", t->addr);
}

/* Abort, or (KMEM_ABORT=0) return to let the caller go on. */
void debug_report_end(void)
{
	if (kmem_opt(OPT_ABORT)) {
		kmem_pr_err("aborting (KMEM_ABORT=0 reports and continues)");
		abort();
	}
}

/*
 * The one report of a damaged or misused object.  bad: the first damaged
 * byte (NULL for a state error such as a double free), in a region
 * [region, region + region_len) that should read `expect`; caller: the
 * return address of the API call that found it (0: a validation).
 * Returns after the report only with KMEM_ABORT=0.
 */
static __cold void object_err(struct kmem_cache *s, void *obj,
			      const char *kind, const unsigned char *bad,
			      const void *region, size_t region_len,
			      int expect, const char *found_by,
			      unsigned long caller)
{
	unsigned int n = atomic_fetch_add(&nr_reports, 1);
	uint64_t now = os_now_ms();
	char sym[256];
	bool locked;

	kmem_probe(report, "object", kind, obj);
	if (n >= MAX_REPORTS) {
		if (n == MAX_REPORTS)
			kmem_pr_err("too many errors: further reports suppressed");
		debug_report_end();
		return;
	}
	/* Reports do not interleave; a signal handler that interrupted one
	 * (or a fork) prints without the lock rather than wait. */
	locked = kmem_lock_safe(&report_lock);
	kmem_pr_err("ERROR: %s in cache %s: object %p (size %zu)", kind,
		    s->name, obj, object_orig_size(s, obj));
	if (bad) {
		const unsigned char *r = region;
		size_t damaged = 0;

		for (size_t i = 0; i < region_len; i++)
			damaged += r[i] != (unsigned char)expect;
		kmem_pr_err("  first damaged byte at %p (offset %ld in the "
			    "object): 0x%02x, expected 0x%02x; %zu of %zu "
			    "bytes damaged", (const void *)bad,
			    (long)((const char *)bad - (const char *)obj), *bad,
			    (unsigned)(expect & 0xff), damaged, region_len);
	}
	if (caller) {
		debug_symbolize(sym, sizeof(sym), caller);
		kmem_pr_err("  found by %s called from %s", found_by, sym);
	} else {
		kmem_pr_err("  found by %s", found_by);
	}
	if (s->flags & SLAB_STORE_USER) {
		print_track("allocated", get_track(s, obj, TRACK_ALLOC), now);
		print_track("freed", get_track(s, obj, TRACK_FREE), now);
	} else {
		kmem_pr_err("  (call sites are recorded with KMEM_DEBUG=U or "
			    "SLAB_STORE_USER)");
	}
	{
		const char *lo = stride_start(s, obj);
		const char *hi = lo + s->size;
		const char *at = bad ? (const char *)bad : (const char *)obj;
		const char *start = (const char *)ALIGN_DOWN((uintptr_t)at,
							     (uintptr_t)16) - 16;

		start = MAX(start, lo);
		kmem_hexdump(2, "kmem:   ", start,
			     MIN((size_t)(hi - start), (size_t)DUMP_BYTES));
	}
	if (locked)
		kmem_unlock(&report_lock);
	debug_report_end();
}

static __cold __noinline bool region_err(struct kmem_cache *s, void *obj,
					 void *p, size_t len, int val,
					 const char *kind,
					 const char *found_by,
					 unsigned long caller)
{
	const unsigned char *bad = check_bytes(p, val, len);

	if (!bad)
		return true;
	object_err(s, obj, kind, bad, p, len, val, found_by, caller);
	memset(p, val, len);
	return false;
}

static __always_inline bool check_region(struct kmem_cache *s, void *obj,
					 void *p, size_t len, int val,
					 const char *kind,
					 const char *found_by,
					 unsigned long caller)
{
	if (likely(region_ok(p, val, len)))
		return true;
	return region_err(s, obj, p, len, val, kind, found_by, caller);
}

/* ---- hooks ---- */

/* The thread id, cached per thread (a system call otherwise); a forked
 * child's thread refreshes it (debug_fork_child bumps the generation). */
static _Atomic unsigned int fork_generation __fork_data;
static __thread int cached_tid __attribute__((tls_model("initial-exec")));
static __thread unsigned int cached_tid_gen
	__attribute__((tls_model("initial-exec")));

static int current_tid(void)
{
	unsigned int gen = atomic_load_explicit(&fork_generation,
						memory_order_relaxed);

	if (unlikely(!cached_tid || cached_tid_gen != gen)) {
		cached_tid = os_gettid();
		cached_tid_gen = gen;
	}
	return cached_tid;
}

void debug_fork_child(void)
{
	atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static kmem_lock_t quarantine_lock __fork_lock;

void debug_fork_prepare(void)
{
	kmem_fork_lock(&quarantine_lock);
}

void debug_fork_release(void)
{
	kmem_fork_unlock(&quarantine_lock);
}

/* t: get_track's, found once per hook (an index multiply). */
static __always_inline void set_track(struct track *t, unsigned long addr)
{
	t->addr = addr;
	if (!addr) {
		t->tid = t->cpu = 0;
		t->when = 0;
		return;
	}
	site_stack_note(addr);	/* once per distinct site */
	t->tid = (uint32_t)current_tid();
	t->cpu = os_current_cpu() & TRACK_CPU_MASK;
	t->when = (uint32_t)os_now_ms();
}

static __always_inline void poison_object(struct kmem_cache *s, void *obj)
{
	if (!poisoned(s))
		return;
	if (s->object_size > 8)
		fill_bytes(obj, POISON_FREE, s->object_size - 1);
	else
		memset(obj, POISON_FREE, s->object_size - 1);
	((unsigned char *)obj)[s->object_size - 1] = POISON_END;
}

/* Red zones of an object: left (left bytes of it), and right from
 * `from` (object_size for a free one, its orig_size for a live one).
 * Each is 8 bytes at least. */
static __always_inline void set_red_zones(struct kmem_cache *s, void *obj,
					  unsigned int left, size_t from,
					  int val)
{
	fill_bytes(stride_start(s, obj), val, left);
	fill_bytes((char *)obj + from, val, s->inuse - from);
}

/* A free object's: its free pointer, in the left zone or not, is left
 * alone (a new slab's free list is linked before its objects' zones are
 * written). */
static __always_inline void set_free_red_zones(struct kmem_cache *s,
					       void *obj)
{
	if (s->flags & SLAB_RED_ZONE)
		set_red_zones(s, obj, red_left_free_len(s), s->object_size,
			      SLUB_RED_INACTIVE);
}

void __debug_init_object(struct kmem_cache *s, void *obj)
{
	set_free_red_zones(s, obj);
	poison_object(s, obj);
	if (s->flags & SLAB_STORE_USER) {
		struct track *t = get_track(s, obj, TRACK_ALLOC);

		set_track(t + TRACK_ALLOC, 0);
		set_track(t + TRACK_FREE, 0);
	}
	if (s->flags & SLAB_KMALLOC_SIZE)
		*orig_size_ptr(s, obj) = FREE_MARK;
}

/* The checks of a free object: poison and free red zones. */
static __always_inline unsigned int
check_free_object(struct kmem_cache *s, void *obj, const char *found_by,
		  unsigned long caller)
{
	unsigned int bad = 0;

	if (poisoned(s)) {
		if (!check_region(s, obj, obj, s->object_size - 1, POISON_FREE,
				  "poison overwritten (write after free)",
				  found_by, caller))
			bad++;
		else if (!check_region(s, obj, (char *)obj + s->object_size - 1,
				       1, POISON_END,
				       "poison overwritten (write after free)",
				       found_by, caller))
			bad++;
	}
	if (s->flags & SLAB_RED_ZONE) {
		if (!check_region(s, obj, stride_start(s, obj),
				  red_left_free_len(s), SLUB_RED_INACTIVE,
				  "left red zone overwritten while the object "
				  "was free", found_by, caller))
			bad++;
		if (!check_region(s, obj, (char *)obj + s->object_size,
				  s->inuse - s->object_size, SLUB_RED_INACTIVE,
				  "right red zone overwritten while the object "
				  "was free", found_by, caller))
			bad++;
	}
	return bad;
}

/* The checks of an allocated object: active red zones from orig_size. */
static unsigned int check_live_object(struct kmem_cache *s, void *obj,
				      const char *found_by,
				      unsigned long caller)
{
	size_t orig = object_orig_size(s, obj);
	unsigned int bad = 0;

	if (!(s->flags & SLAB_RED_ZONE))
		return 0;
	if (!check_region(s, obj, stride_start(s, obj), s->red_left_pad,
			  SLUB_RED_ACTIVE,
			  "left red zone overwritten (buffer underflow)",
			  found_by, caller))
		bad++;
	if (!check_region(s, obj, (char *)obj + orig, s->inuse - orig,
			  SLUB_RED_ACTIVE,
			  "right red zone overwritten (buffer overflow)",
			  found_by, caller))
		bad++;
	return bad;
}

unsigned int debug_check_free_object(struct kmem_cache *s, void *obj,
				     const char *found_by, unsigned long caller)
{
	return check_free_object(s, obj, found_by, caller);
}

unsigned int debug_check_live_object(struct kmem_cache *s, void *obj,
				     const char *found_by, unsigned long caller)
{
	return check_live_object(s, obj, found_by, caller);
}

/* The state word's protocol: debug_object.h, above state_word. */
static __always_inline void state_set(const struct kmem_cache *s,
				      const void *obj, size_t v)
{
	barrier();
	atomic_store_explicit(state_word(s, obj), v, memory_order_release);
	barrier();
}

void __debug_alloc_hook(struct kmem_cache *s, void *obj, size_t orig_size,
			gfp_t gfp, unsigned long caller)
{
	vg_open_object(s, obj);
	check_free_object(s, obj, "allocation", caller);
	if (s->flags & SLAB_KMALLOC_SIZE) {
		/* Free, or on a free list twice (free_checks' claim). */
		if (unlikely(atomic_load_explicit(state_word(s, obj),
						  memory_order_relaxed) !=
			     FREE_MARK))
			object_err(s, obj, "double free (a free object was "
				   "live: freed twice at once?)", NULL, NULL,
				   0, 0, "allocation", caller);
		state_set(s, obj, BUSY_MARK);
	}
	else
		orig_size = s->object_size;
	if (s->flags & SLAB_RED_ZONE)
		set_red_zones(s, obj, s->red_left_pad, orig_size,
			      SLUB_RED_ACTIVE);
	if (s->flags & SLAB_STORE_USER) {
		struct track *t = get_track(s, obj, TRACK_ALLOC);

		set_track(t + TRACK_ALLOC, caller);
		set_track(t + TRACK_FREE, 0);
	}
	if (gfp & __GFP_ZERO)
		memset(obj, 0, orig_size);
	if (s->flags & SLAB_KMALLOC_SIZE)
		state_set(s, obj, orig_size);
	vg_close_object(s, obj);
}

static void double_free(struct kmem_cache *s, void *obj, const char *how,
			unsigned long caller)
{
	char kind[96];

	kmem_snprintf(kind, sizeof(kind), "double free (%s)", how);
	object_err(s, obj, kind, NULL, NULL, 0, 0, "free", caller);
}

/* Is obj on its slab's free list?  (SLUB's on_freelist.)  Unless locked,
 * under the cache lock for the walk, or, where waiting for it could never
 * end (a signal handler that interrupted its holder), not at all. */
static bool on_freelist(struct kmem_cache *s, struct page *slab, void *obj,
			bool locked)
{
	uintptr_t base = (uintptr_t)page_address(slab);
	unsigned int n = 0;
	bool found = false;
	void *p;

	if (!locked && !kmem_lock_safe(&s->lock))
		return false;
	p = slab->freelist;
	while (p && n <= slab->objects &&
	       (uintptr_t)p - base < (PAGE_SIZE << s->order)) {
		void *next;

		if (p == obj) {
			found = true;
			break;
		}
		vg_open((char *)p + s->offset, sizeof(void *));
		next = get_freepointer(s, p);
		vg_close((char *)p + s->offset, sizeof(void *));
		p = next;
		n++;
	}
	if (!locked)
		kmem_unlock(&s->lock);
	return found;
}

/* The body of the free hook; the stride is open under valgrind. */
static bool free_checks(struct kmem_cache *s, struct page *slab, void *obj,
			unsigned long caller, bool locked)
{
	size_t state = (s->flags & SLAB_KMALLOC_SIZE)
			       ? atomic_load_explicit(state_word(s, obj),
						      memory_order_acquire)
			       : 0;

	if (state == FREE_MARK || state == BUSY_MARK) {
		double_free(s, obj, "object is already free", caller);
		return false;
	}
	if ((s->flags & SLAB_RED_ZONE) && !live_red_zones_ok(s, obj)) {
		if (free_red_zones_ok(s, obj)) {
			double_free(s, obj, "object is already free", caller);
			return false;
		}
		/* An overflow is reported; the object is still a real one,
		 * so with KMEM_ABORT=0 the free goes on. */
		check_live_object(s, obj, "free", caller);
	}
	/* On the slab's free list already?  A walk of the slab's free list
	 * (SLUB's on_freelist), with P where no state word
	 * (SLAB_KMALLOC_SIZE) answers at once, and with F unless a state
	 * word or the red zones answered above and the object does not look
	 * free (its first bytes are not poison: a live object's are the
	 * program's).  The walk costs one decode per free object of the
	 * slab; done on every free it was 14% of CPython's time under
	 * KMEM_DEBUG=FZPU, while a double free it alone would see needs a
	 * write after free over the state word and the red zones. */
	bool answered = (s->flags & (SLAB_KMALLOC_SIZE | SLAB_RED_ZONE)) &&
			!((s->flags & SLAB_POISON) &&
			  region_ok(obj, POISON_FREE,
				    MIN(s->object_size - 1, (size_t)8)));
	if ((((s->flags & SLAB_CONSISTENCY_CHECKS) && !answered) ||
	     (s->flags & (SLAB_POISON | SLAB_KMALLOC_SIZE)) == SLAB_POISON) &&
	    on_freelist(s, slab, obj, locked)) {
		double_free(s, obj, "object is on the free list", caller);
		return false;
	}
	/*
	 * Claim it with a plain store, not a compare-and-swap: the locked
	 * instruction waited for the store buffer, full of the previous
	 * free's poison, and for the state word's cache miss, on every free
	 * (65% of the free hook under KMEM_DEBUG=F, 4.5% of CPython's time).
	 * Two threads that free one object at the same instant may both get
	 * past here; the object is then on two free lists, and the second
	 * allocation of it finds it live (__debug_alloc_hook's state check)
	 * and reports the double free there.
	 */
	if (s->flags & SLAB_KMALLOC_SIZE)
		state_set(s, obj, BUSY_MARK);
	return true;
}

bool __debug_free_hook(struct kmem_cache *s, struct page *slab, void *obj,
		       unsigned long caller, bool locked)
{
	bool ok;

	vg_open_object(s, obj);
	ok = free_checks(s, slab, obj, caller, locked);
	if (ok) {
		if (s->flags & SLAB_STORE_USER)
			set_track(get_track(s, obj, TRACK_FREE), caller);
		set_free_red_zones(s, obj);
		poison_object(s, obj);
		if (s->flags & SLAB_KMALLOC_SIZE)
			state_set(s, obj, FREE_MARK);
	}
	vg_close_object(s, obj);
	return ok;
}

/* ---- quarantine ---- */

struct qentry {
	void *obj;			/* freed object, checked and poisoned */
	struct kmem_cache *s;		/* its cache */
};

static struct qentry quarantine[QUARANTINE_SLOTS]; /* FIFO ring */
static unsigned int q_head, q_count;	/* oldest entry, entries held */
static size_t q_bytes;			/* stride bytes held */
static kmem_lock_t quarantine_lock __fork_lock = KMEM_LOCK_INIT; /* the ring above */

/* Pop up to max entries while over the limits (or all, if drain). */
static unsigned int quarantine_pop(struct qentry *out, unsigned int max,
				   bool drain)
{
	unsigned int n = 0;

	while (n < max && q_count &&
	       (drain || q_bytes > debug_quarantine_max ||
		q_count >= QUARANTINE_SLOTS)) {
		out[n] = quarantine[q_head];
		q_bytes -= out[n].s->size;
		q_head = (q_head + 1) % QUARANTINE_SLOTS;
		q_count--;
		n++;
	}
	return n;
}

bool __debug_quarantine_put(struct kmem_cache *s, void *obj,
			    unsigned long caller)
{
	struct qentry out[8];
	unsigned int n;

	/* Checked and poisoned now, so the free call site is the right one
	 * and a write while quarantined shows at the next allocation. */
	if (!__kmem_cache_free_check(s, obj, caller))
		return true;
	if (!kmem_lock_safe(&quarantine_lock)) {
		__kmem_cache_free_checked(s, obj);	/* no quarantine now */
		return true;
	}
	n = quarantine_pop(out, ARRAY_SIZE(out), false);
	quarantine[(q_head + q_count) % QUARANTINE_SLOTS] =
		(struct qentry){ obj, s };
	q_count++;
	q_bytes += s->size;
	n += quarantine_pop(out + n, ARRAY_SIZE(out) - n, false);
	kmem_unlock(&quarantine_lock);
	for (unsigned int i = 0; i < n; i++)
		__kmem_cache_free_checked(out[i].s, out[i].obj);
	return true;
}

void debug_quarantine_drain(void)
{
	struct qentry out[64];
	unsigned int n;

	do {
		kmem_lock(&quarantine_lock);
		n = quarantine_pop(out, ARRAY_SIZE(out), true);
		kmem_unlock(&quarantine_lock);
		for (unsigned int i = 0; i < n; i++)
			__kmem_cache_free_checked(out[i].s, out[i].obj);
	} while (n);
}

