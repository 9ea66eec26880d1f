"""An AMQP 1.0 peer no one here wrote: Qpid Proton's Python binding (Debian's
python3-qpid-proton), for amqpclt's cross-tests.

  proton_peer.py send URL ADDRESS FILE   sends the messages of FILE, each disposition awaited
  proton_peer.py recv URL ADDRESS N FILE receives N messages, accepts each, writes FILE
  proton_peer.py serve PORT OUTCOME      listens on 127.0.0.1:PORT and settles every message
                                         sent to it with OUTCOME (reject, release, modify);
                                         prints "listening" once it does, runs until killed
                                         (the faults of amqpclt's tests: no broker here can be
                                         made to refuse a delivery)

FILE holds one JSON object a line: {"header": {...}, "text": bool, "body": base64}. The
header becomes application properties (content-type the property of that name).
"""
import base64
import json
import sys

from proton import Condition, Delivery, Message, Terminus
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption
from proton.utils import BlockingConnection


class Durable(LinkOption):
    """A durable terminus: RabbitMQ refuses a non-durable link to a durable queue."""

    def apply(self, link):
        t = link.target if link.is_sender else link.source
        t.durability = Terminus.DELIVERIES


def connect(url):
    return BlockingConnection(url, timeout=30, allow_insecure_mechs=True)


def send(url, address, path):
    conn = connect(url)
    sender = conn.create_sender(address, options=Durable())
    n = 0
    with open(path) as f:
        for line in f:
            m = json.loads(line)
            raw = base64.b64decode(m["body"])
            header = dict(m["header"])
            header.pop("destination", None)
            ct = header.pop("content-type", None)
            body = raw.decode("utf-8") if m["text"] else raw
            sender.send(Message(body=body, properties=header, content_type=ct, address=address))
            n += 1
    conn.close()
    print(n)


def recv(url, address, count, path):
    conn = connect(url)
    receiver = conn.create_receiver(address, credit=min(count, 100), options=Durable())
    with open(path, "w") as out:
        for _ in range(count):
            m = receiver.receive(timeout=30)
            body = m.body
            text = isinstance(body, str)
            raw = body.encode("utf-8") if text else bytes(body or b"")
            header = {k: str(v) for k, v in (m.properties or {}).items()}
            out.write(json.dumps({"header": header, "text": text,
                                  "body": base64.b64encode(raw).decode()}) + "\n")
            try:
                receiver.accept()
            except IndexError:
                pass  # pre-settled: the Proton broker settles before it sends
    conn.close()


class Refuser(MessagingHandler):
    def __init__(self, port, outcome):
        super().__init__(prefetch=100, auto_accept=False)
        self.port = port
        self.outcome = outcome

    def on_start(self, event):
        event.container.listen("127.0.0.1:%d" % self.port)
        print("listening", flush=True)

    def on_link_opening(self, event):
        if event.link.is_receiver:
            event.link.target.address = event.link.remote_target.address
            event.link.target.durability = event.link.remote_target.durability

    def on_message(self, event):
        d = event.delivery
        if self.outcome == "reject":
            d.local.condition = Condition("amqp:precondition-failed", "refused by the test peer")
            d.update(Delivery.REJECTED)
            d.settle()
        elif self.outcome == "release":
            self.release(d, delivered=False)
        else:
            self.release(d, delivered=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "serve":
        Container(Refuser(int(sys.argv[2]), sys.argv[3])).run()
    else:
        recv(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
