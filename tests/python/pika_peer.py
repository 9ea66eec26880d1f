#!/usr/bin/env python3
"""An AMQP 0-9-1 peer no one here wrote: pika with python messaging, publishing and consuming
as the reference python-amqpclt's pika module does (headers table = the message header,
delivery_mode 2 for persistent, content_type, default exchange for /queue/X; a body is text
when content_type is text/* or has a charset). For amqpclt's compatibility test.

Usage:
  pika_peer.py send URL QUEUE SPOOL     publishes every message of the DQS spool SPOOL to
                                        the durable queue QUEUE, with publisher confirms
  pika_peer.py recv URL QUEUE N SPOOL   consumes N messages of QUEUE into the DQS spool SPOOL,
                                        acknowledging each once stored
"""
import sys

import pika
import messaging.queue as mq
from messaging.message import Message


def is_text_type(ct):
    return ct is not None and (ct.startswith("text/") or "charset=" in ct)


def send(url, queue, spool):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable=True)
    ch.confirm_delivery()
    q = mq.new({"type": "DQS", "path": spool})
    n = 0
    for name in q:
        if not q.lock(name):
            continue
        msg = q.get_message(name)
        header = dict(msg.header)
        props = pika.BasicProperties(
            headers=header,
            delivery_mode=2 if header.get("persistent") == "true" else 1,
        )
        ct = header.get("content-type")
        if ct is not None:
            props.content_type = ct
        elif msg.is_text():
            props.content_type = "text/unknown"
        body = msg.body.encode("utf-8") if msg.is_text() else msg.body
        ch.basic_publish(exchange="", routing_key=queue, body=body, properties=props,
                         mandatory=True)
        q.remove(name)
        n += 1
    conn.close()
    print(n)


def recv(url, queue, count, spool):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable=True)
    ch.basic_qos(prefetch_count=100)
    q = mq.new({"type": "DQS", "path": spool})
    got = 0
    for method, props, body in ch.consume(queue, inactivity_timeout=30):
        if method is None:
            break
        header = {}
        for k, v in (props.headers or {}).items():
            header[k] = v.decode("utf-8") if isinstance(v, bytes) else str(v)
        if is_text_type(props.content_type):
            body = body.decode("utf-8")
        q.add_message(Message(body=body, header=header))
        ch.basic_ack(method.delivery_tag)
        got += 1
        if got >= count:
            break
    ch.cancel()
    conn.close()
    print(got)


def main():
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "recv":
        recv(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
