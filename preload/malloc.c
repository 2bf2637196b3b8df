/* SPDX-License-Identifier: MIT */
/*
 * preload/malloc.c - the C, POSIX and glibc malloc ABI on top of kmalloc.
 *
 * Layer: preload/ (top).  May call kmalloc.h (the allocation paths),
 * stats.h (figures for mallinfo, malloc_stats, malloc_info), kmem_trim(),
 * and the option table (mallopt).  Owns glibc's rules, which kmalloc does
 * not know about:
 *
 *   - errno: ENOMEM on every failed allocation, EINVAL for a bad alignment
 *     (posix_memalign returns the value instead and leaves errno alone);
 *     free() and the other functions that succeed never change errno;
 *   - malloc(0) and friends give a unique pointer (kmalloc's smallest
 *     object), calloc and reallocarray check n * size for overflow, and
 *     sizes above PTRDIFF_MAX fail, as in glibc;
 *   - realloc(p, 0) with p != NULL frees p and returns NULL (glibc's
 *     REALLOC_ZERO_BYTES_FREES), realloc(NULL, n) is malloc(n), a failed
 *     realloc leaves p intact;
 *   - alignment: every block is 16-byte aligned, as glibc guarantees
 *     (MALLOC_ALIGNMENT) at every size and under every KMEM_DEBUG
 *     setting (every kmalloc class is a multiple of 16); memalign
 *     rounds an alignment that is not a power of two up to one (glibc
 *     does), aligned_alloc and posix_memalign reject it (glibc 2.38's
 *     aligned_alloc and POSIX);
 *   - the __libc_* names that glibc itself calls (dynamic loader, libio,
 *     pthread) are aliases of the same functions, so no block ever crosses
 *     from one allocator to the other.
 *
 * mallopt honours M_MMAP_THRESHOLD (KMEM_VMALLOC_THRESHOLD), M_PERTURB
 * (fill bytes on malloc and free, as glibc) and M_CHECK_ACTION (bit 2:
 * abort on a detected error, as KMEM_ABORT); every other parameter is
 * accepted and ignored (returns 1, as glibc does for unknown ones).
 * See docs/preload.md.
 *
 * Locks: none.  The fast paths of malloc, calloc and free are inline
 * (kmalloc_fast, kfree_fast: a pop or push in this CPU's object cache);
 * everything else starts with preload_enter() (one TLS byte).  Nothing
 * here allocates, prints through stdio or reads the environment on the
 * allocation path.  docs/fastpath.md shows the machine code.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#include "kmalloc.h"
#include "options.h"
#include "stats.h"

/* glibc's alignment (2 * sizeof(size_t)): blocks above 8 bytes have it. */
#define MALLOC_ALIGNMENT 16
/* glibc fails every request above this (it keeps pointer differences
 * representable). */
#define MALLOC_MAX_SIZE ((size_t)PTRDIFF_MAX)

/* C23 (and glibc 2.39) functions that older headers do not declare. */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

/* mallopt(M_PERTURB): 0 = off, else the byte freed memory is filled with;
 * allocated memory gets its complement, as in glibc. */
static int perturb_byte;

static __always_inline void *enomem(void)
{
	errno = ENOMEM;
	return NULL;
}

static __cold void perturb_alloc(void *p, size_t size)
{
	if (p)
		memset(p, perturb_byte ^ 0xff, size);
}

static __cold void perturb_free(void *p)
{
	memset(p, perturb_byte, __ksize(p, "free"));
}

/* ---- malloc, free, calloc, realloc ----
 *
 * Each is split in two: an inline fast half (kmalloc_fast, kfree_fast:
 * this CPU's object cache, no call, no errno) and an out-of-line slow half
 * that does everything else: start-up (preload_enter), sizes past the
 * slabs, refills and drains, M_PERTURB, errno, and the reports of bad
 * pointers.  ip is the caller's return address, for debug call sites.
 */

