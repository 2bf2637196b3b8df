/* SPDX-License-Identifier: MIT */
/*
 * core/stats_live.c - statistics of a running process, on request from
 * another process (`kmem stat PID`, `kmem top PID`, `kmem profile PID`).
 *
 * Layer: top of core/ (beside stats.c).  Owns the request signal
 * (KMEM_SIGNAL), its handler and the text it writes.  May call the
 * layers' lock-trying statistics functions (zone_get_stats_try,
 * vmalloc_snapshot_try, the caches' locks through kmem_lock_for),
 * slab_for_each_cache (RCU read side), percpu_cached_bytes,
 * kmalloc_large_bytes, prof_dump, printk.c's kmem_out and os.c.  Locks:
 * none of its own; one atomic flag serialises concurrent requests.
 *
 * Protocol.  The reader (bin/kmem-live) creates an empty file that only it
 * holds open (a memfd), and sends the process KMEM_SIGNAL (default 61,
 * SIGRTMAX-3) with sigqueue(3), the value carrying a magic number, the
 * kind of request (statistics or heap profile) and the reader's descriptor
 * number N.  The handler opens /proc/<sender pid>/fd/N for writing (the
 * kernel checks that this process may: same user), writes the answer in
 * the /proc formats and a last line "# kmem: end", and closes it.  So the
 * answer needs no descriptor of the target's (a program that closed or
 * reused all of its descriptors answers the same), no file name that
 * could be raced, no thread and no shared memory: nothing at all exists
 * or runs until someone asks.  A signal without the magic value (kill -61
 * by hand) is ignored.
 *
 * Cost when nobody looks: none on any path; the handler is installed
 * once at start (only if the program has not claimed the signal: a
 * program's own handler is never replaced, and then kmem stat says there
 * is no answer).  When someone looks: one handler run on one of the
 * program's threads per request, which walks the caches (tens of
 * microseconds to a millisecond), and blocking calls that the kernel does
 * not restart after a handler (nanosleep, poll, epoll_wait, ...) return
 * EINTR in that thread, as with any signal: gperftools'
 * HEAPPROFILESIGNAL has the same effect.
 *
 * A handler interrupts a thread anywhere, perhaps inside kmem holding a
 * lock, so it never waits for a lock: each one is tried for at most
 * LIVE_SPIN_NS (kmem_lock_for), long enough for another thread to leave
 * its critical section, too short to matter if the lock is the
 * interrupted thread's own.  A cache or zone whose lock stayed busy is
 * read without it (its counters are words, each read whole) and named in
 * the "approximate" line at the end; the vmalloc list, which cannot be
 * walked without its lock, is then left out and said so.  Otherwise every
 * figure is exact in the same sense as kmem_stats_print's: each cache's
 * and each zone's counts are taken under its lock, one after another, so
 * they are consistent per cache and per zone, not across them.
 *
 * Nothing here allocates: text is formatted on the handler's stack (about
 * 4 KiB of it) by kmem_vsnprintf and written in pieces.
 */
#include "stats_live.h"

#include <errno.h>
#include <signal.h>

#include "buddy.h"
#include "kfence.h"
#include "kmalloc.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "percpu.h"
#include "profile.h"
#include "slab.h"
#include "stats.h"
#include "thp.h"
#include "vmalloc.h"

#define LIVE_SPIN_NS 2000000ull		/* a lock is tried this long */
#define LIVE_WAIT_NS 1000000000ull	/* a second request waits this long */
#define LIVE_VM_AREAS 64		/* as vmalloc_print */
#define LIVE_BUSY_NAMES 8		/* busy caches named at most */

static int live_signal;			/* 0: not installed */
/* The pid of the process whose thread answers a request now, 0 if none:
 * a child forked while its parent answered sees a pid not its own, and
 * takes the flag over (the answering thread did not come with it). */
static _Atomic int live_running;

struct live_walk {
	struct kmem_out *out;
	uint64_t spin;			/* ns a lock is tried */
	unsigned int busy;		/* caches read without their lock */
	const char *busy_names[LIVE_BUSY_NAMES];
};

/* A cache's counts under its lock if it can be had; false if read
 * without it. */
