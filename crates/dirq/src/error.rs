//! The error type shared by every queue kind.

use std::io;
use std::path::PathBuf;

/// What can go wrong with a directory queue. Every variant names the operation and the
/// element or path involved, so that a one-line report is enough to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed; `op` is what was being done, `path` what it was done to.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// The operation, e.g. `"create"`, `"lock"`, `"list directory"`.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error, errno kept.
        #[source]
        source: io::Error,
    },
    /// The name does not have the `DDDDDDDD/EEEEEEEEEEEEEE` form.
    #[error("invalid element name: {0:?}")]
    InvalidName(String),
    /// The schema string or map is not valid.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// A queue option has a bad value.
    #[error("invalid queue option {name}: {reason}")]
    InvalidOption {
        /// The option name.
        name: String,
        /// Why the value was refused.
        reason: String,
    },
    /// The operation needs the element to be locked first.
    #[error("cannot {op} {name}: not locked")]
    NotLocked {
        /// The operation.
        op: &'static str,
        /// The element.
        name: String,
    },
    /// A strict (non-permissive) lock or unlock could not be done.
    #[error("cannot {op} {name}: {reason}")]
    LockFailed {
        /// `"lock"` or `"unlock"`.
        op: &'static str,
        /// The element.
        name: String,
        /// Already locked, or no such element.
        reason: &'static str,
    },
    /// A mandatory field file is missing from a Normal element.
    #[error("{}: missing data file for mandatory field {field}", path.display())]
    MissingFile {
        /// The element directory.
        path: PathBuf,
        /// The field.
        field: String,
    },
    /// A `string` or `table` field file is not valid UTF-8.
    #[error("{}: invalid UTF-8 in {kind} field", path.display())]
    InvalidUtf8 {
        /// The field file.
        path: PathBuf,
        /// `"string"` or `"table"`.
        kind: &'static str,
    },
    /// A `table` field file has a line that is not `key TAB value`.
    #[error("{}: unexpected hash line {line:?}", path.display())]
    BadTableLine {
        /// The field file.
        path: PathBuf,
        /// The offending line.
        line: String,
    },
    /// An element directory holds a file that is not a field.
    #[error("{}: unexpected file {name:?} in element", path.display())]
    UnexpectedFile {
        /// The element directory.
        path: PathBuf,
        /// The file name.
        name: String,
    },
    /// Data given to `add` does not fit the schema.
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// `add` or `get` on a Normal queue that has no schema.
    #[error("unknown schema: add and get need a schema")]
    NoSchema,
    /// The Null queue does not store anything.
    #[error("unsupported method: {0}()")]
    Unsupported(&'static str),
    /// The same queue (same device and inode) was put twice into a set.
    #[error("duplicate queue in set: {0}")]
    DuplicateQueue(String),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// True when the error says that the element (or a file of it) does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Io { source, .. } => crate::sys::is_gone(source),
            Error::LockFailed { reason, .. } => *reason == NO_SUCH_ELEMENT,
            _ => false,
        }
    }
}

impl Error {
    /// True when a strict lock failed because someone else holds the lock.
    pub fn is_already_locked(&self) -> bool {
        matches!(self, Error::LockFailed { reason, .. } if *reason == ALREADY_LOCKED)
    }
}

pub(crate) const NO_SUCH_ELEMENT: &str = "no such element";
pub(crate) const ALREADY_LOCKED: &str = "already locked";

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
