//! Processes: root, liveness, waiting, SIGKILL at a random moment.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use message::generator::Rng;

/// Whether the tests run as root (read from /proc: no unsafe code for it).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// root_ tests fail loudly without root; an offline run leaves them out with --skip root_.
pub fn need_root() {
    assert!(
        is_root(),
        "needs root (scripts/test.sh runs as root); leave it out with --skip root_"
    );
}

/// Whether the process lives (a zombie is dead), from /proc: independent of the code under
/// test.
pub fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // a zombie is dead
    !stat.is_empty()
        && !stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
}

/// Whether any process of the group lives (a zombie is dead), from /proc.
pub fn group_alive(pgid: i32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // fields after the command: state, ppid, pgrp
        let mut f = stat
            .rsplit_once(')')
            .map_or("", |(_, r)| r)
            .split_whitespace();
        let state = f.next();
        let pgrp = f.nth(1).and_then(|g| g.parse::<i32>().ok());
        pgrp == Some(pgid) && state.is_some_and(|s| s != "Z")
    })
}

/// Waits for `f` to hold, failing the test after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the command and SIGKILLs it at a random moment (50 ms to `max_ms` later), unless it
/// ended before: then its exit code.
pub fn kill_at_random(cmd: Command, seed: u64, max_ms: u64) -> Option<i32> {
    kill_at_random_after(cmd, seed, 50, max_ms, &|| true)
}

/// [`kill_at_random`] once `begun` holds (the transfer has started: a loaded machine may take
/// longer to start and connect than any fixed delay), `min_ms` to `min_ms + max_ms` after;
/// `begun` is asked for at most 30 s.
pub fn kill_at_random_after(
    mut cmd: Command,
    seed: u64,
    min_ms: u64,
    max_ms: u64,
    begun: &dyn Fn() -> bool,
) -> Option<i32> {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !begun() && Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut rng = Rng::new(seed);
    let wait = Duration::from_millis(min_ms + rng.below(max_ms as usize) as u64);
    let start = Instant::now();
    while start.elapsed() < wait {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    None
}
