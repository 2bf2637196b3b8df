/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_debug.c - finding the user's memory bugs (core/debug.c):
 * red zones, poison, free checks, call sites, reports, kmem_cache_validate,
 * the leak report and the quarantine.
 *
 * Every case runs its code in a child whose stderr goes to a pipe: kmem
 * reads KMEM_* once, at its first call, so each child sets the variables
 * it needs before touching kmem.  Death tests check the SIGABRT and the
 * words of the report.  The functions whose names a report must show are
 * global and noinline, and the tests are linked with -rdynamic, so that
 * dladdr finds them.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "debug.h"
#include "internal.h"
#include "kmalloc.h"
#include "slab.h"

#define NOINLINE __attribute__((noinline, used))

/* ---- helpers ---- */

/* Run fn(arg) in a child with fd 2 on a pipe; its status, stderr in buf. */
static int run_capture(void (*fn)(void *), void *arg, char *buf, size_t len)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void expect_words(const char *buf, const char *const *words)
{
	for (; *words; words++)
		ck_assert_msg(strstr(buf, *words), "'%s' missing in:\n%s",
			      *words, buf);
}

/* fn must abort, and its report must contain each of the words. */
#define expect_abort(fn, arg, ...)                                          \
	do {                                                                \
		static char buf_[16384];                                    \
		const char *const w_[] = { __VA_ARGS__, NULL };             \
		int st_ = run_capture(fn, arg, buf_, sizeof(buf_));         \
		ck_assert_msg(WIFSIGNALED(st_) && WTERMSIG(st_) == SIGABRT, \
			      "no abort (status %#x); stderr:\n%s", st_,    \
			      buf_);                                        \
		expect_words(buf_, w_);                                     \
	} while (0)

/* fn must exit with status 0, and say each of the words. */
#define expect_exit0(fn, arg, buf, ...)                                    \
	do {                                                               \
		const char *const w_[] = { __VA_ARGS__, NULL };            \
		int st_ = run_capture(fn, arg, buf, sizeof(buf));          \
		ck_assert_msg(WIFEXITED(st_) && WEXITSTATUS(st_) == 0,     \
			      "status %#x; stderr:\n%s", st_, buf);        \
		expect_words(buf, w_);                                     \
	} while (0)

