//! stompclt run as a process: every mode, reliability under SIGKILL, competing consumers
//! and bad input, against the real RabbitMQ and ActiveMQ that scripts/test.sh starts.
//! Broker tests are named `broker_*`; without brokers (STOMP_BROKERS unset) they fail,
//! unless an offline run leaves them out explicitly (`-- --skip broker_`).
//!
//! One test binary, its tests split by topic; what other binaries' tests share comes from
//! the test-support crate.

mod brokers;
mod cli;
mod cluster;
mod daemon;
mod dedup;
mod filters;
mod frame;
mod hostile;
mod locks;
mod metrics;
mod quarantine;
mod queues;
mod reconnect;
mod scale;
mod sigkill;
mod tls;

use dirq::DirQueue;
use message::{Message, MessageQueue};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub use test_support::bin::{one_line_error, s};
pub use test_support::brokers::{OwnBroker, unique_destination};
pub use test_support::process::{is_root, kill_at_random};
pub use test_support::proxy::SilencingProxy;
pub use test_support::queues::{compare, drain, fill, free_space, mixed, p, queue_count, tmp};
pub use test_support::syslog::SyslogCatcher;
pub use test_support::tmpfs::SmallFs;

struct Broker {
    name: String,
    uri: String,
    args: Vec<String>,
}

/// STOMP_BROKERS="rabbitmq=127.0.0.1:61613,activemq=127.0.0.1:61614"
fn brokers() -> Vec<Broker> {
    let mut list = Vec::new();
    for (name, addr) in test_support::brokers::from_env("STOMP_BROKERS") {
        let mut args = vec!["plain name=guest pass=guest".to_string()];
        if name == "rabbitmq" {
            // RabbitMQ reads the host header as the virtual host
            args.push("host=/".to_string());
        }
        list.push(Broker {
            uri: format!("stomp://{addr}"),
            name,
            args,
        });
    }
    list
}

impl Broker {
    /// `--{dir}-broker-uri … --{dir}-broker-auth … [--{dir}-broker-connect host=/]`
    fn opts(&self, dir: &str) -> Vec<String> {
        let mut v = vec![
            format!("--{dir}-broker-uri"),
            self.uri.clone(),
            format!("--{dir}-broker-auth"),
            self.args[0].clone(),
        ];
        if let Some(c) = self.args.get(1) {
            v.push(format!("--{dir}-broker-connect"));
            v.push(c.clone());
        }
        v
    }
}

const STOMPCLT: &str = env!("CARGO_BIN_EXE_stompclt");

fn stompclt() -> Command {
    Command::new(STOMPCLT)
}

fn run(args: &[String]) -> Output {
    test_support::bin::output(STOMPCLT, args)
}

fn ok(args: &[String]) -> String {
    test_support::bin::ok(STOMPCLT, args)
}

/// Runs stompclt subscribing through `uri` (which gets nowhere: a refused port, a peer that
/// fails) into an unused queue, with `extra` options: (exit status, standard error).
fn subscribe_fails(uri: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = s(&["--incoming-broker-uri", uri]);
    args.extend(s(extra));
    args.extend(s(&[
        "--subscribe",
        "destination=/q",
        "--outgoing-queue",
        "path=/tmp/unused-msgtk",
    ]));
    let out = run(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends a DQS spool to the broker, reliably, removing what was sent.
fn send_spool(b: &Broker, spool: &Path) {
    let mut args = vec![
        "--incoming-queue".into(),
        format!("path={}", p(spool)),
        "--reliable".into(),
        "--remove".into(),
    ];
    args.extend(b.opts("outgoing"));
    ok(&args);
}

fn qq_args(d: &Path, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--incoming-queue".to_string(),
        format!("path={}", p(&d.join("in"))),
        "--outgoing-queue".to_string(),
        format!("path={}", p(&d.join("out"))),
    ];
    v.extend(extra.iter().map(|x| x.to_string()));
    v
}
