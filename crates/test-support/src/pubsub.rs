//! The Google Pub/Sub emulator scripts/test.sh starts (`PUBSUB_EMULATOR_HOST`), reached with
//! a few lines of plain HTTP/1.1 of the tests' own (not amsclt's client): topics and
//! subscriptions made, messages published and pulled as the REST API documents them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `HOST:PORT` of the emulator, loudly required.
pub fn host() -> String {
    std::env::var("PUBSUB_EMULATOR_HOST").unwrap_or_else(|_| {
        panic!(
            "PUBSUB_EMULATOR_HOST is not set: broker tests need the Pub/Sub emulator \
             scripts/test.sh starts; leave them out explicitly with `-- --skip broker_`"
        )
    })
}

/// The project every test uses (projects are implicit on the emulator).
pub const PROJECT: &str = "msgtk";

/// amsclt's URI of the emulator's project.
pub fn uri() -> String {
    format!("http://{}/v1/projects/{PROJECT}", host())
}

/// One request to the tests' project: (status, body).
pub fn request(method: &str, path: &str, body: &str) -> (u16, String) {
    request_in(PROJECT, method, path, body)
}

/// Makes `topic` in `project` and `subscription` to it, unless they exist.
pub fn ensure(project: &str, topic: &str, subscription: &str) {
    let (status, text) = request_in(project, "PUT", &format!("topics/{topic}"), "{}");
    assert!(
        matches!(status, 200 | 409),
        "topic {topic}: {status} {text}"
    );
    let body = format!("{{\"topic\":\"projects/{project}/topics/{topic}\"}}");
    let (status, text) = request_in(
        project,
        "PUT",
        &format!("subscriptions/{subscription}"),
        &body,
    );
    assert!(
        matches!(status, 200 | 409),
        "subscription {subscription}: {status} {text}"
    );
}

/// One request to `project`: (status, body).
pub fn request_in(project: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(host()).expect("connect to the emulator");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let req = format!(
        "{method} /v1/projects/{project}/{path} HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        host(),
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    // read until the answer is whole: the emulator keeps the connection open
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).expect("read");
        raw.extend_from_slice(&buf[..n]);
        if n == 0 || complete(&raw) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status");
    (
        status,
        if chunked(head) {
            dechunk(rest)
        } else {
            rest.to_string()
        },
    )
}

fn chunked(head: &str) -> bool {
    head.to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
}

/// Whether `raw` holds a whole answer: its headers and the body they announce.
fn complete(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    if chunked(head) {
        return body.ends_with("0\r\n\r\n");
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn ok(method: &str, path: &str, body: &str) -> String {
    let (status, text) = request(method, path, body);
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {text}"
    );
    text
}

/// A topic and a subscription to it, both named after `tag` and unique; (topic,
/// subscription). Unacknowledged messages come back after `deadline` seconds.
pub fn topic_and_subscription(tag: &str, deadline: u32) -> (String, String) {
    let t = crate::brokers::unique_destination(tag)
        .trim_start_matches("/queue/")
        .replace('.', "-");
    let topic = format!("t-{t}");
    let sub = format!("s-{t}");
    ok("PUT", &format!("topics/{topic}"), "{}");
    ok(
        "PUT",
        &format!("subscriptions/{sub}"),
        &format!(
            "{{\"topic\":\"projects/{PROJECT}/topics/{topic}\",\"ackDeadlineSeconds\":{deadline}}}"
        ),
    );
    (topic, sub)
}

/// Pulls up to 100 messages and acknowledges them: the `message` objects.
pub fn pull_ack(sub: &str) -> Vec<serde_json::Value> {
    let text = ok(
        "POST",
        &format!("subscriptions/{sub}:pull"),
        "{\"maxMessages\":100,\"returnImmediately\":true}",
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let got = v["receivedMessages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !got.is_empty() {
        let ids: Vec<&serde_json::Value> = got.iter().map(|r| &r["ackId"]).collect();
        ok(
            "POST",
            &format!("subscriptions/{sub}:acknowledge"),
            &serde_json::json!({ "ackIds": ids }).to_string(),
        );
    }
    got.into_iter().map(|r| r["message"].clone()).collect()
}

/// Publishes these `{"data":…,"attributes":…}` objects to `topic`.
pub fn publish(topic: &str, messages: &[serde_json::Value]) {
    ok(
        "POST",
        &format!("topics/{topic}:publish"),
        &serde_json::json!({ "messages": messages }).to_string(),
    );
}
