//! A three-node RabbitMQ cluster of the test's own on loopback, started and stopped by the
//! project's scripts (tests/brokers/start-rabbitmq-cluster.sh): node K has STOMP on
//! 61670+K and AMQP on 5690+K.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::brokers::OwnBroker;

/// The cluster; stopped and its data removed when dropped.
pub struct RabbitCluster {
    data: PathBuf,
    /// Its fixed ports, one cluster at a time across the test binaries (dropped last).
    _turn: crate::brokers::Turn,
}

impl RabbitCluster {
    /// Starts the three nodes fresh and joins them.
    pub fn start() -> RabbitCluster {
        let base = std::env::var("RMQ_DATA").unwrap_or_else(|_| {
            panic!("RMQ_DATA is not set: this test starts a RabbitMQ cluster beside the broker of scripts/test.sh")
        });
        let c = RabbitCluster {
            data: PathBuf::from(format!("{base}-cluster-{}", std::process::id())),
            _turn: crate::brokers::turn("rabbitmq-cluster"),
        };
        c.script("start-rabbitmq-cluster.sh", &[], true);
        c
    }

    fn script(&self, name: &str, args: &[&str], fresh: bool) {
        let mut cmd = Command::new("bash");
        cmd.arg(OwnBroker::script(name))
            .args(args)
            .env("RMQ_CLUSTER_DATA", &self.data)
            .env(
                "RMQ_CLUSTER_PORTS",
                crate::brokers::port_offset().to_string(),
            );
        if fresh {
            cmd.env("RMQ_FRESH", "1");
        }
        let out = cmd.output().expect("cluster script");
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Node `k`'s STOMP port.
    pub fn stomp(k: u16) -> u16 {
        61670 + k + crate::brokers::port_offset()
    }

    /// Node `k`'s AMQP port (0-9-1 and 1.0).
    pub fn amqp(k: u16) -> u16 {
        5690 + k + crate::brokers::port_offset()
    }

    /// A `failover:` URI over the nodes in this order (the first that accepts:
    /// `randomize=false`), `scheme://127.0.0.1:PORT` each, PORT given by `port` (say
    /// [`RabbitCluster::stomp`]).
    pub fn failover(scheme: &str, port: fn(u16) -> u16, order: [u16; 3]) -> String {
        let uris: Vec<String> = order
            .iter()
            .map(|&k| format!("{scheme}://127.0.0.1:{}", port(k)))
            .collect();
        format!(
            "failover:({})?randomize=false&maxReconnectDelay=1000",
            uris.join(",")
        )
    }

    /// The options of an agent whose side `dir` (`incoming`, `outgoing`) is the cluster
    /// through `failover:` over the nodes in `order`: guest's credentials, the protocol's
    /// own `--DIR-OPTION VALUE`, and reliable, reconnecting, with statistics.
    pub fn agent_args(
        dir: &str,
        (scheme, port): (&str, fn(u16) -> u16),
        (option, value): (&str, &str),
        order: [u16; 3],
    ) -> Vec<String> {
        vec![
            format!("--{dir}-broker-uri"),
            Self::failover(scheme, port, order),
            format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest".into(),
            format!("--{dir}-{option}"),
            value.into(),
            "--reliable".into(),
            "--reconnect".into(),
            "--statistics".into(),
        ]
    }

    /// SIGKILLs node `k`'s Erlang VM (the node dies as in a crash).
    pub fn kill(&self, k: u16) {
        let pidfile = self.data.join(format!("n{k}")).join("beam.pid");
        let pid = read_pid(&pidfile);
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success(), "kill -KILL {pid}");
        crate::process::wait_until("the node gone", std::time::Duration::from_secs(20), || {
            !crate::process::alive(pid)
        });
    }

    /// Starts node `k` again on its data: it rejoins the cluster.
    pub fn restart(&self, k: u16) {
        self.script(
            "start-rabbitmq-cluster.sh",
            &["node", &k.to_string()],
            false,
        );
    }
}

