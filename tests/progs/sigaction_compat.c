/* SPDX-License-Identifier: MIT */
/*
 * tests/progs/sigaction_compat.c - what a program sees of sigaction and
 * signal is the same with kmem as without: kmem wraps the handlers
 * (preload/signal.c), but sigaction reports the program's own handler,
 * flags and mask, SA_SIGINFO handlers get their siginfo (a sigqueue
 * value), SA_RESETHAND resets, signal() returns the previous handler,
 * SIG_IGN and SIG_DFL are what the kernel has, SIGKILL and glibc's own
 * signals are refused.  Runs the same checks under glibc (the script
 * compares).  Prints "sigaction_compat: ok" and exits 0, else says what
 * differed and exits 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got, got_value, got_code;
static int failures;

#define CHECK(cond, ...)                                \
	do {                                            \
		if (!(cond)) {                          \
			printf("sigaction_compat: ");   \
			printf(__VA_ARGS__);            \
			printf("\n");                   \
			failures++;                     \
		}                                       \
	} while (0)

static void plain(int sig)
{
	(void)sig;
	got++;
}

static void with_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got++;
	got_value = si->si_value.sival_int;
	got_code = si->si_code;
}

int main(void)
{
	struct sigaction sa, old;
	union sigval v = { .sival_int = 4242 };

	free(malloc(100));		/* kmem is up */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction(SIGUSR1) failed");
	CHECK(sigaction(SIGUSR1, NULL, &old) == 0, "query failed");
	CHECK(old.sa_handler == plain, "the handler reported is not ours");
	CHECK(!(old.sa_flags & SA_SIGINFO), "SA_SIGINFO reported, not given");
	CHECK(old.sa_flags & SA_RESTART, "SA_RESTART lost");
	CHECK(sigismember(&old.sa_mask, SIGUSR2), "sa_mask lost");
	raise(SIGUSR1);
	CHECK(got == 1, "the handler did not run (%d)", (int)got);

	sa.sa_sigaction = with_info;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGUSR2, &sa, &old) == 0, "sigaction(SIGUSR2) failed");
	CHECK(old.sa_handler == SIG_DFL, "SIGUSR2 was not SIG_DFL before");
	sigqueue(getpid(), SIGUSR2, v);
	CHECK(got == 2 && got_value == 4242 && got_code == SI_QUEUE,
	      "siginfo: ran %d, value %d, code %d", (int)got, (int)got_value,
	      (int)got_code);
	CHECK(sigaction(SIGUSR2, NULL, &old) == 0 &&
	      old.sa_sigaction == with_info && (old.sa_flags & SA_SIGINFO),
	      "the SA_SIGINFO handler is not reported");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGWINCH, &sa, NULL);
	CHECK(sigaction(SIGWINCH, NULL, &old) == 0 &&
	      (old.sa_flags & SA_RESETHAND), "SA_RESETHAND not reported");
	raise(SIGWINCH);
	sigaction(SIGWINCH, NULL, &old);
	CHECK(got == 3 && old.sa_handler == SIG_DFL,
	      "SA_RESETHAND: ran %d, handler %p after", (int)got,
	      (void *)old.sa_handler);
	raise(SIGWINCH);		/* default: ignored */
	CHECK(got == 3, "the handler ran after its reset");

	CHECK(signal(SIGURG, plain) == SIG_DFL, "signal: old not SIG_DFL");
	raise(SIGURG);
	CHECK(got == 4, "signal()'s handler did not run");
	CHECK(signal(SIGURG, SIG_IGN) == plain, "signal: old not ours");
	CHECK(sigaction(SIGURG, NULL, &old) == 0 && old.sa_handler == SIG_IGN,
	      "SIG_IGN not reported");
	raise(SIGURG);
	CHECK(got == 4, "an ignored signal ran the handler");
	CHECK(signal(SIGURG, SIG_DFL) == SIG_IGN, "signal: old not SIG_IGN");

	/* A vfork child shares our memory and resets a handler before its
	 * exec (as CPython's subprocess does): ours must stay. */
	{
		pid_t pid = vfork();
		int status = 0;

		if (pid == 0) {
			struct sigaction dfl;

			memset(&dfl, 0, sizeof(dfl));
			dfl.sa_handler = SIG_DFL;
			sigaction(SIGUSR1, &dfl, NULL);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		CHECK(sigaction(SIGUSR1, NULL, &old) == 0 &&
		      old.sa_handler == plain,
		      "a vfork child's sigaction changed the parent's handler");
		raise(SIGUSR1);
		CHECK(got == 5, "after a vfork child's reset, the handler did "
		      "not run");
	}
	/* A forked child's handlers are its own. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			signal(SIGUSR1, SIG_IGN);
			raise(SIGUSR1);
			_exit(signal(SIGUSR1, SIG_DFL) == SIG_IGN && got == 5
			      ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "a forked child's signal() misbehaved (status %#x)",
		      status);
		CHECK(sigaction(SIGUSR1, NULL, &old) == 0 &&
		      old.sa_handler == plain,
		      "a forked child's signal() changed the parent's handler");
	}

	errno = 0;
	CHECK(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL,
	      "SIGKILL accepted");
	errno = 0;
	CHECK(sigaction(SIGRTMIN - 2, &sa, NULL) == -1 && errno == EINVAL,
	      "glibc's own signal %d accepted", SIGRTMIN - 2);
	errno = 0;
	CHECK(sigaction(0, &sa, NULL) == -1 && errno == EINVAL,
	      "signal 0 accepted");
	CHECK(signal(0, plain) == SIG_ERR, "signal(0) accepted");
	CHECK(signal(SIGUSR1, SIG_ERR) == SIG_ERR, "signal(SIG_ERR) accepted");
	if (!failures)
		printf("sigaction_compat: ok\n");
	return failures != 0;
}
