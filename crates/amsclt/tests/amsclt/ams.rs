//! The AMS dialect, against test-support's server of it (`test_support::ams`): no AMS can be
//! installed here (it needs Kafka and MongoDB) and Google's emulator speaks Pub/Sub, so this
//! is the one place a server of the tests' own stands in. It refuses what a client of the
//! dialect must not send (numbers for string fields, a request without the key) and keeps
//! AMS's delivery by offset with cumulative acknowledgements.

use super::*;
use test_support::ams::{FakeAms, KEY};

fn key_file(d: &Path, key: &str) -> String {
    let path = d.join("key");
    test_support::secret_file(&path, key);
    p(&path)
}

/// `n` small text messages for "metrics" and, at `at`, one of 2 MiB (over the server's
/// request limit).
fn smalls_and_a_big(n: usize, at: usize) -> Vec<Message> {
    let mut sent: Vec<Message> = (0..n)
        .map(|i| Message::text(format!("small {i}")).with_header("destination", "metrics"))
        .collect();
    sent.insert(
        at,
        Message::binary(vec![7u8; 2 * 1024 * 1024]).with_header("destination", "metrics"),
    );
    sent
}

fn send(ams: &FakeAms, inq: &Path, key: &str) -> Output {
    let mut args = s(&[
        "--outgoing-broker-uri",
        &ams.uri(),
        "--dialect",
        "ams",
        "--reliable",
    ]);
    args.extend(s(&["--remove", "--key-file", key]));
    args.extend(["--incoming-queue".into(), format!("path={}", p(inq))]);
    run(&args)
}

fn receive_ams(ams: &FakeAms, sub: &str, outq: &Path, key: &str, count: usize) -> String {
    let mut args = s(&[
        "--incoming-broker-uri",
        &ams.uri(),
        "--dialect",
        "ams",
        "--reliable",
    ]);
    args.extend(s(&[
        "--key-file",
        key,
        "--subscribe",
        &format!("destination={sub}"),
    ]));
    args.extend(["--outgoing-queue".into(), format!("path={}", p(outq))]);
    args.extend(s(&[
        "--count",
        &count.to_string(),
        "--timeout-inactivity",
        "5",
    ]));
    ok(&args)
}

#[test]
fn the_ams_dialect_round_trip_with_its_key_string_fields_and_offsets() {
    let ams = FakeAms::start();
    ams.topic("metrics");
    let d = tmp();
    let key = key_file(d.path(), KEY);
    let sent = mixed(1000, "metrics")
        .into_iter()
        .filter(|m| m.body.as_bytes().len() < 100_000)
        .collect::<Vec<_>>();
    fill(&d.path().join("in"), "DQS", &sent);
    let out = send(&ams, &d.path().join("in"), &key);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ams.published("metrics").len(), sent.len());
    // 150 of them: two pulls of 100, the second acknowledged up to its 50th only
    receive_ams(&ams, "metrics", &d.path().join("out"), &key, 150);
    assert_eq!(queue_count(&d.path().join("out")), 150);
    assert_eq!(
        ams.acknowledged("metrics"),
        150,
        "cumulative, up to what is on disk"
    );
    // the rest of that batch comes back on the next pull: nothing lost
    receive_ams(
        &ams,
        "metrics",
        &d.path().join("out"),
        &key,
        sent.len() - 150,
    );
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&as_received(&sent, "metrics"), &got, "ams"), 0);
    assert_eq!(ams.acknowledged("metrics"), sent.len());
    assert!(ams.refused().is_empty(), "{:?}", ams.refused());
}

#[test]
fn a_wrong_key_is_refused_and_nothing_is_removed() {
    let ams = FakeAms::start();
    ams.topic("metrics");
    let d = tmp();
    let key = key_file(d.path(), "not-the-key");
    fill(&d.path().join("in"), "DQS", &mixed(5, "metrics"));
    let err = one_line_error(&send(&ams, &d.path().join("in"), &key), 4);
    assert!(err.contains("HTTP 401"), "{err}");
    assert_eq!(queue_count(&d.path().join("in")), 5);
}

