"""An AMQP 1.0 peer no one here wrote: Qpid Proton's Python binding (Debian's
python3-qpid-proton), for amqpclt's cross-tests.

  proton_peer.py send URL ADDRESS FILE   sends the messages of FILE, each disposition awaited
  proton_peer.py recv URL ADDRESS N FILE receives N messages, accepts each, writes FILE

FILE holds one JSON object a line: {"header": {...}, "text": bool, "body": base64}. The
header becomes application properties (content-type the property of that name).
"""
import base64
import json
import sys

from proton import Message, Terminus
from proton.reactor import LinkOption
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


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        recv(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
