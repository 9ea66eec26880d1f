//! stompclt run as a process: every mode, reliability under SIGKILL, competing consumers
//! and bad input, against the real RabbitMQ and ActiveMQ that scripts/test.sh starts.
//! Broker tests are named `broker_*`; without brokers (STOMP_BROKERS unset) they fail,
//! unless an offline run leaves them out explicitly (`-- --skip broker_`).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dirq::DirQueue;
use message::generator::Rng;
use message::{Message, MessageQueue};

struct Broker {
    name: String,
    uri: String,
    args: Vec<String>,
}

/// STOMP_BROKERS="rabbitmq=127.0.0.1:61613,activemq=127.0.0.1:61614"
fn brokers() -> Vec<Broker> {
    let spec = std::env::var("STOMP_BROKERS").unwrap_or_else(|_| {
        panic!(
            "STOMP_BROKERS is not set: broker tests need RabbitMQ and ActiveMQ (scripts/test.sh \
             starts them); leave them out explicitly with `-- --skip broker_`"
        )
    });
    spec.split(',')
        .map(|item| {
            let (name, addr) = item.split_once('=').expect("NAME=HOST:PORT");
            let mut args = vec!["plain name=guest pass=guest".to_string()];
            if name == "rabbitmq" {
                // RabbitMQ reads the host header as the virtual host
                args.push("host=/".to_string());
            }
            Broker {
                name: name.to_string(),
                uri: format!("stomp://{addr}"),
                args,
            }
        })
        .collect()
}

impl Broker {
    /// `--{dir}-broker-uri … --{dir}-broker-auth … [--{dir}-broker-connect host=/]`
    fn opts(&self, dir: &str) -> Vec<String> {
        let mut v = vec![
            format!("--{dir}-broker-uri"),
            self.uri.clone(),
            format!("--{dir}-broker-auth"),
            self.args[0].clone(),
        ];
        if let Some(c) = self.args.get(1) {
            v.push(format!("--{dir}-broker-connect"));
            v.push(c.clone());
        }
        v
    }
}

fn unique_destination(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    format!(
        "/queue/msgtk.{tag}.{}.{t}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn stompclt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stompclt"))
}

fn run(args: &[String]) -> Output {
    stompclt().args(args).output().expect("run stompclt")
}

