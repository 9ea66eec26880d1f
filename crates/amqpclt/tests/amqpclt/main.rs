//! amqpclt run as a process against the real AMQP peers scripts/test.sh starts: RabbitMQ
//! (AMQP 1.0 and 0-9-1 on one port) and the Qpid Proton C broker (AMQP 1.0). The AMQP 1.0
//! tests name the module (`amqp1`): with none named, amqpclt speaks AMQP 0-9-1 to RabbitMQ.
//! Broker tests are named
//! `broker_*` and fail without brokers (AMQP_BROKERS unset) unless an offline run leaves
//! them out explicitly (`-- --skip broker_`); `compat_*` tests need python3-qpid-proton.
//!
//! One test binary, its tests split by topic around the test-support crate.

mod amqp091;
mod attach;
mod batch;
mod brokers;
mod callbacks;
mod cluster;
mod cross;
mod cross091;
mod errors;
mod hostile;
mod metrics;
mod pipeline;
mod reconnect;
mod scale;
mod sigkill;
mod tls;

use std::path::Path;
use std::process::{Command, Output};

pub use test_support::bin::{one_line_error, s};
pub use test_support::brokers::unique_destination;
pub use test_support::queues::{compare, drain, fill, mixed, p, queue_count, tmp};

const AMQPCLT: &str = env!("CARGO_BIN_EXE_amqpclt");

fn run(args: &[String]) -> Output {
    test_support::bin::output(AMQPCLT, args)
}

fn ok(args: &[String]) -> String {
    test_support::bin::ok(AMQPCLT, args)
}

/// amqpclt started with its output piped, for a test to act while it runs.
fn spawn(args: Vec<String>) -> std::process::Child {
    Command::new(AMQPCLT)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// One AMQP peer.
struct Broker {
    name: String,
    uri: String,
    auth: Option<String>,
    /// `--*-broker-module`: `amqp1` for the AMQP 1.0 peers, `pika` for RabbitMQ's 0-9-1.
    module: &'static str,
}

/// AMQP_BROKERS="rabbitmq=127.0.0.1:5672,proton=127.0.0.1:5673"
fn brokers() -> Vec<Broker> {
    let known = |(name, addr): (String, String)| Broker {
        uri: format!("amqp://{addr}"),
        // the Proton broker knows only SASL ANONYMOUS
        auth: (name == "rabbitmq").then(|| "plain name=guest pass=guest".to_string()),
        name,
        module: "amqp1",
    };
    test_support::brokers::from_env("AMQP_BROKERS")
        .into_iter()
        .map(known)
        .collect()
}

impl Broker {
    /// `--{dir}-broker-uri … [--{dir}-broker-auth …]`
    fn opts(&self, dir: &str) -> Vec<String> {
        let mut v = vec![
            format!("--{dir}-broker-uri"),
            self.uri.clone(),
            format!("--{dir}-broker-module"),
            self.module.to_string(),
        ];
        if let Some(a) = &self.auth {
            v.push(format!("--{dir}-broker-auth"));
            v.push(a.clone());
        }
        v
    }

    fn rabbitmq() -> Broker {
        brokers()
            .into_iter()
            .find(|b| b.name == "rabbitmq")
            .expect("rabbitmq in AMQP_BROKERS")
    }

    /// RabbitMQ over AMQP 0-9-1.
    fn rabbitmq091() -> Broker {
        Broker {
            name: "rabbitmq091".into(),
            module: "pika",
            ..Broker::rabbitmq()
        }
    }
}

/// Sends a DQS spool to the broker, reliably, removing what was sent.
fn send_spool(b: &Broker, spool: &Path) -> String {
    let mut args = s(&["--reliable", "--remove", "--window", "500", "-s"]);
    args.extend(["--incoming-queue".into(), format!("path={}", p(spool))]);
    args.extend(b.opts("outgoing"));
    ok(&args)
}

/// Receives `n` messages of `dest` into a DQS spool, reliably.
fn receive(b: &Broker, dest: &str, n: usize, spool: &Path) -> String {
    let mut args = s(&["--reliable", "-s", "--timeout-inactivity", "20"]);
    args.extend([
        "--subscribe".into(),
        format!("destination={dest}"),
        "--count".into(),
        n.to_string(),
        "--outgoing-queue".into(),
        format!("path={}", p(spool)),
    ]);
    args.extend(b.opts("incoming"));
    ok(&args)
}

/// Debian's python3 with python3-qpid-proton (a peer no one here wrote).
fn python() -> String {
    // Debian's interpreter, where python3-qpid-proton is installed
    let py = "/usr/bin/python3";
    let probe = Command::new(py).args(["-c", "import proton"]).output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "python3-qpid-proton is missing (scripts/test.sh installs it); leave compat_ tests out with --skip compat_"
    );
    py.to_string()
}

/// tests/python/proton_peer.py.
fn peer_script() -> String {
    format!(
        "{}/../../tests/python/proton_peer.py",
        env!("CARGO_MANIFEST_DIR")
    )
}
