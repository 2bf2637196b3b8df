/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_buddy.c - the page map and the buddy allocator (issue 2).
 *
 * Linked with build/libkmem-core.a beside glibc's malloc.  The page API is
 * called through the kernel spellings of <kmem.h> (alloc_pages,
 * __get_free_pages, free_pages, ...); the core headers are included only
 * to read the zones' figures (zone_get_stats), count sections and call
 * buddy_trim().
 *
 * What is checked:
 *   - every order 0..MAX_ORDER is aligned to PAGE_SIZE << order, writable,
 *     and maps to its struct page and back; order > MAX_ORDER gives NULL;
 *   - a seeded random run of mixed orders against a model (a sorted list
 *     of live blocks) never hands out overlapping blocks, and every block
 *     keeps its per-block pattern until freed;
 *   - once everything is freed, /proc/buddyinfo-style output shows every
 *     free page merged back: per 64 MiB section exactly one block of
 *     each order from 8 (pages 256..511) to MAX_ORDER - 1, the rest in
 *     MAX_ORDER blocks, nothing else (check_merged());
 *   - get_zeroed_page and __GFP_ZERO return zeros for recycled dirty pages
 *     and for purged ones (the PG_zero shortcut);
 *   - threads allocating and freeing at once, with blocks handed between
 *     threads, keep their ownership tags;
 *   - buddy_trim() and the delayed purge give memory back (RSS drops),
 *     and a purge that fails (mlockall) leaves the block dirty;
 *   - out of address space (RLIMIT_AS) allocations fail with ENOMEM and
 *     GFP_ATOMIC still gets the reserve below WMARK_MIN;
 *   - bad frees (never handed out, wrong order, double free, interior or
 *     misaligned address, bogus struct page) print "kmem: ERROR: ..."
 *     naming the address and abort with SIGABRT; with KMEM_ABORT=0 they
 *     are reported, ignored, and nothing is merged wrongly.
 *
 * Options are read at the first kmem call, so scenarios that need an
 * environment (KMEM_ABORT=0, KMEM_PURGE_DELAY_MS) or must die run in a
 * fresh process: this binary re-executes itself as "test_buddy --child
 * NAME" (run_child()).  That works the same with CK_FORK=no (valgrind).
 * The runner process itself never calls kmem before srunner_run_all.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "os.h"
#include "buddy.h"
#include "slab.h"
#include "skip.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Pages a zone gets from one section, and their layout once all merged. */
#define SECTION_FREE_PAGES (PAGES_PER_SECTION - SECTION_META_PAGES)
/*
 * A section merged back: its mem_map is the first 2^META_ORDER pages, so
 * one block of each order from META_ORDER up to MAX_ORDER - 1 follows it
 * (pages 256..511, 512..1023, ...), then MERGED_MAX blocks of MAX_ORDER.
 */
#define META_ORDER 8
#define MERGED_MAX ((PAGES_PER_SECTION >> MAX_ORDER) - 1)
_Static_assert(SECTION_META_PAGES == 1u << META_ORDER, "mem_map is order 8");
_Static_assert((1u << MAX_ORDER) - (1u << META_ORDER) +
	       (MERGED_MAX << MAX_ORDER) == SECTION_FREE_PAGES,
	       "merged layout covers the section");

static size_t merged_blocks(int order)
{
	if (order == MAX_ORDER)
		return MERGED_MAX;
	return order >= META_ORDER ? 1 : 0;
}

static char self_exe[PATH_MAX];

/* ---- helpers ---- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Mostly small orders (geometric), a quarter uniform over 0..MAX_ORDER. */
static unsigned int random_order(uint64_t *s)
{
	uint64_t r = splitmix64(s);
	unsigned int o;

	if ((r & 3) == 0)
		return (unsigned int)((r >> 8) % (MAX_ORDER + 1));
	o = (unsigned int)__builtin_ctzll((r >> 2) | (1ULL << 40));
	return o > MAX_ORDER ? MAX_ORDER : o;
}

static size_t block_bytes(unsigned int order)
{
	return PAGE_SIZE << order;
}

/* Write a tag into every page of a block (first word) and its last word. */
static void tag_block(unsigned long addr, unsigned int order, uint64_t tag)
{
	size_t pages = 1UL << order;

	for (size_t i = 0; i < pages; i++)
		*(volatile uint64_t *)(addr + i * PAGE_SIZE) = tag ^ i;
	*(volatile uint64_t *)(addr + block_bytes(order) - 8) = ~tag;
}

/* Index of the first damaged page, or -1 if the tags are intact. */
static long check_tag(unsigned long addr, unsigned int order, uint64_t tag)
{
	size_t pages = 1UL << order;

	for (size_t i = 0; i < pages; i++)
		if (*(volatile uint64_t *)(addr + i * PAGE_SIZE) != (tag ^ i))
			return (long)i;
	if (*(volatile uint64_t *)(addr + block_bytes(order) - 8) != ~tag)
		return (long)pages - 1;
	return -1;
}

static bool all_bytes(const void *p, size_t len, unsigned char v)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i] != v)
			return false;
	return true;
}

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* One parsed line of kmem_buddyinfo(). */
struct buddyinfo_line {
	char zone[16];
	size_t count[NR_PAGE_ORDERS];
};

/* Parse kmem_buddyinfo() output; returns the number of zone lines. */
static int read_buddyinfo(struct buddyinfo_line *lines, int max)
{
	FILE *f = tmpfile();
	char buf[512];
	int n = 0;

	if (!f)
		return -1;
	kmem_buddyinfo(f);
	rewind(f);
	while (n < max && fgets(buf, sizeof(buf), f)) {
		struct buddyinfo_line *l = &lines[n];
		int node, used = 0, pos;
		char *p;

		if (sscanf(buf, "Node %d, zone %15s%n", &node, l->zone, &used) != 2)
			continue;
		p = buf + used;
		for (int o = 0; o <= MAX_ORDER; o++, p += pos)
			if (sscanf(p, "%zu%n", &l->count[o], &pos) != 1)
				return -1;
		n++;
	}
	fclose(f);
	return n;
}

/*
 * What kmem itself holds before a test starts: the slab layer's boot
 * caches live in pages of ZONE_NORMAL.  Taken by baseline_setup() at the
 * start of every test process (a Check fixture, or before a child runs).
 */
static struct zone_stats base[MAX_NR_ZONES];

static void baseline_setup(void)
{
	FILE *devnull = fopen("/dev/null", "w");

	kmem_buddyinfo(devnull); /* initialises kmem, drains per-CPU lists */
	fclose(devnull);
	kmem_cache_shrink_all();
	for (int z = 0; z < MAX_NR_ZONES; z++)
		zone_get_stats(z, &base[z]);
}

/*
 * After every block has been freed: every zone's free memory must be what
 * it was at the baseline, plus every section added since merged back into
 * exactly the section layout, and no page may sit on a per-CPU list.
 * Writes the reason of a failure into why.
 */
static bool check_merged(char *why, size_t len)
{
	static const int zids[] = { ZONE_DMA32, ZONE_NORMAL };
	struct buddyinfo_line lines[MAX_NR_ZONES];
	size_t sections = 0;
	int n;

	kmem_cache_shrink_all();
	n = read_buddyinfo(lines, MAX_NR_ZONES);
	if (n <= 0) {
		snprintf(why, len, "kmem_buddyinfo printed no zone (%d)", n);
		return false;
	}
	for (size_t z = 0; z < ARRAY_SIZE(zids); z++) {
		const struct zone_stats *b = &base[zids[z]];
		struct zone_stats st;
		struct buddyinfo_line *l = NULL;
		size_t s, added;

		if (!zone_get_stats(zids[z], &st))
			continue;
		for (int i = 0; i < n; i++)
			if (strcmp(lines[i].zone, st.name) == 0)
				l = &lines[i];
		if (!l) {
			snprintf(why, len, "zone %s missing from buddyinfo", st.name);
			return false;
		}
		if (st.managed % SECTION_FREE_PAGES) {
			snprintf(why, len, "zone %s manages %zu pages, not whole "
				 "sections", st.name, st.managed);
			return false;
		}
		s = st.managed / SECTION_FREE_PAGES;
		added = s - b->managed / SECTION_FREE_PAGES;
		sections += s;
		if (st.nr_free != b->nr_free + added * SECTION_FREE_PAGES ||
		    st.nr_pcp != 0) {
			snprintf(why, len, "zone %s: %zu of %zu pages free (%zu "
				 "used by kmem at the start), %zu on per-CPU lists "
				 "(a block was lost)", st.name, st.nr_free,
				 st.managed, b->managed - b->nr_free, st.nr_pcp);
			return false;
		}
		for (int o = 0; o <= MAX_ORDER; o++) {
			size_t want = b->nr_free_blocks[o] +
				      merged_blocks(o) * added;

			if (l->count[o] != want || st.nr_free_blocks[o] != want) {
				snprintf(why, len, "zone %s (%zu sections): %zu "
					 "order-%d blocks in buddyinfo, %zu in "
					 "stats, want %zu", st.name, s,
					 l->count[o], o, st.nr_free_blocks[o],
					 want);
				return false;
			}
		}
	}
	if (sections != pagemap_nr_sections()) {
		snprintf(why, len, "%zu sections in the zones, %zu mapped",
			 sections, pagemap_nr_sections());
		return false;
	}
	return true;
}

