/* SPDX-License-Identifier: MIT */
/*
 * core/percpu.h - per-CPU object caches in front of the slabs: contract of
 * percpu.c with kmalloc.c and preload/.
 *
 * Each CPU (rseq mode) or each thread (fallback mode) has, per kmalloc
 * size class, a bounded array of free objects.  percpu_alloc pops,
 * percpu_free pushes; an empty or full array moves a batch to or from the
 * slab layer.  No lock and no atomic read-modify-write on the fast path.
 */
#ifndef KMEM_PERCPU_H
#define KMEM_PERCPU_H

#include "internal.h"
#include "os.h"

struct kmem_cache;

#define PCPU_MAX_CLASSES 64
#define PCPU_HDR_OFF 8		/* class headers start after the locked word */
#define PCPU_REGION_SHIFT 17	/* 128 KiB per region */

/*
 * A region (one per CPU, or one per thread in the fallback mode) holds,
 * for every class, an array of free object pointers:
 *
 *   offset 0                 locked   (non-zero while a remote drain owns it)
 *   PCPU_HDR_OFF + 8 * cls   struct pcpu_hdr { cur, cap }   cur <= cap
 *   slot_off[cls]            void *slots[cap]               [0, cur) live
 *
 * A class with cap 0 (a debug class, or a region not yet set up) always
 * fails the fast paths, so its callers take the slow ones.
 */
struct pcpu_hdr {
	uint32_t cur;		/* live objects: slots[0, cur) */
	uint32_t cap;		/* capacity of this class's array */
};

struct pcpu_region {
	_Atomic uint32_t locked;	/* a remote drain owns the region */
	uint32_t _pad;
	struct pcpu_hdr hdr[PCPU_MAX_CLASSES];
};

enum pcpu_mode { PCPU_OFF, PCPU_THREAD, PCPU_RSEQ };

/* What the fast paths read: written by percpu_setup(), read-only after. */
struct percpu_fast {
	enum pcpu_mode mode;
	uintptr_t cpu_regions;		/* KMEM_NR_CPUS regions, reserved */
	ptrdiff_t rseq_off;		/* glibc's __rseq_offset */
	uintptr_t idx_off;		/* of mm_cid or cpu_id in the rseq area */
	uintptr_t slot_off[PCPU_MAX_CLASSES];	/* bytes from region start */
};
extern struct percpu_fast pcpu __hidden;

/* This thread's region: fallback mode, or a thread without rseq. */
extern __thread struct pcpu_region *pcpu_thread_region
	__attribute__((tls_model("initial-exec"))) __hidden;

/* Results of a push (rseq_push, and the thread-mode push). */
enum { RSEQ_PUSH_FAIL, RSEQ_PUSH_OK, RSEQ_PUSH_DOUBLE };

#if defined(__x86_64__)
#include "rseq_x86_64.h"
#define HAVE_RSEQ_ASM 1
#else
#define HAVE_RSEQ_ASM 0
#endif

static __always_inline struct pcpu_hdr *pcpu_hdr(struct pcpu_region *r,
						 unsigned int cls)
{
	return &r->hdr[cls];
}

static __always_inline void **pcpu_slots(struct pcpu_region *r,
					 unsigned int cls)
{
	return (void **)((char *)r + pcpu.slot_off[cls]);
}

static __always_inline struct kmem_rseq_abi *this_rseq(void)
{
	return (struct kmem_rseq_abi *)((char *)__builtin_thread_pointer() +
					pcpu.rseq_off);
}

/*
 * ---- the fast paths ----
 * Inline, so that malloc and free reach them without a call.  Only the
 * common case is here: a pop or a push in this CPU's region (one rseq
 * section) or in this thread's region (plain C).  They never lock, never
 * make a system call and never touch errno; anything they cannot do they
 * leave to the caller's slow path (percpu_alloc, percpu_free).
 */

