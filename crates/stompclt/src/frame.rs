//! STOMP 1.0, 1.1 and 1.2 frames and their codec.
//!
//! Header escaping follows the version: none in 1.0; `\\`, `\c` and `\n` in 1.1; `\r` too in
//! 1.2; never in CONNECT and CONNECTED frames. A repeated header: the first one counts in 1.1
//! and 1.2, the last one in 1.0. `content-length` gives the body length when present and
//! non-empty; otherwise the body ends at the first NUL. EOLs between frames are heart-beats.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// A protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// STOMP 1.0.
    V1_0,
    /// STOMP 1.1.
    V1_1,
    /// STOMP 1.2.
    V1_2,
}

impl Version {
    /// Parses `1.0`, `1.1` or `1.2`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "1.0" => Some(Version::V1_0),
            "1.1" => Some(Version::V1_1),
            "1.2" => Some(Version::V1_2),
            _ => None,
        }
    }

    /// As written in `accept-version`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// The command, e.g. `SEND`, `MESSAGE`.
    pub command: String,
    /// Headers in order, duplicates already resolved by the version's rule.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Frame {
    /// A frame with no headers and no body.
    pub fn new(command: &str) -> Self {
        Frame {
            command: command.to_string(),
            ..Frame::default()
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_string(), v.into()));
        self
    }

    /// The value of a header.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets a header, replacing any with that name.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.headers.push((name.to_string(), value)),
        }
    }
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A frame.
    Frame(Frame),
    /// An EOL between frames: the peer is alive.
    HeartBeat,
}

/// Why bytes could not be a frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The frame (or its headers so far) is larger than allowed.
    #[error("frame larger than the maximum of {0} bytes")]
    TooLarge(usize),
    /// More header lines than allowed (ActiveMQ's limit too).
    #[error("frame with more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    /// A frame begun and not completed in time: a peer trickling bytes.
    #[error("frame not complete {0:?} after its first byte (--timeout-frame)")]
    Stalled(std::time::Duration),
    /// A header line without a colon.
    #[error("malformed header line {0:?} in {1} frame")]
    BadHeader(String, String),
    /// An escape sequence the version does not define.
    #[error("invalid escape sequence {0:?} in header of {1} frame")]
    BadEscape(String, String),
    /// A content-length that is not a number.
    #[error("invalid content-length {0:?}")]
    BadLength(String),
    /// The byte after a content-length body is not NUL.
    #[error("frame body is not followed by NUL (content-length {0})")]
    NoNul(usize),
    /// The command or a header is not UTF-8.
    #[error("frame headers are not valid UTF-8")]
    Utf8,
    /// A frame with no command.
    #[error("frame without a command")]
    NoCommand,
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The most header lines a frame may have (as ActiveMQ's `maxHeaders`).
pub const MAX_HEADERS: usize = 1000;

/// The codec, for one connection; `version` changes once CONNECTED arrives.
#[derive(Debug, Clone)]
pub struct Codec {
    /// The negotiated version.
    pub version: Version,
    /// The largest frame accepted.
    pub max_frame: usize,
    /// How long a frame may take from its first byte to its last.
    pub max_partial: std::time::Duration,
    /// When the frame being read began (`None`: none is).
    partial_since: Option<std::time::Instant>,
}

impl Default for Codec {
    fn default() -> Self {
        Codec::new(Version::V1_0, 64 << 20)
    }
}

impl Codec {
    /// A codec for `version` that takes frames of up to `max_frame` bytes, each within a
    /// minute of its first byte.
    pub fn new(version: Version, max_frame: usize) -> Self {
        Codec {
            version,
            max_frame,
            max_partial: std::time::Duration::from_secs(60),
            partial_since: None,
        }
    }
}

fn escapes(version: Version, command: &str) -> bool {
    version != Version::V1_0 && command != "CONNECT" && command != "CONNECTED"
}

fn unescape(s: &str, version: Version, command: &str) -> Result<String, FrameError> {
    if !escapes(version, command) || !s.contains('\\') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('c') => out.push(':'),
            Some('n') => out.push('\n'),
            Some('r') if version == Version::V1_2 => out.push('\r'),
            other => {
                return Err(FrameError::BadEscape(
                    format!("\\{}", other.map(String::from).unwrap_or_default()),
                    command.to_string(),
                ));
            }
        }
    }
    Ok(out)
}

fn escape_into(dst: &mut BytesMut, s: &str, version: Version, command: &str) {
    if !escapes(version, command) {
        dst.put_slice(s.as_bytes());
        return;
    }
    for b in s.bytes() {
        match b {
            b'\\' => dst.put_slice(b"\\\\"),
            b':' => dst.put_slice(b"\\c"),
            b'\n' => dst.put_slice(b"\\n"),
            b'\r' if version == Version::V1_2 => dst.put_slice(b"\\r"),
            b => dst.put_u8(b),
        }
    }
}

