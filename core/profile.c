/* SPDX-License-Identifier: MIT */
/*
 * core/profile.c - the heap profile recorder: live samples with their
 * call stacks, dumped on request or at exit.
 *
 * Layer: utility beside stats.c, called by the malloc path (the sampling
 * decision and the calls are the malloc path's: profile.h) and by
 * stats_live.c (the dump on request).  Owns the sample table, its lock,
 * the per-thread random generator of sampling intervals and the
 * KMEM_PROF* options' effect.  May call stacktrace.c, printk.c and os.c;
 * nothing that allocates.
 *
 * Memory, bounded and mapped once at init (only when KMEM_PROF is set):
 *
 *   slots[KMEM_PROF_MAX]    struct prof_sample: pointer, size, weight, stack
 *   index[2^k >= 2 * max]   open addressing by pointer: slot number + 1,
 *                           0 = never used, TOMB = used once (deleted)
 *
 * Only the pages that hold live samples become resident (about 560 bytes
 * a sample).  A full table drops new samples and counts them.
 *
 * Concurrency: prof_lock serialises inserts, deletes and the rebuild of
 * the index; it is the last lock of all (taken with any kmem lock held,
 * nothing is called under it).  prof_record_free first looks the pointer
 * up WITHOUT the lock: an entry never moves while it is live (a delete
 * leaves a tombstone; an insert fills an empty or a tombstone slot), so
 * a reader looking for p, whose insert happened before the free of p,
 * finds it or finds p was never sampled.  The only thing that moves
 * entries is the rebuild that clears tombstones; it runs under the lock
 * with index_seq odd, and lock-free readers retry when index_seq changed.
 *
 * The statistics signal handler (stats_live.c) dumps with from_handler:
 * it only tries the lock (the thread it interrupted may hold it), copying
 * one sample at a time, and marks the dump incomplete if the lock stays
 * busy.
 */
#include "profile.h"

#include "fork.h"

#include "options.h"
#include "os.h"
#include "page.h"
#include "stacktrace.h"

#define PROF_TOMB ((uint32_t)-1)
#define PROF_SPIN_NS 2000000ull		/* a handler tries the lock so long */

struct prof_sample {
	const void *ptr;		/* NULL: slot free (on the free list) */
	size_t size;			/* bytes asked */
	size_t weight;			/* bytes it stands for */
	uint32_t nframes;
	uint32_t next_free;		/* free list: slot + 1, 0 = end */
	unsigned long ips[KMEM_STACK_MAX];
};

size_t prof_rate;

static kmem_lock_t prof_lock __fork_lock = KMEM_LOCK_INIT;
static struct prof_sample *slots;
static _Atomic uint32_t *prof_index;
static size_t index_mask;		/* entries - 1 */
static size_t nr_slots;
static uint32_t free_head;		/* first free slot + 1, 0 = none */
static size_t next_unused;		/* slots never used start here */
static size_t nr_tombs;
static _Atomic unsigned int index_seq;	/* odd during a rebuild */
static size_t nr_live, live_bytes;
static _Atomic size_t nr_recorded, nr_dropped;

static __thread uint64_t rng_state
	__attribute__((tls_model("initial-exec")));

/* ---- sampling intervals and weights (no libm: slow path only) ---- */

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	if (unlikely(!x))
		x = os_random_u64() ^ ((uint64_t)os_gettid() << 32) ^ 1;
	x = kmem_xorshift64(x);
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double dbl_bits(uint64_t b)
{
	double d;

	__builtin_memcpy(&d, &b, sizeof(d));
	return d;
}

static uint64_t bits_dbl(double d)
{
	uint64_t b;

	__builtin_memcpy(&b, &d, sizeof(b));
	return b;
}

/* ln(x) for x > 0: x = m * 2^e, ln m = 2 atanh((m - 1) / (m + 1)). */
static double prof_ln(double x)
{
	uint64_t b = bits_dbl(x);
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	double m = dbl_bits((b & ((1ULL << 52) - 1)) | (1023ULL << 52));
	double t, t2, sum = 0, term;

	if (m > 1.4142135623730951) {	/* m in [sqrt(1/2), sqrt(2)) */
		m /= 2;
		e++;
	}
	t = (m - 1) / (m + 1);
	t2 = t * t;
	term = t;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= t2;
	}
	return 2 * sum + e * 0.6931471805599453;
}

