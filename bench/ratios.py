#!/usr/bin/env python3
"""Prints the benchmark table from JSON lines {kind, phase, impl, n, secs, rate}: the median
of each implementation and the ratio (rates: rust/python; times: python/rust)."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
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
