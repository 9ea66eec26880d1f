//! Errors of the message crate.

use std::path::PathBuf;

/// Why a serialized message could not be decoded. Each variant says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not UTF-8 JSON at all.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// Valid JSON, but not a message: not an object, or a key of the wrong type.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// An encoding token no implementation knows.
    #[error("invalid message: decoding not supported: {0:?}")]
    UnknownEncoding(String),
    /// Two compression tokens.
    #[error("invalid message: more than one compression in encoding {0:?}")]
    TwoCompressions(String),
    /// The body is not valid base64.
    #[error("invalid message: body is not valid base64: {0}")]
    Base64(String),
    /// The body does not decompress.
    #[error("invalid message: body does not decompress with {algo}: {reason}")]
    Decompress {
        /// The compression.
        algo: &'static str,
        /// The decompressor's complaint.
        reason: String,
    },
    /// A text body (or one with the `utf8` token) that is not valid UTF-8.
    #[error("invalid message: text body is not valid UTF-8")]
    Utf8,
}

/// Errors of message queues.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory queue failed.
    #[error(transparent)]
    Dirq(#[from] dirq::Error),
    /// A stored element does not hold a valid message.
    #[error("{}: {source}", path.display())]
    Corrupt {
        /// The element.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: DecodeError,
    },
    /// A queue option string could not be used.
    #[error("invalid queue option: {0}")]
    Option(String),
    /// The queue kind cannot do that (the NULL queue stores nothing).
    #[error("unsupported on a {kind} queue: {op}")]
    Unsupported {
        /// The queue kind.
        kind: &'static str,
        /// The operation.
        op: &'static str,
    },
}

/// Result alias of the message crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
