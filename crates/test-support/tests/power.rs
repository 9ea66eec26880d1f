//! Power cuts, on a filesystem that loses what a cut loses (`test_support::crashfs`: data not
//! fsynced and directory entries whose directory was not fsynced are dropped). Root: it mounts.
//!
//! dirq: adds with `sync` that returned are all there after a cut, whole; without `sync`
//! they are not (the filesystem keeps nothing unsynced).
//!
//! stompclt moves messages between RabbitMQ and a spool on it; at a random moment the power
//! goes (every call fails, the agent is SIGKILLed, the filesystem comes back with only what
//! was durable):
//!
//! - broker → spool with `sync=1`, 100 cuts: every message is in the spool after the reboot
//!   or still in the broker (nothing acknowledged was lost), and no element is visible but
//!   torn or empty;
//! - spool → broker with `sync=1`, 30 cuts: every message the spool held is in it or in the
//!   broker (duplicates allowed, counted);
//! - broker → spool without `sync`, 30 cuts: what is lost, measured and printed (the
//!   references never fsync); the run must lose some, or the filesystem proves nothing.
//!
//! (Named `power_cut`: scripts/test.sh runs this binary as a group of its own.)

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dirq::{DirQueue, Options, QueueSimple};
use message::Message;
use test_support::bin::{s, workspace_binaries};
use test_support::brokers::unique_destination;
use test_support::crashfs::CrashFs;
use test_support::queues::{drain, fill, p, tmp};

/// The adds that returned: each element's name and data.
type Added = Vec<(String, Vec<u8>)>;

/// Adds elements to a queue on crashfs until the power goes after `after`; then checks what
/// is there. Returns (adds that returned, of those lost, elements torn).
fn adds_then_cut(fs: &mut CrashFs, q: &Path, sync: bool, after: Duration) -> (usize, usize, usize) {
    let o = Options {
        sync,
        ..Options::default()
    };
    let done: Arc<Mutex<Added>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let adder = {
        let (q, done, stop) = (q.to_path_buf(), done.clone(), stop.clone());
        std::thread::spawn(move || {
            let Ok(queue) = QueueSimple::with_options(&q, &o) else {
                return;
            };
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("element {i} {}", "x".repeat((i % 300) as usize)).into_bytes();
                match queue.add(&body) {
                    Ok(name) => done.lock().expect("names").push((name, body)),
                    Err(_) => return, // the disk is gone
                }
                i += 1;
            }
        })
    };
    // without sync, the cut must find adds to lose: the first add returned (a loaded machine
    // may take longer to start the thread and make the queue than any fixed delay), then
    // `after`; with sync, cuts may also land while the queue's directories are made
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !sync
        && done.lock().expect("names").is_empty()
        && !adder.is_finished()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(after);
    fs.cut();
    stop.store(true, Ordering::Relaxed);
    let _ = adder.join();
    fs.reboot();
    let done = done.lock().expect("names");
    if !q.is_dir() {
        // the queue itself is gone (cut before it was made, or never made durable)
        return (done.len(), done.len(), 0);
    }
    let queue = QueueSimple::new(q).expect("queue after the cut");
    let mut lost = 0;
    for (name, body) in done.iter() {
        match std::fs::read(q.join(name)) {
            Ok(b) if &b == body => {}
            _ => lost += 1,
        }
    }
    let mut torn = 0;
    for name in queue.names() {
        let name = name.expect("name");
        match std::fs::read(q.join(&name)) {
            Ok(b) if b.starts_with(b"element ") => {}
            _ => torn += 1,
        }
    }
    (done.len(), lost, torn)
}

#[test]
fn root_power_cut_dirq_adds_with_sync_survive_and_without_it_do_not() {
    test_support::process::need_root();
    let d = test_support::queues::tmp();
    let mnt = d.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mountpoint");
    let mut fs = CrashFs::mount(&mnt);
    let (mut added, mut lost, mut torn) = (0, 0, 0);
    for i in 0..20u64 {
        // a fresh queue every few cuts: its own directories' creation is cut too
        let q = mnt.join(format!("q{}", i / 4));
        let (a, l, t) = adds_then_cut(&mut fs, &q, true, Duration::from_millis(5 + i * 7 % 60));
        added += a;
        lost += l;
        torn += t;
    }
    assert!(added > 0);
    assert_eq!(
        (lost, torn),
        (0, 0),
        "with sync, of {added} adds: lost, torn"
    );
    let (added, lost, _) = adds_then_cut(
        &mut fs,
        &mnt.join("nosync"),
        false,
        Duration::from_millis(50),
    );
    println!("without sync: {lost} of {added} adds lost at a cut");
    assert!(
        added > 0 && lost == added,
        "{lost} of {added}: unsynced adds must be gone"
    );
}

