"""ams-publisher's side of amsclt's drop-in test, with the libraries it uses (python
`messaging` DQS, `avro`).

metric-to-queue DIR N    writes N messages into the DQS at DIR as ams-metric-to-queue does
                         (header fields, a text body of `key: value` lines, granularity 60)
                         and prints, one JSON line each, the record ams-publisher would
                         publish for it (header fields, metric_data's body fields, tags)
alarm-to-queue DIR N     the same as ams-alarm-to-queue, for MsgType alarm
decode avro SCHEMA|json  reads pulled messages ({"data": BASE64, "attributes": {...}}, one a
                         line) and prints {"record": ..., "attributes": ...} for each: the
                         data decoded as a raw Avro datum of SCHEMA with `avro`, or as JSON
"""
import base64
import io
import json
import sys


def metric_to_queue(path, n):
    from messaging.message import Message
    from messaging.queue.dqs import DQS

    mq = DQS(path=path, granularity=60)
    for i in range(n):
        header = {"timestamp": "2026-12-%02dT10:%02d:%02dZ" % (1 + i % 28, i % 60, i % 60),
                  "service": "srm", "hostname": "se%d.example.org" % i,
                  "metric": "org.sam.SRM-Put-%d" % i,
                  "status": ["OK", "WARNING", "CRITICAL"][i % 3],
                  "monitoring_host": "mon.example.org"}
        body = {"summary": "summary %d \u00fc" % i, "message": "line one\\nline two %d" % i}
        if i % 2:
            body["actual_data"] = "time=%d" % i
        tags = {"vofqan": "/ops", "voname": "ops", "roc": "ROC-%d" % (i % 4), "site": "SITE-%d" % i}
        if i % 5 == 0:
            del tags["roc"]
        msg = Message()
        msg.header = dict(header)
        msg.body = "".join("%s: %s\n" % kv for kv in list(body.items()) + list(tags.items()))
        msg.text = True
        mq.add_message(msg)
        record = dict(header)
        record.update(body)
        record["tags"] = {("endpoint_group" if k == "site" else k): v for k, v in tags.items()}
        print(json.dumps(record))


def alarm_to_queue(path, n):
    from messaging.message import Message
    from messaging.queue.dqs import DQS

    mq = DQS(path=path, granularity=60)
    for i in range(n):
        header = {"execution_time": "2026-12-06T11:00:00Z", "service_flavour": "CREAM-CE",
                  "node_name": "ce%d.example.org" % i, "test_name": "emi.cream.Submit-%d" % i,
                  "status": "CRITICAL"}
        body = {"details": "details %d" % i, "vo": "ops", "site": "SITE-%d" % i,
                "urlhelp": "https://example.org/help"}
        msg = Message()
        msg.header = dict(header)
        msg.body = "".join("%s: %s\n" % kv for kv in body.items())
        msg.text = True
        mq.add_message(msg)
        record = dict(header)
        record.update(body)
        record["tags"] = {}
        print(json.dumps(record))


def decode(kind, schema_path=None):
    reader = None
    if kind == "avro":
        import avro.io
        import avro.schema

        with open(schema_path) as f:
            reader = avro.io.DatumReader(avro.schema.parse(f.read()))
    for line in sys.stdin:
        m = json.loads(line)
        data = base64.b64decode(m["data"])
        if reader:
            record = reader.read(avro.io.BinaryDecoder(io.BytesIO(data)))
        else:
            record = json.loads(data)
        print(json.dumps({"record": record, "attributes": m["attributes"]}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "metric-to-queue":
        metric_to_queue(sys.argv[2], int(sys.argv[3]))
    elif cmd == "alarm-to-queue":
        alarm_to_queue(sys.argv[2], int(sys.argv[3]))
    elif cmd == "decode":
        decode(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(__doc__)
