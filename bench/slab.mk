# bench/slab.mk - included by the top Makefile.
#
#   make bench-slab          ns per alloc/free pair per size: kmem_cache,
#                            kmalloc, glibc (bench/bench_slab.c)
#   make size-classes-doc    regenerate docs/size-classes.md from the code

BENCH_SLAB_CFLAGS := -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -Iinclude -Icore

$(BUILD)/bench/bench_slab: bench/bench_slab.c $(BUILD)/libkmem-core.a
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_SLAB_CFLAGS) $< -o $@ $(BUILD)/libkmem-core.a $(LIBS)

$(BUILD)/bench/size_classes: bench/size_classes.c $(BUILD)/libkmem-core.a
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_SLAB_CFLAGS) $< -o $@ $(BUILD)/libkmem-core.a $(LIBS)

.PHONY: bench-slab size-classes-doc
bench-slab: $(BUILD)/bench/bench_slab
	$(BUILD)/bench/bench_slab

size-classes-doc: $(BUILD)/bench/size_classes
	@mkdir -p docs
	$(BUILD)/bench/size_classes > docs/size-classes.md
