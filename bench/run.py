#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/run.py - run kmem's benchmark matrix and write docs/benchmarks.md.

    python3 bench/run.py [--quick] [--runs N] [--only a,b] --build DIR
                         --out FILE.md --chart FILE.png

Every workload runs under every allocator: glibc (nothing preloaded), kmem
(DIR/libkmem.so), jemalloc, tcmalloc and mimalloc (Debian's shared
objects, preloaded).  The loops are nested run -> workload -> allocator,
so that drift of the machine (other load, thermal state, page cache) hits
all allocators alike; each figure is the median of the runs.  Peak RSS is
the child's ru_maxrss from wait4(), its page faults from the same
rusage; mixed-stress also gets one untimed run per allocator under
strace -c to count madvise, munmap, mmap and mprotect calls.
Instruction counts come from callgrind.

Standard library only.  Nothing here asserts anything about speed: a
workload that fails under an allocator is reported as "fail" with the
reason, never replaced by a number.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = [  # (name, shared object, Debian package)
    ("jemalloc", LIBDIR + "/libjemalloc.so.2", "libjemalloc2"),
    ("tcmalloc", LIBDIR + "/libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
    ("mimalloc", LIBDIR + "/libmimalloc.so.2", "libmimalloc2.0"),
]
ORDER = ["glibc", "kmem", "jemalloc", "tcmalloc", "mimalloc"]
REF = "kmem"
REDIS_PORT = 16379  # loopback only


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd):
    """Output of a shell command, or '' when it fails."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001 - a description, not a result
        return ""


# ---------------------------------------------------------------- allocators
class Alloc:
    def __init__(self, name, lib, why_missing=None, version=""):
        self.name = name          # column name
        self.lib = lib            # preloaded .so, None for glibc
        self.why_missing = why_missing  # None when usable
        self.version = version    # for the machine section

    extra_env = {}                # a variant's settings (--variant)

    def env(self, base=None, shim=None):
        env = dict(os.environ if base is None else base)
        env.update(self.extra_env)
        env.pop("LD_PRELOAD", None)
        lib = self.lib or shim
        if lib:
            env["LD_PRELOAD"] = lib
        return env


def find_allocators(build):
    allocs = {"glibc": Alloc("glibc", None, version=platform.libc_ver()[1])}
    kmem = os.path.abspath(os.path.join(build, "libkmem.so"))
    rev = sh("git -C %s describe --always --dirty" % ROOT)
    if not os.path.exists(kmem):
        allocs["kmem"] = Alloc("kmem", kmem, "%s was not built" % kmem)
    else:
        syms = sh("nm -D --defined-only %s" % kmem).split()
        if "malloc" not in syms or "free" not in syms:
            allocs["kmem"] = Alloc(
                "kmem", kmem, "%s does not export malloc yet (the preload "
                "layer has not landed)" % os.path.relpath(kmem, ROOT),
                "git " + rev)
        else:
            allocs["kmem"] = Alloc("kmem", kmem, version="git " + rev)
    for name, lib, pkg in PEERS:
        ver = sh("dpkg-query -W -f='${Version}' %s" % pkg)
        if os.path.exists(lib):
            allocs[name] = Alloc(name, lib, version="%s %s" % (pkg, ver))
        else:
            allocs[name] = Alloc(name, lib, "%s not installed" % lib)
    return allocs


# ---------------------------------------------------------------- one child
class Result:
    def __init__(self, ok, time_s=None, usage=(None, None, None),
                 extra=None, err=""):
        self.ok = ok              # False: failed, see err
        self.time_s = time_s      # the workload's time
        self.rss_kb = usage[0]    # peak RSS of the child
        self.cpu_s = usage[1]     # user + system time of the child
        self.faults = usage[2] if len(usage) > 2 else None  # minor+major
        self.extra = extra or {}  # workload-specific figures
        self.err = err            # why it failed


def run_child(cmd, env, timeout, stdin_text=None):
    """Run cmd; return (rc, wall_s, (maxrss_kb, cpu_s, faults), stdout,
    stderr); faults are the child's minor + major page faults.

    The child is started as /usr/bin/time -> env LD_PRELOAD=... -> cmd:
    ru_maxrss survives fork and exec, so a child forked straight from this
    (large) Python process would report at least Python's RSS.  time and
    env are small and run without the preloaded allocator."""
    env = dict(env)
    pre = env.pop("LD_PRELOAD", None)
    wrap = ["env"] + (["LD_PRELOAD=" + pre] if pre else []) + list(cmd)
    with tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as err, \
            tempfile.TemporaryFile("w+") as inp, \
            tempfile.NamedTemporaryFile("r") as rss:
        if stdin_text is not None:
            inp.write(stdin_text)
            inp.seek(0)
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S %R %F",
                              "-o",
                              rss.name]
                             + wrap, env=env, stdout=out, stderr=err,
                             stdin=inp if stdin_text is not None
                             else subprocess.DEVNULL,
                             start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(p.pid,
                                                           signal.SIGKILL))
        timer.start()
        try:
            _, status, _ = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        f = rss.read().splitlines()[-1:]
        f = f[0].split() if f else []
        usage = (int(f[0]), float(f[1]) + float(f[2]),
                 int(f[3]) + int(f[4])) \
            if len(f) == 5 and f[0].isdigit() else (None, None, None)
        return p.returncode, wall, usage, out.read(), err.read()


def parse_result_line(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    return None


def failure(rc, stderr, timeout):
    if rc in (-9, 137):
        return "killed (timeout %d s?)" % timeout
    tail = " ".join(stderr.strip().splitlines()[-2:])[:160]
    return "exit %d: %s" % (rc, tail)


# ---------------------------------------------------------------- workloads
class Workload:
    kind = "prog"
    table = None  # (title, caption, [(label, key, unit)]): see report()

    def __init__(self, name, desc):
        self.name = name
        self.desc = desc

    def probe(self, alloc, ctx):
        """One extra run per allocator after the timed ones (figures that
        the timed runs must not pay for), or None."""
        return None


STRACE_CALLS = ("madvise", "munmap", "mmap", "mprotect")
PROBE_RUNS = 3


def strace_counts(cmd, alloc, ctx):
    """Calls of STRACE_CALLS made by cmd (all threads, the allocator's own
    background threads included) under `strace -f -c`, or
    {"why": reason}.  strace itself is not preloaded: -E hands
    LD_PRELOAD to the traced program only."""
    if not shutil.which("strace"):
        return {"why": "strace not installed"}
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    with tempfile.NamedTemporaryFile("r") as so:
        st = ["strace", "-f", "--seccomp-bpf", "-c", "-o", so.name, "-e",
              "trace=" + ",".join(STRACE_CALLS)]
        if alloc.lib:
            st += ["-E", "LD_PRELOAD=" + alloc.lib]
        rc, _, _, out, err = run_child(st + ["--"] + list(cmd), env,
                                       ctx.timeout)
        kv = parse_result_line(out)
        if rc != 0 or not kv:
            return {"why": "strace run " + failure(rc, err, ctx.timeout)}
        counts = {"strace_" + c: 0 for c in STRACE_CALLS}
        for line in so.read().splitlines():
            # % time  seconds  usecs/call  calls  [errors]  syscall
            f = line.split()
            if len(f) >= 5 and f[-1] in STRACE_CALLS and f[3].isdigit():
                counts["strace_" + f[-1]] = int(f[3])
    ops = float(kv.get("ops", 0)) or None
    counts["strace_ops"] = ops
    for c in STRACE_CALLS:
        counts["strace_%s_per_kop" % c] = \
            1000.0 * counts["strace_" + c] / ops if ops else None
    return counts


class Program(Workload):
    """One of our programs: time is its own elapsed_s line.

    extra_keys: figures of its RESULT line kept for the report (medians);
    faults_per_op (the child's page faults / its ops=) is always kept.
    table: an extra table of them under the time and RSS tables.
    strace_cmd: a (shorter) command line run once per allocator under
    strace to count memory-mapping calls (strace_counts)."""

    def __init__(self, name, desc, cmd, extra_keys=(), table=None,
                 strace_cmd=None):
        super().__init__(name, desc)
        self.cmd = cmd
        self.extra_keys = extra_keys
        self.table = table
        self.strace_cmd = strace_cmd

    def run(self, alloc, ctx):
        rc, wall, rss, out, err = run_child(self.cmd, alloc.env(),
                                            ctx.timeout)
        kv = parse_result_line(out)
        if rc != 0 or not kv or "elapsed_s" not in kv:
            return Result(False, err=failure(rc, err, ctx.timeout))
        extra = {k: float(kv[k]) for k in self.extra_keys if k in kv}
        if extra.get("return_ms", 0) < 0:
            extra["return_ms"] = math.inf  # never
        ops = float(kv.get("ops", 0))
        if ops and rss[2:] and rss[2] is not None:
            extra["faults_per_op"] = rss[2] / ops
        return Result(True, float(kv["elapsed_s"]), rss, extra)

    def probe(self, alloc, ctx):
        """The strace counts, median of up to PROBE_RUNS runs: how many
        purges or trims land inside one short run depends on timing
        (kmem's madvise count in one run went from 19 to 121 between
        four runs of the same build)."""
        if not self.strace_cmd:
            return None
        runs = [strace_counts(self.strace_cmd, alloc, ctx)
                for _ in range(max(1, min(PROBE_RUNS, ctx.runs)))]
        ok = [r for r in runs if "why" not in r]
        if not ok:
            return runs[0]
        med = {}
        for k in ok[0]:
            vals = [r[k] for r in ok if r.get(k) is not None]
            med[k] = statistics.median(vals) if vals else None
        return med


class Real(Workload):
    """A real program: time is the wall time of the whole process."""
    kind = "real"

    def __init__(self, name, desc, cmd, env_add=None, stdin_text=None):
        super().__init__(name, desc)
        self.cmd = cmd
        self.env_add = env_add or {}
        self.stdin_text = stdin_text

    def run(self, alloc, ctx):
        env = alloc.env()
        env.update(self.env_add)
        rc, wall, rss, out, err = run_child(self.cmd, env, ctx.timeout,
                                            self.stdin_text)
        if rc != 0:
            return Result(False, err=failure(rc, err, ctx.timeout))
        return Result(True, wall, rss)


class Redis(Workload):
    """redis-server under the allocator, redis-benchmark (not preloaded)
    against it on 127.0.0.1.  Time = sum over tests of requests / rate;
    peak RSS is the server's."""
    kind = "real"
    TESTS = "set,get,lpush,lpop"

    def __init__(self, name, desc, requests, shim):
        super().__init__(name, desc)
        self.requests = requests
        self.shim = shim  # glibc column: see bench/glibc_shim.c

    def run(self, alloc, ctx):
        env = alloc.env(shim=self.shim)
        with tempfile.TemporaryDirectory() as tmp:
            server = {}

            def serve():
                server["res"] = run_child(
                    ["redis-server", "--port", str(REDIS_PORT), "--bind",
                     "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", tmp, "--logfile", os.path.join(tmp, "log")],
                    env, ctx.timeout)

            th = threading.Thread(target=serve)
            th.start()
            try:
                if not self._wait_ready(th):
                    return Result(False, err="redis-server did not start")
                rc, wall, _, out, err = run_child(
                    ["redis-benchmark", "-h", "127.0.0.1", "-p",
                     str(REDIS_PORT), "-n", str(self.requests), "-r",
                     "100000", "-d", "100", "-P", "16", "-q", "-t",
                     self.TESTS], {k: v for k, v in os.environ.items()
                                   if k != "LD_PRELOAD"}, ctx.timeout)
                rates = {m.group(1).lower(): float(m.group(2)) for m in
                         re.finditer(r"([A-Z_]+(?: \([^)]*\))?): "
                                     r"([0-9.]+) requests per second", out)}
            finally:
                self._command(b"SHUTDOWN NOSAVE\r\n")
                th.join()
            if rc != 0 or len(rates) < len(self.TESTS.split(",")):
                return Result(False, err=failure(rc, err + out,
                                                 ctx.timeout))
            src, _, rss, _, serr = server["res"]
            if src != 0:
                return Result(False, err="redis-server " +
                              failure(src, serr, ctx.timeout))
            t = sum(self.requests / r for r in rates.values())
            return Result(True, t, rss, {"rps_" + k: v for k, v in
                                         rates.items()})

    def _command(self, cmd):
        try:
            with socket.create_connection(("127.0.0.1", REDIS_PORT),
                                          timeout=2) as s:
                s.sendall(cmd)
                return s.recv(64)
        except OSError:
            return b""

    def _wait_ready(self, th):
        for _ in range(200):
            if not th.is_alive():
                return False
            if self._command(b"PING\r\n").startswith(b"+PONG"):
                return True
            time.sleep(0.05)
        return False


class Micro(Workload):
    """The Google Benchmark binary: one result per benchmark."""
    kind = "micro"

    def __init__(self, name, desc, binary, min_time):
        super().__init__(name, desc)
        self.cmd = [binary, "--benchmark_format=json",
                    "--benchmark_min_time=%g" % min_time]

    def run(self, alloc, ctx):
        rc, wall, rss, out, err = run_child(self.cmd, alloc.env(),
                                            ctx.timeout)
        if rc != 0:
            return Result(False, err=failure(rc, err, ctx.timeout))
        try:
            data = json.loads(out)
        except ValueError:
            return Result(False, err="bad JSON from micro")
        ns = {}
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                ns[b["name"]] = None  # skipped: API absent
            elif b.get("items_per_second"):
                ns[b["name"]] = 1e9 / b["items_per_second"]
        return Result(True, wall, rss, {"ns": ns})


def workloads(args, bindir):
    q = args.quick
    b = lambda p: os.path.join(bindir, p)  # noqa: E731
    rows = 20000 if q else 200000
    sql = open(os.path.join(HERE, "sqlite_workload.sql")).read()
    sql = sql.replace("@ROWS@", str(rows))
    ms_slots = 4096
    ms = lambda ops: [b("mixed_stress"), "2", str(ops),  # noqa: E731
                      str(ms_slots)]
    ir_mib, ir_ms = (32, 1200) if q else (256, 3000)
    w = [
        Micro("micro", "Google Benchmark micro-benchmarks", b("micro"),
              0.005 if q else 0.05),
        Program("larson", "server: objects freed by the next thread "
                "(2 lineages x %s threads)" % ("10" if q else "100"),
                [b("larson"), "2", "10" if q else "100",
                 "20000" if q else "100000", "1000"]),
        Program("xmalloc", "1 producer, 1 consumer, objects 16..512 B",
                [b("xmalloc"), "2", "300000" if q else "4000000"]),
        Program("cache-scratch", "passive false sharing, 8 B objects",
                [b("cache_scratch"), "scratch", "2", "200" if q else "1000",
                 "8", "2000" if q else "20000"]),
        Program("cache-thrash", "active false sharing, 8 B objects",
                [b("cache_scratch"), "thrash", "2", "200" if q else "1000",
                 "8", "2000" if q else "20000"]),
        Program("frag-churn", "6 phases of changing sizes, 3/4 freed "
                "between phases", [b("frag_churn"), "2",
                                   "30000" if q else "300000",
                                   "5000" if q else "20000"],
                ("final_rss_kb", "live_kb"),
                ("frag-churn: memory left behind (MiB, median)", None,
                 [("peak RSS", "rss_kb", "mib"),
                  ("RSS at the end", "final_rss_kb", "mib"),
                  ("bytes still live at the end", "live_kb", "mib")])),
        Program("large-blocks", "256 KiB..64 MiB blocks; realloc "
                "1 MiB -> 256 MiB", [b("large_blocks"), "2",
                                     "20" if q else "200", "1",
                                     "32" if q else "256"]),
        Program("mixed-stress", "2 threads swap objects into %d shared "
                "slots (atomic exchange) and free what was there, whoever "
                "allocated it; sizes 90%% 8 B..1 KiB, 9%% ..64 KiB, "
                "1%% ..8 MiB; %s operations"
                % (ms_slots, "100,000" if q else "2,000,000"),
                ms(50000 if q else 1000000), ("ops_per_s",),
                ("mixed-stress: page faults and memory-mapping calls",
                 "Page faults are the child's minor + major faults "
                 "(GNU time's %%R + %%F: the whole process, start-up "
                 "included) over its operations, median of the runs. "
                 "System calls are counted in %s per allocator "
                 "(medians) of %s operations under `strace -f --seccomp-bpf -c -e "
                 "trace=%s` (all threads, the allocator's own included; "
                 "the loader's few mmap calls too); n/a where strace is "
                 "missing." % ("one extra run" if min(PROBE_RUNS, args.runs) <= 1
                              else "%d extra runs" % min(PROBE_RUNS,
                                                         args.runs),
                              "100,000" if q else "500,000",
                              ",".join(STRACE_CALLS)),
                 [("M ops/s", "ops_per_s", "M"),
                  ("peak RSS (MiB)", "rss_kb", "mib"),
                  ("page faults / op", "faults_per_op", "x")] +
                 [("%s calls / 1000 ops" % c, "strace_%s_per_kop" % c, "x")
                  for c in STRACE_CALLS] +
                 [("madvise calls in a strace run", "strace_madvise",
                   "n")], ("glibc", "mimalloc")),
                strace_cmd=ms(50000 if q else 250000)),
        Program("idle-return", "%d MiB of 4000 B blocks written and freed "
                "(time: that phase), then %.1f s of malloc(64)+free pairs "
                "only, RSS sampled every 10 ms" % (ir_mib, ir_ms / 1000),
                [b("idle_return"), str(ir_mib), str(ir_ms), "4000"],
                ("peak_rss_kb", "half_rss_kb", "final_rss_kb", "final_pct",
                 "return_ms"),
                ("idle-return: memory given back while the program runs on",
                 "RSS from /proc/self/statm, sampled by the program; "
                 "'to 15%%' is the time from the last free until the "
                 "resident set first fell to 15%% of its peak (never: not "
                 "within the %.1f s). kmem returns free pages "
                 "KMEM_PURGE_DELAY_MS (1000 ms by default) after they were "
                 "freed, from its purge thread; medians of the runs."
                 % (ir_ms / 1000),
                 [("peak RSS (MiB)", "peak_rss_kb", "mib"),
                  ("RSS at %.2f s (MiB)" % (ir_ms / 2000), "half_rss_kb",
                   "mib"),
                  ("RSS at %.1f s (MiB)" % (ir_ms / 1000), "final_rss_kb",
                   "mib"),
                  ("RSS at the end, % of peak", "final_pct", "pct"),
                  ("to 15% of peak (ms)", "return_ms", "ms")])),
        Real("cpython", "python3 json/dict/str workload, "
             "PYTHONMALLOC=malloc", ["/usr/bin/python3",
                                     os.path.join(HERE, "py_workload.py"),
                                     "1" if q else "12"],
             {"PYTHONMALLOC": "malloc"}),
        Real("sqlite3", "%d-row table with index, aggregates, updates "
             "(:memory:)" % rows, ["sqlite3", ":memory:"], stdin_text=sql),
        Redis("redis", "redis-benchmark -P 16 -n %d -t %s"
              % (5000 if q else 50000, Redis.TESTS),
              5000 if q else 50000, b("libglibc_shim.so")),
    ]
    if args.only:
        keep = args.only.split(",")
        w = [x for x in w if x.name in keep]
    return w


# ---------------------------------------------------------------- callgrind
CG_MODES = ["fixed64", "mixed", "window"]


def callgrind_ir(binary, mode, n, alloc, tmp):
    out = os.path.join(tmp, "cg.out")
    if os.path.exists(out):
        os.unlink(out)
    rc, _, _, _, err = run_child(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
         binary, mode, str(n)], alloc.env(), 600)
    if rc != 0 or not os.path.exists(out):
        raise RuntimeError(failure(rc, err, 600))
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("no summary line in callgrind output")


