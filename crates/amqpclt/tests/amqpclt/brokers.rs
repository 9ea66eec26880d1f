//! Every mode against RabbitMQ and the Proton broker, and a shovel from one to the other.

use super::*;

#[test]
fn broker_every_mode_moves_10000_mixed_messages() {
    for b in &brokers() {
        let (d, dest, sent) = test_support::queues::spooled(10_000, &b.name);
        let stats = send_spool(b, &d.path().join("in"));
        assert!(stats.starts_with("processed 10000 messages"), "{stats}");
        assert_eq!(queue_count(&d.path().join("in")), 0, "sent and removed");
        receive(b, &dest, 10_000, &d.path().join("out"));
        let got = drain(&d.path().join("out"), "DQS");
        assert_eq!(got.len(), 10_000, "{}", b.name);
        assert_eq!(
            compare(&sent, &got, &b.name),
            0,
            "{}: no duplicates without faults",
            b.name
        );
    }
}

#[test]
fn broker_to_broker_shovel_and_queue_to_queue() {
    let [a, b] = &brokers()[..] else {
        panic!("needs the two brokers of AMQP_BROKERS");
    };
    let (d, dest, sent) = test_support::queues::spooled(1000, "shovel");
    send_spool(a, &d.path().join("in"));
    // a → b, the destination kept from the message
    let mut args = s(&[
        "--reliable",
        "--count",
        "1000",
        "--timeout-inactivity",
        "20",
    ]);
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(a.opts("incoming"));
    args.extend(b.opts("outgoing"));
    ok(&args);
    receive(b, &dest, 1000, &d.path().join("out"));
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&sent, &got, "shovel"), 0);
    // queue → queue: the agent's own modes need no broker
    fill(&d.path().join("q1"), "DQS", &sent);
    ok(&[
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("q1"))),
        "--outgoing-queue".into(),
        format!("path={} type=DQN", p(&d.path().join("q2"))),
        "--remove".into(),
    ]);
    assert_eq!(
        compare(&sent, &drain(&d.path().join("q2"), "DQN"), "q2q"),
        0
    );
}

/// The Proton broker settles deliveries before they arrive: credit beyond --count would
/// lose messages. Taking them in small counts must lose none.
#[test]
fn broker_count_never_takes_more_than_it_asks() {
    for b in &brokers() {
        let (d, dest, sent) = test_support::queues::spooled(300, "count");
        send_spool(b, &d.path().join("in"));
        for _ in 0..3 {
            receive(b, &dest, 100, &d.path().join("out"));
        }
        let got = drain(&d.path().join("out"), "DQS");
        assert_eq!(got.len(), 300, "{}", b.name);
        assert_eq!(compare(&sent, &got, &b.name), 0);
    }
}

/// `-ddd`: every message's header and body size as it crosses the wire, both ways;
/// `-dddd`: the configuration, credentials hidden.
#[test]
fn broker_debug_traces_messages_and_hides_credentials() {
    let rabbit = Broker::rabbitmq();
    let d = tmp();
    let dest = unique_destination("trace");
    fill(&d.path().join("in"), "DQS", &mixed(2, &dest));
    let mut args = s(&["-dddd", "--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&d.path().join("in"))));
    args.extend(rabbit.opts("outgoing"));
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("> {dest} destination={dest}")),
        "{err}"
    );
    assert!(
        err.contains("x-index=1") && err.contains(" bytes]"),
        "{err}"
    );
    assert!(
        err.contains("configuration: Cli {") && !err.contains("pass=guest"),
        "{err}"
    );
    let mut args = s(&["-dd", "--reliable", "--count", "2", "--subscribe"]);
    args.push(format!("destination={dest}"));
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    args.extend(rabbit.opts("incoming"));
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("< {dest} ")), "{err}");
}
