//! Syslog for the daemon (facility `user`, ident `stompclt`), as the reference logs.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

static OPEN: AtomicBool = AtomicBool::new(false);

/// Opens the log; from now on [`error`] goes to syslog.
pub fn open() {
    // SAFETY: the ident is a static NUL-terminated string, as openlog requires.
    unsafe { libc::openlog(c"stompclt".as_ptr(), libc::LOG_PID, libc::LOG_USER) };
    OPEN.store(true, Ordering::Relaxed);
}

/// Whether the daemon logs to syslog.
pub fn is_open() -> bool {
    OPEN.load(Ordering::Relaxed)
}

/// Logs an error line.
pub fn error(msg: &str) {
    log(libc::LOG_ERR, msg);
}

/// Logs a line at a syslog priority (`libc::LOG_*`).
pub fn log(priority: libc::c_int, msg: &str) {
    let Ok(c) = CString::new(msg.replace('\0', " ")) else {
        return;
    };
    // SAFETY: a constant format and a NUL-terminated argument.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), c.as_ptr()) };
}
