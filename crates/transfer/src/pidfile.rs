//! The pidfile protocol of stompclt and amqpclt: created exclusively, touched while running
//! (liveness for `--status`), a `quit` line asks the running process to stop, removed at exit.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::{Error, ErrorKind, Result};

fn perr(msg: String) -> Error {
    Error::new(ErrorKind::Pidfile, msg)
}

fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // a zombie has finished: only its parent has not reaped it yet
    exists && !zombie(pid)
}

fn zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(false)
}

/// Reads `(pid, action)` from a pidfile.
fn read(path: &Path) -> std::io::Result<(Option<i32>, Option<String>)> {
    let mut s = String::new();
    File::open(path)?.read_to_string(&mut s)?;
    let mut lines = s.lines();
    let pid = lines.next().and_then(|l| l.trim().parse().ok());
    let action = lines
        .next()
        .map(|l| l.trim().to_string())
        .filter(|a| !a.is_empty());
    Ok((pid, action))
}

/// A pidfile held by this process; removed when dropped.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    pid: i32,
    last_touch: Instant,
}

impl Pidfile {
    /// Creates the pidfile exclusively. One left by a process that is gone (a SIGKILL, a
    /// crash) is detected and replaced, with a warning; one of a live process is an error.
    pub fn create(path: &Path, program: &str) -> Result<Self> {
        let pid = std::process::id() as i32;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    f.write_all(format!("{pid}\n").as_bytes()).map_err(|e| {
                        perr(format!("cannot write pid file {}: {e}", path.display()))
                    })?;
                    return Ok(Pidfile {
                        path: path.to_path_buf(),
                        pid,
                        last_touch: Instant::now(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read(path) {
                    Ok((Some(other), _)) if alive(other) => {
                        return Err(perr(format!(
                            "pid file {} exists: {program} (pid {other}) is running",
                            path.display()
                        )));
                    }
                    Ok((other, _)) => {
                        eprintln!(
                            "{program}: removing stale pid file {} (pid {} is gone)",
                            path.display(),
                            other.map_or("?".to_string(), |p| p.to_string())
                        );
                        let _ = fs::remove_file(path);
                    }
                    Err(_) => {}
                },
                Err(e) => {
                    return Err(perr(format!(
                        "cannot create pid file {}: {e}",
                        path.display()
                    )));
                }
            }
        }
        Err(perr(format!(
            "cannot create pid file {}: it keeps coming back",
            path.display()
        )))
    }

    /// Once per loop turn: checks that the file is still ours, obeys a `quit` action
    /// (`Ok(false)`), and refreshes its time stamp (at most once a second).
    pub fn tick(&mut self) -> Result<bool> {
        if self.last_touch.elapsed() < Duration::from_secs(1) {
            return Ok(true);
        }
        self.last_touch = Instant::now();
        let (pid, action) = read(&self.path)
            .map_err(|e| perr(format!("cannot read pid file {}: {e}", self.path.display())))?;
        if pid != Some(self.pid) {
            return Err(perr(format!(
                "pid file {} has been taken over",
                self.path.display()
            )));
        }
        if action.as_deref() == Some("quit") {
            return Ok(false);
        }
        File::open(&self.path)
            .and_then(|f| f.set_modified(SystemTime::now()))
            .map_err(|e| {
                perr(format!(
                    "cannot touch pid file {}: {e}",
                    self.path.display()
                ))
            })?;
        Ok(true)
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        if let Ok((Some(pid), _)) = read(&self.path)
            && pid == self.pid
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What `--status` found: the LSB code and the line to print.
pub fn status(path: &Path, program: &str) -> (i32, String) {
    match read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (3, format!("{program} is not running"))
        }
        Err(e) => (4, format!("{program} status is unknown: {e}")),
        Ok((None, _)) => (
            4,
            format!(
                "{program} status is unknown: empty pid file {}",
                path.display()
            ),
        ),
        Ok((Some(pid), _)) if !alive(pid) => (
            1,
            format!(
                "{program} (pid {pid}) is dead but its pid file {} exists",
                path.display()
            ),
        ),
        Ok((Some(pid), _)) => {
            let age = fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .unwrap_or_default();
            if age > Duration::from_secs(60) {
                (
                    4,
                    format!(
                        "{program} (pid {pid}) is stale: pid file not touched for {}s",
                        age.as_secs()
                    ),
                )
            } else {
                (0, format!("{program} (pid {pid}) is running"))
            }
        }
    }
}

/// `--quit`: writes the `quit` action, waits up to `grace` for the process to go, then
/// TERM, then KILL. Returns the lines to print; an error when there was nothing to stop.
pub fn quit(path: &Path, program: &str, grace: Duration) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let (pid, _) =
        read(path).map_err(|e| perr(format!("cannot read pid file {}: {e}", path.display())))?;
    let Some(pid) = pid else {
        return Err(perr(format!("empty pid file {}", path.display())));
    };
    if !alive(pid) {
        let _ = fs::remove_file(path);
        out.push(format!(
            "{program} (pid {pid}) was not running; removed its stale pid file"
        ));
        return Ok(out);
    }
    {
        let mut f = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|e| perr(format!("cannot write pid file {}: {e}", path.display())))?;
        let _ = f.lock();
        f.write_all(format!("{pid}\nquit\n").as_bytes())
            .map_err(|e| perr(format!("cannot write pid file {}: {e}", path.display())))?;
    }
    out.push(format!("{program} (pid {pid}) is being told to quit..."));
    let wait = |d: Duration| {
        let start = Instant::now();
        while start.elapsed() < d {
            if !alive(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        !alive(pid)
    };
    if wait(grace) {
        out.push(format!("{program} (pid {pid}) has quit"));
    } else {
        // SAFETY: plain kill(2) on the pid the pidfile names.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        out.push(format!(
            "{program} (pid {pid}) did not quit in {}s, sent TERM",
            grace.as_secs()
        ));
        if !wait(Duration::from_secs(5)) {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            out.push(format!("{program} (pid {pid}) sent KILL"));
            wait(Duration::from_secs(5));
        }
        let _ = fs::remove_file(path);
    }
    Ok(out)
}
