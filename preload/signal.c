/* SPDX-License-Identifier: MIT */
/*
 * preload/signal.c - the program's sigaction and signal: its handlers
 * never run while this thread holds a kmem lock.
 *
 * Layer: preload/ (top).  Calls os.h (glibc's own sigaction, the signal
 * mask and queue system calls) and options.h; core/ knows nothing of it
 * but the two per-thread words of internal.h (kmem_locks_held,
 * kmem_sig_deferred) that kmem_lock and kmem_unlock keep.
 *
 * Why.  A handler that interrupts kmem while the interrupted code holds
 * one of kmem's locks cannot take that lock: core/ copes (kmem_lock_safe
 * gives up and the atomic reserve serves, a fork from the handler skips
 * the locks its own thread holds), but two threads whose handlers fork
 * at once, each interrupted with a lock that the other's fork needs,
 * cannot both finish: each waits for the other's handler to return.
 * tests/progs/fork_signal hung so about once in 30 runs.  So the handler
 * waits instead, as the kernel holds interrupts off while a spin lock is
 * held: the handlers a program installs with sigaction or signal are
 * wrapped by signal_trampoline, which runs them at once unless this
 * thread holds a kmem lock.  Then it queues the signal again to this
 * thread with its siginfo (rt_tgsigqueueinfo), blocked both now and in
 * the context it returns to, and notes it in kmem_sig_deferred; the
 * kmem_unlock that releases the thread's last lock unblocks it
 * (os_signal_replay) and the kernel delivers it there, a few hundred
 * nanoseconds late, with the siginfo it came with.  Faults (SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS sent by the kernel) are never
 * deferred: returning would only fault again.  KMEM_DEFER_SIGNALS=0 runs
 * every handler at once, as before.
 *
 * What the program sees is unchanged: sigaction reports its own handler
 * and flags (the mask and the kernel's flags as the kernel has them, so
 * glibc's siginterrupt, which rewrites the kernel's action in place,
 * stays right), SA_RESETHAND is done here (the kernel would reset the
 * trampoline's action before a deferred signal came back), SIG_DFL and
 * SIG_IGN go to the kernel as they are.  A handler installed past this
 * file (the raw system call, glibc's __sigaction or sysv_signal) runs
 * unwrapped, as it would without kmem.
 *
 * Locks: table_lock, a spin lock taken with every signal blocked (so a
 * handler never interrupts its holder), serialises sigaction calls; the
 * trampoline reads an entry under its sequence count.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "preload.h"

#include "options.h"
#include "os.h"

#define NR_SIGNALS 64		/* the kernel's: 1 .. 64 */

/* The program's action for one signal, as it gave it. */
struct user_action {
	_Atomic uint32_t seq;		/* odd while being rewritten */
	_Atomic uintptr_t handler;	/* sa_handler / sa_sigaction */
	_Atomic int flags;		/* its sa_flags */
};

static struct user_action actions[NR_SIGNALS + 1];
static _Atomic bool table_lock;
/* The process whose table it is.  A vfork child (Python's subprocess,
 * which resets every handler before its exec) shares the parent's
 * memory: its calls must not rewrite the parent's table, so a process
 * that does not own it passes its calls straight to glibc. */
static _Atomic int owner_pid __fork_data;

void signal_fork_child(void)
{
	atomic_store_explicit(&owner_pid, os_getpid(), memory_order_relaxed);
}

static bool table_is_mine(void)
{
	int me = os_getpid(), owner = 0;

	return atomic_compare_exchange_strong(&owner_pid, &owner, me) ||
	       owner == me;
}

static void signal_trampoline(int sig, siginfo_t *info, void *ucontext);

static bool is_fault(int sig, const siginfo_t *info)
{
	switch (sig) {
	case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
	case SIGSYS:
		return info->si_code > 0;	/* sent by the kernel */
	default:
		return false;
	}
}

