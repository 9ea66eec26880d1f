#!/usr/bin/env python3
"""The python dirq 1.8 side of bench/dirq.sh: same phases, same JSON lines as the Rust
driver (crates/dirq/examples/bench.rs)."""
import json
import sys
import time

from dirq.QueueSimple import QueueSimple
from dirq.queue import Queue


def phase(name, n, secs):
    print(json.dumps({"impl": "python", "phase": name, "n": n, "secs": secs,
                      "rate": n / secs if secs > 0 else 0}))


def open_queue(kind, path):
    if kind == "simple":
        return QueueSimple(path)
    return Queue(path, schema={"body": "binary"})


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def main():
    if sys.argv[1] == "count-purge":
        q = open_queue(sys.argv[2], sys.argv[3])
        n, secs = timed(q.count)
        phase("count", n, secs)
        _, secs = timed(lambda: q.purge(maxtemp=300, maxlock=600))
        phase("purge-full", n, secs)
        return
    kind, d, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    q = open_queue(kind, "%s/python-%s" % (d, kind))
    body = b"A" * size

    def add():
        for _ in range(n):
            q.add(body if kind == "simple" else {"body": body})
    _, secs = timed(add)
    phase("add", n, secs)
    c, secs = timed(q.count)
    assert c == n, (c, n)
    phase("count", n, secs)
    _, secs = timed(lambda: q.purge(maxtemp=300, maxlock=600))
    phase("purge-full", n, secs)

    def consume():
        got = 0
        for name in q:
            if not q.lock(name):
                continue
            q.get(name)
            q.remove(name)
            got += 1
        return got
    got, secs = timed(consume)
    assert got == n
    phase("consume", n, secs)
    _, secs = timed(lambda: q.purge(maxtemp=300, maxlock=600))
    phase("purge-empty", n, secs)


main()
