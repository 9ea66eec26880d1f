//! The JSON form of a message: decoding leniently (every spelling Perl and python write),
//! encoding conservatively (what Perl writes).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::alphabet::STANDARD as B64_ALPHABET;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::{Body, Compression, DecodeError, Message};

/// Bodies shorter than this are never compressed unless compression is forced (Perl).
const COMPRESS_ABOVE: usize = 255;

/// How to encode messages: optionally with a body compression, `!` to force it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Encoder {
    /// The compression to try on bodies longer than 255 characters/bytes; kept only when
    /// it makes the encoded body shorter.
    pub compression: Option<Compression>,
    /// Compress whatever the size and whether or not it pays off (`zlib!`).
    pub force: bool,
}

impl FromStr for Encoder {
    type Err = String;

    /// Parses the references' compression option: `zlib`, `lz4`, `snappy`, with a trailing
    /// `!` to force; the empty string for none.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, force) = match s.strip_suffix('!') {
            Some(n) => (n, true),
            None => (s, false),
        };
        if name.is_empty() {
            return if force {
                Err("\"!\" needs a compression before it".into())
            } else {
                Ok(Encoder::default())
            };
        }
        Ok(Encoder {
            compression: Some(name.parse()?),
            force,
        })
    }
}

impl fmt::Display for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.compression {
            write!(f, "{c}{}", if self.force { "!" } else { "" })?;
        }
        Ok(())
    }
}

/// Printable for the references: 0x20..=0x7e, TAB, LF, CR. Anything else needs base64.
fn needs_base64(b: &[u8]) -> bool {
    let bad = |c: &u8| !(0x20..=0x7e).contains(c) && !matches!(c, b'\t' | b'\n' | b'\r');
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let y = x ^ (ONES * 0x7f);
        // a byte >= 0x80, below 0x20, or equal to 0x7f: look closer (TAB, LF, CR are fine)
        let suspect = (x & HIGH)
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | (y.wrapping_sub(ONES) & !y & HIGH);
        if suspect != 0 && c.iter().any(bad) {
            return true;
        }
    }
    chunks.remainder().iter().any(bad)
}

/// The first byte that JSON needs escaped (`"`, `\\`, or below 0x20), eight bytes at a time.
fn find_escape(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // below 0x20 (bytes >= 0x80 cannot trigger it: their high bit is set in x), or a
        // byte equal to '"' or '\\'
        let hit = (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | zero_in(x ^ (ONES * b'"' as u64))
            | zero_in(x ^ (ONES * b'\\' as u64));
        if hit != 0 {
            return c
                .iter()
                .position(|&c| c < 0x20 || c == b'"' || c == b'\\')
                .map(|i| base + i);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c < 0x20 || c == b'"' || c == b'\\')
        .map(|i| base + i)
}

/// Appends `s` as a JSON string: `"` `\` and control characters escaped, everything else
/// (non-ASCII included) raw, as Perl's JSON writes it. Scans bytes: every byte that needs
/// escaping is ASCII, so the runs in between are whole UTF-8 sequences.
fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(off) = find_escape(&bytes[start..]) {
        let i = start + off;
        out.push_str(&s[start..i]);
        match bytes[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            c => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c >> 4) as usize] as char);
                out.push(HEX[(c & 15) as usize] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The body as it goes into the JSON object: a string to escape, or bytes to write as
/// base64 straight into the output.
enum BodyOut<'a> {
    Json(Cow<'a, str>),
    Base64(Cow<'a, [u8]>),
}

/// The body as it goes into the JSON object, and its encoding tokens.
struct Encoded<'a> {
    body: BodyOut<'a>,
    utf8: bool,
    compression: Option<Compression>,
}

impl<'a> Encoded<'a> {
    fn plain(s: &'a str) -> Self {
        Encoded {
            body: BodyOut::Json(Cow::Borrowed(s)),
            utf8: false,
            compression: None,
        }
    }

    /// Bytes as a JSON string: raw when printable, base64 otherwise.
    fn bytes(b: &'a [u8]) -> Self {
        let body = if needs_base64(b) {
            BodyOut::Base64(Cow::Borrowed(b))
        } else {
            // printable ASCII is valid UTF-8
            BodyOut::Json(Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default()))
        };
        Encoded {
            body,
            utf8: false,
            compression: None,
        }
    }

    fn compressed(data: &[u8], c: Compression) -> Encoded<'static> {
        let z = c.compress(data);
        let body = if needs_base64(&z) {
            BodyOut::Base64(Cow::Owned(z))
        } else {
            // rare: the compressed bytes happen to be printable ASCII, kept raw as Perl does
            BodyOut::Json(Cow::Owned(String::from_utf8(z).unwrap_or_default()))
        };
        Encoded {
            body,
            utf8: false,
            compression: Some(c),
        }
    }

    /// The length of the body in the JSON text (before escaping).
    fn len(&self) -> usize {
        match &self.body {
            BodyOut::Json(s) => s.len(),
            BodyOut::Base64(b) => b.len().div_ceil(3) * 4,
        }
    }

    fn write(&self, out: &mut String) {
        match &self.body {
            BodyOut::Json(s) => push_json_str(out, s),
            BodyOut::Base64(b) => {
                out.push('"');
                STANDARD.encode_string(b, out);
                out.push('"');
            }
        }
    }

    fn encoding(&self) -> String {
        // Perl sorts the tokens: base64 < lz4 < snappy < utf8 < zlib
        let mut t: Vec<&str> = Vec::with_capacity(3);
        if matches!(self.body, BodyOut::Base64(_)) {
            t.push("base64");
        }
        if self.utf8 {
            t.push("utf8");
        }
        if let Some(c) = self.compression {
            t.push(c.token());
        }
        t.sort_unstable();
        t.join("+")
    }
}

