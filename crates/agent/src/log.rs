//! Warnings and `--debug` output: one line each, on standard error as `PROGRAM[PID]: …`,
//! or to syslog (facility `user`) once the agent is a daemon, whose standard error is
//! /dev/null. The engine's warnings (the `log` facade) come here too.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use procctl::syslog::{self, Priority};

static LEVEL: AtomicU8 = AtomicU8::new(0);
static PROGRAM: OnceLock<&'static str> = OnceLock::new();

/// Sets the program name of the lines and routes the `log` facade's warnings of the
/// toolkit's own crates here. Called once by [`crate::run`].
pub fn init(program: &'static str) {
    let _ = PROGRAM.set(program);
    if ::log::set_logger(&Facade).is_ok() {
        ::log::set_max_level(::log::LevelFilter::Warn);
    }
}

/// Sets the `--debug` level (0: off; each `-d` adds one).
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
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

/// A warning: something was ignored or is odd, the run goes on.
pub fn warn(msg: std::fmt::Arguments<'_>) {
    emit(Priority::Warning, "warning", msg);
}

fn emit(priority: Priority, what: &str, msg: std::fmt::Arguments<'_>) {
    if syslog::is_open() {
        syslog::log(priority, &format!("{what}: {msg}"));
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}[{}]: {what}: {msg}",
            PROGRAM.get().copied().unwrap_or("agent"),
            std::process::id()
        );
    }
}

/// The `log` facade: the engine (`transfer`) warns through it, a library that must not
/// print; records of other crates (rustls…) are not for the agents' users.
struct Facade;

impl ::log::Log for Facade {
    fn enabled(&self, m: &::log::Metadata<'_>) -> bool {
        m.level() <= ::log::Level::Warn && m.target().starts_with("transfer")
    }

    fn log(&self, r: &::log::Record<'_>) {
        if self.enabled(r.metadata()) {
            warn(*r.args());
        }
    }

    fn flush(&self) {}
}
