//! The example configurations shipped in packaging/examples: simplevisor's is checked, the
//! agents' are run against the brokers scripts/test.sh starts, their spool paths and the
//! looping overridden on the command line (which wins over the file).

use std::path::{Path, PathBuf};

fn example(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packaging/examples")
        .join(name);
    assert!(p.exists(), "{} is shipped", p.display());
    p.display().to_string()
}

/// target/debug, where `cargo test --workspace` put every binary.
fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let p = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/debug")
        .join(name);
    assert!(p.exists(), "{name} not built: run `cargo test --workspace`");
    p
}

fn ok(program: &str, args: &[String]) -> String {
    test_support::bin::ok(&bin(program).display().to_string(), args)
}

fn s(v: &[&str]) -> Vec<String> {
    test_support::bin::s(v)
}

/// Its services run as the stompclt package's user: made here as the package makes it, when
/// missing (root).
#[test]
fn root_the_simplevisor_example_is_a_valid_configuration() {
    test_support::process::need_root();
    let known = std::process::Command::new("getent")
        .args(["passwd", "stompclt"])
        .output()
        .expect("getent");
    if !known.status.success() {
        test_support::bin::ok(
            "/usr/sbin/useradd",
            &s(&[
                "--system",
                "--no-create-home",
                "--home-dir",
                "/var/spool/stompclt",
                "--shell",
                "/usr/sbin/nologin",
                "stompclt",
            ]),
        );
    }
    let out = ok(
        "simplevisor",
        &s(&[
            "--conf",
            &example("simplevisor.conf"),
            "check_configuration",
        ]),
    );
    assert!(out.contains("valid"), "{out}");
}

#[test]
fn broker_the_agent_examples_run() {
    test_support::brokers::from_env("STOMP_BROKERS");
    test_support::brokers::from_env("AMQP_BROKERS");
    let d = test_support::queues::tmp();
    let q = |n: &str| format!("path={}", d.path().join(n).display());
    // the sender sends a spool for /queue/app1.data, the receiver drains it
    let generate = |path: &str, dest: &str| {
        ok(
            "dirq",
            &s(&[
                "generate", "--path", path, "--type", "dqs", "--count", "20", "--header", dest,
            ]),
        )
    };
    generate(
        &d.path().join("out").display().to_string(),
        "destination=/queue/app1.data",
    );
    let mut args = s(&["--config", &example("stompclt-sender.conf"), "--no-loop"]);
    args.extend(["--incoming-queue".into(), q("out")]);
    ok("stompclt", &args);
    assert_eq!(test_support::queues::queue_count(&d.path().join("out")), 0);
    let mut args = s(&[
        "--config",
        &example("stompclt-receiver.conf"),
        "--timeout-inactivity",
        "3",
    ]);
    args.extend(["--outgoing-queue".into(), q("in")]);
    ok("stompclt", &args);
    assert!(test_support::queues::queue_count(&d.path().join("in")) >= 20);
    // amqpclt's receiver, after a command-line send to /queue/app2.data
    generate(
        &d.path().join("out2").display().to_string(),
        "destination=/queue/app2.data",
    );
    let mut args = s(&[
        "--outgoing-broker-uri",
        "amqp://127.0.0.1:5672",
        "--outgoing-broker-auth",
        "plain name=guest pass=guest",
        "--reliable",
        "--remove",
    ]);
    args.extend(["--incoming-queue".into(), q("out2")]);
    ok("amqpclt", &args);
    let mut args = s(&[
        "--config",
        &example("amqpclt-receiver.conf"),
        "--timeout-inactivity",
        "3",
        "--log",
        "stdout",
    ]);
    args.extend(["--outgoing-queue".into(), q("in2")]);
    ok("amqpclt", &args);
    assert!(test_support::queues::queue_count(&d.path().join("in2")) >= 20);
    // mqttclt's sender, into a persistent session drained on the command line
    let session = |extra: &[&str]| {
        let mut a = s(&[
            "--incoming-broker-uri",
            "mqtt://127.0.0.1:1883",
            "--reliable",
            "--subscribe",
            "topic=app5/data qos=1",
            "--incoming-broker-connect",
            "client-id=examples-app5",
        ]);
        a.extend(s(extra));
        a
    };
    ok(
        "mqttclt",
        &session(&["--duration", "1", "--outgoing-queue", "type=NULL"]),
    );
    generate(&d.path().join("out3").display().to_string(), "x-app=5");
    let mut args = s(&["--config", &example("mqttclt-sender.conf"), "--no-loop"]);
    args.extend(["--incoming-queue".into(), q("out3")]);
    ok("mqttclt", &args);
    assert_eq!(test_support::queues::queue_count(&d.path().join("out3")), 0);
    let mut args = session(&["--count", "20", "--timeout-inactivity", "10"]);
    args.extend(["--outgoing-queue".into(), q("in3")]);
    ok("mqttclt", &args);
    assert_eq!(test_support::queues::queue_count(&d.path().join("in3")), 20);
}

/// amsclt's sender, the service and its key overridden on the command line (the Pub/Sub
/// emulator, which takes any key), publishing to the example's topic.
#[test]
fn broker_the_amsclt_example_runs() {
    let d = test_support::queues::tmp();
    test_support::pubsub::ensure(test_support::pubsub::PROJECT, "metric_data", "metric_data");
    let spool = d.path().join("out");
    ok(
        "dirq",
        &s(&[
            "generate",
            "--path",
            &spool.display().to_string(),
            "--type",
            "dqs",
            "--count",
            "20",
            "--body-length",
            "10",
        ]),
    );
    let key = d.path().join("key");
    test_support::secret_file(&key, "a-key");
    let mut args = s(&["--config", &example("amsclt-sender.conf"), "--no-loop"]);
    args.extend([
        "--incoming-queue".into(),
        format!("path={}", spool.display()),
    ]);
    args.extend(["--outgoing-broker-uri".into(), test_support::pubsub::uri()]);
    args.extend(s(&[
        "--dialect",
        "pubsub",
        "--key-file",
        &key.display().to_string(),
    ]));
    ok("amsclt", &args);
    assert_eq!(test_support::queues::queue_count(&spool), 0);
    let mut got = 0;
    for _ in 0..20 {
        got += test_support::pubsub::pull_ack("metric_data").len();
        if got >= 20 {
            break;
        }
    }
    assert_eq!(got, 20);
}
