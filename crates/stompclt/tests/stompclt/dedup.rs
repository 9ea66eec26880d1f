//! `--dedup` (the shell's, for every agent) through stompclt: a spool sent twice is written
//! once, ids expire with the window, a message without an id passes counted, ids survive a
//! broker-to-broker shovel, a window that is not one stops the run in one line.

use super::*;

fn dedup_ids(msgs: &[Message]) -> std::collections::BTreeSet<String> {
    msgs.iter()
        .map(|m| m.header.get("dedup-id").cloned().expect("a dedup-id"))
        .collect()
}

#[test]
fn dedup_a_spool_sent_twice_is_written_once() {
    let d = tmp();
    let sent = mixed(100, "/q");
    fill(&d.path().join("in"), "DQS", &sent);
    let first = ok(&qq_args(
        d.path(),
        &["--reliable", "--dedup", "--statistics"],
    ));
    assert!(
        first.contains("dedup: 0 duplicates dropped, 0 messages without id"),
        "{first}"
    );
    // the same elements again (not removed): every one already written
    let again = ok(&qq_args(
        d.path(),
        &["--reliable", "--dedup", "--statistics", "--remove"],
    ));
    assert!(again.contains("dedup: 100 duplicates dropped"), "{again}");
    assert_eq!(
        queue_count(&d.path().join("in")),
        0,
        "duplicates acknowledged (removed)"
    );
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&sent, &got, "dedup"), 0);
    assert_eq!(dedup_ids(&got).len(), 100, "one stable id each");
    // the spool stays readable by anyone: the id is an ordinary header
    assert!(got.iter().all(|m| m.header["dedup-id"].len() == 32));
}

#[test]
fn dedup_an_id_older_than_the_window_is_accepted_again() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(10, "/q"));
    let args = qq_args(d.path(), &["--reliable", "--dedup", "--dedup-window", "1"]);
    ok(&args);
    std::thread::sleep(Duration::from_millis(2100));
    ok(&args);
    assert_eq!(
        queue_count(&d.path().join("out")),
        20,
        "written again after the window"
    );
}

#[test]
fn dedup_a_window_that_is_not_one_stops_the_run_in_one_line() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(5, "/q"));
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join(".dedup-window"), "msgtk-dedup 1\ngarbage here\n").expect("write");
    let line = one_line_error(&run(&qq_args(d.path(), &["--reliable", "--dedup"])), 7);
    assert!(
        line.contains(".dedup-window") && line.contains("line 2"),
        "{line}"
    );
    assert_eq!(queue_count(&d.path().join("in")), 5, "nothing taken");
    // a broker destination needs a place for its window
    let err = one_line_error(
        &run(&s(&[
            "--incoming-queue",
            &format!("path={}", p(&d.path().join("in"))),
            "--outgoing-broker-uri",
            "stomp://127.0.0.1:1",
            "--dedup",
        ])),
        2,
    );
    assert!(err.contains("needs --dedup-state DIR"), "{err}");
}

#[test]
fn broker_dedup_ids_survive_a_shovel_and_messages_without_one_pass_counted() {
    let b = &brokers()[0];
    let d = tmp();
    let (q1, q2) = (unique_destination("dedup-a"), unique_destination("dedup-b"));
    let sent = mixed(50, &q1);
    fill(&d.path().join("in"), "DQS", &sent);
    let root = std::fs::canonicalize(d.path().join("in")).expect("canonical");
    let host = procctl::host_identity();
    let expected: std::collections::BTreeSet<String> =
        MessageQueue::open_str(&format!("path={}", p(&root)))
            .expect("open")
            .names()
            .map(|n| {
                let n = n.expect("name");
                transfer::dedup::stable_id(&host, &format!("{}/{n}", root.display()))
            })
            .collect();
    assert_eq!(expected.len(), 50);
    // sent with ids, shovelled broker to broker with --dedup, received with --dedup
    let mut args = s(&[
        "--incoming-queue",
        &format!("path={}", p(&d.path().join("in"))),
    ]);
    args.extend(s(&[
        "--reliable",
        "--dedup",
        "--dedup-state",
        &p(&d.path().join("s1")),
    ]));
    args.extend(b.opts("outgoing"));
    ok(&args);
    let mut args = s(&[
        "--subscribe",
        &format!("destination={q1}"),
        "--reliable",
        "--dedup",
    ]);
    args.extend(s(&[
        "--dedup-state",
        &p(&d.path().join("s2")),
        "--timeout-inactivity",
        "2",
    ]));
    args.extend(s(&[
        "--header-set",
        &format!("destination={q2}"),
        "--strip-broker-headers",
    ]));
    args.extend(b.opts("incoming"));
    args.extend(b.opts("outgoing"));
    ok(&args);
    // and 10 more sent without --dedup: no id
    fill(&d.path().join("plain"), "DQS", &mixed(10, &q2));
    send_spool(b, &d.path().join("plain"));
    let mut args = s(&[
        "--subscribe",
        &format!("destination={q2}"),
        "--reliable",
        "--dedup",
    ]);
    args.extend(s(&[
        "--outgoing-queue",
        &format!("path={}", p(&d.path().join("out"))),
    ]));
    args.extend(s(&["--timeout-inactivity", "2", "--statistics"]));
    args.extend(b.opts("incoming"));
    let stats = ok(&args);
    assert!(stats.contains("10 messages without id"), "{stats}");
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 60);
    let with_id: Vec<Message> = got
        .into_iter()
        .filter(|m| m.header.contains_key("dedup-id"))
        .collect();
    assert_eq!(with_id.len(), 50);
    // the ids the first sender gave (its host, the spool, each element), kept by the shovel
    assert_eq!(
        dedup_ids(&with_id),
        expected,
        "the sender's ids, unchanged on the way"
    );
}
