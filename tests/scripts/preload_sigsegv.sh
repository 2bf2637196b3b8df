#!/usr/bin/env bash
# kmem's SIGSEGV handler (core/fault.c, KMEM_FAULT_REPORT) reports faults
# on its own guard pages and must leave every other SIGSEGV as it would be
# without kmem: a signal sent by kill or raise kills the process (the
# handler once swallowed it: si_addr means nothing there), a fault
# outside kmem's memory dies with no kmem report, and a program that has
# its own handler keeps it.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd cc
cat > "$tmp/segv.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void own(int sig)
{
	(void)sig;
	write(1, "OWN_HANDLER\n", 12);
	_exit(3);
}

int main(int argc, char **argv)
{
	free(malloc(100));	/* kmem is up, its handler installed */
	if (!strcmp(argv[1], "raise"))
		raise(SIGSEGV);
	else if (!strcmp(argv[1], "kill"))
		kill(getpid(), SIGSEGV);
	else if (!strcmp(argv[1], "null"))
		*(volatile int *)(argc == 99 ? argv : NULL) = 1;
	else if (!strcmp(argv[1], "own")) {
		signal(SIGSEGV, own);
		*(volatile int *)(argc == 99 ? argv : NULL) = 1;
	}
	printf("SURVIVED\n");
	return 0;
}
C
cc -O1 -o "$tmp/segv" "$tmp/segv.c" || fail "cannot build the test program"

for how in raise kill null; do
	( LD_PRELOAD="$KMEM_LIB" "$tmp/segv" $how >"$tmp/out" 2>"$tmp/err"
	  echo $? >"$tmp/rc" ) 2>/dev/null
	rc=$(cat "$tmp/rc")
	grep -q SURVIVED "$tmp/out" && fail "$how: the process survived a SIGSEGV"
	[ "$rc" = 139 ] || fail "$how: exit status $rc, not 139 (killed by SIGSEGV)"
	grep -q 'kmem: ERROR' "$tmp/err" &&
		fail "$how: kmem reported a fault that is not its own: $(head -1 "$tmp/err")"
	note "$how: killed by SIGSEGV, no kmem report, as without kmem"
done
( LD_PRELOAD="$KMEM_LIB" "$tmp/segv" own >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc" ) 2>/dev/null
[ "$(cat "$tmp/rc")" = 3 ] && grep -q OWN_HANDLER "$tmp/out" ||
	fail "own: the program's SIGSEGV handler did not run (status $(cat "$tmp/rc"))"
note "own: the program's own handler ran"