/* 1 - e^(-x) for x >= 0. */
static double prof_one_minus_exp_neg(double x)
{
	double r, term, ex;
	int k;

	if (x < 1e-3)	/* the series, exact where 1 - e^-x cancels */
		return x - x * x / 2 + x * x * x / 6;
	if (x > 40)
		return 1;
	/* e^-x = 2^-k e^-r, x = k ln 2 + r, 0 <= r < ln 2. */
	k = (int)(x / 0.6931471805599453);
	r = x - k * 0.6931471805599453;
	ex = 1;
	term = 1;
	for (int i = 1; i < 25; i++) {
		term *= -r / i;
		ex += term;
	}
	return 1 - ex * dbl_bits((uint64_t)(1023 - k) << 52);
}

size_t prof_next_interval(void)
{
	/* U in (0, 1]: 53 random bits, never 0. */
	double u = (double)((rng_next() >> 11) + 1) / 9007199254740992.0;
	double v = -prof_ln(u) * (double)prof_rate;

	if (v < 1)
		return 1;
	if (v > (double)(SIZE_MAX / 2))
		return SIZE_MAX / 2;
	return (size_t)v;
}

size_t prof_sample_weight(size_t size)
{
	double p;

	if (!prof_rate || !size)
		return size;
	p = prof_one_minus_exp_neg((double)size / (double)prof_rate);
	return (size_t)((double)size / p + 0.5);
}

/* ---- the index ---- */

