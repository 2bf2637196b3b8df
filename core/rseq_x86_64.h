/* SPDX-License-Identifier: MIT */
/*
 * core/rseq_x86_64.h - the restartable sequences of percpu.c, for x86-64.
 *
 * Layer: part of percpu.c (included through percpu.h, whose inline fast
 * paths use rseq_pop and rseq_push).  Each function is one rseq critical
 * section over a per-CPU region (percpu.h has its layout):
 *
 *           if kmem is not set up (rs == 0): give up
 *   start:  if cpu_id < 0: give up        (thread not registered)
 *           cpu = *index_field            (mm_cid or cpu_id)
 *           region = base + cpu << PCPU_REGION_SHIFT
 *           chunk = region + chunk offset of the class
 *           ... read chunk->cur, move object pointers ...
 *           store the new count           <- the single commit store
 *                                            (the random push's: 8 bytes,
 *                                            the count with the selector)
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

/*
 * The thread's rseq area is addressed through %fs: rs is glibc's
 * __rseq_offset (the area's offset from the thread pointer) and ix the
 * offset of the index field (mm_cid or cpu_id) from the thread pointer,
 * both loaded once from struct percpu_fast.
 *
 * rseq_cs = &descriptor (the one field of the area we write), unless rs
 * is 0: kmem is not set up yet (a malloc from another library's
 * constructor that runs before kmem's).  Offset 0 is the thread pointer
 * itself, and fs:8 glibc's DTV pointer, which the store would overwrite;
 * a TLS offset cannot be an initial value (C has no such constant, and
 * ld.so does not relocate one in a shared object's data), so 0 it is,
 * and this test, outside the retried part, refuses it.
 */
#define RSEQ_ENTER(rs, fail)                                              \
	"testq " rs ", " rs "\n\t"                                        \
	"jz " fail "\n\t"                                                 \
	".Lretry%=:\n\t"                                                  \
	"leaq .Lcs%=(%%rip), %%rax\n\t"                                   \
	"movq %%rax, %%fs:8(" rs ")\n\t"                                  \
	".Lstart%=:\n\t"

/*
 * rax = this CPU's region, or jump to fail when the thread is not
 * registered (cpu_id < 0: then the kernel would not abort the section,
 * and mm_cid means nothing).  The index needs no range check: regions are
 * reserved for every possible CPU (mm_cid and cpu_id are below
 * nr_cpu_ids), see percpu_setup().
 */
#define RSEQ_REGION(rs, ix, base, fail)                                   \
	"cmpl $0, %%fs:4(" rs ")\n\t"                                     \
	"jl " fail "\n\t"                                                 \
	"movl %%fs:(" ix "), %%eax\n\t"                                   \
	"shlq $" __RSEQ_STR(PCPU_REGION_SHIFT) ", %%rax\n\t"              \
	"addq " base ", %%rax\n\t"

/*
 * The pushes name the base of the regions (pcpu.cpu_regions, hidden, so
 * a rip-relative load of it needs no GOT) in the asm itself: given as a
 * memory operand, it had the compiler hold &pcpu in a register, and free
 * then saved and restored a callee-saved one for it.  Needs the operand
 * [regs] "i"(offsetof(struct percpu_fast, cpu_regions)).
 */
#define PCPU_REGIONS_RIP "pcpu+%c[regs](%%rip)"

#define RSEQ_ABORT                                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                         \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                      \
	".long " __RSEQ_STR(KMEM_RSEQ_SIG) "\n\t"                         \
	".Labort%=:\n\t"                                                  \
	"jmp .Lretry%=\n\t"                                               \
	".popsection\n\t"

/*
 * chunk is a chunk id (percpu.h): the class's chunk is at region + 8 * id,
 * slot i at chunk + 16 + 8 * i (after cur, cap, sel and side[2]).
 *
 * Pop the top object of the class at chunk from this CPU's region, after
 * taking size off the region's sampling countdown.  NULL when the stack
 * is empty or locked, the countdown ran out, or the region is unusable:
 * asm goto, so those exits jump straight to the caller's slow path.
 */
