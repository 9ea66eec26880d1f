//! The demo's pipeline, exactly once: spool → stompclt (STOMP) → RabbitMQ → amqpclt (AMQP
//! 1.0) → spool, both agents with --dedup and --reconnect, each SIGKILLed several times at
//! random moments, the broker (one of the test's own) restarted once under them, and another
//! process popping the destination spool all along: every message arrives once.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_support::brokers::OwnBroker;
use test_support::soak::Popper;

use super::*;

/// A child killed (SIGKILL) when dropped, unless it ended first.
struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn broker_the_pipeline_with_dedup_survives_kills_and_a_broker_restart_exactly_once() {
    let rabbit = OwnBroker::start_new("rabbitmq");
    let d = tmp();
    let dest = unique_destination("pipeline");
    let n = 20_000;
    // STOMP headers do not reach AMQP 1.0 on RabbitMQ: each message is known by its body
    let sent = test_support::brokers::persistent(
        (0..n)
            .map(|i| {
                message::Message::text(format!("pipeline {i} ü")).with_header("destination", &dest)
            })
            .collect(),
    );
    let (inq, outq) = (d.path().join("in"), d.path().join("out"));
    fill(&inq, "DQS", &sent);
    let stompclt = test_support::bin::sibling(AMQPCLT, "stompclt");
    let sender = || {
        let mut c = Command::new(&stompclt);
        c.args([
            "--incoming-queue".into(),
            format!("path={}", p(&inq)),
            "--outgoing-broker-uri".into(),
            format!(
                "failover:(stomp://127.0.0.1:{})?maxReconnectDelay=500",
                rabbit.stomp
            ),
        ])
        .args(s(&[
            "--outgoing-broker-auth",
            "plain name=guest pass=guest",
        ]))
        .args(s(&[
            "--outgoing-broker-connect",
            "host=/",
            "--reliable",
            "--remove",
        ]))
        .args(s(&["--window", "500", "--reconnect", "--dedup"]))
        .args(["--dedup-state".into(), p(&d.path().join("state"))])
        .stdout(Stdio::null());
        c
    };
    let amqp = rabbit.amqp.expect("RabbitMQ's AMQP port");
    let receiver = |extra: &[&str]| receiver(amqp, &dest, &outq, extra);
    let popper = Popper::start(&outq);
    let mut rng = 0x9e37_79b9_u64;
    let mut pause = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        Duration::from_millis(150 + rng % 350)
    };
    for k in 0..6 {
        let s = Run(sender().spawn().expect("stompclt"));
        // the sender's STOMP declares the queue (durable) before the receiver attaches
        std::thread::sleep(Duration::from_millis(300));
        let r = Run(receiver(&[]).spawn().expect("amqpclt"));
        // each round's kills come once the pipeline moved on (an eighth of the messages a
        // round, at most 20 s): a fixed pause ended a quiet machine's transfer before the
        // last kill, and a loaded one's before the first message
        let t = std::time::Instant::now();
        while popper.count() < (k + 1) * n / 8 && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(pause() / 4);
        if k == 3 {
            // under both running agents
            rabbit.restart();
            std::thread::sleep(pause());
        }
        // both SIGKILLed (dropped), at different moments
        drop(s);
        std::thread::sleep(pause() / 3);
        drop(r);
    }
    assert!(
        popper.count() < n,
        "the pipeline was done before the last kill"
    );
    // then both to the end: the sender once (it releases the killed runs' locks at its
    // start, with purge's default maxlock), the receiver until nothing comes for 5 s
    let out = sender().output().expect("stompclt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = queue_count(&inq);
    assert_eq!(
        left, 0,
        "{left} elements left: a killed run's locks not released"
    );
    let out = receiver(&["--timeout-inactivity", "5"])
        .output()
        .expect("amqpclt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dups = exactly_once(&sent, &popper.finish());
    eprintln!(
        "pipeline: {n} messages, 6 kills of each agent, a broker restart: {dups} duplicates, 0 lost"
    );
    assert_eq!(dups, 0, "exactly once along the pipeline");
}

/// amqpclt receiving from the pipeline's queue into `outq`, with --dedup and --reconnect.
fn receiver(amqp: u16, dest: &str, outq: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(AMQPCLT);
    c.args([
        "--incoming-broker-uri".into(),
        format!("failover:(amqp://127.0.0.1:{amqp})?maxReconnectDelay=500"),
    ])
    .args(s(&["--incoming-broker-module", "amqp1"]))
    .args(s(&[
        "--incoming-broker-auth",
        "plain name=guest pass=guest",
    ]))
    .args(["--subscribe".into(), format!("destination={dest}")])
    .args(["--outgoing-queue".into(), format!("path={}", p(outq))])
    .args(s(&[
        "--reliable",
        "--prefetch",
        "200",
        "--reconnect",
        "--dedup",
    ]))
    .args(s(extra))
    .stdout(Stdio::null());
    c
}

/// The duplicates among `got`: nothing of `sent` missing, nothing else arrived (each
/// message is known by its body).
fn exactly_once(sent: &[message::Message], got: &[message::Message]) -> usize {
    let mut seen = std::collections::HashMap::new();
    for m in got {
        *seen.entry(m.body.as_bytes().to_vec()).or_insert(0usize) += 1;
    }
    let lost = sent
        .iter()
        .filter(|m| !seen.contains_key(m.body.as_bytes()))
        .count();
    assert_eq!(
        lost,
        0,
        "{lost} of {} lost ({} arrived)",
        sent.len(),
        got.len()
    );
    assert_eq!(seen.len(), sent.len(), "nothing unknown arrived");
    got.len() - sent.len()
}
