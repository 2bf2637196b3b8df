# bench/percpu.mk - the figures behind docs/zones.md.
#
#   make bench-percpu   this_cpu_inc against an atomic fetch-add and a
#                       mutex-protected counter (1 and 2 threads), and a
#                       kmap_atomic + kunmap_atomic round trip
#                       (bench/percpu_counter.c; a few seconds)

$(BUILD)/bench/percpu_counter: bench/percpu_counter.c bench/common.h \
		$(BUILD)/libkmem.so
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Iinclude -pthread $< \
		-o $@ -L$(BUILD) -Wl,-rpath,$(abspath $(BUILD)) -lkmem

.PHONY: bench-percpu
bench-percpu: $(BUILD)/bench/percpu_counter
	$(BUILD)/bench/percpu_counter
	KMEM_PERCPU=thread $(BUILD)/bench/percpu_counter
