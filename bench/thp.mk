# bench/thp.mk - the figures behind docs/observability.md.
#
#   make bench-thp      KMEM_THP modes side by side (bench/thp.sh, ~10 min)
#   make bench-prof     the cost of one heap-profile sample (bench/prof_cost.c)

$(BUILD)/bench/thp_tlb: bench/thp_tlb.c bench/common.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -fno-builtin-malloc \
		-fno-builtin-free $< -o $@

.PHONY: bench-thp
bench-thp: lib $(BUILD)/bench/thp_tlb
	BUILD=$(BUILD) bench/thp.sh

# bench/prof_cost.c: the cost of one heap-profile sample (core/profile.c).
$(BUILD)/bench/prof_cost: bench/prof_cost.c $(BUILD)/libkmem-core.a
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Iinclude -Icore $< \
		-o $@ $(BUILD)/libkmem-core.a -lurcu-bp -lpthread

.PHONY: bench-prof
bench-prof: $(BUILD)/bench/prof_cost
	$(BUILD)/bench/prof_cost 12
	$(BUILD)/bench/prof_cost 40
