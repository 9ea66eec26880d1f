//! Power cuts, on a filesystem that loses what a cut loses (`test_support::crashfs`: data
//! not fsynced and directory entries whose directory was not fsynced are dropped). stompclt
//! moves messages between RabbitMQ and a spool on it; at a random moment the power goes (every
//! call fails, the agent is SIGKILLed, the filesystem comes back with only what was durable):
//!
//! - broker → spool with `sync=1`, 100 cuts: every message is in the spool after the reboot
//!   or still in the broker (nothing acknowledged was lost), and no element is visible but
//!   torn or empty;
//! - spool → broker with `sync=1`, 30 cuts: every message the spool held is in it or in the
//!   broker (duplicates allowed, counted);
//! - broker → spool without `sync`, 30 cuts: what is lost, measured and printed (the
//!   references never fsync); the run must lose some, or the filesystem proves nothing.

use super::*;
use std::collections::HashMap;
use test_support::crashfs::CrashFs;

fn rabbitmq() -> Broker {
    brokers()
        .into_iter()
        .find(|b| b.name == "rabbitmq")
        .expect("STOMP_BROKERS names no rabbitmq: run scripts/test.sh")
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

/// Starts stompclt, cuts the power `after` later, kills it, reboots the filesystem.
fn cut_during(fs: &mut CrashFs, args: &[String], after: Duration) {
    let mut child = stompclt()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
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
        cut_during(
            &mut fs,
            &args,
            Duration::from_millis(10 + (rng >> 33) % 200),
        );
    }
    // what the broker still holds, drained to a spool of the ordinary disk
    let rest = d.path().join("rest");
    let mut args = b.opts("incoming");
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest}"),
        "--reliable",
    ]));
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&rest))]);
    args.extend(s(&["--timeout-inactivity", "2"]));
    ok(&args);
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
fn broker_a_power_cut_loses_nothing_acknowledged_with_sync() {
    let (sent, lost, torn) = broker_to_spool(100, true, 7);
    assert_eq!((lost, torn), (0, 0), "of {sent}: lost, torn");
}

#[test]
fn broker_without_sync_a_power_cut_loses_what_was_acknowledged() {
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
fn broker_a_power_cut_while_sending_loses_nothing_the_spool_held_with_sync() {
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
        cut_during(
            &mut fs,
            &args,
            Duration::from_millis(20 + (rng >> 33) % 200),
        );
        assert_eq!(elements(&spool).1, 0, "a torn element in the spool");
    }
    let received = d.path().join("received");
    let mut args = b.opts("incoming");
    args.extend(s(&[
        "--subscribe",
        &format!("destination={dest}"),
        "--reliable",
    ]));
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&received))]);
    args.extend(s(&["--timeout-inactivity", "2"]));
    ok(&args);
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
