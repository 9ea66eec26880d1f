//! SIGKILL at random moments of long transfers, with --dedup while another process pops the
//! destination spool: nothing lost, no duplicate; and without it, duplicates (counted).

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
            scope.spawn(move || soak(b, SOAK_MESSAGES, 20, true));
        }
    });
}

/// Without --dedup the same kills cost duplicates (counted, bounded by what was in flight),
/// on RabbitMQ over both protocols: the mechanism matters.
#[test]
fn broker_sigkills_without_dedup_cost_duplicates() {
    let all = [Broker::rabbitmq(), Broker::rabbitmq091()];
    let dups: usize = std::thread::scope(|scope| {
        let soaks: Vec<_> = all
            .iter()
            .map(|b| scope.spawn(move || soak(b, SOAK_MESSAGES / 5, 5, false)))
            .collect();
        soaks
            .into_iter()
            .map(|s| s.join().expect("a soak panicked"))
            .sum()
    });
    // over both soaks' kills (one soak's few may all land where nothing is in flight)
    assert!(dups > 0, "kills without --dedup cost duplicates");
}

/// One broker's soak: `n` messages sent under `kills` kills, then received under as many
/// (none on the Proton broker); returns the duplicates.
fn soak(b: &Broker, n: usize, kills: u64, dedup: bool) -> usize {
    let (d, dest, sent) = test_support::queues::spooled(n, &format!("kill-{}-{dedup}", b.name));
    let inq = d.path().join("in");
    let dedup_args = |cmd: &mut Command| {
        if dedup {
            cmd.arg("--dedup");
        }
    };
    let runs = send_under_sigkill(&inq, kills, || {
        let mut cmd = Command::new(AMQPCLT);
        cmd.args(s(&["--reliable", "--window", "200", "--remove"]))
            .args(["--incoming-queue".into(), format!("path={}", p(&inq))])
            .args(b.opts("outgoing"));
        dedup_args(&mut cmd);
        if dedup {
            cmd.args(["--dedup-state".into(), p(&d.path().join("state"))]);
        }
        cmd
    });
    let outq = d.path().join("out");
    let receiver = || {
        let mut cmd = Command::new(AMQPCLT);
        cmd.args(s(&["--reliable", "--prefetch", "100"]))
            .args(["--subscribe".into(), format!("destination={dest}")])
            .args(["--outgoing-queue".into(), format!("path={}", p(&outq))])
            .args(b.opts("incoming"));
        dedup_args(&mut cmd);
        cmd
    };
    let receive_kills = if b.name == "proton" { 0 } else { kills };
    let popper = Popper::start(&outq);
    receive_under_sigkill(receive_kills, receiver, || popper.count(), sent.len());
    let out = receiver()
        .args(["--timeout-inactivity", "5"])
        .output()
        .expect("final receive");
    assert!(out.status.success(), "{out:?}");
    let got = popper.finish();
    let dups = compare(&sent, &got, &format!("{} kill -9", b.name));
    // a kill costs at most what was in flight: the window sending, the prefetch receiving
    let bound = (runs + receive_kills) as usize * 200;
    assert!(
        dups <= bound,
        "{}: {dups} duplicates, more than {bound}",
        b.name
    );
    if dedup {
        assert_eq!(dups, 0, "{}: exactly once with --dedup", b.name);
    }
    eprintln!(
        "{} (--dedup {dedup}): {runs} runs killed sending, {receive_kills} receiving; {} messages received, {dups} duplicates, 0 lost",
        b.name,
        got.len()
    );
    dups
}
