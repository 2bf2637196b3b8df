/* SPDX-License-Identifier: MIT */
/*
 * core/sitestack.c - the stack first seen through each call site
 * (sitestack.h).
 *
 * Layer: a utility of debug.c.  Owns the site table, mapped at its first
 * use (only KMEM_DEBUG=U or a cache with SLAB_STORE_USER ever gets there).
 * Calls stacktrace.c (capture, print) and os.c (the mapping); no locks.
 *
 * The table: SITE_STACKS entries, open addressing on a hash of the site,
 * linear probing.  An entry is claimed by a compare-and-swap of its site
 * from 0; the claimer then fills the frames and publishes their number
 * with a release store, which readers load with acquire: a reader sees
 * either no stack or a whole one.  A full table (more distinct sites than
 * entries, or SITE_PROBES collisions) leaves later sites without a stack;
 * their one-frame site is still printed.  Entries are never removed.
 *
 * Memory: SITE_STACKS * (16 + 8 * SITE_FRAMES) bytes = 1.1 MiB of
 * address space; pages are touched as entries are filled.
 */
#include "sitestack.h"

#include "os.h"
#include "stacktrace.h"

#define SITE_STACKS 4096	/* distinct sites with a stack (a power of two) */
#define SITE_FRAMES 32		/* frames kept per stack */
#define SITE_PROBES 64		/* entries looked at before giving up */
_Static_assert((SITE_STACKS & (SITE_STACKS - 1)) == 0, "hash table size");

struct site_stack {
	_Atomic unsigned long site;	/* 0: free */
	_Atomic uint32_t nr;		/* frames in ips, 0 until filled */
	uint32_t _pad;
	unsigned long ips[SITE_FRAMES];
};

/* The sites this thread noted last, by site_recent_slot: most calls
 * come from a few hot sites, and this answers them from L1 instead of a
 * probe into the 1.1 MiB table (2.5% of CPython's run under
 * KMEM_DEBUG=FZPU before), without a call (3% more). */
__thread unsigned long site_recent[SITE_RECENT]
	__attribute__((tls_model("initial-exec")));

static struct site_stack *_Atomic table;
static _Atomic int table_state;		/* 0 none, 1 mapping, 2 up, 3 failed */

static struct site_stack *table_get(void)
{
	struct site_stack *t = atomic_load_explicit(&table,
						    memory_order_acquire);
	int expected = 0, err;

	if (t || atomic_load_explicit(&table_state, memory_order_relaxed) == 3)
		return t;
	if (!atomic_compare_exchange_strong(&table_state, &expected, 1))
		return NULL;	/* another thread maps it: no stack this time */
	t = os_mmap(NULL, SITE_STACKS * sizeof(struct site_stack), OS_PROT_RW,
		    false, &err);
	if (!t) {
		atomic_store_explicit(&table_state, 3, memory_order_relaxed);
		return NULL;
	}
	atomic_store_explicit(&table, t, memory_order_release);
	atomic_store_explicit(&table_state, 2, memory_order_relaxed);
	return t;
}

static unsigned int site_hash(unsigned long site)
{
	return (unsigned int)((site * 0x9e3779b97f4a7c15ULL) >> 52) &
	       (SITE_STACKS - 1);
}

void __site_stack_note(unsigned long site)
{
	unsigned int h = site_hash(site), n;
	struct site_stack *t, *e;
	unsigned long none;

	if (!site)
		return;
	t = table_get();
	if (!t)
		return;
	for (unsigned int i = 0; i < SITE_PROBES; i++) {
		e = &t[(h + i) & (SITE_STACKS - 1)];
		none = atomic_load_explicit(&e->site, memory_order_relaxed);
		if (none == site)
			break;		/* known (filled, or being filled) */
		if (none)
			continue;
		if (!atomic_compare_exchange_strong(&e->site, &none, site)) {
			if (none == site)
				break;
			continue;	/* someone took it for another site */
		}
		n = kmem_stack_capture_from(e->ips, SITE_FRAMES, site);
		atomic_store_explicit(&e->nr, n, memory_order_release);
		break;
	}
	site_recent[site_recent_slot(site)] = site;
}

unsigned int site_stack_get(unsigned long site, const unsigned long **ips)
{
	struct site_stack *t = atomic_load_explicit(&table,
						    memory_order_acquire), *e;

	if (!t || !site)
		return 0;
	for (unsigned int i = 0, h = site_hash(site); i < SITE_PROBES; i++) {
		e = &t[(h + i) & (SITE_STACKS - 1)];
		unsigned long s = atomic_load_explicit(&e->site,
						       memory_order_relaxed);

		if (!s)
			return 0;
		if (s == site) {
			*ips = e->ips;
			return atomic_load_explicit(&e->nr,
						    memory_order_acquire);
		}
	}
	return 0;
}

void site_stack_print(int fd, const char *prefix, unsigned long site)
{
	const unsigned long *ips;
	unsigned int n = site_stack_get(site, &ips);

	if (n)
		kmem_stack_print(fd, prefix, ips, n);
}
