#!/usr/bin/env bash
# Every format string that kmem formats itself (kmem_report_error,
# kmem_pr_err, kmem_panic, kmem_dprintf, kmem_snprintf, kmem_out_printf
# and any function taking a "const char *fmt") uses only conversions that
# core/printk.c's kmem_vsnprintf supports: a "%#x" or "%.1f" it does not
# know is printed literally, in the very report that matters (issue #14:
# "page state %#x").  The supported set is read from core/printk.c itself
# (tests/scripts/lib/printk_formats.py says how; '#' with %x counts as
# supported).  First the scanner must find the problems planted in a test
# file, then none in core/ and preload/.  No build needed; under a second.
. "$(dirname "$0")/lib/common.sh"
need_cmd python3
py=$root/tests/scripts/lib/printk_formats.py

# The scanner itself: 7 planted problems, and a line without any.
cat >"$tmp/planted.c" <<'EOC'
void planted(struct kmem_out *o, char *b, int cond, const char *msg)
{
	kmem_pr_err("a %5.2f b", 1.0);
	kmem_report_error("size %hu", 1);
	kmem_dprintf(2, "%+d %lld %X" "%", 1, 2LL, 3);
	kmem_snprintf(b, 8, cond ? "ok %d" : "bad %o", 1);
	kmem_panic(msg);
	kmem_out_printf(o, "fine %s %zu %#x %-8lu %08llx %*d %c %p %i%%\n",
			"s", (size_t)1, 2u, 3ul, 4ull, 5, 6, 'c', o, 7);
}
EOC
python3 "$py" "$root" "$tmp/planted.c" >"$tmp/planted.out"
rc=$?
sed 's/^/  planted: /' "$tmp/planted.out"
[ $rc = 1 ] || fail "the scanner did not fail on the planted problems (rc $rc)"
n=$(grep -c '^.*planted.c:[0-9]*: ' "$tmp/planted.out")
[ "$n" = 7 ] || fail "the scanner found $n of the 7 planted problems"
grep -q 'planted.c:8:' "$tmp/planted.out" &&
	fail "the scanner flagged supported conversions"
for what in '%5.2f' '%hu' '%+d' '%X' 'ends inside' '%o' 'no string literal'; do
	grep -qF -- "$what" "$tmp/planted.out" || fail "the scanner missed $what"
done
note "the scanner finds the 7 planted problems"

python3 "$py" "$root" >"$tmp/out"
rc=$?
sed 's/^/  /' "$tmp/out"
[ $rc = 0 ] || fail "format strings that kmem_vsnprintf cannot print (above)"