impl Encoder {
    /// An encoder with this compression (not forced).
    pub fn with(compression: Compression) -> Self {
        Encoder {
            compression: Some(compression),
            force: false,
        }
    }

    fn encode_body<'a>(&self, body: &'a Body) -> Encoded<'a> {
        match body {
            Body::Text(s) => match self.compression {
                // Perl compares lengths in characters for text
                Some(c) if self.force || s.len() > COMPRESS_ABOVE => {
                    let chars = s.chars().count();
                    if !self.force && chars <= COMPRESS_ABOVE {
                        return Encoded::plain(s);
                    }
                    let mut e = Encoded::compressed(s.as_bytes(), c);
                    e.utf8 = !s.is_ascii();
                    if !self.force && e.len() >= chars {
                        return Encoded::plain(s);
                    }
                    e
                }
                _ => Encoded::plain(s),
            },
            Body::Binary(b) => match self.compression {
                Some(c) if self.force || b.len() > COMPRESS_ABOVE => {
                    let e = Encoded::compressed(b, c);
                    // what the uncompressed form would cost: base64 is 4/3 of the bytes
                    let plain = if needs_base64(b) {
                        b.len() * 4
                    } else {
                        b.len() * 3
                    };
                    if !self.force && e.len() * 3 >= plain {
                        return Encoded::bytes(b);
                    }
                    e
                }
                _ => Encoded::bytes(b),
            },
        }
    }

    /// The JSON text of a message: compact, header keys sorted, `text` only when true, the
    /// body base64-encoded only when it has to be, encoding tokens sorted.
    pub fn encode(&self, m: &Message) -> String {
        let mut out = String::with_capacity(m.body.as_bytes().len() * 4 / 3 + 64);
        out.push('{');
        if !m.header.is_empty() {
            out.push_str("\"header\":{");
            for (i, (k, v)) in m.header.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_str(&mut out, k);
                out.push(':');
                push_json_str(&mut out, v);
            }
            out.push('}');
        }
        let mut sep = if m.header.is_empty() { "" } else { "," };
        let mut encoding = String::new();
        if !m.body.is_empty() {
            let e = self.encode_body(&m.body);
            out.push_str(sep);
            out.push_str("\"body\":");
            e.write(&mut out);
            encoding = e.encoding();
            sep = ",";
        }
        if m.is_text() {
            out.push_str(sep);
            out.push_str("\"text\":true");
            sep = ",";
        }
        if !encoding.is_empty() {
            out.push_str(sep);
            out.push_str("\"encoding\":");
            push_json_str(&mut out, &encoding);
        }
        out.push('}');
        out
    }

    /// [`Encoder::encode`] as bytes (the references' "serialize").
    pub fn serialize(&self, m: &Message) -> Vec<u8> {
        self.encode(m).into_bytes()
    }
}

/// A JSON string that borrows from the input when it has no escapes.
struct CowStr(&'static str);

impl<'de> Visitor<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} as a JSON string", self.0)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

fn de_body<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_str(CowStr("body")).map(Some)
}

fn de_encoding<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_str(CowStr("encoding")).map(Some)
}

/// `text`: any truthy value counts, as in python; arrays and objects are refused.
struct Truthy;

impl<'de> Visitor<'de> for Truthy {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text as a JSON boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(v != 0)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(v != 0)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        Ok(v != 0.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(!v.is_empty())
    }
}

fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(Truthy)
}

/// A header value: a string, or a number written as python's `str()` would (python's
/// writer passes numbers through).
struct HeaderValue;

