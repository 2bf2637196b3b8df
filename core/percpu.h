/* SPDX-License-Identifier: MIT */
/*
 * core/percpu.h - per-CPU object caches in front of the slabs: contract of
 * percpu.c with kmalloc.c and preload/.
 *
 * Each CPU (rseq mode) or each thread (fallback mode) has a region that
 * holds, per kmalloc size class, a bounded stack of free objects.  The
 * inline fast paths here pop and push; everything else (refill and drain
 * through the depot, region set-up, sampling) is in percpu.c.  No lock
 * and no atomic read-modify-write on a fast path.
 *
 * Region layout (PCPU_REGION_SIZE bytes, aligned to its size):
 *
 *   offset 0                  struct pcpu_region_hdr
 *   (c + 1) * CHUNK_STRIDE    struct pcpu_chunk of class c:
 *                               cur     objects held, 0..cap; bit 31 set
 *                                       while a remote drain owns it
 *                               cap     capacity, <= PCPU_CHUNK_SLOTS
 *                               sel     which of side[0..1] is live
 *                               side[2] one more free object, or NULL, in
 *                                       side[sel] (the reuse order, below)
 *                               slot[1..cur]  the objects, top = slot[cur]
 *
 * The class is known on the fast paths only by its chunk id (the size
 * table and struct page store it), and slot i lives at chunk + 16 + 8 * i,
 * so a pop is "load cur, load chunk[cur + 2], store cur - 1".  The lock
 * bit makes cur look negative to a pop ("sub 1; jl") and >= cap to a push
 * (unsigned compare), so neither needs a test of its own.
 */
#ifndef KMEM_PERCPU_H
#define KMEM_PERCPU_H

#include "internal.h"
#include "os.h"

struct kmem_cache;

#define PCPU_REGION_SHIFT 18	/* 256 KiB per region */
#define PCPU_REGION_SIZE (1UL << PCPU_REGION_SHIFT)
#define PCPU_CHUNK_SHIFT 11	/* 2 KiB per class: header + 253 slots */
#define PCPU_CHUNK_SLOTS 253
/*
 * Chunks lie PCPU_CHUNK_STRIDE bytes apart, one cache line more than
 * their size, so that chunk k's header sits at line 33k mod 64 of its
 * page: no two of the first 63 classes' headers, nor the region header,
 * share their address bits 6..11.  At a 2 KiB stride every header was at
 * offset 0 or 2048 of a page, and a load of one class's header right
 * after a store to another's was held back as if it depended on it (the
 * CPU matches loads against pending stores by those low bits: "4K
 * aliasing").  A malloc/free of random sizes 16..1024 B took 34.7 ns a
 * pair against mimalloc's 27.7 at one class each; docs/ARCHITECTURE.md.
 */
#define PCPU_CHUNK_STRIDE ((1u << PCPU_CHUNK_SHIFT) + 64)
#define PCPU_MAX_CLASSES (PCPU_REGION_SIZE / PCPU_CHUNK_STRIDE - 1)
#define PCPU_LOCKED 0x80000000u	/* bit of cur: a remote drain owns it */

struct pcpu_chunk {
	uint32_t cur;			/* objects in slot[1..cur] (| PCPU_LOCKED) */
	uint16_t cap;			/* cur <= cap <= PCPU_CHUNK_SLOTS */
	uint8_t sel;			/* side[sel] is live, side[!sel] scratch */
	uint8_t _pad;
	void *side[2];			/* a free object held aside, or NULL */
	void *slot[PCPU_CHUNK_SLOTS];	/* slot[i - 1] is "slot i" */
};
_Static_assert(sizeof(struct pcpu_chunk) == (1u << PCPU_CHUNK_SHIFT),
	       "a chunk fills its 2 KiB exactly");

/*
 * The countdown of bytes allocated until something is due on an
 * allocation path (percpu_sample_due): the next guard sample, the next
 * heap-profile sample, the next maintenance tick.  The fast paths only
 * subtract from left; the slow path then works out which of the three
 * came due and arms left with the nearest.
 */
struct pcpu_sampler {
	int64_t left;			/* bytes until the nearest event */
	int64_t armed;			/* what left was armed with */
	int64_t guard_left, prof_left, tick_left;
	uint64_t rnd;			/* xorshift state of the intervals */
};

