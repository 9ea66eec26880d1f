//! The command line of python simplevisor 1.3, plus `status --json`. Help text, man page
//! and completions come from these definitions.

use std::path::PathBuf;

use clap::Parser;

use crate::config::ConfType;

/// simplevisor's exit statuses, by name (listed in [`EXIT_CODES`]).
pub mod exit {
    /// Success; `status`: running and active; `check`: everything as expected.
    pub const OK: i32 = 0;
    /// An error (one line on stderr); `check`: something not as expected; `status`: stuck;
    /// `start`: supervision failed.
    pub const FAILURE: i32 = 1;
    /// A usage error.
    pub const USAGE: i32 = 2;
    /// `status`: not running.
    pub const NOT_RUNNING: i32 = 3;
}

/// Exit statuses, listed in `--help` and the man page.
pub const EXIT_CODES: &str = "\
Exit status:
  0  success; status: running and active; check: everything as expected
  1  error (one line on stderr); check: something not as expected; status: running but the
     pidfile is older than 60 s (stuck); start: supervision failed (intensity exceeded)
  2  usage error
  3  status: not running
  N  with a PATH: the service command's own exit status

The configuration file is described in simplevisor.conf(5).";

/// The commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Command {
    /// Start the children and supervise them (in the foreground, or --daemon).
    Start,
    /// Tell the running simplevisor to stop its children and exit (with a PATH: stop that
    /// node directly).
    Stop,
    /// Whether the simplevisor of the pidfile runs (with a PATH: the service's status).
    Status,
    /// Compare each service's status with its expected state; print the tree.
    Check,
    /// Run one supervision cycle (it starts what should run, counted for the intensity), save
    /// the store, exit (for cron).
    Single,
    /// Tell the running simplevisor to run a cycle now.
    WakeUp,
    /// Tell the running simplevisor to exit, leaving its children running (foreground = yes
    /// programs end with it; daemon = PIDFILE ones are adopted by the next start).
    StopSupervisor,
    /// Tell the running simplevisor to stop its children (they start again next cycle).
    StopChildren,
    /// Parse the configuration and build the tree.
    CheckConfiguration,
    /// With a PATH: restart that node directly.
    Restart,
    /// Tell the running simplevisor to restart the node at PATH.
    RestartChild,
    /// Print the help.
    Help,
    /// Print the help (the reference prints its POD).
    Pod,
    /// Print the help (the reference prints its RST).
    Rst,
}

/// Erlang/OTP-style supervisor for services driven by commands (init scripts, explicit
/// start/stop/status) or run by simplevisor itself (daemon = PIDFILE, foreground = yes).
/// A drop-in for python simplevisor 1.3.
#[derive(Debug, Clone, Parser)]
#[command(name = "simplevisor", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, value_name = "CONF")]
    pub conf: Option<PathBuf>,
    /// Configuration format.
    #[arg(long, value_enum, default_value = "apache")]
    pub conftype: ConfType,
    /// Detach and run in the background (start only).
    #[arg(long)]
    pub daemon: bool,
    /// Seconds between supervision cycles (from the end of one to the start of the next).
    #[arg(long, value_name = "N")]
    pub interval: Option<u64>,
    /// Where to log: stdout, file, syslog, null.
    #[arg(long, value_name = "TARGET", value_parser = ["null", "file", "syslog", "stdout"])]
    pub log: Option<String>,
    /// Log file (log = file).
    #[arg(long, value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// debug, info, warning, error, critical.
    #[arg(long, value_name = "LEVEL")]
    pub loglevel: Option<String>,
    /// Logger name (and syslog ident).
    #[arg(long, value_name = "NAME")]
    pub logname: Option<String>,
    /// Pidfile: created exclusively and locked, the control channel of the running
    /// simplevisor; a unix control socket PIDFILE.sock answers `status --json`.
    #[arg(short = 'p', long, value_name = "PIDFILE")]
    pub pidfile: Option<PathBuf>,
    /// State store (JSON): restart history kept across restarts of simplevisor.
    #[arg(long, value_name = "STORE")]
    pub store: Option<PathBuf>,
    /// status: print the running tree as JSON (from the control socket).
    #[arg(long)]
    pub json: bool,
    /// The metrics of the tree (start, single).
    #[command(flatten)]
    pub metrics: metrics::MetricsArgs,
    /// The command.
    #[arg(value_enum)]
    pub command: Command,
    /// A node of the tree: NAME/NAME/..., starting with the root entry's name.
    pub path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::{EXIT_CODES, exit};

    #[test]
    fn the_exit_codes_listed_are_the_named_ones() {
        for code in [exit::OK, exit::FAILURE, exit::USAGE, exit::NOT_RUNNING] {
            assert!(
                EXIT_CODES.contains(&format!("\n  {code}  ")),
                "{code} not listed in --help"
            );
        }
    }
}
