//! The engine on its own, with fake modules (no broker, seconds to run): at-least-once over
//! many random schedules of stalls, out-of-order confirmations, lost connections and
//! recoveries; a refused put; INT/TERM mid-window; a stalled destination at linger; and the
//! queue module's read-ahead giving back every element it locked.

mod fakes;
mod queue;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use fakes::{FakeIncoming, FakeOutgoing, Faults, Ledger, Rng};
use transfer::{Engine, ErrorKind, Recovering, Recovery, Settings, StopFlag};

/// Runs on a runtime whose clock jumps ahead when every task waits (tokio's paused time).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(f)
}

fn stop_flag() -> StopFlag {
    Arc::new(AtomicBool::new(false))
}

/// One random schedule: its faults, window and size from the seed.
fn schedule(seed: u64) -> (u32, Faults, Settings) {
    let mut r = Rng::new(seed);
    let n = 20 + r.below(180) as u32;
    let p = |r: &mut Rng, max: usize| r.below(max + 1) as f64 / 100.0;
    let faults = Faults {
        idle: p(&mut r, 20),
        in_lost: p(&mut r, 5),
        out_lost: p(&mut r, 5),
        delivered_unconfirmed: p(&mut r, 100),
        recover_fails: p(&mut r, 30),
        confirm: 0.05 + p(&mut r, 90),
        refuse_put: None,
        bad_put: None,
        bad_later: None,
    };
    let settings = Settings {
        window: (r.below(4) > 0).then(|| 1 + r.below(30)),
        ..Settings::default()
    };
    (n, faults, settings)
}

#[test]
fn random_schedules_lose_nothing_and_acknowledge_only_what_was_confirmed() {
    let mut recoveries = 0;
    for seed in 0..400 {
        let (n, faults, settings) = schedule(seed);
        let ledger = Ledger::new(n);
        let counts = Arc::new(Recovery::default());
        let inc = FakeIncoming::new(ledger.clone(), seed, faults.clone());
        let out = FakeOutgoing::new(ledger.clone(), seed, faults);
        let mut inc = Recovering::new(inc, true).with_recovery(counts.clone());
        let mut out = Recovering::new(out, true).with_recovery(counts.clone());
        let stats = block_on(Engine::new(settings, stop_flag()).run(&mut inc, &mut out))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let l = ledger.borrow();
        assert!(l.lost(n).is_empty(), "seed {seed}: lost {:?}", l.lost(n));
        assert_eq!(
            l.acked_ids.len(),
            n as usize,
            "seed {seed}: not all acknowledged"
        );
        assert!(l.source.is_empty(), "seed {seed}: left in the source");
        assert_eq!(
            l.stopped_with,
            Some(0),
            "seed {seed}: stopped with deliveries held"
        );
        // Recovering counted exactly what the modules reported, and nothing else
        assert_eq!(counts.reconnects.load(Relaxed), l.reconnects, "seed {seed}");
        assert_eq!(counts.resent.load(Relaxed), l.resent, "seed {seed}");
        assert_eq!(counts.unacked.load(Relaxed), l.forgotten, "seed {seed}");
        // every duplicate is accounted for: sent again, or received again
        let accounted = l.resent + l.forgotten;
        assert!(
            l.duplicates() as u64 <= accounted,
            "seed {seed}: {} duplicates, {accounted} accounted for",
            l.duplicates()
        );
        assert!(stats.count >= u64::from(n), "seed {seed}");
        recoveries += l.reconnects;
    }
    // the schedules did exercise recovery
    assert!(
        recoveries > 100,
        "only {recoveries} recoveries over 400 schedules"
    );
}