static __always_inline void *rseq_pop(ptrdiff_t rs, ptrdiff_t ix,
				      const uintptr_t *base, uintptr_t chunk,
				      size_t size)
{
	void *obj;
	uint64_t cur;

	__asm__ goto(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]", "%l[fail]")
		RSEQ_REGION("%[rs]", "%[ix]", "%[base]", "%l[fail]")
		"subq %[size], (%%rax)\n\t"		/* sample.left */
		"js %l[fail]\n\t"
		"leaq (%%rax,%[chunk],8), %%rax\n\t"
		"movl (%%rax), %k[cur]\n\t"
		"subl $1, %k[cur]\n\t"
		"jl %l[fail]\n\t"			/* empty or locked */
		"movq 24(%%rax,%[cur],8), %[obj]\n\t"	/* slot[cur] */
		"movl %k[cur], (%%rax)\n\t"		/* commit */
		".Lcommit%=:\n\t"
		RSEQ_ABORT
		: [obj] "=&r"(obj), [cur] "=&r"(cur)
		: [rs] "r"(rs), [ix] "r"(ix), [base] "m"(*base),
		  [chunk] "r"(chunk), [size] "r"(size)
		: "rax", "memory", "cc"
		: fail);
	return pcpu_object(obj);
fail:
	return NULL;
}

/*
 * rax = the chunk of id [chunk] in the region in rax, edx its count (ecx
 * clobbered); jump to fail unless it has room and is not locked (the lock
 * bit makes cur >= cap).  The start of the one-object pushes.
 */
#define RSEQ_CHUNK_ROOM(fail)                                             \
	"leaq (%%rax,%[chunk],8), %%rax\n\t"                              \
	"movl (%%rax), %%edx\n\t"			/* cur */             \
	"movzwl 4(%%rax), %%ecx\n\t"			/* cap */             \
	"cmpl %%ecx, %%edx\n\t"                                           \
	"jae " fail "\n\t"

/*
 * The random-order push of obj onto the chunk (chunk id [chunk]) of the
 * region in %rax, as rseq_push describes it, ending in the store that
 * commits it; jumps to fail when the stack is full or locked or a swap
 * finds the side empty.  Shared by rseq_push and thread mode's
 * thread_push_random, which runs it on the thread's own region.
 */
#define PCPU_PUSH_BODY(fail) \
		"movq %c[rnd](%%rax), %%rcx\n\t"	/* reuse_rnd: its top bit */ \
		"imulq $" __RSEQ_STR(PCPU_REUSE_MULT) ", %%rcx, %%rsi\n\t" \
		"movq %%rsi, %c[rnd](%%rax)\n\t"	/* stepped for the next push */ \
		"shrq $63, %%rcx\n\t"			/* b */ \
		"leaq (%%rax,%[chunk],8), %%rax\n\t" \
		"movl (%%rax), %%edx\n\t"		/* cur */ \
		"movzwl 4(%%rax), %%esi\n\t"		/* cap */ \
		"cmpl %%esi, %%edx\n\t"		/* locked: cur >= cap */ \
		"jae " fail "\n\t" \
		"movzbl 6(%%rax), %%edi\n\t"		/* sel */ \
		"movq 8(%%rax,%%rdi,8), %%rsi\n\t"	/* side[sel] */ \
		"xorl $1, %%edi\n\t" \
		"movq %[obj], 8(%%rax,%%rdi,8)\n\t"	/* side[!sel] = obj */ \
		"testl %%ecx, %%ecx\n\t" \
		"cmovzq %[obj], %%rsi\n\t"		/* the top: the side if b */ \
		"testq %%rsi, %%rsi\n\t" \
		"jz " fail "\n\t"			/* an empty side: rseq_push_side */ \
		"movq %%rsi, 24(%%rax,%%rdx,8)\n\t"	/* slot[cur + 1] */ \
		"xorl %%ecx, %%edi\n\t" \
		"xorl $1, %%edi\n\t"			/* sel ^ b */ \
		"movzwl 4(%%rax), %%esi\n\t"		/* cap */ \
		"shll $16, %%edi\n\t" \
		"orl %%esi, %%edi\n\t"			/* cap | (sel ^ b) << 16 */ \
		"shlq $32, %%rdi\n\t" \
		"addl $1, %%edx\n\t" \
		"orq %%rdx, %%rdi\n\t" \
		"movq %%rdi, (%%rax)\n\t"		/* commit count and sel */

/*
 * Push obj onto the class at chunk, in one section: true if committed.
 * false when the stack is full or locked, the region unusable, or a swap
 * finds the side slot empty (a new or drained chunk: rseq_push_side then
 * fills it).  The caller has written obj's first word already (its free
 * tag): nothing else owns obj, and a write outside the section saves the
 * register that would otherwise cost free the save and restore of a
 * callee-saved one.
 *
 * Where obj goes is the reuse order of percpu.h: the region's generator
 * is stepped (a store outside the committed state: any odd value will
 * do), and its top bit b picks either "obj on top" or "obj to the side,
 * the object that was there on top".  Written before the commit, outside
 * the committed state: the generator, side[!sel] (obj, which only a swap
 * makes live) and slot cur + 1.  The object for the top is then
 * side[!sel ^ b] whichever b is (obj, just stored there, or the old
 * side): one load.  The commit is one 8-byte store of {cur + 1, cap,
 * sel ^ b}.  The count is read with a 4-byte load, as the pop stores it:
 * an 8-byte load of {cur, cap, sel} cannot be forwarded from that store
 * and waits for it to reach the cache (1 ns more a malloc+free pair).
 * Five scratch registers: with rs, ix, chunk and obj, the nine that a
 * function may use without saving one.
 */
