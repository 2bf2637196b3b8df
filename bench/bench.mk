# bench/bench.mk - allocator benchmarks (included by the top Makefile).
#
#   make bench        the full matrix -> docs/benchmarks.md, docs/benchmarks.png
#                     (about 17 minutes on 2 cores; not part of make test)
#   make bench-quick  a short smoke pass -> $(BUILD)/bench/benchmarks-quick.md;
#                     it asserts nothing about speed, only that every
#                     workload runs under every allocator
#
# Everything is built into $(BUILD)/bench/ and linked with the C library's
# malloc; bench/run.py preloads kmem, jemalloc, tcmalloc or mimalloc (or
# nothing: glibc) into each run.  BENCH_ARGS passes options to run.py
# (e.g. BENCH_ARGS="--runs 5" or "--only larson,micro").

BENCH_DIR    := $(BUILD)/bench
BENCH_CFLAGS := -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -pthread \
	-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
	-fno-builtin-free
BENCH_PROGS  := larson xmalloc cache_scratch frag_churn large_blocks pairs \
	mixed_stress idle_return
BENCH_BINS   := $(BENCH_PROGS:%=$(BENCH_DIR)/%) $(BENCH_DIR)/micro \
	$(BENCH_DIR)/libglibc_shim.so
PYTHON       ?= python3

$(BENCH_DIR)/%: bench/%.c bench/common.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@

$(BENCH_DIR)/workloads.o: bench/workloads.c bench/workloads.h bench/common.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(BENCH_DIR)/micro: bench/micro.cc bench/workloads.h $(BENCH_DIR)/workloads.o
	$(CXX) -std=c++17 -O2 -g -pthread $< $(BENCH_DIR)/workloads.o -o $@ \
		-lbenchmark -ldl -lpthread

$(BENCH_DIR)/libglibc_shim.so: bench/glibc_shim.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -fPIC -shared $< -o $@ -ldl

.PHONY: bench-progs
bench-progs: $(BENCH_BINS)

bench: deps lib bench-progs
	$(PYTHON) bench/run.py --build $(BUILD) --out docs/benchmarks.md \
		--chart docs/benchmarks.png $(BENCH_ARGS)

bench-quick: deps lib bench-progs
	$(PYTHON) bench/run.py --quick --build $(BUILD) \
		--out $(BENCH_DIR)/benchmarks-quick.md \
		--chart $(BENCH_DIR)/benchmarks-quick.png $(BENCH_ARGS)
