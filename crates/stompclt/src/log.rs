//! Warnings and `--debug` output: one line each, on stderr, or to syslog once daemonized.

use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

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
        emit(libc::LOG_DEBUG, "debug", msg);
    }
}

/// A warning: something was ignored or is odd, the run goes on.
pub fn warn(msg: std::fmt::Arguments<'_>) {
    emit(libc::LOG_WARNING, "warning", msg);
}

fn emit(priority: libc::c_int, what: &str, msg: std::fmt::Arguments<'_>) {
    if crate::syslog::is_open() {
        crate::syslog::log(priority, &format!("{what}: {msg}"));
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "stompclt[{}]: {what}: {msg}",
            std::process::id()
        );
    }
}
