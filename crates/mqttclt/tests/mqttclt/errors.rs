//! Bad input: one-line errors with the documented exit codes, nothing removed.

use super::*;

#[test]
fn usage_errors() {
    let q = |extra: &[&str]| {
        let mut v = s(&[
            "--incoming-queue",
            "path=/tmp/x",
            "--outgoing-broker-uri",
            "mqtt://h:1",
        ]);
        v.extend(s(extra));
        v
    };
    let sub = |extra: &[&str]| {
        let mut v = s(&[
            "--incoming-broker-uri",
            "mqtt://h:1",
            "--outgoing-queue",
            "path=/tmp/x",
        ]);
        v.extend(s(extra));
        v
    };
    let cases = [
        (q(&["--qos", "2"]), 2, "QoS 2 is not supported"),
        (q(&["--qos", "3"]), 2, "invalid value '3'"),
        (q(&["--topic", "a/#"]), 2, "wildcard"),
        (
            q(&["--outgoing-broker-connect", "version=4.0"]),
            2,
            "version=\"4.0\"",
        ),
        (
            q(&["--outgoing-broker-connect", "bogus=1"]),
            2,
            "unexpected \"bogus\"",
        ),
        (q(&["--will", "topic=a/+"]), 2, "invalid will"),
        (
            sub(&["--subscribe", "topic=a/#", "--reliable"]),
            2,
            "--reliable needs a stable client id",
        ),
        (
            sub(&[
                "--subscribe",
                "topic=a/#",
                "--reliable",
                "--incoming-broker-connect",
                "client-id=x session-expiry=0",
            ]),
            2,
            "session-expiry > 0",
        ),
        (
            sub(&[
                "--subscribe",
                "topic=a/# qos=0",
                "--reliable",
                "--incoming-broker-connect",
                "client-id=x",
            ]),
            2,
            "--reliable needs qos=1",
        ),
        (
            sub(&["--subscribe", "topic=a qos=2"]),
            2,
            "QoS 2 is not supported",
        ),
        (
            sub(&["--subscribe", "destination=a"]),
            2,
            "mqttclt takes topic=FILTER",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/tmp/x",
                "--outgoing-broker-uri",
                "mqtt://h:1/vhost",
            ]),
            2,
            "an MQTT URI has no path",
        ),
    ];
    test_support::bin::expect_errors(MQTTCLT, &cases);
}

#[test]
fn broker_refusals_and_unsendable_messages_are_one_line_and_remove_nothing() {
    let d = tmp();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &mixed(5, &topic("refused")));
    let send = |opts: &[&str]| {
        let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
        args.push(format!("path={}", p(&inq)));
        args.extend(s(opts));
        run(&args)
    };
    // wrong password: the broker refuses (4)
    let out = send(&[
        "--outgoing-broker-uri",
        &uri(),
        "--outgoing-broker-auth",
        "plain name=guest pass=wrong",
    ]);
    let err = one_line_error(&out, 4);
    assert!(err.contains("refused the connection"), "{err}");
    // the right one works for 3.1.1 too
    let mut ok_args = s(&["--reliable", "--incoming-queue"]);
    ok_args.push(format!("path={}", p(&inq)));
    ok_args.extend(s(&[
        "--outgoing-broker-uri",
        &uri(),
        "--outgoing-broker-auth",
        "plain name=guest pass=guest",
        "--outgoing-broker-connect",
        "version=3.1.1",
        "--payload",
        "json",
    ]));
    ok(&ok_args);
    // nobody listens (3)
    let out = send(&["--outgoing-broker-uri", "mqtt://127.0.0.1:1"]);
    let err = one_line_error(&out, 3);
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert_eq!(queue_count(&inq), 5, "nothing removed");
    // a topic with a wildcard, a header MQTT cannot carry: the element is named, exit 6
    for (m, what) in [
        (
            message::Message::text("x").with_header("destination", "a/+/b"),
            "wildcard",
        ),
        (
            message::Message::text("x")
                .with_header("destination", "a/b")
                .with_header("x-nul", "a\0b"),
            "NUL",
        ),
    ] {
        let bad = tmp();
        fill(&bad.path().join("in"), "DQS", &[m]);
        let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
        args.push(format!("path={}", p(&bad.path().join("in"))));
        args.extend(["--outgoing-broker-uri".into(), uri()]);
        let err = one_line_error(&run(&args), 6);
        assert!(
            err.contains(what) && err.contains(&p(&bad.path().join("in"))),
            "{err}"
        );
        assert_eq!(queue_count(&bad.path().join("in")), 1, "nothing removed");
    }
}
