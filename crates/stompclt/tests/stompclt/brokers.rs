//! Against RabbitMQ and ActiveMQ: every mode, shovel, competing consumers, three agents on one spool, refusals, failover, unsubscribe, a full disk, a silent broker.

use super::*;

#[test]
fn broker_every_mode_moves_10000_mixed_messages() {
    let bs = brokers();
    for b in &bs {
        let d = tmp();
        let dest = unique_destination(&b.name);
        let sent = mixed(10_000, &dest);
        fill(&d.path().join("in"), "DQS", &sent);
        // queue → broker
        let mut args = vec![
            "--incoming-queue".into(),
            format!("path={}", p(&d.path().join("in"))),
            "--reliable".into(),
            "--window".into(),
            "500".into(),
            "--remove".into(),
            "-s".into(),
        ];
        args.extend(b.opts("outgoing"));
        let stats = ok(&args);
        assert!(stats.starts_with("processed 10000 messages"), "{stats}");
        // broker → queue
        let mut args = vec![
            "--subscribe".into(),
            format!("destination={dest}"),
            "--outgoing-queue".into(),
            format!("path={} type=DQN", p(&d.path().join("out"))),
            "--reliable".into(),
            "--count".into(),
            "10000".into(),
            "--timeout-inactivity".into(),
            "20".into(),
        ];
        args.extend(b.opts("incoming"));
        ok(&args);
        let got = drain(&d.path().join("out"), "DQN");
        assert_eq!(
            compare(&sent, &got, &b.name),
            0,
            "{}: no duplicates without faults",
            b.name
        );
        assert_eq!(got.len(), 10_000);
    }
}

#[test]
fn broker_to_broker_shovel() {
    let bs = brokers();
    assert!(bs.len() >= 2, "needs two brokers");
    let (a, b) = (&bs[0], &bs[1]);
    let d = tmp();
    let dest = unique_destination("shovel");
    let sent = mixed(2000, &dest);
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(a, &d.path().join("in"));
    // a → b, same destination name on both
    let mut args = vec![
        "--subscribe".into(),
        format!("destination={dest}"),
        "--reliable".into(),
        "--count".into(),
        "2000".into(),
        "--timeout-inactivity".into(),
        "20".into(),
        "-s".into(),
    ];
    args.extend(a.opts("incoming"));
    args.extend(b.opts("outgoing"));
    let stats = ok(&args);
    assert!(stats.starts_with("processed 2000 messages"), "{stats}");
    let mut args = vec![
        "--subscribe".into(),
        format!("destination={dest}"),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
        "--reliable".into(),
        "--count".into(),
        "2000".into(),
        "--timeout-inactivity".into(),
        "20".into(),
    ];
    args.extend(b.opts("incoming"));
    ok(&args);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&sent, &got, &format!("{} → {}", a.name, b.name)), 0);
}

