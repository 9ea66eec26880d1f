//! The OS-level process code of the toolkit, written once and used by the transfer agents
//! (through `agent`) and by simplevisor: whether a process lives, signal-then-kill
//! escalation of a pid or a process group, daemonizing with a readiness pipe, signal
//! registration, syslog, and the first two lines of a pidfile.
//!
//! It is synchronous and uses only libc, nix and signal-hook: simplevisor pulls in no async
//! runtime through it.

pub mod daemon;
pub mod liveness;
pub mod pidfile;
pub mod signals;
pub mod syslog;

pub use daemon::{DaemonError, DaemonOptions, Daemonized, Readiness, Report, daemonize};
pub use liveness::{Target, alive, escalate, exists, group_alive, signal, wait_gone, zombie};
pub use signals::SignalError;

/// How every tool prints an error: one line, the error and its sources joined by `: `
/// (`cannot read pid file /run/x.pid: Permission denied (os error 13)`).
pub fn error_line(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line
}
