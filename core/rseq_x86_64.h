/* SPDX-License-Identifier: MIT */
/*
 * core/rseq_x86_64.h - the restartable sequences of percpu.c, for x86-64.
 *
 * Layer: part of percpu.c (included only there).  Each function is one
 * rseq critical section over a per-CPU region (see percpu.c for its
 * layout):
 *
 *   start:  cpu = *cpu_field               (cpu_id or mm_cid)
 *           if cpu >= KMEM_NR_CPUS: give up (slow path)
 *           region = base + cpu << PCPU_REGION_SHIFT
 *           if region->locked: give up     (a remote drain owns it)
 *           ... read the class header, move object pointers ...
 *           store the new count           <- the single commit store
 *   post_commit:
 *
 * If the thread is preempted, migrated or signalled between start and
 * post_commit, the kernel moves its instruction pointer to the abort
 * handler, which restarts from the top.  Everything before the commit
 * store writes only memory that the committed state does not own (slots
 * past the count, or the caller's buffer), so a restart is harmless.
 *
 * The critical-section descriptor (struct rseq_cs: version, flags,
 * start_ip, post_commit_offset, abort_ip) sits in section __rseq_cs; the
 * abort handler is preceded by the signature glibc registered
 * (RSEQ_SIG 0x53053053), encoded as "ud1 0x53053053(%rip), %edi" so
 * disassemblers stay in step.  Only the rseq_cs field of the thread's
 * rseq area is ever written here.
 */
#ifndef KMEM_RSEQ_X86_64_H
#define KMEM_RSEQ_X86_64_H

#define KMEM_RSEQ_SIG 0x53053053

#define __RSEQ_STR1(x) #x
#define __RSEQ_STR(x) __RSEQ_STR1(x)

#define RSEQ_CS_TABLE                                                     \
	".pushsection __rseq_cs, \"aw\"\n\t"                              \
	".balign 32\n\t"                                                  \
	".Lcs%=:\n\t"                                                     \
	".long 0, 0\n\t"                                                  \
	".quad .Lstart%=, .Lcommit%= - .Lstart%=, .Labort%=\n\t"          \
	".popsection\n\t"

/* rs->rseq_cs = &descriptor (the one field of the area we write). */
#define RSEQ_ENTER(rs)                                                    \
	".Lretry%=:\n\t"                                                  \
	"leaq .Lcs%=(%%rip), %%rax\n\t"                                   \
	"movq %%rax, 8(" rs ")\n\t"                                       \
	".Lstart%=:\n\t"

/*
 * rax = this CPU's region, or jump to fail when there is none to use: the
 * thread is not registered (cpu_id < 0: then the kernel would not abort
 * the section, and mm_cid means nothing), the index is out of range, or
 * a remote drain has locked the region.
 */
#define RSEQ_REGION(rs, idxoff, base, fail)                               \
	"cmpl $0, 4(" rs ")\n\t"                                          \
	"jl " fail "\n\t"                                                 \
	"movl (" rs "," idxoff "), %%eax\n\t"                             \
	"cmpl $" __RSEQ_STR(KMEM_NR_CPUS) ", %%eax\n\t"                   \
	"jae " fail "\n\t"                                                \
	"shlq $" __RSEQ_STR(PCPU_REGION_SHIFT) ", %%rax\n\t"              \
	"addq " base ", %%rax\n\t"                                        \
	"cmpl $0, (%%rax)\n\t"                                            \
	"jne " fail "\n\t"

#define RSEQ_ABORT                                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                         \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                      \
	".long " __RSEQ_STR(KMEM_RSEQ_SIG) "\n\t"                         \
	".Labort%=:\n\t"                                                  \
	"jmp .Lretry%=\n\t"                                               \
	".popsection\n\t"

/*
 * Pop one object of class cls from this CPU's region, or return NULL if
 * its array is empty (or the region is unusable).  asm goto: the failure
 * exits jump straight to the caller's slow path, with no result to test.
 */
