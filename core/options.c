/* SPDX-License-Identifier: MIT */
/*
 * core/options.c - the KMEM_* option table and its parser.
 *
 * Layer: utility beside os.c; called once by init.c.  Owns the values of
 * every option.  Sizes accept a plain number or a k/m/g suffix; booleans
 * accept 0/1, yes/no, on/off, true/false.  Parsing never allocates.
 */
#include "options.h"

#include <limits.h>

#include "os.h"

const struct kmem_option_desc kmem_option_table[NR_KMEM_OPTIONS] = {
	[OPT_STATS] = { "KMEM_STATS", OPT_BOOL, 0, NULL,
		"print slabinfo, buddyinfo, vmalloc areas and totals to stderr at exit" },
	[OPT_ABORT] = { "KMEM_ABORT", OPT_BOOL, 1, NULL,
		"abort after reporting a detected error (0: report and continue)" },
	[OPT_PURGE_DELAY_MS] = { "KMEM_PURGE_DELAY_MS", OPT_SIZE, 1000, NULL,
		"milliseconds a freed page stays resident before it is returned to the OS" },
	[OPT_PERCPU] = { "KMEM_PERCPU", OPT_STRING, 0, "auto",
		"object caches in front of the slabs: auto, rseq (per-CPU), thread, off" },
	[OPT_PERCPU_BYTES] = { "KMEM_PERCPU_BYTES", OPT_SIZE, 1 << 20, NULL,
		"bytes of free objects one CPU (or thread) cache may hold" },
	[OPT_VMALLOC_THRESHOLD] = { "KMEM_VMALLOC_THRESHOLD", OPT_SIZE, 512 << 10, NULL,
		"requests of this many bytes or more get their own mapping (vmalloc); unset, it rises to the size of each freed area up to 16 MiB, as glibc's mmap threshold" },
	[OPT_VMALLOC_CACHE] = { "KMEM_VMALLOC_CACHE", OPT_SIZE, 128 << 20, NULL,
		"bytes of freed large areas kept mapped for reuse" },
	[OPT_DEBUG] = { "KMEM_DEBUG", OPT_STRING, 0, "",
		"slub_debug letters for the malloc caches: F checks, Z red zones, P poison, U callers; optional ,cache,... limits them" },
	[OPT_LEAK_REPORT] = { "KMEM_LEAK_REPORT", OPT_BOOL, 0, NULL,
		"at exit, print live objects grouped by allocation call site (turns U on)" },
	[OPT_VALIDATE_AT_EXIT] = { "KMEM_VALIDATE", OPT_BOOL, 0, NULL,
		"at exit, check every red zone and poisoned object of the debug caches" },
	[OPT_QUARANTINE] = { "KMEM_QUARANTINE", OPT_SIZE, 0, NULL,
		"bytes of freed objects held back before reuse (default 4 MiB under memcheck)" },
	[OPT_SHUFFLE] = { "KMEM_SHUFFLE", OPT_SIZE, 4096, NULL,
		"a new slab hands its objects out in groups of this many bytes of neighbours, the groups in random order and numbered from a random object (1: every object shuffled, 0: address order)" },
	[OPT_REUSE] = { "KMEM_REUSE", OPT_STRING, 0, "random",
		"order in which a CPU's (or thread's) cache hands freed blocks out again: random (a free goes on top or, half the time, to a side slot whose block comes up instead) or lifo (last freed, first reused: about 1.7 ns faster per malloc+free pair)" },
	[OPT_SAMPLE] = { "KMEM_SAMPLE", OPT_SIZE, 32 << 20, NULL,
		"guard sampling: one allocation per this many bytes allocated, on average, gets a page of its own between guard pages and is reported with its stacks when overrun or used after free (0: none; 1: every allocation up to 4 KiB; blocks above 4 KiB only at rates below 1 MiB; off under memcheck unless set)" },
	[OPT_PURGE_THREAD] = { "KMEM_PURGE_THREAD", OPT_BOOL, 1, NULL,
		"a background thread returns freed memory after the purge delay, even if the program does nothing (0: only allocations do)" },
	[OPT_PROF] = { "KMEM_PROF", OPT_SIZE, 0, NULL,
		"heap profile: one sample per this many bytes allocated, on average (0: off; 512K is usual)" },
	[OPT_PROF_MAX] = { "KMEM_PROF_MAX", OPT_SIZE, 16384, NULL,
		"heap profile: live samples kept at most (about 560 bytes each, mapped when KMEM_PROF is set)" },
	[OPT_PROF_DUMP] = { "KMEM_PROF_DUMP", OPT_STRING, 0, "",
		"heap profile: file written at exit, in pprof's heap format (%p: the process id)" },
	[OPT_SIGNAL] = { "KMEM_SIGNAL", OPT_SIZE, 61, NULL,
		"signal that asks for live statistics (kmem stat/top/profile PID): 61 is SIGRTMAX-3; 0: off" },
	[OPT_THP] = { "KMEM_THP", OPT_STRING, 0, "system",
		"transparent huge pages for kmem's memory: system (the kernel's setting), large (vmalloc areas >= 2 MiB, heap beyond 64 MiB), always, never" },
	[OPT_FAULT_REPORT] = { "KMEM_FAULT_REPORT", OPT_BOOL, 1, NULL,
		"a SIGSEGV on one of kmem's guard pages (sampled blocks, large blocks) is reported, naming the block, before the process dies (only if the program has no SIGSEGV handler)" },
	[OPT_DMA_LIMIT] = { "KMEM_DMA_LIMIT", OPT_STRING, 0, "rlimit",
		"bytes of pinned memory ZONE_DMA (GFP_DMA, SLAB_CACHE_DMA) may hold; rlimit: RLIMIT_MEMLOCK as it is at the zone's first use" },
	[OPT_DEFER_SIGNALS] = { "KMEM_DEFER_SIGNALS", OPT_BOOL, 1, NULL,
		"a signal that arrives while its thread holds a kmem lock waits until the lock is released, for the handlers installed with sigaction or signal (0: they run at once, and kmem copes without its lock)" },
};

