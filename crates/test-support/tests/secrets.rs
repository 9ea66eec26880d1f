//! No secret in any output: each agent runs with a known password (or key) given through
//! `pass-file=` (`--key-file`), then through `pass=` with a wrong one, and every channel it
//! writes to is searched for both: the log with the `-dddd` trace and configuration, `--statistics`, the
//! metrics file, `--status --json` while it runs, the one-line errors of a refused login, of
//! a URI holding the password and of a password file others can read.
//!
//! The brokers know the user `sentinel` with the password below (tests/brokers); the AMS
//! server of the tests' own knows its key.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_support::bin::{output, s, workspace_binaries};
use test_support::queues::{drain, fill, mixed, p, tmp};

const PASS: &str = "Pw-7q3Zx9-sentinel";
const WRONG: &str = "Pw-7q3Zx9-wrong";

/// How one agent reaches its broker.
struct Agent {
    name: &'static str,
    uri: String,
    /// The right secret and a wrong one.
    secret: &'static str,
    /// The destination header of the messages sent, and the subscription that reads them.
    destination: String,
    subscribe: String,
    /// Options the broker side needs (a virtual host, a module, a session), by side.
    extra: fn(&str) -> Vec<String>,
    /// The options of a credential from a file, and of a wrong one given as the agent allows
    /// (on the command line where it can be), by side.
    auth_file: fn(&str, &str) -> Vec<String>,
    auth_wrong: fn(&str, &Path) -> Vec<String>,
    /// A receiver must have run once before messages are sent (an MQTT persistent session).
    prime: bool,
}

fn bin(name: &str) -> String {
    workspace_binaries().join(name).display().to_string()
}

fn first(var: &str) -> String {
    let brokers = test_support::brokers::from_env(var);
    let (_, addr) = brokers
        .first()
        .unwrap_or_else(|| panic!("{var} names no broker: run scripts/test.sh"));
    addr.clone()
}

/// Every output searched: neither password may be in it.
fn clean(a: &Agent, what: &str, text: &str) {
    for secret in [a.secret, WRONG] {
        assert!(
            !text.contains(secret),
            "{}: {what} shows the secret {secret}:\n{text}",
            a.name
        );
    }
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The options of a reliable sender from `inq` to the agent's broker, but its credential.
fn sender(a: &Agent, inq: &Path) -> Vec<String> {
    let mut args = s(&["--reliable"]);
    args.extend((a.extra)("outgoing"));
    args.extend(["--incoming-queue".into(), format!("path={}", p(inq))]);
    args.extend(["--outgoing-broker-uri".into(), a.uri.clone()]);
    args
}

/// The options of a reliable receiver from the agent's broker, its credential from
/// `pass_file`, but its outgoing queue.
fn receiver(a: &Agent, pass_file: &Path) -> Vec<String> {
    let mut args = s(&["--reliable"]);
    args.extend((a.extra)("incoming"));
    args.extend(["--incoming-broker-uri".into(), a.uri.clone()]);
    args.extend((a.auth_file)("incoming", &p(pass_file)));
    args.extend(["--subscribe".into(), a.subscribe.clone()]);
    args
}

/// Sends 20 messages and receives them back with the password from a file, every channel
/// on; returns what was printed.
fn round_trip(a: &Agent, d: &Path, pass_file: &Path) {
    let inq = d.join("in");
    let outq = d.join("out");
    let sent: Vec<message::Message> = (0..20)
        .map(|i| {
            message::Message::text(format!("message {i}"))
                .with_header("destination", &a.destination)
        })
        .collect();
    fill(&inq, "DQS", &sent);
    let metrics = d.join("metrics.prom");
    if a.prime {
        let mut args = receiver(a, pass_file);
        args.extend(s(&["--duration", "1", "--outgoing-queue", "type=NULL"]));
        let out = output(&bin(a.name), &args);
        assert!(out.status.success(), "{}: {}", a.name, text(&out));
    }
    let mut args = s(&["-dddd", "--statistics", "--reliable", "--remove"]);
    args.extend(sender(a, &inq));
    args.extend((a.auth_file)("outgoing", &p(pass_file)));
    args.extend(["--metrics-file".into(), p(&metrics)]);
    let out = output(&bin(a.name), &args);
    assert!(out.status.success(), "{}: {}", a.name, text(&out));
    let trace = text(&out);
    assert!(
        trace.contains("debug: > "),
        "a -dd trace was written: {trace}"
    );
    clean(a, "the sending trace and statistics", &trace);
    clean(
        a,
        "the metrics file",
        &std::fs::read_to_string(&metrics).expect("metrics file"),
    );

    let mut args = s(&["-dddd", "--statistics", "--count", "20"]);
    args.extend(receiver(a, pass_file));
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&outq))]);
    args.extend(s(&["--timeout-inactivity", "20"]));
    let out = output(&bin(a.name), &args);
    assert!(out.status.success(), "{}: {}", a.name, text(&out));
    clean(a, "the receiving trace and statistics", &text(&out));
    assert_eq!(drain(&outq, "DQS").len(), 20, "all received");
}

