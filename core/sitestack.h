/* SPDX-License-Identifier: MIT */
/*
 * core/sitestack.h - a full call stack for every call site that
 * KMEM_DEBUG=U records: the contract of sitestack.c with debug.c.
 *
 * A struct track (debug.h) keeps one return address per allocation and
 * free: the call site.  The first time a site is recorded, the whole
 * stack through it is taken (stacktrace.c) and kept here, keyed by the
 * site; reports and the leak report print it under the site's line, as
 * "the stack of the first call seen through this site".  One capture per
 * distinct site, not per allocation: full stacks at every allocation cost
 * microseconds each (the unwinder walks every frame), which under
 * KMEM_DEBUG=U would have multiplied the run time of allocation-heavy
 * programs several times.
 */
#ifndef KMEM_SITESTACK_H
#define KMEM_SITESTACK_H

#include "internal.h"

/* Record the stack through site (a return address into the program),
 * if this is the first time site is seen; cheap when it is not: inline,
 * one load from this thread's table of the sites it noted last (a
 * call and a hash probe otherwise).  Never allocates, takes no lock: any
 * allocation path may call it. */
#define SITE_RECENT 64	/* 1 << (64 - 58): site_recent_slot */
extern __thread unsigned long site_recent[SITE_RECENT]
	__attribute__((tls_model("initial-exec"))) __hidden;
void __site_stack_note(unsigned long site) __hidden;

static __always_inline unsigned int site_recent_slot(unsigned long site)
{
	return (unsigned int)((site * 0x9e3779b97f4a7c15ULL) >> 58);
}

static __always_inline void site_stack_note(unsigned long site)
{
	if (likely(site_recent[site_recent_slot(site)] == site))
		return;
	__site_stack_note(site);
}

/* The stack kept for site: its frames in *ips (innermost first, ips[0]
 * being site itself), their number returned; 0 if none is kept. */
unsigned int site_stack_get(unsigned long site,
			    const unsigned long **ips) __hidden;

/* Print site's stack, if one is kept, to fd, one line per frame after
 * prefix; nothing otherwise. */
void site_stack_print(int fd, const char *prefix, unsigned long site) __hidden;

#endif /* KMEM_SITESTACK_H */
