//! Bad input: one-line errors with the documented exit codes, nothing removed.

use super::*;

#[test]
fn usage_errors() {
    let d = tmp();
    let key = d.path().join("empty-key");
    test_support::secret_file(&key, "");
    let q = |extra: &[&str]| {
        let mut v = s(&["--incoming-queue", "path=/tmp/x"]);
        v.extend(s(&["--outgoing-broker-uri", "http://h:1/v1/projects/p"]));
        v.extend(s(extra));
        v
    };
    let sub = |uri: &str, extra: &[&str]| {
        let mut v = s(&[
            "--incoming-broker-uri",
            uri,
            "--outgoing-queue",
            "path=/tmp/x",
        ]);
        v.extend(s(extra));
        v
    };
    let cases = [
        (q(&["--topic", "a/b"]), "invalid topic"),
        (q(&["--topic", ""]), "empty topic"),
        (q(&["--timeout-request", "0"]), "invalid timeout-request"),
        (
            q(&["--key-file", "/no/such/key"]),
            "invalid key-file /no/such/key",
        ),
        (q(&["--key-file", &p(&key)]), "holds no key"),
        (
            sub(
                "http://h:1/v1/projects/p",
                &["--subscribe", "destination=a*"],
            ),
            "invalid subscribe",
        ),
        (
            sub("http://h:1/v1/projects/p", &["--subscribe", "queue=a"]),
            "unexpected \"queue\"",
        ),
        (
            sub("http://h:1/v1/projects/p", &[]),
            "subscribe is required",
        ),
        (
            sub("http://h:1/v1", &["--subscribe", "destination=a"]),
            "needs the path /v1/projects/PROJECT",
        ),
        (
            sub("ftp://h:1/v1/projects/p", &["--subscribe", "destination=a"]),
            "ftp",
        ),
    ];
    // clap's own refusal: its first line, the usage after it
    let out = run(&q(&["--dialect", "kafka"]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("amsclt: invalid value 'kafka'"), "{err}");
    for (args, want) in cases {
        let out = run(&args);
        let err = one_line_error(&out, 2);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.starts_with("amsclt: "), "{err}");
    }
}

/// A port nobody listens on: exit 3, the spool as it was.
#[test]
fn a_refused_port_is_a_connection_error_and_nothing_is_removed() {
    let d = tmp();
    let sent = mixed(3, "t");
    fill(&d.path().join("in"), "DQS", &sent);
    let mut args = s(&[
        "--incoming-queue",
        &format!("path={}", p(&d.path().join("in"))),
    ]);
    args.extend(s(&[
        "--outgoing-broker-uri",
        "http://127.0.0.1:1/v1/projects/p",
        "--remove",
    ]));
    let err = one_line_error(&run(&args), 3);
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert_eq!(queue_count(&d.path().join("in")), 3);
}

/// A topic the service does not have: exit 4 (the service refused), nothing removed.
#[test]
fn broker_an_unknown_topic_is_refused_and_nothing_is_removed() {
    let d = tmp();
    let sent = mixed(5, "no-such-topic-of-msgtk");
    fill(&d.path().join("in"), "DQS", &sent);
    let args = send_args(&d.path().join("in"));
    let err = one_line_error(&run(&args), 4);
    assert!(
        err.contains("no-such-topic-of-msgtk") && err.contains("404"),
        "{err}"
    );
    assert_eq!(queue_count(&d.path().join("in")), 5, "nothing removed");
}

/// A message whose destination is no topic name: named, exit 6, left in place; the good one
/// before it published once or kept, never both.
#[test]
fn broker_a_message_with_a_bad_destination_is_named_and_stays() {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("bad-dest", 60);
    let sent = vec![
        Message::text("fine").with_header("destination", &topic),
        Message::text("bad").with_header("destination", "a/b"),
    ];
    fill(&d.path().join("in"), "DQS", &sent);
    let args = send_args(&d.path().join("in"));
    let err = one_line_error(&run(&args), 6);
    assert!(
        err.contains("incoming queue element") && err.contains("\"a/b\""),
        "{err}"
    );
    // the good one was published and removed, or (still in the batch when the bad one came)
    // neither: never published and kept
    let left = drain(&d.path().join("in"), "DQS");
    let published = pubsub::pull_ack(&sub);
    assert_eq!(
        left.len() + published.len(),
        2,
        "each message once: {left:?} {published:?}"
    );
    assert!(
        left.iter().any(|m| m.body.as_bytes() == b"bad"),
        "the bad one stays"
    );
}

/// A message larger than the services' request limit (the emulator would not even answer):
/// refused before sending, named, exit 6, left in place.
#[test]
fn broker_a_message_over_the_size_limit_is_named_and_stays() {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("too-big", 60);
    let sent = vec![Message::binary(vec![1u8; 8_000_000]).with_header("destination", &topic)];
    fill(&d.path().join("in"), "DQS", &sent);
    let args = send_args(&d.path().join("in"));
    let err = one_line_error(&run(&args), 6);
    assert!(
        err.contains("incoming queue element") && err.contains("request limit"),
        "{err}"
    );
    assert_eq!(queue_count(&d.path().join("in")), 1, "nothing removed");
    assert!(pubsub::pull_ack(&sub).is_empty(), "nothing published");
}

#[test]
fn broker_with_a_reject_queue_a_message_over_the_limit_is_set_aside() {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("too-big-rejected", 60);
    let sent = vec![
        Message::text("before").with_header("destination", &topic),
        Message::binary(vec![1u8; 8_000_000]).with_header("destination", &topic),
        Message::text("after").with_header("destination", &topic),
    ];
    fill(&d.path().join("in"), "DQS", &sent);
    let rejects = d.path().join("rejects");
    let mut args = send_args(&d.path().join("in"));
    args.extend(["--reject-queue".into(), format!("path={}", p(&rejects))]);
    ok(&args);
    assert_eq!(queue_count(&d.path().join("in")), 0, "the spool drained");
    let rejected = drain(&rejects, "DQS");
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].header["reject-reason"].contains("request limit"));
    let mut published = Vec::new();
    for _ in 0..20 {
        published.extend(pubsub::pull_ack(&sub));
        if published.len() >= 2 {
            break;
        }
    }
    assert_eq!(published.len(), 2, "the others published");
}

/// A hostile service announcing an answer of 100 GiB: refused at once, before it is read, and
/// nothing removed from the spool.
#[test]
fn an_answer_announced_too_large_is_refused() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = c.read(&mut buf);
            let _ = c.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 107374182400\r\n\r\n{\"messageIds\":[",
            );
            std::thread::sleep(std::time::Duration::from_secs(10));
        }
    });
    let d = tmp();
    let inq = d.path().join("in");
    fill(
        &inq,
        "DQS",
        &[Message::text("m").with_header("destination", "metrics")],
    );
    let mut args = s(&["--incoming-queue", &format!("path={}", p(&inq)), "--remove"]);
    args.extend(s(&[
        "--outgoing-broker-uri",
        &format!("http://127.0.0.1:{port}/v1/projects/p"),
        "--reliable",
    ]));
    let t = std::time::Instant::now();
    let out = run(&args);
    let err = one_line_error(&out, 5);
    assert!(err.contains("answered more than 256 MiB"), "{err}");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(queue_count(&inq), 1, "nothing removed");
}
