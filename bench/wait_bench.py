#!/usr/bin/env python3
"""Latency from `dirq add` to the element leaving the queue, and an idle agent's CPU time:
the driver of bench/wait.sh.

  wait_bench.py pop DIRQ_BIN QUEUE N        consumer: `dirq pop --wait` in a loop
  wait_bench.py agent STOMPCLT QUEUE OUT N  consumer: stompclt --loop, queue -> queue
  wait_bench.py idle STOMPCLT QUEUE OUT SECONDS

Elements are added at random intervals (0-20 ms) with python dirq; the latency of each is
the time until it is gone from the queue (pop) or until stompclt removed it (agent), seen by
a 1 ms watch. Prints one JSON line: median and 99th percentile in ms, or the CPU seconds.
"""
import json
import os
import random
import subprocess
import sys
import threading
import time

import dirq.QueueSimple as qs
from messaging.message import Message
import messaging.queue as mq


def percentiles(lat):
    lat = sorted(lat)
    return {"median_ms": 1000 * lat[len(lat) // 2],
            "p99_ms": 1000 * lat[int(len(lat) * 0.99) - 1], "n": len(lat)}


def watch_gone(path, added, out, done):
    # each element's file, watched until it is gone
    while not done.is_set() or added:
        for p, t in list(added.items()):
            if not os.path.exists(p):
                out.append(time.monotonic() - t)
                del added[p]
        time.sleep(0.001)


def produce(queue_path, n, make):
    added = {}
    lat = []
    done = threading.Event()
    w = threading.Thread(target=watch_gone, args=(queue_path, added, lat, done))
    w.start()
    for _ in range(n):
        time.sleep(random.uniform(0, 0.02))
        name = make()
        added[os.path.join(queue_path, name)] = time.monotonic()
    done.set()
    w.join(timeout=30)
    return lat


def main():
    mode = sys.argv[1]
    random.seed(1)
    if mode == "pop":
        dirq_bin, path, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        q = qs.QueueSimple(path)
        stop = threading.Event()

        def consume():
            while not stop.is_set():
                subprocess.run([dirq_bin, "pop", "--path", path, "--wait", "1"],
                               stdout=subprocess.DEVNULL)
        c = threading.Thread(target=consume)
        c.start()
        time.sleep(0.5)
        lat = produce(path, n, lambda: q.add(b"x"))
        stop.set()
        c.join()
        print(json.dumps(percentiles(lat)))
    elif mode == "agent":
        stompclt, path, out, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        q = mq.new({"type": "DQS", "path": path})
        p = subprocess.Popen([stompclt, "--incoming-queue", "path=" + path, "--loop",
                              "--remove", "--outgoing-queue", "path=" + out])
        time.sleep(0.5)
        lat = produce(path, n, lambda: q.add_message(Message(body="x", header={"destination": "/q"})))
        p.terminate()
        p.wait()
        print(json.dumps(percentiles(lat)))
    else:
        stompclt, path, out, secs = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        os.makedirs(path, exist_ok=True)
        p = subprocess.Popen([stompclt, "--incoming-queue", "path=" + path, "--loop",
                              "--remove", "--outgoing-queue", "path=" + out])
        time.sleep(1)

        def cpu():
            f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        c0 = cpu()
        time.sleep(secs)
        used = cpu() - c0
        p.terminate()
        p.wait()
        print(json.dumps({"cpu_s": used, "seconds": secs}))


if __name__ == "__main__":
    main()
