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
    /// The per-turn hook of the program running the engine ([`crate::Engine::with_tick`])
    /// failed: the program knows what it was (the agents' pidfile).
    Tick,
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
        ErrorKind::Tick,
    ];

    /// A small index, for per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A cause kept with an [`Error`]: an I/O, codec, TLS or client library error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of the transfer: its class, what happened, and the error that caused it (when
/// there is one), so that [`Error::line`] and any `source()` walker see the whole chain.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The class.
    pub kind: ErrorKind,
    /// What happened, in one line, without the cause.
    pub message: String,
    /// What caused it.
    #[source]
    pub source: Option<Cause>,
    /// The message it is about, when a destination refuses one after taking it
    /// ([`Error::about`]): the engine names its queue element as it does for `put`.
    pub token: Option<crate::Token>,
}

impl Error {
    /// An error of this kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
            token: None,
        }
    }

    /// An error of this kind, caused by `source`: printed as `MESSAGE: SOURCE`.
    pub fn caused(kind: ErrorKind, message: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: Some(source.into()),
            token: None,
        }
    }

    /// The same error, about the message of `token`: an outgoing module that sends what it
    /// batched later than `put` (a publish request) says which message was refused.
    pub fn about(mut self, token: crate::Token) -> Self {
        self.token = Some(token);
        self
    }

    /// The message and its causes, joined by `: `: the one line a user reads.
    pub fn line(&self) -> String {
        let mut line = self.message.clone();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let text = c.to_string();
            // a wrapper that repeats its cause (`#[error(transparent)]`-like) adds nothing
            if !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = c.source();
        }
        line
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_carries_the_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left");
        let e = Error::caused(ErrorKind::OutgoingQueue, "outgoing queue /q", io);
        assert_eq!(e.to_string(), "outgoing queue /q");
        assert_eq!(e.line(), "outgoing queue /q: no space left");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(Error::new(ErrorKind::Config, "bad").line(), "bad");
    }

    #[test]
    fn kinds_indexed_in_order() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