/* Before options_init() runs, errors abort. */
long kmem_option_values[NR_KMEM_OPTIONS] = { [OPT_ABORT] = 1 };
bool kmem_option_given[NR_KMEM_OPTIONS];
const char *kmem_option_strings[NR_KMEM_OPTIONS] __read_mostly;

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static bool parse_bool(const char *s, long *out)
{
	if (streq(s, "1") || streq(s, "yes") || streq(s, "on") || streq(s, "true"))
		*out = 1;
	else if (streq(s, "0") || streq(s, "no") || streq(s, "off") ||
		 streq(s, "false"))
		*out = 0;
	else
		return false;
	return true;
}

bool kmem_parse_size(const char *s, long *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		if (v > (unsigned long)LONG_MAX / 10)
			return false;
		v = v * 10 + (unsigned long)(*p++ - '0');
	}
	switch (*p) {
	case 'k': case 'K': v <<= 10; p++; break;
	case 'm': case 'M': v <<= 20; p++; break;
	case 'g': case 'G': v <<= 30; p++; break;
	default: break;
	}
	if (*p || v > (unsigned long)LONG_MAX)
		return false;
	*out = (long)v;
	return true;
}

void options_init(void)
{
	size_t i;

	for (i = 0; i < NR_KMEM_OPTIONS; i++) {
		const struct kmem_option_desc *d = &kmem_option_table[i];
		const char *v = os_getenv(d->name);
		long val = d->defval;
		bool ok = true;

		kmem_option_values[i] = d->defval;
		kmem_option_strings[i] = d->defstr;
		if (!v)
			continue;
		kmem_option_given[i] = true;
		if (d->type == OPT_STRING) {
			kmem_option_strings[i] = v;
			continue;
		}
		ok = d->type == OPT_BOOL ? parse_bool(v, &val)
					 : kmem_parse_size(v, &val);
		if (ok)
			kmem_option_values[i] = val;
		else
			kmem_pr_err("%s=%s is not a valid %s; keeping the default",
				    d->name, v, d->type == OPT_BOOL ? "boolean" : "size");
	}
}
