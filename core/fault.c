/* SPDX-License-Identifier: MIT */
/*
 * core/fault.c - kmem's SIGSEGV handler: a fault on a guard page that
 * kmem put there becomes a report naming the block.
 *
 * Layer: top of core/ beside init.c (which installs it); asks kfence.c
 * (the sampled guard pool) and vmalloc_report.c (the guard pages around
 * every large area) whether the faulting address is theirs.  Owns nothing
 * but the installation.
 *
 * Installed at init (KMEM_FAULT_REPORT, default on), only if SIGSEGV
 * still has its default disposition: a program's own handler, installed
 * before or after, always wins.  On a fault that is not kmem's, or once
 * the report is printed, the handler puts the default disposition back
 * and returns: the access faults again and the process dies of SIGSEGV
 * as it would have, core dump included.  With KMEM_ABORT=1 (the default)
 * a kmem report aborts instead, as every other kmem report does.
 * KMEM_ABORT=0 on a sampled block: the page is opened and the program
 * continues, as the kernel's KFENCE does.
 *
 * Signal safety: the reports use only what is safe in a handler (printk
 * writes with write(2); the stack walk and dladdr do not allocate), and
 * vmalloc's lookup waits for its lock a bounded time.
 */
#include "fault.h"

#include <signal.h>
#include <ucontext.h>

#include "kfence.h"
#include "options.h"
#include "os.h"
#include "stacktrace.h"
#include "vmalloc.h"

static void fault_handler(int sig, void *info, void *ucontext)
{
	siginfo_t *si = info;
	ucontext_t *uc = ucontext;
	uintptr_t addr = (uintptr_t)si->si_addr;
	/* x86-64 page-fault error code: bit 1 set for a write. */
	bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
	unsigned long pc = (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
	bool ours;

	(void)sig;
	if (si->si_code <= 0) {
		/* Sent (kill, raise, sigqueue), not a fault: si_addr means
		 * nothing.  The default action, as without kmem: returning
		 * alone would swallow the signal. */
		os_signal_default(SIGSEGV);
		os_signal_resend(SIGSEGV);
		return;
	}
	ours = kfence_handle_fault(addr, write, pc);
	if (ours && !kmem_opt(OPT_ABORT)) {
		/* Report and continue: open the page (KFENCE does). */
		os_mprotect((void *)(addr & ~(PAGE_SIZE - 1)), PAGE_SIZE,
			    OS_PROT_RW);
		return;
	}
	if (!ours && vmalloc_handle_fault(addr, write)) {
		unsigned long ips[KMEM_STACK_MAX];
		unsigned int n = kmem_stack_capture_from(ips, 32, pc);

		kmem_pr_err("  at (thread %d):", os_gettid());
		kmem_stack_print(2, "kmem:     ", ips, n);
		ours = true;
	}
	if (ours)
		kmem_report_end();	/* aborts (KMEM_ABORT=1) */
	os_signal_default(SIGSEGV);	/* the access faults again */
}

void fault_init(void)
{
	if (kmem_opt(OPT_FAULT_REPORT))
		os_signal_install(SIGSEGV, fault_handler, true);
}

bool fault_handler_installed(void)
{
	return os_signal_is(SIGSEGV, fault_handler);
}