#[test]
fn without_reconnect_a_lost_connection_ends_the_run_and_acknowledges_nothing_unconfirmed() {
    for seed in 0..100 {
        let (n, mut faults, settings) = schedule(seed);
        faults.out_lost = 0.05;
        let ledger = Ledger::new(n);
        let mut inc = Recovering::new(
            FakeIncoming::new(ledger.clone(), seed, faults.clone()),
            false,
        );
        let mut out = Recovering::new(FakeOutgoing::new(ledger.clone(), seed, faults), false);
        let r = block_on(Engine::new(settings, stop_flag()).run(&mut inc, &mut out));
        let l = ledger.borrow();
        // acknowledgements were checked against confirmations as they happened
        assert!(
            l.stopped_with.is_some(),
            "seed {seed}: incoming not stopped"
        );
        match r {
            Ok(_) => assert!(l.lost(n).is_empty(), "seed {seed}"),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Protocol, "seed {seed}: {e}");
                // what was not acknowledged is back in the source: nothing lost
                let back: std::collections::HashSet<u32> = l.source.iter().copied().collect();
                for id in 0..n {
                    assert!(
                        l.acked_ids.contains(&id) || back.contains(&id),
                        "seed {seed}: message {id} neither acknowledged nor given back"
                    );
                }
            }
        }
    }
}

#[test]
fn a_refused_put_ends_the_run_with_its_message_unacknowledged() {
    for nth in [1, 2, 7, 30] {
        let faults = Faults {
            confirm: 0.5,
            refuse_put: Some(nth),
            ..Faults::default()
        };
        let ledger = Ledger::new(50);
        let mut inc = FakeIncoming::new(ledger.clone(), nth, faults.clone());
        let mut out = FakeOutgoing::new(ledger.clone(), nth, faults);
        let settings = Settings {
            window: Some(5),
            ..Settings::default()
        };
        let e = block_on(Engine::new(settings, stop_flag()).run(&mut inc, &mut out))
            .expect_err("a refused put is final");
        assert_eq!(e.kind, ErrorKind::Broker, "{e}");
        let l = ledger.borrow();
        assert_eq!(l.puts, nth, "nothing put after the refusal");
        // the refused message (id nth-1) was not acknowledged, and went back to the source
        assert!(!l.acked_ids.contains(&(nth as u32 - 1)));
        assert!(l.source.contains(&(nth as u32 - 1)));
        assert!(l.stopped_with.is_some(), "incoming stopped after the error");
    }
}

#[test]
fn a_refused_message_goes_to_the_reject_queue_and_the_run_goes_on() {
    for (bad_put, bad_later) in [(Some(3), None), (None, Some(7)), (Some(2), Some(40))] {
        let faults = Faults {
            confirm: 0.5,
            bad_put,
            bad_later,
            ..Faults::default()
        };
        let ledger = Ledger::new(50);
        let mut inc = FakeIncoming::new(ledger.clone(), 9, faults.clone());
        let mut out = FakeOutgoing::new(ledger.clone(), 9, faults);
        let d = tempfile::tempdir().expect("tempdir");
        let q = message::MessageQueue::open_str(&format!("path={}", d.path().display()))
            .expect("reject queue");
        let settings = Settings {
            window: Some(5),
            ..Settings::default()
        };
        let stats = block_on(
            Engine::new(settings, stop_flag())
                .with_reject(q)
                .run(&mut inc, &mut out),
        )
        .expect("a refused message does not end the run");
        assert_eq!(stats.count, 50);
        let q = message::MessageQueue::open_str(&format!("path={}", d.path().display()))
            .expect("reject queue");
        let mut rejected = Vec::new();
        for name in q.names() {
            let name = name.expect("name");
            assert!(q.dirq().lock(&name).expect("lock"));
            let m = q.get_message(&name).expect("message");
            assert!(
                m.header[transfer::REJECT_REASON].contains("refused")
                    || m.header[transfer::REJECT_REASON].contains("too large")
            );
            rejected.push(m.header["id"].parse::<u32>().expect("id"));
        }
        rejected.sort_unstable();
        let expected: Vec<u32> = [bad_put, bad_later]
            .into_iter()
            .flatten()
            .map(|n| n as u32 - 1)
            .collect();
        assert_eq!(rejected, expected, "each refused message, once");
        let l = ledger.borrow();
        assert!(
            l.source.is_empty(),
            "every message acknowledged, the rejected ones too"
        );
        assert_eq!(l.acked_ids.len(), 50);
        assert_eq!(l.lost(50), expected, "the others stored");
    }
}

