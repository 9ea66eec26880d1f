#!/usr/bin/env python3
"""Prints the benchmark table from JSON lines {kind, phase, impl, n, secs, rate}: the median
of each implementation and the ratio (rates: rust/python; times: python/rust)."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
floor = [r for r in rows if r["kind"] == "floor"]
rows = [r for r in rows if r["kind"] != "floor"]
keys = []
for r in rows:
    k = (r["kind"], r["phase"])
    if k not in keys:
        keys.append(k)
print("%-12s %-14s %14s %14s %8s" % ("kind", "phase", "rust", "python", "ratio"))
for kind, phase in keys:
    def med(impl, field):
        v = [r[field] for r in rows if (r["kind"], r["phase"], r["impl"]) == (kind, phase, impl)]
        return statistics.median(v) if v else None
    if phase == "max-rss-kib":
        print("%-12s %-14s %11d KiB %14s %8s" % (kind, phase, med("rust", "rate"), "-", "-"))
        continue
    if phase in ("count", "purge-full", "purge-empty"):
        r, p = med("rust", "secs"), med("python", "secs")
        ratio = p / r if r and p else float("nan")
        print("%-12s %-14s %13.4fs %13.4fs %7.2fx" % (kind, phase, r, p, ratio))
    else:
        r, p = med("rust", "rate"), med("python", "rate")
        ratio = r / p if r and p else float("nan")
        print("%-12s %-14s %12.0f/s %12.0f/s %7.2fx" % (kind, phase, r, p or 0, ratio))
print("ratio = how many times faster the Rust code is (rates: rust/python; times: python/rust)")
if floor:
    def fmed(impl, phase):
        # the best round: the machine's noise only ever slows a round down
        v = [r["rate"] for r in floor if (r["impl"], r["phase"]) == (impl, phase)]
        return max(v) if v else float("nan")
    print()
    print("%-8s %12s %12s %12s %9s %9s %9s" % ("simple", "floor", "library", "command", "lib/fl", "cmd/fl", "cmd/bnd"))
    for phase in ("add", "consume"):
        f, lib, cmd = fmed("floor", phase), fmed("library", phase), fmed("command", phase)
        # the command's bound: the floor and, adding, the reading of its input alone
        inp = fmed("input", phase)
        bound = 1 / (1 / f + 1 / inp) if phase == "add" else f
        print("%-8s %10.0f/s %10.0f/s %10.0f/s %8.2fx %8.2fx %8.2fx" % (phase, f, lib, cmd, lib / f, cmd / f, cmd / bound))
    print("floor = only the system calls of an add (4) and a take (7), measured in the same run;")
    print("each the best of its rounds, taken in turn; the command's bound adding = the floor")
    print("and reading its input alone (%.0f lines/s)" % fmed("input", "add"))
