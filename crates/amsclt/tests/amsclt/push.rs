//! The push endpoint: the emulator POSTs each message of a push subscription to amsclt,
//! which answers 2xx once the message is in the spool; a run that stops leaves the rest to
//! the service's retries, which the next run takes.

use super::*;

#[test]
fn broker_pushed_messages_reach_the_spool_and_what_a_stopped_run_left_comes_back() {
    let d = tmp();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port();
    let (topic, _) = pubsub::topic_and_subscription("push", 60);
    let sub = format!("p-{topic}");
    let body = format!(
        "{{\"topic\":\"projects/{}/topics/{topic}\",\"pushConfig\":{{\"pushEndpoint\":\"http://127.0.0.1:{port}/push\"}}}}",
        pubsub::PROJECT
    );
    let (status, text) = pubsub::request("PUT", &format!("subscriptions/{sub}"), &body);
    assert_eq!(status, 200, "{text}");
    let sent = mixed(1000, &topic)
        .into_iter()
        .filter(|m| m.body.as_bytes().len() < 100_000)
        .collect::<Vec<_>>();
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(&d.path().join("in"), &[]);
    let out = d.path().join("out");
    let listen = |extra: &[&str]| {
        let mut args = s(&["--incoming-push-listen", &port.to_string(), "--reliable"]);
        args.extend(["--outgoing-queue".into(), format!("path={}", p(&out))]);
        args.extend(s(extra));
        ok(&args)
    };
    // a first run takes some and stops: what it had not confirmed is answered 503
    listen(&["--count", "300"]);
    assert!(queue_count(&out) >= 300);
    // the service delivers the rest again to the next run
    listen(&["--timeout-inactivity", "5"]);
    let got = drain(&out, "DQS");
    let dups = compare(&as_received(&sent, &sub), &got, "push");
    assert!(dups < 100, "{dups} duplicates");
}

#[test]
fn push_options_are_checked() {
    let q = |extra: &[&str]| {
        let mut v = s(&["--outgoing-queue", "path=/tmp/x"]);
        v.extend(s(extra));
        v
    };
    for (args, want) in [
        (
            q(&["--incoming-push-listen", "nonsense"]),
            "invalid incoming-push-listen",
        ),
        (
            q(&[
                "--incoming-push-listen",
                "8080",
                "--subscribe",
                "destination=a",
            ]),
            "mutually exclusive",
        ),
        (
            q(&[
                "--incoming-push-listen",
                "8080",
                "--incoming-queue",
                "path=/tmp/y",
            ]),
            "excludes options incoming-broker-uri and incoming-queue",
        ),
    ] {
        let err = one_line_error(&run(&args), 2);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
