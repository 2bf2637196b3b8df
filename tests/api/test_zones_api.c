/* SPDX-License-Identifier: MIT */
/*
 * tests/api/test_zones_api.c - the zones, kmap and per-CPU data as a user
 * of <kmem.h> and -lkmem sees them.
 *
 *   ZONE_DMA32    every kmalloc size (each class, 1000, 100000, 1 MiB,
 *                 4 MiB), pages of every order and a SLAB_CACHE_DMA32
 *                 cache lie below 4 GiB;
 *   ZONE_DMA      VmLck grows by what GFP_DMA takes (kmalloc, pages, a
 *                 SLAB_CACHE_DMA cache), and RLIMIT_MEMLOCK (or
 *                 KMEM_DMA_LIMIT, in a re-executed child) gives ENOMEM;
 *   ZONE_HIGHMEM  pages have no address until kmap'ed, keep their
 *                 contents across kunmap/kmap, more of them than the
 *                 window pool can map at once, kmap blocks while the pool
 *                 is full, kmap_atomic works from a signal handler, a
 *                 forked child has its own copy;
 *   zone flags    honoured or ENOMEM, never ignored;
 *   per-CPU data  counters from 4 threads moved between CPUs sum exactly;
 *   references    page_count through get_page and put_page.
 *
 * Check runs each case in a process of its own (CK_FORK), so each finds
 * ZONE_DMA untouched and its bound not yet read.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kmem.h>

#define GiB4 (1ULL << 32)

static long vm_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(field);
	long kb = -1;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

static void below_4g(const void *p, size_t size)
{
	ck_assert_msg(p != NULL, "no block of %zu bytes", size);
	ck_assert_msg((uintptr_t)p + size <= GiB4, "%p + %zu is above 4 GiB",
		      p, size);
}

/* ---- ZONE_DMA32 ---- */

static const size_t sizes[] = {
	1, 8, 16, 24, 32, 48, 64, 96, 100, 128, 192, 256, 384, 512, 768,
	1000, 1024, 1536, 2048, 3072, 4096, 6000, 8192, 12288, 16384, 20000,
	32768, 32769, 65536, 100000, 262144, 1 << 20, 3 << 20, 4 << 20,
};

START_TEST(dma32_every_size)
{
	void *p[sizeof(sizes) / sizeof(sizes[0])];
	struct kmem_cache *c;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = kmalloc(sizes[i], GFP_DMA32);
		below_4g(p[i], sizes[i]);
		memset(p[i], 0x5a, sizes[i]);
		ck_assert_int_eq(kmem_page_zone(kmem_virt_to_page(p[i])),
				 ZONE_DMA32);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *z = kzalloc(sizes[i], GFP_DMA32);
		size_t grow;

		below_4g(z, sizes[i]);
		for (size_t k = 0; k < sizes[i]; k += 97)
			ck_assert_int_eq(z[k], 0);
		/* krealloc keeps the zone, growing or shrinking. */
		grow = sizes[i] * 2 + 1 > (4 << 20) ? 4 << 20
						     : sizes[i] * 2 + 1;
		z = krealloc(z, grow, GFP_DMA32);
		below_4g(z, grow);
		z = krealloc(z, sizes[i] / 2 + 1, GFP_DMA32);
		below_4g(z, sizes[i] / 2 + 1);
		kfree(z);
		kfree(p[i]);
	}
	/* A block of ZONE_NORMAL moves when krealloc asks for DMA32. */
	p[0] = kmalloc(1000, GFP_KERNEL);
	p[0] = krealloc(p[0], 1000, GFP_DMA32);
	below_4g(p[0], 1000);
	kfree(p[0]);
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		unsigned long a = __get_free_pages(GFP_DMA32, o);

		below_4g((void *)a, PAGE_SIZE << o);
		free_pages(a, o);
	}
	c = kmem_cache_create("t-dma32", 200, 0, SLAB_CACHE_DMA32, NULL);
	ck_assert_ptr_nonnull(c);
	p[0] = kmem_cache_alloc(c, GFP_KERNEL);
	below_4g(p[0], 200);
	kmem_cache_free(c, p[0]);
	kmem_cache_destroy(c);
	/* Beyond the largest buddy block a zone cannot serve (vmalloc has
	 * no zone): ENOMEM, never memory from elsewhere. */
	errno = 0;
	ck_assert_ptr_null(kmalloc((PAGE_SIZE << MAX_ORDER) + 1, GFP_DMA32));
	ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

