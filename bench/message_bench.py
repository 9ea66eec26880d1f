#!/usr/bin/env python3
"""The python messaging 1.2 side of bench/message.sh: same phases, same JSON lines as
crates/message/examples/bench.rs, on the same messages."""
import json
import sys
import time

import messaging.queue as mq
from messaging.message import deserialize


def phase(kind, name, n, secs):
    print(json.dumps({"kind": kind, "impl": "python", "phase": name, "n": n,
                      "secs": secs, "rate": n / secs}))


def load(path):
    with open(path, "rb") as f:
        return [deserialize(line.rstrip(b"\n")) for line in f]


def main():
    action, path = sys.argv[1], sys.argv[2]
    msgs = load(path)
    if action == "codec":
        rounds = int(sys.argv[3])
        for comp in ("none", "zlib", "lz4", "snappy"):
            opt = {} if comp == "none" else {"compression": comp}
            t = time.perf_counter()
            for _ in range(rounds):
                for m in msgs:
                    back = deserialize(m.serialize(opt))
                    assert len(back.body) == len(m.body)
            phase(comp, "encode+decode", len(msgs) * rounds, time.perf_counter() - t)
    elif action == "queue":
        for kind in ("DQS", "DQN"):
            q = mq.new({"type": kind, "path": "%s/python-%s" % (sys.argv[3], kind)})
            t = time.perf_counter()
            for m in msgs:
                q.add_message(m)
            phase(kind, "add", len(msgs), time.perf_counter() - t)
            t = time.perf_counter()
            n = 0
            for name in q:
                if q.lock(name):
                    q.get_message(name)
                    q.remove(name)
                    n += 1
            assert n == len(msgs)
            phase(kind, "consume", n, time.perf_counter() - t)


main()
