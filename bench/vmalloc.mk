# bench/vmalloc.mk - standalone timing of vmalloc/vfree and vrealloc growth
# through the kmem_* API (core/vmalloc.c), beside glibc's malloc/realloc.
#
#   make bench-vmalloc      build and run $(BUILD)/bench/bench_vmalloc
#
# The malloc-level comparison with jemalloc, tcmalloc and mimalloc is in
# the main benchmark suite; this is a quick program for this layer.

$(BUILD)/bench/bench_vmalloc: bench/bench_vmalloc.c $(BUILD)/libkmem-core.a
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Iinclude -Icore $< \
		-o $@ $(BUILD)/libkmem-core.a -lurcu-bp -lpthread

.PHONY: bench-vmalloc
bench-vmalloc: $(BUILD)/bench/bench_vmalloc
	$(BUILD)/bench/bench_vmalloc
