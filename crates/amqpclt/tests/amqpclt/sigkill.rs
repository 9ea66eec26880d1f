//! SIGKILL at random moments of long transfers, with --dedup while another process pops the
//! destination spool: nothing lost, no duplicate.

use std::process::Command;

use test_support::soak::{Popper, SOAK_MESSAGES, receive_under_sigkill, send_under_sigkill};

use super::*;

/// 20 kills while sending a spool to each broker (RabbitMQ over AMQP 1.0 and over
/// 0-9-1), and 20 while receiving them from RabbitMQ. The Qpid Proton broker settles a delivery before it sends it (it is gone
/// from the broker at once), so a receiver killed there loses what was in flight: that
/// direction is run without kills on it, and the README says so.
#[test]
fn broker_reliable_survives_20_sigkills_in_each_direction() {
    let mut all = brokers();
    all.push(Broker::rabbitmq091());
    // the brokers side by side: each soak mostly waits (for kills, stale locks, the broker)
    std::thread::scope(|scope| {
        for b in &all {
            scope.spawn(move || soak(b));
        }
    });
}

/// One broker's soak: a spool sent under 20 kills, then received under 20.
fn soak(b: &Broker) {
    let (d, dest, sent) = test_support::queues::spooled(SOAK_MESSAGES, &format!("kill-{}", b.name));
    let inq = d.path().join("in");
    let runs = send_under_sigkill(&inq, 20, || {
        let mut cmd = Command::new(AMQPCLT);
        cmd.args(s(&["--reliable", "--window", "200", "--remove", "--dedup"]))
            .args(["--dedup-state".into(), p(&d.path().join("state"))])
            .args(["--incoming-queue".into(), format!("path={}", p(&inq))])
            .args(b.opts("outgoing"));
        cmd
    });
    let outq = d.path().join("out");
    let receiver = || {
        let mut cmd = Command::new(AMQPCLT);
        cmd.args(s(&["--reliable", "--prefetch", "100", "--dedup"]))
            .args(["--subscribe".into(), format!("destination={dest}")])
            .args(["--outgoing-queue".into(), format!("path={}", p(&outq))])
            .args(b.opts("incoming"));
        cmd
    };
    let kills = if b.name == "proton" { 0 } else { 20 };
    let popper = Popper::start(&outq);
    receive_under_sigkill(kills, receiver, || popper.count(), sent.len());
    let out = receiver()
        .args(["--timeout-inactivity", "5"])
        .output()
        .expect("final receive");
    assert!(out.status.success(), "{out:?}");
    let got = popper.finish();
    let dups = compare(&sent, &got, &format!("{} kill -9", b.name));
    assert_eq!(dups, 0, "{}: exactly once with --dedup", b.name);
    eprintln!(
        "{}: {runs} runs killed sending, {kills} receiving; {} messages received, {dups} duplicates, 0 lost",
        b.name,
        got.len()
    );
}
