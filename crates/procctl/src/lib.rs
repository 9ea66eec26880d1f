//! The OS-level process code of the toolkit, written once and used by the transfer agents
//! (through `agent`) and by simplevisor: whether a process lives, signal-then-kill
//! escalation of a pid or a process group, daemonizing with a readiness pipe, signal
//! registration, syslog, the first two lines of a pidfile, and how every tool ends (its
//! [`Outcome`]: exit status, error line, clap's refusals).
//!
//! It is synchronous and uses only libc, nix, signal-hook and clap: simplevisor pulls in no
//! async runtime through it.

pub mod daemon;
pub mod liveness;
pub mod outcome;
pub mod pidfile;
pub mod signals;
pub mod syslog;

pub use daemon::{DaemonError, DaemonOptions, Daemonized, Readiness, Report, daemonize};
pub use liveness::{Target, alive, escalate, exists, group_alive, signal, wait_gone, zombie};
pub use outcome::{ClapCodes, Outcome};
pub use signals::SignalError;

/// A usage error as every tool prints it: clap's rendering (`error: WHAT\n\nUsage: …`)
/// with its first paragraph made the one line `TOOL: WHAT`, so that a log or a script
/// reading the first line of standard error sees the reason; the usage and hints follow.
pub fn usage_error(tool: &str, rendered: &str) -> String {
    // help shown for a missing command is no error message: left as it is
    let Some(text) = rendered.strip_prefix("error: ") else {
        return rendered.to_string();
    };
    let (what, rest) = text.split_once("\n\n").unwrap_or((text, ""));
    let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
    if rest.is_empty() {
        format!("{tool}: {what}\n")
    } else {
        format!("{tool}: {what}\n\n{rest}")
    }
}

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

/// This host's identity, stable across reboots: its machine id (`/etc/machine-id`), else its
/// name.
pub fn host_identity() -> String {
    ["/etc/machine-id", "/proc/sys/kernel/hostname"]
        .iter()
        .find_map(|f| {
            std::fs::read_to_string(f)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_lead_with_one_line() {
        let clap = "error: the following required arguments were not provided:\n  --path <Q>\n\n\
                    Usage: dirq add --path <Q> [FILE]...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_error("dirq", clap),
            "dirq: the following required arguments were not provided: --path <Q>\n\n\
             Usage: dirq add --path <Q> [FILE]...\n\nFor more information, try '--help'.\n"
        );
        assert_eq!(usage_error("x", "error: bad\n"), "x: bad\n");
        assert_eq!(
            usage_error("x", "About x\n\nUsage: x\n"),
            "About x\n\nUsage: x\n"
        );
    }
}
