//! Daemonizing with a readiness pipe: double fork and setsid; the original process waits
//! until the daemon says it started (it holds its pidfile, its children run) or failed, so
//! that `tool --daemon` reports the daemon's own error and exit status, not a blind 0.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::unistd::{ForkResult, fork, pipe2, setsid};

/// Why the process could not daemonize.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// pipe2(2) failed.
    #[error("cannot create a pipe to daemonize")]
    Pipe(#[source] nix::Error),
    /// fork(2) failed.
    #[error("cannot fork to daemonize")]
    Fork(#[source] nix::Error),
    /// setsid(2) failed.
    #[error("cannot start a session to daemonize")]
    Setsid(#[source] nix::Error),
}

/// What differs between the tools.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaemonOptions {
    /// Change to `/` (simplevisor, whose configuration paths are made absolute first); the
    /// agents stay where they were started, so relative queue paths keep their meaning.
    pub chdir_root: bool,
    /// Keep standard output and error when they are regular files (a log the caller
    /// redirected to); otherwise they go to /dev/null like standard input.
    pub keep_regular_output: bool,
}

/// What the original process learnt from the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// It started; its pid.
    Started(i32),
    /// It failed to start; its one-line error.
    Failed(String),
    /// It died without a word.
    Died,
}

/// Which side of the fork the caller is on.
#[derive(Debug)]
pub enum Daemonized {
    /// The original process: the daemon's report. The caller prints it and exits.
    Parent(Report),
    /// The daemon: report through this once started (or failed).
    Daemon(Readiness),
}

/// The daemon's end of the readiness pipe (close-on-exec: programs it starts do not keep
/// the original process waiting).
#[derive(Debug)]
pub struct Readiness(File);

impl Readiness {
    /// Tells the original process that the daemon started.
    pub fn ready(mut self) {
        let _ = writeln!(self.0, "ok {}", std::process::id());
    }

    /// Tells the original process why the daemon could not start.
    pub fn failed(mut self, message: &str) {
        let _ = writeln!(self.0, "error {}", message.replace('\n', " "));
    }
}

fn parse(msg: &str) -> Report {
    let msg = msg.trim();
    if let Some(pid) = msg.strip_prefix("ok ").and_then(|p| p.trim().parse().ok()) {
        Report::Started(pid)
    } else if let Some(e) = msg.strip_prefix("error ") {
        Report::Failed(e.to_string())
    } else if msg.is_empty() {
        Report::Died
    } else {
        Report::Failed(msg.to_string())
    }
}

/// Detaches. Call it before any thread is started (the async runtime comes later).
pub fn daemonize(o: DaemonOptions) -> Result<Daemonized, DaemonError> {
    let (r, w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(DaemonError::Pipe)?;
    // SAFETY: the caller has started no thread yet, so fork is safe.
    match unsafe { fork() }.map_err(DaemonError::Fork)? {
        ForkResult::Parent { child } => {
            drop(w);
            let mut msg = String::new();
            let _ = File::from(r).read_to_string(&mut msg);
            let _ = nix::sys::wait::waitpid(child, None);
            Ok(Daemonized::Parent(parse(&msg)))
        }
        ForkResult::Child => {
            drop(r);
            setsid().map_err(DaemonError::Setsid)?;
            // SAFETY: still single-threaded. A second fork: the daemon, no session leader,
            // can never acquire a terminal again.
            match unsafe { fork() }.map_err(DaemonError::Fork)? {
                // _exit, not exit: the intermediate process must not run the parent's
                // atexit handlers or flush its copies of stdio buffers
                // SAFETY: _exit(2) ends this process at once.
                ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
                ForkResult::Child => {}
            }
            if o.chdir_root {
                let _ = std::env::set_current_dir("/");
            }
            redirect(o.keep_regular_output);
            Ok(Daemonized::Daemon(Readiness(File::from(w))))
        }
    }
}

/// Standard input to /dev/null; standard output and error too, unless kept.
fn redirect(keep_regular: bool) {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    let regular = |fd: i32| {
        // SAFETY: 1 and 2 are open for the life of the process.
        nix::sys::stat::fstat(unsafe { BorrowedFd::borrow_raw(fd) })
            .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
            .unwrap_or(false)
    };
    // SAFETY: dup2 onto the standard descriptors.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        for fd in [1, 2] {
            if !(keep_regular && regular(fd)) {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports() {
        assert_eq!(parse("ok 42\n"), Report::Started(42));
        assert_eq!(
            parse("error pid file x exists\n"),
            Report::Failed("pid file x exists".into())
        );
        assert_eq!(parse(""), Report::Died);
        assert_eq!(parse("odd"), Report::Failed("odd".into()));
    }
}