static unsigned int count(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- red zones ---- */

NOINLINE char *overflow_alloc_site(size_t n)
{
	return kmalloc(n, 0);
}

NOINLINE void overflow_free_site(char *p)
{
	kfree(p);
}

static void one_byte_overflow(void *arg)
{
	char *p;

	setenv("KMEM_DEBUG", "FZPU", 1);
	p = overflow_alloc_site(40);	/* from kmalloc-48 */
	memset(p, 'a', 40);
	p[40] = 'X';			/* one byte too far */
	overflow_free_site(p);
}

START_TEST(one_byte_overflow_of_a_malloc_block_is_reported)
{
	/* The kind, the cache, the object's requested size, the damaged
	 * byte, both call sites by name and a dump with the bad byte. */
	expect_abort(one_byte_overflow, NULL,
		     "ERROR: right red zone overwritten (buffer overflow) in "
		     "cache kmalloc-48",
		     "(size 40)", "offset 40 in the object): 0x58, expected 0xcc",
		     "allocated at overflow_alloc_site+0x",
		     "found by free called from overflow_free_site+0x",
		     "58 cc cc", "aborting");
}
END_TEST

/* Through the right red zone and the state word into the next stride's
 * left red zone: the call-site records are after the slab's objects
 * (debug.h), out of reach, so the report still names where the block
 * came from (with the records in the stride, this overwrote the
 * allocation's). */
static void long_overflow(void *arg)
{
	char *p;

	setenv("KMEM_DEBUG", "FZPU", 1);
	p = overflow_alloc_site(48);	/* kmalloc-48: stride 80 */
	memset(p, 'A', 48 + 24);
	overflow_free_site(p);
}

START_TEST(an_overflow_past_the_red_zone_leaves_the_call_sites_intact)
{
	expect_abort(long_overflow, NULL,
		     "right red zone overwritten (buffer overflow) in cache "
		     "kmalloc-48", "allocated at overflow_alloc_site+0x",
		     "found by free called from overflow_free_site+0x");
}
END_TEST

/* A debug cache aligned to 16 keeps a free object's free pointer in the
 * last 8 bytes of its left red zone: a write there while it is free is
 * found when the free list is followed, and the pointer is not. */
NOINLINE void write_into_free_pointer(void *arg)
{
	struct kmem_cache *c = kmem_cache_create("fp_c", 64, 16,
						 SLAB_RED_ZONE | SLAB_POISON,
						 NULL);
	char *a = kmem_cache_alloc(c, 0), *b = kmem_cache_alloc(c, 0);

	kmem_cache_free(c, b);
	kmem_cache_free(c, a);		/* the free list: a, then b */
	memset(a - 8, 'Z', 8);		/* a's free pointer */
	kmem_cache_alloc(c, 0);
	kmem_cache_alloc(c, 0);
	_exit(3);			/* not reached: the report aborts */
}

START_TEST(a_write_into_a_free_objects_free_pointer_is_reported)
{
	expect_abort(write_into_free_pointer, NULL,
		     "cache fp_c: free pointer of object",
		     "corrupted", "an overflow or a write after free");
}
END_TEST

NOINLINE void one_byte_underflow(void *arg)
{
	struct kmem_cache *c = kmem_cache_create("under_c", 50, 0,
						 SLAB_RED_ZONE | SLAB_STORE_USER,
						 NULL);
	char *o = kmem_cache_alloc(c, 0);

	o[-1] = 0;
	kmem_cache_free(c, o);
}

START_TEST(one_byte_underflow_is_reported)
{
	expect_abort(one_byte_underflow, NULL,
		     "left red zone overwritten (buffer underflow) in cache "
		     "under_c", "(size 50)", "offset -1 in the object",
		     "allocated at one_byte_underflow+0x", "00 ");
}
END_TEST

/* ---- poison and double frees ---- */

NOINLINE void uaf_free_site(struct kmem_cache *c, void *o)
{
	kmem_cache_free(c, o);
}

NOINLINE void write_after_free(void *arg)
{
	struct kmem_cache *c = kmem_cache_create("uaf_c", 64, 0,
						 SLAB_POISON | SLAB_STORE_USER,
						 NULL);
	char *o = kmem_cache_alloc(c, 0);

	uaf_free_site(c, o);
	o[10] = 'x';			/* write after free */
	if (kmem_cache_alloc(c, 0) != o)	/* LIFO: o comes back */
		_exit(3);
}

START_TEST(write_after_free_is_reported_at_the_next_allocation)
{
	expect_abort(write_after_free, NULL,
		     "poison overwritten (write after free) in cache uaf_c",
		     "offset 10 in the object): 0x78, expected 0x6b",
		     "found by allocation", "freed at uaf_free_site+0x",
		     "allocated at write_after_free+0x", "6b 78 6b");
}
END_TEST

NOINLINE void kmalloc_double_free(void *arg)
{
	char *a, *b;

	setenv("KMEM_DEBUG", "FZPU", 1);
	a = kmalloc(100, 0);
	b = kmalloc(100, 0);
	kfree(a);
	kfree(b);
	kfree(a);			/* not the last one freed */
}

START_TEST(double_free_of_a_malloc_block_is_reported)
{
	expect_abort(kmalloc_double_free, NULL,
		     "double free (object is already free) in cache "
		     "kmalloc-112", "freed at kmalloc_double_free+0x",
		     "found by free called from kmalloc_double_free+0x");
}
END_TEST

static void cache_double_free(void *arg)
{
	struct kmem_cache *c = kmem_cache_create("dbl2_c", 64, 0,
						 SLAB_POISON, NULL);
	void *x = kmem_cache_alloc(c, 0), *y = kmem_cache_alloc(c, 0);

	kmem_cache_free(c, x);
	kmem_cache_free(c, y);
	kmem_cache_free(c, x);
}

START_TEST(double_free_found_on_the_free_list_with_poison_only)
{
	expect_abort(cache_double_free, NULL,
		     "double free (object is on the free list) in cache dbl2_c");
}
END_TEST

/* ---- invalid frees (always on) ---- */

static void interior_free(void *arg)
{
	char *p;

	setenv("KMEM_DEBUG", "FZP", 1);
	p = kmalloc(100, 0);
	kfree(p + 8);
}

static void foreign_free(void *arg)
{
	int on_stack;

	setenv("KMEM_DEBUG", "FZP", 1);
	kfree(&on_stack);
}

static void wrong_cache_free(void *arg)
{
	struct kmem_cache *a = kmem_cache_create("wc_alpha", 64, 0,
						 SLAB_RED_ZONE, NULL);
	struct kmem_cache *b = kmem_cache_create("wc_beta", 64, 0,
						 SLAB_RED_ZONE, NULL);

	kmem_cache_free(b, kmem_cache_alloc(a, 0));
}

START_TEST(invalid_frees_are_reported_with_and_without_debug)
{
	expect_abort(interior_free, NULL, "kfree()", "middle of an object",
		     "kmalloc-112", "offset 8");
	expect_abort(foreign_free, NULL, "kfree()", "never allocated by kmem");
	expect_abort(wrong_cache_free, NULL, "belongs to cache wc_alpha",
		     "not wc_beta");
}
END_TEST

/* ---- continue mode ---- */

static void continue_after_overflow(void *arg)
{
	struct kmem_cache *c;
	char *o, *p;

	setenv("KMEM_ABORT", "0", 1);
	c = kmem_cache_create("cont_rz", 32, 0, SLAB_RED_ZONE | SLAB_POISON,
			      NULL);
	o = kmem_cache_alloc(c, 0);
	o[32] = 1;			/* overflow: reported at free */
	kmem_cache_free(c, o);		/* ...and the free goes on */
	if (kmem_cache_validate(c) != 0)	/* restored: no second report */
		_exit(4);
	p = kmem_cache_alloc(c, 0);
	if (p != o)			/* the object was freed */
		_exit(5);
	kmem_cache_free(c, p);
	kmem_cache_free(c, p);		/* double free: reported, dropped */
	if (kmem_cache_validate(c) != 0)
		_exit(6);
	fprintf(stderr, "still running\n");
}

START_TEST(continue_mode_reports_once_restores_and_goes_on)
{
	static char buf[16384];

	expect_exit0(continue_after_overflow, NULL, buf,
		     "right red zone overwritten", "double free",
		     "still running");
	ck_assert_uint_eq(count(buf, "red zone overwritten"), 1);
	ck_assert_uint_eq(count(buf, "aborting"), 0);
}
END_TEST

/* ---- kmem_cache_validate ---- */

static void validate_live_red_zone(void *arg)
{
	struct kmem_cache *c;
	char *o[10];
	int n;

	setenv("KMEM_ABORT", "0", 1);
	c = kmem_cache_create("val_c", 24, 0, SLAB_RED_ZONE | SLAB_POISON,
			      NULL);
	for (int i = 0; i < 10; i++)
		o[i] = kmem_cache_alloc(c, 0);
	kmem_cache_free(c, o[3]);
	if (kmem_cache_validate(c) != 0)
		_exit(2);
	o[5][24 + 2] = 0x11;		/* live object's right red zone */
	o[3][1] = 0x22;			/* free object's poison */
	n = kmem_cache_validate(c);
	if (n != 2)
		_exit(10 + n);
	if (kmem_cache_validate(c) != 0)	/* reported damage is restored */
		_exit(3);
}

START_TEST(validate_finds_damage_in_live_and_free_objects)
{
	static char buf[16384];

	expect_exit0(validate_live_red_zone, NULL, buf,
		     "right red zone overwritten (buffer overflow) in cache val_c",
		     "offset 26 in the object): 0x11",
		     "poison overwritten (write after free) in cache val_c",
		     "found by kmem_cache_validate");
}
END_TEST

static void validate_at_exit(void *arg)
{
	char *p;

	setenv("KMEM_DEBUG", "Z", 1);
	setenv("KMEM_VALIDATE", "1", 1);
	p = kmalloc(20, 0);
	p[21] = 0;			/* never freed: only the exit check sees it */
	exit(0);
}

START_TEST(kmem_validate_checks_the_heap_at_exit)
{
	expect_abort(validate_at_exit, NULL,
		     "right red zone overwritten (buffer overflow) in cache "
		     "kmalloc-32", "(size 20)", "found by kmem_cache_validate");
}
END_TEST

/* ---- leak report ---- */

NOINLINE void *leak_site_small(void)
{
	return kmalloc(100, 0);
}

NOINLINE void *leak_site_big(void)
{
	return kmalloc(1000, 0);
}

static void leaky(void *arg)
{
	setenv("KMEM_LEAK_REPORT", "1", 1);	/* implies U for kmalloc */
	for (int i = 0; i < 3; i++)
		leak_site_small();
	for (int i = 0; i < 2; i++)
		leak_site_big();
	kfree(kmalloc(5000, 0));		/* freed: not reported */
	exit(0);
}

START_TEST(leak_report_groups_live_objects_by_call_site)
{
	static char buf[16384];
	char *big, *small;

	expect_exit0(leaky, NULL, buf, "kmem: leak report:",
		     "2 objects, 2000 bytes allocated at leak_site_big+0x",
		     "3 objects, 300 bytes allocated at leak_site_small+0x");
	big = strstr(buf, "leak_site_big");
	small = strstr(buf, "leak_site_small");
	ck_assert_msg(big < small, "sorted by bytes:\n%s", buf);
	/* "5000 bytes", not "5000": an address in a stack may hold it. */
	ck_assert_msg(!strstr(buf, "5000 bytes"), "freed block reported:\n%s", buf);
	/* Each site's line is followed by the whole stack through it
	 * (sitestack.c): frame #0 in the site's function, then its callers. */
	small = strstr(small, "\n");
	ck_assert_msg(small && !strncmp(small + 1, "kmem:     #0 0x", 15) &&
		      strstr(small, "leak_site_small") &&
		      strstr(small, "\nkmem:     #1 0x"),
		      "no stack under the site:\n%s", buf);
}
END_TEST

/* ---- KMEM_DEBUG parsing ---- */

static void parse_flags(void *arg)
{
	unsigned int c64, c128;

	setenv("KMEM_DEBUG", (const char *)arg, 1);
	kmem_init();			/* the class table is made here */
	c64 = kmalloc_size_class(64);
	c128 = kmalloc_size_class(128);
	fprintf(stderr, "64:%x 128:%x 32:%x\n",
		kmalloc_caches[c64]->flags & SLAB_DEBUG_FLAGS,
		kmalloc_caches[c128]->flags & SLAB_DEBUG_FLAGS,
		kmalloc_caches[kmalloc_size_class(32)]->flags & SLAB_DEBUG_FLAGS);
}

START_TEST(kmem_debug_letters_and_cache_lists)
{
	static char buf[4096];
	char want[128];
	unsigned int fzp = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE |
			   SLAB_POISON | SLAB_KMALLOC_SIZE;
	unsigned int all = fzp | SLAB_STORE_USER;

	expect_exit0(parse_flags, "FZPU", buf, "64:");
	kmem_snprintf(want, sizeof(want), "64:%x 128:%x 32:%x", all, all, all);
	ck_assert_msg(strstr(buf, want), "want %s: %s", want, buf);

	expect_exit0(parse_flags, "ZP,kmalloc-64", buf, "64:");
	kmem_snprintf(want, sizeof(want), "64:%x 128:0 32:0",
		      SLAB_RED_ZONE | SLAB_POISON | SLAB_KMALLOC_SIZE);
	ck_assert_msg(strstr(buf, want), "want %s: %s", want, buf);

	expect_exit0(parse_flags, "U,kmalloc-1*", buf, "64:");
	kmem_snprintf(want, sizeof(want), "64:0 128:%x 32:0",
		      SLAB_STORE_USER | SLAB_KMALLOC_SIZE);
	ck_assert_msg(strstr(buf, want), "want %s: %s", want, buf);

	expect_exit0(parse_flags, "1", buf, "64:");
	kmem_snprintf(want, sizeof(want), "64:%x 128:%x", fzp, fzp);
	ck_assert_msg(strstr(buf, want), "want %s: %s", want, buf);

	expect_exit0(parse_flags, "-", buf, "64:0 128:0 32:0");
}
END_TEST

/* Debug classes check every free, though their objects then wait in a
 * per-CPU cache of their own. */
static void every_free_checked(void *arg)
{
	char *p[64];

	setenv("KMEM_DEBUG", "Z", 1);
	for (int i = 0; i < 64; i++)
		p[i] = kmalloc(16, 0);
	for (int i = 0; i < 63; i++)
		kfree(p[i]);
	p[63][16] = 0;
	kfree(p[63]);
}

START_TEST(debug_classes_check_every_free)
{
	expect_abort(every_free_checked, NULL, "kmalloc-16",
		     "right red zone overwritten");
}
END_TEST

/* ---- behaviour of checked blocks ---- */

/* In a child: report what is wrong on stderr and exit with status st. */
#define CHILD_CHECK(cond, st, ...)                             \
	do {                                                   \
		if (!(cond)) {                                 \
			fprintf(stderr, "CHILD FAIL: " __VA_ARGS__); \
			fprintf(stderr, "\n");                 \
			_exit(st);                             \
		}                                              \
	} while (0)

/*
 * Freed objects of a debug class wait in a per-CPU cache, on no slab's
 * free list: kmem_cache_validate checks them as free objects (their state
 * word says so), a write into one is found there, and the leak report
 * does not count them.
 */
NOINLINE void *pcpu_site(void)
{
	return kmalloc(100, 0);
}

static void walks_see_cached_objects_free(void *arg)
{
	struct kmem_cache *c = NULL;
	char *p[40];
	int n;

	setenv("KMEM_DEBUG", "FZPU", 1);
	setenv("KMEM_ABORT", "0", 1);
	setenv("KMEM_LEAK_REPORT", "1", 1);
	for (int i = 0; i < 40; i++)
		p[i] = pcpu_site();
	c = kmalloc_caches[kmalloc_size_class(100)];
	for (int i = 0; i < 40; i++)
		kfree(p[i]);
	n = kmem_cache_validate(c);
	if (n != 0)
		_exit(10 + n);
	p[7][3] = 0x5a;			/* a write after free, in the cache */
	n = kmem_cache_validate(c);
	if (n != 1)
		_exit(20 + n);
	kfree(kmalloc(100, 0));
	exit(0);			/* the leak report: none of pcpu_site */
}

START_TEST(objects_in_debug_per_cpu_caches_are_free_to_walks)
{
	static char buf[16384];

	expect_exit0(walks_see_cached_objects_free, NULL, buf,
		     "poison overwritten (write after free) in cache "
		     "kmalloc-112", "found by kmem_cache_validate");
	ck_assert_msg(!strstr(buf, "bytes allocated at pcpu_site"),
		      "freed objects reported as leaks:\n%s", buf);
}
END_TEST

/* Objects handed between threads: each free is checked in the freeing
 * thread, the objects wander through its per-CPU cache and the depot, and
 * a double free and a write after free are still reported. */
static char *handed[256];

static void *free_handed(void *arg)
{
	for (int i = 0; i < 256; i++)
		kfree(handed[i]);
	return NULL;
}

static void cross_thread_debug(void *arg)
{
	pthread_t t;
	char *q;

	setenv("KMEM_DEBUG", "FZP", 1);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 256; i++) {
			handed[i] = kmalloc(48, 0);
			CHILD_CHECK(handed[i], 2, "kmalloc(48) failed");
			memset(handed[i], round, 48);
		}
		pthread_create(&t, NULL, free_handed, NULL);
		pthread_join(t, NULL);
	}
	CHILD_CHECK(kmem_cache_validate(kmalloc_caches[kmalloc_size_class(48)])
		    == 0, 3, "kmem_cache_validate found damage");
	q = kmalloc(48, 0);
	kfree(q);
	kfree(q);			/* aborts */
	_exit(4);
}

