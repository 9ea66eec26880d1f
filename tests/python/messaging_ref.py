#!/usr/bin/env python3
"""Drives the reference python messaging 1.2 for the Rust cross-tests.

Usage:
  messaging_ref.py write TYPE PATH [COMPRESSION]  writes the message set; prints [[name, md5]]
  messaging_ref.py dump TYPE PATH                 reads every element (lock, get, unlock);
                                                  prints [[name, md5, text, header]]
  messaging_ref.py vectors                        prints [[md5, serialized]] of the message
                                                  set in python's own serialization
"""
import json
import sys

import messaging.queue as mq
from messaging.message import Message


def message_set():
    big = bytes(range(256)) * 4096  # 1 MiB
    return [
        Message(body="hello world", header={"destination": "/queue/test"}),
        Message(body=b"\x00\xff binary \x80\xfe", header={"content-type": "application/octet-stream"}),
        Message(body="Unicode ☺ é 中文 \t tab \n newline",
                header={"clé ☺": "valeur é", "tab\tkey": "line\nvalue", "back\\slash": "x\\y", "": "empty"}),
        Message(body="no header at all"),
        Message(body="", header={"empty": "text body"}),
        Message(body=b"", header={"empty": "binary body"}),
        Message(body=big, header={"size": "1 MiB binary"}),
        Message(body="a☺" * 300000, header={"size": "large text"}),
        Message(body="x" * 5000),
    ]


def open_queue(kind, path, compression=None):
    opts = {"type": kind, "path": path}
    if compression:
        opts["compression"] = compression
    return mq.new(opts)


def main():
    action = sys.argv[1]
    if action == "write":
        q = open_queue(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
        print(json.dumps([[q.add_message(m), m.md5()] for m in message_set()]))
    elif action == "dump":
        q = open_queue(sys.argv[2], sys.argv[3])
        out = []
        for name in q:
            if not q.lock(name):
                continue
            m = q.get_message(name)
            q.unlock(name)
            out.append([name, m.md5(), m.is_text(), m.header])
        print(json.dumps(out))
    elif action == "vectors":
        out = []
        for m in message_set():
            for c in (None, "zlib", "lz4", "snappy"):
                opt = {"compression": c} if c else {}
                out.append([m.md5(), m.serialize(opt).decode("utf-8")])
        print(json.dumps(out))
    else:
        sys.exit("unknown action " + action)


if __name__ == "__main__":
    main()
