//! Scaling out with `all:` lists: consume from every broker, produce to any; brokers that
//! are down at start, stop in the middle, come back. RabbitMQ and ActiveMQ as two
//! independent brokers (the shared ones, or a RabbitMQ of the test's own to stop).

use super::*;
use std::process::Child;

/// `--{dir}-broker-uri all:(…)` and the options both brokers accept (ActiveMQ ignores the
/// `host` header RabbitMQ reads as its virtual host).
fn all_opts(dir: &str, uri: &str) -> Vec<String> {
    s(&[
        &format!("--{dir}-broker-uri"),
        uri,
        &format!("--{dir}-broker-auth"),
        "plain name=guest pass=guest",
        &format!("--{dir}-broker-connect"),
        "host=/",
    ])
}

/// `host:port` of the shared broker named `name`.
fn shared(name: &str) -> String {
    brokers()
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("STOMP_BROKERS names no {name}"))
        .uri
}

/// The per-broker line of `--statistics` for this `host:port`: its message count.
fn broker_count(stats: &str, side: &str, addr: &str) -> usize {
    let line = stats
        .lines()
        .find(|l| l.starts_with(&format!("{side} broker {addr}:")))
        .unwrap_or_else(|| panic!("no {side} broker {addr} line in {stats}"));
    test_support::bin::number_after(line, &format!("{addr}:"))
}

/// stompclt started with these arguments, its output piped.
fn spawn(args: &[String]) -> Child {
    stompclt()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Waits (at most two minutes: the shared brokers are busy with other tests) until `done`;
/// an agent that ends or hangs meanwhile fails the test with its output.
fn watch(mut agent: Child, what: &str, mut done: impl FnMut() -> bool) -> Child {
    let t = Instant::now();
    while !done() {
        let ended = agent.try_wait().expect("try_wait").is_some();
        // it may have done it between the look and the wait
        if ended && done() {
            break;
        }
        if ended || t.elapsed() > Duration::from_secs(120) {
            let _ = agent.kill();
            let out = agent.wait_with_output().expect("wait");
            panic!(
                "{what}: the agent {} ({}):\n{}{}",
                if ended { "ended" } else { "hangs" },
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    agent
}

/// The count of messages sent again (to another broker) in `--statistics`.
fn sent_again(stats: &str) -> usize {
    let before = stats
        .split(" messages sent again")
        .next()
        .filter(|b| b.len() < stats.len())
        .unwrap_or_else(|| panic!("no count of messages sent again in {stats}"));
    before
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of messages sent again in {stats}"))
}

/// Drains `dest` of one broker (`stomp://…`) into a queue and returns its messages.
fn drain_broker(uri: &str, dest: &str, d: &Path) -> Vec<Message> {
    drain_at_least(uri, dest, d, 0)
}

/// Drains `dest` of one broker, waiting (up to a minute of silence) for at least `n`
/// messages: a broker restarted after a SIGKILL may take a while to recover its queues.
fn drain_at_least(uri: &str, dest: &str, d: &Path, n: usize) -> Vec<Message> {
    let out = d.join(format!("drained-{}", uri.replace([':', '/', '.'], "")));
    let run = |extra: &[&str]| {
        let mut args = all_opts("incoming", uri);
        args.extend(s(&[
            "--subscribe",
            &format!("destination={dest}"),
            "--outgoing-queue",
            &format!("path={}", p(&out)),
            "--reliable",
        ]));
        args.extend(s(extra));
        ok(&args);
    };
    if n > 0 {
        run(&["--count", &n.to_string(), "--timeout-inactivity", "60"]);
    }
    // and whatever else is there (duplicates)
    run(&["--timeout-inactivity", "3"]);
    drain(&out, "DQS")
}

#[test]
fn broker_all_consumes_from_two_brokers_each_message_once() {
    let (rabbit, amq) = (shared("rabbitmq"), shared("activemq"));
    let d = tmp();
    let dest = unique_destination("all");
    let sent = mixed(6000, &dest);
    for (i, b) in brokers().iter().enumerate() {
        let spool = d.path().join(format!("in{i}"));
        fill(&spool, "DQS", &sent[i * 3000..(i + 1) * 3000]);
        send_spool(b, &spool);
    }
    let mut args = all_opts("incoming", &format!("all:({rabbit},{amq})"));
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest}"),
        "--outgoing-queue",
        &format!("path={}", p(&d.path().join("out"))),
        "--reliable",
        "--timeout-inactivity",
        "3",
        "--statistics",
    ]));
    let stats = ok(&args);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&sent, &got, "consume from all"), 0, "no duplicate");
    assert_eq!(got.len(), 6000);
    for uri in [&rabbit, &amq] {
        let addr = uri.trim_start_matches("stomp://");
        assert_eq!(broker_count(&stats, "incoming", addr), 3000, "{stats}");
    }
}