/*
 * Slots never hold NULL (only objects are pushed); telling the compiler
 * so lets a caller's "if (obj)" fold into the pop's own empty test.
 */
static __always_inline void *pcpu_object(void *obj)
{
	if (obj == NULL)
		__builtin_unreachable();
	return obj;
}

/* An object of class cls from this CPU's or thread's cache, or NULL. */
static __always_inline void *percpu_pop(unsigned int cls)
{
	struct pcpu_region *tr = pcpu_thread_region;
	struct pcpu_hdr *h;

	if (likely(!tr)) {
#if HAVE_RSEQ_ASM
		if (likely(pcpu.mode == PCPU_RSEQ)) {
			return rseq_pop(this_rseq(), pcpu.idx_off,
					&pcpu.cpu_regions,
					PCPU_HDR_OFF + 8 * cls,
					&pcpu.slot_off[cls]);
		}
#endif
		return NULL;
	}
	h = pcpu_hdr(tr, cls);
	if (likely(h->cur))
		return pcpu_object(pcpu_slots(tr, cls)[--h->cur]);
	return NULL;
}

/*
 * Put obj (of class cls) in this CPU's or thread's cache: RSEQ_PUSH_OK,
 * RSEQ_PUSH_FAIL (full, or no cache usable now) or RSEQ_PUSH_DOUBLE (obj
 * is the object freed last here: an immediate double free).
 */
static __always_inline uint32_t percpu_push(unsigned int cls, void *obj)
{
	struct pcpu_region *tr = pcpu_thread_region;
	struct pcpu_hdr *h;
	void **slots;

	if (likely(!tr)) {
#if HAVE_RSEQ_ASM
		if (likely(pcpu.mode == PCPU_RSEQ))
			return rseq_push(this_rseq(), pcpu.idx_off,
					 &pcpu.cpu_regions,
					 PCPU_HDR_OFF + 8 * cls,
					 &pcpu.slot_off[cls], obj);
#endif
		return RSEQ_PUSH_FAIL;
	}
	h = pcpu_hdr(tr, cls);
	slots = pcpu_slots(tr, cls);
	if (unlikely(h->cur && slots[h->cur - 1] == obj))
		return RSEQ_PUSH_DOUBLE;
	if (unlikely(h->cur >= h->cap))
		return RSEQ_PUSH_FAIL;
	slots[h->cur++] = obj;
	return RSEQ_PUSH_OK;
}

/* The same with the slow path: an object of class cls (cache s), or NULL. */
void *percpu_alloc(struct kmem_cache *s, unsigned int cls, gfp_t gfp) __hidden;
/* Hand obj (of class cls, cache s) back to this CPU's or thread's cache. */
void percpu_free(struct kmem_cache *s, unsigned int cls, void *obj) __hidden;

/* "rseq", "rseq (mm_cid)", "thread" or "off". */
const char *percpu_mode_name(void) __hidden;
/* Bytes of free objects held in all CPU and thread caches. */
size_t percpu_cached_bytes(void) __hidden;
/* Give every cached object back to the slabs (kmem_trim, exit). */
void percpu_drain_all(void) __hidden;
/* The calling thread is exiting: flush its cache (fallback mode). */
void percpu_thread_exit(void) __hidden;

/*
 * Called once by kmalloc_init(): the per-CPU layer serves classes
 * 0..nr-1, class c being caches[c] with objects of sizes[c] bytes;
 * caches[c] NULL (a debug class) gets no cache: its fast paths always fail.
 */
int percpu_setup(struct kmem_cache *const *caches, const size_t *sizes,
		 unsigned int nr) __hidden;
/* Bytes of objects one region may hold at most. */
size_t percpu_region_limit(void) __hidden;
void percpu_fork_prepare(void) __hidden;
void percpu_fork_parent(void) __hidden;
void percpu_fork_child(void) __hidden;

#endif /* KMEM_PERCPU_H */
