//! `--batch N` over AMQP 1.0: confirmed deliveries accepted N at a time, in dispositions
//! naming ranges of delivery ids; what is held back accepted when idle; nothing lost to a
//! SIGKILL.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_support::soak::receive_under_sigkill;

use super::*;

/// `n` mixed messages sent by amqpclt to a fresh RabbitMQ queue over AMQP 1.0.
fn queued(b: &Broker, n: usize, tag: &str) -> (tempfile::TempDir, String, Vec<message::Message>) {
    let (d, dest, sent) = test_support::queues::spooled(n, tag);
    send_spool(b, &d.path().join("in"));
    (d, dest, sent)
}

/// The reliable receiver of `dest` into `outq`, with `--batch batch`.
fn receiver(b: &Broker, dest: &str, outq: &Path, batch: usize) -> Command {
    let mut cmd = Command::new(AMQPCLT);
    cmd.args(s(&["--reliable", "--prefetch", "100", "--batch"]))
        .arg(batch.to_string())
        .args(["--subscribe".into(), format!("destination={dest}")])
        .args(["--outgoing-queue".into(), format!("path={}", p(outq))])
        .args(b.opts("incoming"));
    cmd
}

/// Bytes the command wrote to its sockets (`sendto`), counted by strace.
fn socket_bytes(dir: &Path, cmd: &Command) -> u64 {
    let trace = dir.join("strace.out");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=sendto", "-e", "signal=none", "-o"])
        .arg(&trace)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .output()
        .expect("strace (Debian's strace; scripts/test.sh installs it)");
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&trace).expect("strace output");
    text.lines()
        .filter(|l| l.contains("sendto("))
        .filter_map(|l| {
            l.rsplit_once(" = ")?
                .1
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[test]
fn broker_amqp10_batch_accepts_in_ranges() {
    let b = Broker::rabbitmq();
    let n = 3000;
    let mut written = Vec::new();
    for batch in [1, 100] {
        let (d, dest, sent) = queued(&b, n, &format!("batch-{batch}"));
        let outq = d.path().join("out");
        let mut cmd = receiver(&b, &dest, &outq, batch);
        cmd.args(["--count", &n.to_string()]);
        written.push(socket_bytes(d.path(), &cmd));
        let got = drain(&outq, "DQS");
        assert_eq!(compare(&sent, &got, &format!("batch {batch}")), 0);
    }
    // an Accepted disposition per delivery is some 25 bytes; one per range of 100 is not
    // a tenth of that per message (what is left is mostly the credit's flow frames)
    let (each, ranged) = (written[0], written[1]);
    eprintln!(
        "socket bytes written for {n} deliveries: {each} accepting each, {ranged} with --batch 100"
    );
    assert!(
        ranged * 4 < each,
        "--batch 100 wrote {ranged} bytes, accepting each {each}"
    );
}

#[test]
fn broker_amqp10_batch_accepts_what_it_holds_when_idle() {
    let b = Broker::rabbitmq();
    let n = 250; // two batches of 100 and 50 held back
    let (d, dest, sent) = queued(&b, n, "batch-idle");
    let outq = d.path().join("out");
    let mut cmd = receiver(&b, &dest, &outq, 100);
    let mut agent = cmd
        .args(["--timeout-inactivity", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while queue_count(&outq) < n {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{} of {n} received",
            queue_count(&outq)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // a second without deliveries makes it idle: the last 50 are accepted then
    std::thread::sleep(Duration::from_secs(3));
    let _ = agent.kill(); // SIGKILL: nothing accepted after this
    let _ = agent.wait();
    let again = d.path().join("again");
    let mut cmd = receiver(&b, &dest, &again, 100);
    let out = cmd
        .args(["--timeout-inactivity", "3"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        queue_count(&again),
        0,
        "deliveries held back were accepted when idle"
    );
    assert_eq!(compare(&sent, &drain(&outq, "DQS"), "idle"), 0);
}

#[test]
fn broker_amqp10_batched_accepts_survive_sigkill() {
    let b = Broker::rabbitmq();
    let (d, dest, sent) = queued(&b, 10_000, "batch-kill");
    let outq = d.path().join("out");
    receive_under_sigkill(
        5,
        || receiver(&b, &dest, &outq, 100),
        || queue_count(&outq),
        sent.len(),
    );
    let out = receiver(&b, &dest, &outq, 100)
        .args(["--timeout-inactivity", "5"])
        .output()
        .expect("final receive");
    assert!(out.status.success(), "{out:?}");
    let got = drain(&outq, "DQS");
    let dups = compare(&sent, &got, "batch 100 kill -9");
    // a kill costs at most the credit in flight and a batch held back
    assert!(dups <= 5 * (100 + 100), "{dups} duplicates");
    eprintln!(
        "--batch 100, 5 kills receiving 10 000: {} received, {dups} duplicates, 0 lost",
        got.len()
    );
}