/*
 * ip 0: the slow half's own return address, which is malloc's (free's)
 * caller, as malloc and free reach it by a tail jump
 * (tests/scripts/fastpath_code.sh checks that they do).  Passing 0 rather
 * than _RET_IP_ keeps the load of the return address off their hit path.
 */
static __noinline void *malloc_slow(size_t size, unsigned long ip)
{
	void *p;

	if (!ip)
		ip = _RET_IP_;
	preload_begin();
	if (unlikely(size > MALLOC_MAX_SIZE)) {
		p = enomem();
	} else {
		p = __kmalloc_track(size, kmalloc_fast_counted(size,
							       MALLOC_ALIGNMENT),
				    ip);
		if (unlikely(!p))
			p = enomem();
		else if (unlikely(perturb_byte))
			perturb_alloc(p, size);
	}
	preload_end(ip);
	return p;
}

/* The object the fast path popped had a damaged free tag: report, drop
 * it, and allocate again. */
static __noinline __cold void *malloc_bad_tag(void *p, size_t size,
					      unsigned long ip)
{
	kmalloc_bad_tag(p);
	return malloc_slow(size, ip ? ip : _RET_IP_);
}

/* malloc's and free's halves together; ip as for malloc_slow. */
static __always_inline void *malloc_ip(size_t size, unsigned long ip)
{
	void *p = kmalloc_fast_pop(size);

	if (unlikely(!p))
		return malloc_slow(size, ip);
	if (unlikely(!kmalloc_fast_tag_ok(p)))
		return malloc_bad_tag(p, size, ip);
	kmalloc_fast_untag(p);
	return p;
}

KMEM_EXPORT void *malloc(size_t size)
{
	return malloc_ip(size, 0);
}

/* free() keeps errno (glibc does since 2.33): only the slow half can
 * reach anything that might set it.  r: what kfree_fast found. */
static __noinline void free_slow(void *p, enum kfree_result r,
				 unsigned long ip)
{
	int saved;

	if (unlikely(!p))
		return;
	if (!ip)
		ip = _RET_IP_;	/* as in malloc_slow */
	preload_begin();
	saved = errno;
	if (unlikely(perturb_byte) && r != KFREE_DOUBLE)
		perturb_free(p);
	__kfree_result(p, r, ip);
	errno = saved;
	preload_end(ip);
}

static __always_inline void free_ip(void *p, unsigned long ip)
{
	enum kfree_result r = kfree_fast(p);

	if (likely(r == KFREE_DONE))
		return;
	free_slow(p, r, ip);
}

KMEM_EXPORT void free(void *p)
{
	free_ip(p, 0);
}

static __noinline void *calloc_slow(size_t n, size_t size, unsigned long ip)
{
	size_t total;
	void *p;

	if (unlikely(__builtin_mul_overflow(n, size, &total) ||
		     total > MALLOC_MAX_SIZE))
		return enomem();
	preload_begin();
	p = __kmalloc_track(total, __GFP_ZERO |
				   kmalloc_fast_counted(total, MALLOC_ALIGNMENT),
			    ip);
	preload_end(ip);
	if (unlikely(!p))
		return enomem();
	return p;
}

static __noinline __cold void *calloc_bad_tag(void *p, size_t n, size_t size,
					      unsigned long ip)
{
	kmalloc_bad_tag(p);
	return calloc_slow(n, size, ip);
}

KMEM_EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	/* The requested bytes are zeroed, and the tag (the first word, even
	 * for calloc(0, n)); a damaged tag is reported by the slow half.
	 * M_PERTURB does not touch calloc. */
	if (likely(!__builtin_mul_overflow(n, size, &total))) {
		p = kmalloc_fast_pop(total);
		if (likely(p) && likely(kmalloc_fast_tag_ok(p))) {
			kmalloc_fast_untag(p);
			return memset(p, 0, total);
		}
		if (p)
			return calloc_bad_tag(p, n, size, _RET_IP_);
	}
	return calloc_slow(n, size, _RET_IP_);
}

