//! The agents' error type; a run ends in a [`procctl::Outcome`].

use crate::args::KeyValueError;
use crate::config::ConfigError;
use crate::endpoint::Side;
use crate::exit;
use crate::pidfile::PidfileError;
use crate::tls::TlsError;

/// Why an agent run failed. Each variant maps to one documented exit status
/// ([`Error::exit_code`]); the message is the chain of sources ([`Error::line`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad option, value or combination.
    #[error("{0}")]
    Usage(String),
    /// A `KEY=VALUE…` option that is not.
    #[error(transparent)]
    KeyValue(#[from] KeyValueError),
    /// A configuration file that cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An `x509` credential or an `SSL_*` socket option that cannot be used.
    #[error("invalid {side}-broker-{option}")]
    TlsOption {
        /// Which broker.
        side: Side,
        /// `auth` or `sockopts`.
        option: &'static str,
        /// Why.
        #[source]
        source: TlsError,
    },
    /// The TLS configuration could not be built (files, keys, CAs).
    #[error("{side} broker TLS")]
    Tls {
        /// Which broker.
        side: Side,
        /// Why.
        #[source]
        source: TlsError,
    },
    /// The transfer failed (its kind says how).
    #[error(transparent)]
    Transfer(#[from] transfer::Error),
    /// The pidfile could not be used.
    #[error(transparent)]
    Pidfile(#[from] PidfileError),
    /// A file given for a secret (`pass-file=`, `--key-file`) that cannot be used.
    #[error("invalid {what} {}", .source.path().display())]
    Secret {
        /// The option: `incoming-broker-auth pass-file`, `key-file`.
        what: String,
        /// Why.
        #[source]
        source: crate::secret::SecretError,
    },
    /// A signal handler could not be installed.
    #[error(transparent)]
    Signal(#[from] procctl::SignalError),
    /// The process could not daemonize.
    #[error(transparent)]
    Daemon(#[from] procctl::DaemonError),
    /// The daemon reported that it could not start.
    #[error("{0}")]
    DaemonFailed(String),
    /// The async runtime could not start.
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    /// The documented exit status.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_)
            | Error::KeyValue(_)
            | Error::Config(_)
            | Error::TlsOption { .. }
            | Error::Tls { .. }
            | Error::Signal(_)
            | Error::Secret { .. }
            | Error::Daemon(_)
            | Error::Runtime(_) => exit::USAGE,
            Error::Transfer(e) => exit::for_kind(e.kind),
            Error::Pidfile(_) | Error::DaemonFailed(_) => exit::PIDFILE,
        }
    }

    /// The one line printed: this error and its sources, joined by `: `.
    pub fn line(&self) -> String {
        procctl::error_line(self)
    }
}

/// A usage error.
pub(crate) fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}