static bool cache_stats_try(struct kmem_cache *s, struct slab_cache_stats *st,
			    uint64_t spin)
{
	bool locked = kmem_lock_for(&s->lock, spin);

	st->num_slabs = READ_ONCE(s->nr_partial) + READ_ONCE(s->nr_full) +
			READ_ONCE(s->nr_free);
	st->active_slabs = READ_ONCE(s->nr_partial) + READ_ONCE(s->nr_full);
	st->active_objs = READ_ONCE(s->nr_inuse);
	if (locked)
		kmem_unlock(&s->lock);
	st->num_objs = st->num_slabs * s->objects;
	return locked;
}

static void slabinfo_line(struct kmem_cache *s, void *arg)
{
	struct live_walk *w = arg;
	struct slab_cache_stats st;

	if (!cache_stats_try(s, &st, w->spin)) {
		if (w->busy < LIVE_BUSY_NAMES)
			w->busy_names[w->busy] = s->name;
		w->busy++;
	}
	kmem_out_printf(w->out, "%-17s %6lu %6lu %6u %4u %4u : tunables %4u "
			"%4u %4u : slabdata %6lu %6lu %6u\n", s->name,
			st.active_objs, st.num_objs, s->size, s->objects,
			1U << s->order, 0U, 0U, 0U, st.active_slabs,
			st.num_slabs, 0U);
}

/* "  label   123456789  (117.7 MiB)" as kmem_stats_print's %.1f. */
static void print_size(struct kmem_out *o, const char *label, size_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned long long div = 1, tenths, rem;
	unsigned int u = 0;

	while (bytes >= div * 1024 && u + 1 < ARRAY_SIZE(units)) {
		div *= 1024;
		u++;
	}
	/* Round to tenths, ties to even, as printf rounds exact values. */
	tenths = (unsigned long long)bytes * 10 / div;
	rem = (unsigned long long)bytes * 10 % div;
	if (2 * rem > div || (2 * rem == div && (tenths & 1)))
		tenths++;
	kmem_out_printf(o, "  %-22s %14zu  (%llu.%llu %s)\n", label, bytes,
			tenths / 10, tenths % 10, units[u]);
}

