#!/usr/bin/env bash
# make deb builds a Debian package of this tree that dpkg installs (into
# a fresh root with its own dpkg database, so this machine is untouched),
# whose dependencies are real packages of this system, and whose
# `kmem run` works from where it is installed.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd dpkg dpkg-deb make
make -C "$root" --no-print-directory BUILD="$BUILD" deb >"$tmp/deb.log" 2>&1 ||
	{ tail -20 "$tmp/deb.log"; fail "make deb"; }
deb=$(ls -t "$root/$BUILD"/kmem_*.deb | head -1)
[ -f "$deb" ] || fail "make deb made no $BUILD/kmem_*.deb"

dpkg-deb -I "$deb" >"$tmp/info" || fail "dpkg-deb -I: not a valid package"
for f in Package Version Architecture Maintainer Depends Description Installed-Size; do
	grep -q "^ $f: " "$tmp/info" || fail "control file has no $f"
done
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] ||
	fail "package for another architecture"
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' >"$tmp/contents"
for f in ./usr/bin/kmem ./usr/lib/libkmem.so ./usr/lib/libkmem.a \
	./usr/lib/kmem/kmem-options ./usr/lib/kmem/kmem-live \
	./usr/lib/pkgconfig/kmem.pc ./usr/include/kmem.h \
	./usr/share/man/man1/kmem.1.gz ./usr/share/man/man3/kmem.3.gz; do
	grep -q " $f\$" "$tmp/contents" || fail "the package lacks $f"
done
grep -v ' root/root ' "$tmp/contents" | grep -q . && fail "files not owned by root: $(grep -v root/root "$tmp/contents" | head -3)"
# Its dependencies exist on this (Debian) system, installed.
for d in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//' | tr -d ' '); do
	dpkg-query -W -f='${Status}\n' "$d" 2>/dev/null | grep -q 'install ok installed' ||
		fail "dependency $d is not an installed package here"
done

sys=$tmp/sys
mkdir -p "$sys/var/lib/dpkg/info" "$sys/var/lib/dpkg/updates"
touch "$sys/var/lib/dpkg/status" "$sys/var/lib/dpkg/available"
# --force-depends: the fresh root has no libc6 of its own; the check
# above found every dependency on this system instead.
dpkg --root="$sys" --admindir="$sys/var/lib/dpkg" --force-depends \
	--force-script-chrootless --log=/dev/null -i "$deb" >"$tmp/dpkg.log" 2>&1 ||
	{ cat "$tmp/dpkg.log"; fail "dpkg -i $deb"; }
dpkg --root="$sys" --admindir="$sys/var/lib/dpkg" -s kmem 2>/dev/null | grep -q '^Status: install ok installed' ||
	fail "dpkg does not list kmem as installed"
[ -x "$sys/usr/bin/kmem" ] || fail "no usr/bin/kmem after dpkg -i"

k() { env -u KMEM_LIB -u BUILD "$sys/usr/bin/kmem" "$@"; }
k run --stats -- true 2>"$tmp/err" || fail "kmem run from the package failed"
check_loaded "$tmp/err"
k run -- sh -c 'grep -q "$0" /proc/self/maps' "$sys/usr/lib/libkmem.so" ||
	fail "the package's kmem run does not preload the package's libkmem.so"
k options | grep -q '^  KMEM_STATS ' || fail "the package's kmem options does not find kmem-options"
zcat "$sys/usr/share/man/man1/kmem.1.gz" | grep -q '^\.B KMEM_THP$' || fail "the package's kmem(1) lacks the variables"
dpkg --root="$sys" --admindir="$sys/var/lib/dpkg" --force-depends -r kmem >/dev/null 2>&1 ||
	fail "dpkg -r kmem"
[ ! -e "$sys/usr/bin/kmem" ] || fail "dpkg -r left usr/bin/kmem"
note "$(basename "$deb") ($(stat -c %s "$deb") bytes): dpkg -i, kmem run, dpkg -r"
