/* SPDX-License-Identifier: MIT */
/*
 * core/thp.c - the KMEM_THP policy: which of kmem's mappings ask the
 * kernel for transparent huge pages (thp.h).
 *
 * Layer: utility beside os.c, called by page.c when a heap section is
 * mapped and by vmalloc.c when an area is mapped.  Owns the mode (set
 * once at init, read-only after).  May call os.c (os_thp_advise) and
 * printk.c; no locks.
 *
 * The advice is given once per mapping, right after it is made, before
 * any page of it is touched: a page fault in an advised 2 MiB-aligned
 * range then gets a huge page (if the kernel has one; with its defrag
 * setting at "madvise", the default, it compacts memory for it).  The
 * buddy allocator's purge (MADV_DONTNEED of free blocks smaller than 2
 * MiB) splits such a huge page; the kernel's khugepaged may collapse it
 * again later.  Areas are advised whole; the kernel uses huge pages only
 * for the 2 MiB-aligned parts inside.
 */
#include "thp.h"

#include "options.h"
#include "os.h"

static enum thp_mode mode __read_mostly = THP_SYSTEM;	/* the default: thp.h */

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static const char *const names[] = {
	[THP_SYSTEM] = "system", [THP_NEVER] = "never",
	[THP_ALWAYS] = "always", [THP_LARGE] = "large",
};

void thp_init(void)
{
	const char *v = kmem_opt_str(OPT_THP);

	if (!v || !*v)
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(v, names[i])) {
			mode = (enum thp_mode)i;
			return;
		}
	if (streq(v, "madvise") || streq(v, "default"))
		mode = THP_SYSTEM;
	else
		kmem_pr_err("KMEM_THP=%s: not one of system, never, always, "
			    "large; keeping %s", v, names[mode]);
}

enum thp_mode thp_mode(void)
{
	return mode;
}

const char *thp_mode_name(void)
{
	return names[mode];
}

void thp_section(void *base, size_t len, size_t nr)
{
	switch (mode) {
	case THP_NEVER:
		os_thp_advise(base, len, false);
		break;
	case THP_LARGE:
		if (nr < THP_LARGE_SECTIONS)
			break;
		/* fall through */
	case THP_ALWAYS:
		os_thp_advise(base, len, true);
		break;
	default:
		break;
	}
}

void thp_area(void *addr, size_t len)
{
	if (mode == THP_NEVER)
		os_thp_advise(addr, len, false);
	else if ((mode == THP_ALWAYS || mode == THP_LARGE) &&
		 len >= THP_MIN_AREA)
		os_thp_advise(addr, len, true);
}
