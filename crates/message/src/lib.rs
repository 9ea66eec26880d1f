//! The message of the messaging toolkit: a header (text → text), a body (text or bytes)
//! and the text flag, with the JSON form and the directory message queues (DQS, DQN,
//! NULL) of Perl `Messaging::Message` 1.5 and python `messaging` 1.2, bit-compatible.
//!
//! ```
//! use message::{Message, Encoder, Compression};
//! let mut m = Message::text("hello world");
//! m.header.insert("destination".into(), "/queue/test".into());
//! let json = Encoder::default().encode(&m);
//! assert_eq!(json, r#"{"header":{"destination":"/queue/test"},"body":"hello world","text":true}"#);
//! assert_eq!(message::decode(json.as_bytes()).unwrap(), m);
//! # let _ = Compression::Zlib;
//! ```

mod compress;
mod error;
pub mod generator;
mod json;
pub mod queue;

use std::collections::BTreeMap;

use md5::{Digest, Md5};

pub use compress::Compression;
pub use error::{DecodeError, Error, Result};
pub use json::{Encoder, decode};
pub use queue::{MessageQueue, QueueKind, QueueOptions};

/// A message body: text (Unicode) or binary (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A text body.
    Text(String),
    /// A binary body.
    Binary(Vec<u8>),
}

impl Default for Body {
    fn default() -> Self {
        Body::Binary(Vec::new())
    }
}

impl Body {
    /// The body's bytes (UTF-8 for text).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(s) => s.as_bytes(),
            Body::Binary(b) => b,
        }
    }

    /// True for an empty body of either kind.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The length the references compute: characters for text, bytes for binary.
    pub fn len_units(&self) -> usize {
        match self {
            Body::Text(s) => s.chars().count(),
            Body::Binary(b) => b.len(),
        }
    }
}

/// A message: header fields, a body and (through the body's kind) the text flag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Header fields, sorted by name so that equal messages serialize identically.
    pub header: BTreeMap<String, String>,
    /// The body.
    pub body: Body,
}

impl Message {
    /// An empty binary message.
    pub fn new() -> Self {
        Message::default()
    }

    /// A message with a text body.
    pub fn text(body: impl Into<String>) -> Self {
        Message {
            header: BTreeMap::new(),
            body: Body::Text(body.into()),
        }
    }

    /// A message with a binary body.
    pub fn binary(body: impl Into<Vec<u8>>) -> Self {
        Message {
            header: BTreeMap::new(),
            body: Body::Binary(body.into()),
        }
    }

    /// Adds a header field (builder style).
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.header.insert(key.into(), value.into());
        self
    }

    /// The text flag.
    pub fn is_text(&self) -> bool {
        matches!(self.body, Body::Text(_))
    }

    /// The approximate size the references report in their statistics:
    /// `1 + len(body) + Σ (2 + len(key) + len(value))`, lengths in characters for text and
    /// bytes for binary.
    pub fn size(&self) -> usize {
        1 + self.body.len_units()
            + self
                .header
                .iter()
                .map(|(k, v)| 2 + k.chars().count() + v.chars().count())
                .sum::<usize>()
    }

    /// The cross-language identity of the compliance vectors:
    /// `md5hex(T + md5hex(H) + md5hex(B))`, T = "1" for text, H the sorted `key:value\n`
    /// lines, B the body bytes.
    pub fn md5(&self) -> String {
        let mut h = Md5::new();
        for (k, v) in &self.header {
            h.update(k.as_bytes());
            h.update(b":");
            h.update(v.as_bytes());
            h.update(b"\n");
        }
        let header = hex(&h.finalize());
        let body = hex(&Md5::digest(self.body.as_bytes()));
        let t = if self.is_text() { "1" } else { "0" };
        hex(&Md5::digest(format!("{t}{header}{body}").as_bytes()))
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_message_digest() {
        assert_eq!(Message::new().md5(), "1d9d0faf7130b6c7ff996a8d94f424a0");
    }

    #[test]
    fn size_counts_characters() {
        let m = Message::text("é☺").with_header("k", "vé");
        // 1 + 2 chars + (2 + 1 + 2)
        assert_eq!(m.size(), 8);
        assert_eq!(Message::binary("é").size(), 3);
    }
}
