# kmem - the Linux kernel's memory-management design in user space.
#
#   make            build/libkmem.so and build/libkmem.a
#   make run        install what is missing, build, run a real program under kmem
#   make test       every test suite (unit, API, stress, preload, real programs)
#   make bench      full benchmark run -> docs/benchmarks.md (slow)
#   make bench-quick  a short smoke pass of the benchmarks
#   make install    PREFIX=/usr/local [DESTDIR=...]; make uninstall the same
#   make deb        $(BUILD)/kmem_VERSION_ARCH.deb (dpkg-deb), installable with dpkg -i
#
# Variables: DEBUG=1 (assertions, -O0), SAN=address|undefined|thread
# (or a list: SAN=address,undefined), WERROR=1 (warnings are errors; CI
# sets it), CFLAGS and LDFLAGS (added to every compile and link),
# BUILD=dir (default build), SDT=0 (no USDT probes; default: 1 where
# <sys/sdt.h> exists).  The flags are recorded in $(BUILD)/flags: a
# change of any of them rebuilds everything in that directory.

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

# USDT probes (core/probes.h) when <sys/sdt.h> is there (systemtap-sdt-dev);
# make SDT=0 builds without them.
SDT     ?= $(shell echo '\#include <sys/sdt.h>' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
LIBCFLAGS += -DKMEM_HAVE_SDT=$(SDT)

CORE_SRCS    := $(sort $(wildcard core/*.c))
CORE_ASM     := $(sort $(wildcard core/*.S))
PRELOAD_SRCS := $(sort $(wildcard preload/*.c))
CORE_OBJS    := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(CORE_ASM:%.S=$(BUILD)/%.o)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/%.o)

# Everything built depends on this file, rewritten (below, once the
# tests' flags are known too) only when the flags change.
FLAGS_FILE := $(BUILD)/flags

.PHONY: all lib deps run test bench bench-quick install uninstall deb clean format
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
# libgcc's unwinder (core/stacktrace.c) is linked in and hidden
# (-static-libgcc, --exclude-libs): a program that does not use libgcc_s
# itself is not made to load it, about 70 KiB less resident in every
# process; one that does keeps its own for its exceptions.
# -z now (with -z relro): every symbol kmem calls is bound when the library
# is loaded, so the dynamic linker's lazy binding never runs inside kmem:
# not in a fork child, whose first calls of the functions only it makes
# (getrandom, membarrier) each cost a symbol look-up and a copy-on-write
# fault of the GOT's page in every child; not in a signal handler; and the
# GOT is read-only from then on.
$(BUILD)/libkmem.so: $(CORE_OBJS) $(PRELOAD_OBJS)
	$(CC) -shared -static-libgcc -Wl,--exclude-libs,libgcc.a:libgcc_eh.a \
		-Wl,-Bsymbolic-functions -Wl,-z,nodelete -Wl,-z,now -Wl,-z,relro \
		-o $@ $^ $(LIBS) $(LINKFLAGS)

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
	perl git gcc g++ strace gnuplot-nox binutils systemtap-sdt-dev \
	tmux google-perftools graphviz linux-perf
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

# ---- installation: make install PREFIX=/usr/local [DESTDIR=/staging] ----
#   $(PREFIX)/bin/kmem                 the tool (finds what follows by itself)
#   $(PREFIX)/lib/libkmem.so, .a       the library
#   $(PREFIX)/lib/kmem/kmem-options    the option table, for kmem options/--help
#   $(PREFIX)/lib/kmem/kmem-live       kmem stat/top/profile (Python 3)
#   $(PREFIX)/lib/pkgconfig/kmem.pc    pkg-config kmem [--static]
#   $(PREFIX)/include/kmem.h
#   $(PREFIX)/share/man/man1/kmem.1    the tool and every KMEM_* variable
#   $(PREFIX)/share/man/man3/kmem.3    the library API
VERSION ?= 0.1.0
INSTALL_FILES := bin/kmem lib/libkmem.so lib/libkmem.a lib/kmem/kmem-options \
	lib/kmem/kmem-live lib/pkgconfig/kmem.pc include/kmem.h \
	share/man/man1/kmem.1 share/man/man3/kmem.3

# kmem.pc and kmem(1) name $(PREFIX), so they are made as they are
# installed; kmem(1)'s KMEM_* list comes from the option table itself.
install: lib
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kmem \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 bin/kmem $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BUILD)/libkmem.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(BUILD)/libkmem.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/kmem-options bin/kmem-live $(DESTDIR)$(PREFIX)/lib/kmem/
	install -m 644 include/kmem.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 man/kmem.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    pkg/kmem.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/kmem.pc
	$(BUILD)/kmem-options --man >$(BUILD)/kmem.1.options
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBDIR@|$(PREFIX)/lib|g' \
	    -e "s|@DATE@|$$(date -u -r man/kmem.1.in +%Y-%m-%d)|" \
	    -e '/^@OPTIONS@$$/{r $(BUILD)/kmem.1.options' -e 'd}' \
	    man/kmem.1.in >$(DESTDIR)$(PREFIX)/share/man/man1/kmem.1
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/kmem.pc \
		$(DESTDIR)$(PREFIX)/share/man/man1/kmem.1

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALL_FILES))
	-rmdir $(DESTDIR)$(PREFIX)/lib/kmem 2>/dev/null

# ---- make deb: a Debian package of this tree (dpkg-deb only) ----
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB      := $(BUILD)/kmem_$(VERSION)_$(DEB_ARCH).deb
DEB_ROOT := $(BUILD)/deb/root

deb: $(DEB)
$(DEB): lib pkg/control.in pkg/kmem.pc.in Makefile bin/kmem bin/kmem-live \
		man/kmem.1.in man/kmem.3 README.md docs/observability.md
	rm -rf $(DEB_ROOT)
	$(MAKE) --no-print-directory install PREFIX=/usr \
		DESTDIR=$(abspath $(DEB_ROOT)) VERSION=$(VERSION) >/dev/null
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/kmem.1 $(DEB_ROOT)/usr/share/man/man3/kmem.3
	install -d $(DEB_ROOT)/usr/share/doc/kmem $(DEB_ROOT)/DEBIAN
	install -m 644 README.md docs/observability.md $(DEB_ROOT)/usr/share/doc/kmem/
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' \
	    -e "s|@SIZE@|$$(du -sk $(DEB_ROOT)/usr | cut -f1)|" pkg/control.in \
	    >$(DEB_ROOT)/DEBIAN/control
	cd $(DEB_ROOT) && find usr -type f | sort | xargs md5sum >DEBIAN/md5sums
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@

format:
	clang-format -i $(CORE_SRCS) $(PRELOAD_SRCS) core/*.h include/*.h
