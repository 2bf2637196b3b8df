/* SPDX-License-Identifier: MIT */
/*
 * core/thp.h - transparent huge pages for kmem's memory (KMEM_THP): the
 * contract of thp.c with page.c (heap sections) and vmalloc.c (areas).
 *
 *   KMEM_THP=system  (the default) no advice: the kernel's setting
 *                    decides (/sys/kernel/mm/transparent_hugepage/enabled)
 *   KMEM_THP=never   MADV_NOHUGEPAGE on sections and areas
 *   KMEM_THP=always  MADV_HUGEPAGE on every heap section and every vmalloc
 *                    area of at least 2 MiB
 *   KMEM_THP=large   MADV_HUGEPAGE on vmalloc areas of at
 *                    least 2 MiB and on heap sections once the heap has
 *                    grown past THP_LARGE_SECTIONS section (64 MiB): the
 *                    TLB reach of large heaps, without the resident-size
 *                    cost on small programs
 *
 * docs/observability.md gives the measurements behind the modes
 * (bench/thp.sh): on a 1 GiB heap of 64-byte objects, random access
 * takes 0.63x the time with huge pages everywhere; huge pages everywhere
 * also make a 1 MiB heap's program 1.7 MiB larger (+50%) and `ls -lR`
 * 2.2 times larger, which "large" avoids.  The default is the kernel's
 * setting, as for every peer allocator: on a virtual machine whose host
 * backs guest memory lazily, the first touch of an advised huge page cost
 * 4.5 ms (256 MiB written once: 0.20-0.50 s with "large", 0.093 s
 * without; frag-churn 0.20-0.26 s against 0.10 s), more than a program
 * that writes its heap once ever wins back in TLB reach.
 */
#ifndef KMEM_THP_H
#define KMEM_THP_H

#include "internal.h"

enum thp_mode { THP_SYSTEM, THP_NEVER, THP_ALWAYS, THP_LARGE };

#define THP_LARGE_SECTIONS 1	/* sections mapped before "large" advises */
#define THP_MIN_AREA (2UL << 20)

/* Parse KMEM_THP; called once by __kmem_init (after options_init). */
void thp_init(void) __hidden;
enum thp_mode thp_mode(void) __hidden;
const char *thp_mode_name(void) __hidden;
/* A heap section was mapped at base; nr: sections mapped before it. */
void thp_section(void *base, size_t len, size_t nr) __hidden;
/* A vmalloc area's pages [addr, addr + len) were mapped. */
void thp_area(void *addr, size_t len) __hidden;

#endif /* KMEM_THP_H */
