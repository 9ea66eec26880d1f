//! The pidfile: the reference's control channel (line 1 the pid, line 2 an action written by
//! the command line; the daemon reads it every half second, rewrites it with only its pid
//! and so touches it, the heartbeat `status` looks at), plus an exclusive lock held for the
//! daemon's life, so that a pidfile left by a dead daemon is recognised as stale.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cli::exit;
use crate::error::{Error, Result};

/// What the command line asked the daemon to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Stop the children and exit.
    Quit,
    /// Exit, leaving the children running.
    StopSupervisor,
    /// Stop the children, keep supervising (they start again at the next cycle).
    StopChildren,
    /// Run a cycle now.
    WakeUp,
    /// Restart the node at this path.
    RestartChild(String),
    /// Something else (logged as unknown).
    Unknown(String),
}

impl Action {
    /// Parses line 2.
    pub fn parse(s: &str) -> Action {
        let s = s.trim();
        match s {
            "quit" => Action::Quit,
            "stop_supervisor" => Action::StopSupervisor,
            "stop_children" => Action::StopChildren,
            "wake_up" => Action::WakeUp,
            _ => match s.strip_prefix("restart_child") {
                Some(p) if p.starts_with(' ') => Action::RestartChild(p.trim().to_string()),
                _ => Action::Unknown(s.to_string()),
            },
        }
    }
}

fn err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Pidfile {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The daemon's side: created exclusively (a stale one replaced), locked, polled.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    file: File,
    pid: u32,
}

pub use procctl::pidfile::read_pid;

impl Pidfile {
    /// Creates the pidfile for this process. An existing one whose lock nobody holds, and
    /// whose process is gone, is stale and taken over (with a warning); a locked one, or one
    /// whose process still lives, means another simplevisor runs.
    pub fn create(path: &Path) -> Result<Pidfile> {
        let pid = std::process::id();
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map_err(|e| err(path, format!("cannot open: {e}")))?;
                let other = read_pid(path);
                if f.try_lock().is_err() {
                    return Err(err(
                        path,
                        format!(
                            "simplevisor is already running (pid {}, the pidfile is locked)",
                            other.map_or("?".into(), |p| p.to_string())
                        ),
                    ));
                }
                if let Some(p) = other
                    && p != pid as i32
                    && procctl::alive(p)
                {
                    return Err(err(
                        path,
                        format!("cannot write to it: File exists (pid {p} is alive)"),
                    ));
                }
                crate::warning!(
                    "pidfile {} was stale (pid {}), taking it over",
                    path.display(),
                    other.map_or("?".into(), |p| p.to_string())
                );
                f
            }
            Err(e) => return Err(err(path, format!("cannot create: {e}"))),
        };
        if file.try_lock().is_err() {
            return Err(err(path, "locked by another process"));
        }
        let mut p = Pidfile {
            path: path.to_path_buf(),
            file,
            pid,
        };
        p.rewrite(None)?;
        Ok(p)
    }

    fn rewrite(&mut self, action: Option<&str>) -> Result<()> {
        let text = match action {
            Some(a) => format!("{}\n{a}\n", self.pid),
            None => format!("{}\n", self.pid),
        };
        self.file
            .set_len(0)
            .and_then(|_| self.file.rewind())
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .map_err(|e| err(&self.path, format!("cannot write: {e}")))
    }

    /// Reads the action line (if any), rewrites the file with only the pid, which also
    /// refreshes its modification time: the heartbeat.
    pub fn poll(&mut self) -> Result<Option<Action>> {
        let mut text = String::new();
        self.file
            .rewind()
            .and_then(|_| self.file.read_to_string(&mut text))
            .map_err(|e| err(&self.path, format!("cannot read: {e}")))?;
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("").trim();
        if !first.is_empty() && first.parse::<u32>().ok() != Some(self.pid) {
            return Err(err(&self.path, "pidfile has been taken by another pid"));
        }
        let action = lines
            .next()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(Action::parse);
        if action.is_some() || first.is_empty() {
            self.rewrite(None)?;
        } else {
            // only the heartbeat: rewriting would race with a command line writing an action
            self.file
                .set_modified(SystemTime::now())
                .map_err(|e| err(&self.path, format!("cannot touch: {e}")))?;
        }
        Ok(action)
    }

    /// Removes it (at exit).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The command line's side: writes an action for the daemon, in place (the daemon's lock
/// is on this file, not on a replacement).
pub fn send(path: &Path, action: &str) -> Result<Option<i32>> {
    procctl::pidfile::send_action(path, action).map_err(|e| err(path, format!("cannot write: {e}")))
}

/// `status`: (exit code, message): alive and fresh ([`exit::OK`]), alive but stuck
/// ([`exit::FAILURE`]), not running ([`exit::NOT_RUNNING`]).
pub fn status(path: &Path, fresh: Duration) -> (i32, String) {
    let Some(pid) = read_pid(path) else {
        return (
            exit::NOT_RUNNING,
            "simplevisor is not running (no pidfile)".into(),
        );
    };
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let date = crate::log::asctime(mtime);
    let date = date.split(',').next().unwrap_or("").to_string();
    if !procctl::alive(pid) {
        return (
            exit::NOT_RUNNING,
            format!("simplevisor (pid {pid}) does not seem to be running anymore"),
        );
    }
    let age = SystemTime::now().duration_since(mtime).unwrap_or_default();
    if age > fresh {
        (
            exit::FAILURE,
            format!("simplevisor (pid {pid}) is not running since {date}"),
        )
    } else {
        (
            exit::OK,
            format!("simplevisor (pid {pid}) was active on {date}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert_eq!(Action::parse("quit\n"), Action::Quit);
        assert_eq!(
            Action::parse("restart_child top/sub/b"),
            Action::RestartChild("top/sub/b".into())
        );
        assert_eq!(Action::parse("dance"), Action::Unknown("dance".into()));
    }

    #[test]
    fn create_poll_send_and_stale() {
        let d = tempfile::tempdir().expect("tmp");
        let path = d.path().join("sv.pid");
        let mut p = Pidfile::create(&path).expect("create");
        assert_eq!(read_pid(&path), Some(std::process::id() as i32));
        // a second one in this process: the file is locked through the first handle
        assert!(Pidfile::create(&path).is_err());
        assert_eq!(
            send(&path, "wake_up").expect("send"),
            Some(std::process::id() as i32)
        );
        assert_eq!(p.poll().expect("poll"), Some(Action::WakeUp));
        assert_eq!(p.poll().expect("poll"), None);
        assert_eq!(status(&path, Duration::from_secs(60)).0, 0);
        p.remove();
        assert_eq!(status(&path, Duration::from_secs(60)).0, 3);
        // a stale one: a dead pid, no lock
        std::fs::write(&path, "999999999\n").expect("write");
        let p = Pidfile::create(&path).expect("stale replaced");
        p.remove();
    }
}