/// A request over the service's limit (413) is split until the message it refuses stands
/// alone: that one is named (exit 6) and stays, the others are published once.
#[test]
fn a_message_over_the_limit_is_found_named_and_kept() {
    let ams = FakeAms::start();
    ams.topic("metrics");
    let d = tmp();
    let key = key_file(d.path(), KEY);
    let sent = smalls_and_a_big(9, 4);
    fill(&d.path().join("in"), "DQS", &sent);
    let err = one_line_error(&send(&ams, &d.path().join("in"), &key), 6);
    assert!(
        err.contains("HTTP 413") && err.contains("incoming queue element"),
        "{err}"
    );
    let left = drain(&d.path().join("in"), "DQS");
    let published = ams.published("metrics");
    assert_eq!(
        left.len() + published.len(),
        sent.len(),
        "each message once"
    );
    assert!(
        left.iter()
            .any(|m| m.body.as_bytes().len() == 2 * 1024 * 1024),
        "the big one stays"
    );
}

#[test]
fn a_late_acknowledgement_means_duplicates_counted_never_a_loss() {
    let ams = FakeAms::start();
    ams.topic("late");
    let d = tmp();
    let key = key_file(d.path(), KEY);
    let sent: Vec<Message> = (0..300)
        .map(|i| {
            Message::text(format!("late {i}"))
                .with_header("destination", "late")
                .with_header("x-index", i.to_string())
        })
        .collect();
    fill(&d.path().join("in"), "DQS", &sent);
    assert!(send(&ams, &d.path().join("in"), &key).status.success());
    // the first two acknowledgements come after the deadline: 408, the batch comes back
    ams.late_acks(2);
    let mut args = s(&[
        "--incoming-broker-uri",
        &ams.uri(),
        "--dialect",
        "ams",
        "--reliable",
        "--reconnect",
        "--statistics",
        "--timeout-inactivity",
        "2",
        "--key-file",
        &key,
        "--subscribe",
        "destination=late",
    ]);
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    let stats = ok(&args);
    let got = drain(&d.path().join("out"), "DQS");
    let dups = compare(&as_received(&sent, "late"), &got, "late acks");
    let counted = test_support::bin::number_after(&stats, "sent again, ");
    assert!(
        dups > 0,
        "a late acknowledgement brings its batch back: {stats}"
    );
    assert!(
        dups <= counted,
        "{dups} duplicates, {counted} counted as possible: {stats}"
    );
    assert_eq!(ams.acknowledged("late"), 300, "all acknowledged in the end");
}

#[test]
fn with_a_reject_queue_a_refused_message_is_set_aside_and_the_rest_goes() {
    let ams = FakeAms::start();
    ams.topic("metrics");
    let d = tmp();
    let key = key_file(d.path(), KEY);
    // the big one refused by the service in its batch (413), found by splitting it
    let sent = smalls_and_a_big(30, 12);
    fill(&d.path().join("in"), "DQS", &sent);
    let rejects = d.path().join("rejects");
    let mut args = s(&[
        "--outgoing-broker-uri",
        &ams.uri(),
        "--dialect",
        "ams",
        "--reliable",
        "--remove",
        "--statistics",
        "--key-file",
        &key,
    ]);
    args.extend([
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
    ]);
    args.extend(["--reject-queue".into(), format!("path={}", p(&rejects))]);
    let stats = ok(&args);
    assert!(
        stats.contains("1 messages refused by the destination, in the reject queue"),
        "{stats}"
    );
    assert_eq!(queue_count(&d.path().join("in")), 0, "the spool drained");
    assert_eq!(ams.published("metrics").len(), 30, "the rest published");
    let rejected = drain(&rejects, "DQS");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].body.as_bytes().len(), 2 * 1024 * 1024);
    assert!(
        rejected[0].header["reject-reason"].contains("HTTP 413"),
        "{:?}",
        rejected[0].header
    );
}
