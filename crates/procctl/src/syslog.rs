//! syslog(3): opened once with the program's name as ident; lines sent with a priority.

use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};

static OPEN: AtomicBool = AtomicBool::new(false);

/// The syslog facilities the tools use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facility {
    /// `user`: the agents, as the Perl reference logs.
    User,
    /// `daemon`: simplevisor, as the python reference logs.
    Daemon,
}

/// Priorities, highest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// LOG_DEBUG.
    Debug,
    /// LOG_INFO.
    Info,
    /// LOG_WARNING.
    Warning,
    /// LOG_ERR.
    Error,
    /// LOG_CRIT.
    Critical,
}

impl Priority {
    fn raw(self) -> libc::c_int {
        match self {
            Priority::Debug => libc::LOG_DEBUG,
            Priority::Info => libc::LOG_INFO,
            Priority::Warning => libc::LOG_WARNING,
            Priority::Error => libc::LOG_ERR,
            Priority::Critical => libc::LOG_CRIT,
        }
    }
}

/// Opens the log (ident `ident[pid]`); from now on [`is_open`] is true.
pub fn open(ident: &str, facility: Facility) {
    let ident = CString::new(ident.replace('\0', " ")).unwrap_or_else(|_| c"?".to_owned());
    // openlog keeps the pointer: the ident must live as long as the process
    let ident: &'static CStr = Box::leak(ident.into_boxed_c_str());
    let facility = match facility {
        Facility::User => libc::LOG_USER,
        Facility::Daemon => libc::LOG_DAEMON,
    };
    // SAFETY: a NUL-terminated string that lives forever.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, facility) };
    OPEN.store(true, Ordering::Relaxed);
}

/// Whether [`open`] was called.
pub fn is_open() -> bool {
    OPEN.load(Ordering::Relaxed)
}

/// Sends one line (NUL bytes become blanks).
pub fn log(priority: Priority, msg: &str) {
    let Ok(c) = CString::new(msg.replace('\0', " ")) else {
        return;
    };
    // SAFETY: a constant format and a NUL-terminated argument.
    unsafe { libc::syslog(priority.raw(), c"%s".as_ptr(), c.as_ptr()) };
}
