/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_stacktrace.c - kmem_stack_capture and its printing.
 *
 * The stack is walked through known frames (noinline functions, named by
 * dladdr: the tests link with -rdynamic), with `skip`, through a frame
 * whose %rbp holds garbage (a frame-pointer walk would dereference it and
 * fault), through a signal frame, with a depth limit, and in bounded time.
 */
#include <check.h>
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "os.h"
#include "stacktrace.h"

#define NFR 32

static unsigned long ips[KMEM_STACK_MAX];
static unsigned int nips;

/* The name dladdr gives the function holding return address ip. */
static const char *frame_name(unsigned long ip)
{
	Dl_info info;

	if (!dladdr((void *)(ip - 1), &info) || !info.dli_sname)
		return "?";
	return info.dli_sname;
}

/* Index of the first frame in function name, or -1. */
static int find_frame(const char *name)
{
	for (unsigned int i = 0; i < nips; i++)
		if (!strcmp(frame_name(ips[i]), name))
			return (int)i;
	return -1;
}

static unsigned int skip_arg;

__attribute__((noinline)) void st_level_c(void)
{
	nips = kmem_stack_capture(ips, NFR, skip_arg);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

__attribute__((noinline)) void st_level_b(void)
{
	st_level_c();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void st_level_a(void)
{
	st_level_b();
	__asm__ volatile("" ::: "memory");
}

START_TEST(captures_the_callers_innermost_first)
{
	skip_arg = 0;
	st_level_a();
	ck_assert_uint_ge(nips, 4);
	/* ips[0] is the return address into the caller of the capture. */
	ck_assert_str_eq(frame_name(ips[0]), "st_level_c");
	ck_assert_str_eq(frame_name(ips[1]), "st_level_b");
	ck_assert_str_eq(frame_name(ips[2]), "st_level_a");
	ck_assert_int_ge(find_frame("main"), 3);
	ck_assert_int_lt(find_frame("kmem_stack_capture"), 0);
}
END_TEST

START_TEST(skip_leaves_out_frames)
{
	skip_arg = 1;
	st_level_a();
	ck_assert_uint_ge(nips, 3);
	ck_assert_str_eq(frame_name(ips[0]), "st_level_b");
	skip_arg = 0;
}
END_TEST

START_TEST(max_bounds_the_frames)
{
	unsigned long few[2];

	ck_assert_uint_eq(kmem_stack_capture(few, 2, 0), 2);
	ck_assert_uint_eq(kmem_stack_capture(few, 0, 0), 0);
}
END_TEST

/*
 * garbage_rbp_call(fn): call fn with %rbp = 0x10, as code compiled without
 * frame pointers may leave it (rbp is a general register there).  Its
 * unwind information is right, as a compiler would emit it.
 */
void garbage_rbp_call(void (*fn)(void));
__asm__(".text\n"
	".globl garbage_rbp_call\n"
	".type garbage_rbp_call, @function\n"
	"garbage_rbp_call:\n"
	".cfi_startproc\n"
	"push %rbp\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %rbp, 0\n"
	"mov $0x10, %rbp\n"
	"call *%rdi\n"
	"pop %rbp\n"
	".cfi_adjust_cfa_offset -8\n"
	".cfi_restore %rbp\n"
	"ret\n"
	".cfi_endproc\n"
	".size garbage_rbp_call, .-garbage_rbp_call\n");

__attribute__((noinline)) void st_through_garbage_rbp(void)
{
	skip_arg = 0;
	garbage_rbp_call(st_level_c);
	__asm__ volatile("" ::: "memory");
}

START_TEST(walks_frames_without_frame_pointers)
{
	st_through_garbage_rbp();
	ck_assert_str_eq(frame_name(ips[0]), "st_level_c");
	ck_assert_str_eq(frame_name(ips[1]), "garbage_rbp_call");
	ck_assert_int_eq(find_frame("st_through_garbage_rbp"), 2);
	ck_assert_int_ge(find_frame("main"), 3);
}
END_TEST

void on_signal(int sig);
void on_signal(int sig)
{
	(void)sig;
	skip_arg = 0;
	st_level_c();
}

__attribute__((noinline)) void st_raiser(void)
{
	raise(SIGUSR1);
	__asm__ volatile("" ::: "memory");
}

START_TEST(walks_through_a_signal_frame)
{
	signal(SIGUSR1, on_signal);
	st_raiser();
	signal(SIGUSR1, SIG_DFL);
	ck_assert_str_eq(frame_name(ips[1]), "on_signal");
	ck_assert_int_gt(find_frame("st_raiser"), 0);
	ck_assert_int_gt(find_frame("main"), find_frame("st_raiser"));
}
END_TEST

__attribute__((noinline)) unsigned int st_recurse(int depth)
{
	unsigned int r;

	if (depth == 0)
		return kmem_stack_capture(ips, KMEM_STACK_MAX, 0);
	r = st_recurse(depth - 1);
	__asm__ volatile("" ::: "memory");
	return r;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

START_TEST(deep_stacks_are_cut_at_the_limit_in_bounded_time)
{
	double best = 1e9;

	ck_assert_uint_eq(st_recurse(200), KMEM_STACK_MAX);
	for (int i = 0; i < 20; i++) {
		double t0 = now_us();

		st_recurse(200);
		best = MIN(best, now_us() - t0);
	}
	printf("  %u frames in %.1f us (best of 20)\n", KMEM_STACK_MAX, best);
	ck_assert(best < 2000.0);
}
END_TEST

START_TEST(symbolize_and_print)
{
	char buf[256], out[4096];
	int fds[2];
	ssize_t n;

	skip_arg = 0;
	st_level_a();
	kmem_stack_symbolize(buf, sizeof(buf), ips[0]);
	ck_assert_msg(!strncmp(buf, "st_level_c+0x", 13), "got %s", buf);
	ck_assert_msg(strchr(buf, '/') && strstr(buf, "(test_stacktrace)"),
		      "got %s", buf);
	kmem_stack_symbolize(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "0x0");
	ck_assert_int_eq(pipe(fds), 0);
	kmem_stack_print(fds[1], "  ", ips, 2);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	ck_assert_int_gt(n, 0);
	out[n] = '\0';
	ck_assert_msg(strstr(out, "  #0 0x") && strstr(out, " st_level_c+0x") &&
		      strstr(out, "\n  #1 0x") && strstr(out, " st_level_b+0x"),
		      "got %s", out);
	close(fds[0]);
}
END_TEST

/* os_in_runtime: the C library's and the loader's code, where a slow
 * half must not start the purge thread, and nothing else.  A libc
 * function no sanitizer intercepts, and the loader's entry point. */
START_TEST(runtime_code_is_told_from_the_programs)
{
	const char *(*volatile libc_fn)(void) = gnu_get_libc_version;
	uintptr_t ldso = (uintptr_t)getauxval(AT_BASE);
	uintptr_t ldso_entry = ldso + ((const ElfW(Ehdr) *)ldso)->e_entry;

	ck_assert(!os_in_runtime((uintptr_t)libc_fn));	/* not noted yet */
	os_note_runtime();
	ck_assert(os_in_runtime((uintptr_t)libc_fn));
	ck_assert(os_in_runtime(ldso_entry));
	ck_assert(!os_in_runtime((uintptr_t)os_in_runtime));	/* kmem's */
	ck_assert(!os_in_runtime((uintptr_t)&ldso));	/* the stack */
	ck_assert(!os_in_runtime(0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stacktrace");
	TCase *tc = tcase_create("capture");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, captures_the_callers_innermost_first);
	tcase_add_test(tc, skip_leaves_out_frames);
	tcase_add_test(tc, max_bounds_the_frames);
	tcase_add_test(tc, walks_frames_without_frame_pointers);
	tcase_add_test(tc, walks_through_a_signal_frame);
	tcase_add_test(tc, deep_stacks_are_cut_at_the_limit_in_bounded_time);
	tcase_add_test(tc, symbolize_and_print);
	tcase_add_test(tc, runtime_code_is_told_from_the_programs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