static size_t load(_Atomic size_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void stats_live_write(int fd, bool from_handler)
{
	struct vmalloc_area_info areas[LIVE_VM_AREAS];
	struct kmem_user_maps *um = &kmem_user_maps;
	struct vmalloc_stats vs = { 0 };
	struct zone_stats zs;
	struct kmem_out out;
	uint64_t spin = from_handler ? LIVE_SPIN_NS : ~0ull;
	struct live_walk w = { &out, spin, 0, { NULL } };
	struct kmem_totals t = { 0 };
	struct kfence_stats ks;
	struct prof_stats ps;
	bool zones_exact = true;
	long nvm;

	kmem_out_init(&out, fd);
	kmem_out_printf(&out, "==== kmem statistics (pid %d, tid %d, live, "
			"%lu ms) ====\n", os_getpid(), os_gettid(),
			(unsigned long)os_now_ms());
	kmem_out_printf(&out, "slabinfo - version: 2.1\n");
	kmem_out_printf(&out, "# name            <active_objs> <num_objs> "
			"<objsize> <objperslab> <pagesperslab> : tunables "
			"<limit> <batchcount> <sharedfactor> : slabdata "
			"<active_slabs> <num_slabs> <sharedavail>\n");
	slab_for_each_cache(slabinfo_line, &w);

	kmem_out_printf(&out, "---- buddyinfo\n");
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		if (!zone_get_stats_try(zid, &zs, spin, &zones_exact))
			continue;
		kmem_out_printf(&out, "Node 0, zone %8s ", zs.name);
		for (int o = 0; o <= MAX_ORDER; o++)
			kmem_out_printf(&out, "%6zu ", zs.nr_free_blocks[o]);
		kmem_out_write(&out, "\n", 1);
		t.buddy_free += (zs.nr_free + zs.nr_pcp) << PAGE_SHIFT;
		t.buddy_dirty += zs.nr_dirty << PAGE_SHIFT;
		if (zs.nr_pcp)
			kmem_out_printf(&out, "# zone %s: %zu more pages on "
					"per-CPU lists, not in the counts above\n",
					zs.name, zs.nr_pcp);
	}

	kmem_out_printf(&out, "---- vmallocinfo\n");
	nvm = vmalloc_snapshot_try(&vs, areas, LIVE_VM_AREAS, spin);
	for (long i = 0; i < nvm; i++) {
		const struct vmalloc_area_info *a = &areas[i];

		/* As glibc's %p, which vmalloc_print uses: (nil) for NULL. */
		if (a->caller)
			kmem_out_printf(&out, "0x%016lx-0x%016lx %10zu %p "
					"pages=%zu vmalloc\n", a->start, a->end,
					a->end - a->start, a->caller, a->pages);
		else
			kmem_out_printf(&out, "0x%016lx-0x%016lx %10zu (nil) "
					"pages=%zu vmalloc\n", a->start, a->end,
					a->end - a->start, a->pages);
	}
	if (nvm >= 0 && vs.nr_areas > (size_t)nvm)
		kmem_out_printf(&out, "... and %zu more areas (%zu live)\n",
				vs.nr_areas - (size_t)nvm, vs.nr_areas);

	/* The totals of kmem_get_totals, from the same kind of reads. */
	for (unsigned int c = 0; c < NR_KMALLOC_CLASSES; c++) {
		struct kmem_cache *s = kmalloc_caches[c];
		struct slab_cache_stats cs;

		if (!s)
			continue;
		cache_stats_try(s, &cs, spin);
		t.slab_bytes += cs.num_slabs * (PAGE_SIZE << s->order);
		t.slab_inuse += cs.active_objs * s->object_size;
	}
	t.heap_mapped = pagemap_nr_sections() * SECTION_SIZE;
	t.vmalloc_mapped = vs.bytes + vs.cached_bytes;
	t.mapped = t.heap_mapped + t.vmalloc_mapped;
	t.resident = os_rss_bytes();
	t.large_bytes = kmalloc_large_bytes();
	t.vmalloc_bytes = vs.bytes;
	t.percpu_cached = percpu_cached_bytes();
	t.inuse = t.slab_inuse + t.large_bytes + t.vmalloc_bytes;

	kmem_out_printf(&out, "---- per-cpu caches: %s, holding %zu bytes\n",
			percpu_mode_name(), t.percpu_cached);
	kfence_get_stats(&ks);
	kmem_out_printf(&out, "---- sampled guard blocks (KMEM_SAMPLE=%ld): "
			"%zu live, %zu so far, %zu skipped (pool full)\n",
			kmem_opt(OPT_SAMPLE), ks.allocated, ks.total,
			ks.skipped);
	kmem_out_printf(&out, "---- totals\n");
	print_size(&out, "mapped", t.mapped);
	print_size(&out, "  heap sections", t.heap_mapped);
	print_size(&out, "  vmalloc areas", t.vmalloc_mapped);
	print_size(&out, "resident (process)", t.resident);
	print_size(&out, "in use", t.inuse);
	print_size(&out, "  slab objects", t.slab_inuse);
	print_size(&out, "  page runs", t.large_bytes);
	print_size(&out, "  vmalloc", t.vmalloc_bytes);
	print_size(&out, "slabs (kmalloc)", t.slab_bytes);
	print_size(&out, "free in zones", t.buddy_free);
	print_size(&out, "  of which resident", t.buddy_dirty);
	kmem_out_printf(&out, "---- program's own mappings: %zu mmap, %zu "
			"munmap, %zu mremap, %zu refused\n", load(&um->nr_mmap),
			load(&um->nr_munmap), load(&um->nr_mremap),
			load(&um->nr_refused));
	print_size(&out, "mapped by program", load(&um->bytes_mapped));
	print_size(&out, "unmapped by program", load(&um->bytes_unmapped));
	print_size(&out, "program's, live",
		   load(&um->bytes_mapped) - load(&um->bytes_unmapped));
	kmem_out_printf(&out, "---- signals held while a kmem lock was: %lu\n",
			os_signals_deferred());
	kmem_out_printf(&out, "---- direct reclaims (memory exhausted, caches emptied): %lu\n",
			kmalloc_nr_reclaims());

	/* Not the process's AnonHugePages: smaps_rollup walks every page
	 * table, too slow for a handler in a large process; the asker reads
	 * it from /proc/PID/smaps_rollup if it wants it. */
	kmem_out_printf(&out, "---- transparent huge pages: KMEM_THP=%s\n",
			thp_mode_name());
	if (prof_enabled()) {
		ps.live = ps.live_bytes = 0;
		if (from_handler ? prof_get_stats_try(&ps) :
				   (prof_get_stats(&ps), true))
			kmem_out_printf(&out, "---- heap profile: one sample "
					"per %zu bytes, %zu live samples standing "
					"for %zu bytes, %zu dropped (table of "
					"%zu)\n", ps.rate, ps.live,
					ps.live_bytes, ps.dropped, ps.max);
	}
	if (!w.busy && zones_exact && nvm >= 0) {
		kmem_out_printf(&out, "---- exact: every cache's and zone's "
				"counts taken under its lock\n");
	} else {
		kmem_out_printf(&out, "---- approximate:");
		for (unsigned int i = 0; i < w.busy && i < LIVE_BUSY_NAMES; i++)
			kmem_out_printf(&out, " %s", w.busy_names[i]);
		if (w.busy > LIVE_BUSY_NAMES)
			kmem_out_printf(&out, " and %u more caches",
					w.busy - LIVE_BUSY_NAMES);
		if (!zones_exact)
			kmem_out_printf(&out, " zones");
		if (nvm < 0)
			kmem_out_printf(&out, "; vmalloc areas left out");
		kmem_out_printf(&out, " (locks busy: read without them)\n");
	}
	kmem_out_flush(&out);
}

