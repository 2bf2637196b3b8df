# kmem - the Linux kernel's memory-management design in user space.
#
#   make            build/libkmem.so and build/libkmem.a
#   make run        install what is missing, build, run a real program under kmem
#   make test       every test suite (unit, API, stress, preload, real programs)
#   make bench      full benchmark run -> docs/benchmarks.md (slow)
#   make bench-quick  a short smoke pass of the benchmarks
#   make install    PREFIX=/usr/local
#
# Variables: DEBUG=1 (assertions, -O0), SAN=address|undefined|thread
# (or a list: SAN=address,undefined), WERROR=1 (warnings are errors; CI
# sets it), CFLAGS and LDFLAGS (added to every compile and link),
# BUILD=dir (default build).  The flags are recorded in $(BUILD)/flags:
# a change of any of them rebuilds everything in that directory.

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
CXX     ?= c++

WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     := -O2
ifeq ($(DEBUG),1)
OPT     := -O0 -DKMEM_DEBUG_BUILD=1 -DKMEM_EXPENSIVE_CHECKS=1
endif
SANFLAGS :=
ifneq ($(SAN),)
# Every finding stops the program, so that a test fails on it.
SANFLAGS := -fsanitize=$(SAN) -fno-sanitize-recover=all
endif

# -fno-builtin: GCC would turn malloc+memset into calloc inside calloc.
# Frame pointers stay, so perf call graphs through kmem are whole, except
# in leaf functions and those that only tail-call (-momit-leaf-frame-pointer):
# the fast halves of malloc and free, whose caller a sample then misses.
LIBCFLAGS := -std=gnu11 -g $(OPT) $(WARN) -fPIC -fvisibility=hidden \
	-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
	-fno-builtin-free -fno-omit-frame-pointer -momit-leaf-frame-pointer \
	-ftls-model=initial-exec \
	-fno-semantic-interposition -D_GNU_SOURCE -Iinclude -Icore $(SANFLAGS) \
	$(CFLAGS)
LIBS    := -lurcu-bp -lpthread
LINKFLAGS := $(SANFLAGS) $(LDFLAGS)

CORE_SRCS    := $(sort $(wildcard core/*.c))
CORE_ASM     := $(sort $(wildcard core/*.S))
PRELOAD_SRCS := $(sort $(wildcard preload/*.c))
CORE_OBJS    := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(CORE_ASM:%.S=$(BUILD)/%.o)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/%.o)

# Everything built depends on this file, rewritten (below, once the
# tests' flags are known too) only when the flags change.
FLAGS_FILE := $(BUILD)/flags

.PHONY: all lib deps run test bench bench-quick install clean format
all: lib
lib: $(BUILD)/libkmem.so $(BUILD)/libkmem.a $(BUILD)/libkmem-core.a \
	$(BUILD)/kmem-options

$(BUILD)/%.o: %.c $(wildcard core/*.h include/*.h preload/*.h) Makefile \
		$(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(LIBCFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S Makefile $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(LIBCFLAGS) -c $< -o $@

# The preloadable shared object: the malloc family + kmem_* only.
$(BUILD)/libkmem.so: $(CORE_OBJS) $(PRELOAD_OBJS)
	$(CC) -shared -Wl,-Bsymbolic-functions -Wl,-z,nodelete -o $@ $^ $(LIBS) $(LINKFLAGS)

# Static library for programs that link kmem in.
$(BUILD)/libkmem.a: $(CORE_OBJS) $(PRELOAD_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The core alone (no malloc interposition): unit tests use it beside glibc.
$(BUILD)/libkmem-core.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

# bin/kmem --help prints the option table through this program, so the
# list of KMEM_* variables has one source: core/options.c.
$(BUILD)/kmem-options: bin/kmem-options.c $(BUILD)/libkmem-core.a
	$(CC) -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -Iinclude -Icore \
		$(SANFLAGS) $(CFLAGS) $< -o $@ $(BUILD)/libkmem-core.a $(LIBS) \
		$(LINKFLAGS)

# ---- make run: a real program under kmem, with its statistics ----
RUN_PROG := import json, collections, re; \
words = [f"w{(i * 7919) % 50021}" for i in range(400000)]; \
freq = collections.Counter(words); \
doc = json.dumps({w: [n, w * 3] for w, n in freq.items()}); \
back = json.loads(doc); \
text = " ".join(words); \
subs = len(re.findall(r"w1[0-9]{3}\b", text)); \
print(f"python3 under kmem: {len(freq)} distinct words, {len(doc)} bytes of JSON, {len(back)} keys back, {subs} regex matches")
run: deps lib
	@echo "== bin/kmem run --stats -- /usr/bin/python3 -c '<word count, JSON, regex>'"
	KMEM_LIB=$(BUILD)/libkmem.so bin/kmem run --stats -- /usr/bin/python3 -c '$(RUN_PROG)'

# ---- set-up: Debian packages this project needs (as root, when missing) ----
DEB_PKGS := liburcu-dev check libsubunit-dev pkg-config libbenchmark-dev \
	valgrind libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 \
	redis-server redis-tools sqlite3 libpython3.11-testsuite python3 \
	perl git gcc g++ strace gnuplot-nox binutils
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages (run as root or install):$$missing"; exit 1; fi; \
	fi

include tests/tests.mk
-include $(sort $(wildcard bench/*.mk))

# The flags of this build, as one line: compiler, library, tests, links.
FLAGS_NOW := $(CC) $(CXX) | $(LIBCFLAGS) | $(TEST_CFLAGS) | $(TEST_LIBS) | \
	$(LIBS) $(LINKFLAGS)
ifneq ($(file <$(FLAGS_FILE)),$(FLAGS_NOW))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_FILE),$(FLAGS_NOW))
endif

clean:
	rm -rf $(BUILD)

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/libkmem.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(BUILD)/libkmem.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/kmem.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 bin/kmem $(DESTDIR)$(PREFIX)/bin/

format:
	clang-format -i $(CORE_SRCS) $(PRELOAD_SRCS) core/*.h include/*.h