START_TEST(debug_objects_freed_by_other_threads_stay_checked)
{
	expect_abort(cross_thread_debug, NULL,
		     "double free (object is already free) in cache kmalloc-48");
}
END_TEST

/*
 * Two threads free the same block at the same instant, over and over.
 * The free hook claims a block with a plain store, so both may pass it;
 * the block is then in two free lists, and its second allocation finds
 * it live.  Either way the double free ends in a report.
 */
static char *volatile racing;
static _Atomic int race_go, race_done;

static void race_free_and_reuse(void)
{
	char *v[8];

	kfree(racing);
	for (int i = 0; i < 8; i++)
		v[i] = kmalloc(48, 0);
	for (int i = 0; i < 8; i++)
		kfree(v[i]);
}

static void *race_partner(void *arg)
{
	for (int round = 1;; round++) {
		while (atomic_load(&race_go) != round)
			;
		race_free_and_reuse();
		atomic_store(&race_done, round);
	}
	return NULL;
}

static void racing_double_free(void *arg)
{
	pthread_t t;

	setenv("KMEM_DEBUG", "F", 1);
	pthread_create(&t, NULL, race_partner, NULL);
	for (int round = 1; round <= 100000; round++) {
		racing = kmalloc(48, 0);
		CHILD_CHECK(racing, 2, "kmalloc(48) failed");
		atomic_store(&race_go, round);
		race_free_and_reuse();
		while (atomic_load(&race_done) != round)
			;
	}
	_exit(4);			/* never reported */
}