/* The purge thread takes runs of free blocks out of the lists while it
 * madvises them (milliseconds): a check that sees fewer free pages tries
 * again, for up to a second, before it fails. */
static bool check_merged_settled(char *why, size_t len)
{
	for (int i = 0; i < 20; i++) {
		if (check_merged(why, len))
			return true;
		usleep(50 * 1000);
	}
	return false;
}

#define ck_assert_merged()                                    \
	do {                                                  \
		char why_[256];                               \
		ck_assert_msg(check_merged_settled(why_, sizeof(why_)), \
			      "not merged back: %s", why_);     \
	} while (0)

/* ---- child processes: fresh kmem, own environment, may die ---- */

struct child_result {
	int status;		/* from waitpid */
	char out[16384];	/* its stdout and stderr */
};

/* Run "self --child name" with env ("NAME=value", NULL-terminated). */
static void run_child(const char *name, const char *const *env,
		      struct child_result *r)
{
	int fds[2];
	size_t len = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		unsetenv("KMEM_ABORT");
		unsetenv("KMEM_PURGE_DELAY_MS");
		for (; env && *env; env++)
			putenv((char *)*env);
		execl(self_exe, self_exe, "--child", name, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], r->out + len, sizeof(r->out) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(r->out) - 1)
			len = 0;	/* keep reading; the tail matters less */
	}
	r->out[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &r->status, 0), pid);
}

/* A child says which address it is about to pass, so the report can be
 * matched against it. */
static void announce(const char *what, unsigned long addr)
{
	fprintf(stderr, "%s 0x%lx\n", what, addr);
	fflush(stderr);
}

static unsigned long announced(const struct child_result *r, const char *what)
{
	const char *p = strstr(r->out, what);
	unsigned long a = 0;

	if (p)
		sscanf(p + strlen(what), " 0x%lx", &a);
	return a;
}

/* A child's "SKIPPED: why" line, for ck_skip. */
static const char *child_skip_reason(const struct child_result *r)
{
	static char why[256];
	const char *p = strstr(r->out, "SKIPPED: ");

	snprintf(why, sizeof(why), "%s", p ? p + 9 : "(no reason given)");
	why[strcspn(why, "\n")] = '\0';
	return why;
}

/* Child died of SIGABRT after one report naming the announced address. */
static void assert_reported_abort(const char *name, const char *words1,
				  const char *words2)
{
	struct child_result r;
	char hex[32];
	const char *rep;
	unsigned long addr;

	run_child(name, NULL, &r);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT,
		      "%s: want death by SIGABRT, got status 0x%x; output:\n%s",
		      name, r.status, r.out);
	addr = announced(&r, "BADADDR");
	ck_assert_msg(addr != 0, "%s: no address announced:\n%s", name, r.out);
	rep = strstr(r.out, "kmem: ERROR: ");
	ck_assert_msg(rep != NULL, "%s: no kmem report:\n%s", name, r.out);
	snprintf(hex, sizeof(hex), "0x%lx", addr);
	ck_assert_msg(strstr(rep, hex), "%s: report does not name %s:\n%s",
		      name, hex, r.out);
	ck_assert_msg(strstr(rep, words1), "%s: report lacks \"%s\":\n%s", name,
		      words1, r.out);
	if (words2)
		ck_assert_msg(strstr(rep, words2), "%s: report lacks \"%s\":\n%s",
			      name, words2, r.out);
	ck_assert_msg(strstr(r.out, "kmem: aborting"), "%s: no abort line:\n%s",
		      name, r.out);
}

/* ---- the page API: orders, alignment, struct page ---- */

/*
 * __grow_pages (krealloc of a page run): an allocated block whose buddies
 * above it are free in the zone grows in place, keeping its contents, and
 * is freed later as one block of the new order; a buddy in use, or a
 * block that is the upper half of the larger one, refuses and changes
 * nothing.  Orders from 4 up: smaller blocks go through the per-CPU lists,
 * which growth does not take from.
 */
START_TEST(test_grow_in_place)
{
	struct page *q = alloc_pages(GFP_KERNEL, 6), *r;
	unsigned char *a;
	struct zone_stats before, after;

	ck_assert_ptr_nonnull(q);
	a = page_address(q);
	/* Make q an order-4 block with its two buddies free: the state a
	 * split from order 6 leaves. */
	set_page_flags(&q[16], PG_alloc);
	__free_pages_ok(&q[16], 4);
	set_page_flags(&q[32], PG_alloc);
	__free_pages_ok(&q[32], 5);
	q->order = 4;
	memset(a, 0x5a, PAGE_SIZE << 4);
	zone_get_stats(ZONE_NORMAL, &before);
	ck_assert(__grow_pages(q, 4, 6, GFP_KERNEL));
	zone_get_stats(ZONE_NORMAL, &after);
	ck_assert_uint_eq(q->order, 6);
	ck_assert_uint_eq(before.nr_free - after.nr_free, 48);
	ck_assert(all_bytes(a, PAGE_SIZE << 4, 0x5a));
	memset(a, 0x6b, PAGE_SIZE << 6);	/* all of it is ours */

	/* A buddy in use: refused, nothing changed. */
	r = alloc_pages(GFP_KERNEL, 6);
	ck_assert_ptr_nonnull(r);
	set_page_flags(&r[16], PG_alloc);
	__free_pages_ok(&r[16], 4);		/* r[32..63] stays in use */
	r->order = 4;
	zone_get_stats(ZONE_NORMAL, &before);
	ck_assert(!__grow_pages(r, 4, 6, GFP_KERNEL));
	zone_get_stats(ZONE_NORMAL, &after);
	ck_assert_uint_eq(r->order, 4);
	ck_assert_uint_eq(before.nr_free, after.nr_free);
	/* Upper half of the order-6 block: refused. */
	set_page_flags(&r[32], PG_alloc);
	r[32].order = 5;
	ck_assert(!__grow_pages(&r[32], 5, 6, GFP_KERNEL));
	/* One order at a time works where the buddy is free. */
	ck_assert(__grow_pages(r, 4, 5, GFP_KERNEL));
	ck_assert_uint_eq(r->order, 5);
	ck_assert(!__grow_pages(r, 5, 5, GFP_KERNEL));	/* not a growth */
	__free_pages_ok(&r[32], 5);	/* never a block of the page API */
	__free_pages(r, 5);
	__free_pages(q, 6);
	ck_assert_merged();
}
END_TEST