static size_t hash_ptr(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

/* Slot number + 1 of p's sample, or 0; lock-free (see top). */
static uint32_t index_find(const void *p, size_t *where)
{
	for (size_t i = hash_ptr(p) & index_mask, n = 0; n <= index_mask;
	     i = (i + 1) & index_mask, n++) {
		uint32_t v = atomic_load_explicit(&prof_index[i],
						  memory_order_acquire);

		if (v == 0)
			return 0;
		if (v != PROF_TOMB && READ_ONCE(slots[v - 1].ptr) == p) {
			if (where)
				*where = i;
			return v;
		}
	}
	return 0;
}

/* Put slot number + 1 v for p; prof_lock held.  The index is at most half
 * full of live entries, so a free or tombstone slot exists. */
static void index_insert(const void *p, uint32_t v)
{
	for (size_t i = hash_ptr(p) & index_mask;; i = (i + 1) & index_mask) {
		uint32_t cur = atomic_load_explicit(&prof_index[i],
						    memory_order_relaxed);

		if (cur == 0 || cur == PROF_TOMB) {
			if (cur == PROF_TOMB)
				nr_tombs--;
			atomic_store_explicit(&prof_index[i], v,
					      memory_order_release);
			return;
		}
	}
}

/* Clear the tombstones: rebuild the index in place; prof_lock held. */
static void index_rebuild(void)
{
	atomic_fetch_add_explicit(&index_seq, 1, memory_order_acq_rel);
	for (size_t i = 0; i <= index_mask; i++)
		atomic_store_explicit(&prof_index[i], 0, memory_order_relaxed);
	for (size_t s = 0; s < next_unused; s++)
		if (slots[s].ptr)
			index_insert(slots[s].ptr, (uint32_t)s + 1);
	nr_tombs = 0;
	atomic_fetch_add_explicit(&index_seq, 1, memory_order_acq_rel);
}

/* ---- recording ---- */

void prof_record_stack(const void *p, size_t size, size_t weight_bytes,
		       const unsigned long *ips, unsigned int n)
{
	struct prof_sample *s;
	uint32_t v;

	if (!slots || !p)
		return;
	/* Never wait for the lock this thread holds (a signal handler that
	 * interrupted the profiler) or for a fork: drop the sample. */
	if (!kmem_lock_safe(&prof_lock)) {
		atomic_fetch_add_explicit(&nr_dropped, 1, memory_order_relaxed);
		return;
	}
	v = index_find(p, NULL);
	if (v) {
		/* p was freed without prof_record_free and handed out
		 * again: the new sample takes the old one's slot. */
		s = &slots[v - 1];
		live_bytes -= s->weight;
		nr_live--;
	} else if (free_head) {
		v = free_head;
		free_head = slots[v - 1].next_free;
	} else if (next_unused < nr_slots) {
		v = (uint32_t)++next_unused;
	} else {
		kmem_unlock(&prof_lock);
		atomic_fetch_add_explicit(&nr_dropped, 1, memory_order_relaxed);
		return;
	}
	s = &slots[v - 1];
	s->size = size;
	s->weight = weight_bytes;
	s->nframes = n;
	for (unsigned int i = 0; i < n; i++)
		s->ips[i] = ips[i];
	if (READ_ONCE(s->ptr) != p) {
		/* Published before the index entry (release in insert). */
		WRITE_ONCE(s->ptr, p);
		index_insert(p, v);
	}
	nr_live++;
	live_bytes += weight_bytes;
	kmem_unlock(&prof_lock);
	atomic_fetch_add_explicit(&nr_recorded, 1, memory_order_relaxed);
}

__noinline void __prof_record_alloc(const void *p, size_t size,
				    size_t weight_bytes, unsigned int skip)
{
	unsigned long ips[KMEM_STACK_MAX];
	unsigned int n;

	if (!slots || !p)
		return;
	/* Outside the lock: the unwinder takes its time. */
	n = kmem_stack_capture(ips, KMEM_STACK_MAX, skip + 1);
	prof_record_stack(p, size, weight_bytes, ips, n);
}

/* Frames of kmem above the recorded stack: prof_record_alloc itself and
 * the slow half that called it (__prof_record_alloc adds its own). */
__noinline void prof_record_alloc(const void *p, size_t size,
				  size_t weight_bytes)
{
	__prof_record_alloc(p, size, weight_bytes, 2);
	barrier();	/* keep this frame: not a tail call */
}

void prof_record_free(const void *p)
{
	unsigned int seq;
	size_t where;
	uint32_t v;

	if (!slots || !p)
		return;
	do {
		seq = atomic_load_explicit(&index_seq, memory_order_acquire);
		v = (seq & 1) ? 1 : index_find(p, NULL);
	} while (atomic_load_explicit(&index_seq, memory_order_acquire) != seq);
	if (!v || !kmem_lock_safe(&prof_lock))
		return;
	v = index_find(p, &where);
	if (v) {
		struct prof_sample *s = &slots[v - 1];

		atomic_store_explicit(&prof_index[where], PROF_TOMB,
				      memory_order_release);
		nr_live--;
		live_bytes -= s->weight;
		WRITE_ONCE(s->ptr, NULL);
		s->next_free = free_head;
		free_head = v;
		if (++nr_tombs > (index_mask + 1) / 4)
			index_rebuild();
	}
	kmem_unlock(&prof_lock);
}

void prof_get_stats(struct prof_stats *st)
{
	st->rate = prof_rate;
	st->max = nr_slots;
	kmem_lock(&prof_lock);
	st->live = nr_live;
	st->live_bytes = live_bytes;
	kmem_unlock(&prof_lock);
	st->recorded = atomic_load_explicit(&nr_recorded, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&nr_dropped, memory_order_relaxed);
}

/* prof_lock, waiting only a bounded time when called from the handler. */
static bool prof_lock_bounded(bool from_handler)
{
	if (!from_handler) {
		kmem_lock(&prof_lock);
		return true;
	}
	return kmem_lock_for(&prof_lock, PROF_SPIN_NS);
}

bool prof_get_stats_try(struct prof_stats *st)
{
	st->rate = prof_rate;
	st->max = nr_slots;
	st->recorded = atomic_load_explicit(&nr_recorded, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&nr_dropped, memory_order_relaxed);
	if (!prof_lock_bounded(true))
		return false;
	st->live = nr_live;
	st->live_bytes = live_bytes;
	kmem_unlock(&prof_lock);
	return true;
}

/* ---- dumping ---- */

/* /proc/self/maps, copied as it is. */
static void dump_maps(struct kmem_out *o)
{
	char buf[512];
	int fd = os_open_read("/proc/self/maps");
	long n;

	if (fd < 0) {
		kmem_out_printf(o, "# kmem: /proc/self/maps cannot be read\n");
		return;
	}
	while ((n = os_read(fd, buf, sizeof(buf))) > 0)
		kmem_out_write(o, buf, (size_t)n);
	os_close(fd);
}

static size_t sample_objs(const struct prof_sample *s)
{
	size_t objs = s->size ? (s->weight + s->size / 2) / s->size : 1;

	return objs ? objs : 1;
}

int prof_dump(int fd, bool from_handler)
{
	struct kmem_out o;
	struct prof_sample copy;
	size_t total_objs = 0, total_bytes = 0, n;
	bool complete = true;

	kmem_out_init(&o, fd);
	if (!slots) {
		kmem_out_printf(&o, "heap profile: %6d: %8d [%6d: %8d] @ heapprofile\n",
				0, 0, 0, 0);
		kmem_out_printf(&o, "# kmem: heap profiling is off (KMEM_PROF=0)\n");
		goto maps;
	}
	/* Totals first: one pass over the slots that were ever used. */
	if (!prof_lock_bounded(from_handler)) {
		complete = false;
	} else {
		n = next_unused;
		for (size_t i = 0; i < n; i++)
			if (slots[i].ptr) {
				total_objs += sample_objs(&slots[i]);
				total_bytes += slots[i].weight;
			}
		kmem_unlock(&prof_lock);
	}
	kmem_out_printf(&o, "heap profile: %6zu: %8zu [%6zu: %8zu] @ heapprofile\n",
			total_objs, total_bytes, total_objs, total_bytes);
	n = READ_ONCE(next_unused);
	for (size_t i = 0; complete && i < n; i++) {
		if (!READ_ONCE(slots[i].ptr))
			continue;
		if (!prof_lock_bounded(from_handler)) {
			complete = false;
			break;
		}
		copy = slots[i];
		kmem_unlock(&prof_lock);
		if (!copy.ptr)
			continue;
		kmem_out_printf(&o, "%6zu: %8zu [%6zu: %8zu] @",
				sample_objs(&copy), copy.weight,
				sample_objs(&copy), copy.weight);
		for (unsigned int f = 0; f < copy.nframes; f++)
			kmem_out_printf(&o, " 0x%lx", copy.ips[f]);
		kmem_out_write(&o, "\n", 1);
	}
	if (!complete)
		kmem_out_printf(&o, "# kmem: incomplete (the sample table stayed "
				"locked)\n");
maps:
	kmem_out_printf(&o, "\nMAPPED_LIBRARIES:\n");
	dump_maps(&o);
	return kmem_out_flush(&o);
}

/* KMEM_PROF_DUMP with %p replaced by the process id. */
static void dump_path(char *buf, size_t len, const char *tmpl)
{
	size_t n = 0;

	for (const char *t = tmpl; *t && n + 1 < len; t++) {
		if (t[0] == '%' && t[1] == 'p') {
			n += (size_t)kmem_snprintf(buf + n, len - n, "%d",
						   os_getpid());
			if (n >= len)
				n = len - 1;
			t++;
			continue;
		}
		buf[n++] = *t;
	}
	buf[n] = '\0';
}

void prof_exit_dump(void)
{
	const char *tmpl = kmem_opt_str(OPT_PROF_DUMP);
	char path[4096];
	int fd;

	if (!tmpl || !*tmpl || !slots)
		return;
	dump_path(path, sizeof(path), tmpl);
	fd = os_open_write(path, true);
	if (fd < 0) {
		kmem_pr_err("KMEM_PROF_DUMP: cannot create %s", path);
		return;
	}
	if (prof_dump(fd, false))
		kmem_pr_err("KMEM_PROF_DUMP: cannot write %s", path);
	os_close(fd);
}

__attribute__((destructor(101))) static void prof_dtor(void)
{
	prof_exit_dump();
}

/* ---- init and fork ---- */

void prof_init(void)
{
	size_t rate = (size_t)kmem_opt(OPT_PROF);
	size_t max = (size_t)kmem_opt(OPT_PROF_MAX);
	size_t entries = 64;
	int err = 0;
	void *s, *ix;

	if (!rate || !max)
		return;
	max = MIN(max, (size_t)1 << 24);
	while (entries < 2 * max)
		entries <<= 1;
	s = os_mmap(NULL, ALIGN_UP(max * sizeof(struct prof_sample), PAGE_SIZE),
		    OS_PROT_RW, false, &err);
	ix = s ? os_mmap(NULL, ALIGN_UP(entries * sizeof(uint32_t), PAGE_SIZE),
			 OS_PROT_RW, false, &err) : NULL;
	if (!ix) {
		kmem_pr_err("KMEM_PROF: cannot map the sample table (error %d); "
			    "heap profiling is off", err);
		if (s)
			os_munmap(s, ALIGN_UP(max * sizeof(struct prof_sample),
					      PAGE_SIZE));
		return;
	}
	slots = s;
	prof_index = ix;
	index_mask = entries - 1;
	nr_slots = max;
	prof_rate = rate;
}

void prof_fork_prepare(void)
{
	kmem_fork_lock(&prof_lock);
}

void prof_fork_release(void)
{
	kmem_fork_unlock(&prof_lock);
}
