#!/usr/bin/env python3
"""Drives the reference python dirq 1.8 for the Rust cross-implementation tests.

Usage: dirq_ref.py ACTION PATH [ARG]; prints JSON on stdout. Binary data travels as
base64, everything else as JSON strings, so the Rust side can compare byte for byte.
"""
import base64
import json
import os
import sys

from dirq.QueueSimple import QueueSimple
from dirq.queue import Queue
from dirq import QueueBase

SCHEMA = {"binary": "binary", "string": "string?", "table": "table?"}
B64 = lambda b: base64.b64encode(b).decode("ascii")

SIMPLE_BODIES = [
    b"\x00\xff\x00 binary with NUL and 0xFF \xfe\x80",
    "text with non-ASCII: é ☺ 中文".encode("utf-8"),
    b"",
    bytes(range(256)) * 64,
]

NORMAL_ELEMENTS = [
    {
        "binary": b"\x00\x01\xff\xfe",
        "string": "Élément ☺ 中文 \t tab \n newline \\ backslash \r cr",
        "table": {
            "key\twith\ttabs": "value\nwith\nnewlines",
            "back\\slash": "\\t not a tab \\n not a newline",
            "é☺": "unicode ☺",
            "": "empty key",
            "empty value": "",
            "cr\r": "\rraw\r",
        },
    },
    {"binary": b"only the mandatory field"},
    {"binary": b"", "string": "", "table": {}},
]


def encode_normal(elt):
    out = {}
    for k, v in elt.items():
        if isinstance(v, bytes):
            out[k] = B64(v)
        else:
            out[k] = v
    return out


def main():
    action, path = sys.argv[1], sys.argv[2]
    if action == "write-simple":
        q = QueueSimple(path)
        print(json.dumps([[q.add(b), B64(b)] for b in SIMPLE_BODIES]))
    elif action == "write-normal":
        q = Queue(path, schema=SCHEMA)
        print(json.dumps([[q.add(e), encode_normal(e)] for e in NORMAL_ELEMENTS]))
    elif action == "leave-simple-states":
        # an element locked by python, and a temporary file of an add in progress
        q = QueueSimple(path)
        name = q.add(b"locked by python")
        assert q.lock(name)
        tmp = "%s/%s/%s.tmp" % (path, name.split("/")[0], QueueBase._name(q.rndhex))
        QueueBase._file_write(tmp, False, None, b"half written")
        print(json.dumps({"locked": name, "tmp": tmp}))
    elif action == "leave-normal-states":
        q = Queue(path, schema=SCHEMA)
        name = q.add({"binary": b"locked by python"})
        assert q.lock(name)
        try:
            # python checks mandatory fields after writing (bug 6): a temporary element stays
            q.add({"string": "no binary"})
        except Exception:
            pass
        print(json.dumps({"locked": name, "temporary": os.listdir(path + "/temporary")}))
    elif action in ("dump-simple", "consume-simple"):
        q = QueueSimple(path)
        out = []
        for name in q:
            if not q.lock(name):
                out.append([name, None])
                continue
            out.append([name, B64(q.get(name))])
            if action == "consume-simple":
                q.remove(name)
            else:
                q.unlock(name)
        print(json.dumps(out))
    elif action in ("dump-normal", "consume-normal"):
        q = Queue(path, schema=SCHEMA)
        out = []
        for name in q:
            if not q.lock(name):
                out.append([name, None])
                continue
            out.append([name, encode_normal(q.get(name))])
            if action == "consume-normal":
                q.remove(name)
            else:
                q.unlock(name)
        print(json.dumps(out))
    elif action == "count-simple":
        print(json.dumps(QueueSimple(path).count()))
    elif action == "count-normal":
        print(json.dumps(Queue(path, schema=SCHEMA).count()))
    elif action == "purge-simple":
        QueueSimple(path).purge(maxtemp=int(sys.argv[3]), maxlock=int(sys.argv[4]))
        print("null")
    elif action == "purge-normal":
        Queue(path, schema=SCHEMA).purge(maxtemp=int(sys.argv[3]), maxlock=int(sys.argv[4]))
        print("null")
    elif action == "lock-simple":
        print(json.dumps(QueueSimple(path).lock(sys.argv[3])))
    elif action == "lock-normal":
        print(json.dumps(Queue(path, schema=SCHEMA).lock(sys.argv[3])))
    elif action == "add-simple-many":
        q = QueueSimple(path)
        for i in range(int(sys.argv[3])):
            q.add(("python %d\n" % i).encode())
        print("null")
    else:
        sys.exit("unknown action " + action)


if __name__ == "__main__":
    main()
