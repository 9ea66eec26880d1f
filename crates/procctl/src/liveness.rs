//! Whether a process (or a process group) lives, and signal-then-kill escalation.

use std::time::{Duration, Instant};

/// Whether a process with this pid exists (a zombie included); a process we may not
/// signal (EPERM) exists too.
pub fn exists(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether the process has finished and only waits for its parent to reap it.
pub fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // the command name in parentheses may hold anything: the state follows the last ')'
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|st| st == "Z"))
        })
        .unwrap_or(false)
}

/// Whether the process lives: it exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    exists(pid) && !zombie(pid)
}

/// Whether any process of the group is alive.
pub fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 to a group only checks.
    pgid > 1 && unsafe { libc::kill(-pgid, 0) } == 0
}

/// What a signal is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One process.
    Pid(i32),
    /// A whole process group (by its leader's pid).
    Group(i32),
}

impl Target {
    /// Whether the process, or any process of the group, lives.
    pub fn alive(self) -> bool {
        match self {
            Target::Pid(p) => alive(p),
            Target::Group(g) => group_alive(g),
        }
    }
}

/// Sends a signal; a target that is gone, or pid 0/1 (never meant), is ignored.
pub fn signal(target: Target, sig: i32) {
    let pid = match target {
        Target::Pid(p) if p > 1 => p,
        Target::Group(g) if g > 1 => -g,
        _ => return,
    };
    // SAFETY: plain kill(2).
    unsafe { libc::kill(pid, sig) };
}

/// Waits up to `limit` for the target to be gone, calling `each` between looks (a
/// supervisor reaps its children there). Returns whether it is gone.
pub fn wait_gone(target: Target, limit: Duration, each: &mut dyn FnMut()) -> bool {
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    loop {
        each();
        if !target.alive() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(nap.min(limit.saturating_sub(start.elapsed())));
        nap = (nap * 2).min(Duration::from_millis(50));
    }
}

/// Signal-then-kill: for each step, `before(signal)` is called (to say what is done), the
/// signal sent (`None`: only wait, e.g. after a polite request through a pidfile), and the
/// target given the step's time to go. Returns the index of the step during which it went,
/// or `None` if it outlived them all.
pub fn escalate(
    target: Target,
    steps: &[(Option<i32>, Duration)],
    before: &mut dyn FnMut(Option<i32>),
    each: &mut dyn FnMut(),
) -> Option<usize> {
    for (i, (sig, wait)) in steps.iter().enumerate() {
        before(*sig);
        if let Some(s) = sig {
            signal(target, *s);
        }
        if wait_gone(target, *wait, each) {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_alive_then_a_zombie_then_gone() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let pid = child.id() as i32;
        assert!(alive(pid));
        assert!(!alive(0) && !exists(-1));
        let mut said = Vec::new();
        // a TERM-ignoring program would need the KILL; sleep goes at the first step
        let went = escalate(
            Target::Pid(pid),
            &[
                (None, Duration::from_millis(50)),
                (Some(libc::SIGTERM), Duration::from_secs(5)),
            ],
            &mut |s| said.push(s),
            &mut || {},
        );
        assert_eq!(went, Some(1));
        assert_eq!(said, [None, Some(libc::SIGTERM)]);
        // not reaped yet: it exists as a zombie but is not alive
        assert!(exists(pid) && zombie(pid) && !alive(pid));
        child.wait().expect("reap");
        assert!(!exists(pid));
    }

    #[test]
    fn a_group_is_killed_whole() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sh")
            .args(["-c", "trap '' TERM; sleep 30 & sleep 30"])
            .process_group(0)
            .spawn()
            .expect("sh");
        let pgid = child.id() as i32;
        std::thread::sleep(Duration::from_millis(100));
        assert!(group_alive(pgid));
        let went = escalate(
            Target::Group(pgid),
            &[
                (Some(libc::SIGTERM), Duration::from_millis(300)),
                (Some(libc::SIGKILL), Duration::from_secs(5)),
            ],
            &mut |_| {},
            &mut || {
                let _ = child.try_wait();
            },
        );
        // TERM is ignored by the shell and, inherited, by its sleeps: only KILL ends them
        assert_eq!(went, Some(1));
        assert!(!group_alive(pgid));
    }
}
