//! Round trips through the emulator (raw and json payloads), and amsclt against a client
//! of the tests' own each way.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

fn round_trip(payload: &str) {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription(&format!("rt-{payload}"), 60);
    let sent = mixed(10_000, &topic);
    fill(&d.path().join("in"), "DQS", &sent);
    let stats = send_spool(&d.path().join("in"), &["--payload", payload]);
    assert!(stats.starts_with("processed 10000 messages"), "{stats}");
    assert_eq!(
        queue_count(&d.path().join("in")),
        0,
        "published and removed"
    );
    receive(&sub, &d.path().join("out"), 10_000, &["--payload", payload]);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 10_000);
    // json: the whole message, its destination (the topic) included; raw: the
    // subscription it came from is its destination
    let expected = if payload == "json" {
        sent.clone()
    } else {
        as_received(&sent, &sub)
    };
    assert_eq!(
        compare(&expected, &got, payload),
        0,
        "no duplicates without faults"
    );
    if payload == "raw" {
        // what the service adds: its id and time of each message
        assert!(
            got.iter()
                .all(|m| m.header.contains_key("message-id")
                    && m.header.contains_key("publish-time"))
        );
    }
}

#[test]
fn broker_moves_10000_mixed_messages_raw() {
    round_trip("raw");
}

#[test]
fn broker_moves_10000_mixed_messages_as_json() {
    round_trip("json");
}

/// Published by amsclt, read by the tests' own client: data is the body, attributes the
/// header.
#[test]
fn broker_what_amsclt_publishes_any_client_reads() {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("to-client", 60);
    let sent = vec![
        Message::text("héllo").with_header("x-a", "1"),
        Message::binary(vec![0u8, 255, 7]).with_header("x-b", "ü"),
    ];
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(&d.path().join("in"), &["--topic", &topic]);
    let got = pubsub::pull_ack(&sub);
    assert_eq!(got.len(), 2);
    for m in &got {
        let data = STANDARD
            .decode(m["data"].as_str().unwrap_or(""))
            .expect("base64");
        if m["attributes"]["x-a"] == "1" {
            assert_eq!(data, "héllo".as_bytes());
        } else {
            assert_eq!(m["attributes"]["x-b"], "ü");
            assert_eq!(data, [0u8, 255, 7]);
        }
    }
}

/// Published by the tests' own client, received by amsclt.
#[test]
fn broker_what_any_client_publishes_amsclt_receives() {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("from-client", 60);
    pubsub::publish(
        &topic,
        &[serde_json::json!({"data": STANDARD.encode("plain text"), "attributes": {"k": "v"}})],
    );
    receive(&sub, &d.path().join("out"), 1, &[]);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 1);
    assert!(got[0].is_text());
    assert_eq!(got[0].body.as_bytes(), b"plain text");
    assert_eq!(got[0].header["k"], "v");
    assert_eq!(got[0].header["destination"], sub);
    assert!(pubsub::pull_ack(&sub).is_empty(), "acknowledged");
}

/// A receiver that stops in the middle of a pulled batch gives back what it had not taken
/// (a deadline of 0): the next one gets it at once, not after the subscription's 10 minutes.
#[test]
fn broker_what_a_stopped_receiver_did_not_take_comes_back_at_once() {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("give-back", 600);
    let sent = mixed(5000, &topic)
        .into_iter()
        .filter(|m| m.body.as_bytes().len() < 100_000)
        .collect::<Vec<_>>();
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(&d.path().join("in"), &[]);
    let mut args = s(&["--incoming-broker-uri", &pubsub::uri(), "--reliable"]);
    args.extend(["--subscribe".into(), format!("destination={sub}")]);
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    let mut first = args.clone();
    first.extend(s(&["--duration", "0.3"]));
    ok(&first);
    let mut rest = args;
    rest.extend(s(&["--timeout-inactivity", "3"]));
    ok(&rest);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&as_received(&sent, &sub), &got, "given back"), 0);
}
