//! A three-node RabbitMQ cluster of the test's own: `failover:` with `--reconnect` across its
//! nodes keeps a 60 000-message reliable AMQP 1.0 transfer going, each way, while the node
//! the agent uses is SIGKILLed and later restarted, through a quorum queue (replicated on
//! the three nodes). RabbitMQ 3.10's AMQP 1.0 plugin cannot declare one (`/queue/X` makes a
//! classic queue): it is declared through STOMP, and used as `/amq/queue/X`.

use super::*;
use test_support::cluster::{RabbitCluster, assert_each_way, declare_quorum_queue};

/// The cluster's nodes as the agent reaches them, and the protocol's own option.
const NODE: (&str, fn(u16) -> u16) = ("amqp", RabbitCluster::amqp);
const OWN: (&str, &str) = ("broker-module", "amqp1");

#[test]
fn broker_cluster_node_sigkilled_mid_transfer_each_way_loses_nothing() {
    let cluster = RabbitCluster::start();
    // sized so that the sender's confirmations lost with the node (counted) outnumber the
    // receiver's accepts in flight when its node dies, which AMQP 1.0's first settlement
    // mode cannot tell it about (uncounted): 15 000 with a kill after 5 000 once showed 459
    // duplicates against 219 counted
    let n = 60_000;
    let d = tmp();
    let name = unique_destination("cluster").replace("/queue/", "");
    declare_quorum_queue(&name);
    let dest = format!("/amq/queue/{name}");
    let sent = test_support::brokers::persistent(mixed(n, &dest));
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    // queue → cluster through node 1, which dies after 20 000 messages
    let mut args = RabbitCluster::agent_args("outgoing", NODE, OWN, [1, 2, 3]);
    args.extend(s(&["--incoming-queue", &format!("path={}", p(&inq))]));
    args.extend(s(&["--remove", "--window", "1000"]));
    let send = cluster.kill_during(Command::new(AMQPCLT).args(&args), 1, 20_000, || {
        // a count taken while the agent locks and removes can see an entry twice (tmpfs)
        n.saturating_sub(queue_count(&inq))
    });
    assert_eq!(queue_count(&inq), 0, "the spool is drained");
    // cluster → queue through node 2, which dies after 20 000 messages
    let out = d.path().join("out");
    let mut args = RabbitCluster::agent_args("incoming", NODE, OWN, [2, 1, 3]);
    args.extend(s(&["--subscribe", &format!("destination={dest}")]));
    args.extend(s(&["--prefetch", "1000", "--timeout-inactivity", "15"]));
    args.extend(s(&["--outgoing-queue", &format!("path={}", p(&out))]));
    let receive = cluster.kill_during(Command::new(AMQPCLT).args(&args), 2, 20_000, || {
        queue_count(&out)
    });
    assert_each_way(&sent, &out, (&send, &receive), false);
}