#[test]
fn stop_mid_window_lingers_until_every_put_is_confirmed_and_acknowledged() {
    for seed in 0..50 {
        let faults = Faults {
            confirm: 0.2,
            ..Faults::default()
        };
        let ledger = Ledger::new(200);
        let stop = stop_flag();
        let mut inc = FakeIncoming::new(ledger.clone(), seed, faults.clone());
        let stop_at = 10 + seed;
        inc.stop_after = Some((stop_at, stop.clone()));
        let mut out = FakeOutgoing::new(ledger.clone(), seed, faults);
        let settings = Settings {
            window: Some(20),
            ..Settings::default()
        };
        block_on(Engine::new(settings, stop).run(&mut inc, &mut out)).expect("run");
        let l = ledger.borrow();
        assert_eq!(l.puts, stop_at, "seed {seed}: took more after the stop");
        assert_eq!(
            l.acked.len() as u64,
            stop_at,
            "seed {seed}: not all acknowledged"
        );
        assert_eq!(l.stopped_with, Some(0), "seed {seed}");
        assert_eq!(l.source.len() as u64, 200 - stop_at, "seed {seed}");
    }
}

#[test]
fn a_stalled_destination_at_linger_ends_with_pending_and_acknowledges_nothing() {
    let ledger = Ledger::new(30);
    let stop = stop_flag();
    let mut inc = FakeIncoming::new(ledger.clone(), 1, Faults::default());
    inc.stop_after = Some((10, stop.clone()));
    let mut out = FakeOutgoing::new(ledger.clone(), 1, Faults::default());
    out.stalled = true;
    let settings = Settings {
        timeout_linger: Some(Duration::from_millis(200)),
        ..Settings::default()
    };
    let e = block_on(Engine::new(settings, stop).run(&mut inc, &mut out))
        .expect_err("pending messages");
    assert_eq!(e.kind, ErrorKind::Pending, "{e}");
    assert_eq!(e.to_string(), "10 pending messages");
    let l = ledger.borrow();
    assert!(l.acked.is_empty());
    // the ten unconfirmed deliveries were given back at stop
    assert_eq!(l.stopped_with, Some(10));
    assert_eq!(l.source.len(), 30);
}

#[test]
fn recovering_counts_and_resends_exactly_the_unconfirmed() {
    use transfer::{Got, Incoming, Outgoing};
    // six puts, none confirmed, then the connection is found lost
    let ledger = Ledger::new(6);
    let counts = Arc::new(Recovery::default());
    let fake = FakeOutgoing::new(ledger.clone(), 3, Faults::default());
    let lose = fake.lose_next.clone();
    let mut out = Recovering::new(fake, true).with_recovery(counts.clone());
    let mut inc = FakeIncoming::new(ledger.clone(), 3, Faults::default());
    block_on(async {
        for _ in 0..6 {
            let Got::Message(m, t) = inc.get().await.expect("get") else {
                panic!("a message")
            };
            out.put(&m, t).await.expect("put");
        }
        lose.set(true);
        let mut buf = Vec::new();
        out.confirmed(&mut buf, Duration::ZERO)
            .await
            .expect("recovered");
        assert!(buf.is_empty());
    });
    assert_eq!(counts.reconnects.load(Relaxed), 1);
    assert_eq!(
        counts.resent.load(Relaxed),
        6,
        "the six unconfirmed, sent again"
    );
    assert_eq!(
        counts.unacked.load(Relaxed),
        0,
        "an outgoing side forgets nothing"
    );
    assert_eq!(out.pending(), 6, "still awaiting their confirmations");
    // a side without --reconnect gives the error back and counts nothing
    let fake = FakeOutgoing::new(ledger.clone(), 3, Faults::default());
    fake.lose_next.set(true);
    let mut out = Recovering::new(fake, false).with_recovery(counts.clone());
    let e = block_on(out.confirmed(&mut Vec::new(), Duration::ZERO)).expect_err("lost");
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert_eq!(counts.reconnects.load(Relaxed), 1);
}
