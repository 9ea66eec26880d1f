//! AMQP 0-9-1 across protocols and implementations on one RabbitMQ: stompclt ↔ amqpclt
//! 0-9-1, amqpclt 0-9-1 → amqpclt 1.0, and pika with python messaging (the reference's own
//! client) both ways. What survives each crossing is the README's table.

use std::process::Command;

use message::Message;

use super::cross::{bodies, stomp_rabbitmq, stompclt};
use super::*;

/// The header keys of `got` (the first message with each x-index) that differ from `sent`:
/// (kept, lost, added).
fn survival(sent: &[Message], got: &[Message]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut kept, mut lost, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for m in sent {
        // by x-index, or by body when that header did not cross
        let Some(g) = got
            .iter()
            .find(|g| g.header.get("x-index") == m.header.get("x-index"))
            .or_else(|| got.iter().find(|g| g.body.as_bytes() == m.body.as_bytes()))
        else {
            continue;
        };
        for (k, v) in &m.header {
            let list = if g.header.get(k) == Some(v) {
                &mut kept
            } else {
                &mut lost
            };
            if !list.contains(k) {
                list.push(k.clone());
            }
        }
        for k in g.header.keys() {
            if !m.header.contains_key(k) && !added.contains(k) {
                added.push(k.clone());
            }
        }
    }
    (kept, lost, added)
}

fn stomp_receive(dest: &str, n: usize, spool: &Path) {
    let mut args = s(&["--reliable", "--timeout-inactivity", "10", "--count"]);
    args.push(n.to_string());
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(spool))]);
    args.extend(stomp_rabbitmq("incoming"));
    test_support::bin::ok(&stompclt(), &args);
}

#[test]
fn broker_amqp091_crosses_to_stompclt_and_amqp10_both_ways() {
    let b = Broker::rabbitmq091();
    let d = tmp();
    let n = 500;
    // stompclt → RabbitMQ → amqpclt 0-9-1: RabbitMQ's STOMP plugin keeps custom headers in
    // the 0-9-1 headers table
    let dest = unique_destination("stomp-091");
    let sent = mixed(n, &dest);
    fill(&d.path().join("s1"), "DQS", &sent);
    let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&d.path().join("s1"))));
    args.extend(stomp_rabbitmq("outgoing"));
    test_support::bin::ok(&stompclt(), &args);
    receive(&b, &dest, n, &d.path().join("r1"));
    let got = drain(&d.path().join("r1"), "DQS");
    assert_eq!(bodies(&got), bodies(&sent));
    let (kept, lost, added) = survival(&sent, &got);
    eprintln!("stompclt → amqpclt 0-9-1: kept {kept:?}, lost {lost:?}, added {added:?}");
    assert!(kept.contains(&"x-index".to_string()) && kept.contains(&"x-unicode".to_string()));
    // the destination, from the routing key
    assert!(
        got.iter()
            .all(|m| m.header.get("destination") == Some(&dest))
    );
    // amqpclt 0-9-1 → RabbitMQ → stompclt: the headers table becomes STOMP headers
    let dest = unique_destination("091-stomp");
    let sent = mixed(n, &dest);
    fill(&d.path().join("s2"), "DQS", &sent);
    send_spool(&b, &d.path().join("s2"));
    stomp_receive(&dest, n, &d.path().join("r2"));
    let got = drain(&d.path().join("r2"), "DQS");
    assert_eq!(bodies(&got), bodies(&sent));
    let (kept, lost, added) = survival(&sent, &got);
    eprintln!("amqpclt 0-9-1 → stompclt: kept {kept:?}, lost {lost:?}, added {added:?}");
    assert!(kept.contains(&"x-index".to_string()) && kept.contains(&"destination".to_string()));
    // amqpclt 0-9-1 → RabbitMQ → amqpclt 1.0
    let dest = unique_destination("091-10");
    let sent = mixed(n, &dest);
    fill(&d.path().join("s3"), "DQS", &sent);
    send_spool(&b, &d.path().join("s3"));
    receive(&Broker::rabbitmq(), &dest, n, &d.path().join("r3"));
    let got = drain(&d.path().join("r3"), "DQS");
    assert_eq!(bodies(&got), bodies(&sent));
    let (kept, lost, added) = survival(&sent, &got);
    eprintln!("amqpclt 0-9-1 → amqpclt 1.0: kept {kept:?}, lost {lost:?}, added {added:?}");
    // RabbitMQ 3.10 keeps the table as an opaque annotation: only what the 1.0 module
    // rebuilds from the delivery (the destination from the address) is there
    assert!(kept.contains(&"destination".to_string()) && lost.contains(&"x-index".to_string()));
}

fn python() -> String {
    std::env::var("REF_PYTHON").expect(
        "REF_PYTHON is not set: compat tests need the .venv of scripts/setup-python.sh (pika, \
         messaging); leave them out with --skip compat_",
    )
}

/// pika with python messaging, as the reference amqpclt's pika module publishes and
/// consumes: every body, text flag and header arrives, both ways.
#[test]
fn compat_pika_publishes_and_consumes_with_amqpclt_091() {
    let py = python();
    let b = Broker::rabbitmq091();
    let script = format!(
        "{}/../../tests/python/pika_peer.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let url = b.uri.replace("amqp://", "amqp://guest:guest@") + "/%2F";
    let d = tmp();
    let n = 1000;
    let dest = unique_destination("pika");
    let queue = dest.trim_start_matches("/queue/");
    // python messaging serializes an empty text body as an empty binary one (`{}`): the text
    // flag of an empty text cannot cross its queue
    let sent: Vec<Message> = mixed(n, &dest)
        .into_iter()
        .filter(|m| !(m.is_text() && m.body.is_empty()))
        .collect();
    let n = sent.len();
    // pika publishes (from a spool of its own), amqpclt consumes
    fill(&d.path().join("py-in"), "DQS", &sent);
    let out = Command::new(&py)
        .args([&script, "send", &url, queue])
        .arg(d.path().join("py-in"))
        .output()
        .expect("python");
    assert!(out.status.success(), "{out:?}");
    receive(&b, &dest, n, &d.path().join("out"));
    assert_eq!(
        compare(
            &sent,
            &drain(&d.path().join("out"), "DQS"),
            "pika → amqpclt"
        ),
        0
    );
    // amqpclt publishes, pika consumes
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(&b, &d.path().join("in"));
    let out = Command::new(&py)
        .args([&script, "recv", &url, queue, &n.to_string()])
        .arg(d.path().join("py-out"))
        .output()
        .expect("python");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        compare(
            &sent,
            &drain(&d.path().join("py-out"), "DQS"),
            "amqpclt → pika"
        ),
        0
    );
}