#[test]
fn broker_competing_consumers_share_one_queue() {
    for b in &brokers() {
        let d = tmp();
        let dest = unique_destination(&format!("compete-{}", b.name));
        let sent = mixed(4000, &dest);
        fill(&d.path().join("in"), "DQS", &sent);
        send_spool(b, &d.path().join("in"));
        let outq = d.path().join("out");
        let children: Vec<_> = (0..2)
            .map(|_| {
                let mut cmd = stompclt();
                cmd.args([
                    "--subscribe".into(),
                    format!("destination={dest}"),
                    "--outgoing-queue".into(),
                    format!("path={}", p(&outq)),
                    "--reliable".into(),
                    "--prefetch".into(),
                    "50".into(),
                    "--timeout-inactivity".into(),
                    "4".into(),
                    "-s".into(),
                ]);
                cmd.args(b.opts("incoming"));
                cmd.stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let mut counts = Vec::new();
        for c in children {
            let out = c.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            counts.push(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
        }
        let got = drain(&outq, "DQS");
        assert_eq!(
            compare(&sent, &got, &format!("{} competing", b.name)),
            0,
            "{counts:?}"
        );
        assert_eq!(got.len(), 4000);
    }
}

#[test]
fn broker_bad_credentials_error_frames_and_refused_ports() {
    for b in &brokers() {
        let d = tmp();
        let out = run(&[
            "--incoming-broker-uri".into(),
            b.uri.clone(),
            "--incoming-broker-auth".into(),
            "plain name=guest pass=wrong".into(),
            "--incoming-broker-connect".into(),
            "host=/".into(),
            "--subscribe".into(),
            "destination=/queue/x".into(),
            "--outgoing-queue".into(),
            format!("path={}", p(d.path())),
        ]);
        let err = one_line_error(&out, 4);
        assert!(
            err.starts_with("stompclt: unexpected ERROR frame received from "),
            "{}: {err}",
            b.name
        );
    }
    let (code, err) = subscribe_fails("stomp://127.0.0.1:1", &[]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(
        err.trim(),
        "stompclt: cannot connect to 127.0.0.1:1: Connection refused (os error 111)"
    );
    // a SEND the broker refuses: nothing is removed from the queue
    let b = &brokers()[0];
    let d = tmp();
    let mut bad = mixed(3, "/nowhere/x");
    for m in &mut bad {
        m.header
            .insert("destination".into(), "/bogus-prefix/x".into());
    }
    fill(&d.path().join("in"), "DQS", &bad);
    let mut args = vec![
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
        "--reliable".into(),
        "--remove".into(),
    ];
    args.extend(b.opts("outgoing"));
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    if b.name == "rabbitmq" {
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(err.contains("ERROR frame"), "{err}");
        assert_eq!(
            drain(&d.path().join("in"), "DQS").len(),
            3,
            "nothing removed before a receipt"
        );
    }
}

#[test]
fn broker_failover_skips_dead_servers() {
    for b in &brokers() {
        let d = tmp();
        let dest = unique_destination("failover");
        let sent = mixed(100, &dest);
        fill(&d.path().join("in"), "DQS", &sent);
        let addr = b.uri.trim_start_matches("stomp://");
        let mut args = vec![
            "--incoming-queue".into(),
            format!("path={}", p(&d.path().join("in"))),
            "--reliable".into(),
            "--remove".into(),
        ];
        let mut o = b.opts("outgoing");
        o[1] = format!(
            "failover:(tcp://127.0.0.1:1,tcp://{addr})?randomize=false&initialReconnectDelay=50"
        );
        args.extend(o);
        ok(&args);
        let mut args = vec![
            "--subscribe".into(),
            format!("destination={dest}"),
            "--outgoing-queue".into(),
            format!("path={}", p(&d.path().join("out"))),
            "--reliable".into(),
            "--count".into(),
            "100".into(),
        ];
        let mut i = b.opts("incoming");
        i[1] = format!("failover:tcp://127.0.0.1:1,tcp://{addr}");
        args.extend(i);
        ok(&args);
        assert_eq!(
            compare(&sent, &drain(&d.path().join("out"), "DQS"), "failover"),
            0
        );
    }
    // nobody there: gives up after maxReconnectAttempts
    let start = Instant::now();
    let (code, err) = subscribe_fails(
        "failover:(tcp://127.0.0.1:1,tcp://127.0.0.1:2)?maxReconnectAttempts=3&initialReconnectDelay=10",
        &[],
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("after 4 failover attempts"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn broker_unsubscribe_broker_type_and_stomp_debug() {
    for b in &brokers() {
        let d = tmp();
        let dest = unique_destination("unsub");
        let sent = mixed(5, &dest);
        fill(&d.path().join("in"), "DQS", &sent);
        send_spool(b, &d.path().join("in"));
        let (ty, prefetch_header) = if b.name == "rabbitmq" {
            ("RabbitMQ", "prefetch-count=")
        } else {
            ("ActiveMQ", "activemq.prefetchSize=")
        };
        let mut args = b.opts("incoming");
        args.extend(s(&[
            "--incoming-broker-type",
            ty,
            "--incoming-broker-stomp-debug",
            "command,header",
            "--subscribe",
            &format!("destination={dest}"),
            "--unsubscribe",
            "",
            "--prefetch",
            "3",
            "--reliable",
            "--count",
            "5",
            "--outgoing-queue",
            &format!("path={}", p(&d.path().join("out"))),
        ]));
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {err}", b.name);
        // -stomp-debug traces each frame: the SUBSCRIBE with the forced type's prefetch
        // header, and the UNSUBSCRIBE of the same id at the end
        let sub = err
            .lines()
            .find(|l| l.contains(" SUBSCRIBE "))
            .unwrap_or_else(|| panic!("{}: no SUBSCRIBE traced: {err}", b.name));
        assert!(sub.contains(&format!("{prefetch_header}3")), "{sub}");
        let id = sub
            .split_whitespace()
            .find_map(|w| w.strip_prefix("id="))
            .expect("subscription id");
        assert!(
            err.lines()
                .any(|l| l.contains(" UNSUBSCRIBE ") && l.contains(&format!("id={id}"))),
            "{}: no UNSUBSCRIBE of {id}: {err}",
            b.name
        );
        assert!(
            !err.contains("pass=guest") && !err.contains("passcode=guest"),
            "{err}"
        );
        assert_eq!(
            compare(&sent, &drain(&d.path().join("out"), "DQS"), "unsub"),
            0
        );
    }
    let (code, err) = subscribe_fails("stomp://127.0.0.1:1", &["--incoming-broker-type", "Kafka"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("invalid incoming-broker-type"), "{err}");
}

#[test]
fn root_broker_full_outgoing_queue_acks_nothing_early() {
    let b = &brokers()[0];
    let d = tmp();
    let fs = SmallFs::mount(&d.path().join("small"), "512k");
    let outq = fs.0.join("out");
    let dest = unique_destination("full");
    let sent: Vec<Message> = (0..300)
        .map(|i| {
            Message::binary(vec![b'x'; 4000])
                .with_header("destination", &dest)
                .with_header("x-index", i.to_string())
        })
        .collect();
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(b, &d.path().join("in"));
    let mut args = vec![
        "--subscribe".into(),
        format!("destination={dest}"),
        "--outgoing-queue".into(),
        format!("path={}", p(&outq)),
        "--reliable".into(),
        "--prefetch".into(),
        "20".into(),
        "--timeout-inactivity".into(),
        "3".into(),
    ];
    args.extend(b.opts("incoming"));
    let mut received = Vec::new();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 20, "does not finish");
        let out = run(&args);
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(7), "{err}");
        free_space(&outq, &mut received);
    }
    received.extend(drain(&outq, "DQS"));
    assert!(runs > 1, "the disk did fill up");
    let dups = compare(&sent, &received, "broker → full disk");
    eprintln!("full disk: {runs} runs, {dups} duplicates");
}

#[test]
fn broker_silent_broker_is_detected_by_heart_beats() {
    for b in &brokers() {
        let proxy = SilencingProxy::start(b.uri.trim_start_matches("stomp://"));
        let d = tmp();
        let mut cmd = stompclt();
        let mut i = b.opts("incoming");
        i[1] = format!("stomp://127.0.0.1:{}", proxy.port);
        cmd.args(i).args([
            "--subscribe".into(),
            format!("destination={}", unique_destination("silent")),
            "--outgoing-queue".into(),
            format!("path={}", p(d.path())),
            "--heart-beat".into(),
            "--timeout-client".into(),
            "1".into(),
            "--timeout-server".into(),
            "1".into(),
        ]);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_secs(3));
        proxy.silent.store(true, Ordering::Relaxed);
        let start = Instant::now();
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{err}");
        assert!(err.contains("silent"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "noticed in {:?}",
            start.elapsed()
        );
    }
}

/// A spool element whose message cannot be sent (no destination) stops the run with one
/// line naming the element, the incoming-queue status (6), and stays in the spool.
#[test]
fn broker_an_unsendable_element_is_named_and_stays() {
    let b = &brokers()[0];
    let d = tmp();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &[Message::text("no destination")]);
    let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&inq)));
    args.extend(b.opts("outgoing"));
    let err = one_line_error(&run(&args), 6);
    assert!(
        err.contains("incoming queue element ") && err.contains(&p(&inq)),
        "{err}"
    );
    assert!(err.contains("no destination header"), "{err}");
    assert_eq!(queue_count(&inq), 1, "it stays");
}

/// Three agents draining one spool to the broker share the work (each reads ahead, the
/// dirq locks keep them apart) and send no element twice.
#[test]
fn broker_three_agents_on_one_spool_send_each_element_once() {
    let b = &brokers()[0];
    let d = tmp();
    let dest = unique_destination("three");
    let sent = mixed(6000, &dest);
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    let agents: Vec<_> = (0..3)
        .map(|_| {
            let mut cmd = stompclt();
            cmd.args([
                "--incoming-queue".into(),
                format!("path={}", p(&inq)),
                "--reliable".into(),
                "--remove".into(),
                "--window".into(),
                "100".into(),
                "-s".into(),
            ]);
            cmd.args(b.opts("outgoing"));
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut shares = Vec::new();
    for a in agents {
        let out = a.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stats = String::from_utf8_lossy(&out.stdout).to_string();
        shares.push(if stats.starts_with("processed only 1") {
            1
        } else if stats.starts_with("processed no") {
            0
        } else {
            test_support::bin::number_after(&stats, "processed")
        });
    }
    assert_eq!(queue_count(&inq), 0, "the spool is drained");
    assert_eq!(
        shares.iter().sum::<usize>(),
        6000,
        "each element sent once: {shares:?}"
    );
    let mut args = vec![
        "--subscribe".into(),
        format!("destination={dest}"),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
        "--reliable".into(),
        "--timeout-inactivity".into(),
        "5".into(),
    ];
    args.extend(b.opts("incoming"));
    ok(&args);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(compare(&sent, &got, "three agents"), 0, "no duplicates");
    assert_eq!(got.len(), 6000);
    eprintln!("three agents on one spool: shares {shares:?}");
}