static __always_inline bool rseq_push(ptrdiff_t rs, ptrdiff_t ix,
				      uintptr_t chunk, void *obj)
{
	__asm__ goto(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]", "%l[fail]")
		RSEQ_REGION("%[rs]", "%[ix]", PCPU_REGIONS_RIP, "%l[fail]")
		PCPU_PUSH_BODY("%l[fail]")
		".Lcommit%=:\n\t"
		RSEQ_ABORT
		:
		: [rs] "r"(rs), [ix] "r"(ix), [chunk] "r"(chunk), [obj] "r"(obj),
		  [regs] "i"(offsetof(struct percpu_fast, cpu_regions)),
		  [rnd] "i"(offsetof(struct pcpu_region_hdr, reuse_rnd))
		: "rax", "rcx", "rdx", "rsi", "rdi", "memory", "cc"
		: fail);
	return true;
fail:
	return false;
}

/*
 * Thread mode's random-order push onto chunk of region r, the thread's
 * own (the caller holds it busy against its signal handlers): the same
 * instructions as rseq_push with no section around them, true if done;
 * false when full or when a swap finds the side empty (chunk_push then
 * does it).  As asm rather than C, because the compiler's version of the
 * same order was 9 instructions longer or, where it branched on b, was
 * mispredicted half the time (11.2 against 9.7 ns a malloc+free pair).
 */
static __always_inline bool thread_push_random(void *r, uintptr_t chunk,
					       void *obj)
{
	__asm__ goto(
		"movq %[r], %%rax\n\t"
		PCPU_PUSH_BODY("%l[fail]")
		:
		: [r] "r"(r), [chunk] "r"(chunk), [obj] "r"(obj),
		  [rnd] "i"(offsetof(struct pcpu_region_hdr, reuse_rnd))
		: "rax", "rcx", "rdx", "rsi", "rdi", "memory", "cc"
		: fail);
	return true;
fail:
	return false;
}

/* obj into the empty side slot of the class at chunk (the slow half of
 * free, where rseq_push found it empty): true if committed; false when
 * the stack is full or locked, or the side is taken already. */
static __always_inline bool rseq_push_side(ptrdiff_t rs, ptrdiff_t ix,
					   uintptr_t chunk, void *obj)
{
	__asm__ goto(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]", "%l[fail]")
		RSEQ_REGION("%[rs]", "%[ix]", PCPU_REGIONS_RIP, "%l[fail]")
		RSEQ_CHUNK_ROOM("%l[fail]")
		"movzbl 6(%%rax), %%ecx\n\t"		/* sel */
		"cmpq $0, 8(%%rax,%%rcx,8)\n\t"
		"jne %l[fail]\n\t"			/* side[sel] taken */
		"movq %[obj], 8(%%rax,%%rcx,8)\n\t"	/* commit: side[sel] = obj */
		".Lcommit%=:\n\t"
		RSEQ_ABORT
		:
		: [rs] "r"(rs), [ix] "r"(ix), [chunk] "r"(chunk), [obj] "r"(obj),
		  [regs] "i"(offsetof(struct percpu_fast, cpu_regions))
		: "rax", "rcx", "rdx", "memory", "cc"
		: fail);
	return true;
fail:
	return false;
}

/* The same push with obj always on top (KMEM_REUSE=lifo): slot cur + 1,
 * then the count. */
static __always_inline bool rseq_push_lifo(ptrdiff_t rs, ptrdiff_t ix,
					   uintptr_t chunk, void *obj)
{
	__asm__ goto(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]", "%l[fail]")
		RSEQ_REGION("%[rs]", "%[ix]", PCPU_REGIONS_RIP, "%l[fail]")
		RSEQ_CHUNK_ROOM("%l[fail]")
		"movq %[obj], 24(%%rax,%%rdx,8)\n\t"	/* slot[cur + 1] */
		"addl $1, %%edx\n\t"
		"movl %%edx, (%%rax)\n\t"		/* commit */
		".Lcommit%=:\n\t"
		RSEQ_ABORT
		:
		: [rs] "r"(rs), [ix] "r"(ix), [chunk] "r"(chunk), [obj] "r"(obj),
		  [regs] "i"(offsetof(struct percpu_fast, cpu_regions))
		: "rax", "rcx", "rdx", "memory", "cc"
		: fail);
	return true;