/// RabbitMQ's STOMP listener, as stompclt reaches it.
struct Broker {
    uri: String,
}

fn rabbitmq() -> Broker {
    let (_, addr) = test_support::brokers::from_env("STOMP_BROKERS")
        .into_iter()
        .find(|(name, _)| name == "rabbitmq")
        .expect("STOMP_BROKERS names no rabbitmq: run scripts/test.sh");
    Broker {
        uri: format!("stomp://{addr}"),
    }
}

impl Broker {
    /// `--{dir}-broker-uri … --{dir}-broker-auth … --{dir}-broker-connect host=/`
    fn opts(&self, dir: &str) -> Vec<String> {
        vec![
            format!("--{dir}-broker-uri"),
            self.uri.clone(),
            format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest".into(),
            format!("--{dir}-broker-connect"),
            "host=/".into(),
        ]
    }
}

fn stompclt() -> Command {
    Command::new(workspace_binaries().join("stompclt"))
}

fn ok(args: &[String]) -> String {
    test_support::bin::ok(
        &workspace_binaries().join("stompclt").display().to_string(),
        args,
    )
}

/// Drains what the broker holds for `dest` into the spool `into` (on the ordinary disk).
fn drain_broker(b: &Broker, dest: &str, into: &Path) {
    let mut args = b.opts("incoming");
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest}"),
        "--reliable",
    ]));
    args.extend(["--outgoing-queue".into(), format!("path={}", p(into))]);
    args.extend(s(&["--timeout-inactivity", "2"]));
    ok(&args);
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

/// The messages of the DQS elements under `path` read from their files (locked ones too),
/// and how many elements could not be decoded (torn, empty).
fn elements(path: &Path) -> (Vec<Message>, usize) {
    let (mut msgs, mut torn) = (Vec::new(), 0);
    let Ok(dirs) = std::fs::read_dir(path) else {
        return (msgs, torn);
    };
    for d in dirs.flatten() {
        if !dirq::is_dir_name(d.file_name().as_encoded_bytes()) {
            continue;
        }
        for e in std::fs::read_dir(d.path())
            .expect("element directory")
            .flatten()
        {
            if !dirq::is_element_name(e.file_name().as_encoded_bytes()) {
                continue;
            }
            match std::fs::read(e.path()).map(|b| message::decode(&b)) {
                Ok(Ok(m)) => msgs.push(m),
                _ => torn += 1,
            }
        }
    }
    (msgs, torn)
}

/// 150 messages of round `round`, each with a body of its own.
fn round(dest: &str, round: usize) -> Vec<Message> {
    (0..150)
        .map(|i| {
            Message::text(format!("round {round} message {i}")).with_header("destination", dest)
        })
        .collect()
}

/// How many element files the DQS spool under `path` shows (locked ones too).
fn element_count(path: &Path) -> usize {
    let Ok(dirs) = std::fs::read_dir(path) else {
        return 0;
    };
    dirs.flatten()
        .filter(|d| dirq::is_dir_name(d.file_name().as_encoded_bytes()))
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| dirq::is_element_name(e.file_name().as_encoded_bytes()))
        .count()
}

/// Starts stompclt, waits until `moving` says the transfer has begun (at most 30 s: a loaded
/// machine may take longer than any fixed delay to start and connect), cuts the power `after`
/// later, kills it, reboots the filesystem.
fn cut_during(fs: &mut CrashFs, args: &[String], moving: &dyn Fn() -> bool, after: Duration) {
    let mut child = stompclt()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !moving() && std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(after);
    fs.cut();
    let _ = child.kill();
    let _ = child.wait();
    fs.reboot();
}

/// How many of `sent` are in none of `got` (by body), and how many copies beyond one `got`
/// holds.
fn lost_and_duplicates(sent: &[Message], got: &[Message]) -> (usize, usize) {
    let mut count: HashMap<&[u8], usize> = HashMap::new();
    for m in got {
        *count.entry(m.body.as_bytes()).or_default() += 1;
    }
    let lost = sent
        .iter()
        .filter(|m| !count.contains_key(m.body.as_bytes()))
        .count();
    let dups = count.values().map(|c| c - 1).sum();
    (lost, dups)
}

