#!/usr/bin/env bash
# docs/kernel-api.md's examples: every ```c block is a whole program; each
# is compiled with -Wall -Werror against libkmem.so and run, and must
# exit 0.  (Not under a sanitizer build: such a libkmem.so owns no malloc.)
. "$(dirname "$0")/lib/common.sh"
need_lib
doc=$root/docs/kernel-api.md
[ -f "$doc" ] || fail "$doc missing"
CC=${CC:-cc}
awk -v dir="$tmp" '
	/^```c$/ { n++; f = sprintf("%s/example%02d.c", dir, n); inside = 1; next }
	/^```$/ && inside { inside = 0; close(f); next }
	inside { print > f }
	END { print n > (dir "/count") }
' "$doc"
count=$(cat "$tmp/count")
[ "${count:-0}" -ge 7 ] || fail "docs/kernel-api.md has ${count:-0} examples (7 expected at least)"
for src in "$tmp"/example*.c; do
	name=$(basename "$src" .c)
	"$CC" -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -pthread \
		-I"$root/include" "$src" -o "$tmp/$name" -L"$builddir" \
		-Wl,-rpath,"$builddir" -lkmem 2>"$tmp/$name.cc" || {
		cat "$tmp/$name.cc"
		fail "$name (docs/kernel-api.md) does not compile"
	}
	rc=0
	timeout 60 "$tmp/$name" >"$tmp/$name.out" 2>&1 || rc=$?
	if [ $rc != 0 ]; then
		cat "$tmp/$name.out"
		fail "$name (docs/kernel-api.md) exits $rc"
	fi
done
note "$count examples of docs/kernel-api.md compiled and run"
