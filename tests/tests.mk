# tests/tests.mk - included by the top Makefile.
#
# tests/unit/test_*.c   Check suites linked with the core alone
#                       (build/libkmem-core.a) beside glibc's malloc.
# tests/api/test_*.c    Check suites linked with the whole library, so
#                       malloc itself is kmem's (the preload ABI).
# tests/scripts/*.sh    shell tests: LD_PRELOAD'ed programs, real programs.
# tests/run.sh runs them all and ends with "N passed, N failed, N skipped"
# (TESTS="PATTERN... -PATTERN..." picks some: see tests/run.sh).
#
#   make fastpath-doc     regenerate docs/fastpath.md's listings from this
#                         build's machine code (bin/gen-fastpath-doc)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
TEST_CFLAGS  := -std=gnu11 -g -O1 $(WARN) -D_GNU_SOURCE -Iinclude -Icore \
	-Itests -pthread $(CHECK_CFLAGS) $(SANFLAGS) $(CFLAGS)
# -rdynamic: debug reports name test functions (dladdr).
TEST_LIBS    := $(CHECK_LIBS) -lurcu-bp -lpthread -lm -rdynamic $(LINKFLAGS)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
API_SRCS  := $(sort $(wildcard tests/api/test_*.c))
HELPER_SRCS := $(sort $(wildcard tests/progs/*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
API_BINS  := $(API_SRCS:tests/api/%.c=$(BUILD)/tests/api/%)
HELPER_BINS := $(HELPER_SRCS:tests/progs/%.c=$(BUILD)/tests/progs/%)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libkmem-core.a $(wildcard tests/*.h) \
		$(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< -o $@ $(BUILD)/libkmem-core.a $(TEST_LIBS)

$(BUILD)/tests/api/%: tests/api/%.c $(BUILD)/libkmem.so $(wildcard tests/*.h) \
		$(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< -o $@ -L$(BUILD) -Wl,-rpath,$(abspath $(BUILD)) -lkmem $(TEST_LIBS)

# Helper programs for shell tests: plain programs, kmem comes by LD_PRELOAD.
$(BUILD)/tests/progs/%: tests/progs/%.c $(wildcard tests/progs/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -pthread $(CFLAGS) $< \
		-o $@ -lm $(LDFLAGS)

# Programs linked with the core alone, as the unit tests are, run by a
# shell test (tests/scripts/nodeadlock_atomic_signal.sh: kmalloc with
# GFP_ATOMIC from signal handlers).
STATIC_SRCS := tests/static/atomic_signal.c
STATIC_BINS := $(STATIC_SRCS:tests/static/%.c=$(BUILD)/tests/static/%)

$(BUILD)/tests/static/%: tests/static/%.c $(BUILD)/libkmem-core.a \
		$(wildcard tests/progs/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< -o $@ $(BUILD)/libkmem-core.a $(TEST_LIBS)

# Under AddressSanitizer the sanitizer owns malloc: test the core only
# (the preload scripts skip themselves when libkmem.so carries ASan).
# (and API test binaries left in $(BUILD) by another build go, so that
# tests/run.sh does not run them against this libkmem.so).
NO_API_BINS :=
ifneq ($(findstring address,$(SAN))$(findstring thread,$(SAN)),)
NO_API_BINS := $(API_BINS)
API_BINS :=
endif

.PHONY: tests fastpath-doc
tests: lib $(UNIT_BINS) $(API_BINS) $(HELPER_BINS) $(STATIC_BINS)
ifneq ($(NO_API_BINS),)
	@rm -f $(NO_API_BINS)
endif

test: deps tests
	@BUILD=$(BUILD) tests/run.sh $(TESTS)

fastpath-doc: lib
	BUILD=$(BUILD) bin/gen-fastpath-doc