START_TEST(test_every_order_aligned_writable)
{
	unsigned long addr[NR_PAGE_ORDERS];
	struct page *pg[NR_PAGE_ORDERS];

	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		size_t len = block_bytes(o);

		addr[o] = __get_free_pages(GFP_KERNEL, o);
		ck_assert_msg(addr[o] != 0, "order %u: NULL", o);
		ck_assert_msg((addr[o] & (len - 1)) == 0,
			      "order %u: 0x%lx not aligned to %zu", o, addr[o], len);
		memset((void *)addr[o], 0x40 + (int)o, len);
		ck_assert(virt_to_page((void *)addr[o]) ==
			  kmem_virt_to_page((void *)addr[o]));
		ck_assert(page_address(virt_to_page((void *)addr[o])) ==
			  (void *)addr[o]);
		ck_assert(kmem_virt_to_page((void *)(addr[o] + len - 1)) ==
			  virt_to_page((void *)addr[o]) + (1UL << o) - 1);

		pg[o] = alloc_pages(GFP_KERNEL, o);
		ck_assert_msg(pg[o] != NULL, "alloc_pages order %u: NULL", o);
		ck_assert(((uintptr_t)page_address(pg[o]) & (len - 1)) == 0);
		ck_assert(kmem_page_address(pg[o]) == page_address(pg[o]));
		memset(page_address(pg[o]), 0x80 + (int)o, len);
	}
	/* Nothing overwrote anything. */
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		ck_assert_msg(all_bytes((void *)addr[o], block_bytes(o), 0x40 + o),
			      "order %u block damaged", o);
		ck_assert_msg(all_bytes(page_address(pg[o]), block_bytes(o),
					0x80 + o), "order %u block damaged", o);
	}
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		free_pages(addr[o], o);
		__free_pages(pg[o], o);
	}
	/* The single-page spellings. */
	addr[0] = __get_free_page(GFP_KERNEL);
	pg[0] = alloc_page(GFP_KERNEL);
	ck_assert(addr[0] && pg[0]);
	*(volatile char *)addr[0] = 1;
	*(volatile char *)page_address(pg[0]) = 1;
	free_page(addr[0]);
	__free_page(pg[0]);
	ck_assert_merged();
}
END_TEST

START_TEST(test_order_above_max)
{
	unsigned int bad[] = { MAX_ORDER + 1, 31, 64, 255, UINT_MAX };
	struct page *pg;

	/* ENOMEM, as <kmem.h> says (the kernel's alloc_pages fails an order
	 * above MAX_ORDER the same way as one it cannot find). */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		ck_assert_ptr_null(alloc_pages(GFP_KERNEL, bad[i]));
		ck_assert_int_eq(errno, ENOMEM);
		errno = 0;
		ck_assert_uint_eq(__get_free_pages(GFP_KERNEL, bad[i]), 0);
		ck_assert_int_eq(errno, ENOMEM);
	}
	/* Every zone has memory now. */
	pg = alloc_pages(GFP_DMA, 0);
	ck_assert_ptr_nonnull(pg);
	ck_assert_int_eq(kmem_page_zone(pg), ZONE_DMA);
	__free_pages(pg, 0);
	pg = alloc_pages(GFP_HIGHUSER, 0);
	ck_assert_ptr_nonnull(pg);
	ck_assert_int_eq(kmem_page_zone(pg), ZONE_HIGHMEM);
	ck_assert_ptr_null(kmem_page_address(pg));	/* not kmap'ed */
	__free_pages(pg, 0);
	/* Two zones at once (the kernel's GFP_ZONE_BAD), and a highmem
	 * page's address (it has none until kmap'ed), fail. */
	errno = 0;
	ck_assert_ptr_null(alloc_pages(GFP_DMA | GFP_DMA32, 0));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_uint_eq(__get_free_pages(GFP_HIGHUSER, 0), 0);
	ck_assert_int_eq(errno, ENOMEM);
	/* Freeing NULL / 0 is a no-op, as in the kernel. */
	free_pages(0, 3);
	__free_pages(NULL, 3);
}
END_TEST

START_TEST(test_virt_to_page_outside)
{
	int local = 0;
	void *glibc = malloc(64);

	ck_assert_ptr_null(kmem_virt_to_page(&local));
	ck_assert_ptr_null(kmem_virt_to_page(glibc));
	ck_assert_ptr_null(kmem_virt_to_page(NULL));
	ck_assert_ptr_null(kmem_page_address(NULL));
	free(glibc);
}
END_TEST

/* Blocks do not live in the page map, and stay in their section. */
START_TEST(test_blocks_inside_sections)
{
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		unsigned long a = __get_free_pages(GFP_KERNEL, o);
		uintptr_t off = a & SECTION_MASK;

		ck_assert(a != 0);
		ck_assert_msg(off >= SECTION_META_PAGES * PAGE_SIZE,
			      "order %u block 0x%lx overlaps the mem_map", o, a);
		ck_assert(off + block_bytes(o) <= SECTION_SIZE);
		ck_assert_int_eq(pagemap_zone_of((void *)a), ZONE_NORMAL);
		free_pages(a, o);
	}
	ck_assert_merged();
}
END_TEST

/*
 * A zone that grows by a section lists only the blocks up to the first
 * MAX_ORDER block; the section's other MAX_ORDER blocks stay spare, their
 * struct pages (one page of the mem_map per block) unwritten, until the
 * lists run dry.  Blocks are taken until a section is added, then the
 * mem_map pages of the new section's spare blocks must not be resident;
 * the spare blocks are still handed out, each once, and all of it merges
 * back.
 */
START_TEST(test_grown_section_keeps_spare_blocks_untouched)
{
	static unsigned long blocks[64];
	size_t before = pagemap_nr_sections();
	unsigned int n = 0, untouched = 0;
	uintptr_t sec;
	struct page *map;

	while (pagemap_nr_sections() == before && n < 64) {
		blocks[n] = __get_free_pages(GFP_KERNEL, MAX_ORDER);
		ck_assert(blocks[n] != 0);
		n++;
	}
	ck_assert_uint_gt(pagemap_nr_sections(), before);
	sec = blocks[n - 1] & ~(uintptr_t)SECTION_MASK;
	map = (struct page *)sec;	/* the section's mem_map */
	for (unsigned int b = 2; b < PAGES_PER_SECTION >> MAX_ORDER; b++) {
		uintptr_t sp = (uintptr_t)&map[(size_t)b << MAX_ORDER];
		unsigned char v = 1;

		ck_assert_int_eq(mincore((void *)(sp & ~(uintptr_t)(PAGE_SIZE - 1)),
					 PAGE_SIZE, &v), 0);
		untouched += !(v & 1);
	}
	printf("  new section: %u of %lu spare blocks' mem_map pages not "
	       "resident\n", untouched, (PAGES_PER_SECTION >> MAX_ORDER) - 2);
	ck_assert_uint_eq(untouched, (PAGES_PER_SECTION >> MAX_ORDER) - 2);
	/* The spare blocks are handed out too, all different. */
	while (n < 64) {
		unsigned long a = __get_free_pages(GFP_KERNEL, MAX_ORDER);

		ck_assert(a != 0);
		for (unsigned int i = 0; i < n; i++)
			ck_assert(blocks[i] != a);
		blocks[n++] = a;
		if ((a & ~(uintptr_t)SECTION_MASK) != sec)
			break;	/* the section is used up */
	}
	for (unsigned int i = 0; i < n; i++)
		free_pages(blocks[i], MAX_ORDER);
	ck_assert_merged();
}
END_TEST

/* ---- the model: a sorted list of live blocks ---- */

struct live_block {
	unsigned long addr;
	unsigned int order;
	uint64_t tag;
};

/* Index of the first live block with addr >= a. */
static size_t model_lower_bound(const struct live_block *v, size_t n,
				unsigned long a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid].addr < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#define MODEL_OPS 200000
#define MODEL_MAX_BLOCKS 1024
#define MODEL_MAX_PAGES 16384	/* 64 MiB live at most */

