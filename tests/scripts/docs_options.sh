#!/usr/bin/env bash
# README.md's option table and `bin/kmem --help` list exactly the options
# of the code's table (core/options.c, printed by build/kmem-options).
. "$(dirname "$0")/lib/common.sh"
opts="$builddir/kmem-options"
[ -x "$opts" ] || fail "$opts missing (make lib)"
"$opts" --names | sort >"$tmp/code"
[ "$(wc -l <"$tmp/code")" -ge 5 ] || fail "kmem-options lists too few options"
grep -o '^| `KMEM_[A-Z_]*`' "$root/README.md" | tr -d '|` ' | sort >"$tmp/readme"
diff -u "$tmp/code" "$tmp/readme" || fail "README.md's option table is out of date"
BUILD=$BUILD "$root/bin/kmem" --help >"$tmp/help" || fail "kmem --help"
for o in $(cat "$tmp/code"); do
	grep -q "^  $o " "$tmp/help" || fail "kmem --help does not describe $o"
done
grep -q 'kmem run' "$tmp/help" || fail "kmem --help has no usage"
# kmem run passes the exit status through and sets the options (not in
# a sanitizer build: such a libkmem.so cannot be preloaded).
if [ -f "$KMEM_LIB" ] && ! nm -D "$KMEM_LIB" | grep -q '__asan_init\|__tsan_init'; then
	BUILD=$BUILD KMEM_LIB="$KMEM_LIB" "$root/bin/kmem" run -- sh -c 'exit 7'
	[ $? = 7 ] || fail "kmem run does not pass the exit status through"
	BUILD=$BUILD KMEM_LIB="$KMEM_LIB" "$root/bin/kmem" run --stats -- true 2>"$tmp/st" ||
		fail "kmem run --stats -- true"
	check_loaded "$tmp/st"
fi
note "$(wc -l <"$tmp/code") options, README and --help agree"
