//! Warnings and `--debug` output: one line each, on standard error as `PROGRAM[PID]: …`
//! by default; `--log stdout|syslog|file|null` (the reference amqpclt's spellings, with
//! `--logfile` and `--loglevel`) sends them elsewhere. Once the agent is a daemon, whose
//! standard error is /dev/null, lines meant for a terminal go to syslog (facility `user`).
//! The engine's warnings (the `log` facade) come here too.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use procctl::syslog::{self, Facility, Priority};

static LEVEL: AtomicU8 = AtomicU8::new(0);
static QUIET: AtomicBool = AtomicBool::new(false);
static PROGRAM: OnceLock<&'static str> = OnceLock::new();
static TARGET: Mutex<Target> = Mutex::new(Target::Stderr);

/// Where the lines go.
#[derive(Debug)]
pub enum Target {
    /// Standard error (the default).
    Stderr,
    /// Standard output (`--log stdout`, the reference amqpclt's default).
    Stdout,
    /// Appended to a file (`--log file --logfile PATH`).
    File(std::fs::File),
    /// syslog, facility user.
    Syslog,
    /// Nowhere (`--log null`).
    Null,
}

/// Sets the program name of the lines and routes the `log` facade's warnings of the
/// toolkit's own crates here. Called once by [`crate::run`].
pub fn init(program: &'static str) {
    let _ = PROGRAM.set(program);
    if ::log::set_logger(&Facade).is_ok() {
        ::log::set_max_level(::log::LevelFilter::Warn);
    }
}

fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("agent")
}

/// Sends the lines there from now on.
pub fn set_target(t: Target) {
    if matches!(t, Target::Syslog) && !syslog::is_open() {
        syslog::open(program(), Facility::User);
    }
    *TARGET.lock().unwrap_or_else(|e| e.into_inner()) = t;
}

/// After `--daemon`: lines meant for a terminal go to syslog; a file or null stays.
pub fn daemonized() {
    let mut t = TARGET.lock().unwrap_or_else(|e| e.into_inner());
    if matches!(*t, Target::Stderr | Target::Stdout) {
        syslog::open(program(), Facility::User);
        *t = Target::Syslog;
    }
}

/// The final error line, also sent where the log goes when that is not a terminal (syslog,
/// the log file); [`crate::Outcome::print`] writes it on standard error itself.
pub(crate) fn error(msg: &str) {
    let mut t = TARGET.lock().unwrap_or_else(|e| e.into_inner());
    match &mut *t {
        Target::Syslog => syslog::log(Priority::Error, msg),
        Target::File(f) => {
            let _ = writeln!(f, "{}[{}]: error: {msg}", program(), std::process::id());
        }
        Target::Stderr | Target::Stdout | Target::Null => {}
    }
}

/// Sets the `--debug` level (0: off; each `-d` adds one).
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
    if level > 0 {
        // the engine's debug lines (a recovery's cause) are `--debug` lines
        ::log::set_max_level(::log::LevelFilter::Debug);
    }
}

/// `--loglevel error`: no warnings.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--debug` output at this level is on.
pub fn enabled(level: u8) -> bool {
    level > 0 && LEVEL.load(Ordering::Relaxed) >= level
}

/// A debug line, shown when `--debug` was given at least `level` times.
pub fn debug(level: u8, msg: std::fmt::Arguments<'_>) {
    if enabled(level) {
        emit(Priority::Debug, "debug", msg);
    }
}

/// `-dd`: one line per frame or message as it crosses the wire, `DIR SUBJECT KEY=VALUE…`
/// (`-ddd`: and `[N bytes]` of body), the same for every protocol; a `passcode` is shown as
/// `*` (no other credential is part of a frame or message).
pub fn trace<'a>(
    dir: char,
    subject: &str,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    body_len: usize,
) {
    if !enabled(2) {
        return;
    }
    let mut line = String::with_capacity(128);
    line.push(dir);
    if !subject.is_empty() {
        line.push(' ');
        line.push_str(subject);
    }
    for (k, v) in fields {
        let v = if k == "passcode" { "*" } else { v };
        line.push(' ');
        line.push_str(k);
        line.push('=');
        line.push_str(v);
    }
    if enabled(3) {
        line.push_str(&format!(" [{body_len} bytes]"));
    }
    debug(2, format_args!("{line}"));
}

/// A warning: something was ignored or is odd, the run goes on.
pub fn warn(msg: std::fmt::Arguments<'_>) {
    if !QUIET.load(Ordering::Relaxed) {
        emit(Priority::Warning, "warning", msg);
    }
}

fn emit(priority: Priority, what: &str, msg: std::fmt::Arguments<'_>) {
    let mut t = TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let line = || format!("{}[{}]: {what}: {msg}\n", program(), std::process::id());
    let _ = match &mut *t {
        Target::Stderr => std::io::stderr().lock().write_all(line().as_bytes()),
        Target::Stdout => std::io::stdout().lock().write_all(line().as_bytes()),
        Target::File(f) => f.write_all(line().as_bytes()),
        Target::Syslog => {
            syslog::log(priority, &format!("{what}: {msg}"));
            Ok(())
        }
        Target::Null => Ok(()),
    };
}

/// The `log` facade: the engine (`transfer`) warns through it, a library that must not
/// print; records of other crates (rustls…) are not for the agents' users.
struct Facade;

impl ::log::Log for Facade {
    fn enabled(&self, m: &::log::Metadata<'_>) -> bool {
        m.target().starts_with("transfer") && (m.level() <= ::log::Level::Warn || enabled(1))
    }

    fn log(&self, r: &::log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        if r.level() <= ::log::Level::Warn {
            warn(*r.args());
        } else {
            debug(1, *r.args());
        }
    }

    fn flush(&self) {}
}