START_TEST(test_random_model)
{
	static struct live_block live[MODEL_MAX_BLOCKS];
	uint64_t seed = 0x6b6d656d2d627564ULL;	/* fixed: runs are repeatable */
	size_t n = 0, pages = 0, allocs = 0, frees = 0, per_order[NR_PAGE_ORDERS] = { 0 };

	for (long op = 0; op < MODEL_OPS; op++) {
		uint64_t r = splitmix64(&seed);
		unsigned int order = random_order(&seed);
		bool do_alloc = n == 0 || (r % 100 < 55 && n < MODEL_MAX_BLOCKS &&
					   pages + (1UL << order) <= MODEL_MAX_PAGES);

		if (do_alloc) {
			unsigned long a;
			size_t i;

			if (r & 0x100) {
				a = __get_free_pages(GFP_KERNEL, order);
			} else {
				struct page *pg = alloc_pages(GFP_KERNEL, order);

				a = pg ? (unsigned long)page_address(pg) : 0;
			}
			ck_assert_msg(a != 0, "op %ld: order %u failed", op, order);
			ck_assert_msg((a & (block_bytes(order) - 1)) == 0,
				      "op %ld: 0x%lx not aligned to order %u", op,
				      a, order);
			i = model_lower_bound(live, n, a);
			ck_assert_msg(i == n || a + block_bytes(order) <= live[i].addr,
				      "op %ld: [0x%lx, +%zu) overlaps live block "
				      "0x%lx order %u", op, a, block_bytes(order),
				      live[i].addr, live[i].order);
			ck_assert_msg(i == 0 || live[i - 1].addr +
				      block_bytes(live[i - 1].order) <= a,
				      "op %ld: [0x%lx, +%zu) overlaps live block "
				      "0x%lx order %u", op, a, block_bytes(order),
				      live[i - 1].addr, live[i - 1].order);
			memmove(&live[i + 1], &live[i], (n - i) * sizeof(live[0]));
			live[i] = (struct live_block){ a, order, splitmix64(&seed) };
			tag_block(a, order, live[i].tag);
			n++;
			pages += 1UL << order;
			allocs++;
			per_order[order]++;
		} else {
			size_t i = (size_t)(r >> 32) % n;
			struct live_block b = live[i];
			long bad = check_tag(b.addr, b.order, b.tag);

			ck_assert_msg(bad < 0, "op %ld: block 0x%lx order %u: page "
				      "%ld overwritten while live", op, b.addr,
				      b.order, bad);
			memmove(&live[i], &live[i + 1], (n - i - 1) * sizeof(live[0]));
			n--;
			pages -= 1UL << b.order;
			if (r & 0x200)
				free_pages(b.addr, b.order);
			else
				__free_pages(virt_to_page((void *)b.addr), b.order);
			frees++;
		}
	}
	/* Free the rest, highest addresses first (merging the other way). */
	while (n) {
		n--;
		ck_assert(check_tag(live[n].addr, live[n].order, live[n].tag) < 0);
		free_pages(live[n].addr, live[n].order);
	}
	for (int o = 0; o <= MAX_ORDER; o++)
		ck_assert_msg(per_order[o] > 0, "the run never tried order %d", o);
	ck_assert_uint_gt(allocs, MODEL_OPS / 3);
	ck_assert_uint_gt(frees, MODEL_OPS / 3);
	ck_assert_merged();
}
END_TEST

/* ---- merging back ---- */

START_TEST(test_merge_after_order0_flood)
{
	/* More than one section of single pages, freed in shuffled order. */
	size_t n = SECTION_FREE_PAGES + 4000;
	unsigned long *v = malloc(n * sizeof(*v));
	uint64_t seed = 42;

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = __get_free_page(GFP_KERNEL);
		ck_assert(v[i] != 0);
		*(volatile unsigned long *)v[i] = v[i];
	}
	ck_assert_uint_ge(pagemap_nr_sections(), 2);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = splitmix64(&seed) % (i + 1);
		unsigned long t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		ck_assert(*(volatile unsigned long *)v[i] == v[i]);
		free_page(v[i]);
	}
	free(v);
	ck_assert_merged();
}
END_TEST

/* Exact-tail runs (kmalloc's large path) merge back too. */
START_TEST(test_merge_after_page_runs)
{
	struct page *pg[8];

	for (int i = 0; i < 8; i++) {
		pg[i] = alloc_pages(GFP_KERNEL, MAX_ORDER);
		ck_assert_ptr_nonnull(pg[i]);
		/* Keep 1 + 3i pages, give the tail back right away. */
		__free_page_run(pg[i] + 1 + 3 * i, (1UL << MAX_ORDER) - 1 - 3 * i);
	}
	for (int i = 0; i < 8; i++)
		__free_page_run(pg[i], 1 + 3 * i);
	ck_assert_merged();
}
END_TEST

/* ---- zeroed pages ---- */

START_TEST(test_zeroed_page_recycled)
{
	enum { N = 512 };
	static unsigned long dirty[N], got[N];
	size_t recycled = 0;

	for (int i = 0; i < N; i++) {
		dirty[i] = __get_free_page(GFP_KERNEL);
		ck_assert(dirty[i] != 0);
		memset((void *)dirty[i], 0xff, PAGE_SIZE);
	}
	for (int i = 0; i < N; i++)
		free_page(dirty[i]);
	for (int i = 0; i < N; i++) {
		got[i] = get_zeroed_page(GFP_KERNEL);
		ck_assert(got[i] != 0);
		ck_assert_msg(all_bytes((void *)got[i], PAGE_SIZE, 0),
			      "get_zeroed_page 0x%lx is not zero", got[i]);
		for (int j = 0; j < N; j++)
			if (dirty[j] == got[i]) {
				recycled++;
				break;
			}
		memset((void *)got[i], 0xff, PAGE_SIZE);
	}
	/* The per-CPU lists hand back what was just freed (LIFO). */
	ck_assert_msg(recycled > 0, "no dirty page was recycled: the test "
		      "proved nothing");
	for (int i = 0; i < N; i++)
		free_page(got[i]);

	/* The same address, explicitly: free one dirty page and ask again. */
	for (int tries = 0; tries < 1000; tries++) {
		unsigned long a = __get_free_page(GFP_KERNEL), b;

		memset((void *)a, 0xa5, PAGE_SIZE);
		free_page(a);
		b = get_zeroed_page(GFP_KERNEL);
		ck_assert(all_bytes((void *)b, PAGE_SIZE, 0));
		free_page(b);
		if (a == b)
			break;
		ck_assert_msg(tries < 999, "never got the dirty page back");
	}
	ck_assert_merged();
}
END_TEST

/*
 * __GFP_ZERO zeroes a recycled dirty block, at every order.  __GFP_ZERO
 * prefers clean (never touched, or purged) blocks, so the zone must have
 * none: in a child whose address space cannot grow (RLIMIT_AS), take
 * every free block of the order (GFP_ATOMIC: the reserve too), write into
 * every page, free them all; the next __GFP_ZERO block can then only be
 * one of them, and must read as zeros.
 */
static int child_gfp_zero(void)
{
	enum { MAXV = 1 << 16 };
	static unsigned long v[MAXV];
	unsigned long vm_pages = 0;
	struct rlimit rl;
	char why[256];
	FILE *f;

	free_page(__get_free_page(GFP_KERNEL));	/* map the first section */
	f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%lu", &vm_pages) != 1)
		return 2;
	fclose(f);
	printf("gfp_zero:");			/* stdio's buffer, now */
	rl.rlim_cur = rl.rlim_max = vm_pages * PAGE_SIZE + (200UL << 20);
	if (setrlimit(RLIMIT_AS, &rl))
		return 2;
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		size_t n = 0, i;
		unsigned long b;

		while (n < MAXV && (v[n] = __get_free_pages(GFP_ATOMIC, o)))
			n++;
		if (n == 0 || n == MAXV) {
			printf(" FAIL order %u: %zu blocks\n", o, n);
			return 1;
		}
		for (i = 0; i < n; i++)
			for (size_t pg = 0; pg < (1UL << o); pg++)
				*(volatile uint64_t *)(v[i] + pg * PAGE_SIZE) =
					0xd1d1d1d1d1d1d1d1ULL;
		for (i = 0; i < n; i++)
			free_pages(v[i], o);
		b = __get_free_pages(GFP_KERNEL | __GFP_ZERO, o);
		for (i = 0; i < n && v[i] != b; i++)
			;
		if (!b || i == n) {
			printf(" FAIL order %u: __GFP_ZERO gave 0x%lx, not one "
			       "of the %zu dirty blocks\n", o, b, n);
			return 1;
		}
		if (!all_bytes((void *)b, block_bytes(o), 0)) {
			printf(" FAIL __GFP_ZERO order %u block 0x%lx was "
			       "recycled dirty\n", o, b);
			return 1;
		}
		free_pages(b, o);
		printf(" %u:%zu", o, n);
	}
	printf(" (order:dirty blocks), each recycled zeroed\n");
	if (!check_merged(why, sizeof(why))) {
		printf("FAIL not merged: %s\n", why);
		return 1;
	}
	return 0;
}

