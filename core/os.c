/* SPDX-License-Identifier: MIT */
/*
 * core/os.c - the only door to the kernel.
 *
 * Layer: bottom.  Owns every system call kmem makes (mmap, munmap,
 * mprotect, madvise, mremap, mlock, memfd_create, fallocate, futex, open,
 * read, write, sigaction, getrandom, ...), the environment and the rseq
 * area lookup.  Calls nothing in kmem but printk.c for its own failure
 * messages.
 *
 * Memory calls use raw syscall(2): the program's mmap/munmap/mremap are
 * interposed by preload/, and the allocator must never go through them.
 * Nothing here allocates; nothing here takes a kmem lock.
 */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif

extern char **environ;

/* glibc >= 2.35 publishes its rseq registration through these. */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static int os_prot(int prot)
{
	return prot == OS_PROT_RW ? PROT_READ | PROT_WRITE : PROT_NONE;
}

/* Raw system call returning a value or -errno, errno left alone. */
static long raw(long nr, long a, long b, long c, long d, long e, long f)
{
	int saved = errno;
	long r = syscall(nr, a, b, c, d, e, f);

	if (r == -1) {
		r = -errno;
		errno = saved;
	}
	return r;
}

static bool is_err(long r)
{
	return r < 0 && r > -4096;
}

long os_raw_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return raw(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
}

long os_raw_munmap(void *addr, size_t len)
{
	return raw(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
}

long os_raw_mremap(void *old, size_t old_len, size_t new_len, int flags,
		   void *new_addr)
{
	return raw(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags,
		   (long)new_addr, 0);
}

void *os_mmap(void *hint, size_t len, int prot, bool fixed_noreplace, int *err)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	long r;

	if (!(prot & OS_MAP_ACCOUNT))
		flags |= MAP_NORESERVE;
	prot &= ~OS_MAP_ACCOUNT;
	if (fixed_noreplace)
		flags |= MAP_FIXED_NOREPLACE;
	r = os_raw_mmap(hint, len, os_prot(prot), flags, -1, 0);
	if (is_err(r)) {
		if (err)
			*err = (int)-r;
		return NULL;
	}
	if (fixed_noreplace && (void *)r != hint) {
		/* Kernels before 4.17 treat the flag as a hint. */
		os_raw_munmap((void *)r, len);
		if (err)
			*err = EEXIST;
		return NULL;
	}
	return (void *)r;
}

void *os_mmap_aligned(size_t len, size_t align, int prot, int *err)
{
	size_t span = len + align;
	uintptr_t start, aligned;
	void *p;

	if (align <= 4096)
		return os_mmap(NULL, len, prot, false, err);
	if (span < len) {
		if (err)
			*err = ENOMEM;
		return NULL;
	}
	p = os_mmap(NULL, span, prot, false, err);
	if (!p)
		return NULL;
	start = (uintptr_t)p;
	aligned = ALIGN_UP(start, align);
	if (aligned > start)
		os_munmap(p, aligned - start);
	if (start + span > aligned + len)
		os_munmap((void *)(aligned + len), start + span - aligned - len);
	return (void *)aligned;
}

int os_munmap(void *addr, size_t len)
{
	long r = os_raw_munmap(addr, len);

	return is_err(r) ? (int)-r : 0;
}