static __always_inline void *rseq_pop(struct kmem_rseq_abi *rs,
				      uintptr_t idx_off, const uintptr_t *base,
				      uintptr_t hdr_off, const uintptr_t *slots_off)
{
	void *obj;
	uint64_t cur;

	__asm__ goto(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]")
		RSEQ_REGION("%[rs]", "%[idx]", "%[base]", "%l[fail]")
		"movl (%%rax,%[hdr]), %k[cur]\n\t"
		"testl %k[cur], %k[cur]\n\t"
		"jz %l[fail]\n\t"			/* empty */
		"subl $1, %k[cur]\n\t"
		"movq %[slot], %[obj]\n\t"
		"addq %%rax, %[obj]\n\t"
		"movq (%[obj],%[cur],8), %[obj]\n\t"	/* slots[cur - 1] */
		"movl %k[cur], (%%rax,%[hdr])\n\t"	/* commit */
		".Lcommit%=:\n\t"
		RSEQ_ABORT
		: [obj] "=&r"(obj), [cur] "=&r"(cur)
		: [rs] "r"(rs), [idx] "r"(idx_off), [base] "m"(*base), [hdr] "r"(hdr_off),
		  [slot] "rm"(*slots_off)
		: "rax", "memory", "cc"
		: fail);
	if (obj == NULL)	/* never: only objects are pushed */
		__builtin_unreachable();
	return obj;
fail:
	return NULL;
}

/*
 * Push obj.  Returns RSEQ_PUSH_OK, RSEQ_PUSH_FAIL (the array is full or the
 * region unusable) or RSEQ_PUSH_DOUBLE (obj is already the top of the
 * array: it was just freed, so this is an immediate double free).
 */
static __always_inline uint32_t rseq_push(struct kmem_rseq_abi *rs,
					  uintptr_t idx_off, const uintptr_t *base,
					  uintptr_t hdr_off, const uintptr_t *slots_off,
					  void *obj)
{
	__asm__ goto(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]")
		RSEQ_REGION("%[rs]", "%[idx]", "%[base]", "%l[fail]")
		"movl (%%rax,%[hdr]), %%edx\n\t"	/* cur */
		"cmpl 4(%%rax,%[hdr]), %%edx\n\t"	/* cap */
		"jae %l[fail]\n\t"			/* full */
		"movq %[slot], %%rcx\n\t"
		"addq %%rax, %%rcx\n\t"
		"testl %%edx, %%edx\n\t"
		"jz .Lstore%=\n\t"
		"cmpq %[obj], -8(%%rcx,%%rdx,8)\n\t"	/* the object freed last */
		"je %l[dbl]\n\t"
		".Lstore%=:\n\t"
		"movq %[obj], (%%rcx,%%rdx,8)\n\t"	/* past cur: not owned yet */
		"addl $1, %%edx\n\t"
		"movl %%edx, (%%rax,%[hdr])\n\t"	/* commit */
		".Lcommit%=:\n\t"
		RSEQ_ABORT
		:
		: [rs] "r"(rs), [idx] "r"(idx_off), [base] "m"(*base), [hdr] "r"(hdr_off),
		  [slot] "rm"(*slots_off), [obj] "r"(obj)
		: "rax", "rcx", "rdx", "memory", "cc"
		: fail, dbl);
	return RSEQ_PUSH_OK;
fail:
	return RSEQ_PUSH_FAIL;
dbl:
	return RSEQ_PUSH_DOUBLE;
}

/*
 * Move up to n objects from the top of this CPU's array into out[];
 * returns how many.  The copy happens inside the critical section and
 * the count is committed last, so an abort leaves the array untouched.
 */
