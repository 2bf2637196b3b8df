/* SPDX-License-Identifier: MIT */
/*
 * core/os.h - the contract of the only door to the kernel (os.c).
 *
 * Every system call kmem makes goes through these functions, issued with
 * raw syscall() so that they never reach an interposed mmap in preload/
 * and never allocate.  Memory functions take and return page-aligned
 * addresses and lengths.  Functions return 0 or a positive errno value
 * (never -1 with errno); those returning a pointer return NULL on failure
 * and store the errno value through *err when err is not NULL.
 *
 * The environment and randomness also come from here, so that a port to
 * another system rewrites one file.
 */
#ifndef KMEM_OS_H
#define KMEM_OS_H

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include "internal.h"

#define OS_PROT_NONE 0
#define OS_PROT_RW 3
/* Or'ed into prot: charge the mapping to the commit limit (no
 * MAP_NORESERVE), so that a request larger than memory fails with ENOMEM
 * when it is made writable, as it does with glibc's malloc. */
#define OS_MAP_ACCOUNT 0x100

/* Anonymous private mapping of len bytes; hint may be NULL. */
void *os_mmap(void *hint, size_t len, int prot, bool fixed_noreplace,
	      int *err) __hidden;
/* Mapping of len bytes whose start is aligned to align (a power of two). */
void *os_mmap_aligned(size_t len, size_t align, int prot, int *err) __hidden;
int os_munmap(void *addr, size_t len) __hidden;
int os_mprotect(void *addr, size_t len, int prot) __hidden;
/* Give the pages back: the range reads as zeros afterwards. */
int os_purge(void *addr, size_t len) __hidden;
/* Let the kernel reclaim lazily (MADV_FREE); contents are undefined. */
int os_purge_lazy(void *addr, size_t len) __hidden;
/* Lock pages in memory (ZONE_DMA). */
int os_mlock(void *addr, size_t len) __hidden;
/* RLIMIT_MEMLOCK's soft limit in bytes (SIZE_MAX: unlimited). */
size_t os_memlock_limit(void) __hidden;

/*
 * memfd, the backing file of ZONE_HIGHMEM.  os_memfd_create returns a
 * close-on-exec descriptor (moved to a high number, away from the ones
 * programs dup2 onto) or -1 with *err set.  os_mmap_file maps
 * [off, off + len) of fd shared and read-write at exactly fixed,
 * replacing what was there; os_mmap_none puts a PROT_NONE anonymous
 * mapping back over [fixed, fixed + len).  os_punch_hole frees the file's
 * pages in a range (they read as zero after).  os_memfd_clone makes a new
 * memfd of size bytes with fd's contents (holes stay holes: only the
 * extents that hold data are copied); os_dup_onto moves fd onto the
 * number target (closing what target was) and closes fd.
 */
int os_memfd_create(const char *name, int *err) __hidden;
int os_ftruncate(int fd, uint64_t len) __hidden;
void *os_mmap_file(void *fixed, size_t len, int fd, uint64_t off,
		   int *err) __hidden;
int os_mmap_none(void *fixed, size_t len) __hidden;
int os_punch_hole(int fd, uint64_t off, uint64_t len) __hidden;
int os_memfd_clone(int fd, uint64_t size, int *err) __hidden;
int os_dup_onto(int fd, int target) __hidden;
/*
 * mremap: grow or shrink [old, old+old_len) to new_len.  With may_move the
 * kernel may move the pages (no copy); with fixed, to exactly new_addr.
 */
void *os_mremap(void *old, size_t old_len, size_t new_len, bool may_move,
		void *fixed_addr, int *err) __hidden;

/* Raw interposable system calls, for preload/ to forward the program's
 * own mmap/munmap/mremap to the kernel. */
long os_raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
		 long off) __hidden;
long os_raw_munmap(void *addr, size_t len) __hidden;
long os_raw_mremap(void *old, size_t old_len, size_t new_len, int flags,
		   void *new_addr) __hidden;

/* Futex wait/wake behind kmem_lock_t. */
void os_futex_wait(_Atomic uint32_t *addr, uint32_t val) __hidden;
void os_futex_wake(_Atomic uint32_t *addr, int nr) __hidden;
/* Wait at most ms milliseconds (relative). */
void os_futex_wait_ms(_Atomic uint32_t *addr, uint32_t val, uint64_t ms) __hidden;

ssize_t os_write(int fd, const void *buf, size_t len) __hidden;
/* Read a whole small file into buf (NUL-terminated); returns bytes or -1. */
long os_read_file(const char *path, char *buf, size_t size) __hidden;
/*
 * Files, for statistics and profiles (close-on-exec, never a controlling
 * terminal).  os_open_read and os_open_write return a descriptor or -1;
 * os_open_write with create makes or truncates the file (mode 0644),
 * without it opens an existing one and fails unless it is a regular file
 * (with O_NOFOLLOW unless the path is under /proc, whose fd links must be
 * followed).  os_read returns bytes read, 0 at the end, -1 on error.
 */
int os_open_read(const char *path) __hidden;
int os_open_write(const char *path, bool create) __hidden;
long os_read(int fd, void *buf, size_t len) __hidden;
void os_close(int fd) __hidden;
int os_getpid(void) __hidden;

/* Monotonic clock: coarse, in milliseconds (inline: a debug cache takes
 * one at every allocation and free, and the call into kmem and then into
 * libc cost as much as the vDSO's read; the TSC, tried instead, takes
 * 15 ns on this machine's virtual CPUs against the coarse clock's 7);
 * and in nanoseconds. */
static __always_inline uint64_t os_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
uint64_t os_now_ns(void) __hidden;