def run_callgrind(args, bindir, allocs):
    n = 2000 if args.quick else 100000
    modes = CG_MODES[:1] if args.quick else CG_MODES
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            for a in allocs:
                if a.why_missing:
                    continue
                try:
                    full = callgrind_ir(os.path.join(bindir, "pairs"), mode,
                                        n, a, tmp)
                    base = callgrind_ir(os.path.join(bindir, "pairs"), mode,
                                        0, a, tmp)
                    res[(mode, a.name)] = (full - base) / n
                except RuntimeError as e:
                    res[(mode, a.name)] = "fail: %s" % e
                log("  callgrind %-8s %-9s %s" % (mode, a.name,
                                                  res[(mode, a.name)]))
    return modes, n, res


# ---------------------------------------------------------------- report
def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    return "%.*f" % (max(0, digits - 1 - mag), v)


def ratio(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) \
            or b == 0:
        return None
    return a / b


def geomean(xs):
    xs = [x for x in xs if x]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def med(results, field):
    """Median of a field over the runs that succeeded, or 'fail'."""
    ok = [getattr(r, field) if field in ("time_s", "rss_kb", "cpu_s") else
          r.extra.get(field) for r in results if r.ok]
    ok = [x for x in ok if x is not None]
    if not results:
        return None
    if not ok:
        return "fail"
    return statistics.median(ok)


