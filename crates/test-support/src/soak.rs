//! SIGKILL soaks: a transfer killed at random moments, then run to its end.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use message::MessageQueue;

use crate::process::{kill_at_random, kill_at_random_after};

/// How long after its start a killed run dies: at random in the first 50 ms to
/// `50 + KILL_WINDOW_MS` ms, connecting included (even kills), or as long after the transfer
/// has begun (odd kills: a loaded machine may still be connecting after any fixed delay), so
/// that twenty kills land within a transfer of [`SOAK_MESSAGES`] messages on either side.
pub const KILL_WINDOW_MS: u64 = 100;

/// What a soak of twenty kills each way needs: enough messages that the last kill still
/// lands mid-transfer (asserted by both helpers), no more; a soak proves its kills, not its
/// volume.
pub const SOAK_MESSAGES: usize = 50_000;

/// Sends the spool at `inq` with `send()` (purge's default `maxlock`: each run releases the
/// locks of the runs killed before it, at once), killed `kills` times at random moments of
/// each run (see [`KILL_WINDOW_MS`]), every kill mid-transfer (asserted: the spool still holds
/// messages after the last), then runs it once unkilled: the spool must be empty after it
/// (asserted). Returns the number of runs killed.
pub fn send_under_sigkill(inq: &Path, kills: u64, send: impl Fn() -> Command) -> u64 {
    let q = MessageQueue::open_str(&format!("path={}", inq.display())).expect("open");
    for k in 0..kills {
        // no wait for the killed run's locks to go stale: the next run leaves those elements
        // and the unkilled runs below send them
        std::thread::sleep(Duration::from_millis(50));
        let before = q.dirq().count().expect("count");
        let ended = if k % 2 == 0 {
            kill_at_random(send(), k, KILL_WINDOW_MS)
        } else {
            // once the broker has confirmed something (an element removed)
            let begun = || q.dirq().count().is_ok_and(|c| c < before);
            kill_at_random_after(send(), k, 0, KILL_WINDOW_MS, &begun)
        };
        assert!(
            ended.is_none(),
            "run {k} of {kills} ended ({ended:?}) before its kill: the soak needs more messages"
        );
    }
    assert!(
        q.dirq().count().expect("count") > 0,
        "the spool was sent before the last kill: the soak needs more messages"
    );
    let out = send().output().expect("final send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = q.dirq().count().expect("count");
    assert_eq!(
        left, 0,
        "{left} elements left after the run that followed the kills: locks of a killed run \
         not released"
    );
    kills
}

/// Receives with `receive()`, killed `kills` times at random moments (seeds apart from the
/// sending ones), every kill mid-transfer: asserted by `received()` (what the spool holds)
/// still short of the `total` sent after the last. The caller then runs it to the end.
pub fn receive_under_sigkill(
    kills: u64,
    receive: impl Fn() -> Command,
    received: impl Fn() -> usize,
    total: usize,
) {
    for k in 0..kills {
        let ended = if k % 2 == 0 {
            kill_at_random(receive(), 100 + k, KILL_WINDOW_MS)
        } else {
            // once something was written to the spool
            let before = received();
            let begun = || received() > before;
            kill_at_random_after(receive(), 100 + k, 0, KILL_WINDOW_MS, &begun)
        };
        assert!(
            ended.is_none(),
            "receiving run {k} ended ({ended:?}) before its kill"
        );
    }
    let got = received();
    assert!(
        got < total,
        "{got} of {total} received before the last kill: the soak needs more messages"
    );
}

/// Another process's consumer of a spool, while a soak writes to it: pops what arrives
/// (lock, read, remove), as a downstream reader of the spool does.
pub struct Popper {
    path: std::path::PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    taken: std::sync::Arc<std::sync::Mutex<Vec<message::Message>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Popper {
    /// Starts popping the spool at `path` (made by the writer later, if need be).
    pub fn start(path: &Path) -> Popper {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let taken = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (p, s, t) = (path.to_path_buf(), stop.clone(), taken.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                if p.exists() {
                    let got = crate::queues::drain(&p, "DQS");
                    t.lock().expect("taken").extend(got);
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        });
        Popper {
            path: path.to_path_buf(),
            stop,
            taken,
            thread: Some(thread),
        }
    }

    /// What was received so far: taken, and still in the spool.
    pub fn count(&self) -> usize {
        let left = if self.path.exists() {
            crate::queues::queue_count(&self.path)
        } else {
            0
        };
        left + self.taken.lock().expect("taken").len()
    }

    /// Stops popping: everything received, what it took and what is left.
    pub fn finish(mut self) -> Vec<message::Message> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("popper");
        }
        let mut got = std::mem::take(&mut *self.taken.lock().expect("taken"));
        if self.path.exists() {
            got.extend(crate::queues::drain(&self.path, "DQS"));
        }
        got
    }
}
