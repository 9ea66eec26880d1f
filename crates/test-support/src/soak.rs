//! SIGKILL soaks: a transfer killed at random moments, then run to its end.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use message::MessageQueue;

use crate::process::kill_at_random;

/// Sends the spool at `inq` with `send()` (which must read it with `maxlock=1`, so that purge
/// releases the locks a killed run left), killed at `kills` random moments in the first
/// 300 ms of each run, then runs it unkilled until the spool is empty (asserted). Returns
/// how many runs were started under a kill.
pub fn send_under_sigkill(inq: &Path, kills: u64, send: impl Fn() -> Command) -> u64 {
    let mut runs = 0;
    for k in 0..kills {
        // no wait for the killed run's locks to go stale: the next run leaves those elements
        // and the unkilled runs below send them
        std::thread::sleep(Duration::from_millis(100));
        runs += 1;
        // within 300 ms: twenty kills fit in a transfer of 100 000 messages
        if kill_at_random(send(), k, 250).is_some() {
            break; // it finished before its kill
        }
    }
    // locks are dated in whole seconds: one a killed run took may need two seconds to
    // count as stale
    let q = MessageQueue::open_str(&format!("path={}", inq.display())).expect("open");
    for _ in 0..5 {
        if q.dirq().count().expect("count") == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2100));
        let out = send().output().expect("final send");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(q.dirq().count().expect("count"), 0, "spool sent");
    runs
}

/// Receives with `receive()`, killed at `kills` random moments (seeds apart from the
/// sending ones); the caller then runs it to the end.
pub fn receive_under_sigkill(kills: u64, receive: impl Fn() -> Command) {
    for k in 0..kills {
        kill_at_random(receive(), 100 + k, 1000);
    }
}