def spread(results):
    ok = [r.time_s for r in results if r.ok]
    if len(ok) < 2:
        return None
    return (max(ok) - min(ok)) / statistics.median(ok)


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    os_name = ""
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
    return [
        ("CPU", "%s, %d logical CPUs (nproc)" % (cpu, os.cpu_count())),
        ("Memory", mem),
        ("OS", os_name),
        ("Kernel", platform.release()),
        ("glibc", os.confstr("CS_GNU_LIBC_VERSION")),
        ("Compiler", sh("cc --version | head -1")),
    ]


def write_chart(path, rows, peers, ref):
    """rows: [(workload, [ratio per peer])].  gnuplot, png terminal."""
    if not shutil.which("gnuplot"):
        return "gnuplot not installed"
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "ratios.dat")
        with open(dat, "w") as f:
            f.write("workload " + " ".join(peers) + "\n")
            for name, rs in rows:
                f.write(name + " " + " ".join(
                    "%.4f" % r if r else "NaN" for r in rs) + "\n")
        terms = sh("gnuplot -e 'set terminal' 2>&1")
        term = "pngcairo size 1200,600 font ',10'" \
            if "pngcairo" in terms else "png size 1200,600"
        vals = [r for _, rs in rows for r in rs if r]
        lo = min(vals + [1.0]) / 1.3
        hi = max(vals + [1.0]) * 1.3
        plot = ", ".join(
            "'%s' using %d:xtic(1) title columnheader(%d)" % (dat, i + 2,
                                                              i + 2)
            for i in range(len(peers)))
        script = """
set terminal %s
set output '%s'
set title "%s time / peer time per workload (below 1: %s is faster; median of runs)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y 2
set yrange [%g:%g]
set ytics (0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8, 16, 32)
set grid ytics
set xtics rotate by -30
set key top left
set ylabel "time ratio %s / peer (log scale)"
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
plot %s
""" % (term, path, ref, ref, lo, hi, ref, plot)
        sf = os.path.join(tmp, "chart.gp")
        with open(sf, "w") as f:
            f.write(script)
        r = subprocess.run(["gnuplot", sf], capture_output=True, text=True)
        if r.returncode != 0:
            return "gnuplot failed: " + r.stderr.strip()[:200]
    return None


