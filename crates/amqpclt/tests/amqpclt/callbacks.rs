//! python-amqpclt's own example configurations (tests/reference/amqpclt), with their
//! callback code, run unchanged against RabbitMQ over AMQP 0-9-1; and the callback code
//! that is not mere header edits still refused.

use std::path::PathBuf;
use std::time::Duration;

use message::Message;

use super::*;

/// A reference configuration with only the machine's parts replaced: the broker's address,
/// the spools and the pid files (in `dir`).
fn reference(name: &str, dir: &Path) -> PathBuf {
    let src = format!(
        "{}/../../tests/reference/amqpclt/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&src).expect("reference configuration");
    let rabbit = Broker::rabbitmq();
    let addr = rabbit.uri.trim_start_matches("amqp://");
    let port = addr.rsplit_once(':').expect("HOST:PORT").1;
    let text = text
        .replace("dev-broker.acme.com:5672", addr)
        .replace("broker.acme.com:5672", addr)
        .replace("broker.acme.com:6163", addr)
        .replace("/var/spool/", &format!("{}/", p(dir)))
        .replace("/var/run/", &format!("{}/", p(dir)));
    assert!(text.contains(port));
    let out = dir.join(name);
    std::fs::write(&out, text).expect("write");
    out
}

fn conf(file: &Path, extra: &[&str]) -> Vec<String> {
    let mut v = vec!["--conf".to_string(), p(file)];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Empties a queue of a virtual host (left by an earlier run).
fn purge(vhost: &str, dest: &str) {
    let rabbit = Broker::rabbitmq();
    let d = tmp();
    let mut args = s(&["--timeout-inactivity", "1", "--subscribe"]);
    args.push(format!("destination={dest}"));
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("q"))),
    ]);
    args.extend([
        "--incoming-broker-uri".into(),
        format!("{}/{vhost}", rabbit.uri),
    ]);
    ok(&args);
}

fn plain_messages(n: usize) -> Vec<Message> {
    mixed(n, "/queue/unused")
        .into_iter()
        .map(|mut m| {
            m.header.remove("destination");
            m
        })
        .collect()
}

#[test]
fn broker_reference_example_configurations_run_unchanged() {
    for q in [
        "/queue/app1.data",
        "/queue/app2.data",
        "/queue/dest_to_be_replayed",
    ] {
        purge("virtual_host", q);
    }
    let d = tmp();
    let dir = d.path();
    let sent = plain_messages(200);
    let sender = dir.join("sender");
    // SENDING: a daemon looping over its spool, the Python callback setting the header
    fill(&sender, "DQS", &sent);
    let sending = reference("sending.conf", dir);
    ok(&conf(&sending, &[]));
    test_support::process::wait_until("the sender's spool empty", Duration::from_secs(60), || {
        queue_count(&sender) == 0
    });
    ok(&conf(&sending, &["--quit"]));
    // RECEIVING (plain credentials in an <auth> block), drained as its manual shows
    let receiving = reference("receiving.conf", dir);
    ok(&conf(&receiving, &["--timeout-inactivity", "3"]));
    let expected: Vec<Message> = sent
        .iter()
        .cloned()
        .map(|m| {
            m.with_header("destination", "/queue/app1.data")
                .with_header("persistent", "true")
        })
        .collect();
    let got = drain(&dir.join("receiver"), "DQS");
    assert_eq!(compare(&expected, &got, "sending → receiving"), 0);
    // SENDING again, then SHOVELING to the queue to be replayed
    fill(&sender, "DQS", &sent);
    ok(&conf(&sending, &[]));
    test_support::process::wait_until("the sender's spool empty", Duration::from_secs(60), || {
        queue_count(&sender) == 0
    });
    ok(&conf(&sending, &["--quit"]));
    let shoveling = reference("shoveling.conf", dir);
    ok(&conf(&shoveling, &["--timeout-inactivity", "3"]));
    let replay = dir.join("replay");
    let rabbit = Broker::rabbitmq();
    let mut args = s(&["--reliable", "--timeout-inactivity", "3", "--subscribe"]);
    args.push("destination=/queue/dest_to_be_replayed".into());
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&replay))]);
    args.extend([
        "--incoming-broker-uri".into(),
        format!("{}/virtual_host", rabbit.uri),
    ]);
    ok(&args);
    let expected: Vec<Message> = expected
        .into_iter()
        .map(|m| m.with_header("destination", "/queue/dest_to_be_replayed"))
        .collect();
    assert_eq!(compare(&expected, &drain(&replay, "DQS"), "shoveling"), 0);
    // examples/: the sender with its Perl callback (one pass, nothing removed) and the
    // receiver, on the "rabbitmq" virtual host
    let d2 = tmp();
    let dir = d2.path();
    fill(&dir.join("sender"), "DQS", &sent);
    purge("rabbitmq", "/queue/myapp.data");
    ok(&conf(&reference("sender.conf.example", dir), &[]));
    assert_eq!(queue_count(&dir.join("sender")), 200, "no remove: all kept");
    ok(&conf(
        &reference("receiver.conf.example", dir),
        &["--timeout-inactivity", "3"],
    ));
    let expected: Vec<Message> = sent
        .iter()
        .cloned()
        .map(|m| {
            m.with_header("destination", "/queue/myapp.data")
                .with_header("persistent", "true")
        })
        .collect();
    assert_eq!(
        compare(&expected, &drain(&dir.join("receiver"), "DQS"), "examples/"),
        0
    );
}

#[test]
fn callback_code_that_is_more_than_header_edits_is_refused() {
    let d = tmp();
    let q = |n: &str| format!("path={}", p(&d.path().join(n)));
    for code in [
        "def check(self, msg):\n    return msg",
        "hdr[\"x\"] = hdr[\"y\"]",
        "import os",
    ] {
        let out = run(&[
            "--incoming-queue".into(),
            q("in"),
            "--outgoing-queue".into(),
            q("out"),
            "--callback-code".into(),
            code.into(),
        ]);
        let err = one_line_error(&out, 2);
        assert!(
            err.contains("run Python code") && err.contains("--header-set"),
            "{code:?}: {err}"
        );
    }
    // queue → queue with a translated callback: the edits are made
    let sent = mixed(10, "/queue/a");
    fill(&d.path().join("in"), "DQS", &sent);
    ok(&[
        "--incoming-queue".into(),
        q("in"),
        "--outgoing-queue".into(),
        q("out"),
        "--callback-code".into(),
        "del(hdr[\"x-unicode\"])\nhdr['destination'] = '/queue/b'".into(),
    ]);
    let expected: Vec<Message> = sent
        .into_iter()
        .map(|mut m| {
            m.header.remove("x-unicode");
            m.with_header("destination", "/queue/b")
        })
        .collect();
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&expected, &got, "q2q"), 0);
    assert!(got.iter().all(|m| !m.header.contains_key("x-unicode")));
}