/* ---- zone flags are never ignored ---- */

START_TEST(zone_flags_honoured_or_enomem)
{
	struct kmem_cache *c = kmem_cache_create("t-normal", 64, 0, 0, NULL);
	static const size_t sz[] = { 8, 1000, 100000, 1 << 20, 64 << 20 };

	for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		/* High memory has no permanent address to return. */
		errno = 0;
		ck_assert_ptr_null(kmalloc(sz[i], GFP_HIGHUSER));
		ck_assert_int_eq(errno, ENOMEM);
		/* Two zones at once. */
		errno = 0;
		ck_assert_ptr_null(kmalloc(sz[i], GFP_DMA | GFP_DMA32));
		ck_assert_int_eq(errno, ENOMEM);
	}
	errno = 0;
	ck_assert_ptr_null(kmem_cache_alloc(c, GFP_DMA32));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_ptr_null(kmem_cache_alloc(c, GFP_DMA));
	ck_assert_int_eq(errno, ENOMEM);
	kmem_cache_destroy(c);
	errno = 0;
	ck_assert_uint_eq(__get_free_pages(GFP_HIGHUSER, 0), 0);
	ck_assert_int_eq(errno, ENOMEM);
	/* Ordinary memory may come from DMA32 (the zonelist), never the
	 * reverse: a GFP_KERNEL page is NORMAL or DMA32. */
	for (int i = 0; i < 64; i++) {
		struct page *pg = alloc_page(GFP_KERNEL);
		int z = page_zonenum(pg);

		ck_assert(z == ZONE_NORMAL || z == ZONE_DMA32);
		__free_page(pg);
	}
}
END_TEST

/* ---- ZONE_DMA ---- */

START_TEST(dma_pinned_vmlck_grows)
{
	long before = vm_kb("VmLck"), after;
	struct kmem_cache *c;
	struct page *pg;
	void *big, *small, *obj;

	ck_assert_int_ge(before, 0);
	big = kmalloc(1 << 20, GFP_DMA);
	ck_assert_ptr_nonnull(big);
	memset(big, 1, 1 << 20);
	small = kmalloc(1000, GFP_DMA);
	ck_assert_ptr_nonnull(small);
	pg = alloc_pages(GFP_DMA, 3);
	ck_assert_ptr_nonnull(pg);
	ck_assert_int_eq(page_zonenum(pg), ZONE_DMA);
	ck_assert_ptr_nonnull(page_address(pg));
	c = kmem_cache_create("t-dma", 500, 0, SLAB_CACHE_DMA, NULL);
	obj = kmem_cache_alloc(c, GFP_KERNEL);
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(kmem_page_zone(kmem_virt_to_page(obj)), ZONE_DMA);
	ck_assert_int_eq(kmem_page_zone(kmem_virt_to_page(big)), ZONE_DMA);
	ck_assert_int_eq(kmem_page_zone(kmem_virt_to_page(small)), ZONE_DMA);
	after = vm_kb("VmLck");
	printf("dma: VmLck %ld -> %ld kB\n", before, after);
	ck_assert_int_ge(after - before, 1024 + 32);
	kmem_cache_free(c, obj);
	kmem_cache_destroy(c);
	__free_pages(pg, 3);
	kfree(small);
	kfree(big);
	/* Freed blocks stay pinned for reuse, and kmem_trim keeps them. */
	kmem_trim();
	ck_assert_int_ge(vm_kb("VmLck"), after);
}
END_TEST

/* Take GFP_DMA blocks of 64 KiB until the bound refuses one. */
static size_t dma_fill(void **v, size_t max)
{
	size_t n = 0;

	while (n < max && (v[n] = kmalloc(64 << 10, GFP_DMA)))
		n++;
	return n;
}

