# bench/pages.mk - the page allocator micro-benchmark (issue 2), included
# by the top Makefile.
#
#   make bench-pages [BENCH_PAGES_ARGS="-n 200000 -r 5 -t 2"]
#
# bench/bench_pages.c is linked statically with $(BUILD)/libkmem-core.a
# and prints ns per alloc/free pair for every order, 1 and 2 threads.

BENCH_PAGES      := $(BUILD)/bench/bench_pages
BENCH_PAGES_ARGS ?=

$(BENCH_PAGES): bench/bench_pages.c $(BUILD)/libkmem-core.a include/kmem.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -Iinclude -pthread \
		$< -o $@ $(BUILD)/libkmem-core.a $(LIBS)

.PHONY: bench-pages
bench-pages: $(BENCH_PAGES)
	$(BENCH_PAGES) $(BENCH_PAGES_ARGS)
