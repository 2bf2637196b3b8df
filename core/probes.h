/* SPDX-License-Identifier: MIT */
/*
 * core/probes.h - USDT probes (static tracepoints) on kmem's slow paths.
 *
 * Layer: utility, includable by every layer of core/.  Owns the probe
 * names and their arguments (the list below is the contract with
 * docs/observability.md and tests/scripts/probes.sh); no code, no data, no
 * locks.
 *
 * A probe site is one line, kmem_probe(name, args...), built on
 * <sys/sdt.h> (Debian's systemtap-sdt-dev).  The compiled site is a single
 * `nop` plus a note in the ELF section .note.stapsdt that tells a tracer
 * (perf, bpftrace, systemtap) where the nop is and where each argument
 * lives; no semaphore is used, so an untraced probe costs the nop and
 * nothing reads memory to decide.  A tracer that attaches replaces the nop
 * with a breakpoint (a uprobe).  Without <sys/sdt.h> (make SDT=0) the
 * macro compiles to nothing and the arguments are not evaluated.
 *
 * Probes (provider "kmem"), arguments in order:
 *
 *   slab_grow      cache name, order, slab address, objects   (new slab)
 *   slab_shrink    cache name, order, slab address  (slab back to buddy)
 *   buddy_split    block address, order taken from, order asked
 *   buddy_merge    block address, order of the merged block
 *   buddy_purge    run address, pages, errno of madvise (0: done)
 *   section_map    section address, zone id         (64 MiB mapped)
 *   vmalloc_map    area address, bytes              (fresh mapping)
 *   vmalloc_unmap  address, bytes                   (munmap of an area)
 *   percpu_refill  class, objects taken from the slab layer
 *   percpu_drain   class, objects given back to the slab layer
 *   report         kind, text, address: every error report, before it is
 *                  printed (and even when too many reports suppress the
 *                  printing): kind "error" (kmem_report_error: bad free,
 *                  double free, ...; text = the message), "object" (a
 *                  damaged debug object; text = what is damaged, address =
 *                  the object), "validate" (a slab found corrupted by
 *                  validation; text = cache name, address = slab), "panic"
 *                  (an internal bug; text = the message)
 *
 * Arguments are integers and pointers; a string is a pointer to a
 * NUL-terminated string (bpftrace: str(arg0)).
 */
#ifndef KMEM_PROBES_H
#define KMEM_PROBES_H

#ifndef KMEM_HAVE_SDT
#define KMEM_HAVE_SDT 0
#endif

#if KMEM_HAVE_SDT
#define SDT_USE_VARIADIC 1
#include <sys/sdt.h>
#define kmem_probe(name, ...) STAP_PROBEV(kmem, name, ##__VA_ARGS__)
#else
/* Type-checks the arguments without evaluating them. */
static inline void kmem_probe_unused(int dummy, ...)
{
	(void)dummy;
}
#define kmem_probe(name, ...)                                  \
	do {                                                   \
		if (0)                                         \
			kmem_probe_unused(0, ##__VA_ARGS__);   \
	} while (0)
#endif

#endif /* KMEM_PROBES_H */