struct pcpu_region_hdr {
	struct pcpu_sampler sample;	/* sample.left first: the fast paths */
	uint64_t reuse_rnd;		/* odd; the pushes' random bits */
	uint32_t busy;			/* thread mode: a fast path is running */
	uint32_t activity;		/* slow paths seen (idle drain) */
	uint32_t order;			/* thread mode: buddy order of the region */
	uint32_t grows_refused;		/* chunk_grow: since the exact sum */
	_Atomic size_t cap_bytes;	/* sum of cap * size over the chunks */
};
_Static_assert(sizeof(struct pcpu_region_hdr) <= (1u << PCPU_CHUNK_SHIFT),
	       "the header fits in the place of chunk -1");
_Static_assert(offsetof(struct pcpu_region_hdr, busy) + sizeof(uint32_t) <= 64,
	       "what the fast paths touch shares the region's first line");

/*
 * Reuse order.  A push does not always put the object on top: with
 * probability 1/2 it goes to the side slot instead, and the object that
 * was there goes on top.  The next malloc then returns either the block
 * just freed or the one set aside at an earlier free, and a block set
 * aside stays there, out of reach of any number of mallocs, until a
 * later free on that CPU swaps it out (half of them do).  An attacker who
 * frees a block cannot count on the next malloc of its size getting it
 * (LIFO reuse hands it back every time), nor on a spray of mallocs
 * getting it.  Locality is kept: the block that comes up from the side
 * was freed a couple of frees ago (each swap replaces it), where taking
 * the stack's bottom instead, the block that had waited longest, cost
 * larson 14%.
 *
 * The choice is the top bit of a multiplicative congruential generator,
 * one per region, seeded from getrandom (not cryptographic: it hides the
 * order from a program that cannot read kmem's regions, not from one
 * that reads memory at will): a multiply and a store on the push, no
 * branch.  An rseq section commits with one store, and a swap changes
 * both the count and the side slot, so the side is double-buffered: obj
 * is written into side[!sel], which nothing live holds, and the commit
 * is one 8-byte store of {cur, cap, sel} that flips sel when swapping.
 * (A 16-byte store of {cur, cap, side} did the same with one side slot,
 * but the next pop's load of cur waited for the vector store: 3.9 ns more
 * per malloc+free pair against 1.3 ns now.)  A swap that finds the side
 * empty (a new or drained chunk) leaves the push to the slow half, which
 * puts obj into the side (rseq_push_side); thread mode's chunk_push does
 * the same inline.  PCPU_REUSE_MULT is 5 mod 8
 * (period 2^62 from an odd state) and fits the sign-extended 32-bit
 * immediate of imul.
 *
 * KMEM_REUSE=lifo turns it off (the 4-byte commit of a plain push);
 * docs/ARCHITECTURE.md has the figures.
 */
#define PCPU_REUSE_MULT 0x2c9277b5

/*
 * A class is known on the fast paths by its chunk id: the chunk's offset
 * in the region in 8-byte words, so that it fits the 16 bits of the size
 * table and of struct page, and the address is one lea (base + 8 * id).
 */
#define PCPU_CHUNK_ID_SHIFT 3
_Static_assert((PCPU_REGION_SIZE >> PCPU_CHUNK_ID_SHIFT) <= 65536,
	       "chunk ids fit in 16 bits");

#define PCPU_CHUNK_STRIDE_ID (PCPU_CHUNK_STRIDE >> PCPU_CHUNK_ID_SHIFT)

static __always_inline uintptr_t pcpu_chunk_id(unsigned int cls)
{
	return (uintptr_t)(cls + 1) * PCPU_CHUNK_STRIDE_ID;
}

static __always_inline unsigned int pcpu_chunk_class(uintptr_t id)
{
	return (unsigned int)(id / PCPU_CHUNK_STRIDE_ID) - 1;
}

enum pcpu_mode { PCPU_OFF, PCPU_THREAD, PCPU_RSEQ };

/*
 * What the fast paths read: written by percpu_setup(), read-only after
 * (percpu_disable excepted).  rseq_off is the offset from the thread
 * pointer of the rseq area every fast path tries first: glibc's
 * registration, or kmem's own (kmem_rseq_area, registered by kmem where
 * glibc is too old to), or kmem's own left unregistered (cpu_id < 0) in
 * thread and off modes, so that the rseq attempt fails at its first test
 * and the fast path goes on to the thread cache.  No fast path reads the
 * mode.
 */