START_TEST(double_frees_racing_on_two_threads_are_reported)
{
	expect_abort(racing_double_free, NULL, "double free",
		     "in cache kmalloc-48");
}
END_TEST

static void checked_blocks_behave(void *arg)
{
	char *p, *q;
	int nonzero = 0;

	setenv("KMEM_DEBUG", "FZPU", 1);
	p = kzalloc(40, 0);
	CHILD_CHECK(p, 2, "kzalloc(40) failed");
	for (int i = 0; i < 40; i++)
		nonzero += p[i] != 0;
	CHILD_CHECK(!nonzero, 2, "kzalloc(40): %d bytes not zero", nonzero);
	/* Exactly the requested size. */
	CHILD_CHECK(ksize(p) == 40, 3, "ksize = %zu, not 40", ksize(p));
	memset(p, 7, 40);
	q = krealloc(p, 44, 0);		/* same class, but a checked block
					 * moves and gets its new red zone */
	CHILD_CHECK(q && q != p, 4, "krealloc(44) stayed in place (%p)",
		    (void *)q);
	CHILD_CHECK(q[39] == 7, 4, "krealloc lost the contents");
	CHILD_CHECK(ksize(q) == 44, 4, "ksize after krealloc = %zu, not 44",
		    ksize(q));
	q[43] = 1;			/* the last byte is ours */
	kfree(q);
	CHILD_CHECK(kmem_cache_validate(kmalloc_caches[kmalloc_size_class(44)])
		    == 0, 5, "kmem_cache_validate found damage");
	fprintf(stderr, "checked blocks: zeroed, exact size, moved by "
		"krealloc, valid\n");
}

