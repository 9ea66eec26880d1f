//! Queue to queue: conversion, bad elements, a full disk, count/loop/duration/lazy.

use super::*;

#[test]
fn queue_to_queue_converts_dqs_to_dqn() {
    let d = tmp();
    let sent = mixed(2000, "/queue/none");
    fill(&d.path().join("in"), "DQS", &sent);
    let stats = ok(&[
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
        "--outgoing-queue".into(),
        format!("path={} type=DQN", p(&d.path().join("out"))),
        "--remove".into(),
        "--statistics".into(),
    ]);
    assert!(stats.starts_with("processed 2000 messages in "), "{stats}");
    let got = drain(&d.path().join("out"), "DQN");
    assert_eq!(compare(&sent, &got, "DQS→DQN"), 0);
    assert_eq!(
        MessageQueue::open_str(&format!("path={}", p(&d.path().join("in"))))
            .expect("open")
            .dirq()
            .count()
            .expect("count"),
        0
    );
}

#[test]
fn empty_or_corrupt_elements_stop_with_exit_6_and_stay() {
    let d = tmp();
    let q = d.path().join("in");
    let lib = dirq::QueueSimple::new(&q).expect("open");
    lib.add(br#"{"header":{"destination":"/q"},"body":"fine"}"#)
        .expect("add");
    let empty = lib.add(b"").expect("add");
    let out = run(&[
        "--incoming-queue".into(),
        format!("path={}", p(&q)),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
        "--reliable".into(),
        "--remove".into(),
    ]);
    let err = one_line_error(&out, 6);
    assert!(
        err.contains(&empty) && err.contains("invalid JSON"),
        "{err}"
    );
    assert_eq!(
        lib.count().expect("count"),
        1,
        "the good one moved, the empty one stayed"
    );
    assert!(
        !lib.is_locked(&empty).expect("locked?"),
        "and it is unlocked"
    );
    let corrupt = lib
        .add(b"{\"body\":\"x\",\"encoding\":\"base64+rot13\"}")
        .expect("add");
    let out = run(&[
        "--incoming-queue".into(),
        format!("path={}", p(&q)),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains(&empty) || err.contains(&corrupt), "{err}");
}

#[test]
fn full_outgoing_queue_acks_nothing() {
    // A read-only outgoing queue stands in for a full disk (a tmpfs that fills is part 2).
    if is_root() {
        // root writes anyway; use a file where the queue's directory should be
        let d = tmp();
        let sent = mixed(10, "/q");
        fill(&d.path().join("in"), "DQS", &sent);
        std::fs::write(d.path().join("out"), b"").expect("blocker");
        let out = run(&[
            "--incoming-queue".into(),
            format!("path={}", p(&d.path().join("in"))),
            "--outgoing-queue".into(),
            format!("path={}", p(&d.path().join("out"))),
            "--reliable".into(),
            "--remove".into(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(7),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            drain(&d.path().join("in"), "DQS").len(),
            10,
            "nothing removed"
        );
    }
}

#[test]
fn count_loop_duration_and_lazy() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(50, "/q"));
    let out = ok(&qq_args(d.path(), &["--count", "10", "--remove", "-s"]));
    assert!(out.starts_with("processed 10 messages"), "{out}");
    assert_eq!(drain(&d.path().join("out"), "DQS").len(), 10);
    // without --remove the elements are only browsed: the queue keeps them
    let out = ok(&qq_args(d.path(), &["-s"]));
    assert!(out.starts_with("processed 40 messages"), "{out}");
    let out = ok(&qq_args(d.path(), &["-s", "--count", "1"]));
    assert_eq!(out, "processed only 1 message\n");
    // --loop on an empty queue runs until --duration
    let e = tmp();
    std::fs::create_dir_all(e.path().join("in")).expect("mkdir");
    let start = Instant::now();
    let out = ok(&qq_args(
        e.path(),
        &["--loop", "--duration", "1.5", "-s", "--lazy"],
    ));
    assert_eq!(out, "processed no messages\n");
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        start.elapsed()
    );
    assert!(
        !e.path().join("out").exists(),
        "--lazy: no message, no outgoing queue"
    );
    // --timeout-inactivity ends a --loop run that has nothing to do
    let start = Instant::now();
    ok(&qq_args(e.path(), &["--loop", "--timeout-inactivity", "1"]));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn root_full_outgoing_queue_loses_nothing_and_resumes() {
    let d = tmp();
    let fs = SmallFs::mount(&d.path().join("small"), "512k");
    let outq = fs.0.join("out");
    let sent: Vec<Message> = (0..300)
        .map(|i| {
            Message::binary(vec![b'x'; 4000])
                .with_header("destination", "/q")
                .with_header("x-index", i.to_string())
        })
        .collect();
    fill(&d.path().join("in"), "DQS", &sent);
    let args = vec![
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
        "--outgoing-queue".into(),
        format!("path={}", p(&outq)),
        "--reliable".into(),
        "--remove".into(),
    ];
    let mut received = Vec::new();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 20, "does not finish");
        let out = run(&args);
        if out.status.success() {
            break;
        }
        let err = one_line_error(&out, 7);
        assert!(err.contains("No space left on device"), "{err}");
        // a consumer frees the space, then the transfer resumes
        free_space(&outq, &mut received);
    }
    received.extend(drain(&outq, "DQS"));
    assert!(runs > 1, "the disk did fill up");
    assert_eq!(
        compare(&sent, &received, "full disk"),
        0,
        "nothing lost, nothing twice"
    );
}

/// `--loop` on an incoming queue waits on it (inotify) instead of scanning every second:
/// five messages added a second apart leave within a second all told (polling every second,
/// each would wait half a second on average, and the five less than a second all told with
/// a chance of 1 in 120; a loaded machine's pauses fit in that second).
#[test]
fn a_looping_queue_is_woken_by_an_add_not_by_a_timer() {
    let d = tmp();
    let (inq, outq) = (d.path().join("in"), d.path().join("out"));
    fill(&inq, "DQS", &mixed(1, "/q"));
    let mut child = stompclt()
        .args(qq_args(d.path(), &["--loop", "--remove"]))
        .spawn()
        .expect("spawn");
    let wait_for = |n: usize| {
        let t = Instant::now();
        while queue_count(&outq) < n && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        t.elapsed()
    };
    wait_for(1);
    let mut took = Vec::new();
    for i in 0..5 {
        std::thread::sleep(Duration::from_millis(1100));
        fill(&inq, "DQS", &mixed(1, "/q"));
        took.push(wait_for(i + 2));
    }
    assert_eq!(queue_count(&outq), 6, "every message left");
    let total: Duration = took.iter().sum();
    assert!(
        total < Duration::from_secs(1),
        "the messages left after {took:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