START_TEST(test_gfp_zero_every_order_recycled)
{
	struct child_result r;

	run_child("gfp_zero", NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status 0x%x:\n%s", r.status, r.out);
	fputs(r.out, stdout);
}
END_TEST

/* Purged pages are handed out as clean without a memset: they must be. */
START_TEST(test_trim_then_zero)
{
	enum { NBIG = 64, NSMALL = 1024 };
	static unsigned long big[NBIG], small[NSMALL];
	struct zone_stats st;
	size_t rss_full, rss_trim, purged;

	for (int i = 0; i < NBIG; i++) {
		big[i] = __get_free_pages(GFP_KERNEL, MAX_ORDER);
		ck_assert(big[i] != 0);
		memset((void *)big[i], 0xee, block_bytes(MAX_ORDER));
	}
	for (int i = 0; i < NSMALL; i++) {
		small[i] = __get_free_pages(GFP_KERNEL, (unsigned int)i & 3);
		ck_assert(small[i] != 0);
		memset((void *)small[i], 0xdd, block_bytes((unsigned int)i & 3));
	}
	rss_full = rss_bytes();
	for (int i = 0; i < NBIG; i++)
		free_pages(big[i], MAX_ORDER);
	for (int i = 0; i < NSMALL; i++)
		free_pages(small[i], (unsigned int)i & 3);
	purged = buddy_trim();
	rss_trim = rss_bytes();
	ck_assert_uint_ge(purged, NBIG << MAX_ORDER);
	ck_assert(zone_get_stats(ZONE_NORMAL, &st));
	ck_assert_uint_eq(st.nr_dirty, 0);
	ck_assert_uint_eq(st.nr_pcp, 0);
	ck_assert_uint_ge(st.purged_bytes, (size_t)NBIG << (MAX_ORDER + PAGE_SHIFT));
	if (!RUNNING_ON_VALGRIND)
		ck_assert_msg(rss_full > rss_trim &&
			      rss_full - rss_trim >= (size_t)200 << 20,
			      "buddy_trim: RSS %zu -> %zu bytes", rss_full,
			      rss_trim);
	/* Everything free is now clean: even without __GFP_ZERO it reads 0. */
	for (int i = 0; i < NBIG; i++) {
		big[i] = __get_free_pages(GFP_KERNEL, MAX_ORDER);
		ck_assert(all_bytes((void *)big[i], block_bytes(MAX_ORDER), 0));
	}
	for (int i = 0; i < NSMALL; i++) {
		small[i] = get_zeroed_page(GFP_KERNEL);
		ck_assert(all_bytes((void *)small[i], PAGE_SIZE, 0));
	}
	for (int i = 0; i < NBIG; i++)
		free_pages(big[i], MAX_ORDER);
	for (int i = 0; i < NSMALL; i++)
		free_page(small[i]);
	/* A second trim right away has only what was just dirtied. */
	buddy_trim();
	ck_assert(zone_get_stats(ZONE_NORMAL, &st));
	ck_assert_uint_eq(st.nr_dirty, 0);
	ck_assert_merged();
}
END_TEST

/* ---- threads ---- */

#define THR_N 4
#define THR_OPS 25000
#define THR_MAX_BLOCKS 128
#define THR_MAX_PAGES 4096
#define SHARED_SLOTS 16

struct shared_slot {
	pthread_mutex_t lock;
	struct live_block b;	/* addr == 0: empty */
};

static struct shared_slot shared[SHARED_SLOTS];
static atomic_int thr_failures;
static char thr_failure_msg[256];
static pthread_barrier_t thr_barrier;

static void thr_fail(const char *fmt, unsigned long a, unsigned int o, long x)
{
	if (atomic_fetch_add(&thr_failures, 1) == 0)
		snprintf(thr_failure_msg, sizeof(thr_failure_msg), fmt, a, o, x);
}

static void *thr_main(void *arg)
{
	long id = (long)arg;
	struct live_block mine[THR_MAX_BLOCKS];
	uint64_t seed = 0x1000 + (uint64_t)id;
	size_t n = 0, pages = 0;

	pthread_barrier_wait(&thr_barrier);
	for (long op = 0; op < THR_OPS && !atomic_load(&thr_failures); op++) {
		uint64_t r = splitmix64(&seed);
		unsigned int order = random_order(&seed);

		if (r % 16 == 0 && n) {
			/* Swap one of ours with whatever sits in a shared slot:
			 * blocks get freed by threads that did not allocate. */
			struct shared_slot *s = &shared[(r >> 8) % SHARED_SLOTS];
			struct live_block out = mine[--n], in;

			pthread_mutex_lock(&s->lock);
			in = s->b;
			s->b = out;
			pthread_mutex_unlock(&s->lock);
			pages -= 1UL << out.order;
			if (in.addr) {
				long bad = check_tag(in.addr, in.order, in.tag);

				if (bad >= 0)
					thr_fail("adopted block 0x%lx order %u: page "
						 "%ld overwritten", in.addr, in.order,
						 bad);
				mine[n++] = in;
				pages += 1UL << in.order;
			}
		} else if (n == 0 || (r % 100 < 52 && n < THR_MAX_BLOCKS &&
				       pages + (1UL << order) <= THR_MAX_PAGES)) {
			unsigned long a = __get_free_pages(GFP_KERNEL, order);

			if (!a || (a & (block_bytes(order) - 1))) {
				thr_fail("alloc 0x%lx order %u bad (%ld)", a, order, 0L);
				break;
			}
			/* Another thread's tag here would be an overlap. */
			mine[n] = (struct live_block){
				a, order, ((uint64_t)id << 56) ^ splitmix64(&seed) };
			tag_block(a, order, mine[n].tag);
			n++;
			pages += 1UL << order;
		} else {
			size_t i = (size_t)(r >> 32) % n;
			struct live_block b = mine[i];
			long bad = check_tag(b.addr, b.order, b.tag);

			if (bad >= 0)
				thr_fail("block 0x%lx order %u: page %ld "
					 "overwritten by someone else", b.addr,
					 b.order, bad);
			mine[i] = mine[--n];
			pages -= 1UL << b.order;
			free_pages(b.addr, b.order);
		}
	}
	while (n) {
		n--;
		if (check_tag(mine[n].addr, mine[n].order, mine[n].tag) >= 0)
			thr_fail("block 0x%lx order %u damaged at exit (%ld)",
				 mine[n].addr, mine[n].order, 0L);
		free_pages(mine[n].addr, mine[n].order);
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[THR_N];

	atomic_store(&thr_failures, 0);
	for (int i = 0; i < SHARED_SLOTS; i++) {
		pthread_mutex_init(&shared[i].lock, NULL);
		shared[i].b.addr = 0;
	}
	pthread_barrier_init(&thr_barrier, NULL, THR_N);
	for (long i = 0; i < THR_N; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, thr_main, (void *)i), 0);
	for (int i = 0; i < THR_N; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&thr_barrier);
	ck_assert_msg(atomic_load(&thr_failures) == 0, "%d failures, first: %s",
		      atomic_load(&thr_failures), thr_failure_msg);
	for (int i = 0; i < SHARED_SLOTS; i++) {
		struct live_block *b = &shared[i].b;

		if (!b->addr)
			continue;
		ck_assert(check_tag(b->addr, b->order, b->tag) < 0);
		free_pages(b->addr, b->order);
		b->addr = 0;
	}
	ck_assert_merged();
}
END_TEST

/* ---- memory goes back to the OS ---- */

START_TEST(test_rss_drops_after_delay)
{
	static const char *const env[] = { "KMEM_PURGE_DELAY_MS=200", NULL };
	struct child_result r;

	run_child("rss", env, &r);
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 77)
		ck_skip("%s", child_skip_reason(&r));
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status 0x%x:\n%s", r.status, r.out);
	fputs(r.out, stdout);
}
END_TEST

/*
 * 1 GiB of order-10 blocks, touched, freed; then nothing at all (no
 * allocation, no free): the purge thread must give the memory back on its
 * own once the delay has passed, within a second of slack for a loaded
 * machine.
 */
