//! dirq under power cuts (test_support::crashfs): adds with `sync` that returned are all there
//! after the cut, whole; without `sync` they are not (the filesystem keeps nothing unsynced).
//! Root: it mounts.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dirq::{DirQueue, Options, QueueSimple};
use test_support::crashfs::CrashFs;

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
fn root_dirq_adds_with_sync_survive_power_cuts_and_without_it_do_not() {
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
