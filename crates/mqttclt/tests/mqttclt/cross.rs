//! Against a client no one here wrote: Debian's mosquitto_pub and mosquitto_sub (MQTT 5,
//! with properties) on the other side of Mosquitto.

use std::process::Command;

use super::*;

/// `host`, `port` of MQTT_BROKER, as mosquitto_pub/sub take them.
fn host_port() -> (String, String) {
    let a = addr("MQTT_BROKER");
    let (h, p) = a.rsplit_once(':').expect("HOST:PORT");
    (h.to_string(), p.to_string())
}

fn mosquitto(tool: &str, args: &[&str]) -> Output {
    let (h, port) = host_port();
    Command::new(tool)
        .args(["-V", "5", "-h", &h, "-p", &port])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} (Debian mosquitto-clients, installed by tests/brokers/start-mosquitto.sh): {e}")
        })
}

#[test]
fn compat_mosquitto_pub_properties_arrive_as_headers() {
    let d = tmp();
    let t = topic("frompub");
    let id = client_id("frompub");
    subscribe_session(&id, &t, &V5);
    let out = mosquitto(
        "mosquitto_pub",
        &[
            "-t",
            &t,
            "-q",
            "1",
            "-m",
            "hello ☺",
            "-D",
            "publish",
            "user-property",
            "x-k",
            "v1",
            "-D",
            "publish",
            "user-property",
            "x é",
            "v ☺",
            "-D",
            "publish",
            "content-type",
            "text/plain",
            "-D",
            "publish",
            "response-topic",
            "r/t",
            "-D",
            "publish",
            "correlation-data",
            "cid-7",
            "-D",
            "publish",
            "payload-format-indicator",
            "1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    receive(&id, &t, 1, &d.path().join("out"), &V5);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert!(m.is_text(), "payload format indicator 1: a text body");
    assert_eq!(m.body.as_bytes(), "hello ☺".as_bytes());
    for (k, v) in [
        ("destination", t.as_str()),
        ("qos", "1"),
        ("content-type", "text/plain"),
        ("reply-to", "r/t"),
        ("correlation-id", "cid-7"),
        ("x-k", "v1"),
        ("x é", "v ☺"),
    ] {
        assert_eq!(m.header.get(k).map(String::as_str), Some(v), "{k}: {m:?}");
    }
}

#[test]
fn compat_mqttclt_headers_reach_mosquitto_sub() {
    let d = tmp();
    let t = topic("tosub");
    let m = message::Message::text("bonjour ☺")
        .with_header("destination", &t)
        .with_header("content-type", "text/plain")
        .with_header("reply-to", "r/2")
        .with_header("correlation-id", "c-2")
        .with_header("x-k", "v2");
    fill(&d.path().join("in"), "DQS", &[m]);
    // retained, so that a subscriber that comes after gets it
    send_spool(&d.path().join("in"), &V5, &["--retain"]);
    let out = mosquitto(
        "mosquitto_sub",
        &[
            "-t",
            &t,
            "-C",
            "1",
            "-W",
            "10",
            "-F",
            "%t|%C|%R|%D|%F|%P|%r|%p",
        ],
    );
    // clear the retained message
    mosquitto("mosquitto_pub", &["-t", &t, "-r", "-n"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        format!("{t}|text/plain|r/2|c-2|1|x-k:v2|1|bonjour ☺")
    );
}
