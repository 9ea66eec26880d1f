//! Engine errors, by kind so that binaries can map them to documented exit codes.

/// The class of a failure; each maps to one exit code of the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Options or configuration that cannot work.
    Config,
    /// A connection could not be made (refused, unreachable, TLS).
    Connect,
    /// The broker refused us (bad credentials, an ERROR frame, a rejected message).
    Broker,
    /// The conversation went wrong (bad frame, lost connection, missing receipt, silence).
    Protocol,
    /// The incoming queue failed or holds a bad element.
    IncomingQueue,
    /// The outgoing queue failed (disk full, permissions).
    OutgoingQueue,
    /// Messages were still unconfirmed when the linger time ran out.
    Pending,
    /// A message that cannot be sent as it is (no destination, a text/binary mismatch with
    /// its content type, a bad priority): the engine names its queue element when it came
    /// from one, and reports it as an incoming-queue error.
    BadMessage,
    /// The pidfile could not be used.
    Pidfile,
}

impl ErrorKind {
    /// How many kinds there are.
    pub const COUNT: usize = 9;
    /// Every kind, in [`ErrorKind::index`] order.
    pub const ALL: [ErrorKind; Self::COUNT] = [
        ErrorKind::Config,
        ErrorKind::Connect,
        ErrorKind::Broker,
        ErrorKind::Protocol,
        ErrorKind::IncomingQueue,
        ErrorKind::OutgoingQueue,
        ErrorKind::Pending,
        ErrorKind::BadMessage,
        ErrorKind::Pidfile,
    ];

    /// A small index, for per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A failure of the transfer, with what happened in one line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The class.
    pub kind: ErrorKind,
    /// The one-line explanation.
    pub message: String,
}

impl Error {
    /// An error of this kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_indexed_in_order() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