START_TEST(dma_rlimit_gives_enomem)
{
	struct rlimit rl = { 2 << 20, 2 << 20 };
	void *v[256];
	size_t n;

	/* Read at ZONE_DMA's first use, which is after this. */
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	errno = 0;
	n = dma_fill(v, 256);
	ck_assert_int_eq(errno, ENOMEM);
	printf("dma: RLIMIT_MEMLOCK 2 MiB: %zu blocks of 64 KiB, "
	       "VmLck %ld kB\n", n, vm_kb("VmLck"));
	ck_assert_uint_ge(n, 8);
	ck_assert_uint_le(n, 32);
	ck_assert_int_le(vm_kb("VmLck"), 2048);
	errno = 0;
	ck_assert_ptr_null(alloc_pages(GFP_DMA, 9));	/* 2 MiB more */
	ck_assert_int_eq(errno, ENOMEM);
	/* What is freed serves again. */
	kfree(v[--n]);
	v[n] = kmalloc(64 << 10, GFP_DMA);
	ck_assert_ptr_nonnull(v[n]);
	while (n + 1)
		kfree(v[n--]);
}
END_TEST

static const char *self_exe;

/* The child: KMEM_DMA_LIMIT=512k in its environment. */
static int dma_option_child(void)
{
	void *v[64];
	size_t n = dma_fill(v, 64);

	printf("dma: KMEM_DMA_LIMIT=512k: %zu blocks of 64 KiB\n", n);
	return n >= 4 && n <= 8 && errno == ENOMEM ? 0 : 1;
}

START_TEST(dma_option_gives_enomem)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("KMEM_DMA_LIMIT", "512k", 1);
		execl(self_exe, self_exe, "--dma-option-child", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

/* ---- ZONE_HIGHMEM ---- */

START_TEST(highmem_unmapped_until_kmap)
{
	struct page *pg = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
	unsigned char *a, *b;

	ck_assert_ptr_nonnull(pg);
	ck_assert(PageHighMem(pg));
	ck_assert_ptr_null(page_address(pg));
	ck_assert_int_eq(page_count(pg), 1);
	a = kmap(pg);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(page_address(pg), a);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		ck_assert_int_eq(a[i], 0);
	memset(a, 0xab, PAGE_SIZE);
	ck_assert_ptr_eq(kmap(pg), a);	/* mapped twice: one window */
	kunmap(pg);
	ck_assert_ptr_eq(page_address(pg), a);
	kunmap(pg);
	ck_assert_ptr_null(page_address(pg));
	kmap_flush_unused();
	b = kmap(pg);
	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		ck_assert_int_eq(b[i], 0xab);
	kunmap(pg);
	b = kmap_local_page(pg);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b[100], 0xab);
	b[100] = 7;
	kunmap_local(b);
	b = kmap_atomic(pg);
	ck_assert_int_eq(b[100], 7);
	kunmap_atomic(b);
	ck_assert_ptr_null(page_address(pg));
	/* Low pages: their address at once, kunmap does nothing. */
	{
		struct page *lo = alloc_page(GFP_KERNEL);

		ck_assert(!PageHighMem(lo));
		ck_assert_ptr_eq(kmap(lo), page_address(lo));
		ck_assert_ptr_eq(kmap_atomic(lo), page_address(lo));
		kunmap_atomic(page_address(lo));
		kunmap(lo);
		__free_page(lo);
	}
	__free_page(pg);
}
END_TEST

#define NR_HIGH (LAST_PKMAP * 3)

