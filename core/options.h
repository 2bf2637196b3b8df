/* SPDX-License-Identifier: MIT */
/*
 * core/options.h - every KMEM_* environment variable, in one table.
 *
 * The options are read once, at initialisation, through os_getenv()
 * (which never allocates).  A value that does not parse is reported and
 * the default kept.  `bin/kmem --help` prints the same table
 * (kmem_options_print).
 */
#ifndef KMEM_OPTIONS_H
#define KMEM_OPTIONS_H

#include "internal.h"

enum kmem_option {
	OPT_STATS,		/* bool: print statistics to stderr at exit */
	OPT_ABORT,		/* bool: abort on a detected error */
	OPT_PURGE_DELAY_MS,	/* ms a free page stays resident before purge */
	OPT_PERCPU,		/* string: auto | rseq | thread | off */
	OPT_PERCPU_BYTES,	/* bytes a CPU (or thread) cache may hold */
	OPT_VMALLOC_THRESHOLD,	/* kmalloc sizes from here go to vmalloc */
	OPT_VMALLOC_CACHE,	/* bytes of freed large areas kept for reuse */
	OPT_DEBUG,		/* string: slub_debug letters [,cache,...] */
	OPT_LEAK_REPORT,	/* bool: print live objects by call site at exit */
	OPT_VALIDATE_AT_EXIT,	/* bool: check every red zone and poison at exit */
	OPT_QUARANTINE,		/* bytes of freed objects held back (valgrind) */
	OPT_SHUFFLE,		/* bytes per group of a new slab's random order */
	OPT_REUSE,		/* string: random | lifo (per-CPU reuse order) */
	OPT_SAMPLE,		/* bytes between sampled (guarded) allocations */
	OPT_PURGE_THREAD,	/* bool: a background thread returns memory */
	OPT_PROF,		/* mean bytes between heap samples; 0 = off */
	OPT_PROF_MAX,		/* live samples kept at most */
	OPT_PROF_DUMP,		/* string: file the profile is written to at exit */
	OPT_SIGNAL,		/* signal answered with live statistics; 0 = off */
	OPT_THP,		/* string: system | never | always | large */
	OPT_FAULT_REPORT,	/* bool: report faults on kmem's guard pages */
	OPT_DMA_LIMIT,		/* string: "rlimit" or bytes ZONE_DMA may pin */
	OPT_DEFER_SIGNALS,	/* bool: handlers wait for kmem's locks */
	NR_KMEM_OPTIONS
};

enum kmem_option_type { OPT_BOOL, OPT_SIZE, OPT_STRING };

struct kmem_option_desc {
	const char *name;		/* environment variable */
	enum kmem_option_type type;
	long defval;			/* default of a bool or size */
	const char *defstr;		/* default of a string */
	const char *help;		/* one line for bin/kmem --help */
};

extern const struct kmem_option_desc kmem_option_table[NR_KMEM_OPTIONS] __hidden;
extern long kmem_option_values[NR_KMEM_OPTIONS] __hidden;
extern const char *kmem_option_strings[NR_KMEM_OPTIONS] __hidden;
/* Whether the environment set the option (else it has its default). */
extern bool kmem_option_given[NR_KMEM_OPTIONS] __hidden;

/* Read the environment; called once from __kmem_init(). */
void options_init(void) __hidden;

/* A size as the table's sizes are written (k/m/g suffix); false if s is
 * not one. */
bool kmem_parse_size(const char *s, long *out) __hidden;

static inline long kmem_opt(enum kmem_option o)
{
	return kmem_option_values[o];
}

static inline const char *kmem_opt_str(enum kmem_option o)
{
	return kmem_option_strings[o];
}

#endif /* KMEM_OPTIONS_H */