/// `--status --json` of a running receiver, then `--quit`.
fn status(a: &Agent, d: &Path, pass_file: &Path) {
    let pidfile = d.join("pid");
    // a receiver from a broker runs until it is told to stop
    let mut args = receiver(a, pass_file);
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.join("st"))),
    ]);
    args.extend(["--pidfile".into(), p(&pidfile)]);
    let mut child = Command::new(bin(a.name))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    let json = loop {
        let out = output(
            &bin(a.name),
            &s(&["--pidfile", &p(&pidfile), "--status", "--json"]),
        );
        if out.status.success() {
            break text(&out);
        }
        if child.try_wait().expect("wait").is_some() {
            panic!("{} ended: {:?}", a.name, child.wait_with_output());
        }
        assert!(t.elapsed() < Duration::from_secs(20), "{}", text(&out));
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(json.contains("\"pid\""), "{json}");
    clean(a, "--status --json", &json);
    output(&bin(a.name), &s(&["--pidfile", &p(&pidfile), "--quit"]));
    let out = child.wait_with_output().expect("wait");
    clean(a, "the looping agent's log", &text(&out));
}

/// The failure paths: a refused login (password on the command line), a URI holding a
/// password, a password file others can read.
fn failures(a: &Agent, d: &Path) {
    let inq = d.join("fail");
    fill(&inq, "DQS", &mixed(1, &a.destination));
    let wrong = d.join("wrong");
    test_support::secret_file(&wrong, WRONG);
    let base = |uri: &str| {
        let mut args = s(&["-dddd", "--statistics"]);
        args.extend(sender(a, &inq));
        let at = args.iter().position(|x| x == &a.uri).expect("uri");
        args[at] = uri.to_string();
        args
    };
    let mut args = base(&a.uri);
    args.extend((a.auth_wrong)("outgoing", &wrong));
    let out = output(&bin(a.name), &args);
    assert!(!out.status.success(), "a wrong password is refused");
    clean(a, "a refused login", &text(&out));

    let (scheme, rest) = a.uri.split_once("://").expect("scheme");
    let out = output(
        &bin(a.name),
        &base(&format!("{scheme}://sentinel:{}@{rest}", a.secret)),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    clean(a, "a URI holding the password", &text(&out));

    let exposed = d.join("exposed");
    std::fs::write(&exposed, format!("{}\n", a.secret)).expect("write");
    std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    // (without -dddd: the error is then the one line printed)
    let mut args = sender(a, &inq);
    args.extend((a.auth_file)("outgoing", &p(&exposed)));
    let out = output(&bin(a.name), &args);
    let err = test_support::bin::one_line_error(&out, 2);
    assert!(
        err.contains(&p(&exposed)) && err.contains("mode 0644"),
        "{err}"
    );
    clean(a, "a password file others can read", &err);
}

fn check(a: Agent) {
    let d = tmp();
    let pass_file = d.path().join("pass");
    test_support::secret_file(&pass_file, a.secret);
    round_trip(&a, d.path(), &pass_file);
    status(&a, d.path(), &pass_file);
    failures(&a, d.path());
}

fn plain(side: &str, file: &str) -> Vec<String> {
    vec![
        format!("--{side}-broker-auth"),
        format!("plain name=sentinel pass-file={file}"),
    ]
}

/// The wrong password on the command line, where `ps` shows it.
fn plain_wrong(side: &str, _: &Path) -> Vec<String> {
    vec![
        format!("--{side}-broker-auth"),
        format!("plain name=sentinel pass={WRONG}"),
    ]
}

#[test]
fn broker_secrets_stompclt() {
    let q = test_support::brokers::unique_destination("secrets");
    check(Agent {
        name: "stompclt",
        uri: format!("stomp://{}", first("STOMP_BROKERS")),
        secret: PASS,
        destination: q.clone(),
        subscribe: format!("destination={q}"),
        extra: |side| vec![format!("--{side}-broker-connect"), "host=/".into()],
        auth_file: plain,
        auth_wrong: plain_wrong,
        prime: false,
    });
}

#[test]
fn broker_secrets_amqpclt() {
    let q = test_support::brokers::unique_destination("secrets");
    check(Agent {
        name: "amqpclt",
        uri: format!("amqp://{}", first("AMQP_BROKERS")),
        secret: PASS,
        destination: q.clone(),
        subscribe: format!("destination={q}"),
        extra: |side| vec![format!("--{side}-broker-module"), "amqp1".into()],
        auth_file: plain,
        auth_wrong: plain_wrong,
        prime: false,
    });
}

#[test]
fn broker_secrets_mqttclt() {
    let q = test_support::brokers::unique_destination("secrets").replace("/queue/", "");
    let broker = std::env::var("MQTT_BROKER").expect("MQTT_BROKER: run scripts/test.sh");
    check(Agent {
        name: "mqttclt",
        uri: format!("mqtt://{broker}"),
        secret: PASS,
        destination: format!("secrets/{q}"),
        subscribe: format!("topic=secrets/{q} qos=1"),
        extra: |side| match side {
            "incoming" => s(&["--incoming-broker-connect", "client-id=msgtk-secrets"]),
            _ => vec![],
        },
        auth_file: plain,
        auth_wrong: plain_wrong,
        prime: true,
    });
}

/// amsclt takes its key from a file only; the wrong one too.
#[test]
fn secrets_amsclt() {
    let ams = test_support::ams::FakeAms::start();
    ams.topic("secrets");
    check(Agent {
        name: "amsclt",
        uri: ams.uri(),
        secret: test_support::ams::KEY,
        destination: "secrets".into(),
        subscribe: "destination=secrets".into(),
        extra: |_| s(&["--dialect", "ams"]),
        auth_file: |_, file| s(&["--key-file", file]),
        auth_wrong: |_, file| s(&["--key-file", &p(file)]),
        prime: false,
    });
}