KMEM_EXPORT void *realloc(void *p, size_t size)
{
	uintptr_t chunk;
	void *q;

	if (!p)
		return malloc(size);
	if (size == 0) {
		/* glibc: realloc(p, 0) frees p and returns NULL. */
		free_slow(p, KFREE_SLOW, _RET_IP_);
		return NULL;
	}
	if (unlikely(size > MALLOC_MAX_SIZE))
		return enomem();
	chunk = krealloc_fast_chunk(p);
	if (likely(chunk)) {
		/*
		 * A live object of a per-CPU class: it stays where the new
		 * size has the same class, else it moves through the fast
		 * halves of malloc and free (the slow half's classify, its
		 * checks and its calls, for the same outcome, were three
		 * times the time of this path in realloc-append).
		 */
		size_t old = kmalloc_class_size[pcpu_chunk_class(chunk)];

		if (size <= KMALLOC_MAX_CACHE_SIZE &&
		    kmalloc_chunk_of(size) == chunk)
			return p;
		q = malloc_ip(size, _RET_IP_);
		if (unlikely(!q))
			return NULL;	/* errno is set; p stays */
		memcpy(q, p, MIN(old, size));
		free_ip(p, _RET_IP_);
		return q;
	}
	preload_begin();
	q = __krealloc_track(p, size, GFP_KERNEL, _RET_IP_);
	preload_end(_RET_IP_);
	if (unlikely(!q))
		return enomem();
	return q;
}

KMEM_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (unlikely(__builtin_mul_overflow(n, size, &total)))
		return enomem();
	return realloc(p, total);
}

/* ---- aligned allocation ---- */

/* align: a power of two.  NULL with errno ENOMEM on failure. */
static void *alloc_aligned(size_t align, size_t size, unsigned long ip)
{
	gfp_t gfp;
	void *p;

	if (unlikely(size > MALLOC_MAX_SIZE || align > MALLOC_MAX_SIZE))
		return enomem();
	p = kmalloc_fast_pop_aligned(size, align);
	if (likely(p)) {
		if (likely(kmalloc_fast_tag_ok(p))) {
			kmalloc_fast_untag(p);
			return p;
		}
		kmalloc_bad_tag(p);	/* reported and dropped */
	}
	preload_begin();
	/* Every block is 16-aligned (the classes are multiples of 16). */
	gfp = kmalloc_fast_counted(size, align);
	if (align <= MALLOC_ALIGNMENT)
		p = __kmalloc_track(size, gfp, ip);
	else
		p = __kmalloc_aligned_track(size, align, gfp, ip);
	preload_end(ip);
	if (unlikely(!p))
		return enomem();
	if (unlikely(perturb_byte))
		perturb_alloc(p, size);
	return p;
}

/* POSIX returns the error; glibc also leaves ENOMEM in errno when the
 * allocation fails (not EINVAL for a bad alignment), and programs and
 * glibc's tests read it. */
KMEM_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align % sizeof(void *) != 0 || !is_power_of_2(align))
		return EINVAL;
	p = alloc_aligned(align, size, _RET_IP_);
	if (!p)
		return ENOMEM;	/* errno is ENOMEM */
	*out = p;
	return 0;
}

KMEM_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!is_power_of_2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_aligned(align, size, _RET_IP_);
}

KMEM_EXPORT void *memalign(size_t align, size_t size)
{
	/* glibc: an alignment above SIZE_MAX / 2 + 1 cannot be met... */
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	/* ...and one that is not a power of two is rounded up to one. */
	if (!is_power_of_2(align))
		align = (size_t)1 << (64 - __builtin_clzl(align));
	return alloc_aligned(align, size, _RET_IP_);
}

KMEM_EXPORT void *valloc(size_t size)
{
	return alloc_aligned(PAGE_SIZE, size, _RET_IP_);
}