int os_mprotect(void *addr, size_t len, int prot)
{
	long r = raw(SYS_mprotect, (long)addr, (long)len, os_prot(prot), 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

int os_purge(void *addr, size_t len)
{
	long r = raw(SYS_madvise, (long)addr, (long)len, MADV_DONTNEED, 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

int os_purge_lazy(void *addr, size_t len)
{
	long r = raw(SYS_madvise, (long)addr, (long)len, MADV_FREE, 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

int os_mlock(void *addr, size_t len)
{
	long r = raw(SYS_mlock, (long)addr, (long)len, 0, 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

size_t os_memlock_limit(void)
{
	struct rlimit rl;

	if (is_err(raw(SYS_getrlimit, RLIMIT_MEMLOCK, (long)&rl, 0, 0, 0, 0)))
		return 0;
	return rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : (size_t)rl.rlim_cur;
}

/* ---- memfd: the backing of ZONE_HIGHMEM ---- */

/* Descriptors kmem keeps are moved up to here, out of the way of the
 * low numbers programs dup2() onto. */
#define OS_FD_HIGH 512

int os_memfd_create(const char *name, int *err)
{
	long fd = raw(SYS_memfd_create, (long)name, MFD_CLOEXEC, 0, 0, 0, 0);
	long hi;

	if (is_err(fd)) {
		*err = (int)-fd;
		return -1;
	}
	hi = raw(SYS_fcntl, fd, F_DUPFD_CLOEXEC, OS_FD_HIGH, 0, 0, 0);
	if (!is_err(hi)) {
		raw(SYS_close, fd, 0, 0, 0, 0, 0);
		fd = hi;
	}
	return (int)fd;
}

int os_ftruncate(int fd, uint64_t len)
{
	long r = raw(SYS_ftruncate, fd, (long)len, 0, 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

void *os_mmap_file(void *fixed, size_t len, int fd, uint64_t off, int *err)
{
	long r = os_raw_mmap(fixed, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_FIXED, fd, (long)off);

	if (is_err(r)) {
		if (err)
			*err = (int)-r;
		return NULL;
	}
	return (void *)r;
}

int os_mmap_none(void *fixed, size_t len)
{
	long r = os_raw_mmap(fixed, len, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
			     MAP_NORESERVE, -1, 0);

	return is_err(r) ? (int)-r : 0;
}

int os_punch_hole(int fd, uint64_t off, uint64_t len)
{
	long r = raw(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE |
		     FALLOC_FL_KEEP_SIZE, (long)off, (long)len, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

/* Copy [off, off + len) of in to the same offset of out, through a
 * buffer on the stack (copy_file_range refused). */
static int copy_range_slow(int in, int out, uint64_t off, uint64_t len)
{
	char buf[16384];

	while (len) {
		long n = raw(SYS_pread64, in, (long)buf,
			     (long)MIN(len, sizeof(buf)), (long)off, 0, 0);

		if (n == -EINTR)
			continue;
		if (is_err(n) || n == 0)
			return is_err(n) ? (int)-n : EIO;
		for (long done = 0; done < n;) {
			long w = raw(SYS_pwrite64, out, (long)(buf + done),
				     n - done, (long)(off + (uint64_t)done), 0, 0);

			if (w == -EINTR)
				continue;
			if (is_err(w) || w == 0)
				return is_err(w) ? (int)-w : EIO;
			done += w;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int os_memfd_clone(int fd, uint64_t size, int *err)
{
	int out = os_memfd_create("kmem-highmem", err);
	int e = 0;
	loff_t pos = 0;

	if (out < 0)
		return -1;
	if ((e = os_ftruncate(out, size)) != 0)
		goto fail;
	/* Only the extents that hold data: holes stay holes. */
	while ((uint64_t)pos < size) {
		long data = raw(SYS_lseek, fd, (long)pos, SEEK_DATA, 0, 0, 0);
		long hole;
		loff_t in_off, out_off;

		if (data == -ENXIO)
			break;		/* nothing but holes from pos on */
		if (is_err(data)) {
			e = (int)-data;
			goto fail;
		}
		hole = raw(SYS_lseek, fd, data, SEEK_HOLE, 0, 0, 0);
		if (is_err(hole)) {
			e = (int)-hole;
			goto fail;
		}
		in_off = out_off = data;
		while (in_off < hole) {
			long n = raw(SYS_copy_file_range, fd, (long)&in_off, out,
				     (long)&out_off, hole - in_off, 0);

			if (n == -EINTR)
				continue;
			if (is_err(n) || n == 0) {
				e = copy_range_slow(fd, out, (uint64_t)in_off,
						    (uint64_t)(hole - in_off));
				if (e)
					goto fail;
				break;
			}
		}
		pos = hole;
	}
	return out;
fail:
	raw(SYS_close, out, 0, 0, 0, 0, 0);
	*err = e;
	return -1;
}

int os_dup_onto(int fd, int target)
{
	long r = raw(SYS_dup3, fd, target, O_CLOEXEC, 0, 0, 0);

	if (is_err(r))
		return (int)-r;
	raw(SYS_close, fd, 0, 0, 0, 0, 0);
	return 0;
}

void *os_mremap(void *old, size_t old_len, size_t new_len, bool may_move,
		void *fixed_addr, int *err)
{
	int flags = 0;
	long r;

	if (may_move)
		flags |= MREMAP_MAYMOVE;
	if (fixed_addr)
		flags |= MREMAP_MAYMOVE | MREMAP_FIXED;
	r = os_raw_mremap(old, old_len, new_len, flags, fixed_addr);
	if (is_err(r)) {
		if (err)
			*err = (int)-r;
		return NULL;
	}
	return (void *)r;
}

/* ---- futex: the waits of kmem_lock_t (lock.c) ---- */

void os_futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	raw(SYS_futex, (long)addr, FUTEX_WAIT_PRIVATE, val, 0, 0, 0);
}

void os_futex_wait_ms(_Atomic uint32_t *addr, uint32_t val, uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	raw(SYS_futex, (long)addr, FUTEX_WAIT_PRIVATE, val, (long)&ts, 0, 0);
}

void os_futex_wake(_Atomic uint32_t *addr, int nr)
{
	raw(SYS_futex, (long)addr, FUTEX_WAKE_PRIVATE, nr, 0, 0, 0);
}

/* ---- files, clock, identity ---- */

ssize_t os_write(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long r = raw(SYS_write, fd, (long)((const char *)buf + done),
			     (long)(len - done), 0, 0, 0);
		if (r == -EINTR)
			continue;
		if (is_err(r) || r == 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

long os_read_file(const char *path, char *buf, size_t size)
{
	long fd = raw(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC,
		      0, 0, 0);
	size_t done = 0;

	if (is_err(fd) || size == 0)
		return -1;
	while (done + 1 < size) {
		long r = raw(SYS_read, fd, (long)(buf + done),
			     (long)(size - 1 - done), 0, 0, 0);
		if (r == -EINTR)
			continue;
		if (is_err(r) || r == 0)
			break;
		done += (size_t)r;
	}
	buf[done] = '\0';
	raw(SYS_close, fd, 0, 0, 0, 0, 0);
	return (long)done;
}

int os_open_read(const char *path)
{
	long fd = raw(SYS_openat, AT_FDCWD, (long)path,
		      O_RDONLY | O_CLOEXEC | O_NOCTTY, 0, 0, 0);

	return is_err(fd) ? -1 : (int)fd;
}

static bool path_in_proc(const char *path)
{
	const char *p = "/proc/";

	while (*p && *path == *p) {
		p++;
		path++;
	}
	return *p == '\0';
}

int os_open_write(const char *path, bool create)
{
	int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	long fd;

	if (create)
		flags |= O_CREAT | O_TRUNC;
	else if (!path_in_proc(path))
		flags |= O_NOFOLLOW;
	fd = raw(SYS_openat, AT_FDCWD, (long)path, flags, 0644, 0, 0);
	if (is_err(fd))
		return -1;
	if (!create && (is_err(raw(SYS_fstat, fd, (long)&st, 0, 0, 0, 0)) ||
			!S_ISREG(st.st_mode))) {
		raw(SYS_close, fd, 0, 0, 0, 0, 0);
		return -1;
	}
	return (int)fd;
}

long os_read(int fd, void *buf, size_t len)
{
	long r;

	do
		r = raw(SYS_read, fd, (long)buf, (long)len, 0, 0, 0);
	while (r == -EINTR);
	return is_err(r) ? -1 : r;
}

void os_close(int fd)
{
	raw(SYS_close, fd, 0, 0, 0, 0, 0);
}

int os_getpid(void)
{
	return (int)raw(SYS_getpid, 0, 0, 0, 0, 0, 0);
}

uint64_t os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the C library and the loader's code ---- */

#define RUNTIME_RANGES 4
static struct { uintptr_t lo, hi; } runtime[RUNTIME_RANGES] __read_mostly;
static unsigned int nr_runtime __read_mostly;

static int note_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *name = info->dlpi_name, *base = name;
	uintptr_t ldso = (uintptr_t)arg;

	(void)size;
	for (const char *p = name; *p; p++)
		if (*p == '/')
			base = p + 1;
	if (info->dlpi_addr != ldso && strncmp(base, "libc.so", 7) &&
	    strncmp(base, "ld-linux", 8))
		return 0;
	for (int i = 0; i < info->dlpi_phnum &&
			nr_runtime < RUNTIME_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		runtime[nr_runtime].lo = info->dlpi_addr + ph->p_vaddr;
		runtime[nr_runtime].hi = info->dlpi_addr + ph->p_vaddr +
					 ph->p_memsz;
		nr_runtime++;
	}
	return 0;
}

void os_note_runtime(void)
{
	if (!nr_runtime)
		dl_iterate_phdr(note_object, (void *)getauxval(AT_BASE));
}

bool os_in_runtime(uintptr_t ip)
{
	for (unsigned int i = 0; i < nr_runtime; i++)
		if (ip - runtime[i].lo < runtime[i].hi - runtime[i].lo)
			return true;
	return false;
}

struct kmem_rseq_abi *os_rseq_area(void)
{
	struct kmem_rseq_abi *rs;

	if (&__rseq_size == NULL || &__rseq_offset == NULL || __rseq_size == 0)
		return NULL;
	rs = (struct kmem_rseq_abi *)((char *)__builtin_thread_pointer() +
				      __rseq_offset);
	if (READ_ONCE(rs->cpu_id) >= 0x80000000u)
		return NULL; /* RSEQ_CPU_ID_UNINITIALIZED or REGISTRATION_FAILED */
	return rs;
}

bool os_glibc_knows_rseq(void)
{
	return &__rseq_size != NULL;
}

int os_rseq_register(struct kmem_rseq_abi *area, uint32_t len, uint32_t sig)
{
	long r = raw(SYS_rseq, (long)area, len, 0, sig, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

bool os_running_on_valgrind(void)
{
	return RUNNING_ON_VALGRIND;
}

int os_membarrier(int cmd, unsigned int flags, int cpu)
{
	long r = raw(SYS_membarrier, cmd, flags, cpu, 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

unsigned int os_rseq_feature_size(void)
{
	return (unsigned int)getauxval(AT_RSEQ_FEATURE_SIZE);
}

__thread const struct kmem_rseq_abi *os_rseq_self
	__attribute__((tls_model("initial-exec")));

unsigned int __os_current_cpu(void)
{
	struct kmem_rseq_abi *rs = os_rseq_area();
	int cpu;

	if (likely(rs != NULL)) {
		os_rseq_self = rs;
		return READ_ONCE(rs->cpu_id);
	}
	cpu = sched_getcpu();
	return cpu < 0 ? 0 : (unsigned int)cpu;
}

unsigned int os_nr_cpus(void)
{
	static unsigned int cached;
	unsigned long mask[KMEM_NR_CPUS / (8 * sizeof(long))] = { 0 };
	unsigned int n = 0;
	long r;
	size_t i;

	if (cached)
		return cached;
	r = raw(SYS_sched_getaffinity, 0, sizeof(mask), (long)mask, 0, 0, 0);
	if (!is_err(r))
		for (i = 0; i < ARRAY_SIZE(mask); i++)
			n += (unsigned int)__builtin_popcountl(mask[i]);
	if (n == 0)
		n = 1;
	cached = n;
	return n;
}

unsigned int os_nr_possible_cpus(void)
{
	char buf[256];
	unsigned long v = 0, hi = 0;
	bool any = false;

	/* "0-3", "0,2-5", ...: the highest id + 1 is nr_cpu_ids. */
	if (os_read_file("/sys/devices/system/cpu/possible", buf,
			 sizeof(buf)) <= 0)
		return 0;
	for (const char *p = buf; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned long)(*p - '0');
			any = true;
			if (v > 1UL << 20)
				return 0;
		} else {
			if (any && v + 1 > hi)
				hi = v + 1;
			v = 0;
			any = false;
		}
	}
	if (any && v + 1 > hi)
		hi = v + 1;
	return (unsigned int)hi;
}

int os_gettid(void)
{
	return (int)raw(SYS_gettid, 0, 0, 0, 0, 0, 0);
}

void os_yield(void)
{
	raw(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
}

/* ---- signals and huge pages ---- */

int os_signal_install(int sig, void (*fn)(int, void *, void *), bool onstack)
{
	struct sigaction sa, old;
	int saved = errno, err = 0;

	/* glibc's sigaction, not the raw call: it supplies the sa_restorer
	 * trampoline that x86-64 needs.  It does not allocate. */
	if (os_sigaction(sig, NULL, &old))
		err = errno;
	else if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
		err = EBUSY;
	if (!err) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))(void *)fn;
		sa.sa_flags = SA_SIGINFO | SA_RESTART | (onstack ? SA_ONSTACK : 0);
		sigemptyset(&sa.sa_mask);
		if (os_sigaction(sig, &sa, NULL))
			err = errno;
	}
	errno = saved;	/* this may run inside malloc */
	return err;
}

bool os_signal_is(int sig, void (*fn)(int, void *, void *))
{
	struct sigaction cur;
	int saved = errno;
	bool is = !os_sigaction(sig, NULL, &cur) && (cur.sa_flags & SA_SIGINFO) &&
		  cur.sa_sigaction ==
			  (void (*)(int, siginfo_t *, void *))(void *)fn;

	errno = saved;
	return is;
}

void os_signal_default(int sig)
{
	struct sigaction sa;
	int saved = errno;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	os_sigaction(sig, &sa, NULL);
	errno = saved;
}

/* glibc's own sigaction under its other name: preload/signal.c defines
 * sigaction, and kmem's calls must reach the kernel's disposition. */
extern int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old);

int os_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return __sigaction(sig, act, old);
}

/* Kernel signal sets are 64 bits here: bit sig - 1 for sig. */
static long sigmask_change(int how, uint64_t bits)
{
	return raw(SYS_rt_sigprocmask, how, (long)&bits, 0, sizeof(bits), 0,
		   0);
}

static _Atomic unsigned long nr_signals_deferred;

unsigned long os_signals_deferred(void)
{
	return atomic_load_explicit(&nr_signals_deferred,
				    memory_order_relaxed);
}

bool os_signal_defer(int sig, const siginfo_t *info)
{
	uint64_t bit = 1ULL << (sig - 1);
	bool was_deferred = kmem_sig_deferred & bit;
	siginfo_t copy = *info;

	/* Blocked first, so that the copy queued below stays pending
	 * (SA_NODEFER handlers run with their signal unblocked). */
	sigmask_change(SIG_BLOCK, bit);
	kmem_sig_deferred |= bit;
	if (is_err(raw(SYS_rt_tgsigqueueinfo, os_getpid(), os_gettid(), sig,
		       (long)&copy, 0, 0))) {
		/* The queue is full (RLIMIT_SIGPENDING): run it now rather
		 * than lose it. */
		if (!was_deferred) {
			kmem_sig_deferred &= ~bit;
			sigmask_change(SIG_UNBLOCK, bit);
		}
		return false;
	}
	atomic_fetch_add_explicit(&nr_signals_deferred, 1,
				  memory_order_relaxed);
	return true;
}

void os_signal_replay(void)
{
	uint64_t bits = kmem_sig_deferred;

	kmem_sig_deferred = 0;
	/* The kernel delivers what is pending as this call returns. */
	sigmask_change(SIG_UNBLOCK, bits);
}

void os_signal_resend(int sig)
{
	int saved = errno;

	raw(SYS_tgkill, (long)raw(SYS_getpid, 0, 0, 0, 0, 0, 0),
	    (long)os_gettid(), sig, 0, 0, 0);
	errno = saved;
}

int os_thp_advise(void *addr, size_t len, bool huge)
{
	long r = raw(SYS_madvise, (long)addr, (long)len,
		     huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE, 0, 0, 0);

	return is_err(r) ? (int)-r : 0;
}

/* ---- environment ---- */

static bool env_match(const char *entry, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < nlen; i++)
		if (entry[i] != name[i])
			return false;
	return entry[nlen] == '=';
}

const char *os_getenv(const char *name)
{
	/* Before libc set environ (a malloc from the dynamic loader), read
	 * the environment the kernel gave us. */
	static char proc_env[32768];
	static bool proc_env_read;
	size_t nlen = 0;
	char **e;

	while (name[nlen])
		nlen++;
	if (environ) {
		for (e = environ; *e; e++)
			if (env_match(*e, name, nlen))
				return *e + nlen + 1;
		return NULL;
	}
	if (!proc_env_read) {
		long n = os_read_file("/proc/self/environ", proc_env,
				      sizeof(proc_env));
		proc_env_read = true;
		if (n < 0)
			proc_env[0] = '\0';
	}
	for (const char *p = proc_env; *p;) {
		if (env_match(p, name, nlen))
			return p + nlen + 1;
		while (*p)
			p++;
		p++;
		if (p >= proc_env + sizeof(proc_env) - 1)
			break;
	}
	return NULL;
}

/* ---- randomness and accounting ---- */

uint64_t os_random_u64(void)
{
	uint64_t v = 0;
	long r = raw(SYS_getrandom, (long)&v, sizeof(v), 0x1 /* GRND_NONBLOCK */,
		     0, 0, 0);

	if (r != (long)sizeof(v)) {
		/* Weak fallback: the clock mixed with ASLR'd addresses. */
		v = os_now_ns() ^ (uint64_t)(uintptr_t)&v ^
		    ((uint64_t)(uintptr_t)&os_random_u64 << 17);
		v ^= v >> 33;
		v *= 0xff51afd7ed558ccdULL;
		v ^= v >> 33;
	}
	return v;
}

size_t os_rss_bytes(void)
{
	char buf[128];
	const char *p = buf;
	size_t resident = 0;

	if (os_read_file("/proc/self/statm", buf, sizeof(buf)) <= 0)
		return 0;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9')
		resident = resident * 10 + (size_t)(*p++ - '0');
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}