/// Broker → spool on crashfs, `cuts` times: (messages sent, lost, torn elements). The
/// broker is given 150 messages a cut at the start; each run takes what it can before its
/// cut.
fn broker_to_spool(cuts: usize, sync: bool, seed: u64) -> (usize, usize, usize) {
    test_support::process::need_root();
    let b = rabbitmq();
    let d = tmp();
    let mnt = d.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mountpoint");
    let mut fs = CrashFs::mount(&mnt);
    let spool = mnt.join("spool");
    let dest = unique_destination("power");
    let sent: Vec<Message> = (0..cuts).flat_map(|r| round(&dest, r)).collect();
    let local = d.path().join("out");
    fill(&local, "DQS", &sent);
    send_spool(&b, &local);
    let mut rng = seed;
    let mut args = b.opts("incoming");
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest}"),
        "--reliable",
    ]));
    let sync = if sync { " sync=1" } else { "" };
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}{sync}", p(&spool)),
    ]);
    for _ in 0..cuts {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let before = element_count(&spool);
        cut_during(
            &mut fs,
            &args,
            &|| element_count(&spool) > before,
            Duration::from_millis((rng >> 33) % 100),
        );
    }
    // what the broker still holds, drained to a spool of the ordinary disk
    let rest = d.path().join("rest");
    drain_broker(&b, &dest, &rest);
    let (mut got, torn) = elements(&spool);
    let in_spool = got.len();
    got.extend(drain(&rest, "DQS"));
    let (lost, _) = lost_and_duplicates(&sent, &got);
    println!(
        "broker to spool{sync}, {cuts} cuts: {in_spool} in the spool, {} left in the broker, {lost} lost, {torn} torn",
        got.len() - in_spool
    );
    (sent.len(), lost, torn)
}

#[test]
fn broker_power_cut_stompclt_receiving_with_sync_loses_nothing_acknowledged() {
    let (sent, lost, torn) = broker_to_spool(100, true, 7);
    assert_eq!((lost, torn), (0, 0), "of {sent}: lost, torn");
}

#[test]
fn broker_power_cut_stompclt_receiving_without_sync_loses_what_was_acknowledged() {
    let (sent, lost, torn) = broker_to_spool(30, false, 11);
    println!(
        "without sync: {lost} of {sent} messages lost over 30 cuts, {torn} torn elements seen"
    );
    assert!(
        lost > 0,
        "the filesystem dropped nothing: it proves nothing"
    );
}

#[test]
fn broker_power_cut_stompclt_sending_with_sync_loses_nothing_the_spool_held() {
    test_support::process::need_root();
    let b = rabbitmq();
    let d = tmp();
    let mnt = d.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mountpoint");
    let mut fs = CrashFs::mount(&mnt);
    let spool = mnt.join("out");
    let dest = unique_destination("power-send");
    let sent: Vec<Message> = (0..30).flat_map(|r| round(&dest, r)).collect();
    fill(&spool, "DQS", &sent);
    // the spool as written with sync: all of it on the disk
    fs.sync_all();
    let mut rng = 3u64;
    for _ in 0..30 {
        let mut args = vec![
            "--incoming-queue".to_string(),
            format!("path={} sync=1", p(&spool)),
            "--reliable".into(),
            "--remove".into(),
        ];
        args.extend(b.opts("outgoing"));
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let before = element_count(&spool);
        cut_during(
            &mut fs,
            &args,
            &|| element_count(&spool) < before,
            Duration::from_millis((rng >> 33) % 100),
        );
        assert_eq!(elements(&spool).1, 0, "a torn element in the spool");
    }
    let received = d.path().join("received");
    drain_broker(&b, &dest, &received);
    let mut got = drain(&received, "DQS");
    let on_broker = got.len();
    let (left, torn) = elements(&spool);
    got.extend(left);
    let (lost, dups) = lost_and_duplicates(&sent, &got);
    println!(
        "spool to broker with sync, 30 cuts: {on_broker} received, {dups} both received and \
         still in the spool (sent again by the next run: duplicates)"
    );
    assert_eq!((lost, torn), (0, 0), "of {}: lost, torn", sent.len());
}