impl<'de> Visitor<'de> for HeaderValue {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("header values as JSON strings")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

struct HeaderMap;

impl<'de> Visitor<'de> for HeaderMap {
    type Value = BTreeMap<String, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("header as a JSON object of strings")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = m.next_key::<String>()? {
            let v = m.next_value_seed(HeaderSeed)?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

struct HeaderSeed;

impl<'de> de::DeserializeSeed<'de> for HeaderSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(HeaderValue)
    }
}

fn de_header<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    d.deserialize_map(HeaderMap)
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object (a message)")]
struct Raw<'a> {
    #[serde(default, deserialize_with = "de_header")]
    header: BTreeMap<String, String>,
    #[serde(default, borrow, deserialize_with = "de_body")]
    body: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "de_text")]
    text: bool,
    #[serde(default, borrow, deserialize_with = "de_encoding")]
    encoding: Option<Cow<'a, str>>,
}

fn lenient_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &B64_ALPHABET,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Decodes a serialized message (the UTF-8 bytes of its JSON form), accepting what Perl
/// and python write: any token order, `text` only when true or any truthy value, compact
/// or spaced JSON, `\uXXXX` or raw UTF-8, base64 with or without padding or line breaks,
/// unknown keys ignored.
pub fn decode(input: &[u8]) -> Result<Message, DecodeError> {
    // serde would take an array for a struct; a message is an object only.
    if let Some(&first) = input.iter().find(|b| !b.is_ascii_whitespace())
        && first != b'{'
        && serde_json::from_slice::<de::IgnoredAny>(input).is_ok()
    {
        let found = match first {
            b'[' => "an array",
            b'"' => "a string",
            b't' | b'f' => "a boolean",
            b'n' => "null",
            _ => "a number",
        };
        return Err(DecodeError::Invalid(format!(
            "expected a JSON object, found {found}"
        )));
    }
    let raw: Raw = serde_json::from_slice(input).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => DecodeError::Invalid(e.to_string()),
        _ => DecodeError::Json(e.to_string()),
    })?;
    let Raw {
        header,
        body,
        text,
        encoding,
    } = raw;
    let body = body.unwrap_or_default();
    let encoding = encoding.unwrap_or_default();
    let (mut base64, mut utf8, mut compression) = (false, false, None);
    if !encoding.is_empty() {
        for t in encoding.split('+') {
            match t {
                "base64" => base64 = true,
                "utf8" => utf8 = true,
                t => match Compression::from_token(t) {
                    Some(c) if compression.is_none() || compression == Some(c) => {
                        compression = Some(c)
                    }
                    Some(_) => return Err(DecodeError::TwoCompressions(encoding.into_owned())),
                    None => return Err(DecodeError::UnknownEncoding(t.to_string())),
                },
            }
        }
    }
    if !base64 && compression.is_none() {
        // The common case: the JSON string is the body.
        let body = if text {
            Body::Text(body.into_owned())
        } else {
            Body::Binary(body.into_owned().into_bytes())
        };
        return Ok(Message { header, body });
    }
    let mut bytes = if base64 {
        let clean: Cow<str> = if body.bytes().any(|b| b.is_ascii_whitespace()) {
            Cow::Owned(body.chars().filter(|c| !c.is_ascii_whitespace()).collect())
        } else {
            Cow::Borrowed(&*body)
        };
        lenient_base64()
            .decode(clean.as_bytes())
            .map_err(|e| DecodeError::Base64(e.to_string()))?
    } else {
        body.into_owned().into_bytes()
    };
    if let Some(c) = compression {
        bytes = c.decompress(&bytes)?;
    }
    let body = if text {
        Body::Text(String::from_utf8(bytes).map_err(|_| DecodeError::Utf8)?)
    } else {
        if utf8 && std::str::from_utf8(&bytes).is_err() {
            return Err(DecodeError::Utf8);
        }
        Body::Binary(bytes)
    };
    Ok(Message { header, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn find_escape_agrees_with_a_plain_scan(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let plain = b.iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\');
            prop_assert_eq!(find_escape(&b), plain);
        }
    }

    proptest! {
        #[test]
        fn needs_base64_agrees_with_a_plain_scan(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let plain = b.iter().any(|&c| !(0x20..=0x7e).contains(&c) && c != b'\t' && c != b'\n' && c != b'\r');
            prop_assert_eq!(needs_base64(&b), plain);
        }
    }

    #[test]
    fn find_escape_at_every_offset() {
        for special in [0u8, 0x1f, b'"', b'\\'] {
            for i in 0..20 {
                let mut b = vec![b'a'; 20];
                b[i] = special;
                assert_eq!(find_escape(&b), Some(i));
            }
        }
        assert_eq!(find_escape("é☺ 0x7f \u{7f} ÿ".as_bytes()), None);
    }
}