def show(v, unit):
    """A figure of an extra table: unit mib (from KiB), M (millions),
    pct, ms (inf: never), n (a count), x (as it is)."""
    if not isinstance(v, (int, float)):
        return fmt(v)
    if math.isinf(v):
        return "never"
    if unit == "mib":
        return fmt(v / 1024)
    if unit == "M":
        return fmt(v / 1e6)
    if unit == "pct":
        return "%.1f%%" % v
    if unit in ("ms", "n"):
        return "%.0f" % v
    return fmt(v)


def extra_table(P, w, names, allocs, results, probes):
    """A workload's own table (Workload.table): rows of figures from its
    RESULT lines (medians) or from its probe run, one column per
    allocator, then kmem / peer for the peers named."""
    title, caption, rows = w.table[:3]
    vs = [p for p in (w.table[3] if len(w.table) > 3 else ())
          if p in names and p != REF]
    P("### " + title)
    P("")
    if caption:
        P(caption)
        P("")
    P("| | " + " | ".join(names) + "".join(
        " | %s/%s" % (REF, p) for p in vs) + " |")
    P("|---|" + "---:|" * (len(names) + len(vs)))
    why = {}
    for label, key, unit in rows:
        val = {}
        for a in names:
            if allocs[a].why_missing:
                val[a] = None
            elif key.startswith("strace_"):
                pr = probes.get((w.name, a)) or {}
                val[a] = pr.get(key, "n/a")
                if "why" in pr:
                    why[a] = pr["why"]
            else:
                val[a] = med(results[(w.name, a)], key)
        rs = [ratio(val.get(REF), val[p]) for p in vs]
        P("| %s | %s%s |" % (label, " | ".join(show(val[a], unit)
                                               for a in names),
                             "".join(" | " + fmt(r) for r in rs)))
    P("")
    if why:
        P("System call counts n/a: " + "; ".join(
            "%s: %s" % (a, why[a]) for a in names if a in why) + ".")
        P("")