static __always_inline uint32_t rseq_pop_batch(struct kmem_rseq_abi *rs,
					       uintptr_t idx_off,
					       uintptr_t base, uintptr_t hdr_off,
					       uintptr_t slots_off, void **out,
					       uint32_t n)
{
	uint32_t k;

	__asm__ __volatile__(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]")
		RSEQ_REGION("%[rs]", "%[idx]", "%[base]", ".Lfail%=")
		"movl (%%rax,%[hdr]), %%edx\n\t"	/* cur */
		"movl %%edx, %[k]\n\t"
		"cmpl %[n], %[k]\n\t"
		"cmoval %[n], %[k]\n\t"			/* k = min(cur, n) */
		"subl %[k], %%edx\n\t"			/* new cur */
		"leaq (%%rax,%[slot]), %%rcx\n\t"
		"leaq (%%rcx,%%rdx,8), %%rcx\n\t"	/* first object to take */
		"xorl %%esi, %%esi\n\t"
		".Lloop%=:\n\t"
		"cmpl %[k], %%esi\n\t"
		"jae .Lcopied%=\n\t"
		"movq (%%rcx,%%rsi,8), %%rdi\n\t"
		"movq %%rdi, (%[out],%%rsi,8)\n\t"
		"addl $1, %%esi\n\t"
		"jmp .Lloop%=\n\t"
		".Lcopied%=:\n\t"
		"movl %%edx, (%%rax,%[hdr])\n\t"	/* commit */
		".Lcommit%=:\n\t"
		"jmp .Ldone%=\n\t"
		".Lfail%=:\n\t"
		"xorl %[k], %[k]\n\t"
		".Ldone%=:\n\t"
		RSEQ_ABORT
		: [k] "=&r"(k)
		: [rs] "r"(rs), [idx] "r"(idx_off), [base] "r"(base), [hdr] "r"(hdr_off),
		  [slot] "r"(slots_off), [out] "r"(out), [n] "r"(n)
		: "rax", "rcx", "rdx", "rsi", "rdi", "memory", "cc");
	return k;
}

/*
 * Move up to n objects from in[] into this CPU's array; returns how many
 * (in[0..k) were taken).  Slots are written past the count first and the
 * count committed last.
 */
static __always_inline uint32_t rseq_push_batch(struct kmem_rseq_abi *rs,
						uintptr_t idx_off,
						uintptr_t base, uintptr_t hdr_off,
						uintptr_t slots_off, void *const *in,
						uint32_t n)
{
	uint32_t k;

	__asm__ __volatile__(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]")
		RSEQ_REGION("%[rs]", "%[idx]", "%[base]", ".Lfail%=")
		"movl (%%rax,%[hdr]), %%edx\n\t"	/* cur */
		"movl 4(%%rax,%[hdr]), %[k]\n\t"	/* cap */
		"subl %%edx, %[k]\n\t"			/* room (cur <= cap) */
		"cmpl %[n], %[k]\n\t"
		"cmoval %[n], %[k]\n\t"			/* k = min(room, n) */
		"leaq (%%rax,%[slot]), %%rcx\n\t"
		"leaq (%%rcx,%%rdx,8), %%rcx\n\t"	/* first free slot */
		"xorl %%esi, %%esi\n\t"
		".Lloop%=:\n\t"
		"cmpl %[k], %%esi\n\t"
		"jae .Lcopied%=\n\t"
		"movq (%[in],%%rsi,8), %%rdi\n\t"
		"movq %%rdi, (%%rcx,%%rsi,8)\n\t"
		"addl $1, %%esi\n\t"
		"jmp .Lloop%=\n\t"
		".Lcopied%=:\n\t"
		"addl %[k], %%edx\n\t"
		"movl %%edx, (%%rax,%[hdr])\n\t"	/* commit */
		".Lcommit%=:\n\t"
		"jmp .Ldone%=\n\t"
		".Lfail%=:\n\t"
		"xorl %[k], %[k]\n\t"
		".Ldone%=:\n\t"
		RSEQ_ABORT
		: [k] "=&r"(k)
		: [rs] "r"(rs), [idx] "r"(idx_off), [base] "r"(base), [hdr] "r"(hdr_off),
		  [slot] "r"(slots_off), [in] "r"(in), [n] "r"(n)
		: "rax", "rcx", "rdx", "rsi", "rdi", "memory", "cc");
	return k;
}

#endif /* KMEM_RSEQ_X86_64_H */