struct percpu_fast {
	enum pcpu_mode mode;		/* for the slow paths and statistics */
	bool thread_off;		/* thread caches refused (off, disabled) */
	bool reuse_lifo;		/* KMEM_REUSE=lifo: pushes always on top */
	uintptr_t cpu_regions;		/* one region per possible CPU */
	ptrdiff_t rseq_off;		/* of the rseq area from the thread pointer */
	ptrdiff_t rseq_idx_off;		/* rseq_off + offset of mm_cid or cpu_id */
} ____cacheline_aligned;	/* a line of its own: nothing written shares it */
extern struct percpu_fast pcpu __hidden;

/* This thread's region in thread mode (NULL: none yet, or exited). */
extern __thread struct pcpu_region_hdr *pcpu_thread_region
	__attribute__((tls_model("initial-exec"))) __hidden;

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

#if defined(__x86_64__)
#include "rseq_x86_64.h"
#define HAVE_RSEQ_ASM 1
#else
#define HAVE_RSEQ_ASM 0
#endif

/* ---- thread mode: plain loads and stores, guarded against signal
 * handlers by hdr->busy (a handler that finds it set takes the slow path,
 * which does not touch this region). ---- */

static __always_inline struct pcpu_chunk *
thread_chunk(struct pcpu_region_hdr *r, uintptr_t chunk)
{
	return (struct pcpu_chunk *)((char *)r + (chunk << PCPU_CHUNK_ID_SHIFT));
}

static __always_inline void *thread_pop(uintptr_t chunk, size_t size)
{
	struct pcpu_region_hdr *r = pcpu_thread_region;
	struct pcpu_chunk *c;
	void *obj = NULL;
	uint32_t cur;

	if (unlikely(!r || r->busy || pcpu.thread_off))
		return NULL;
	WRITE_ONCE(r->busy, 1);
	barrier();
	c = thread_chunk(r, chunk);
	cur = c->cur;
	r->sample.left -= (int64_t)size;
	if (likely(cur && r->sample.left >= 0)) {
		obj = c->slot[cur - 1];
		c->cur = cur - 1;
	}
	barrier();
	WRITE_ONCE(r->busy, 0);
	return obj;
}

/* Push obj onto chunk c of region r, in the reuse order above; false if
 * full or locked.  The caller owns the region (busy) and has written
 * obj's first word (its free tag).  Thread mode's fast path on x86-64 is
 * thread_push_random (rseq_x86_64.h), the same order in asm; this is the
 * slow half's, which also fills an empty side, and the fast path's
 * elsewhere. */
static __always_inline bool chunk_push(struct pcpu_region_hdr *r,
				       struct pcpu_chunk *c, void *obj)
{
	uint32_t cur = c->cur;
	unsigned int nsel;
	uint64_t rnd;
	uintptr_t b;
	void *side, *up;

	if (unlikely(cur >= c->cap))
		return false;
	if (pcpu.reuse_lifo) {			/* KMEM_REUSE=lifo */
		c->slot[cur] = obj;
		c->cur = cur + 1;
		return true;
	}
	/* As rseq_push, with no branch on b: a branch on a random bit is
	 * mispredicted half the time (thread mode's pair loop took 11.2 ns
	 * with one). */
	nsel = (c->sel & 1u) ^ 1u;		/* !sel */
	rnd = r->reuse_rnd;
	r->reuse_rnd = rnd * PCPU_REUSE_MULT;
	b = (uintptr_t)(rnd >> 63);
	side = c->side[nsel ^ 1u];
	c->side[nsel] = obj;
	up = (void *)((uintptr_t)obj ^ (((uintptr_t)obj ^ (uintptr_t)side) &
				       -b));	/* b ? side : obj */
	if (unlikely(!up)) {	/* a swap, the side empty: obj to the side */
		c->sel = (uint8_t)nsel;
		return true;
	}
	c->slot[cur] = up;
	c->sel = (uint8_t)(nsel ^ 1u ^ b);
	c->cur = cur + 1;
	return true;
}

static __always_inline bool thread_push(uintptr_t chunk, void *obj)
{
	struct pcpu_region_hdr *r = pcpu_thread_region;
	bool ok;

	if (unlikely(!r || r->busy || pcpu.thread_off))
		return false;
	WRITE_ONCE(r->busy, 1);
	barrier();
#if HAVE_RSEQ_ASM
	if (likely(!pcpu.reuse_lifo))
		ok = thread_push_random(r, chunk, obj);
	else
#endif
		ok = chunk_push(r, thread_chunk(r, chunk), obj);
	barrier();
	WRITE_ONCE(r->busy, 0);
	return ok;
}

