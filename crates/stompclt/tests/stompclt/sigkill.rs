//! SIGKILL at random moments of long transfers: nothing lost, duplicates counted.

use super::*;
use test_support::soak::{Popper, SOAK_MESSAGES, receive_under_sigkill, send_under_sigkill};

/// With --dedup on both sides, while another process pops the destination spool: 0 lost,
/// 0 duplicates.
#[test]
fn broker_reliable_survives_20_sigkills_in_each_direction_exactly_once_with_dedup() {
    kill_test(SOAK_MESSAGES, "1", 20, true);
}

/// Without --dedup the same kills cost duplicates (counted, bounded): the mechanism matters.
#[test]
fn broker_batched_receipts_and_acks_survive_sigkill() {
    kill_test(SOAK_MESSAGES / 5, "100", 5, false);
}

fn kill_test(n: usize, batch: &str, kills: u64, dedup: bool) {
    // the brokers side by side: each soak mostly waits (for kills, stale locks, the broker)
    let dups: usize = std::thread::scope(|scope| {
        let soaks: Vec<_> = brokers()
            .into_iter()
            .map(|b| scope.spawn(move || soak(&b, n, batch, kills, dedup)))
            .collect();
        soaks
            .into_iter()
            .map(|s| s.join().expect("a soak panicked"))
            .sum()
    });
    if !dedup {
        // over both brokers' kills (one broker's few may all land where nothing is in
        // flight): the mechanism --dedup replaces is what makes the difference
        assert!(dups > 0, "kills without --dedup cost duplicates");
    }
}

/// One broker's soak: `n` messages sent under `kills` kills, then received under as many;
/// returns the duplicates.
fn soak(b: &Broker, n: usize, batch: &str, kills: u64, dedup: bool) -> usize {
    let d = tmp();
    let dest = unique_destination(&format!("kill-{}-{batch}", b.name));
    let sent = mixed(n, &dest);
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    // queue → broker: killed `kills` times at random moments, then run to the end, with
    // purge's default maxlock (each run releases the killed runs' locks)
    let send_args = |cmd: &mut Command| {
        cmd.args([
            "--incoming-queue".into(),
            format!("path={}", p(&inq)),
            "--reliable".into(),
            "--window".into(),
            "200".into(),
            "--remove".into(),
            "--batch".into(),
            batch.into(),
        ]);
        cmd.args(b.opts("outgoing"));
        if dedup {
            cmd.args([
                "--dedup".into(),
                "--dedup-state".into(),
                p(&d.path().join("state")),
            ]);
        }
    };
    let runs = send_under_sigkill(&inq, kills, || {
        let mut cmd = stompclt();
        send_args(&mut cmd);
        cmd
    });
    // broker → queue, killed a few times, then run to the end, while another process pops
    // the spool
    let outq = d.path().join("out");
    let popper = Popper::start(&outq);
    let received = || popper.count();
    let receive_args = |extra: &[&str]| {
        let mut args = vec![
            "--subscribe".into(),
            format!("destination={dest}"),
            "--outgoing-queue".into(),
            format!("path={}", p(&outq)),
            "--reliable".into(),
            "--batch".into(),
            batch.into(),
        ];
        if dedup {
            args.push("--dedup".into());
        }
        args.extend(s(extra));
        args.extend(b.opts("incoming"));
        args
    };
    receive_under_sigkill(
        kills,
        || {
            let mut cmd = stompclt();
            cmd.args(receive_args(&["--prefetch", "100"]));
            cmd
        },
        received,
        n,
    );
    ok(&receive_args(&["--timeout-inactivity", "5"]));
    let got = popper.finish();
    let dups = compare(&sent, &got, &format!("{} kill -9 batch {batch}", b.name));
    // a kill costs at most what was in flight: the window sending, the prefetch and a
    // batch receiving
    let bound = kills as usize * (200 + 100 + batch.parse::<usize>().unwrap_or(1));
    assert!(dups <= bound, "{dups} duplicates, more than {bound}");
    if dedup {
        assert_eq!(dups, 0, "{}: exactly once with --dedup", b.name);
    }
    eprintln!(
        "{} (batch {batch}): {} runs killed sending, {kills} receiving; {} messages received, {dups} duplicates, 0 lost",
        b.name,
        runs,
        got.len()
    );
    dups
}