START_TEST(highmem_more_than_the_pool)
{
	static struct page *pg[NR_HIGH];
	long rss0 = vm_kb("VmRSS");

	for (int i = 0; i < NR_HIGH; i++) {
		uint32_t *a;

		pg[i] = alloc_page(GFP_HIGHUSER);
		ck_assert_ptr_nonnull(pg[i]);
		ck_assert(PageHighMem(pg[i]));
		a = kmap(pg[i]);
		ck_assert_ptr_nonnull(a);
		for (size_t k = 0; k < PAGE_SIZE / 4; k += 64)
			a[k] = (uint32_t)i * 7919u + (uint32_t)k;
		kunmap(pg[i]);
	}
	kmap_flush_unused();
	/* Three times the pool, all kept; read back in another order, and
	 * through the local slots too. */
	for (int i = NR_HIGH - 1; i >= 0; i--) {
		uint32_t *a = (i & 1) ? kmap(pg[i]) : kmap_local_page(pg[i]);

		ck_assert_ptr_nonnull(a);
		for (size_t k = 0; k < PAGE_SIZE / 4; k += 64)
			ck_assert_uint_eq(a[k], (uint32_t)i * 7919u +
						(uint32_t)k);
		if (i & 1)
			kunmap(pg[i]);
		else
			kunmap_local(a);
	}
	printf("highmem: %d pages (%d windows), VmRSS %ld -> %ld kB\n",
	       NR_HIGH, LAST_PKMAP, rss0, vm_kb("VmRSS"));
	for (int i = 0; i < NR_HIGH; i++)
		__free_page(pg[i]);
}
END_TEST

static struct page *waiter_page;
static atomic_int waiter_done;

static void *kmap_waiter(void *arg)
{
	unsigned char *a = kmap(waiter_page);

	(void)arg;
	ck_assert_ptr_nonnull(a);
	a[0] = 42;
	kunmap(waiter_page);
	atomic_store(&waiter_done, 1);
	return NULL;
}