/*
 * Whether ip lies in the code of the C library or of the dynamic loader.
 * They call malloc and free with locks of their own held (pthread_join
 * frees a dead thread's TLS under the stack-cache lock, which
 * pthread_create takes), so a slow half called from there must not start
 * a thread.  os_note_runtime finds their code (dl_iterate_phdr: called
 * from a constructor, not on an allocation path); until then nothing is
 * the runtime's.
 */
void os_note_runtime(void) __hidden;
bool os_in_runtime(uintptr_t ip) __hidden;

/* Number of configured CPUs (from the affinity mask at start). */
unsigned int os_nr_cpus(void) __hidden;
/* nr_cpu_ids: the highest possible CPU number + 1 (sysfs), 0 if unknown. */
unsigned int os_nr_possible_cpus(void) __hidden;
int os_gettid(void) __hidden;
void os_yield(void) __hidden;

/*
 * The calling thread's rseq area as registered by glibc (found through the
 * weak __rseq_offset/__rseq_size symbols), or NULL when glibc did not
 * register one (old glibc, GLIBC_TUNABLES=glibc.pthread.rseq=0, valgrind).
 * kmem writes only its rseq_cs field.
 */
struct kmem_rseq_abi {
	uint32_t cpu_id_start;	/* kernel-owned */
	uint32_t cpu_id;	/* kernel-owned; >= 0x80000000 when not registered */
	uint64_t rseq_cs;	/* the one field user space writes */
	uint32_t flags;		/* kernel-owned (deprecated) */
	uint32_t node_id;	/* kernel-owned, feature size >= 24 */
	uint32_t mm_cid;	/* kernel-owned, feature size >= 28 */
} __attribute__((aligned(32)));
struct kmem_rseq_abi *os_rseq_area(void) __hidden;
/* The CPU this thread runs on now (a hint: it may change at once).
 * Inline: glibc's rseq area, once found, is this thread's for its life;
 * a debug cache records the CPU at every allocation and free. */
extern __thread const struct kmem_rseq_abi *os_rseq_self
	__attribute__((tls_model("initial-exec"))) __hidden;
unsigned int __os_current_cpu(void) __hidden;

static __always_inline unsigned int os_current_cpu(void)
{
	const struct kmem_rseq_abi *rs = os_rseq_self;
	uint32_t cpu;

	if (likely(rs != NULL) &&
	    likely((cpu = READ_ONCE(rs->cpu_id)) < 0x80000000u))
		return cpu;
	return __os_current_cpu();
}
/* Kernel's rseq feature size (getauxval(AT_RSEQ_FEATURE_SIZE)), 0 if none. */
unsigned int os_rseq_feature_size(void) __hidden;

/* glibc publishes an rseq registration (2.35 and later), used or not. */
bool os_glibc_knows_rseq(void) __hidden;
/* rseq(2) registration of this thread's area; 0 or an errno value. */
int os_rseq_register(struct kmem_rseq_abi *area, uint32_t len,
		     uint32_t sig) __hidden;
/* True under valgrind (a client request; one instruction otherwise). */
bool os_running_on_valgrind(void) __hidden;

/* membarrier(2); returns 0 or an errno value. */
int os_membarrier(int cmd, unsigned int flags, int cpu) __hidden;

/*
 * Install fn as the SA_SIGINFO handler of sig (SA_RESTART, sig blocked
 * while it runs; onstack: SA_ONSTACK, on the thread's alternate stack if
 * it has one), only if the signal's disposition is still the default
 * one: a program's own handler is never replaced.  Returns 0, EBUSY (the
 * program handles sig) or an errno value; errno is left as it was.
 */
int os_signal_install(int sig, void (*fn)(int, void *, void *),
		      bool onstack) __hidden;
/* Is fn the handler of sig now? */
bool os_signal_is(int sig, void (*fn)(int, void *, void *)) __hidden;
/* Back to SIG_DFL. */
void os_signal_default(int sig) __hidden;
/* Send sig to this thread again (tgkill): pending until the handler returns. */
void os_signal_resend(int sig) __hidden;
/* glibc's sigaction itself (the kernel's disposition), never the wrapper
 * of preload/signal.c. */
int os_sigaction(int sig, const struct sigaction *act,
		 struct sigaction *old) __hidden;
/*
 * Defer sig, which arrived while this thread held a kmem lock: block it,
 * note it in kmem_sig_deferred and queue it again to this thread with
 * its siginfo (rt_tgsigqueueinfo), so that it stays pending until the
 * last kmem_unlock calls os_signal_replay (internal.h).  The caller, a
 * signal handler, also blocks it in the context it returns to.  false:
 * the signal queue is full (RLIMIT_SIGPENDING), nothing was changed, and
 * the caller runs the handler now rather than lose the signal.
 */
bool os_signal_defer(int sig, const siginfo_t *info) __hidden;
/* Signals deferred so far (os_signal_defer), for the statistics. */
unsigned long os_signals_deferred(void) __hidden;

/* Transparent huge pages for [addr, addr+len): MADV_HUGEPAGE (huge) or
 * MADV_NOHUGEPAGE (!huge).  Returns 0 or an errno value. */
int os_thp_advise(void *addr, size_t len, bool huge) __hidden;

/* A value of the environment, without allocating; NULL if unset. */
const char *os_getenv(const char *name) __hidden;

/* 64 random bits from getrandom(2), or from the clock and ASLR. */
uint64_t os_random_u64(void) __hidden;

/* Resident set size of this process in bytes (from /proc/self/statm). */
size_t os_rss_bytes(void) __hidden;

#endif /* KMEM_OS_H */
