//! Errors, each a one-line message naming the thing and the reason.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad configuration (file:line: reason).
    #[error("{0}")]
    Config(String),
    /// The state store could not be read or written.
    #[error("store {path}: {reason}")]
    Store {
        /// The store file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The pidfile could not be used.
    #[error("pidfile {path}: {reason}")]
    Pidfile {
        /// The pidfile.
        path: String,
        /// Why.
        reason: String,
    },
    /// A service command failed (start or stop returned non-zero, or a careful wait ran out).
    #[error("{0}")]
    Service(String),
    /// Anything else: usage, I/O.
    #[error("{0}")]
    Other(String),
    /// A system call failed.
    #[error("{what}")]
    Io {
        /// What was done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Logging could not be set up.
    #[error(transparent)]
    Log(#[from] crate::log::LogError),
    /// A signal handler could not be installed.
    #[error(transparent)]
    Signal(#[from] procctl::SignalError),
    /// The process could not daemonize.
    #[error(transparent)]
    Daemon(#[from] procctl::DaemonError),
}

impl Error {
    /// The one line printed: the error and its sources.
    pub fn line(&self) -> String {
        procctl::error_line(self)
    }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
