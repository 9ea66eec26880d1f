//! amsclt run as a process against the Google Pub/Sub emulator scripts/test.sh starts
//! (`PUBSUB_EMULATOR_HOST`). Broker tests are named `broker_*` and fail without the emulator
//! unless an offline run leaves them out explicitly (`-- --skip broker_`); the topics and
//! subscriptions are made, and messages checked, with test-support's own plain HTTP client.
//!
//! One test binary, its tests split by topic around the test-support crate.

mod ams;
mod brokers;
mod compat;
mod errors;
mod publisher;
mod push;
mod reconnect;
mod sigkill;

use std::path::Path;
use std::process::Output;

use message::Message;
pub use test_support::bin::{one_line_error, s};
pub use test_support::pubsub;
pub use test_support::queues::{compare, drain, fill, mixed, p, queue_count, tmp};

const AMSCLT: &str = env!("CARGO_BIN_EXE_amsclt");

fn run(args: &[String]) -> Output {
    test_support::bin::output(AMSCLT, args)
}

fn ok(args: &[String]) -> String {
    test_support::bin::ok(AMSCLT, args)
}

/// The arguments that send the spool at `inq` to the emulator (each message to its
/// destination), reliably, removing what was published.
fn send_args(inq: &Path) -> Vec<String> {
    let mut args = s(&[
        "--outgoing-broker-uri",
        &pubsub::uri(),
        "--reliable",
        "--remove",
    ]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(inq))]);
    args
}

/// Sends the spool at `inq` (see [`send_args`]); the statistics line.
fn send_spool(inq: &Path, extra: &[&str]) -> String {
    let mut args = send_args(inq);
    args.push("--statistics".into());
    args.extend(s(extra));
    ok(&args)
}

/// Drains `sub` into the spool at `outq` until `n` messages came (or 10 s of silence).
fn receive(sub: &str, outq: &Path, n: usize, extra: &[&str]) -> String {
    let mut args = s(&["--incoming-broker-uri", &pubsub::uri(), "--reliable"]);
    args.extend(["--subscribe".into(), format!("destination={sub}")]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(outq))]);
    args.extend(s(&[
        "--count",
        &n.to_string(),
        "--timeout-inactivity",
        "10",
    ]));
    args.push("--statistics".into());
    args.extend(s(extra));
    ok(&args)
}

/// What the sent messages look like once received from `sub`: their destination is the
/// subscription they came from.
fn as_received(sent: &[Message], sub: &str) -> Vec<Message> {
    sent.iter()
        .cloned()
        .map(|m| m.with_header("destination", sub))
        .collect()
}