#[test]
fn broker_all_rides_through_a_broker_down_at_start_and_stopped_mid_run() {
    let own = OwnBroker::start_new("rabbitmq");
    let own_uri = format!("stomp://127.0.0.1:{}", own.stomp);
    let own_b = Broker {
        name: "own rabbitmq".into(),
        uri: own_uri.clone(),
        args: s(&["plain name=guest pass=guest", "host=/"]),
    };
    let amq = brokers()
        .into_iter()
        .find(|b| b.name == "activemq")
        .expect("activemq");
    let d = tmp();
    let dest = unique_destination("allrestart");
    // persistent: they wait on the stopped broker
    let sent = test_support::brokers::persistent(mixed(9000, &dest));
    let spool = |i: usize| {
        let q = d.path().join(format!("in{i}"));
        fill(&q, "DQS", &sent[i * 3000..(i + 1) * 3000]);
        q
    };
    send_spool(&own_b, &spool(0));
    own.stop();
    send_spool(&amq, &spool(1));
    let out = d.path().join("out");
    let mut args = all_opts(
        "incoming",
        &format!("all:({own_uri},{})?maxReconnectDelay=500", amq.uri),
    );
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest}"),
        "--outgoing-queue",
        &format!("path={}", p(&out)),
        "--reliable",
        "--count",
        "9000",
        "--statistics",
        "--pidfile",
        &p(&d.path().join("pid")),
    ]));
    let agent = spawn(&args);
    let wait_for = |agent, n: usize, what: &str| watch(agent, what, || queue_count(&out) >= n);
    // the broker that is down does not hold the other back
    let agent = wait_for(agent, 3000, "ActiveMQ's messages while RabbitMQ is down");
    assert_eq!(queue_count(&out), 3000, "only ActiveMQ's so far");
    // --status shows each broker's state and count
    let own_addr = own_uri.trim_start_matches("stomp://");
    let amq_addr = amq.uri.trim_start_matches("stomp://");
    let status = |want: &[String]| {
        let pid = format!("--pidfile={}", p(&d.path().join("pid")));
        let t = Instant::now();
        loop {
            let out = run(&s(&["--status", &pid]));
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if want.iter().all(|w| text.contains(w)) {
                assert_eq!(out.status.code(), Some(0), "{text}");
                return;
            }
            // the file behind it is rewritten once a second
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "--status says:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    status(&[
        format!("incoming broker {own_addr}: 0 messages received, down (cannot connect"),
        format!("incoming broker {amq_addr}: 3000 messages received, up"),
    ]);
    own.start();
    let agent = wait_for(agent, 6000, "RabbitMQ's messages once it is back");
    // stopped in the middle of the run: ActiveMQ keeps flowing
    own.stop();
    send_spool(&amq, &spool(2));
    let agent = wait_for(
        agent,
        9000,
        "ActiveMQ's second batch while RabbitMQ is down again",
    );
    own.start();
    let (stats, stderr) = test_support::bin::succeeded(agent);
    let got = drain(&out, "DQS");
    let dups = compare(&sent, &got, "all: through restarts");
    assert_eq!(got.len(), 9000 + dups);
    assert!(
        !d.path().join("pid.status").exists(),
        "the status file goes with the pidfile"
    );
    assert!(
        stats.contains(&format!("incoming broker {own_addr}: ")),
        "{stats}"
    );
    assert!(
        stderr.contains(&format!("incoming broker {own_addr}: cannot connect")),
        "the broker down at start is reported: {stderr}"
    );
    assert_eq!(broker_count(&stats, "incoming", own_addr), 3000, "{stats}");
    // nothing left behind on either broker
    assert!(drain_broker(&own_uri, &dest, d.path()).is_empty());
    assert!(drain_broker(&amq.uri, &dest, d.path()).is_empty());
}

