//! A three-node RabbitMQ cluster of the test's own: `failover:` with `--reconnect` across its
//! nodes keeps a 15 000-message reliable transfer going, each way, while the node the agent
//! uses is SIGKILLed and later restarted, through a quorum queue (replicated on the three
//! nodes; declared by the first SEND's `x-queue-type:quorum` header).

use super::*;
use test_support::cluster::{RabbitCluster, assert_each_way};

/// The cluster's nodes as the agent reaches them, and the protocol's own option.
const NODE: (&str, fn(u16) -> u16) = ("stomp", RabbitCluster::stomp);
const OWN: (&str, &str) = ("broker-connect", "host=/");

#[test]
fn broker_cluster_node_sigkilled_mid_transfer_each_way_loses_nothing() {
    let cluster = RabbitCluster::start();
    let n = 15_000;
    let d = tmp();
    let dest = unique_destination("cluster");
    let sent = test_support::brokers::persistent(mixed(n, &dest));
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    // queue → cluster through node 1, which dies after 5 000 messages
    let mut args = RabbitCluster::agent_args("outgoing", NODE, OWN, [1, 2, 3]);
    args.extend(s(&[
        "--incoming-queue",
        &format!("path={}", p(&inq)),
        "--remove",
        "--window",
        "1000",
        "--header-set",
        "x-queue-type=quorum",
    ]));
    let send = cluster.kill_during(stompclt().args(&args), 1, 5_000, || {
        // a count taken while the agent locks and removes can see an entry twice (tmpfs)
        n.saturating_sub(queue_count(&inq))
    });
    assert_eq!(queue_count(&inq), 0, "the spool is drained");
    // cluster → queue through node 2, which dies after 5 000 messages
    let out = d.path().join("out");
    let mut args = RabbitCluster::agent_args("incoming", NODE, OWN, [2, 1, 3]);
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest} x-queue-type=quorum"),
        "--prefetch",
        "1000",
        "--outgoing-queue",
        &format!("path={}", p(&out)),
        "--timeout-inactivity",
        "15",
    ]));
    let receive = cluster.kill_during(stompclt().args(&args), 2, 5_000, || queue_count(&out));
    assert_each_way(&sent, &out, (&send, &receive), true);
}
