//! --reconnect: a RabbitMQ of the test's own restarted in the middle of a transfer.

use std::process::Child;
use std::time::{Duration, Instant};

use test_support::brokers::OwnBroker;

use super::*;

/// Waits until `cond` holds (or a minute passes), then restarts the broker.
fn restart_when(rabbit: &OwnBroker, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    rabbit.restart();
}

/// The run's statistics; asserts it succeeded after reconnecting once.
fn reconnected(child: Child) -> String {
    let (so, se) = test_support::bin::succeeded(child);
    assert!(so.contains("reconnected 1 times"), "{so}{se}");
    so
}

use test_support::bin::number_after;

#[test]
fn broker_restart_mid_transfer_with_reconnect_loses_nothing() {
    let rabbit = OwnBroker::start_new("rabbitmq");
    for module in ["amqp1", "pika"] {
        restart_mid_transfer(&rabbit, module);
    }
}

/// Both directions over one protocol (`module`).
fn restart_mid_transfer(rabbit: &OwnBroker, module: &str) {
    let port = rabbit.amqp.expect("an AMQP port");
    let d = tmp();
    let dest = unique_destination("restart");
    let n = 10_000;
    // durable, or the broker itself would drop them at its restart
    let sent = test_support::brokers::persistent(mixed(n, &dest));
    let (inq, outq) = (d.path().join("in"), d.path().join("out"));
    fill(&inq, "DQS", &sent);
    let uri = format!("failover:(amqp://127.0.0.1:{port})?maxReconnectDelay=500");
    let common = |dir: &str| {
        let mut v = s(&["--reliable", "--reconnect", "--statistics"]);
        v.extend([format!("--{dir}-broker-uri"), uri.clone()]);
        v.extend([
            format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest".into(),
            format!("--{dir}-broker-module"),
            module.into(),
        ]);
        v
    };
    // queue → broker, restarted once some messages went out
    let mut args = common("outgoing");
    args.extend(s(&["--remove", "--window", "500", "--incoming-queue"]));
    args.push(format!("path={}", p(&inq)));
    let send = spawn(args);
    restart_when(rabbit, || queue_count(&inq) <= n - 2000);
    let so = reconnected(send);
    assert_eq!(queue_count(&inq), 0);
    let resent = number_after(&so, "reconnected 1 times: ");
    // drained without faults: every duplicate so far was sent again
    receive_own(&uri, module, &dest, &outq);
    let got = drain(&outq, "DQS");
    let dups = compare(&sent, &got, "sender restart");
    assert!(dups <= resent, "{dups} duplicates, {resent} sent again");
    // broker → queue, restarted mid-way
    fill(&inq, "DQS", &sent);
    let mut args = common("outgoing");
    args.extend(s(&["--remove", "--incoming-queue"]));
    args.push(format!("path={}", p(&inq)));
    test_support::bin::ok(AMQPCLT, &args);
    let mut args = common("incoming");
    args.extend(s(&["--prefetch", "500", "--timeout-inactivity", "10"]));
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&outq))]);
    let recv = spawn(args);
    restart_when(rabbit, || queue_count(&outq) >= 2000);
    let so = reconnected(recv);
    let got = drain(&outq, "DQS");
    let dups = compare(&sent, &got, "receiver restart");
    eprintln!(
        "amqpclt ({module}) broker restarts: {n} messages each way; receiving: {dups} duplicates; {}",
        so.trim()
    );
}

/// Receives everything of `dest` on the test's own broker.
fn receive_own(uri: &str, module: &str, dest: &str, outq: &std::path::Path) {
    let mut args = s(&[
        "--incoming-broker-uri",
        uri,
        "--incoming-broker-module",
        module,
        "--incoming-broker-auth",
        "plain name=guest pass=guest",
        "--reliable",
        "--timeout-inactivity",
        "5",
    ]);
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(outq))]);
    test_support::bin::ok(AMQPCLT, &args);
}