impl RabbitCluster {
    /// Runs the agent `cmd` (its output piped here) until `progress` says `n` messages
    /// moved, SIGKILLs node `k`, waits for `n` more (the transfer goes on through another
    /// node), restarts the node, and returns the agent's statistics once it ended well.
    pub fn kill_during(
        &self,
        cmd: &mut Command,
        k: u16,
        n: usize,
        progress: impl Fn() -> usize,
    ) -> String {
        let mut agent = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        for (step, target) in [("before", n), ("after", 2 * n)] {
            let t = Instant::now();
            while progress() < target {
                let ended = agent.try_wait().expect("try_wait").is_some();
                if ended || t.elapsed() > Duration::from_secs(180) {
                    let _ = agent.kill();
                    let out = agent.wait_with_output().expect("wait");
                    panic!(
                        "{step} the kill: the agent ended or hangs at {} ({}):\n{}{}",
                        progress(),
                        out.status,
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if step == "before" {
                self.kill(k);
            }
        }
        self.restart(k);
        let (so, se) = crate::bin::succeeded(agent);
        assert!(se.contains("reconnecting"), "{se}");
        so
    }
}

/// Declares the durable quorum queue `name` through node 1's STOMP (a SUBSCRIBE with
/// `x-queue-type:quorum`), for agents that use it without declaring it (AMQP 1.0's
/// `/amq/queue/NAME`).
pub fn declare_quorum_queue(name: &str) {
    let mut s =
        std::net::TcpStream::connect(("127.0.0.1", RabbitCluster::stomp(1))).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let frames = format!(
        "CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0\
         SUBSCRIBE\nid:0\ndestination:/queue/{name}\nx-queue-type:quorum\nreceipt:declared\n\n\0"
    );
    s.write_all(frames.as_bytes()).expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("receipt-id:declared") {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "the node closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        assert!(
            !String::from_utf8_lossy(&got).starts_with("ERROR"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
    let _ = s.write_all(b"DISCONNECT\n\n\0");
}

/// A count in the `--reconnect` line of an agent's statistics: the number before `what`.
pub fn counted(stats: &str, what: &str) -> usize {
    let line = stats
        .lines()
        .find(|l| l.starts_with("reconnected "))
        .unwrap_or_else(|| panic!("no reconnection in {stats}"));
    let before = line
        .split(what)
        .next()
        .filter(|b| b.len() < line.len())
        .unwrap_or_else(|| panic!("no {what:?} in {line}"));
    before
        .split_whitespace()
        .last()
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no count before {what:?} in {line}"))
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .expect("pid")
}

impl Drop for RabbitCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(OwnBroker::script("stop-rabbitmq-cluster.sh"))
            .env("RMQ_CLUSTER_DATA", &self.data)
            .env("RMQ_CLEAN", "1")
            .output();
    }
}

/// The verdict of a transfer each way through the cluster with a node killed each time:
/// `got` (drained from the receiving agent's spool) holds every message `sent`, and every
/// duplicate is accounted for. A copy published twice is one the sender counted as sent
/// again; a copy delivered twice is one the receiver counted as not known acknowledged, or,
/// where the agent keeps the broker's `redelivered` mark (`marks`: stompclt), one the broker
/// marked so: a node killed can lose acknowledgements it had already answered for (a quorum
/// queue's settlement on its way to the leader), which no client can count.
pub fn assert_each_way(
    sent: &[message::Message],
    out: &Path,
    (send, receive): (&str, &str),
    marks: bool,
) {
    let resent = counted(send, " messages sent again");
    let unacked = counted(receive, " received messages not known");
    let got = crate::queues::drain(out, "DQS");
    let dups = crate::queues::compare(sent, &got, "cluster, a node killed each way");
    let marked = |m: &&message::Message| m.header.get("redelivered").is_some_and(|v| v == "true");
    let redelivered = got.iter().filter(marked).count();
    // copies the broker did not mark as delivered before: each beyond the first was
    // published again
    let mut unmarked = std::collections::HashMap::new();
    for m in got.iter().filter(|m| !marked(m)) {
        *unmarked.entry(m.header.get("x-index")).or_insert(0usize) += 1;
    }
    let published_again: usize = if marks {
        unmarked.values().map(|n| n - 1).sum()
    } else {
        0
    };
    eprintln!(
        "cluster: {dups} duplicates; {resent} sent again, {unacked} not known taken, \
         {redelivered} marked redelivered, {published_again} unmarked copies beyond the first"
    );
    assert!(
        published_again <= resent,
        "{published_again} copies published again, more than the {resent} counted:\n{send}"
    );
    assert!(
        dups <= resent + unacked.max(redelivered),
        "{dups} duplicates, more than the {resent} + {unacked} counted \
         ({redelivered} marked redelivered):\n{send}\n{receive}"
    );
    assert_eq!(got.len(), sent.len() + dups);
}
