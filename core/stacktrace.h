/* SPDX-License-Identifier: MIT */
/*
 * core/stacktrace.h - call stacks that are safe to take inside malloc:
 * the contract of stacktrace.c with profile.c and debug.c.
 *
 * kmem_stack_capture() never allocates, takes no kmem lock, makes no
 * system call and is bounded (at most `max` frames, each one lookup in a
 * sorted table): it can run on any allocation path, with or without kmem
 * locks held.  It is re-entrancy safe: a capture that would start while
 * another one runs on the same thread (the unwinder calling malloc, which
 * samples) returns 0 frames at once.  Printing (symbolisation) is a
 * separate step, done when a report or a profile is written.
 */
#ifndef KMEM_STACKTRACE_H
#define KMEM_STACKTRACE_H

#include "internal.h"

/* Frames a profile sample or a debug report keeps at most. */
#define KMEM_STACK_MAX 64

/*
 * Fill ips[0..max) with the return addresses of the calling thread's
 * stack, innermost first, leaving out `skip` frames above the caller (0:
 * ips[0] is in the caller of kmem_stack_capture).  Returns how many were
 * stored (0 if none could be, or if a capture is already running on this
 * thread).
 */
unsigned int kmem_stack_capture(unsigned long *ips, unsigned int max,
				unsigned int skip) __hidden;

/*
 * The same from the frame that returns to ip outwards (ip: the return
 * address of the program's call into kmem, as the malloc entry points
 * pass it down): kmem's own frames are left out, however deep the path
 * that took the stack.  Everything if ip is 0 or not on the stack.
 */
unsigned int kmem_stack_capture_from(unsigned long *ips, unsigned int max,
				     unsigned long ip) __hidden;

/* The same without kmem's own frames (those of the module kmem is in,
 * found with dladdr: for reports, not for hot paths). */
unsigned int kmem_stack_capture_user(unsigned long *ips,
				     unsigned int max) __hidden;
/* "  <what> (thread N):" and this thread's stack, kmem's frames left
 * out: the last lines of a report. */
void kmem_stack_print_here(const char *what) __hidden;

/*
 * "sym+0x12/0x40 (module)" for a return address, else "module+0x1234",
 * else "0x...".  Uses dladdr (no allocation; the dynamic loader's lock):
 * call it where a report is printed, not with a kmem lock held if that can
 * be avoided.  Only exported (dynamic) symbols have names: programs linked
 * with -rdynamic show all of theirs.
 */
void kmem_stack_symbolize(char *buf, size_t len, unsigned long ip) __hidden;

/* One line per frame to fd: "<prefix>#<i> 0x<ip> <symbolized>\n". */
void kmem_stack_print(int fd, const char *prefix, const unsigned long *ips,
		      unsigned int n) __hidden;

#endif /* KMEM_STACKTRACE_H */
