//! mqttclt run as a process against the Mosquitto scripts/test.sh starts (MQTT_BROKER,
//! MQTTS_BROKER). Broker tests are named `broker_*` and fail without a broker unless an
//! offline run leaves them out explicitly (`-- --skip broker_`); `compat_*` tests use
//! Debian's mosquitto_pub and mosquitto_sub as the independent client.
//!
//! One test binary, its tests split by topic around the test-support crate.

mod brokers;
mod cross;
mod errors;
mod hostile;
mod reconnect;
mod scale;
mod sigkill;
mod tls;

use std::path::Path;
use std::process::Output;

pub use test_support::bin::{one_line_error, s};
pub use test_support::queues::{compare, drain, fill, mixed, p, queue_count, tmp};

const MQTTCLT: &str = env!("CARGO_BIN_EXE_mqttclt");

fn run(args: &[String]) -> Output {
    test_support::bin::output(MQTTCLT, args)
}

fn ok(args: &[String]) -> String {
    test_support::bin::ok(MQTTCLT, args)
}

/// `HOST:PORT` of the broker in an environment variable, loudly required.
fn addr(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: broker tests need the Mosquitto scripts/test.sh starts; leave \
             them out explicitly with `-- --skip broker_`"
        )
    })
}

/// `mqtt://` on the plain listener.
fn uri() -> String {
    format!("mqtt://{}", addr("MQTT_BROKER"))
}

/// A topic no other test uses.
fn topic(tag: &str) -> String {
    test_support::brokers::unique_destination(tag)
        .trim_start_matches("/queue/")
        .replace('.', "/")
}

/// A client id no other test uses.
fn client_id(tag: &str) -> String {
    format!("msgtk-{tag}-{}", topic("id").replace('/', "-"))
}

/// What one side of a run says about its MQTT connection.
struct Side {
    version: &'static str,
    payload: &'static str,
}

const V5: Side = Side {
    version: "5",
    payload: "raw",
};

/// Creates a persistent session subscribed to `topic` (QoS 1) under `id`, so that the
/// broker keeps what is published there until `receive` drains it.
fn subscribe_session(id: &str, topic: &str, side: &Side) {
    let mut args = s(&[
        "--reliable",
        "--duration",
        "1",
        "--outgoing-queue",
        "type=NULL",
    ]);
    args.extend([
        "--incoming-broker-uri".into(),
        uri(),
        "--subscribe".into(),
        format!("topic={topic} qos=1"),
        "--incoming-broker-connect".into(),
        format!("client-id={id} version={}", side.version),
        "--payload".into(),
        side.payload.into(),
    ]);
    ok(&args);
}

/// Sends a DQS spool to the broker, reliably, removing what was sent.
fn send_spool(spool: &Path, side: &Side, extra: &[&str]) -> String {
    let mut args = s(&["--reliable", "--remove", "--window", "100", "-s"]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(spool))]);
    args.extend([
        "--outgoing-broker-uri".into(),
        uri(),
        "--outgoing-broker-connect".into(),
        format!("version={}", side.version),
        "--payload".into(),
        side.payload.into(),
    ]);
    args.extend(s(extra));
    ok(&args)
}

/// Receives `n` messages of the session `id` into a DQS spool, reliably.
fn receive(id: &str, topic: &str, n: usize, spool: &Path, side: &Side) -> String {
    let mut args = s(&["--reliable", "-s", "--timeout-inactivity", "20"]);
    args.extend([
        "--incoming-broker-uri".into(),
        uri(),
        "--subscribe".into(),
        format!("topic={topic} qos=1"),
        "--incoming-broker-connect".into(),
        format!("client-id={id} version={}", side.version),
        "--payload".into(),
        side.payload.into(),
        "--count".into(),
        n.to_string(),
        "--outgoing-queue".into(),
        format!("path={}", p(spool)),
    ]);
    ok(&args)
}