START_TEST(checked_blocks_keep_size_zeroing_and_realloc_right)
{
	static char buf[4096];

	expect_exit0(checked_blocks_behave, NULL, buf,
		     "checked blocks: zeroed, exact size, moved by krealloc, "
		     "valid");
	ck_assert_msg(!strstr(buf, "ERROR"), "%s", buf);
}
END_TEST

/* ---- quarantine ---- */

static void quarantine_delays_reuse(void *arg)
{
	char *p, *q;

	setenv("KMEM_DEBUG", "P", 1);
	setenv("KMEM_QUARANTINE", "64k", 1);
	p = kmalloc(64, 0);
	kfree(p);
	q = kmalloc(64, 0);
	if (q == p)			/* without quarantine: LIFO reuse */
		_exit(2);
	kfree(q);
	p[5] = 'u';			/* use after free, while quarantined */
	for (int i = 0; i < 2000; i++)	/* push p out of the quarantine */
		kfree(kmalloc(64, 0));
	kmem_cache_validate(kmalloc_caches[kmalloc_size_class(64)]);
}

START_TEST(quarantine_delays_reuse_and_poison_still_catches_the_write)
{
	expect_abort(quarantine_delays_reuse, NULL,
		     "poison overwritten (write after free) in cache kmalloc-64",
		     "offset 5 in the object");
}
END_TEST

