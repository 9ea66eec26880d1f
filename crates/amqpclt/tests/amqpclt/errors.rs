//! Bad input: one-line errors, documented exit codes, nothing removed or accepted early.

use super::*;

#[test]
fn usage_errors() {
    // the shared rules, under amqpclt's name
    assert_eq!(run(&s(&["--bogus"])).status.code(), Some(2));
    let err = one_line_error(&run(&s(&["--outgoing-queue", "path=/tmp/x"])), 2);
    assert!(
        err.starts_with("amqpclt: option incoming-broker or incoming-queue"),
        "{err}"
    );
    // AMQP's own
    let cases = [
        (
            s(&[
                "--incoming-broker-uri",
                "stomp://h:1",
                "--subscribe",
                "destination=/q",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "unknown scheme (amqp, amqps, tcp)",
        ),
        (
            s(&[
                "--incoming-broker-uri",
                "amqp://h:1",
                "--subscribe",
                "selector=x",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "amqpclt takes destination=ADDRESS",
        ),
    ];
    test_support::bin::expect_errors(AMQPCLT, &cases);
    assert_eq!(run(&s(&["--help"])).status.code(), Some(1));
    let v = run(&s(&["--version"]));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("amqpclt "));
}

#[test]
fn broker_refusals_are_one_line_and_remove_nothing() {
    let rabbit = Broker::rabbitmq();
    let d = tmp();
    let inq = d.path().join("in");
    let dest = unique_destination("refused");
    fill(&inq, "DQS", &mixed(5, &dest));
    let send = |opts: Vec<String>| {
        let mut args = s(&["--reliable", "--remove"]);
        args.extend(["--incoming-queue".into(), format!("path={}", p(&inq))]);
        args.extend(opts);
        run(&args)
    };
    // wrong password: the broker refuses (4)
    let out = send(s(&[
        "--outgoing-broker-uri",
        &rabbit.uri,
        "--outgoing-broker-auth",
        "plain name=guest pass=wrong",
    ]));
    let err = one_line_error(&out, 4);
    assert!(err.contains("refused the credentials"), "{err}");
    // nobody listens (3)
    let out = send(s(&["--outgoing-broker-uri", "amqp://127.0.0.1:1"]));
    let err = one_line_error(&out, 3);
    assert!(err.contains("cannot connect to 127.0.0.1:1"), "{err}");
    // an address the broker refuses (4): RabbitMQ has no such exchange
    let bad = tmp();
    fill(
        &bad.path().join("in"),
        "DQS",
        &mixed(3, "/exchange/msgtk.no.such.exchange/key"),
    );
    let mut args = s(&["--reliable", "--remove"]);
    args.extend([
        "--incoming-queue".into(),
        format!("path={}", p(&bad.path().join("in"))),
    ]);
    args.extend(rabbit.opts("outgoing"));
    let out = run(&args);
    let err = one_line_error(&out, 4);
    assert!(
        err.contains("/exchange/msgtk.no.such.exchange/key"),
        "{err}"
    );
    assert_eq!(queue_count(&bad.path().join("in")), 3, "nothing removed");
    assert_eq!(queue_count(&inq), 5, "nothing removed");
    // a full queue refusing messages (reject-publish, tests/brokers/start-rabbitmq.sh): the
    // AMQP 1.0 plugin of RabbitMQ 3.10 ends the session instead of rejecting; a lost
    // connection (5), nothing removed
    let full = tmp();
    let fullq = full.path().join("in");
    fill(&fullq, "DQS", &mixed(3, &unique_destination("reject")));
    let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&fullq)));
    args.extend(rabbit.opts("outgoing"));
    let err = one_line_error(&run(&args), 5);
    assert!(err.contains("lost"), "{err}");
    assert_eq!(queue_count(&fullq), 3, "nothing removed");
}

#[test]
fn corrupt_elements_stop_with_exit_6_and_stay() {
    let d = tmp();
    let q = d.path().join("in");
    test_support::queues::add_corrupt(&q);
    let out = run(&[
        "--incoming-queue".into(),
        format!("path={}", p(&q)),
        "--outgoing-broker-uri".into(),
        "amqp://127.0.0.1:1".into(),
        "--lazy".into(),
        "--remove".into(),
    ]);
    one_line_error(&out, 6);
    assert_eq!(queue_count(&q), 1, "left in place");
}

