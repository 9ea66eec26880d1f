//! The queue module under the engine: what its read-ahead locked and never handed on, and
//! what was handed on and not confirmed, is unlocked at stop; what was confirmed is removed.

use message::{Message, MessageQueue, QueueOptions};
use transfer::{Engine, ErrorKind, QueueIncoming, QueueIncomingOptions, QueueOutgoing, Settings};

use crate::fakes::{FakeOutgoing, Faults, Ledger};
use crate::{block_on, stop_flag};

/// A DQS spool of `n` messages in a directory of its own.
fn spool(n: u32) -> (tempfile::TempDir, QueueOptions, MessageQueue) {
    let d = tempfile::tempdir().expect("tempdir");
    let o: QueueOptions = format!("path={} type=DQS", d.path().join("q").display())
        .parse()
        .expect("options");
    let q = MessageQueue::open(&o).expect("queue");
    for id in 0..n {
        q.add_message(&Message::text(format!("message {id}")).with_header("id", id.to_string()))
            .expect("add");
    }
    (d, o, q)
}

fn incoming(queue: QueueOptions) -> QueueIncoming {
    QueueIncoming::new(QueueIncomingOptions {
        queue,
        remove: true,
        looping: false,
        reliable: true,
        quarantine: None,
    })
}

/// (elements left, of which locked)
fn left(q: &MessageQueue) -> (usize, usize) {
    let names: Vec<String> = q.names().map(|n| n.expect("name")).collect();
    let locked = names
        .iter()
        .filter(|n| q.dirq().is_locked(n).expect("is_locked"))
        .count();
    (names.len(), locked)
}

#[test]
fn a_count_reached_mid_read_ahead_unlocks_what_was_read_ahead() {
    for seed in 0..10 {
        let (_d, o, q) = spool(500);
        let ledger = Ledger::new(0);
        let faults = Faults {
            confirm: 0.3,
            ..Faults::default()
        };
        let mut out = FakeOutgoing::new(ledger.clone(), seed, faults);
        let settings = Settings {
            count: Some(40 + seed * 7),
            window: Some(25),
            ..Settings::default()
        };
        let mut inc = incoming(o);
        block_on(Engine::new(settings, stop_flag()).run(&mut inc, &mut out)).expect("run");
        let confirmed = ledger.borrow().confirmed.len();
        assert_eq!(confirmed as u64, 40 + seed * 7, "seed {seed}");
        assert_eq!(left(&q), (500 - confirmed, 0), "seed {seed}: left, locked");
    }
}

#[test]
fn a_stalled_destination_leaves_every_element_in_the_queue_unlocked() {
    let (_d, o, q) = spool(300);
    let ledger = Ledger::new(0);
    let mut out = FakeOutgoing::new(ledger.clone(), 1, Faults::default());
    out.stalled = true;
    let settings = Settings {
        count: Some(20),
        timeout_linger: Some(std::time::Duration::from_millis(100)),
        ..Settings::default()
    };
    let mut inc = incoming(o);
    let e =
        block_on(Engine::new(settings, stop_flag()).run(&mut inc, &mut out)).expect_err("pending");
    assert_eq!(e.kind, ErrorKind::Pending, "{e}");
    assert_eq!(left(&q), (300, 0), "left, locked");
}

#[test]
fn a_whole_queue_is_removed_once_every_element_is_confirmed() {
    let (_d, o, q) = spool(1000);
    let ledger = Ledger::new(0);
    let faults = Faults {
        confirm: 0.5,
        ..Faults::default()
    };
    let mut out = FakeOutgoing::new(ledger.clone(), 9, faults);
    let mut inc = incoming(o);
    let settings = Settings {
        window: Some(50),
        ..Settings::default()
    };
    let stats = block_on(Engine::new(settings, stop_flag()).run(&mut inc, &mut out)).expect("run");
    assert_eq!(stats.count, 1000);
    assert_eq!(ledger.borrow().stored.len(), 1000);
    assert_eq!(left(&q), (0, 0));
}

/// `--dedup` into a spool: a second copy of a message arriving while the first is staged in
/// the same batch (a redelivery) is not written; the first's batch is committed before the
/// copy is acknowledged.
#[test]
fn a_copy_arriving_while_its_id_is_staged_is_written_once() {
    use std::sync::{Arc, Mutex};
    use transfer::dedup::{Bounds, Dedup, Window};
    let (d, o, _q) = spool(0);
    let src = MessageQueue::open(&o).expect("queue");
    // ids 0..20, the ids 3 and 11 twice: every copy is read ahead at once, so each lands in
    // a batch where its first copy is staged
    for id in (0..20).chain([3, 11]) {
        src.add_message(
            &Message::text(format!("m{id}")).with_header("dedup-id", format!("id-{id}")),
        )
        .expect("add");
    }
    let dest: QueueOptions = format!("path={} type=DQS", d.path().join("out").display())
        .parse()
        .expect("options");
    let out_q = MessageQueue::open(&dest).expect("queue");
    let bounds = Bounds {
        max_age: std::time::Duration::from_secs(3600),
        max_ids: 1000,
    };
    let window = Arc::new(Mutex::new(
        Window::open(&d.path().join("out"), bounds, false, Some(&out_q)).expect("window"),
    ));
    let dedup = Dedup {
        window: window.clone(),
        by_queue: true,
        id_headers: Vec::new(),
        out_headers: Vec::new(),
        host: "h".into(),
    };
    let meter = Arc::new(transfer::Meter::default());
    let mut out = QueueOutgoing::new(dest).with_window(window);
    let mut inc = incoming(o);
    block_on(
        Engine::new(Settings::default(), stop_flag())
            .with_dedup(dedup)
            .with_meter(meter.clone())
            .run(&mut inc, &mut out),
    )
    .expect("run");
    let got: Vec<String> = out_q
        .names()
        .map(|n| {
            let n = n.expect("name");
            assert!(out_q.dirq().lock(&n).expect("lock"));
            out_q.get_message(&n).expect("get").header["dedup-id"].clone()
        })
        .collect();
    let unique: std::collections::BTreeSet<&String> = got.iter().collect();
    assert_eq!((got.len(), unique.len()), (20, 20), "each id once: {got:?}");
    assert_eq!(
        meter.duplicates.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(left(&src), (0, 0), "both copies acknowledged (removed)");
}