static void quarantine_double_free(void *arg)
{
	char *p;

	setenv("KMEM_QUARANTINE", "64k", 1);
	p = kmalloc(64, 0);
	kfree(p);
	kfree(p);			/* p is in the quarantine */
}

START_TEST(double_free_into_the_quarantine_is_reported_at_once)
{
	expect_abort(quarantine_double_free, NULL,
		     "double free (object is already free) in cache kmalloc-64");
}
END_TEST

static Suite *debug_suite(void)
{
	Suite *s = suite_create("debug");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, one_byte_overflow_of_a_malloc_block_is_reported);
	tcase_add_test(tc, one_byte_underflow_is_reported);
	tcase_add_test(tc, an_overflow_past_the_red_zone_leaves_the_call_sites_intact);
	tcase_add_test(tc, a_write_into_a_free_objects_free_pointer_is_reported);
	tcase_add_test(tc, write_after_free_is_reported_at_the_next_allocation);
	tcase_add_test(tc, double_free_of_a_malloc_block_is_reported);
	tcase_add_test(tc, double_free_found_on_the_free_list_with_poison_only);
	tcase_add_test(tc, invalid_frees_are_reported_with_and_without_debug);
	tcase_add_test(tc, continue_mode_reports_once_restores_and_goes_on);
	tcase_add_test(tc, validate_finds_damage_in_live_and_free_objects);
	tcase_add_test(tc, kmem_validate_checks_the_heap_at_exit);
	tcase_add_test(tc, leak_report_groups_live_objects_by_call_site);
	tcase_add_test(tc, kmem_debug_letters_and_cache_lists);
	tcase_add_test(tc, debug_classes_check_every_free);
	tcase_add_test(tc, objects_in_debug_per_cpu_caches_are_free_to_walks);
	tcase_add_test(tc, debug_objects_freed_by_other_threads_stay_checked);
	tcase_add_test(tc, double_frees_racing_on_two_threads_are_reported);
	tcase_add_test(tc, checked_blocks_keep_size_zeroing_and_realloc_right);
	tcase_add_test(tc, quarantine_delays_reuse_and_poison_still_catches_the_write);
	tcase_add_test(tc, double_free_into_the_quarantine_is_reported_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(debug_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