impl Decoder for Codec {
    type Item = Item;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Item>, FrameError> {
        let item = self.decode_now(src)?;
        if item.is_some() || src.is_empty() {
            self.partial_since = None;
        } else {
            // a frame begun: it must end within max_partial (checked as bytes arrive)
            let since = *self
                .partial_since
                .get_or_insert_with(std::time::Instant::now);
            if since.elapsed() > self.max_partial {
                return Err(FrameError::Stalled(self.max_partial));
            }
        }
        Ok(item)
    }
}

impl Codec {
    /// The next item of `src`, if it is all there.
    fn decode_now(&mut self, src: &mut BytesMut) -> Result<Option<Item>, FrameError> {
        // heart-beats: EOLs between frames
        if src.first() == Some(&b'\n') {
            src.advance(1);
            return Ok(Some(Item::HeartBeat));
        }
        if src.starts_with(b"\r\n") {
            src.advance(2);
            return Ok(Some(Item::HeartBeat));
        }
        if src.as_ref() == b"\r" {
            return Ok(None);
        }
        // the end of the headers: an empty line
        let Some(hend) = find_blank_line(src) else {
            if src.len() > self.max_frame {
                return Err(FrameError::TooLarge(self.max_frame));
            }
            return Ok(None);
        };
        let (head_len, body_start) = hend;
        let head = std::str::from_utf8(&src[..head_len]).map_err(|_| FrameError::Utf8)?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let command = lines.next().unwrap_or("").to_string();
        if command.is_empty() {
            return Err(FrameError::NoCommand);
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (n, line) in lines.enumerate() {
            if n >= MAX_HEADERS {
                return Err(FrameError::TooManyHeaders);
            }
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| FrameError::BadHeader(line.to_string(), command.clone()))?;
            let k = unescape(k, self.version, &command)?;
            let v = unescape(v, self.version, &command)?;
            match seen.get(&k) {
                // 1.0: the last one wins; 1.1 and 1.2: the first one
                Some(&i) if self.version == Version::V1_0 => headers[i].1 = v,
                Some(_) => {}
                None => {
                    seen.insert(k.clone(), headers.len());
                    headers.push((k, v));
                }
            }
        }
        let length = match headers.iter().find(|(k, _)| k == "content-length") {
            Some((_, v)) if !v.trim().is_empty() => Some(
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| FrameError::BadLength(v.clone()))?,
            ),
            _ => None,
        };
        let body_len = match length {
            Some(n) => {
                if body_start + n + 1 > self.max_frame {
                    return Err(FrameError::TooLarge(self.max_frame));
                }
                if src.len() < body_start + n + 1 {
                    src.reserve(body_start + n + 1 - src.len());
                    return Ok(None);
                }
                if src[body_start + n] != 0 {
                    return Err(FrameError::NoNul(n));
                }
                n
            }
            None => match src[body_start..].iter().position(|&b| b == 0) {
                Some(n) => n,
                None => {
                    if src.len() > self.max_frame {
                        return Err(FrameError::TooLarge(self.max_frame));
                    }
                    return Ok(None);
                }
            },
        };
        let mut frame_bytes = src.split_to(body_start + body_len + 1);
        frame_bytes.advance(body_start);
        frame_bytes.truncate(body_len);
        Ok(Some(Item::Frame(Frame {
            command,
            headers,
            body: frame_bytes.to_vec(),
        })))
    }
}

/// (length of the headers part without the blank line, offset of the body)
fn find_blank_line(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'\n') {
        let nl = i + p;
        // "\n\n" or "\n\r\n"
        if b.get(nl + 1) == Some(&b'\n') {
            let end = if nl > 0 && b[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            return Some((end, nl + 2));
        }
        if b.get(nl + 1) == Some(&b'\r') && b.get(nl + 2) == Some(&b'\n') {
            let end = if nl > 0 && b[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            return Some((end, nl + 3));
        }
        i = nl + 1;
    }
    None
}

impl Encoder<&Item> for Codec {
    type Error = FrameError;

    fn encode(&mut self, item: &Item, dst: &mut BytesMut) -> Result<(), FrameError> {
        match item {
            Item::HeartBeat => dst.put_u8(b'\n'),
            Item::Frame(f) => {
                dst.reserve(f.command.len() + f.body.len() + 64 + f.headers.len() * 32);
                dst.put_slice(f.command.as_bytes());
                dst.put_u8(b'\n');
                for (k, v) in &f.headers {
                    escape_into(dst, k, self.version, &f.command);
                    dst.put_u8(b':');
                    escape_into(dst, v, self.version, &f.command);
                    dst.put_u8(b'\n');
                }
                dst.put_u8(b'\n');
                dst.put_slice(&f.body);
                dst.put_u8(0);
            }
        }
        Ok(())
    }
}