static void read_action(int sig, uintptr_t *handler, int *flags)
{
	struct user_action *a = &actions[sig];
	uint32_t seq;

	do {
		while ((seq = atomic_load_explicit(&a->seq,
						   memory_order_acquire)) & 1)
			__builtin_ia32_pause();
		*handler = atomic_load_explicit(&a->handler,
						memory_order_relaxed);
		*flags = atomic_load_explicit(&a->flags, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
	} while (atomic_load_explicit(&a->seq, memory_order_relaxed) != seq);
}

/* Under table_lock. */
static void write_action(int sig, uintptr_t handler, int flags)
{
	struct user_action *a = &actions[sig];
	uint32_t seq = atomic_load_explicit(&a->seq, memory_order_relaxed);

	atomic_store_explicit(&a->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&a->handler, handler, memory_order_relaxed);
	atomic_store_explicit(&a->flags, flags, memory_order_relaxed);
	atomic_store_explicit(&a->seq, seq + 2, memory_order_release);
}

/* Every signal blocked (the old mask in *saved), then table_lock. */
static void table_enter(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	while (atomic_exchange_explicit(&table_lock, true,
					memory_order_acquire))
		__builtin_ia32_pause();
}

static void table_leave(const sigset_t *saved)
{
	atomic_store_explicit(&table_lock, false, memory_order_release);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

static void signal_trampoline(int sig, siginfo_t *info, void *ucontext)
{
	ucontext_t *uc = ucontext;
	uintptr_t handler;
	int flags;

	if (unlikely(kmem_locks_held) && !is_fault(sig, info) &&
	    kmem_opt(OPT_DEFER_SIGNALS) && os_signal_defer(sig, info)) {
		sigaddset(&uc->uc_sigmask, sig);
		return;
	}
	read_action(sig, &handler, &flags);
	if (handler == (uintptr_t)SIG_IGN)
		return;
	if (handler == (uintptr_t)SIG_DFL) {
		/* Changed to the default while this one was on its way. */
		os_signal_default(sig);
		if (!is_fault(sig, info))
			os_signal_resend(sig);
		return;
	}
	if (flags & SA_RESETHAND) {
		sigset_t saved;

		table_enter(&saved);
		if (table_is_mine())	/* not a vfork child's to change */
			write_action(sig, (uintptr_t)SIG_DFL, 0);
		os_signal_default(sig);
		table_leave(&saved);
	}
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))handler)(sig, info,
							      ucontext);
	else
		((void (*)(int))handler)(sig);
}

/* The action of sig as the program gave it: the kernel's, with the
 * program's handler, SA_SIGINFO and SA_RESETHAND where the kernel has the
 * trampoline (the mask and the other flags are the kernel's).  0, or -1
 * with errno set. */
static int query_action(int sig, struct sigaction *k)
{
	uintptr_t handler;
	int flags;

	if (os_sigaction(sig, NULL, k))
		return -1;
	if ((k->sa_flags & SA_SIGINFO) &&
	    k->sa_sigaction == signal_trampoline) {
		read_action(sig, &handler, &flags);
		k->sa_sigaction = (void (*)(int, siginfo_t *, void *))handler;
		k->sa_flags = (k->sa_flags & ~(SA_SIGINFO | SA_RESETHAND)) |
			      (flags & (SA_SIGINFO | SA_RESETHAND));
	}
	return 0;
}

static bool wrappable(int sig)
{
	return sig >= 1 && sig <= NR_SIGNALS && sig != SIGKILL &&
	       sig != SIGSTOP;
}

KMEM_EXPORT int sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	struct sigaction k, wrapped;
	uintptr_t prev_handler;
	int prev_flags, r = 0, err = 0;
	sigset_t saved;

	if (!wrappable(sig))
		return os_sigaction(sig, act, old);
	if (!table_is_mine()) {
		/* A vfork child: the kernel's action is its own, the table
		 * the parent's.  What it installs runs unwrapped. */
		if (old && query_action(sig, &k))
			return -1;
		r = os_sigaction(sig, act, NULL);
		if (!r && old)
			*old = k;
		return r;
	}
	table_enter(&saved);
	read_action(sig, &prev_handler, &prev_flags);
	if (old && (r = query_action(sig, &k))) {
		err = errno;
		goto out;
	}
	if (act) {
		uintptr_t h = (uintptr_t)act->sa_handler;

		write_action(sig, h, act->sa_flags);
		if (h == (uintptr_t)SIG_DFL || h == (uintptr_t)SIG_IGN) {
			r = os_sigaction(sig, act, NULL);
		} else {
			wrapped = *act;
			wrapped.sa_sigaction = signal_trampoline;
			wrapped.sa_flags = (act->sa_flags | SA_SIGINFO) &
					   ~SA_RESETHAND;
			r = os_sigaction(sig, &wrapped, NULL);
		}
		if (r) {	/* refused (a signal glibc keeps): as it was */
			err = errno;
			write_action(sig, prev_handler, prev_flags);
			goto out;
		}
	}
	if (old)
		*old = k;
out:
	table_leave(&saved);
	if (r)
		errno = err;
	return r;
}

/* glibc's signal(): BSD semantics (the handler stays, SA_RESTART, the
 * signal blocked while its handler runs). */
KMEM_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction sa, old;

	if (handler == SIG_ERR || !wrappable(sig)) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

KMEM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return signal(sig, handler);
}
