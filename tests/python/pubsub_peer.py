"""The independent clients of amsclt's compat tests, against Google's Pub/Sub emulator.

gcp-publish PROJECT TOPIC N         google-cloud-pubsub (gRPC, PUBSUB_EMULATOR_HOST) publishes
                                    N messages: data "gcp I", attribute i=I
gcp-pull PROJECT SUBSCRIPTION N     pulls and acknowledges N, prints one JSON line each
ams-publish HOST:PORT PROJECT TOPIC N
ams-pull HOST:PORT PROJECT SUBSCRIPTION N
                                    the same with argo-ams-library over plain http (its routes
                                    switched from https, the one change it needs)

A printed line: {"data": BASE64, "attributes": {...}}.
"""
import base64
import json
import sys


def gcp(mode, project, name, n):
    from google.cloud import pubsub_v1

    if mode == "publish":
        pub = pubsub_v1.PublisherClient()
        path = pub.topic_path(project, name)
        futures = [pub.publish(path, f"gcp {i}".encode(), i=str(i)) for i in range(n)]
        for f in futures:
            f.result(timeout=60)
        return
    sub = pubsub_v1.SubscriberClient()
    path = sub.subscription_path(project, name)
    got = 0
    while got < n:
        resp = sub.pull(request={"subscription": path, "max_messages": 100}, timeout=60)
        if not resp.received_messages:
            continue
        for r in resp.received_messages:
            print(json.dumps({"data": base64.b64encode(r.message.data).decode(),
                              "attributes": dict(r.message.attributes)}))
        sub.acknowledge(request={"subscription": path,
                                 "ack_ids": [r.ack_id for r in resp.received_messages]})
        got += len(resp.received_messages)


def ams(mode, endpoint, project, name, n):
    from argo_ams_library import AmsMessage, ArgoMessagingService

    svc = ArgoMessagingService(endpoint=endpoint, token="any", project=project)
    svc.routes = {k: [m, u.replace("https://", "http://")] for k, (m, u) in svc.routes.items()}
    if mode == "publish":
        for i in range(0, n, 100):
            msgs = [AmsMessage(data=f"ams {j}", attributes={"i": str(j)})
                    for j in range(i, min(n, i + 100))]
            svc.publish(name, msgs)
        return
    got = 0
    while got < n:
        pulled = svc.pull_sub(name, num=100, return_immediately=True)
        if not pulled:
            continue
        for _, m in pulled:
            data = m.get_data()
            data = data if isinstance(data, bytes) else data.encode()
            print(json.dumps({"data": base64.b64encode(data).decode(),
                              "attributes": m.get_attr()}))
        svc.ack_sub(name, [ack for ack, _ in pulled])
        got += len(pulled)


def main():
    kind, mode = sys.argv[1].split("-")
    if kind == "gcp":
        gcp(mode, sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        ams(mode, sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))


if __name__ == "__main__":
    main()
