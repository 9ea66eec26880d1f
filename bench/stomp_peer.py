#!/usr/bin/env python3
"""The Python peer of bench/stompclt.sh: stomp.py + python messaging doing stompclt's
reliable work, as a careful Python program would.

  stomp_peer.py send HOST PORT VHOST QUEUE_PATH WINDOW   DQS -> broker, a receipt per SEND,
                                                         element removed on its receipt
  stomp_peer.py recv HOST PORT VHOST DEST N QUEUE_PATH PREFETCH
                                                         broker -> DQS, client-individual ACK
                                                         after each add
Prints one JSON line with the rate.
"""
import json
import sys
import threading
import time

import stomp
from messaging.message import Message
import messaging.queue as mq


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.cond = threading.Condition()
        self.receipts = []
        self.messages = []
        self.error = None

    def on_receipt(self, frame):
        with self.cond:
            self.receipts.append(frame.headers["receipt-id"])
            self.cond.notify()

    def on_message(self, frame):
        with self.cond:
            self.messages.append(frame)
            self.cond.notify()

    def on_error(self, frame):
        with self.cond:
            self.error = frame.headers.get("message", "ERROR")
            self.cond.notify()


def connect(host, port, vhost, listener):
    conn = stomp.Connection12([(host, int(port))], vhost=vhost, heartbeats=(0, 0))
    conn.set_listener("l", listener)
    conn.connect("guest", "guest", wait=True)
    return conn


def send(host, port, vhost, path, window):
    window = int(window)
    q = mq.new({"type": "DQS", "path": path})
    l = Listener()
    conn = connect(host, port, vhost, l)
    pending = {}
    n = 0
    start = time.perf_counter()

    def collect(block):
        with l.cond:
            while block and not l.receipts and l.error is None:
                l.cond.wait(5)
            got, l.receipts = l.receipts, []
            if l.error:
                raise SystemExit("ERROR frame: " + l.error)
        for r in got:
            q.remove(pending.pop(r))

    for name in q:
        if not q.lock(name):
            continue
        msg = q.get_message(name)
        n += 1
        rid = str(n)
        pending[rid] = name
        hdr = dict(msg.header)
        dest = hdr.pop("destination")
        body = msg.body
        conn.send(dest, body, headers=dict(hdr, receipt=rid))
        collect(False)
        while len(pending) >= window:
            collect(True)
    while pending:
        collect(True)
    secs = time.perf_counter() - start
    conn.disconnect()
    print(json.dumps({"impl": "python", "n": n, "secs": secs, "rate": n / secs}))


def recv(host, port, vhost, dest, n, path, prefetch):
    n = int(n)
    q = mq.new({"type": "DQS", "path": path})
    l = Listener()
    conn = connect(host, port, vhost, l)
    conn.subscribe(dest, id="peer", ack="client-individual",
                   headers={"prefetch-count": prefetch, "activemq.prefetchSize": prefetch})
    got = 0
    start = time.perf_counter()
    while got < n:
        with l.cond:
            while not l.messages and l.error is None:
                l.cond.wait(5)
            frames, l.messages = l.messages, []
        for f in frames:
            text = f.headers.get("content-type", "").startswith("text/")
            body = f.body
            if isinstance(body, bytes) and text:
                body = body.decode("utf-8", "replace")
            q.add_message(Message(body=body, header=dict(f.headers)))
            conn.ack(f.headers["ack"])
            got += 1
    secs = time.perf_counter() - start
    conn.disconnect()
    print(json.dumps({"impl": "python", "n": got, "secs": secs, "rate": got / secs}))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(*sys.argv[2:])
    else:
        recv(*sys.argv[2:])
