# bench/debug.mk - included by the top Makefile.
#
#   make bench-debug    the cost of debug mode (bench/bench_debug.c):
#                       ns per operation for kmem, kmem with KMEM_DEBUG=ZP, =FZP
#                       and =FZPU, glibc, and glibc with MALLOC_CHECK_=3
#                       (libc_malloc_debug.so preloaded, as glibc >= 2.34
#                       needs), then the ratios.  Through LD_PRELOAD when
#                       libkmem.so exports malloc, else kmem_kmalloc direct.

BENCH_DEBUG_CFLAGS := -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -Iinclude
GLIBC_MALLOC_DEBUG ?= $(firstword $(wildcard /usr/lib/*-linux-gnu/libc_malloc_debug.so.0 /lib/*-linux-gnu/libc_malloc_debug.so.0))

$(BUILD)/bench/bench_debug: bench/bench_debug.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_DEBUG_CFLAGS) $< -o $@

$(BUILD)/bench/bench_debug_core: bench/bench_debug.c $(BUILD)/libkmem-core.a
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_DEBUG_CFLAGS) -DUSE_KMEM_CORE $< -o $@ $(BUILD)/libkmem-core.a $(LIBS)

.PHONY: bench-debug
bench-debug: $(BUILD)/bench/bench_debug $(BUILD)/bench/bench_debug_core $(BUILD)/libkmem.so
	@b=$(BUILD)/bench/bench_debug; lib=$(abspath $(BUILD)/libkmem.so); \
	if nm -D --defined-only $$lib | grep -qw malloc; then \
	  kmem() { LD_PRELOAD=$$lib "$$@" $$b; }; how="LD_PRELOAD=libkmem.so"; \
	else \
	  kmem() { env "$$@" $(BUILD)/bench/bench_debug_core; }; how="kmem_kmalloc direct (no preload/)"; \
	fi; \
	run() { name=$$1; shift; "$$@" | sed -n "s/^RESULT workload=\([a-z]*\) ns_per_op=\([0-9.]*\).*/$$name \1 \2/p"; }; \
	{ run glibc env $$b; \
	  if [ -n "$(GLIBC_MALLOC_DEBUG)" ]; then \
	    run glibc-check3 env LD_PRELOAD=$(GLIBC_MALLOC_DEBUG) MALLOC_CHECK_=3 $$b; fi; \
	  run kmem kmem env; \
	  run kmem-ZP kmem env KMEM_DEBUG=ZP; \
	  run kmem-FZP kmem env KMEM_DEBUG=FZP; \
	  run kmem-FZPU kmem env KMEM_DEBUG=FZPU; \
	} > $(BUILD)/bench/debug.txt; \
	echo "kmem via $$how; ns per operation (pairs: malloc+free of 64 B; mixed: free+malloc, 8..2048 B)"; \
	awk '{ ns[$$1" "$$2] = $$3; if (!seen[$$1]++) order[n++] = $$1 } \
	  END { printf "%-14s %10s %10s %12s %12s\n", "allocator", "pairs", "mixed", "pairs/kmem", "mixed/kmem"; \
	    for (i = 0; i < n; i++) { a = order[i]; \
	      printf "%-14s %10.1f %10.1f %12.2f %12.2f\n", a, ns[a" pairs"], ns[a" mixed"], \
	        ns[a" pairs"] / ns["kmem pairs"], ns[a" mixed"] / ns["kmem mixed"] } \
	    if (ns["glibc-check3 pairs"]) \
	      printf "kmem FZPU / glibc MALLOC_CHECK_=3: pairs %.2f, mixed %.2f\n", \
	        ns["kmem-FZPU pairs"] / ns["glibc-check3 pairs"], ns["kmem-FZPU mixed"] / ns["glibc-check3 mixed"] }' \
	  $(BUILD)/bench/debug.txt