KMEM_EXPORT void *pvalloc(size_t size)
{
	size_t rounded;

	if (unlikely(__builtin_add_overflow(size, PAGE_SIZE - 1, &rounded)))
		return enomem();
	rounded &= PAGE_MASK;
	return alloc_aligned(PAGE_SIZE, rounded ? rounded : PAGE_SIZE, _RET_IP_);
}

/* ---- sizes and sized frees ---- */

KMEM_EXPORT size_t malloc_usable_size(void *p)
{
	size_t usable;

	if (!p)
		return 0;
	usable = ksize_fast(p);
	if (likely(usable))
		return usable;
	preload_enter();
	return __ksize(p, "malloc_usable_size");
}

KMEM_EXPORT void free_sized(void *p, size_t size)
{
	size_t usable;

	if (!p)
		return;
	preload_enter();
	/* A size larger than the block can hold is a caller's bug (C23:
	 * undefined); report it, then free as free() does. */
	usable = __ksize(p, "free_sized");
	if (unlikely(size > usable))
		kmem_report_error("free_sized(%p, %zu): the block holds only "
				  "%zu bytes", p, size, usable);
	free_slow(p, KFREE_SLOW, _RET_IP_);
}

KMEM_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
	size_t usable;

	if (!p)
		return;
	preload_enter();
	usable = __ksize(p, "free_aligned_sized");
	if (unlikely(size > usable ||
		     (is_power_of_2(align) && ((uintptr_t)p & (align - 1)))))
		kmem_report_error("free_aligned_sized(%p, %zu, %zu): not a "
				  "block of that size and alignment (holds "
				  "%zu bytes)", p, align, size, usable);
	free_slow(p, KFREE_SLOW, _RET_IP_);
}

/* ---- trimming, statistics and tuning ---- */

KMEM_EXPORT int malloc_trim(size_t pad)
{
	(void)pad;	/* kmem keeps no top pad: everything free may go */
	return kmem_trim();
}

KMEM_EXPORT struct mallinfo2 mallinfo2(void)
{
	struct mallinfo2 mi;
	struct kmem_totals t;

	kmem_get_totals(&t);
	memset(&mi, 0, sizeof(mi));
	mi.arena = t.heap_mapped;		/* heap sections from the OS */
	mi.ordblks = t.buddy_free >> PAGE_SHIFT; /* free pages in the zones */
	mi.smblks = 0;				/* no fastbins */
	mi.hblks = t.vmalloc_areas;		/* separately mapped areas */
	mi.hblkhd = t.vmalloc_mapped;		/* ... and their bytes */
	mi.usmblks = t.max_mapped;		/* high-water mark of mapped */
	mi.fsmblks = t.percpu_cached;		/* free objects in CPU caches */
	mi.uordblks = t.slab_inuse + t.large_bytes; /* in use in the heap */
	mi.fordblks = t.buddy_free + (t.slab_bytes - t.slab_inuse);
	mi.keepcost = t.buddy_dirty;		/* free, resident: trimmable */
	return mi;
}

static int clamp_int(size_t v)
{
	return v > (size_t)__INT_MAX__ ? __INT_MAX__ : (int)v;
}

KMEM_EXPORT struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo mi;

	mi.arena = clamp_int(m2.arena);
	mi.ordblks = clamp_int(m2.ordblks);
	mi.smblks = clamp_int(m2.smblks);
	mi.hblks = clamp_int(m2.hblks);
	mi.hblkhd = clamp_int(m2.hblkhd);
	mi.usmblks = clamp_int(m2.usmblks);
	mi.fsmblks = clamp_int(m2.fsmblks);
	mi.uordblks = clamp_int(m2.uordblks);
	mi.fordblks = clamp_int(m2.fordblks);
	mi.keepcost = clamp_int(m2.keepcost);
	return mi;
}

/*
 * glibc's layout, kmem's figures: the heap is "arena 0".  Formatted on the
 * stack and written with one raw write(2), which is no cancellation
 * point: a thread cancelled while it calls malloc_stats prints all of it
 * (glibc marks stderr not-cancellable for the same reason).
 */
