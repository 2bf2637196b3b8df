/* SPDX-License-Identifier: MIT */
/*
 * core/stacktrace.c - call stacks without allocating: kmem_stack_capture
 * and their symbolisation at print time.
 *
 * Layer: utility beside printk.c, usable from every layer (profile.c
 * records a stack per heap sample; debug reports may print full stacks).
 * Owns one TLS flag (a capture is running on this thread).  May call
 * libgcc's unwinder, dladdr (printing only) and printk.c.  No locks of its
 * own; takes no kmem lock.
 *
 * Why libgcc's _Unwind_Backtrace, linked directly (libgcc_eh, linked
 * into libkmem.so with its symbols hidden, so that a program that never
 * loads libgcc_s is not made to: about 70 KiB of resident memory; in a
 * static link the driver's libgcc_eh):
 *
 *   - it unwinds by the DWARF call-frame information (.eh_frame) that
 *     Debian builds into every object (-fasynchronous-unwind-tables is
 *     GCC's default on x86-64), so frames compiled without frame pointers
 *     (nearly all of Debian's libraries and most programs at -O2) are
 *     walked correctly.  A frame-pointer walk stops, or with strict
 *     validation gives up, at the first such frame: heap profiles of
 *     ordinary programs would have one or two frames.  A frame without
 *     unwind information (JIT code) ends the walk cleanly: the unwinder
 *     finds no FDE and returns _URC_END_OF_STACK; it does not guess
 *     through %rbp and so never dereferences a frame pointer that holds
 *     data.
 *   - it does not allocate: with glibc 2.35 and later (Debian 12 has
 *     2.36) libgcc 12 finds the FDE of a pc with _dl_find_object, which is
 *     lock-free and async-signal-safe; no dl_iterate_phdr, no loader lock.
 *     The one path of libgcc that mallocs is the sorting of frame tables
 *     registered with __register_frame_info (JIT compilers); the
 *     re-entrancy flag below turns a capture started by that malloc into
 *     an empty one instead of a recursion.
 *   - glibc's backtrace() is the same unwinder behind a dlopen of
 *     libgcc_s on first use (which mallocs): unusable inside malloc.
 *     libunwind would add a dependency and its own memory pools.
 *
 * Bounded: at most `max` (<= KMEM_STACK_MAX) frames; each frame is a
 * binary search in the object's .eh_frame_hdr table and the
 * interpretation of a short CFA program (about 100-300 ns a frame here).
 * The limit also ends a cycle in a corrupted stack.  What the unwinder
 * cannot protect against is a stack overwritten by the program itself
 * (a saved register turned into garbage within valid unwind rules); heap
 * corruption, which debug reports are about, does not touch the stack.
 *
 * Symbolisation uses dladdr1 (no allocation), at print time only: it
 * names exported symbols (the whole program with -rdynamic) and otherwise
 * prints the module and the offset in it, which addr2line and pprof turn
 * into names from the file's symbol table.
 */
#include "stacktrace.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unwind.h>

#include "os.h"

static __thread unsigned char capturing
	__attribute__((tls_model("initial-exec")));

struct walk {
	unsigned long *ips;
	unsigned int max;
	unsigned int n;
	unsigned int skip;
};

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	unsigned long ip = (unsigned long)_Unwind_GetIP(ctx);

	if (!ip)
		return _URC_END_OF_STACK;
	if (w->skip) {
		w->skip--;
		return _URC_NO_REASON;
	}
	w->ips[w->n++] = ip;
	return w->n >= w->max ? _URC_NORMAL_STOP : _URC_NO_REASON;
}

__noinline unsigned int kmem_stack_capture(unsigned long *ips,
					   unsigned int max, unsigned int skip)
{
	/* The first frame the unwinder reports is this function's. */
	struct walk w = { ips, MIN(max, (unsigned int)KMEM_STACK_MAX), 0,
			  skip + 1 };

	if (!w.max || capturing)
		return 0;
	capturing = 1;
	barrier();
	_Unwind_Backtrace(walk_frame, &w);
	barrier();
	capturing = 0;
	return w.n;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void kmem_stack_symbolize(char *buf, size_t len, unsigned long ip)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	/* ip - 1: a return address may be past the end of a function that
	 * ends with a call (noreturn). */
	if (!ip || !dladdr1((void *)(ip - 1), &info, (void **)&sym,
			    RTLD_DL_SYMENT) || !info.dli_fname) {
		kmem_snprintf(buf, len, "0x%lx", ip);
		return;
	}
	if (info.dli_sname && info.dli_saddr) {
		unsigned long off = ip - (unsigned long)info.dli_saddr;

		if (sym && sym->st_size)
			kmem_snprintf(buf, len, "%s+0x%lx/0x%lx (%s)",
				      info.dli_sname, off,
				      (unsigned long)sym->st_size,
				      base_name(info.dli_fname));
		else
			kmem_snprintf(buf, len, "%s+0x%lx (%s)", info.dli_sname,
				      off, base_name(info.dli_fname));
		return;
	}
	kmem_snprintf(buf, len, "%s+0x%lx", base_name(info.dli_fname),
		      ip - (unsigned long)info.dli_fbase);
}

void kmem_stack_print(int fd, const char *prefix, const unsigned long *ips,
		      unsigned int n)
{
	char sym[256];

	for (unsigned int i = 0; i < n; i++) {
		kmem_stack_symbolize(sym, sizeof(sym), ips[i]);
		kmem_dprintf(fd, "%s#%u 0x%lx %s\n", prefix ? prefix : "", i,
			     ips[i], sym);
	}
}

unsigned int kmem_stack_capture_from(unsigned long *ips, unsigned int max,
				     unsigned long ip)
{
	unsigned int n = kmem_stack_capture(ips, max, 1), i;

	for (i = 0; ip && i < n; i++)
		if (ips[i] == ip) {
			memmove(ips, ips + i, (n - i) * sizeof(*ips));
			return n - i;
		}
	return n;
}

unsigned int kmem_stack_capture_user(unsigned long *ips, unsigned int max)
{
	unsigned int n = kmem_stack_capture(ips, max, 1), i = 0;
	Dl_info self, info;

	if (!dladdr((void *)kmem_stack_capture_user, &self))
		return n;
	while (i < n && dladdr((void *)ips[i], &info) &&
	       info.dli_fbase == self.dli_fbase)
		i++;
	if (i == n)	/* kmem is linked into the program: keep it all */
		return n;
	memmove(ips, ips + i, (n - i) * sizeof(*ips));
	return n - i;
}

void kmem_stack_print_here(const char *what)
{
	unsigned long ips[KMEM_STACK_MAX];
	unsigned int n = kmem_stack_capture_user(ips, 32);

	if (!n)
		return;
	kmem_pr_err("  %s (thread %d):", what, os_gettid());
	kmem_stack_print(2, "kmem:     ", ips, n);
}
