# SPDX-License-Identifier: MIT
"""bench/py_workload.py - a CPython workload for the allocator benchmarks.

bench/run.py runs it as `python3 bench/py_workload.py SCALE` with
PYTHONMALLOC=malloc, so that every object allocation of the interpreter
goes to the preloaded malloc (CPython's own small-object allocator,
pymalloc, would otherwise serve objects up to 512 bytes from its arenas).

It builds and drops dicts, lists, tuples and strings of many sizes, does
JSON round trips, sorts, and string formatting: the allocation pattern of
ordinary Python programs.  The work is deterministic (fixed seed).
"""
import json
import random
import sys


def records(rng, n):
    out = []
    for i in range(n):
        out.append({
            "id": i,
            "name": "user-%d-%s" % (i, "x" * rng.randrange(1, 40)),
            "tags": [str(rng.randrange(1000)) for _ in range(rng.randrange(8))],
            "score": rng.random(),
            "pos": (rng.randrange(100), rng.randrange(100)),
        })
    return out


def round_trip(rng, n):
    data = records(rng, n)
    text = json.dumps(data)
    back = json.loads(text)
    back.sort(key=lambda r: (r["score"], r["name"]))
    index = {r["name"]: r for r in back}
    words = " ".join(r["name"] for r in back).split("-")
    return len(text) + len(index) + len(words)


def churn_strings(rng, n):
    live = [None] * 4096
    total = 0
    for i in range(n):
        s = "%x" % rng.getrandbits(64) * rng.randrange(1, 64)
        live[rng.randrange(len(live))] = s
        total += len(s)
    return total


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rng = random.Random(12345)
    total = 0
    for _ in range(scale):
        total += round_trip(rng, 5000)
        total += churn_strings(rng, 40000)
        graph = {i: set(rng.randrange(5000) for _ in range(6))
                 for i in range(5000)}
        total += sum(len(v) for v in graph.values())
    print("RESULT workload=cpython scale=%d checksum=%d" % (scale, total))


if __name__ == "__main__":
    main()