KMEM_EXPORT void malloc_stats(void)
{
	struct kmem_totals t;

	kmem_get_totals(&t);
	kmem_dprintf(STDERR_FILENO,
		     "Arena 0:\n"
		     "system bytes     = %10zu\n"
		     "in use bytes     = %10zu\n"
		     "Total (incl. mmap):\n"
		     "system bytes     = %10zu\n"
		     "in use bytes     = %10zu\n"
		     "max mmap regions = %10zu\n"
		     "max mmap bytes   = %10zu\n",
		     t.heap_mapped, t.slab_inuse + t.large_bytes, t.mapped,
		     t.inuse, t.vmalloc_areas, t.vmalloc_mapped);
}

KMEM_EXPORT int malloc_info(int options, FILE *fp)
{
	struct kmem_totals t;
	size_t slab_free;

	if (options != 0)
		return EINVAL;	/* glibc returns it, errno untouched */
	kmem_get_totals(&t);
	slab_free = t.slab_bytes - t.slab_inuse;
	fprintf(fp, "<malloc version=\"1\">\n");
	fprintf(fp, "<heap nr=\"0\">\n<sizes>\n</sizes>\n");
	fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"%zu\"/>\n",
		t.percpu_cached);
	fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
		t.buddy_free >> PAGE_SHIFT, t.buddy_free + slab_free);
	fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n",
		t.heap_mapped);
	fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", t.max_mapped);
	fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", t.heap_mapped);
	fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
		t.heap_mapped);
	fprintf(fp, "</heap>\n");
	fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"%zu\"/>\n",
		t.percpu_cached);
	fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
		t.buddy_free >> PAGE_SHIFT, t.buddy_free + slab_free);
	fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n",
		t.vmalloc_areas, t.vmalloc_mapped);
	fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", t.mapped);
	fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", t.max_mapped);
	fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", t.mapped);
	fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", t.mapped);
	fprintf(fp, "<kmem in_use=\"%zu\" resident=\"%zu\" slabs=\"%zu\" "
		"large=\"%zu\" vmalloc=\"%zu\"/>\n", t.inuse, t.resident,
		t.slab_bytes, t.large_bytes, t.vmalloc_bytes);
	fprintf(fp, "</malloc>\n");
	return 0;
}

KMEM_EXPORT int mallopt(int param, int value)
{
	kmem_init();
	switch (param) {
	case M_MMAP_THRESHOLD:
		/* Requests this large get their own mapping. */
		if (value < (int)PAGE_SIZE)
			return 0;
		kmem_option_values[OPT_VMALLOC_THRESHOLD] = value;
		kmalloc_set_vmalloc_threshold((size_t)value);
		return 1;
	case M_PERTURB:
		/* The fast paths do not fill memory: with M_PERTURB on,
		 * every call takes the slow half, which does. */
		if (value & 0xff)
			percpu_disable();
		WRITE_ONCE(perturb_byte, value & 0xff);
		return 1;
	case M_CHECK_ACTION:
		kmem_option_values[OPT_ABORT] = (value & 2) != 0;
		return 1;
	default:
		/* M_MXFAST, M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX,
		 * M_ARENA_TEST, M_ARENA_MAX: glibc's arena tuning has no
		 * meaning here.  glibc accepts unknown parameters too. */
		return 1;
	}
}

/* ---- the names glibc uses internally ---- */

#define KMEM_ALIAS(name, target) \
	extern __typeof__(target) name \
		__attribute__((alias(#target), copy(target),  \
			       visibility("default")))

KMEM_ALIAS(__libc_malloc, malloc);
KMEM_ALIAS(__libc_free, free);
KMEM_ALIAS(__libc_calloc, calloc);
KMEM_ALIAS(__libc_realloc, realloc);
KMEM_ALIAS(__libc_memalign, memalign);
KMEM_ALIAS(__libc_valloc, valloc);
KMEM_ALIAS(__libc_pvalloc, pvalloc);
KMEM_ALIAS(__posix_memalign, posix_memalign);