#[test]
fn broker_any_spreads_messages_over_two_brokers() {
    let (rabbit, amq) = (shared("rabbitmq"), shared("activemq"));
    let (d, dest, sent) = test_support::queues::spooled(6000, "any");
    let mut args = all_opts("outgoing", &format!("all:({rabbit},{amq})"));
    args.extend(s(&[
        "--incoming-queue",
        &format!("path={}", p(&d.path().join("in"))),
        "--reliable",
        "--remove",
        "--window",
        "200",
        "--statistics",
    ]));
    let stats = ok(&args);
    let mut got = Vec::new();
    for uri in [&rabbit, &amq] {
        let share = broker_count(&stats, "outgoing", uri.trim_start_matches("stomp://"));
        // the least loaded first: under load one broker may take most, never all
        assert!(share >= 300, "a real share for {uri}: {stats}");
        let mut on = drain_broker(uri, &dest, d.path());
        assert_eq!(on.len(), share, "{uri} has what it confirmed");
        got.append(&mut on);
    }
    assert_eq!(compare(&sent, &got, "produce to any"), 0);
    assert_eq!(got.len(), 6000);
}

#[test]
fn broker_any_sends_what_a_killed_broker_did_not_confirm_to_another() {
    // side by side: each mostly waits for its broker to die, start and recover
    std::thread::scope(|scope| {
        for kind in ["rabbitmq", "activemq"] {
            scope.spawn(move || any_killed_case(OwnBroker::start_new(kind)));
        }
    });
}

/// Produce to any over a broker of the test's own, SIGKILLed a few thousand messages in, and
/// the shared broker of the other kind.
fn any_killed_case(own: OwnBroker) {
    eprintln!("produce to any, SIGKILLed: {}", own.kind);
    let own_uri = format!("stomp://127.0.0.1:{}", own.stomp);
    let own_addr = own_uri.trim_start_matches("stomp://").to_string();
    let other = shared(if own.kind == "rabbitmq" {
        "activemq"
    } else {
        "rabbitmq"
    });
    let d = tmp();
    let dest = unique_destination("anyfail");
    if own.kind == "rabbitmq" {
        // the queue made beforehand (a SUBSCRIBE declares it), as deployed queues are, and
        // its definition on disk: RabbitMQ 3.10 would lose a queue declared a moment before
        // its crash, confirmed messages and all (see OwnBroker::sync_metadata, README)
        assert!(drain_broker(&own_uri, &dest, d.path()).is_empty());
        own.sync_metadata();
    }
    let n = 10_000;
    let sent = test_support::brokers::persistent(mixed(n, &dest));
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    let mut args = all_opts(
        "outgoing",
        &format!("all:({own_uri},{other})?maxReconnectDelay=500"),
    );
    args.extend(s(&[
        "--incoming-queue",
        &format!("path={}", p(&inq)),
        "--reliable",
        "--remove",
        "--window",
        "500",
        "--statistics",
    ]));
    let agent = spawn(&args);
    let agent = watch(agent, "a few thousand sent", || {
        queue_count(&inq) <= n - 4000
    });
    assert!(queue_count(&inq) > 0, "sent everything before the kill");
    own.kill();
    let (stats, stderr) = test_support::bin::succeeded(agent);
    assert_eq!(queue_count(&inq), 0, "the spool is drained");
    assert!(
        stderr.contains(&format!("outgoing broker {own_addr}: ")),
        "{stderr}"
    );
    let resent = sent_again(&stats);
    // what the killed broker confirmed must be there once it recovered
    let confirmed = broker_count(&stats, "outgoing", &own_addr);
    assert!(confirmed > 0, "the killed broker had a share: {stats}");
    own.start();
    let mut got = drain_broker(&other, &dest, d.path());
    got.extend(drain_at_least(&own_uri, &dest, d.path(), confirmed));
    let dups = compare(&sent, &got, "produce to any, a broker SIGKILLed");
    assert!(
        dups <= resent,
        "{dups} duplicates, at most the {resent} counted: {stats}"
    );
    assert_eq!(got.len(), n + dups);
}
