//! Round trips through Mosquitto: MQTT 5 (every header), MQTT 3.1.1 with --payload json
//! (every header) and raw (bodies and topics), retained messages.

use super::*;

fn round_trip(
    n: usize,
    side: &Side,
    tag: &str,
) -> (Vec<message::Message>, Vec<message::Message>, String) {
    let d = tmp();
    let t = topic(tag);
    let id = client_id(tag);
    let sent = mixed(n, &t);
    fill(&d.path().join("in"), "DQS", &sent);
    subscribe_session(&id, &t, side);
    let stats = send_spool(&d.path().join("in"), side, &[]);
    assert!(
        stats.starts_with(&format!("processed {n} messages")),
        "{stats}"
    );
    assert_eq!(queue_count(&d.path().join("in")), 0, "sent and removed");
    receive(&id, &t, n, &d.path().join("out"), side);
    let got = drain(&d.path().join("out"), "DQS");
    (sent, got, stats)
}

#[test]
fn broker_mqtt5_moves_10000_mixed_messages_with_every_header() {
    let (sent, got, _) = round_trip(10_000, &V5, "v5");
    assert_eq!(got.len(), 10_000);
    assert_eq!(
        compare(&sent, &got, "MQTT 5"),
        0,
        "no duplicates without faults"
    );
    // what the delivery adds: the granted QoS
    assert!(
        got.iter()
            .all(|m| m.header.get("qos").map(String::as_str) == Some("1"))
    );
}

#[test]
fn broker_mqtt311_json_keeps_everything_and_raw_keeps_bodies_and_topics() {
    let json = Side {
        version: "3.1.1",
        payload: "json",
    };
    let (sent, got, _) = round_trip(10_000, &json, "v311json");
    assert_eq!(compare(&sent, &got, "MQTT 3.1.1 json"), 0);
    let raw = Side {
        version: "3.1.1",
        payload: "raw",
    };
    let (sent, got, _) = round_trip(10_000, &raw, "v311raw");
    assert_eq!(got.len(), 10_000);
    let mut bodies: Vec<(&str, &[u8])> = sent
        .iter()
        .map(|m| (m.header["destination"].as_str(), m.body.as_bytes()))
        .collect();
    let mut back: Vec<(&str, &[u8])> = got
        .iter()
        .map(|m| (m.header["destination"].as_str(), m.body.as_bytes()))
        .collect();
    bodies.sort();
    back.sort();
    assert_eq!(bodies, back, "bodies and topics survive");
    assert!(
        got.iter().all(|m| !m.header.contains_key("x-index")),
        "3.1.1 raw carries no header"
    );
}

#[test]
fn broker_retain_defaults_topic_and_qos_options() {
    let d = tmp();
    let t = topic("retained");
    // no destination header: --topic; published retained
    fill(
        &d.path().join("in"),
        "DQS",
        &[message::Message::text("the last word")],
    );
    let stats = send_spool(&d.path().join("in"), &V5, &["--topic", &t, "--retain"]);
    assert!(stats.contains("processed only 1 message"), "{stats}");
    // a subscriber that comes later gets it, marked retained
    let mut args = s(&["--count", "1", "--timeout-inactivity", "10"]);
    args.extend([
        "--incoming-broker-uri".into(),
        uri(),
        "--subscribe".into(),
        format!("topic={t}"),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    ok(&args);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body.as_bytes(), b"the last word");
    assert_eq!(
        got[0].header.get("retain").map(String::as_str),
        Some("true")
    );
    assert_eq!(got[0].header.get("qos").map(String::as_str), Some("0"));
    assert_eq!(got[0].header.get("destination"), Some(&t));
}

/// A configuration file with an `<mqttclt>` block, as the other agents read theirs; MQTT's
/// own KEY=VALUE options as blocks.
#[test]
fn broker_a_configuration_file_with_an_mqttclt_block() {
    let d = tmp();
    let t = topic("conf");
    let id = client_id("conf");
    let sent = mixed(50, &t);
    fill(&d.path().join("in"), "DQS", &sent);
    subscribe_session(&id, &t, &V5);
    let conf = d.path().join("mqttclt.conf");
    std::fs::write(
        &conf,
        format!(
            "<mqttclt>\n  incoming-queue = path={in}\n  outgoing-broker-uri = {uri}\n  \
             reliable = true\n  remove = true\n  <outgoing-broker-connect>\n    \
             version = 5\n    keep-alive = 30\n  </outgoing-broker-connect>\n</mqttclt>\n",
            in = p(&d.path().join("in")),
            uri = uri()
        ),
    )
    .expect("conf");
    ok(&["--config".into(), p(&conf)]);
    assert_eq!(queue_count(&d.path().join("in")), 0, "sent and removed");
    receive(&id, &t, 50, &d.path().join("out"), &V5);
    assert_eq!(
        compare(&sent, &drain(&d.path().join("out"), "DQS"), "conf"),
        0
    );
}
