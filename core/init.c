/* SPDX-License-Identifier: MIT */
/*
 * core/init.c - bringing kmem up, once, without recursion.
 *
 * Layer: top of core/, called by every public entry point through the
 * inline kmem_init() (internal.h).  Owns the init state machine
 *
 *     KMEM_DOWN  ->  KMEM_PARTIAL (init running)  ->  KMEM_UP
 *
 * The first call can come from the dynamic loader before any constructor
 * has run, so init uses nothing but os.c and the layers' own init
 * functions, and never allocates through malloc.  A second thread that
 * arrives during init waits on init_lock; a nested call from the initing
 * thread itself (which would be a bug) returns at once.
 */
#include "internal.h"

#include "buddy.h"
#include "highmem.h"
#include "kmalloc.h"
#include "options.h"
#include "os.h"
#include "fault.h"
#include "percpu_data.h"
#include "profile.h"
#include "reserve.h"
#include "slab.h"
#include "stats_live.h"
#include "thp.h"
#include "vmalloc.h"

_Atomic int kmem_init_state __read_mostly = KMEM_DOWN;
static kmem_lock_t init_lock __read_mostly = KMEM_LOCK_INIT;
static __thread int init_depth __attribute__((tls_model("initial-exec")));

void __kmem_init(void)
{
	int err;

	if (init_depth)
		return;
	kmem_lock(&init_lock);
	if (atomic_load_explicit(&kmem_init_state, memory_order_relaxed) ==
	    KMEM_DOWN) {
		init_depth++;
		atomic_store_explicit(&kmem_init_state, KMEM_PARTIAL,
				      memory_order_relaxed);
		options_init();
		thp_init();
		prof_init();
		err = buddy_init();
		if (err)
			kmem_panic("cannot map the page map (error %d)", err);
		vmalloc_init();
		if (slab_init() || kmalloc_init())
			kmem_panic("cannot create the kmalloc caches");
		percpu_data_init();
		highmem_init();
		/* Without its reserve kmem still works; only allocations that
		 * cannot wait for a lock then fail. */
		if (reserve_init())
			kmem_pr_err("cannot map the atomic reserve");
		atomic_store_explicit(&kmem_init_state, KMEM_UP,
				      memory_order_release);
		stats_live_init();
		fault_init();
		init_depth--;
	}
	kmem_unlock(&init_lock);
}