/* ---- the request signal ---- */

static void live_handler(int sig, void *info, void *ucontext)
{
	const siginfo_t *si = info;
	uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	unsigned int kind = (unsigned int)(v >> 16) & 0xff;
	int saved_errno = errno, fd, expected = 0, self;
	char path[64];
	uint64_t start;

	(void)sig;
	(void)ucontext;
	if (si->si_code != SI_QUEUE || (v >> 32) != KMEM_LIVE_MAGIC ||
	    (kind != KMEM_LIVE_STATS && kind != KMEM_LIVE_PROFILE))
		return;
	kmem_snprintf(path, sizeof(path), "/proc/%d/fd/%u", (int)si->si_pid,
		      (unsigned int)(v & 0xffff));
	fd = os_open_write(path, false);
	if (fd < 0)
		goto out;
	/* One request at a time: another thread may be answering one. */
	self = os_getpid();
	start = os_now_ns();
	while (!atomic_compare_exchange_weak(&live_running, &expected, self)) {
		if (expected == self)
			expected = 0;	/* a thread of ours: wait for it */
		/* else: left by our parent before fork, try to take it over */
		if (os_now_ns() - start > LIVE_WAIT_NS) {
			kmem_dprintf(fd, "# kmem: busy answering another "
				     "request\n# kmem: end\n");
			os_close(fd);
			goto out;
		}
		os_yield();
	}
	if (kind == KMEM_LIVE_STATS)
		stats_live_write(fd, true);
	else
		prof_dump(fd, true);
	kmem_dprintf(fd, "# kmem: end\n");
	atomic_store(&live_running, 0);
	os_close(fd);
out:
	errno = saved_errno;
}

void stats_live_init(void)
{
	long sig = kmem_opt(OPT_SIGNAL);
	int err;

	if (sig <= 0)
		return;
	if (sig > 64 || sig == 32 || sig == 33 || sig == SIGKILL ||
	    sig == SIGSTOP) {
		kmem_pr_err("KMEM_SIGNAL=%ld cannot be used; live statistics "
			    "are off", sig);
		return;
	}
	err = os_signal_install((int)sig, live_handler, false);
	if (!err)
		live_signal = (int)sig;
	/* EBUSY: the program's own handler stays; kmem stat says so. */
}

int stats_live_signal(void)
{
	return live_signal;
}
