#!/usr/bin/env bash
# make install into a temporary prefix: the files are there, a program
# builds with `pkg-config --cflags --libs kmem` and one with `--static`
# (libkmem.a, which needs Libs.private), both run on kmem; the installed
# `kmem` finds its library, kmem-options and kmem-live; kmem(1) lists
# every KMEM_* variable of the code's table; make uninstall removes it all.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd pkg-config make cc
prefix=$tmp/prefix
mk() { make -C "$root" --no-print-directory BUILD="$BUILD" "$@"; }
mk install PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
	{ tail -20 "$tmp/install.log"; fail "make install PREFIX=$prefix"; }
for f in bin/kmem lib/libkmem.so lib/libkmem.a lib/kmem/kmem-options \
	lib/kmem/kmem-live lib/pkgconfig/kmem.pc include/kmem.h \
	share/man/man1/kmem.1 share/man/man3/kmem.3; do
	[ -f "$prefix/$f" ] || fail "make install did not install $f"
done

cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <kmem.h>

int main(void)
{
	struct kmem_cache *c = kmem_cache_create("installed", 100, 0, 0, NULL);
	void *o = kmem_cache_alloc(c, GFP_KERNEL), *m = malloc(1000);

	kmem_cache_free(c, o);
	free(m);
	kmem_slabinfo(stdout);
	return 0;
}
EOF
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
pkg-config --exists kmem || fail "pkg-config does not find kmem.pc"
[ "$(pkg-config --modversion kmem)" != "" ] || fail "no version in kmem.pc"
pkg-config --static --libs kmem | grep -q -- '-lurcu-bp -lpthread' ||
	fail "pkg-config --static --libs kmem lacks Libs.private: $(pkg-config --static --libs kmem)"

# shellcheck disable=SC2046
cc "$tmp/prog.c" -o "$tmp/prog_shared" $(pkg-config --cflags --libs kmem) ||
	fail "cc prog.c \$(pkg-config --cflags --libs kmem)"
readelf -d "$tmp/prog_shared" | grep -q 'NEEDED.*libkmem.so' || fail "prog_shared is not linked with libkmem.so"
LD_LIBRARY_PATH=$prefix/lib KMEM_STATS=1 "$tmp/prog_shared" >"$tmp/out" 2>"$tmp/err" ||
	fail "prog_shared failed: $(tail -3 "$tmp/err")"
grep -q '^installed ' "$tmp/out" || fail "prog_shared: no 'installed' cache in its slabinfo"
check_loaded "$tmp/err"

# --static: libkmem.a and what it needs, fully static.
# shellcheck disable=SC2046
if cc -static "$tmp/prog.c" -o "$tmp/prog_static" $(pkg-config --static --cflags --libs kmem) \
	2>"$tmp/cc.err"; then
	readelf -d "$tmp/prog_static" 2>/dev/null | grep -q NEEDED && fail "prog_static has dynamic dependencies"
else
	# No static C library here: libkmem.a into a dynamic program.
	grep -q 'cannot find -lc\b\|cannot find -lpthread' "$tmp/cc.err" ||
		{ cat "$tmp/cc.err"; fail "cc -static with pkg-config --static"; }
	# shellcheck disable=SC2046
	cc "$tmp/prog.c" -o "$tmp/prog_static" -I"$prefix/include" "$prefix/lib/libkmem.a" \
		$(pkg-config --static --libs-only-l kmem | sed 's/-lkmem//') ||
		fail "libkmem.a with pkg-config --static's libraries"
fi
KMEM_STATS=1 "$tmp/prog_static" >"$tmp/out" 2>"$tmp/err" || fail "prog_static failed"
grep -q '^installed ' "$tmp/out" || fail "prog_static: no 'installed' cache"
check_loaded "$tmp/err"
note "built with pkg-config: shared ($(stat -c %s "$tmp/prog_shared") bytes) and --static ($(stat -c %s "$tmp/prog_static") bytes)"

# The installed tool, away from the build tree.
inst() { env -u KMEM_LIB -u BUILD "$prefix/bin/kmem" "$@"; }
inst options >"$tmp/options" || fail "installed kmem options"
grep -q '(kmem-options not found)' "$tmp/options" && fail "installed kmem does not find kmem-options"
"$root/$BUILD/kmem-options" --names >"$tmp/names"
for o in $(cat "$tmp/names"); do
	grep -q "^  $o " "$tmp/options" || fail "installed kmem options lacks $o"
	grep -q "^\.B $o\$" "$prefix/share/man/man1/kmem.1" || fail "kmem(1) does not describe $o"
done
inst run --stats -- true 2>"$tmp/err" || fail "installed kmem run --stats -- true"
check_loaded "$tmp/err"
inst run -- sh -c 'grep -q "$0" /proc/self/maps' "$prefix/lib/libkmem.so" ||
	fail "installed kmem run does not preload the installed libkmem.so"
if command -v python3 >/dev/null; then
	env -u KMEM_LIB -u BUILD "$prefix/bin/kmem" run -- sleep 20 &
	sl=$!
	cleanup_hooks+=("kill $sl 2>/dev/null")
	sleep 0.5
	inst stat $sl >"$tmp/stat" || fail "installed kmem stat"
	grep -q '^slabinfo - version: 2.1' "$tmp/stat" || fail "installed kmem stat: no slabinfo"
	kill $sl
fi
if command -v man >/dev/null && man -l "$prefix/share/man/man1/kmem.1" >/dev/null 2>&1; then
	man -l "$prefix/share/man/man1/kmem.1" 2>&1 | grep -q 'KMEM_PROF' || fail "man kmem.1 does not render"
	MANWIDTH=80 man -l "$prefix/share/man/man3/kmem.3" 2>&1 | grep -q 'kmem_cache_create' || fail "man kmem.3 does not render"
fi
note "installed kmem: options, run, stat work; kmem(1) lists all $(wc -l <"$tmp/names") variables"

mk uninstall PREFIX="$prefix" >/dev/null 2>&1 || fail "make uninstall"
left=$(find "$prefix" -type f | head -5)
[ -z "$left" ] || fail "make uninstall left: $left"
note "make uninstall removed every file"