fn ok(args: &[String]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "stompclt {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// n messages: ASCII text, random binary, Unicode header and text, empty text, empty
/// binary, and one 1 MiB binary body; each has an x-index header.
fn mixed(n: usize, dest: &str) -> Vec<Message> {
    let mut rng = Rng::new(n as u64);
    (0..n)
        .map(|i| {
            let mut m = match i % 5 {
                0 => Message::text(format!("text message {i} with some words")),
                1 => Message::binary(
                    (0..(i % 300))
                        .map(|_| rng.next_u64() as u8)
                        .collect::<Vec<_>>(),
                ),
                2 => Message::text(format!("Unicode ☺ é 中文 {i}"))
                    .with_header("x-unicode", "valeur é ☺ 中")
                    .with_header("x-colon:and\\backslash", "a:b\\c"),
                3 => Message::text(""),
                _ => Message::binary(Vec::new()),
            };
            if i == 7 {
                m = Message::binary(
                    (0..1 << 20)
                        .map(|_| rng.next_u64() as u8)
                        .collect::<Vec<_>>(),
                );
            }
            m.with_header("destination", dest)
                .with_header("x-index", i.to_string())
        })
        .collect()
}

fn fill(path: &Path, kind: &str, msgs: &[Message]) {
    let q = MessageQueue::open_str(&format!("path={} type={kind}", path.display())).expect("open");
    for m in msgs {
        q.add_message(m).expect("add");
    }
}

fn drain(path: &Path, kind: &str) -> Vec<Message> {
    let q = MessageQueue::open_str(&format!("path={} type={kind}", path.display())).expect("open");
    let mut out = Vec::new();
    for n in q.names() {
        let n = n.expect("name");
        if q.dirq().lock(&n).expect("lock") {
            out.push(q.get_message(&n).expect("message"));
            q.dirq().remove(&n).expect("remove");
        }
    }
    out
}

/// Every sent message arrived with its body, text flag and every header sent (the broker
/// adds its own, and content-length is set on the way); returns the number of duplicates.
fn compare(sent: &[Message], got: &[Message], ctx: &str) -> usize {
    let mut by_index: HashMap<&str, Vec<&Message>> = HashMap::new();
    for m in got {
        let i = m.header.get("x-index").map(String::as_str).unwrap_or("?");
        by_index.entry(i).or_default().push(m);
    }
    let mut dups = 0;
    for m in sent {
        let i = &m.header["x-index"];
        let arrived = by_index.get(i.as_str()).unwrap_or_else(|| {
            panic!(
                "{ctx}: message {i} lost ({} of {} arrived)",
                got.len(),
                sent.len()
            )
        });
        dups += arrived.len() - 1;
        for a in arrived {
            assert_eq!(a.is_text(), m.is_text(), "{ctx}: text flag of {i}");
            assert_eq!(a.body.as_bytes(), m.body.as_bytes(), "{ctx}: body of {i}");
            for (k, v) in &m.header {
                if k == "content-length" {
                    continue;
                }
                assert_eq!(a.header.get(k), Some(v), "{ctx}: header {k} of {i}");
            }
        }
    }
    let sent_ids: std::collections::HashSet<&str> =
        sent.iter().map(|m| m.header["x-index"].as_str()).collect();
    assert!(
        by_index.keys().all(|k| sent_ids.contains(k)),
        "{ctx}: unknown messages arrived"
    );
    dups
}

/// Sends a DQS spool to the broker, reliably, removing what was sent.
fn send_spool(b: &Broker, spool: &Path) {
    let mut args = vec![
        "--incoming-queue".into(),
        format!("path={}", p(spool)),
        "--reliable".into(),
        "--remove".into(),
    ];
    args.extend(b.opts("outgoing"));
    ok(&args);
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tmp")
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

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
fn usage_errors() {
    for (args, code, msg) in [
        (s(&["--bogus"]), 2, "unexpected argument '--bogus'"),
        (
            s(&["--outgoing-queue", "path=/tmp/x"]),
            2,
            "stompclt: option incoming-broker or incoming-queue is required",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--window",
                "-1",
            ]),
            2,
            "unexpected argument '-1'",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--subscribe",
                "destination=/q",
            ]),
            2,
            "require an incoming broker",
        ),
        (
            s(&[
                "--incoming-broker-uri",
                "stomp://h:1",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "option subscribe is required",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--callback-code",
                "1",
            ]),
            2,
            "run Perl code",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x type=XYZ",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "unknown queue type",
        ),
        (
            s(&[
                "--incoming-broker-uri",
                "http://h:1",
                "--subscribe",
                "destination=/q",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "unknown scheme",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--duration",
                "-5",
            ]),
            2,
            "",
        ),
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    assert_eq!(
        run(&s(&["--help"])).status.code(),
        Some(1),
        "help exits 1, as the reference"
    );
    let v = run(&s(&["--version"]));
    assert_eq!(v.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("stompclt "));
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
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
    if unsafe_is_root() {
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

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

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

fn kill_at_random(mut cmd: Command, seed: u64, max_ms: u64) -> Option<i32> {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut rng = Rng::new(seed);
    let wait = Duration::from_millis(50 + rng.below(max_ms as usize) as u64);
    let start = Instant::now();
    while start.elapsed() < wait {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    None
}

#[test]
fn broker_reliable_survives_20_sigkills_in_each_direction_of_100000_messages() {
    kill_test(100_000, "1", 20);
}

#[test]
fn broker_batched_receipts_and_acks_survive_sigkill() {
    kill_test(3000, "100", 5);
}

fn kill_test(n: usize, batch: &str, kills: u64) {
    for b in &brokers() {
        let d = tmp();
        let dest = unique_destination(&format!("kill-{}-{batch}", b.name));
        let sent = mixed(n, &dest);
        let inq = d.path().join("in");
        fill(&inq, "DQS", &sent);
        // queue → broker: killed `kills` times at random moments, then run to the end;
        // maxlock=1 lets purge release the locks a killed run left
        let send_args = |cmd: &mut Command| {
            cmd.args([
                "--incoming-queue".into(),
                format!("path={} maxlock=1", p(&inq)),
                "--reliable".into(),
                "--window".into(),
                "200".into(),
                "--remove".into(),
                "--batch".into(),
                batch.into(),
            ]);
            cmd.args(b.opts("outgoing"));
        };
        let mut runs = 0;
        for k in 0..kills {
            std::thread::sleep(Duration::from_millis(1100));
            let mut cmd = stompclt();
            send_args(&mut cmd);
            runs += 1;
            if kill_at_random(cmd, k, 1000).is_some() {
                break; // it finished before its kill
            }
        }
        // then runs without kills until the spool is empty: locks are dated in whole
        // seconds, so a lock a killed run took may need two seconds to count as stale
        let q = MessageQueue::open_str(&format!("path={}", p(&inq))).expect("open");
        for _ in 0..5 {
            if q.dirq().count().expect("count") == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(2100));
            let mut cmd = stompclt();
            send_args(&mut cmd);
            let out = cmd.output().expect("final send");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(
            q.dirq().count().expect("count"),
            0,
            "{}: spool sent",
            b.name
        );
        // broker → queue, killed a few times, then run to the end
        let outq = d.path().join("out");
        for k in 0..kills {
            let mut cmd = stompclt();
            cmd.args([
                "--subscribe".into(),
                format!("destination={dest}"),
                "--outgoing-queue".into(),
                format!("path={}", p(&outq)),
                "--reliable".into(),
                "--prefetch".into(),
                "100".into(),
                "--batch".into(),
                batch.into(),
            ]);
            cmd.args(b.opts("incoming"));
            kill_at_random(cmd, 100 + k, 1000);
        }
        let mut args = vec![
            "--subscribe".into(),
            format!("destination={dest}"),
            "--outgoing-queue".into(),
            format!("path={}", p(&outq)),
            "--reliable".into(),
            "--timeout-inactivity".into(),
            "5".into(),
            "--batch".into(),
            batch.into(),
        ];
        args.extend(b.opts("incoming"));
        ok(&args);
        let got = drain(&outq, "DQS");
        let dups = compare(&sent, &got, &format!("{} kill -9 batch {batch}", b.name));
        eprintln!(
            "{} (batch {batch}): {} runs killed sending, {kills} receiving; {} messages received, {dups} duplicates, 0 lost",
            b.name,
            runs,
            got.len()
        );
    }
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
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{}: {err}", b.name);
        assert!(
            err.starts_with("stompclt: unexpected ERROR frame received from "),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let out = run(&s(&[
        "--incoming-broker-uri",
        "stomp://127.0.0.1:1",
        "--subscribe",
        "destination=/q",
        "--outgoing-queue",
        "path=/tmp/unused-msgtk",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
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

fn qq_args(d: &Path, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--incoming-queue".to_string(),
        format!("path={}", p(&d.join("in"))),
        "--outgoing-queue".to_string(),
        format!("path={}", p(&d.join("out"))),
    ];
    v.extend(extra.iter().map(|x| x.to_string()));
    v
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
fn signals_stop_gracefully_and_hup_is_ignored() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(20, "/q"));
    let mut child = stompclt()
        .args(qq_args(
            d.path(),
            &["--loop", "--remove", "--reliable", "-s"],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "HUP must not stop stompclt"
    );
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("processed 20 messages"));
    assert_eq!(drain(&d.path().join("out"), "DQS").len(), 20);
    for sig in ["-INT", "-QUIT"] {
        let mut child = stompclt()
            .args(qq_args(d.path(), &["--loop"]))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(500));
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .expect("kill");
        assert_eq!(child.wait().expect("wait").code(), Some(0), "{sig}");
    }
}

#[test]
fn a_config_file_drives_the_same_run_as_the_command_line() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(30, "/q"));
    let conf = d.path().join("stompclt.conf");
    std::fs::write(
        &conf,
        format!(
            "# reference style\n<stompclt>\n  <incoming-queue>\n    path = {}\n  </incoming-queue>\n  \
             outgoing-queue = \"path={} type=DQN\"\n  remove = yes\n  statistics = true\n  \
             count = 10\n  quit = true\n</stompclt>\n",
            p(&d.path().join("in")),
            p(&d.path().join("out"))
        ),
    )
    .expect("write config");
    let out = ok(&["--config".into(), p(&conf)]);
    assert!(out.starts_with("processed 10 messages"), "{out}");
    assert_eq!(drain(&d.path().join("out"), "DQN").len(), 10);
    // the command line overrides the file
    let out = ok(&[
        "--conf".into(),
        p(&conf),
        "--count".into(),
        "5".into(),
        "--no-statistics".into(),
    ]);
    assert_eq!(out, "");
    assert_eq!(drain(&d.path().join("out"), "DQN").len(), 5);
    // an unknown key names the file and line
    std::fs::write(&conf, "incoming-queue = path=/x\nbogus = 1\n").expect("write");
    let r = run(&["--cfg".into(), p(&conf)]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!("stompclt: {}:2: unknown option \"bogus\"", p(&conf))
    );
    std::fs::write(&conf, "<incoming-queue>\npath = /x\n").expect("write");
    let err = String::from_utf8_lossy(&run(&["--cfg".into(), p(&conf)]).stderr).into_owned();
    assert!(
        err.contains(":1: block <incoming-queue> is not closed"),
        "{err}"
    );
}

/// Running, not a zombie (an orphaned daemon may wait a while for init to reap it).
fn pid_alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn daemon_pidfile_status_quit_lifecycle() {
    let d = tmp();
    let pf = p(&d.path().join("stompclt.pid"));
    std::fs::create_dir_all(d.path().join("in")).expect("mkdir");
    let status = |want: i32| {
        let out = run(&["--status".into(), "--pidfile".into(), pf.clone()]);
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(want), "status: {line}");
        line
    };
    assert_eq!(status(3).trim(), "stompclt is not running");
    let out = ok(&qq_args(
        d.path(),
        &["--loop", "--remove", "--daemon", "--pidfile", &pf],
    ));
    let pid = out
        .trim()
        .strip_prefix("stompclt (pid ")
        .and_then(|r| r.strip_suffix(") started"))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    assert_eq!(std::fs::read_to_string(&pf).expect("pidfile").trim(), pid);
    assert_eq!(status(0).trim(), format!("stompclt (pid {pid}) is running"));
    // the daemon works: what is spooled now is moved
    fill(&d.path().join("in"), "DQS", &mixed(5, "/q"));
    let start = Instant::now();
    let mut moved = 0;
    while moved < 5 && start.elapsed() < Duration::from_secs(10) {
        moved += drain(&d.path().join("out"), "DQS").len();
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(moved, 5, "the daemon moves what is spooled");
    // a second instance on the same pidfile is refused
    let second = run(&qq_args(d.path(), &["--loop", "--pidfile", &pf]));
    assert_eq!(
        second.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let out = ok(&["--quit".into(), "--pidfile".into(), pf.clone()]);
    assert!(
        out.contains("is being told to quit") && out.contains("has quit"),
        "{out}"
    );
    assert!(!pid_alive(&pid));
    assert!(!Path::new(&pf).exists());
    status(3);
    // a pidfile left by SIGKILL is seen as dead, then replaced by the next start
    let mut child = stompclt()
        .args(qq_args(d.path(), &["--loop", "--pidfile", &pf]))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert!(status(1).contains("is dead"));
    let again = stompclt()
        .args(qq_args(d.path(), &["--loop", "--pidfile", &pf]))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    status(0);
    ok(&["--quit".into(), "--pidfile".into(), pf.clone()]);
    let out = again.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("removing stale pid file"));
}

#[test]
fn built_in_filters_replace_the_callback_one_liners() {
    let d = tmp();
    let msgs: Vec<Message> = (0..10)
        .map(|i| {
            let body = if i % 3 == 0 {
                format!("error {i}")
            } else {
                format!("fine {i}")
            };
            Message::text(body)
                .with_header("destination", "/queue/old")
                .with_header("message-id", format!("ID:{i}"))
                .with_header("x-index", i.to_string())
                .with_header("x-drop-me", "1")
        })
        .collect();
    fill(&d.path().join("in"), "DQS", &msgs);
    let out = ok(&qq_args(
        d.path(),
        &[
            "--remove",
            "--reliable",
            "-s",
            "--strip-broker-headers",
            "--header-delete",
            "x-drop-me",
            "--header-rename",
            "x-index=x-number",
            "--header-set",
            "destination=/queue/new",
            "--header-set",
            "persistent=true",
            "--drop-if",
            "body=^error",
            "--tap",
            &format!("path={}", p(&d.path().join("tap"))),
        ],
    ));
    assert!(
        out.starts_with("processed 10 messages"),
        "dropped ones count: {out}"
    );
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 6);
    for m in &got {
        assert_eq!(
            m.header.keys().map(String::as_str).collect::<Vec<_>>(),
            ["destination", "persistent", "x-number"]
        );
        assert_eq!(m.header["destination"], "/queue/new");
        assert!(m.body.as_bytes().starts_with(b"fine"));
    }
    assert_eq!(
        drain(&d.path().join("tap"), "DQS").len(),
        6,
        "the tap saw what was passed on"
    );
    assert_eq!(
        drain(&d.path().join("in"), "DQS").len(),
        0,
        "dropped ones were acknowledged"
    );
    let out = run(&qq_args(d.path(), &["--keep-if", "body=("]));
    assert_eq!(out.status.code(), Some(2));
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
    let out = run(&s(&[
        "--incoming-broker-uri",
        "failover:(tcp://127.0.0.1:1,tcp://127.0.0.1:2)?maxReconnectAttempts=3&initialReconnectDelay=10",
        "--subscribe",
        "destination=/q",
        "--outgoing-queue",
        "path=/tmp/unused-msgtk",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("after 4 failover attempts"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A consumer takes everything out of the full queue and purges it, freeing the space.
fn free_space(outq: &Path, received: &mut Vec<Message>) {
    received.extend(drain(outq, "DQS"));
    MessageQueue::open_str(&format!("path={}", p(outq)))
        .expect("open")
        .dirq()
        .purge_with(1, 0)
        .expect("purge");
}

/// A small tmpfs, mounted for the test and unmounted after (needs root: tests named
/// `root_*`; an offline run can leave them out with `--skip root_`).
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    fn mount(dir: &Path, size: &str) -> SmallFs {
        assert!(
            unsafe_is_root(),
            "root_* tests mount a tmpfs and need root; leave them out with `--skip root_`"
        );
        std::fs::create_dir_all(dir).expect("mkdir");
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(st.success(), "mount tmpfs on {}", dir.display());
        SmallFs(dir.to_path_buf())
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
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
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            break;
        }
        assert_eq!(out.status.code(), Some(7), "{err}");
        assert!(err.contains("No space left on device"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
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

/// A TCP proxy to a real broker that can stop passing the broker's bytes on: a broker that
/// went silent (no heart-beats), for fault injection.
struct SilencingProxy {
    port: u16,
    silent: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SilencingProxy {
    fn start(upstream: &str) -> SilencingProxy {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let silent = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = silent.clone();
        let upstream = upstream.to_string();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(broker) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut c_in, mut c_out) = (client.try_clone().expect("clone"), client);
                let (mut b_in, mut b_out) = (broker.try_clone().expect("clone"), broker);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_in.read(&mut buf) {
                        if n == 0 || b_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
                let flag = flag.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = b_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if !flag.load(Ordering::Relaxed) && c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        SilencingProxy { port, silent }
    }
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

#[test]
fn a_closed_stdout_is_no_panic() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(5, "/q"));
    let mut child = stompclt()
        .args(qq_args(d.path(), &["-s"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // the reader went away, like `| head -0`
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// STOMP_TLS="rabbitmq=127.0.0.1:61615,activemq=127.0.0.1:61617" and STOMP_TLS_DIR, the test
/// PKI of tests/brokers/make-test-ca.sh (both brokers require client certificates).
fn tls_brokers() -> (Vec<(String, String)>, std::path::PathBuf) {
    let spec = std::env::var("STOMP_TLS").unwrap_or_else(|_| {
        panic!(
            "STOMP_TLS is not set: the TLS test needs the brokers' TLS listeners (scripts/test.sh)"
        )
    });
    let dir = std::env::var("STOMP_TLS_DIR").expect("STOMP_TLS_DIR (the test PKI)");
    let list = spec
        .split(',')
        .map(|i| {
            let (n, a) = i.split_once('=').expect("NAME=HOST:PORT in STOMP_TLS");
            (n.to_string(), a.to_string())
        })
        .collect();
    (list, dir.into())
}

#[test]
fn broker_tls_with_x509_credentials_and_ssl_sockopts() {
    let (brokers, pki) = tls_brokers();
    for (name, addr) in brokers {
        tls_case(&name, &addr, &pki);
    }
}

fn tls_case(name: &str, addr: &str, pki: &Path) {
    eprintln!("TLS against {name} at {addr}");
    let port = addr.rsplit_once(':').expect("HOST:PORT").1.to_string();
    let f = |n: &str| p(&pki.join(n));
    let d = tmp();
    let dest = unique_destination("tls");
    let sent = mixed(300, &dest);
    fill(&d.path().join("in"), "DQS", &sent);
    // send: ssl://localhost, x509 with an encrypted PKCS#8 key and a hashed CA directory
    ok(&[
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
        "--reliable".into(),
        "--remove".into(),
        "--outgoing-broker-uri".into(),
        format!("ssl://localhost:{port}"),
        "--outgoing-broker-auth".into(),
        format!(
            "x509 cert={} key={} pass=secret ca={}",
            f("client.pem"),
            f("client-enc.key"),
            f("cadir")
        ),
        "--outgoing-broker-auth".into(),
        "plain name=guest pass=guest".into(),
        "--outgoing-broker-connect".into(),
        "host=/".into(),
    ]);
    // receive: stomp+ssl:// to the IP address (verified against the IP SAN), everything from
    // the IO::Socket::SSL options
    let out = ok(&[
        "--incoming-broker-uri".into(),
        format!("stomp+ssl://127.0.0.1:{port}"),
        "--incoming-broker-sockopts".into(),
        format!(
            "SSL_cert_file={} SSL_key_file={} SSL_ca_file={} SSL_verify_mode=1 SSL_version=TLSv12",
            f("client.pem"),
            f("client.key"),
            f("ca.pem")
        ),
        "--incoming-broker-auth".into(),
        "plain name=guest pass=guest".into(),
        "--incoming-broker-connect".into(),
        "host=/".into(),
        "--subscribe".into(),
        format!("destination={dest}"),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
        "--reliable".into(),
        "--count".into(),
        "300".into(),
        "-s".into(),
    ]);
    assert!(out.starts_with("processed 300 messages"), "{out}");
    assert_eq!(
        compare(&sent, &drain(&d.path().join("out"), "DQS"), "TLS"),
        0
    );

    // a plain tcp:// URI becomes TLS when SSL_* options are given; the X509_* environment
    // supplies what a bare x509 credential leaves out
    let dest2 = unique_destination("tls-env");
    fill(&d.path().join("in"), "DQS", &mixed(5, &dest2));
    let out = stompclt()
        .args([
            "--incoming-queue".into(),
            format!("path={}", p(&d.path().join("in"))),
            "--remove".into(),
            "--reliable".into(),
            "--outgoing-broker-uri".into(),
            format!("tcp://localhost:{port}"),
            "--outgoing-broker-auth".into(),
            "x509".into(),
            "--outgoing-broker-auth".into(),
            "plain name=guest pass=guest".into(),
            "--outgoing-broker-sockopts".into(),
            "SSL_use_cert=1 Timeout=5".into(),
            "--outgoing-broker-connect".into(),
            "host=/".into(),
        ])
        .env("X509_USER_CERT", f("client.pem"))
        .env("X509_USER_KEY", f("client.key"))
        .env("X509_CERT_DIR", f("cadir"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("socket option Timeout is not supported"),
        "{err}"
    );

    // failures: each a one-line error naming the reason, nothing sent
    let base = |extra: &[String]| {
        let mut v = vec![
            "--incoming-queue".to_string(),
            format!("path={}", p(&d.path().join("never"))),
            "--outgoing-broker-connect".into(),
            "host=/".into(),
            "--outgoing-broker-auth".into(),
            "plain name=guest pass=guest".into(),
        ];
        v.extend_from_slice(extra);
        v
    };
    let x509 = |ca: &str| {
        format!(
            "x509 cert={} key={} ca_file={ca}",
            f("client.pem"),
            f("client.key")
        )
    };
    for (extra, code, msg) in [
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-auth".into(),
                x509(&f("other-ca.pem")),
            ],
            3,
            "UnknownIssuer",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://127.0.0.1:{port}"),
                "--outgoing-broker-auth".into(),
                x509(&f("ca.pem")),
                "--outgoing-broker-sockopts".into(),
                "SSL_verifycn_name=broker.example.org".into(),
            ],
            3,
            "not valid for name \"broker.example.org\"",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-auth".into(),
                format!(
                    "x509 cert={} key={} pass=wrong ca_file={}",
                    f("client.pem"),
                    f("client-enc.key"),
                    f("ca.pem")
                ),
            ],
            2,
            "cannot decrypt the key",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-auth".into(),
                format!("x509 cert={} ca_file={}", f("nonexistent.pem"), f("ca.pem")),
            ],
            2,
            "nonexistent.pem",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-sockopts".into(),
                format!("SSL_ca_file={}", f("ca.pem")),
            ],
            5,
            // RabbitMQ says CertificateRequired, ActiveMQ BadCertificate
            "received fatal alert: ",
        ),
    ] {
        fill(
            &d.path().join("never"),
            "DQS",
            &mixed(1, "/queue/msgtk.never"),
        );
        let out = run(&base(&extra));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{extra:?}: {err}");
        assert!(err.contains(msg), "{extra:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }

    // SSL_verify_mode=0: a server the trusted CA did not sign is accepted (the user's choice)
    let out = run(&base(&[
        "--outgoing-broker-uri".into(),
        format!("ssl://localhost:{port}"),
        "--outgoing-broker-auth".into(),
        x509(&f("other-ca.pem")),
        "--outgoing-broker-sockopts".into(),
        "SSL_verify_mode=0".into(),
        "--remove".into(),
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_prints_every_option_and_debug_traces_frames() {
    let out = run(&s(&["--list"]));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for o in [
        "--incoming-broker-sockopts",
        "--outgoing-broker-auth",
        "--statistics -s",
        "--list -l",
        "--config",
    ] {
        assert!(
            text.lines().any(|l| l == o),
            "{o} missing from --list: {text}"
        );
    }
    // -dddd: the configuration, with credentials hidden
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(1, "/queue/x"));
    let out = run(&[
        "-dddd".into(),
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
        "--outgoing-broker-auth".into(),
        "plain name=u pass=topsecret".into(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("debug: configuration: Cli {"), "{err}");
    assert!(!err.contains("topsecret"), "{err}");
}

/// A broker of the test's own (other ports, node name and data directory), so that
/// restarting it disturbs no other test; stopped and removed when dropped.
struct OwnBroker {
    kind: &'static str,
    env: Vec<(String, String)>,
    stomp: u16,
}

impl OwnBroker {
    fn script(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/brokers")
            .join(name)
    }

    fn var(&self) -> &'static str {
        if self.kind == "rabbitmq" {
            "RMQ"
        } else {
            "AMQ"
        }
    }

    fn start_new(kind: &'static str) -> OwnBroker {
        let pid = std::process::id();
        let base_var = if kind == "rabbitmq" {
            "RMQ_DATA"
        } else {
            "AMQ_DATA"
        };
        let base = std::env::var(base_var).unwrap_or_else(|_| {
            panic!("{base_var} is not set: this test starts its own {kind} beside the one of scripts/test.sh")
        });
        let data = format!("{base}-restart-{pid}");
        let b = if kind == "rabbitmq" {
            OwnBroker {
                kind,
                env: vec![
                    ("RMQ_DATA".into(), data),
                    ("RMQ_AMQP_PORT".into(), "5674".into()),
                    ("RMQ_STOMP_PORT".into(), "61633".into()),
                    ("RMQ_STOMPS_PORT".into(), "61635".into()),
                    ("RMQ_DIST_PORT".into(), "25674".into()),
                    ("RMQ_NODENAME".into(), format!("restart{pid}@localhost")),
                ],
                stomp: 61633,
            }
        } else {
            OwnBroker {
                kind,
                env: vec![
                    ("AMQ_DATA".into(), data),
                    ("AMQ_OPENWIRE_PORT".into(), "61646".into()),
                    ("AMQ_STOMP_PORT".into(), "61644".into()),
                    ("AMQ_STOMPS_PORT".into(), "61647".into()),
                    ("AMQ_HEAP".into(), "512M".into()),
                ],
                stomp: 61644,
            }
        };
        b.sh("start", true);
        b
    }

    fn sh(&self, what: &str, fresh: bool) {
        let script = format!("{what}-{}.sh", self.kind);
        let mut c = Command::new("bash");
        c.arg(Self::script(&script)).envs(self.env.iter().cloned());
        if fresh {
            c.env(format!("{}_FRESH", self.var()), "1");
        }
        let out = c.output().expect("broker script");
        assert!(
            out.status.success(),
            "{script}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the broker and starts it again, keeping its data (persistent messages survive).
    fn restart(&self) {
        self.sh("stop", false);
        self.sh("start", false);
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script(&format!("stop-{}.sh", self.kind)))
            .envs(self.env.iter().cloned())
            .env(format!("{}_CLEAN", self.var()), "1")
            .output();
    }
}

fn queue_count(path: &Path) -> usize {
    MessageQueue::open_str(&format!("path={}", p(path)))
        .expect("open")
        .dirq()
        .count()
        .expect("count")
}

#[test]
fn broker_restart_mid_transfer_with_reconnect_loses_nothing() {
    for kind in ["rabbitmq", "activemq"] {
        restart_case(OwnBroker::start_new(kind));
    }
}

fn restart_case(rabbit: OwnBroker) {
    eprintln!("broker restart: {}", rabbit.kind);
    let d = tmp();
    let dest = unique_destination("restart");
    let n = 20_000;
    // persistent, or the broker itself would drop them at its restart
    let sent: Vec<Message> = mixed(n, &dest)
        .into_iter()
        .map(|m| m.with_header("persistent", "true"))
        .collect();
    fill(&d.path().join("in"), "DQS", &sent);
    let uri = format!(
        "failover:(stomp://127.0.0.1:{})?maxReconnectDelay=500",
        rabbit.stomp
    );
    let common = |dir: &str| {
        s(&[
            &format!("--{dir}-broker-uri"),
            &uri,
            &format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest",
            &format!("--{dir}-broker-connect"),
            "host=/",
            "--reliable",
            "--reconnect",
            "--statistics",
        ])
    };
    // queue → broker, the broker restarted once some messages went out
    let send = stompclt()
        .args(common("outgoing"))
        .args([
            "--incoming-queue",
            &format!("path={}", p(&d.path().join("in"))),
        ])
        .args(["--remove", "--window", "500"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while queue_count(&d.path().join("in")) > n - 3000 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        queue_count(&d.path().join("in")) > 0,
        "sent everything before the restart"
    );
    rabbit.restart();
    let (so, se) = reconnected_once(send);
    assert!(se.contains("reconnecting"), "{se}");
    assert_eq!(queue_count(&d.path().join("in")), 0);
    let resent = counted(&so, "reconnected 1 times: ");

    // broker → queue, the broker restarted mid-way again
    let recv = stompclt()
        .args(common("incoming"))
        .args(["--subscribe", &format!("destination={dest}")])
        .args([
            "--outgoing-queue",
            &format!("path={}", p(&d.path().join("out"))),
        ])
        .args(["--prefetch", "1000", "--timeout-inactivity", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while queue_count(&d.path().join("out")) < 3000 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        queue_count(&d.path().join("out")) < n,
        "received everything before the restart"
    );
    rabbit.restart();
    let (so, _) = reconnected_once(recv);
    let got = drain(&d.path().join("out"), "DQS");
    let dups = compare(&sent, &got, "broker restart");
    eprintln!(
        "broker restarts on {}: {n} messages, {dups} duplicates; {}",
        rabbit.kind,
        so.trim()
    );
    // every duplicate is accounted for: sent again by the sender, or received without the
    // broker's receipt for its ACK when the connection went
    let unacked = counted(&so, "messages sent again, ");
    assert!(
        dups <= resent + unacked,
        "{dups} duplicates, {resent} sent again + {unacked} not known to be acknowledged"
    );
}

/// Waits for a stompclt run that had to reconnect once and succeeded: (stdout, stderr).
fn reconnected_once(child: std::process::Child) -> (String, String) {
    let out = child.wait_with_output().expect("wait");
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(0), "{so}{se}");
    assert!(so.contains("reconnected 1 times"), "{so}");
    (so, se)
}

/// The number after `after` in a statistics line.
fn counted(stats: &str, after: &str) -> usize {
    stats
        .split(after)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no number after {after:?} in {stats}"))
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
    let out = run(&s(&[
        "--incoming-broker-uri",
        "stomp://127.0.0.1:1",
        "--incoming-broker-type",
        "Kafka",
        "--subscribe",
        "destination=/q",
        "--outgoing-queue",
        "path=/tmp/unused-msgtk",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid incoming-broker-type"));
}