static int child_rss(void)
{
	enum { NBLK = 256 };	/* 256 x 4 MiB = 1 GiB */
	static unsigned long blk[NBLK];
	size_t rss0, rss1, rss2, rss3 = 0, gib = (size_t)1 << 30;
	struct zone_stats st;
	uint64_t t0, waited = 0;
	bool done = false;

	if (RUNNING_ON_VALGRIND) {
		printf("SKIPPED: under valgrind, the resident size means "
		       "nothing\n");
		return 77;
	}
	rss0 = rss_bytes();
	for (int i = 0; i < NBLK; i++) {
		blk[i] = __get_free_pages(GFP_KERNEL, MAX_ORDER);
		if (!blk[i]) {
			printf("allocation %d failed\n", i);
			return 1;
		}
		memset((void *)blk[i], 0x5a, block_bytes(MAX_ORDER));
	}
	rss1 = rss_bytes();
	for (int i = 0; i < NBLK; i++)
		free_pages(blk[i], MAX_ORDER);
	t0 = os_now_ms();
	rss2 = rss_bytes();
	if (rss1 < rss0 + gib - (gib >> 4)) {
		printf("1 GiB was not resident: RSS %zu -> %zu\n", rss0, rss1);
		return 1;
	}
	/* No kmem call from here on: only the purge thread can act. */
	while (!done && (waited = os_now_ms() - t0) < 200 + 1000) {
		usleep(20 * 1000);
		rss3 = rss_bytes();
		zone_get_stats(ZONE_NORMAL, &st);
		done = rss3 + gib - (gib >> 4) <= rss1 &&
		       st.purged_bytes >= gib - (gib >> 4) &&
		       st.nr_dirty <= 2 * 1024 + 512;
	}
	printf("rss: start %zu MiB, 1 GiB touched %zu MiB, freed %zu MiB, "
	       "%zu MiB %lu ms after the free (delay 200 ms, no allocation "
	       "in between); purged %zu MiB, %zu dirty pages left\n",
	       rss0 >> 20, rss1 >> 20, rss2 >> 20, rss3 >> 20,
	       (unsigned long)waited, st.purged_bytes >> 20, st.nr_dirty);
	if (!done) {
		printf("the memory did not go back within the delay + 1 s\n");
		return 1;
	}
	return 0;
}

/*
 * Dirty memory scattered in 64 KiB pieces (every other order-4 block of
 * 16 MiB freed, the rest kept) cannot serve an order-8 block, which must
 * come from clean memory.  The zone then owes as many dirty pages, and the
 * purge thread pays the debt at once, whatever the purge delay (an hour
 * here), in runs of at least RECLAIM_RUN_MIN pages: the resident size
 * stays flat instead of growing by the block.  Dirty single pages are not
 * taken for it (a madvise per page): that is the next case.
 */
static int child_reclaim(void)
{
	enum { N = 256, ORD = 4, BIG = 8 };
	static unsigned long pg[N];
	struct zone_stats a, b;
	unsigned long big;
	size_t rss0, rss1 = 0;
	bool paid = false;

	if (RUNNING_ON_VALGRIND) {
		printf("SKIPPED: under valgrind, the resident size means "
		       "nothing\n");
		return 77;
	}
	for (int i = 0; i < N; i++) {
		pg[i] = __get_free_pages(GFP_KERNEL, ORD);
		if (!pg[i])
			return 1;
		memset((void *)pg[i], 0x5a, block_bytes(ORD));
	}
	for (int i = 0; i < N; i += 2)
		free_pages(pg[i], ORD);
	zone_get_stats(ZONE_NORMAL, &a);
	rss0 = rss_bytes();
	big = __get_free_pages(GFP_KERNEL, BIG);
	if (!big)
		return 1;
	memset((void *)big, 0x6b, block_bytes(BIG));
	for (int w = 0; w < 100 && !paid; w++) {
		usleep(10 * 1000);
		zone_get_stats(ZONE_NORMAL, &b);
		rss1 = rss_bytes();
		paid = b.purged_bytes - a.purged_bytes >= block_bytes(BIG) &&
		       b.nr_dirty + (1U << BIG) <= a.nr_dirty;
	}
	printf("reclaim: dirty free pages %zu -> %zu, purged %zu -> %zu KiB, "
	       "RSS %zu -> %zu KiB\n", a.nr_dirty, b.nr_dirty,
	       a.purged_bytes >> 10, b.purged_bytes >> 10, rss0 >> 10,
	       rss1 >> 10);
	if (a.nr_dirty < (N / 2 << ORD) - 64) {
		printf("the set-up left too few dirty pages\n");
		return 1;
	}
	if (!paid) {
		printf("no dirty pages were given back for the clean block\n");
		return 1;
	}
	if (rss1 > rss0 + block_bytes(BIG) / 2) {
		printf("RSS grew by the block\n");
		return 1;
	}
	free_pages(big, BIG);
	for (int i = 1; i < N; i += 2)
		free_pages(pg[i], ORD);
	return 0;
}

START_TEST(test_reclaim_for_clean_block)
{
	static const char *const env[] = { "KMEM_PURGE_DELAY_MS=3600000", NULL };
	struct child_result r;

	run_child("reclaim", env, &r);
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 77)
		ck_skip("%s", child_skip_reason(&r));
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status 0x%x:\n%s", r.status, r.out);
	fputs(r.out, stdout);
}
END_TEST

/* ---- bad input: reported with the address, then abort ---- */

static int child_free_stack(void)
{
	char buf[3 * PAGE_SIZE];
	unsigned long a = ((unsigned long)buf + PAGE_SIZE - 1) & PAGE_MASK;

	/* First kmem call of the process: must still be caught. */
	announce("BADADDR", a);
	free_pages(a, 0);
	return 0;
}

static int child_free_glibc(void)
{
	void *p = aligned_alloc(PAGE_SIZE, 4 * PAGE_SIZE);
	unsigned long keep = __get_free_page(GFP_KERNEL);	/* kmem is up */

	announce("BADADDR", (unsigned long)p);
	free_pages((unsigned long)p, 2);
	free_page(keep);
	return 0;
}

static int child_free_far(void)
{
	unsigned long keep = __get_free_page(GFP_KERNEL);
	/* A section-aligned address just past the heap: in no section. */
	unsigned long a = (keep & ~SECTION_MASK) + 64 * SECTION_SIZE;

	announce("BADADDR", a);
	free_pages(a, MAX_ORDER);
	return 0;
}

static int child_free_mem_map(void)
{
	unsigned long keep = __get_free_page(GFP_KERNEL);
	unsigned long a = keep & ~SECTION_MASK;	/* the section's mem_map */

	announce("BADADDR", a);
	free_pages(a, 0);
	return 0;
}

/* A page of the mem_map other than the first, which alone is marked
 * PG_meta: told by its place in the section. */
static int child_free_mem_map_inner(void)
{
	unsigned long keep = __get_free_page(GFP_KERNEL);
	unsigned long a = (keep & ~SECTION_MASK) + 100 * PAGE_SIZE;

	announce("BADADDR", a);
	free_pages(a, 0);
	return 0;
}

static int child_wrong_order_smaller(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 2);

	announce("BADADDR", a);
	free_pages(a, 1);
	return 0;
}

static int child_wrong_order_larger(void)
{
	/* An order-9 block that happens to be aligned like an order-10 one:
	 * freeing it as order 10 would hand its neighbour out twice. */
	unsigned long v[8], a = 0;

	for (int i = 0; i < 8 && !a; i++) {
		v[i] = __get_free_pages(GFP_KERNEL, 9);
		if ((v[i] & (block_bytes(10) - 1)) == 0)
			a = v[i];
	}
	if (!a)
		return 2;
	announce("BADADDR", a);
	free_pages(a, 10);
	return 0;
}

static int child_wrong_order_page(void)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 3);

	announce("BADADDR", (unsigned long)page_address(pg));
	__free_pages(pg, 0);
	return 0;
}

static int child_double_free_pcp(void)
{
	unsigned long a = __get_free_page(GFP_KERNEL);

	free_page(a);
	announce("BADADDR", a);
	free_page(a);
	return 0;
}

static int child_double_free_zone(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, MAX_ORDER);

	free_pages(a, MAX_ORDER);
	announce("BADADDR", a);
	free_pages(a, MAX_ORDER);
	return 0;
}

static int child_interior(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 2);

	announce("BADADDR", a + PAGE_SIZE);
	free_pages(a + PAGE_SIZE, 0);
	return 0;
}

static int child_misaligned(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 0);

	announce("BADADDR", a + 24);
	free_pages(a + 24, 0);
	return 0;
}

static int child_bad_struct_page(void)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 0);
	struct page *bad = (struct page *)((char *)pg + 8);

	announce("BADADDR", (unsigned long)bad);
	__free_pages(bad, 0);
	return 0;
}