fail:
	return false;
}

/*
 * Move up to n objects from the top of this CPU's stack into out[];
 * returns how many.  The copy happens inside the critical section and the
 * count is committed last, so an abort leaves the stack untouched.
 */
static __always_inline uint32_t rseq_pop_batch(ptrdiff_t rs, ptrdiff_t ix,
					       uintptr_t base, uintptr_t chunk,
					       void **out, uint32_t n)
{
	uint32_t k;

	__asm__ __volatile__(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]", ".Lfail%=")
		RSEQ_REGION("%[rs]", "%[ix]", "%[base]", ".Lfail%=")
		"leaq (%%rax,%[chunk],8), %%rax\n\t"
		"movl (%%rax), %%edx\n\t"		/* cur */
		"testl %%edx, %%edx\n\t"
		"jle .Lfail%=\n\t"			/* empty or locked */
		"movl %%edx, %[k]\n\t"
		"cmpl %[n], %[k]\n\t"
		"cmoval %[n], %[k]\n\t"			/* k = min(cur, n) */
		"subl %[k], %%edx\n\t"			/* new cur */
		"leaq 24(%%rax,%%rdx,8), %%rcx\n\t"	/* first object to take */
		"xorl %%esi, %%esi\n\t"
		".Lloop%=:\n\t"
		"cmpl %[k], %%esi\n\t"
		"jae .Lcopied%=\n\t"
		"movq (%%rcx,%%rsi,8), %%rdi\n\t"
		"movq %%rdi, (%[out],%%rsi,8)\n\t"
		"addl $1, %%esi\n\t"
		"jmp .Lloop%=\n\t"
		".Lcopied%=:\n\t"
		"movl %%edx, (%%rax)\n\t"		/* commit */
		".Lcommit%=:\n\t"
		"jmp .Ldone%=\n\t"
		".Lfail%=:\n\t"
		"xorl %[k], %[k]\n\t"
		".Ldone%=:\n\t"
		RSEQ_ABORT
		: [k] "=&r"(k)
		: [rs] "r"(rs), [ix] "r"(ix), [base] "r"(base),
		  [chunk] "r"(chunk), [out] "r"(out), [n] "r"(n)
		: "rax", "rcx", "rdx", "rsi", "rdi", "memory", "cc");
	return k;
}

/*
 * Move up to n objects from in[] onto this CPU's stack; returns how many
 * (in[0..k) were taken).  Slots are written past the count first and the
 * count committed last.
 */
static __always_inline uint32_t rseq_push_batch(ptrdiff_t rs, ptrdiff_t ix,
						uintptr_t base, uintptr_t chunk,
						void *const *in, uint32_t n)
{
	uint32_t k;

	__asm__ __volatile__(
		RSEQ_CS_TABLE
		RSEQ_ENTER("%[rs]", ".Lfail%=")
		RSEQ_REGION("%[rs]", "%[ix]", "%[base]", ".Lfail%=")
		"leaq (%%rax,%[chunk],8), %%rax\n\t"
		"movl (%%rax), %%edx\n\t"		/* cur */
		"movzwl 4(%%rax), %[k]\n\t"		/* cap */
		"cmpl %[k], %%edx\n\t"
		"jae .Lfail%=\n\t"			/* full or locked */
		"subl %%edx, %[k]\n\t"			/* room */
		"cmpl %[n], %[k]\n\t"
		"cmoval %[n], %[k]\n\t"			/* k = min(room, n) */
		"leaq 24(%%rax,%%rdx,8), %%rcx\n\t"	/* slot[cur + 1] */
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
		"movl %%edx, (%%rax)\n\t"		/* commit */
		".Lcommit%=:\n\t"
		"jmp .Ldone%=\n\t"
		".Lfail%=:\n\t"
		"xorl %[k], %[k]\n\t"
		".Ldone%=:\n\t"
		RSEQ_ABORT
		: [k] "=&r"(k)
		: [rs] "r"(rs), [ix] "r"(ix), [base] "r"(base),
		  [chunk] "r"(chunk), [in] "r"(in), [n] "r"(n)
		: "rax", "rcx", "rdx", "rsi", "rdi", "memory", "cc");
	return k;
}

#endif /* KMEM_RSEQ_X86_64_H */
