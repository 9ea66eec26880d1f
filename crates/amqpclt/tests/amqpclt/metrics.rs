//! Operators' view, end to end: Debian's Prometheus scrapes a running stompclt, amqpclt
//! and simplevisor (`--metrics-listen`) and its HTTP API shows what they moved, a broker
//! of an `all:` pair going down, and a restart after a SIGKILL; the textfile output passes
//! `promtool check metrics`.

use std::process::Stdio;
use std::time::Duration;

use test_support::brokers::OwnBroker;
use test_support::prometheus::{Prometheus, free_port};

use super::cross::{stomp_rabbitmq, stompclt};
use super::*;

const N: usize = 10_000;
const LIMIT: Duration = Duration::from_secs(90);

fn spawn(program: &str, args: &[String]) -> std::process::Child {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// simplevisor supervising one foreground `sleep`, its metrics on `port`.
fn simplevisor(dir: &Path, port: u16) -> std::process::Child {
    let conf = dir.join("sv.conf");
    std::fs::write(
        &conf,
        format!(
            "<simplevisor>\n pidfile = {}\n log = null\n</simplevisor>\n<entry>\n type = supervisor\n \
             name = top\n <children>\n  <entry>\n   type = service\n   name = sleeper\n   \
             start = /bin/sleep 1000\n   foreground = yes\n  </entry>\n </children>\n</entry>\n",
            p(&dir.join("sv.pid"))
        ),
    )
    .expect("conf");
    let sv = test_support::bin::sibling(AMQPCLT, "simplevisor");
    spawn(
        &sv,
        &s(&[
            "--conf",
            &p(&conf),
            "--metrics-listen",
            &port.to_string(),
            "start",
        ]),
    )
}

/// The sleeper's pid, from the running simplevisor's `status --json`.
fn sleeper_pid(dir: &Path) -> Option<i32> {
    let sv = test_support::bin::sibling(AMQPCLT, "simplevisor");
    let out = Command::new(sv)
        .args(["--conf", &p(&dir.join("sv.conf")), "status", "--json"])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["tree"]["children"][0]["pid"].as_i64().map(|p| p as i32)
}

#[test]
fn broker_prometheus_scrapes_stompclt_amqpclt_and_simplevisor() {
    let own = OwnBroker::start_new("rabbitmq");
    let (ps, pa, pv) = (free_port(), free_port(), free_port());
    let prom = Prometheus::start(&[("stompclt", ps), ("amqpclt", pa), ("simplevisor", pv)]);
    let d = tmp();
    let dest = unique_destination("metrics");
    fill(&d.path().join("in"), "DQS", &mixed(N, &dest));
    // stompclt: the spool to RabbitMQ over STOMP, reliably; --loop keeps it up for scrapes
    let mut args = s(&[
        "--reliable",
        "--remove",
        "--loop",
        "--metrics-listen",
        &ps.to_string(),
    ]);
    args.extend([
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
    ]);
    args.extend(["--pidfile".into(), p(&d.path().join("s.pid"))]);
    args.extend(stomp_rabbitmq("outgoing"));
    let stomp = spawn(&stompclt(), &args);
    // amqpclt: from an all: pair (the shared RabbitMQ and one of the test's own) to a spool
    let shared = Broker::rabbitmq091();
    let own_port = own.amqp.expect("own amqp port");
    let mut args = s(&[
        "--reliable",
        "--incoming-broker-uri",
        &format!("all:({},amqp://127.0.0.1:{own_port})", shared.uri),
        "--incoming-broker-auth",
        "plain name=guest pass=guest",
        "--incoming-broker-module",
        "pika",
        "--subscribe",
        &format!("destination={dest}"),
        "--metrics-listen",
        &pa.to_string(),
        "--metrics-file",
        &p(&d.path().join("amqpclt.prom")),
        "--metrics-interval",
        "1",
    ]);
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    args.extend(["--pidfile".into(), p(&d.path().join("a.pid"))]);
    let amqp = spawn(AMQPCLT, &args);
    let sv = simplevisor(d.path(), pv);

    // what moved, as Prometheus scraped it
    let n = N as f64;
    for q in [
        "stompclt_messages_sent_total",
        "stompclt_messages_confirmed_total",
        "stompclt_messages_acknowledged_total",
        "amqpclt_messages_received_total",
        "amqpclt_messages_acknowledged_total",
        "amqpclt_messages_confirmed_total",
    ] {
        prom.wait_for(q, LIMIT, |v| v == n);
    }
    prom.wait_for("stompclt_messages_pending", LIMIT, |v| v == 0.0);
    let up = |port: u16| format!("amqpclt_broker_up{{side=\"incoming\",broker=~\".*:{port}\"}}");
    let shared_port = shared.uri.rsplit(':').next().expect("port").to_string();
    prom.wait_for(&up(own_port), LIMIT, |v| v == 1.0);
    // a broker of the pair stops: its state flips, the other stays up
    own.stop();
    prom.wait_for(&up(own_port), LIMIT, |v| v == 0.0);
    prom.wait_for(&up(shared_port.parse().expect("port")), LIMIT, |v| v == 1.0);
    prom.wait_for("sum(amqpclt_errors_total)", LIMIT, |v| v >= 1.0);
    // a supervised service SIGKILLed: the restart counted
    let q = "simplevisor_service_restarts_total{service=\"top/sleeper\"}";
    prom.wait_for(q, LIMIT, |v| v == 0.0);
    let pid = sleeper_pid(d.path()).expect("the sleeper's pid");
    // SAFETY: the service of this test's own simplevisor.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    prom.wait_for(q, LIMIT, |v| v == 1.0);
    prom.wait_for(
        "simplevisor_service_up{service=\"top/sleeper\"}",
        LIMIT,
        |v| v == 1.0,
    );

    // the agents quit; amqpclt's textfile has its last figures, in a format promtool accepts
    for (pidfile, prog) in [("s.pid", stompclt()), ("a.pid", AMQPCLT.to_string())] {
        test_support::bin::ok(
            &prog,
            &s(&["--pidfile", &p(&d.path().join(pidfile)), "--quit"]),
        );
    }
    test_support::bin::succeeded(stomp);
    test_support::bin::succeeded(amqp);
    let text = std::fs::read_to_string(d.path().join("amqpclt.prom")).expect("textfile");
    assert!(
        text.contains(&format!("\namqpclt_messages_received_total {N}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "amqpclt_queue_messages{{side=\"outgoing\",queue=\"{}\"}} {N}\n",
            p(&d.path().join("out"))
        )),
        "{text}"
    );
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(d.path().join("amqpclt.prom")).expect("open"))
        .output()
        .expect("promtool (Debian package prometheus)");
    assert!(check.status.success(), "promtool: {check:?}");
    assert_eq!(queue_count(&d.path().join("out")), N);
    let mut sv = sv;
    // SAFETY: this test's own simplevisor.
    unsafe { libc::kill(sv.id() as i32, libc::SIGTERM) };
    let _ = sv.wait();
}