static int child_free_order_too_big(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, MAX_ORDER);

	announce("BADADDR", a);
	free_pages(a, MAX_ORDER + 1);
	return 0;
}

START_TEST(test_report_never_handed_out)
{
	assert_reported_abort("free_stack", "never handed out", NULL);
	assert_reported_abort("free_glibc", "never handed out", NULL);
	assert_reported_abort("free_far", "never handed out", NULL);
	assert_reported_abort("free_mem_map", "page map", NULL);
	assert_reported_abort("free_mem_map_inner", "page map", NULL);
}
END_TEST

START_TEST(test_report_wrong_order)
{
	assert_reported_abort("wrong_order_smaller", "wrong order",
			      "allocated with order 2");
	assert_reported_abort("wrong_order_larger", "wrong order",
			      "allocated with order 9");
	assert_reported_abort("wrong_order_page", "wrong order",
			      "allocated with order 3");
	assert_reported_abort("order_too_big", "order above MAX_ORDER", NULL);
}
END_TEST

START_TEST(test_report_double_free)
{
	assert_reported_abort("double_free_pcp", "double free", NULL);
	assert_reported_abort("double_free_zone", "double free", NULL);
}
END_TEST

START_TEST(test_report_bad_address)
{
	assert_reported_abort("interior", "inside a block", NULL);
	assert_reported_abort("misaligned", "not aligned", NULL);
	assert_reported_abort("bad_struct_page", "not a struct page", NULL);
}
END_TEST

/*
 * KMEM_ABORT=0: each misuse is reported and dropped; the blocks involved
 * stay as they were and nothing is merged wrongly.  Output lines
 * "REPORTED n" let the parent count reports per step.
 */
static int child_abort0(void)
{
	char stackbuf[2 * PAGE_SIZE], why[256];
	unsigned long s = ((unsigned long)stackbuf + PAGE_SIZE - 1) & PAGE_MASK;
	unsigned long a, b, v[2048];
	uint64_t tag = 0x1234567890abcdefULL;

	/* The first kmem call of the process is a bad free. */
	free_pages(s, 0);
	announce("STEP1", s);

	a = __get_free_pages(GFP_KERNEL, 2);
	tag_block(a, 2, tag);
	free_pages(a, 1);			/* wrong order */
	free_pages(a + PAGE_SIZE, 0);		/* interior */
	free_pages(a, 3);			/* wrong order, or misaligned */
	announce("STEP2", a);
	if (check_tag(a, 2, tag) >= 0) {
		printf("FAIL the block changed after bad frees\n");
		return 1;
	}
	/* None of those frees released any of its pages. */
	for (int i = 0; i < 2048; i++) {
		unsigned int o = (unsigned int)i & 1;

		v[i] = __get_free_pages(GFP_KERNEL, o);
		if (v[i] + block_bytes(o) > a && v[i] < a + block_bytes(2)) {
			printf("FAIL 0x%lx order %u handed out inside the live "
			       "block 0x%lx\n", v[i], o, a);
			return 1;
		}
	}
	for (int i = 0; i < 2048; i++)
		free_pages(v[i], (unsigned int)i & 1);
	if (check_tag(a, 2, tag) >= 0) {
		printf("FAIL the block was overwritten\n");
		return 1;
	}
	free_pages(a, 2);			/* the right free */
	free_pages(a, 2);			/* double free */
	b = __get_free_pages(GFP_KERNEL, MAX_ORDER);
	free_pages(b, MAX_ORDER);
	free_pages(b, MAX_ORDER);		/* double free */
	announce("STEP3", a);
	if (!check_merged(why, sizeof(why))) {
		printf("FAIL not merged: %s\n", why);
		return 1;
	}
	printf("DONE\n");
	return 0;
}

static int count_substr(const char *s, const char *sub)
{
	int n = 0;

	while ((s = strstr(s, sub))) {
		n++;
		s += strlen(sub);
	}
	return n;
}

/* Reports in the output between two announced markers. */
static int reports_between(const char *out, const char *from, const char *to,
			   const char *words)
{
	const char *a = from ? strstr(out, from) : out;
	const char *b = to ? strstr(out, to) : NULL;
	char seg[sizeof(((struct child_result *)0)->out)];
	size_t len;

	if (!a || (to && !b) || (b && b < a))
		return -1;
	len = b ? (size_t)(b - a) : strlen(a);
	memcpy(seg, a, len);
	seg[len] = '\0';
	return count_substr(seg, words);
}

START_TEST(test_abort0_continues)
{
	static const char *const env[] = { "KMEM_ABORT=0", NULL };
	struct child_result r;

	run_child("abort0", env, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "KMEM_ABORT=0 child: status 0x%x:\n%s", r.status, r.out);
	ck_assert_msg(strstr(r.out, "DONE"), "%s", r.out);
	ck_assert_msg(!strstr(r.out, "kmem: aborting"), "%s", r.out);
	/* Before STEP1: the stack address, as the very first kmem call. */
	ck_assert_msg(reports_between(r.out, NULL, "STEP1", "kmem: ERROR: ") == 1 &&
		      reports_between(r.out, NULL, "STEP1", "never handed out") == 1,
		      "step 1:\n%s", r.out);
	/* STEP1..STEP2: wrong order, interior, wrong order or misaligned. */
	ck_assert_msg(reports_between(r.out, "STEP1", "STEP2", "kmem: ERROR: ") == 3 &&
		      reports_between(r.out, "STEP1", "STEP2", "wrong order") >= 1 &&
		      reports_between(r.out, "STEP1", "STEP2", "inside a block") == 1,
		      "step 2:\n%s", r.out);
	/* STEP2..STEP3: two double frees (per-CPU list and zone list). */
	ck_assert_msg(reports_between(r.out, "STEP2", "STEP3", "kmem: ERROR: ") == 2 &&
		      reports_between(r.out, "STEP2", "STEP3", "double free") == 2,
		      "step 3:\n%s", r.out);
	ck_assert_msg(reports_between(r.out, "STEP3", NULL, "kmem: ERROR: ") == 0,
		      "after step 3:\n%s", r.out);
}
END_TEST

/* ---- Check's own death tests (fork mode only) ---- */

static void quiet_stderr(void)
{
	FILE *f = freopen("/dev/null", "w", stderr);

	(void)f;
}

START_TEST(test_signal_never_handed_out)
{
	static char not_ours[2 * PAGE_SIZE];

	quiet_stderr();
	free_pages(((unsigned long)not_ours + PAGE_SIZE - 1) & PAGE_MASK, 0);
}
END_TEST

START_TEST(test_signal_wrong_order)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 4);

	quiet_stderr();
	free_pages(a, 2);
}
END_TEST

START_TEST(test_signal_double_free)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 5);

	quiet_stderr();
	free_pages(a, 5);
	free_pages(a, 5);
}
END_TEST

/*
 * madvise(MADV_DONTNEED) fails on locked memory: a purge that failed must
 * not mark the block clean, or __GFP_ZERO (which prefers clean blocks, the
 * newest first) takes it and skips the memset of a dirty block.  The
 * blocks are locked one by one (mlock), so that the test also runs for a
 * user whose RLIMIT_MEMLOCK is the usual 8 MiB; it skips, saying so, only
 * where even that is refused.
 */
#define MLOCK_N 8
#define MLOCK_ORDER(i) ((i) % 4 ? 0U : 9U)	/* 2 x 2 MiB + 6 pages */

static int child_mlocked(void)
{
	unsigned long v[MLOCK_N];

	if (RUNNING_ON_VALGRIND) {
		printf("SKIPPED: under valgrind, madvise is not the "
		       "kernel's\n");
		return 77;
	}
	for (int i = 0; i < MLOCK_N; i++) {
		unsigned int o = MLOCK_ORDER(i);

		v[i] = __get_free_pages(GFP_KERNEL, o);
		if (mlock((void *)v[i], block_bytes(o)) != 0) {
			struct rlimit rl = { 0, 0 };

			getrlimit(RLIMIT_MEMLOCK, &rl);
			printf("SKIPPED: mlock of %zu KiB: %s (RLIMIT_MEMLOCK "
			       "%llu KiB)\n", block_bytes(o) >> 10,
			       strerror(errno),
			       (unsigned long long)rl.rlim_cur >> 10);
			return 77;
		}
		memset((void *)v[i], 0xcc, block_bytes(o));
	}
	for (int i = 0; i < MLOCK_N; i++)
		free_pages(v[i], MLOCK_ORDER(i));
	buddy_trim();
	for (int i = 0; i < MLOCK_N; i++) {
		unsigned int o = MLOCK_ORDER(i);

		v[i] = __get_free_pages(GFP_KERNEL | __GFP_ZERO, o);
		if (!all_bytes((void *)v[i], block_bytes(o), 0)) {
			printf("FAIL __GFP_ZERO order %u block 0x%lx is dirty "
			       "after a failed purge\n", o, v[i]);
			return 1;
		}
	}
	for (int i = 0; i < MLOCK_N; i++)
		free_pages(v[i], MLOCK_ORDER(i));
	return 0;
}

