#!/usr/bin/env bash
# The malloc family called before kmem's own constructor has run: a
# library the program links to allocates in its constructor, which the
# dynamic loader runs before the preloaded libkmem.so's (ls does, through
# libselinux).  The fast paths must refuse the not yet set up per-CPU
# state (pcpu.rseq_off == 0) and the slow paths set kmem up.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd cc
cat > "$tmp/early.c" <<'C'
#include <stdlib.h>
#include <string.h>
char *early_block;
__attribute__((constructor)) static void early(void)
{
	void *a = malloc(100), *b = calloc(3, 40), *c;
	if (!a || !b || posix_memalign(&c, 64, 200))
		abort();
	a = realloc(a, 5000);
	free(b);
	free(c);
	early_block = strcpy(a, "made before main");
}
C
cat > "$tmp/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern char *early_block;
int main(void)
{
	char *p = malloc(64);
	puts(strcmp(early_block, "made before main") ? "damaged" : "ok");
	free(early_block);
	free(p);
	return 0;
}
C
cc -shared -fPIC -O1 "$tmp/early.c" -o "$tmp/libearly.so" ||
	fail "could not build the test library"
cc -O1 "$tmp/main.c" -o "$tmp/main" -L"$tmp" -Wl,-rpath,"$tmp" -learly ||
	fail "could not build the test program"
for mode in ${KMEM_PERCPU:-auto thread off}; do
	KMEM_PERCPU=$mode run_kmem "$tmp/out" "$tmp/err" "$tmp/main"
	rc=$?
	[ $rc = 0 ] || { tail -5 "$tmp/err"; fail "KMEM_PERCPU=$mode: rc $rc"; }
	[ "$(cat "$tmp/out")" = ok ] || fail "KMEM_PERCPU=$mode: $(cat "$tmp/out")"
	KMEM_PERCPU=$mode check_loaded "$tmp/err"
done
