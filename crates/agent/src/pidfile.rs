//! The agents' pidfile protocol: created exclusively (one left by a dead process is
//! replaced), touched while running (liveness for `--status`), a `quit` line asks the
//! running process to stop, removed at exit.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use procctl::Target;

/// A pidfile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PidfileError {
    /// Another live process holds it.
    #[error("pid file {} exists: {program} (pid {pid}) is running", .path.display())]
    Running {
        /// The file.
        path: PathBuf,
        /// The program name.
        program: &'static str,
        /// Its pid.
        pid: i32,
    },
    /// An I/O operation on it failed.
    #[error("cannot {op} pid file {}", .path.display())]
    Io {
        /// What was done: create, write, read, touch.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It holds no pid.
    #[error("empty pid file {}", .0.display())]
    Empty(PathBuf),
    /// Someone else's pid is in it now.
    #[error("pid file {} has been taken over", .0.display())]
    TakenOver(PathBuf),
    /// Removed and created again by someone else, over and over.
    #[error("cannot create pid file {}: it keeps coming back", .0.display())]
    KeepsComingBack(PathBuf),
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> PidfileError + 'a {
    move |source| PidfileError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// What a running agent says about itself beyond being alive (each broker of an `all:`
/// list: state and counts), written beside the pidfile for `--status`.
pub type Details = Box<dyn Fn() -> Vec<String>>;

/// The running agent's figures as one JSON object, written beside the pidfile for
/// `--status --json`.
pub type Figures = Box<dyn Fn() -> String>;

/// A pidfile held by this process; removed when dropped.
pub struct Pidfile {
    path: PathBuf,
    pid: i32,
    last_touch: Instant,
    details: Option<Details>,
    figures: Option<Figures>,
}

impl std::fmt::Debug for Pidfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pidfile")
            .field("path", &self.path)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// `PIDFILE.status`: the running agent's details, rewritten once a second.
fn details_path(pidfile: &Path) -> PathBuf {
    beside(pidfile, ".status")
}

/// `PIDFILE.json`: the running agent's figures, rewritten once a second.
fn figures_path(pidfile: &Path) -> PathBuf {
    beside(pidfile, ".json")
}

fn beside(pidfile: &Path, suffix: &str) -> PathBuf {
    let mut p = pidfile.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Replaces `path` whole: `--status` reads it at any moment.
fn replace(path: &Path, text: &str) -> Result<(), PidfileError> {
    let tmp = beside(path, ".tmp");
    fs::write(&tmp, text)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(io("write", path))
}

impl Pidfile {
    /// Creates the pidfile exclusively. One left by a process that is gone (a SIGKILL, a
    /// crash) is detected and replaced, with a warning; one of a live process is an error.
    pub fn create(path: &Path, program: &'static str) -> Result<Self, PidfileError> {
        let pid = std::process::id() as i32;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    f.write_all(format!("{pid}\n").as_bytes())
                        .map_err(io("write", path))?;
                    return Ok(Pidfile {
                        path: path.to_path_buf(),
                        pid,
                        last_touch: Instant::now(),
                        details: None,
                        figures: None,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    match procctl::pidfile::read(path) {
                        Ok((Some(other), _)) if procctl::alive(other) => {
                            return Err(PidfileError::Running {
                                path: path.to_path_buf(),
                                program,
                                pid: other,
                            });
                        }
                        Ok((other, _)) => {
                            crate::log::warn(format_args!(
                                "removing stale pid file {} (pid {} is gone)",
                                path.display(),
                                other.map_or("?".to_string(), |p| p.to_string())
                            ));
                            let _ = fs::remove_file(path);
                        }
                        Err(_) => {}
                    }
                }
                Err(e) => return Err(io("create", path)(e)),
            }
        }
        Err(PidfileError::KeepsComingBack(path.to_path_buf()))
    }

    /// Once per loop turn: checks that the file is still ours, obeys a `quit` action
    /// (`Ok(false)`), and refreshes its time stamp (at most once a second).
    pub fn tick(&mut self) -> Result<bool, PidfileError> {
        if self.last_touch.elapsed() < Duration::from_secs(1) {
            return Ok(true);
        }
        self.last_touch = Instant::now();
        let (pid, action) = procctl::pidfile::read(&self.path).map_err(io("read", &self.path))?;
        if pid != Some(self.pid) {
            return Err(PidfileError::TakenOver(self.path.clone()));
        }
        if action.as_deref() == Some("quit") {
            return Ok(false);
        }
        File::open(&self.path)
            .and_then(|f| f.set_modified(SystemTime::now()))
            .map_err(io("touch", &self.path))?;
        self.write_details()?;
        Ok(true)
    }

    /// Writes `details` beside the pidfile now and then once a second, for `--status`.
    pub fn set_details(&mut self, details: Details) -> Result<(), PidfileError> {
        self.details = Some(details);
        self.write_details()
    }

    /// Writes `figures` beside the pidfile now and then once a second, for
    /// `--status --json`.
    pub fn set_figures(&mut self, figures: Figures) -> Result<(), PidfileError> {
        self.figures = Some(figures);
        self.write_details()
    }

    fn write_details(&self) -> Result<(), PidfileError> {
        if let Some(details) = &self.details {
            let text: String = details().iter().map(|l| format!("{l}\n")).collect();
            replace(&details_path(&self.path), &text)?;
        }
        if let Some(figures) = &self.figures {
            replace(&figures_path(&self.path), &(figures() + "\n"))?;
        }
        Ok(())
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        if procctl::pidfile::read_pid(&self.path) == Some(self.pid) {
            if self.details.is_some() {
                let _ = fs::remove_file(details_path(&self.path));
            }
            if self.figures.is_some() {
                let _ = fs::remove_file(figures_path(&self.path));
            }
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What `--status` found: the LSB code and the line to print (for a running agent with an
/// `all:` list, followed by a line per broker).
pub fn status(path: &Path, program: &str) -> (i32, String) {
    match procctl::pidfile::read(path) {
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
        Ok((Some(pid), _)) if !procctl::alive(pid) => (
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
                let mut text = format!("{program} (pid {pid}) is running");
                // what it says of its brokers, if it has an `all:` list
                if let Ok(details) = fs::read_to_string(details_path(path)) {
                    for l in details.lines() {
                        text.push('\n');
                        text.push_str(l);
                    }
                }
                (0, text)
            }
        }
    }
}

/// `--status --json`: the same LSB code, and one JSON object: `program`, `code`, `status`
/// (the line of `--status`), `pid` when known, `brokers` (the lines of an `all:` list) and
/// `metrics` (the running agent's figures, as its metrics name them).
pub fn status_json(path: &Path, program: &str) -> (i32, String) {
    let (code, text) = status(path, program);
    let mut lines = text.lines();
    let mut o = serde_json::Map::new();
    o.insert("program".into(), program.into());
    o.insert("code".into(), code.into());
    o.insert("status".into(), lines.next().unwrap_or("").into());
    if let Some(pid) = procctl::pidfile::read_pid(path) {
        o.insert("pid".into(), pid.into());
    }
    if code == 0 {
        let brokers: Vec<serde_json::Value> = lines.map(|l| l.into()).collect();
        o.insert("brokers".into(), brokers.into());
        // an agent started before this version writes none: no metrics key then
        if let Some(m) = fs::read_to_string(figures_path(path))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            o.insert("metrics".into(), m);
        }
    }
    (code, serde_json::Value::Object(o).to_string())
}

/// `--quit`: writes the `quit` action, waits up to `grace` for the process to go, then
/// TERM, then KILL. Returns the lines to print; an error when there was nothing to stop.
pub fn quit(path: &Path, program: &str, grace: Duration) -> Result<Vec<String>, PidfileError> {
    let mut out = Vec::new();
    let (pid, _) = procctl::pidfile::read(path).map_err(io("read", path))?;
    let Some(pid) = pid else {
        return Err(PidfileError::Empty(path.to_path_buf()));
    };
    if !procctl::alive(pid) {
        let _ = fs::remove_file(path);
        out.push(format!(
            "{program} (pid {pid}) was not running; removed its stale pid file"
        ));
        return Ok(out);
    }
    procctl::pidfile::send_action(path, "quit").map_err(io("write", path))?;
    out.push(format!("{program} (pid {pid}) is being told to quit..."));
    let steps = [
        (None, grace),
        (Some(libc::SIGTERM), Duration::from_secs(5)),
        (Some(libc::SIGKILL), Duration::from_secs(5)),
    ];
    let went = procctl::escalate(
        Target::Pid(pid),
        &steps,
        &mut |sig| match sig {
            Some(libc::SIGTERM) => out.push(format!(
                "{program} (pid {pid}) did not quit in {}s, sent TERM",
                grace.as_secs()
            )),
            Some(_) => out.push(format!("{program} (pid {pid}) sent KILL")),
            None => {}
        },
        &mut || {},
    );
    if went == Some(0) {
        out.push(format!("{program} (pid {pid}) has quit"));
    } else {
        let _ = fs::remove_file(path);
    }
    Ok(out)
}