def report(args, allocs, wls, results, cg, started, elapsed, probes=None):
    probes = probes or {}
    names = [a for a in ORDER if a in allocs]
    usable = [a for a in names if not allocs[a].why_missing]
    ref = REF if REF in usable else "glibc"
    peers = [a for a in names if a != ref]
    L = []
    P = L.append
    P("# kmem benchmarks")
    P("")
    P("Generated by `make %s` (bench/run.py) on %s; the matrix took %.0f s."
      % ("bench-quick" if args.quick else "bench",
         started.strftime("%Y-%m-%d %H:%M %Z").strip(), elapsed))
    if args.quick:
        P("")
        P("**This is a smoke pass (`--quick`): tiny inputs, one run. "
          "Its figures mean nothing about speed.**")
    P("")
    P("## Machine")
    P("")
    for k, v in machine():
        P("- %s: %s" % (k, v))
    P("- Allocators: " + "; ".join(
        "%s (%s)" % (a, allocs[a].version or "n/a") for a in names))
    missing = [a for a in names if allocs[a].why_missing]
    if missing:
        P("")
        P("**Missing columns.** " + " ".join(
            "%s: %s." % (a, allocs[a].why_missing) for a in missing) +
          " Its cells read n/a; nothing is estimated.")
        if ref != REF:
            P("Until kmem's malloc exists, the ratio columns and the chart "
              "compare the peers with **glibc** (peer/glibc), to validate "
              "the harness; they are not kmem's figures.")
    P("")
    P("## Method")
    P("")
    P("- %d run(s) of everything, nested run → workload → allocator, so "
      "that drift of the machine hits all allocators alike, the "
      "allocators' order turned by one at every workload and run, so that "
      "none always runs in the same place; every figure is the median of "
      "the runs." % args.runs)
    P("- Allocators are switched by `LD_PRELOAD` of the shared object into "
      "the measured process only; glibc means nothing preloaded. The "
      "programs are built with plain `-O2` and linked with the C "
      "library's malloc.")
    P("- Time: our programs print their own elapsed time (threads started "
      "to threads joined, start-up excluded); real programs are timed "
      "whole (wall clock, start-up included); redis is "
      "Σ requests / (requests per second) over its tests. Peak RSS is "
      "`ru_maxrss` of the measured process (GNU time's %M, from "
      "`wait4()`); CPU time is its user + system time (%U + %S), which "
      "other load on a shared machine disturbs less than elapsed time.")
    P("- Page faults are the measured process's minor + major faults "
      "(GNU time's %R + %F). For mixed-stress they are shown per "
      "operation, beside its madvise, munmap, mmap and mprotect calls, "
      "which are counted in up to three extra, shorter runs per "
      "allocator under `strace -f -c` that are not timed (medians).")
    P("- idle-return's time is its allocate, write and free phase only: "
      "its idle phase has a fixed length, and what it measures is the "
      "resident set during it, shown as a share of the peak.")
    P("- Ratios are %s / peer: below 1 means %s is faster (or smaller). "
      "Geometric means are over the workloads that have both figures."
      % (ref, ref))
    P("- redis: Debian's redis-server is linked with libjemalloc.so.2, "
      "which precedes libc.so.6 in its search order, so for the glibc "
      "column bench/glibc_shim.c is preloaded, which routes malloc and "
      "friends to glibc's `__libc_malloc` family. Under every other "
      "column the preloaded allocator serves malloc; jemalloc-only calls "
      "(`mallctl`, `nallocx`) still go to the linked jemalloc.")
    P("- The machine has %d CPUs and may be shared; every workload uses 2 "
      "threads." % os.cpu_count())
    spreads = [spread(results[(w.name, a)]) for w in wls if w.kind != "micro"
               for a in usable]
    spreads = [s for s in spreads if s is not None]
    if spreads:
        P("- Noise: (max − min) / median of the time over the runs of one "
          "cell is %.1f%% in the median cell, %.1f%% in the worst."
          % (100 * statistics.median(spreads), 100 * max(spreads)))
    P("")

    # ---- summary
    progs = [w for w in wls if w.kind != "micro"]
    micro = [w for w in wls if w.kind == "micro"]
    tmed = {(w.name, a): med(results[(w.name, a)], "time_s")
            for w in progs for a in names}
    rmed = {(w.name, a): med(results[(w.name, a)], "rss_kb")
            for w in progs for a in names}
    cmed = {(w.name, a): med(results[(w.name, a)], "cpu_s")
            for w in progs for a in names}
    mres = {}
    bench_names = []
    for w in micro:
        for a in names:
            per = {}
            for r in results[(w.name, a)]:
                if r.ok:
                    for k, v in r.extra["ns"].items():
                        per.setdefault(k, []).append(v)
                        if k not in bench_names:
                            bench_names.append(k)
            for k, vs in per.items():
                vs = [v for v in vs if v is not None]
                mres[(k, a)] = statistics.median(vs) if vs else None
    plain = [k for k in bench_names if not k.startswith("kmem_")]

    P("## Summary: geometric means of %s / peer" % ref)
    P("")
    P("| peer | time, %d workloads | CPU time | peak RSS | "
      "micro ns/op, %d benchmarks |" % (len(progs), len(plain)))
    P("|---|---:|---:|---:|---:|")
    chart_rows = []
    for p in peers:
        tg = geomean([ratio(tmed[(w.name, ref)], tmed[(w.name, p)])
                      for w in progs])
        rg = geomean([ratio(rmed[(w.name, ref)], rmed[(w.name, p)])
                      for w in progs])
        mg = geomean([ratio(mres.get((k, ref)), mres.get((k, p)))
                      for k in plain])
        cg_ = geomean([ratio(cmed[(w.name, ref)], cmed[(w.name, p)])
                       for w in progs])
        P("| %s | %s | %s | %s | %s |" % (p, fmt(tg), fmt(cg_), fmt(rg),
                                          fmt(mg)))
    cpeers = [p for p in peers if p in usable]
    for w in progs:
        chart_rows.append((w.name, [ratio(tmed[(w.name, ref)],
                                          tmed[(w.name, p)])
                                    for p in cpeers]))
    if plain:
        chart_rows.append(("micro(geomean)", [geomean(
            [ratio(mres.get((k, ref)), mres.get((k, p))) for k in plain])
            for p in cpeers]))
    P("")
    chart_err = write_chart(args.chart, chart_rows,
                            ["%s/%s" % (ref, p) for p in cpeers], ref)
    rel = os.path.relpath(args.chart, os.path.dirname(
        os.path.abspath(args.out)))
    if chart_err:
        P("(chart not drawn: %s)" % chart_err)
    else:
        P("![%s/peer time ratios](%s)" % (ref, rel))
    P("")
    P("%s: time ratio %s / peer per workload, log scale; the last group "
      "is the geometric mean of the micro-benchmarks." % (rel, ref))
    P("")

    # ---- workloads
    P("## Workloads")
    P("")
    P("| workload | what |")
    P("|---|---|")
    for w in progs:
        P("| %s | %s |" % (w.name, w.desc))
    P("")
    hdr = "| workload | " + " | ".join(names) + " | " + " | ".join(
        "%s/%s" % (ref, p) for p in peers) + " |"
    sep = "|---|" + "---:|" * (len(names) + len(peers))
    for title, table, scale in (("Time (s, median)", tmed, 1.0),
                                ("CPU time, user + system (s, median)",
                                 cmed, 1.0),
                                ("Peak RSS (MiB, median)", rmed, 1024.0)):
        P("### " + title)
        P("")
        P(hdr)
        P(sep)
        for w in progs:
            cells = []
            for a in names:
                if allocs[a].why_missing:
                    cells.append("n/a")
                else:
                    v = table[(w.name, a)]
                    cells.append(fmt(v / scale if isinstance(v, float) or
                                     isinstance(v, int) else v))
            rs = [fmt(ratio(table[(w.name, ref)], table[(w.name, p)]))
                  for p in peers]
            P("| %s | %s | %s |" % (w.name, " | ".join(cells),
                                    " | ".join(rs)))
        P("")
    for w in progs:
        if w.table:
            extra_table(P, w, names, allocs, results, probes)
    for w in progs:
        if isinstance(w, Redis):
            P("### redis: requests per second (median)")
            P("")
            P("| test | " + " | ".join(names) + " |")
            P("|---|" + "---:|" * len(names))
            for t in Redis.TESTS.split(","):
                cells = []
                for a in names:
                    v = None if allocs[a].why_missing else \
                        med(results[(w.name, a)], "rps_" + t)
                    cells.append(fmt(v, 4) if v != "fail" else v)
                P("| %s | %s |" % (t, " | ".join(cells)))
            P("")

    # ---- micro
    if micro:
        P("## Micro-benchmarks (ns per operation, median)")
        P("")
        P("Google Benchmark %s, `--benchmark_min_time=%s`; an operation is "
          "a malloc+free pair, one realloc call, or one replacement in the "
          "churn (see bench/workloads.c). `pair/64/threads:2` is per-thread "
          "time with two threads at once." % (
              sh("dpkg-query -W -f='${Version}' libbenchmark-dev"),
              micro[0].cmd[-1].split("=")[1]))
        P("")
        P(hdr.replace("| workload |", "| benchmark |"))
        P(sep)
        for k in plain:
            cells = ["n/a" if allocs[a].why_missing else
                     fmt(mres.get((k, a), "fail")) for a in names]
            rs = [fmt(ratio(mres.get((k, ref)), mres.get((k, p))))
                  for p in peers]
            P("| %s | %s | %s |" % (k, " | ".join(cells), " | ".join(rs)))
        P("")
        P("### kmem's API against malloc, same size, under kmem")
        P("")
        if allocs["kmem"].why_missing:
            P("n/a: " + allocs["kmem"].why_missing + ".")
        else:
            P("| size | malloc+free | kmem_kmalloc+kfree | "
              "kmem_cache_alloc+free |")
            P("|---:|---:|---:|---:|")
            for size in ("64", "256"):
                P("| %s | %s | %s | %s |" % (
                    size, fmt(mres.get(("pair/" + size, "kmem"))),
                    fmt(mres.get(("kmem_kmalloc/" + size, "kmem"))),
                    fmt(mres.get(("kmem_cache_alloc/" + size, "kmem")))))
        P("")

    # ---- callgrind
    if cg:
        modes, n, res = cg
        P("## Instructions per malloc+free pair (callgrind)")
        P("")
        P("`valgrind --tool=callgrind` (%s) on bench/pairs.c with the "
          "allocator preloaded: (Ir with %d pairs − Ir with 0 pairs) / %d, "
          "so start-up, warm-up and exit cancel out. fixed64: malloc(64) "
          "then free; mixed: sizes 16..1024 from a fixed table, freed at "
          "once; window: the same sizes with 256 objects live. Callgrind "
          "does not replace malloc, so the preloaded allocator is what "
          "runs. Under valgrind, rseq registration is not available, so "
          "kmem runs its per-thread fallback instead of its per-CPU "
          "(rseq) fast path; the figure is that mode's." % (
              sh("valgrind --version"), n, n))
        P("")
        P("| pattern | " + " | ".join(names) + " |")
        P("|---|" + "---:|" * len(names))
        for m in modes:
            P("| %s | %s |" % (m, " | ".join(
                "n/a" if allocs[a].why_missing else
                fmt(res.get((m, a)), 4) for a in names)))
        P("")

    # ---- failures
    fails = []
    for w in wls:
        for a in names:
            for i, r in enumerate(results[(w.name, a)]):
                if not r.ok:
                    fails.append("- %s under %s, run %d: %s"
                                 % (w.name, a, i + 1, r.err))
    P("## Failures")
    P("")
    P("\n".join(fails) if fails else "None: every workload ran under "
      "every available allocator in every run.")
    P("")
    if ref == REF:
        P("## Where kmem is behind")
        P("")
        behind = []
        for w in progs:
            rs = [(p, ratio(tmed[(w.name, ref)], tmed[(w.name, p)]))
                  for p in peers]
            slow = ["%s ×%s" % (p, fmt(r)) for p, r in rs if r and r > 1.05]
            if slow:
                behind.append("- %s (time): %s" % (w.name, ", ".join(slow)))
            rs = [(p, ratio(rmed[(w.name, ref)], rmed[(w.name, p)]))
                  for p in peers]
            big = ["%s ×%s" % (p, fmt(r)) for p, r in rs if r and r > 1.10]
            if big:
                behind.append("- %s (peak RSS): %s" % (w.name,
                                                        ", ".join(big)))
        P("Cells where kmem is more than 5% slower (10% bigger) than a "
          "peer, as kmem/peer:")
        P("")
        P("\n".join(behind) if behind else "None.")
        P("")
        notes = os.path.join(HERE, "notes.md")
        if os.path.exists(notes) and not args.quick:
            P(open(notes).read().strip())
            P("")
    with open(args.out, "w") as f:
        f.write("\n".join(L))


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs",
                                                  "benchmarks.md"))
    ap.add_argument("--chart", default=os.path.join(ROOT, "docs",
                                                    "benchmarks.png"))
    ap.add_argument("--quick", action="store_true",
                    help="tiny inputs, one run: a smoke test")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--only", default=None,
                    help="comma-separated workload names")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--allocators", default=None,
                    help="comma-separated columns to run (default: all), "
                    "e.g. kmem,kmem-nosample for an A/B of one feature")
    ap.add_argument("--variant", action="append", default=[],
                    metavar="NAME:VAR=VALUE[,VAR=VALUE]",
                    help="one more kmem column, with these settings "
                    "(e.g. kmem-nosample:KMEM_SAMPLE=0): the cost of a "
                    "feature, side by side in the same run; LIB=path "
                    "preloads another build instead (kmem-base:LIB=...)")
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    args.timeout = 60 if args.quick else 300
    bindir = os.path.abspath(os.path.join(args.build, "bench"))
    allocs = find_allocators(args.build)
    for v in args.variant:
        name, _, settings = v.partition(":")
        base = allocs["kmem"]
        var = Alloc(name, base.lib, base.why_missing,
                    "%s with %s" % (base.version, settings))
        var.extra_env = dict(kv.split("=", 1)
                             for kv in settings.split(",") if kv)
        if "LIB" in var.extra_env:      # another build: an A/B of commits
            var.lib = os.path.abspath(var.extra_env.pop("LIB"))
            var.why_missing = (None if os.path.exists(var.lib)
                               else "%s not found" % var.lib)
        allocs[name] = var
        ORDER.insert(ORDER.index(REF) + 1, name)
    if args.allocators:
        keep = args.allocators.split(",")
        ORDER[:] = [a for a in ORDER if a in keep]
    for a in ORDER:
        if allocs[a].why_missing:
            log("bench: %s: n/a (%s)" % (a, allocs[a].why_missing))
    usable = [allocs[a] for a in ORDER if not allocs[a].why_missing]
    wls = workloads(args, bindir)
    results = {(w.name, a): [] for w in wls for a in ORDER}
    started = datetime.datetime.now().astimezone()
    t0 = time.time()
    for run in range(args.runs):
        for wi, w in enumerate(wls):
            # The allocators' order turns by one at every workload and run,
            # so that no column always runs right after the same one (a
            # column that always ran second measured 1.25x in one run).
            k = (run + wi) % len(usable)
            for a in usable[k:] + usable[:k]:
                r = w.run(a, args)
                results[(w.name, a.name)].append(r)
                log("run %d/%d %-14s %-9s %s" % (
                    run + 1, args.runs, w.name, a.name,
                    "%.3f s, %d MiB" % (r.time_s, r.rss_kb // 1024)
                    if r.ok else "FAIL " + r.err))
    probes = {}
    for w in wls:
        for a in usable:
            p = w.probe(a, args)
            if p is not None:
                probes[(w.name, a.name)] = p
                log("probe %-14s %-9s %s" % (
                    w.name, a.name, p.get("why") or " ".join(
                        "%s=%s" % (k[7:], p[k]) for k in sorted(p)
                        if k.startswith("strace_") and
                        not k.endswith("_per_kop"))))
    cg = None
    if not args.no_callgrind and shutil.which("valgrind") and \
            (not args.only or "callgrind" in args.only.split(",")) or \
            (args.only and "callgrind" in args.only.split(",")):
        cg = run_callgrind(args, bindir, [allocs[a] for a in ORDER])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    report(args, allocs, wls, results, cg, started, time.time() - t0,
           probes)
    log("bench: wrote %s and %s" % (args.out, args.chart))
    return 0


if __name__ == "__main__":
    sys.exit(main())