START_TEST(kmap_waits_for_a_window)
{
	static struct page *pg[LAST_PKMAP];
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	pthread_t t;

	for (int i = 0; i < LAST_PKMAP; i++) {
		pg[i] = alloc_page(GFP_HIGHUSER);
		ck_assert_ptr_nonnull(kmap(pg[i]));
	}
	waiter_page = alloc_page(GFP_HIGHUSER);
	ck_assert_int_eq(pthread_create(&t, NULL, kmap_waiter, NULL), 0);
	nanosleep(&ts, NULL);
	ck_assert_int_eq(atomic_load(&waiter_done), 0);	/* it waits */
	kunmap(pg[17]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(atomic_load(&waiter_done), 1);
	for (int i = 0; i < LAST_PKMAP; i++) {
		if (i != 17)
			kunmap(pg[i]);
		__free_page(pg[i]);
	}
	{
		unsigned char *a = kmap_atomic(waiter_page);

		ck_assert_int_eq(a[0], 42);
		kunmap_atomic(a);
	}
	__free_page(waiter_page);
}
END_TEST

/* kmap_atomic in a signal handler, while the thread it interrupts is
 * between its own kmap_atomic and kunmap_atomic. */
static struct page *sig_page;
static atomic_int sig_count, sig_bad;

static void on_signal(int sig)
{
	unsigned char *a = kmap_atomic(sig_page);

	(void)sig;
	if (!a || a[0] != 0x11)
		atomic_fetch_add(&sig_bad, 1);
	else
		a[1]++;
	kunmap_atomic(a);
	atomic_fetch_add(&sig_count, 1);
}

START_TEST(kmap_atomic_from_a_signal_handler)
{
	struct page *mine = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned char *a;
	long rounds = 0;

	sig_page = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
	a = kmap(sig_page);
	a[0] = 0x11;
	kunmap(sig_page);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	while (atomic_load(&sig_count) < 300) {
		unsigned char *m = kmap_atomic(mine);
		unsigned char *n = kmap_local_page(sig_page);

		ck_assert_ptr_nonnull(m);
		ck_assert_ptr_nonnull(n);
		m[rounds % PAGE_SIZE]++;
		ck_assert_int_eq(n[0], 0x11);
		kunmap_local(n);
		kunmap_atomic(m);
		rounds++;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_IGN);
	ck_assert_int_eq(atomic_load(&sig_bad), 0);
	a = kmap(sig_page);
	ck_assert_int_eq(a[1], (unsigned char)atomic_load(&sig_count));
	kunmap(sig_page);
	a = kmap_atomic(mine);
	{
		long sum = 0;

		for (size_t i = 0; i < PAGE_SIZE; i++)
			sum += a[i];
		ck_assert_int_eq(sum % 256, rounds % 256);
	}
	kunmap_atomic(a);
	printf("kmap_atomic: %d signal handlers over %ld rounds\n",
	       atomic_load(&sig_count), rounds);
	__free_page(mine);
	__free_page(sig_page);
}
END_TEST

START_TEST(highmem_fork_child_has_its_own_copy)
{
	struct page *pg = alloc_page(GFP_HIGHUSER);
	char *a = kmap(pg);
	pid_t pid;
	int st;

	strcpy(a, "parent");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *b = kmap_atomic(pg);
		int ok = !strcmp(a, "parent") && !strcmp(b, "parent");

		strcpy(b, "child");
		kunmap_atomic(b);
		_exit(ok && !strcmp(a, "child") ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(a, "parent");
	kunmap(pg);
	__free_page(pg);
}
END_TEST

/* ---- per-CPU data ---- */

#define PCPU_THREADS 4
#define PCPU_OPS 400000

static long *counter;
static uint16_t *counter16;

static void *pcpu_worker(void *arg)
{
	long t = (long)arg, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (long i = 0; i < PCPU_OPS; i++) {
		if (i % 5000 == 0 && ncpu > 1) {
			cpu_set_t set;

			/* Move: each thread hops over the CPUs in turn. */
			CPU_ZERO(&set);
			CPU_SET((int)((t + i / 5000) % ncpu), &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		this_cpu_inc(counter);
		if (i & 1)
			this_cpu_add(counter16, 3);
		else
			this_cpu_dec(counter16);
	}
	return NULL;
}

START_TEST(percpu_counters_sum_exactly)
{
	pthread_t t[PCPU_THREADS];
	long sum = 0;
	unsigned int sum16 = 0;
	int cpu;

	counter = alloc_percpu(long);
	counter16 = alloc_percpu(uint16_t);
	ck_assert_ptr_nonnull(counter);
	ck_assert_ptr_nonnull(counter16);
	for (long i = 0; i < PCPU_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, pcpu_worker,
						(void *)i), 0);
	for (int i = 0; i < PCPU_THREADS; i++)
		pthread_join(t[i], NULL);
	for_each_possible_cpu(cpu) {
		sum += *per_cpu_ptr(counter, cpu);
		sum16 += *per_cpu_ptr(counter16, cpu);
	}
	printf("percpu: %d threads x %d this_cpu_inc over %u slots: %ld\n",
	       PCPU_THREADS, PCPU_OPS, num_possible_cpus(), sum);
	ck_assert_int_eq(sum, (long)PCPU_THREADS * PCPU_OPS);
	/* Half +3, half -1 each: +2 per pair, mod 2^16. */
	ck_assert_uint_eq(sum16 & 0xffff,
			  (unsigned int)(PCPU_THREADS * PCPU_OPS) & 0xffff);
	free_percpu(counter);
	free_percpu(counter16);
}
END_TEST

struct stats { uint64_t a; uint32_t b; uint8_t c; };

START_TEST(percpu_api)
{
	struct stats *s = alloc_percpu(struct stats);
	char *big = __alloc_percpu(4096, 4096);
	uint32_t *x;
	int cpu, n = 0;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq((uintptr_t)big % 4096, 0);
	for_each_possible_cpu(cpu) {
		ck_assert_uint_eq(per_cpu_ptr(s, cpu)->a, 0);
		ck_assert_uint_eq(per_cpu_ptr(big, cpu)[4095], 0);
		n++;
	}
	ck_assert_int_ge(n, 1);
	this_cpu_add(&s->a, 5);
	this_cpu_inc(&s->b);
	this_cpu_write(&s->c, 9);
	/* One thread, no migration in between (may move: sums hold). */
	{
		uint64_t a = 0;

		for_each_possible_cpu(cpu)
			a += per_cpu_ptr(s, cpu)->a;
		ck_assert_uint_eq(a, 5);
	}
	x = this_cpu_ptr(&s->b);
	ck_assert_ptr_nonnull(x);
	for (int i = 0; i < 100; i++)
		this_cpu_write(&s->b, 77);
	ck_assert_uint_eq(this_cpu_read(&s->b), 77);
	free_percpu(s);
	free_percpu(big);
	/* Freed data comes back zeroed. */
	s = alloc_percpu(struct stats);
	for_each_possible_cpu(cpu)
		ck_assert_uint_eq(per_cpu_ptr(s, cpu)->b, 0);
	free_percpu(s);
	errno = 0;
	ck_assert_ptr_null(__alloc_percpu(KMEM_PCPU_UNIT_SIZE + 1, 8));
	ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

/* ---- references ---- */

START_TEST(page_count_get_put)
{
	struct page *pg = alloc_pages(GFP_KERNEL, 2), *again;
	unsigned long pfn;
	void *addr;
	char *k;

	ck_assert_ptr_nonnull(pg);
	addr = page_address(pg);
	ck_assert_int_eq(page_count(pg), 1);
	ck_assert_int_eq(page_count(virt_to_page((char *)addr + PAGE_SIZE)),
			 0);	/* not compound */
	get_page(pg);
	ck_assert_int_eq(page_count(pg), 2);
	get_page(pg);
	ck_assert_int_eq(page_count(pg), 3);
	put_page(pg);
	ck_assert_int_eq(page_count(pg), 2);
	__free_pages(pg, 2);	/* one reference of the two */
	ck_assert_int_eq(page_count(pg), 1);
	memset(addr, 3, 4 * PAGE_SIZE);	/* still ours */
	pfn = page_to_pfn(pg);
	ck_assert_uint_eq(pfn, (uintptr_t)addr >> PAGE_SHIFT);
	ck_assert_ptr_eq(pfn_to_page(pfn), pg);
	ck_assert_ptr_eq(pfn_to_page(pfn + 3),
			 virt_to_page((char *)addr + 3 * PAGE_SIZE));
	ck_assert_ptr_eq(virt_to_page(addr), pg);
	put_page(pg);		/* the last: freed */
	ck_assert_int_eq(page_count(pg), 0);
	again = alloc_pages(GFP_KERNEL, 2);
	ck_assert_ptr_nonnull(again);
	ck_assert_int_eq(page_count(again), 1);
	__free_pages(again, 2);
	/* Pages under a kmalloc block or a slab count 1. */
	k = kmalloc(100, GFP_KERNEL);
	ck_assert_int_eq(page_count(virt_to_page(k)), 1);
	kfree(k);
	/* A highmem page counts the same way. */
	pg = alloc_page(GFP_HIGHUSER);
	get_page(pg);
	ck_assert_int_eq(page_count(pg), 2);
	put_page(pg);
	put_page(pg);
	ck_assert_int_eq(page_count(pg), 0);
	ck_assert_ptr_null(pfn_to_page(0));
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("zones_api");
	TCase *tz = tcase_create("zones");
	TCase *th = tcase_create("highmem");
	TCase *tp = tcase_create("percpu");
	SRunner *sr;
	int failed;

	self_exe = argv[0];
	if (argc > 1 && !strcmp(argv[1], "--dma-option-child"))
		return dma_option_child();
	tcase_set_timeout(tz, 60);
	tcase_set_timeout(th, 60);
	tcase_set_timeout(tp, 120);
	tcase_add_test(tz, dma32_every_size);
	tcase_add_test(tz, zone_flags_honoured_or_enomem);
	tcase_add_test(tz, dma_pinned_vmlck_grows);
	tcase_add_test(tz, dma_rlimit_gives_enomem);
	tcase_add_test(tz, dma_option_gives_enomem);
	tcase_add_test(tz, page_count_get_put);
	tcase_add_test(th, highmem_unmapped_until_kmap);
	tcase_add_test(th, highmem_more_than_the_pool);
	tcase_add_test(th, kmap_waits_for_a_window);
	tcase_add_test(th, kmap_atomic_from_a_signal_handler);
	tcase_add_test(th, highmem_fork_child_has_its_own_copy);
	tcase_add_test(tp, percpu_counters_sum_exactly);
	tcase_add_test(tp, percpu_api);
	suite_add_tcase(s, tz);
	suite_add_tcase(s, th);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
