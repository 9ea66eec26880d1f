#!/usr/bin/env python3
"""The Python peer of bench/amqpclt.sh: Qpid Proton's Python binding (python3-qpid-proton)
and python messaging doing amqpclt's reliable work, as a careful Python program would.

  amqp_peer.py send URL ADDRESS QUEUE_PATH WINDOW   DQS -> broker, up to WINDOW unsettled,
                                                    an element removed when Accepted
  amqp_peer.py recv URL ADDRESS N QUEUE_PATH CREDIT broker -> DQS, each delivery accepted
                                                    after its add
Prints one JSON line with the rate. Run with Debian's python3 and python messaging on the
path (bench/amqpclt.sh sets PYTHONPATH to the .venv's site-packages).
"""
import json
import sys
import time

import messaging.queue as mq
from proton import Message, Terminus
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption


class Durable(LinkOption):
    def apply(self, link):
        t = link.target if link.is_sender else link.source
        t.durability = Terminus.DELIVERIES


class Send(MessagingHandler):
    def __init__(self, url, address, path, window):
        super().__init__()
        self.url, self.address, self.window = url, address, window
        self.queue = mq.new({"type": "DQS", "path": path})
        self.names = iter(list(self.queue))
        self.inflight = {}
        self.done = False
        self.count = 0

    def on_start(self, event):
        conn = event.container.connect(self.url, allow_insecure_mechs=True)
        event.container.create_sender(conn, self.address, options=Durable())

    def on_sendable(self, event):
        while event.sender.credit and len(self.inflight) < self.window and not self.done:
            name = next(self.names, None)
            if name is None:
                self.done = True
                break
            if not self.queue.lock(name):
                continue
            m = self.queue.get_message(name)
            body = m.body if m.is_text() else m.body
            msg = Message(body=body, properties=dict(m.header), durable=True,
                          address=m.header.get("destination"))
            d = event.sender.send(msg)
            self.inflight[d] = name
        if self.done and not self.inflight:
            event.connection.close()

    def on_accepted(self, event):
        name = self.inflight.pop(event.delivery)
        self.queue.remove(name)
        self.count += 1
        if self.done and not self.inflight:
            event.connection.close()
        else:
            self.on_sendable(event)

    def on_rejected(self, event):
        raise SystemExit("rejected")


class Recv(MessagingHandler):
    def __init__(self, url, address, n, path, credit):
        super().__init__(prefetch=credit, auto_accept=False)
        self.url, self.address, self.n = url, address, n
        self.queue = mq.new({"type": "DQS", "path": path})
        self.count = 0

    def on_start(self, event):
        conn = event.container.connect(self.url, allow_insecure_mechs=True)
        event.container.create_receiver(conn, self.address, options=Durable())

    def on_message(self, event):
        from messaging.message import Message as M
        body = event.message.body
        header = {k: str(v) for k, v in (event.message.properties or {}).items()}
        m = M(body=body, header=header)
        self.queue.add_message(m)
        self.accept(event.delivery)
        self.count += 1
        if self.count >= self.n:
            event.receiver.close()
            event.connection.close()


def main():
    mode = sys.argv[1]
    if mode == "send":
        h = Send(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        h = Recv(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    start = time.time()
    Container(h).run()
    secs = time.time() - start
    print(json.dumps({"rate": h.count / secs, "count": h.count}))


if __name__ == "__main__":
    main()
