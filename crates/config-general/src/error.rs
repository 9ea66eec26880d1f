//! Errors, each naming the file and line.

use std::fmt;
use std::path::PathBuf;

/// What went wrong, without the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read.
    Io(String),
    /// A block was opened and never closed.
    UnclosedBlock(String),
    /// `</b>` closes a block opened as `<a>`.
    MismatchedClose {
        /// The block that is open.
        open: String,
        /// The block the line closes.
        close: String,
    },
    /// `</b>` with no block open.
    UnexpectedClose(String),
    /// A line that is neither an option, a block nor a directive.
    BadLine(String),
    /// A here-document whose terminator never came.
    UnterminatedHereDoc(String),
    /// A file includes itself, directly or through others.
    IncludeLoop(PathBuf),
    /// An include names a file that does not exist.
    MissingInclude(PathBuf),
    /// `$name` refers to nothing defined before it.
    UndefinedVariable(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io(e) => write!(f, "cannot read: {e}"),
            ErrorKind::UnclosedBlock(b) => write!(f, "block <{b}> is not closed (expected </{b}>)"),
            ErrorKind::MismatchedClose { open, close } => {
                write!(
                    f,
                    "</{close}> does not close the open block <{open}> (expected </{open}>)"
                )
            }
            ErrorKind::UnexpectedClose(b) => write!(f, "</{b}> closes no open block"),
            ErrorKind::BadLine(l) => write!(
                f,
                "cannot parse line {l:?} (expected `key = value`, `key value`, <block> or </block>)"
            ),
            ErrorKind::UnterminatedHereDoc(t) => {
                write!(f, "here-document is not terminated (expected a line {t:?})")
            }
            ErrorKind::IncludeLoop(p) => write!(f, "include loop: {} includes itself", p.display()),
            ErrorKind::MissingInclude(p) => {
                write!(f, "included file {} does not exist", p.display())
            }
            ErrorKind::UndefinedVariable(v) => {
                write!(
                    f,
                    "undefined variable ${v} (define it earlier in this block or an enclosing one)"
                )
            }
        }
    }
}

/// An error with its place: `FILE:LINE: what`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {kind}", file.display())]
pub struct Error {
    /// The file.
    pub file: PathBuf,
    /// The line, 1-based (0 when the whole file is concerned).
    pub line: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