/// The reference amqpclt's logging options: `--log file --logfile F` gets the warnings and
/// the final error, standard error only the error; `--log null` silences the warnings;
/// `--loglevel error` too.
#[test]
fn log_file_null_and_loglevel_as_the_reference_spells_them() {
    let d = tmp();
    let logfile = d.path().join("amqpclt.log");
    let base = |extra: &[&str]| {
        let mut args = s(&[
            "--incoming-broker-uri",
            "amqp://127.0.0.1:1",
            "--incoming-broker-sockopts",
            "Timeout=5",
            "--subscribe",
            "destination=/queue/x",
        ]);
        args.extend([
            "--outgoing-queue".into(),
            format!("path={}", p(&d.path().join("q"))),
        ]);
        args.extend(extra.iter().map(|x| x.to_string()));
        run(&args)
    };
    let out = base(&["--log", "file", "--logfile", &p(&logfile)]);
    let err = one_line_error(&out, 3);
    assert!(err.contains("cannot connect"), "{err}");
    let log = std::fs::read_to_string(&logfile).expect("log file");
    assert!(
        log.contains("warning: incoming-broker-sockopts: socket option Timeout"),
        "{log}"
    );
    assert!(
        log.contains("error: cannot connect to 127.0.0.1:1"),
        "{log}"
    );
    // standard error: the warning too by default, not with null or --loglevel error
    let out = base(&[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        2,
        "{out:?}"
    );
    for quiet in [&["--log", "null"][..], &["--loglevel", "error"][..]] {
        one_line_error(&base(quiet), 3);
    }
    let out = base(&["--log", "file"]);
    let err = one_line_error(&out, 2);
    assert!(err.contains("requires option logfile"), "{err}");
}

/// As with stompclt: an element without a destination is named, exit 6, and stays.
#[test]
fn broker_an_unsendable_element_is_named_and_stays() {
    let rabbit = Broker::rabbitmq();
    let d = tmp();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &[message::Message::text("no destination")]);
    let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&inq)));
    args.extend(rabbit.opts("outgoing"));
    let err = one_line_error(&run(&args), 6);
    assert!(
        err.contains("incoming queue element ") && err.contains("no destination header"),
        "{err}"
    );
    assert_eq!(queue_count(&inq), 1);
}

/// The outcomes no broker here can be made to give (RabbitMQ 3.10's AMQP 1.0 plugin crashes
/// the session on a negative publisher confirm instead of rejecting): python3-qpid-proton
/// as the peer, settling every delivery with the outcome asked for.
#[test]
fn compat_rejected_released_and_modified_deliveries_fail_the_run_and_remove_nothing() {
    use std::io::BufRead;
    for (outcome, code, msg) in [
        ("reject", 4, "the broker rejected a message to q1: "),
        (
            "release",
            4,
            "did not take a message to q1 after 3 attempts: released",
        ),
        (
            "modify",
            4,
            "did not take a message to q1 after 3 attempts: modified",
        ),
    ] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut peer = Command::new(python())
            .args([&peer_script(), "serve", &port.to_string(), outcome])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the proton peer");
        let mut line = String::new();
        std::io::BufReader::new(peer.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the peer's first line");
        assert_eq!(line.trim(), "listening");
        let d = tmp();
        let inq = d.path().join("in");
        fill(&inq, "DQS", &mixed(3, "q1"));
        let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
        args.push(format!("path={}", p(&inq)));
        args.extend([
            "--outgoing-broker-uri".into(),
            format!("amqp://127.0.0.1:{port}"),
        ]);
        let out = run(&args);
        let _ = peer.kill();
        let _ = peer.wait();
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or_default();
        assert_eq!(out.status.code(), Some(code), "{outcome}: {err}");
        assert!(
            last.starts_with("amqpclt: ") && last.contains(msg),
            "{outcome}: {err}"
        );
        assert_eq!(queue_count(&inq), 3, "{outcome}: nothing removed");
    }
}
