#!/usr/bin/env python3
# tests/scripts/lib/printk_formats.py - every format string given to
# kmem's own printf (core/printk.c's kmem_vsnprintf, which never
# allocates and knows only a few conversions) must use only what it
# supports; tests/scripts/printk_formats.sh runs it.
#
#   printk_formats.py ROOT [FILE...]
#
# Reads what kmem_vsnprintf supports from core/printk.c itself: the
# conversions (its "case 'x':" labels), the flags of its flag loop and its
# length modifiers; the '#' flag (with %x) counts as supported whether or
# not this printk.c has it yet (it is being added).  Finds every function
# of core/ and preload/ that takes a "const char *fmt" parameter (the
# printf-like ones: kmem_pr_err, kmem_report_error, kmem_snprintf, ...,
# and static helpers), then every call of one of them in core/*.[ch] and
# preload/*.[ch] (or in FILE...), and checks each string literal of its
# format argument (a literal, adjacent literals, or literals in a ?:).
# A format that is no literal is an error, except a parameter named fmt
# passed on (a forwarder).  Prints one line per problem and a summary;
# exits 1 if there was a problem, 2 if it found (almost) nothing to check.
import glob
import os
import re
import sys


def strip_comments(text):
    """Comments become spaces (newlines kept); strings stay as they are."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_args(text, start):
    """Arguments of the call whose '(' is at start: (list, end)."""
    args, depth, cur, i = [], 0, [], start + 1
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return None, i


TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\s+|[A-Za-z_]\w*|.', re.S)


def literal_groups(arg):
    """The arg's runs of adjacent string literals, each joined (C escapes
    of quotes and backslashes undone, enough to read conversions)."""
    groups, cur = [], None
    for tok in TOKEN.findall(arg):
        if tok.startswith('"'):
            body = tok[1:-1].replace('\\\\', '\x00').replace('\\"', '"')
            cur = (cur or "") + body.replace('\x00', '\\')
        elif tok.isspace():
            continue
        else:
            if cur is not None:
                groups.append(cur)
            cur = None
    if cur is not None:
        groups.append(cur)
    return groups


def printk_support(root):
    src = strip_comments(open(os.path.join(root, "core/printk.c")).read())
    m = re.search(r"int kmem_vsnprintf\(.*?\n}\n", src, re.S)
    if not m:
        sys.exit("printk_formats: no kmem_vsnprintf in core/printk.c")
    body = m.group(0)
    convs = set(re.findall(r"case '([^\\'])':", body))
    tested = set(re.findall(r"\*fmt == '(.)'", body))	# *fmt == 'c' tests
    flags = tested & set("-+ #0")
    lengths = tested & set("lzhjtLq")
    star = "'*'" in body
    return convs, flags | {"#"}, lengths, star


def check_format(s, sup):
    """Problems of one format string, as (conversion, why) pairs."""
    convs, flags, lengths, star = sup
    probs, i = [], 0
    while True:
        i = s.find("%", i)
        if i < 0:
            return probs
        m = re.match(r"%([-+ #0']*)(\*|\d+)?(\.(?:\*|\d*))?"
                     r"(hh|h|ll|l|L|q|j|z|Z|t)?(.?)", s[i:], re.S)
        spec, fl, width, prec, length, conv = (m.group(0), m.group(1),
                                               m.group(2), m.group(3),
                                               m.group(4), m.group(5))
        i += max(len(spec), 1)
        if spec == "%%":
            continue
        if conv == "":
            probs.append((spec, "the format ends inside a conversion "
                          "(a macro such as PRIu64 after it?)"))
            continue
        if conv == "%":
            probs.append((spec, "%% with flags, width or length"))
            continue
        if conv not in convs:
            probs.append((spec, "conversion %%%s is not supported" % conv))
            continue
        for f in fl:
            if f not in flags:
                probs.append((spec, "flag '%s' is not supported" % f))
        if "#" in fl and conv != "x":
            probs.append((spec, "'#' means something only with %x here"))
        if width == "*" and not star:
            probs.append((spec, "width '*' is not supported"))
        if prec is not None:
            probs.append((spec, "a precision is not supported"))
        if length:
            for ch in length:
                if ch not in lengths:
                    probs.append((spec, "length '%s' is not supported"
                                  % length))
                    break
            if conv in "scp":
                probs.append((spec, "a length means nothing for %%%s" % conv))
        if conv == "c" and (width or fl):
            probs.append((spec, "%c ignores width and flags"))
    return probs


def find_fmt_functions(files):
    """name -> index (0-based) of its const char *fmt parameter."""
    funcs = {}
    decl = re.compile(r"\b([A-Za-z_]\w*)\s*\(([^;{}()]*\bconst\s+char\s*\*\s*fmt\b[^;{}()]*)\)")
    for f in files:
        text = strip_comments(open(f).read())
        for m in decl.finditer(text):
            params = [p.strip() for p in m.group(2).split(",")]
            for k, p in enumerate(params):
                if re.search(r"\bconst\s+char\s*\*\s*fmt$", p):
                    funcs[m.group(1)] = k
    return funcs


def main():
    root = sys.argv[1]
    sources = sorted(glob.glob(os.path.join(root, "core/*.[ch]")) +
                     glob.glob(os.path.join(root, "preload/*.[ch]")))
    targets = sys.argv[2:] or sources
    sup = printk_support(root)
    funcs = find_fmt_functions(sources + targets)
    if len(funcs) < 5:
        print("printk_formats: only %d printf-like functions found: %s"
              % (len(funcs), ", ".join(sorted(funcs))))
        return 2
    call = re.compile(r"\b(" + "|".join(sorted(funcs)) + r")\s*\(")
    nformats = ncalls = nprob = 0
    for f in targets:
        text = strip_comments(open(f).read())
        rel = os.path.relpath(f, root)
        for m in call.finditer(text):
            args, _ = split_args(text, m.end() - 1)
            k = funcs[m.group(1)]
            if args is None or len(args) <= k:
                continue
            arg = args[k]
            if re.search(r"\bchar\b", arg):
                continue	# the declaration or definition itself
            line = text.count("\n", 0, m.start()) + 1
            ncalls += 1
            groups = literal_groups(arg)
            if not groups:
                if arg == "fmt":
                    continue	# a forwarder: its callers are checked
                print("%s:%d: %s: the format is no string literal: %s"
                      % (rel, line, m.group(1), arg))
                nprob += 1
                continue
            for g in groups:
                nformats += 1
                for spec, why in check_format(g, sup):
                    print("%s:%d: %s(\"%s\"): %s: %s"
                          % (rel, line, m.group(1), g[:60], spec, why))
                    nprob += 1
    convs, flags, lengths, star = sup
    print("printk_formats: %d calls of %d printf-like functions (%s), %d "
          "format strings; supported: %%%s, flags %s, lengths %s%s; %d "
          "problems" % (ncalls, len(funcs), ", ".join(sorted(funcs)),
                        nformats, " %".join(sorted(convs - {"%"})),
                        " ".join(repr(f) for f in sorted(flags)),
                        " ".join(sorted(lengths)) + " ll",
                        ", width *" if star else "", nprob))
    if nprob:
        return 1
    if not sys.argv[2:] and nformats < 50:
        print("printk_formats: fewer than 50 format strings: the scan is "
              "broken")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
