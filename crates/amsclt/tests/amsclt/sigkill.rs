//! SIGKILL at random moments of long transfers: nothing lost; no duplicate with --dedup,
//! duplicates counted without.

use std::process::Command;

use test_support::soak::{Popper, SOAK_MESSAGES, receive_under_sigkill, send_under_sigkill};

use super::*;

/// 20 kills while publishing a spool, 20 while pulling it, with --dedup (the id rides as an
/// attribute) while another process pops the destination spool; then both run to the end:
/// every message arrives once. A message pulled and not acknowledged comes back after the
/// subscription's deadline (5 s here): the window drops it.
#[test]
fn broker_reliable_survives_20_sigkills_in_each_direction() {
    soak("kill", SOAK_MESSAGES, 20, true);
}

/// Without --dedup the same kills cost duplicates (counted): the mechanism matters.
#[test]
fn broker_sigkills_without_dedup_cost_duplicates() {
    let dups = soak("kill-nodedup", SOAK_MESSAGES / 5, 10, false);
    assert!(dups > 0, "kills without --dedup cost duplicates");
}

/// `n` messages published under `kills` kills, then pulled under as many; returns the
/// duplicates.
fn soak(name: &str, n: usize, kills: u64, dedup: bool) -> usize {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription(name, 5);
    let sent = mixed(n, &topic);
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    let t = std::time::Instant::now();
    let runs = send_under_sigkill(&inq, kills, || {
        let mut cmd = Command::new(AMSCLT);
        cmd.args(s(&["--reliable", "--window", "100", "--remove"]))
            .args(["--incoming-queue".into(), format!("path={}", p(&inq))])
            .args(["--outgoing-broker-uri".into(), pubsub::uri()]);
        if dedup {
            cmd.arg("--dedup")
                .args(["--dedup-state".into(), p(&d.path().join("state"))]);
        }
        cmd
    });
    let outq = d.path().join("out");
    let receiver = || {
        let mut cmd = Command::new(AMSCLT);
        cmd.arg("--reliable")
            .args(["--subscribe".into(), format!("destination={sub}")])
            .args(["--outgoing-queue".into(), format!("path={}", p(&outq))])
            .args(["--incoming-broker-uri".into(), pubsub::uri()]);
        if dedup {
            cmd.arg("--dedup");
        }
        cmd
    };
    eprintln!("sent under kills in {:?}", t.elapsed());
    let popper = Popper::start(&outq);
    receive_under_sigkill(kills, receiver, || popper.count(), n);
    eprintln!("received under kills at {:?}", t.elapsed());
    // past the deadline of what the killed runs held, which then comes back
    let out = receiver()
        .args(["--timeout-inactivity", "8"])
        .output()
        .expect("final receive");
    assert!(out.status.success(), "{out:?}");
    let got = popper.finish();
    let dups = compare(&as_received(&sent, &sub), &got, "emulator kill -9");
    if dedup {
        assert_eq!(dups, 0, "exactly once with --dedup");
    }
    eprintln!(
        "pubsub emulator (--dedup {dedup}): {runs} runs killed sending, {kills} receiving; {} received, {dups} duplicates, 0 lost",
        got.len()
    );
    dups
}
