#!/usr/bin/env bash
# tests/scripts/fastpath_code.sh - the machine code of malloc, free and
# calloc in libkmem.so keeps the promises of docs/fastpath.md:
#
#   - no lock prefix, no atomic read-modify-write (xchg, cmpxchg, xadd)
#     and no call anywhere in the three functions; each holds one rseq
#     critical section (free two: the push of the random reuse order and
#     KMEM_REUSE=lifo's plain one) and tail-jumps to its out-of-line
#     *_slow half;
#   - their hit paths (entry to ret, or to calloc's tail jump to memset)
#     are no longer than the bounds below, in rseq and per-thread mode;
#   - every rseq descriptor (__rseq_cs) names a section that stores that
#     very descriptor into rseq_cs right before its start, and an abort
#     handler (in __rseq_failure) that sits right after glibc's signature
#     0x53053053 and jumps back to that store;
#   - docs/fastpath.md's listings are those of this library, when it was
#     built by the compiler and flags the file names (else: a note).
#
# The analysis is tests/scripts/lib/fastpath.py (bin/gen-fastpath-doc
# uses the same).  Only for an optimised build: -O0 (DEBUG=1) has calls,
# and sanitizers instrument every load; those builds skip, saying so.
. "$(dirname "$0")/lib/common.sh"

# ---- bounds: update when the fast paths change on purpose -------------
# (then run `make fastpath-doc` and commit docs/fastpath.md with them)
#
# function  mode    instructions on the   the hit path
#                   longest hit path      ends in
BOUNDS='
malloc      rseq    32                    ret
malloc      thread  46                    ret
free        rseq    69                    ret
free        thread  80                    ret
calloc      rseq    39                    memset
calloc      thread  53                    memset
'
# ---- end of bounds -----------------------------------------------------

[ -f "$KMEM_LIB" ] || fail "$KMEM_LIB missing (make lib)"
case $(uname -m) in x86_64) ;; *) skip "the rseq sections are x86-64 only" ;; esac
need_cmd objdump readelf nm python3
py=$root/tests/scripts/lib/fastpath.py
producer=$(python3 "$py" producer "$KMEM_LIB") || fail "cannot read $KMEM_LIB"
case $producer in
*-fsanitize*) skip "sanitizer build ($(echo "$producer" | grep -o -- '-fsanitize=[^ ]*' | head -1)): the instrumented code has calls" ;;
*-O0* | *-Og*) skip "unoptimised build (DEBUG=1): nothing is inlined" ;;
esac
python3 "$py" check "$KMEM_LIB" "$BOUNDS" || fail "the fast paths break their promises"

# The listings of docs/fastpath.md: those of this build, if it is the
# documented one.
doc=$root/docs/fastpath.md
python3 "$py" doc "$KMEM_LIB" "$doc" >"$tmp/fastpath.md" ||
	fail "cannot regenerate docs/fastpath.md"
if grep -qF "\`$producer\`, x86-64." "$doc"; then
	if ! cmp -s "$tmp/fastpath.md" "$doc"; then
		diff -u "$doc" "$tmp/fastpath.md" | head -40
		fail "docs/fastpath.md is stale: run make fastpath-doc"
	fi
	note "docs/fastpath.md: its listings are this build's"
else
	note "docs/fastpath.md not compared: it documents another compiler or flags"
	note "(this build: $producer)"
fi