/*
 * ---- the fast paths ----
 * Inline, so that malloc and free reach them without a call.  They never
 * lock, never make a system call and never touch errno; anything they
 * cannot do they leave to the caller's slow path.
 */

/* An object of the class at chunk, for size bytes, or NULL (empty,
 * no usable region, or the sampling countdown ran out). */
static __always_inline void *percpu_pop(uintptr_t chunk, size_t size)
{
#if HAVE_RSEQ_ASM
	void *obj = rseq_pop(pcpu.rseq_off, pcpu.rseq_idx_off,
			     &pcpu.cpu_regions, chunk, size);

	if (likely(obj))
		return obj;
#endif
	return thread_pop(chunk, size);
}

/*
 * Put obj in this CPU's or thread's stack of the class at chunk: true if
 * done; false (full, locked, no usable region) and the caller's slow path
 * decides.  The caller writes obj's free tag into its first word first
 * (kfree_fast), so that the tag and the push are both done or the tag
 * alone: a free object is never in a stack without its tag.
 */
static __always_inline bool percpu_push(uintptr_t chunk, void *obj)
{
#if HAVE_RSEQ_ASM
	if (likely(!pcpu.reuse_lifo)) {
		if (likely(rseq_push(pcpu.rseq_off, pcpu.rseq_idx_off,
				     chunk, obj)))
			return true;
	} else if (rseq_push_lifo(pcpu.rseq_off, pcpu.rseq_idx_off,
				  chunk, obj)) {
		return true;
	}
#endif
	return thread_push(chunk, obj);
}

/*
 * The slow halves, for callers inside kmem.  percpu_alloc: an object of
 * class cls (cache s), from this CPU's cache, the depot or the slabs, or
 * NULL; the object is still free-tagged (the caller clears the tag).
 * percpu_free: obj (free-tagged already) goes to this CPU's cache, the
 * depot, or its slab.
 */
void *percpu_alloc(struct kmem_cache *s, unsigned int cls, gfp_t gfp) __hidden;
void percpu_free(struct kmem_cache *s, unsigned int cls, void *obj) __hidden;
/* What came due on this allocation (percpu_sample_due). */
#define PCPU_DUE_GUARD 1u	/* a guard sample (KMEM_SAMPLE) */
#define PCPU_DUE_PROF 2u	/* a heap-profile sample (KMEM_PROF) */
#define PCPU_DUE_TICK 4u	/* the allocation paths' maintenance */
/* The countdown of this CPU or thread ran out (or was never set): what
 * is due on this allocation of size bytes, 0 if nothing; rearms it. */
unsigned int percpu_sample_due(size_t size, bool counted) __hidden;

/* For percpu_data.c (this_cpu_*), whose rseq sections index the same
 * way: the number of CPU slots (0 unless the mode is rseq), and whether
 * the calling thread can run rseq sections now (registering it where
 * kmem registers threads itself). */
unsigned int percpu_nr_cpu_slots(void) __hidden;
bool percpu_rseq_thread_ready(void) __hidden;

/* "rseq (...)", "thread (...)" or "off (...)". */
const char *percpu_mode_name(void) __hidden;
enum pcpu_mode percpu_mode(void) __hidden;
/* Bytes of free objects held in all CPU and thread caches. */
size_t percpu_cached_bytes(void) __hidden;
/* Give every cached object back, the depot's too (kmem_trim, exit). */
void percpu_drain_all(void) __hidden;
/* Turn the caches off for good (mallopt(M_PERTURB): every malloc and free
 * must then reach the slow paths, which fill memory). */
void percpu_disable(void) __hidden;
/* Drain CPU regions whose slow paths saw no activity since the last call
 * (the purge thread calls this every second).  Returns objects drained. */
size_t percpu_drain_idle(void) __hidden;
/* The calling thread is exiting: flush its cache (thread mode). */
void percpu_thread_exit(void) __hidden;

/*
 * Called once by kmalloc_init(): the per-CPU layer serves classes
 * 0..nr-1, class c being caches[c] with objects of sizes[c] bytes;
 * caches[c] NULL (a debug class) gets no cache (capacity 0).
 */
int percpu_setup(struct kmem_cache *const *caches, const size_t *sizes,
		 unsigned int nr) __hidden;
/* Bytes of objects one region may hold at most. */
size_t percpu_region_limit(void) __hidden;
void percpu_fork_prepare(void) __hidden;
void percpu_fork_release(void) __hidden;
void percpu_fork_child(void) __hidden;

#endif /* KMEM_PERCPU_H */