START_TEST(test_zero_after_failed_purge)
{
	struct child_result r;

	run_child("mlocked", NULL, &r);
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 77)
		ck_skip("%s", child_skip_reason(&r));
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status 0x%x:\n%s", r.status, r.out);
}
END_TEST

/*
 * Out of address space (RLIMIT_AS): allocations fail with NULL + ENOMEM,
 * the reserve below WMARK_MIN is left to GFP_ATOMIC, and everything
 * still merges back afterwards.
 */
static int child_oom(void)
{
	enum { MAXV = 1 << 16 };
	static unsigned long v[MAXV];
	static unsigned int ord[MAXV];
	struct rlimit rl;
	size_t n = 0, big = 0, small = 0, atomic_pages = 0;
	char why[256];
	FILE *f;
	unsigned long vm_pages = 0;

	free_page(__get_free_page(GFP_KERNEL));	/* map the first section */
	f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%lu", &vm_pages) != 1)
		return 2;
	fclose(f);
	/* Room for two more 64 MiB sections (each maps 128 MiB to align). */
	rl.rlim_cur = rl.rlim_max = vm_pages * PAGE_SIZE + (200UL << 20);
	if (setrlimit(RLIMIT_AS, &rl))
		return 2;
	for (;;) {
		errno = 0;
		v[n] = __get_free_pages(GFP_KERNEL, MAX_ORDER);
		if (!v[n])
			break;
		ord[n++] = MAX_ORDER;
		big++;
	}
	if (errno != ENOMEM || big < MERGED_MAX) {
		printf("FAIL order-%d run ended after %zu blocks, errno %d\n",
		       MAX_ORDER, big, errno);
		return 1;
	}
	for (;;) {
		v[n] = __get_free_page(GFP_KERNEL);
		if (!v[n])
			break;
		ord[n++] = 0;
		small++;
	}
	for (;;) {
		v[n] = __get_free_page(GFP_ATOMIC);
		if (!v[n])
			break;
		ord[n++] = 0;
		atomic_pages++;
		if (n == MAXV)
			return 2;
	}
	printf("oom: %zu order-%d blocks, then %zu pages, then %zu GFP_ATOMIC "
	       "pages from the reserve\n", big, MAX_ORDER, small, atomic_pages);
	if (atomic_pages == 0) {
		printf("FAIL GFP_ATOMIC found no reserve\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		free_pages(v[i], ord[i]);
	if (!check_merged(why, sizeof(why))) {
		printf("FAIL %s\n", why);
		return 1;
	}
	return 0;
}

START_TEST(test_out_of_memory)
{
	struct child_result r;

	run_child("oom", NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status 0x%x:\n%s", r.status, r.out);
	fputs(r.out, stdout);
}
END_TEST

/* ---- DMA32 (own process: its sections would change the count) ---- */

static int child_dma32(void)
{
	char why[256];
	unsigned long v[NR_PAGE_ORDERS];

	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		v[o] = __get_free_pages(GFP_DMA32, o);
		if (!v[o] || v[o] + block_bytes(o) > (1UL << 32) ||
		    (v[o] & (block_bytes(o) - 1))) {
			printf("FAIL order %u: 0x%lx\n", o, v[o]);
			return 1;
		}
		memset((void *)v[o], 1, block_bytes(o));
	}
	for (unsigned int o = 0; o <= MAX_ORDER; o++)
		free_pages(v[o], o);
	if (!check_merged(why, sizeof(why))) {
		printf("FAIL %s\n", why);
		return 1;
	}
	return 0;
}

START_TEST(test_dma32)
{
	struct child_result r;

	run_child("dma32", NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status 0x%x:\n%s", r.status, r.out);
}
END_TEST

/* ---- main ---- */

static const struct {
	const char *name;
	int (*fn)(void);
} children[] = {
	{ "rss", child_rss },
	{ "reclaim", child_reclaim },
	{ "free_stack", child_free_stack },
	{ "free_glibc", child_free_glibc },
	{ "free_far", child_free_far },
	{ "free_mem_map", child_free_mem_map },
	{ "free_mem_map_inner", child_free_mem_map_inner },
	{ "wrong_order_smaller", child_wrong_order_smaller },
	{ "wrong_order_larger", child_wrong_order_larger },
	{ "wrong_order_page", child_wrong_order_page },
	{ "order_too_big", child_free_order_too_big },
	{ "double_free_pcp", child_double_free_pcp },
	{ "double_free_zone", child_double_free_zone },
	{ "interior", child_interior },
	{ "misaligned", child_misaligned },
	{ "bad_struct_page", child_bad_struct_page },
	{ "abort0", child_abort0 },
	{ "dma32", child_dma32 },
	{ "mlocked", child_mlocked },
	{ "gfp_zero", child_gfp_zero },
	{ "oom", child_oom },
};

static Suite *buddy_suite(bool forking)
{
	Suite *s = suite_create("buddy");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, baseline_setup, NULL);
	tcase_add_test(tc, test_every_order_aligned_writable);
	tcase_add_test(tc, test_grow_in_place);
	tcase_add_test(tc, test_order_above_max);
	tcase_add_test(tc, test_virt_to_page_outside);
	tcase_add_test(tc, test_blocks_inside_sections);
	tcase_add_test(tc, test_grown_section_keeps_spare_blocks_untouched);
	tcase_add_test(tc, test_dma32);
	tcase_add_test(tc, test_out_of_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, baseline_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_model);
	tcase_add_test(tc, test_merge_after_order0_flood);
	tcase_add_test(tc, test_merge_after_page_runs);
	suite_add_tcase(s, tc);

	tc = tcase_create("zero");
	tcase_add_checked_fixture(tc, baseline_setup, NULL);
	tcase_add_test(tc, test_zeroed_page_recycled);
	tcase_add_test(tc, test_gfp_zero_every_order_recycled);
	tcase_add_test(tc, test_trim_then_zero);
	tcase_add_test(tc, test_zero_after_failed_purge);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, baseline_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("purge");
	tcase_add_checked_fixture(tc, baseline_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rss_drops_after_delay);
	tcase_add_test(tc, test_reclaim_for_clean_block);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, baseline_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_report_never_handed_out);
	tcase_add_test(tc, test_report_wrong_order);
	tcase_add_test(tc, test_report_double_free);
	tcase_add_test(tc, test_report_bad_address);
	tcase_add_test(tc, test_abort0_continues);
	if (forking) {
		/* These die in Check's own fork: not with CK_FORK=no. */
		tcase_add_test_raise_signal(tc, test_signal_never_handed_out,
					    SIGABRT);
		tcase_add_test_raise_signal(tc, test_signal_wrong_order, SIGABRT);
		tcase_add_test_raise_signal(tc, test_signal_double_free, SIGABRT);
	}
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	const char *fork_env = getenv("CK_FORK");
	bool forking = !(fork_env && strcmp(fork_env, "no") == 0);
	ssize_t len;
	SRunner *sr;
	int failed;

	len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (len <= 0)
		snprintf(self_exe, sizeof(self_exe), "%s", argv[0]);
	else
		self_exe[len] = '\0';
	if (argc == 3 && strcmp(argv[1], "--child") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(children); i++)
			if (strcmp(argv[2], children[i].name) == 0)
				return baseline_setup(), children[i].fn();
		fprintf(stderr, "unknown child %s\n", argv[2]);
		return 126;
	}
	/* Death tests expect the default; kmem is not initialised yet. */
	unsetenv("KMEM_ABORT");
	sr = srunner_create(buddy_suite(forking));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
