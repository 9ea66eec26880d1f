//! Message ⇄ AMS/Pub/Sub message (`{"data": base64, "attributes": {…}}`).
//!
//! `--payload raw`: the body is `data`; every header but `destination` is an attribute; a
//! binary body that happens to be valid UTF-8 gets the attribute `binary=true`, an empty one
//! `binary=true` or `false` (the services refuse a message with neither data nor
//! attributes); any other body's kind follows from its bytes: UTF-8 is text. On the way in, `messageId` and
//! `publishTime` become the headers `message-id` and `publish-time`, and `destination` the
//! subscription's name. `--payload json`: `data` is the whole message in its JSON form (the
//! spool's DQS encoding), which comes back identical.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use message::{Body, Message};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use transfer::{Error, ErrorKind, Result};

/// How a message becomes `data` (`--payload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Payload {
    /// The body as data, the header as attributes.
    #[default]
    Raw,
    /// The whole message as its JSON form (the spool's DQS encoding).
    Json,
}

/// The attribute that marks a binary body whose bytes are valid UTF-8.
pub const BINARY: &str = "binary";

/// A message as the services publish it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outgoing {
    /// The body, base64.
    pub data: String,
    /// The attributes (left out when empty: AMS and Pub/Sub both take that).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// A message as the services deliver it (AMS and Pub/Sub name the fields alike).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    /// The body, base64 (absent for an empty body).
    #[serde(default)]
    pub data: String,
    /// The attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The service's id of the message.
    #[serde(default)]
    pub message_id: String,
    /// When the service took it (RFC 3339).
    #[serde(default)]
    pub publish_time: String,
}

fn bad(what: String) -> Error {
    Error::new(ErrorKind::BadMessage, what)
}

/// The topic a message goes to: its `destination` header or `--topic`; names as the
/// services take them (letters, digits, `_`, `-`, `.`, `~`, `+`, `%`; no `/`).
pub fn topic<'a>(m: &'a Message, default: Option<&'a str>) -> Result<&'a str> {
    let t = m
        .header
        .get("destination")
        .map(String::as_str)
        .or(default)
        .ok_or_else(|| bad("a message without destination header and no --topic".into()))?;
    check_name(t).map_err(bad)?;
    Ok(t)
}

/// Checks a topic or subscription name: what AMS and Pub/Sub both accept.
pub fn check_name(n: &str) -> std::result::Result<(), String> {
    if n.is_empty() {
        return Err("an empty topic or subscription name".into());
    }
    if let Some(c) = n
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.~+%".contains(*c)))
    {
        return Err(format!(
            "{n:?} is not a topic or subscription name ({c:?}: letters, digits, _ - . ~ + % only)"
        ));
    }
    Ok(())
}

/// ams-publisher's message built from `m` (`--ams-message`); a message that does not fit
/// (its timestamp, the Avro schema) is refused, named.
pub fn built(m: &Message, b: &crate::publisher::build::Build) -> Result<Outgoing> {
    let (data, attributes) = crate::publisher::build::build(m, b).map_err(|e| {
        bad(format!(
            "cannot build ams-publisher's {} message: {e}",
            b.msgtype.name()
        ))
    })?;
    Ok(Outgoing {
        data: STANDARD.encode(data),
        attributes,
    })
}

/// The published form of a message.
pub fn to_service(m: &Message, payload: Payload) -> Outgoing {
    match payload {
        Payload::Json => Outgoing {
            data: STANDARD.encode(message::Encoder::default().encode(m)),
            attributes: BTreeMap::new(),
        },
        Payload::Raw => {
            let mut attributes: BTreeMap<String, String> = m
                .header
                .iter()
                .filter(|(k, _)| k.as_str() != "destination")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let bytes = m.body.as_bytes();
            if bytes.is_empty() {
                // the services refuse a message with neither data nor attributes
                attributes.insert(BINARY.into(), (!m.is_text()).to_string());
            } else if !m.is_text() && std::str::from_utf8(bytes).is_ok() {
                attributes.insert(BINARY.into(), "true".into());
            }
            Outgoing {
                data: STANDARD.encode(bytes),
                attributes,
            }
        }
    }
}

/// The message of a delivery from `subscription`.
pub fn from_service(d: Delivered, subscription: &str, payload: Payload) -> Result<Message> {
    let bytes = STANDARD.decode(d.data.as_bytes()).map_err(|e| {
        bad(format!(
            "message {} has data that is not base64: {e}",
            d.message_id
        ))
    })?;
    if payload == Payload::Json {
        return message::decode(&bytes).map_err(|e| {
            bad(format!(
                "message {} on {subscription} is not a JSON message (--payload json): {e}",
                d.message_id
            ))
        });
    }
    let mut header = d.attributes;
    let binary = header.remove(BINARY).is_some_and(|v| v == "true");
    let body = match (binary, String::from_utf8(bytes)) {
        (false, Ok(text)) => Body::Text(text),
        (_, Ok(text)) => Body::Binary(text.into_bytes()),
        (_, Err(e)) => Body::Binary(e.into_bytes()),
    };
    header.insert("destination".into(), subscription.into());
    if !d.message_id.is_empty() {
        header.insert("message-id".into(), d.message_id);
    }
    if !d.publish_time.is_empty() {
        header.insert("publish-time".into(), d.publish_time);
    }
    Ok(Message { header, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(o: Outgoing) -> Delivered {
        Delivered {
            data: o.data,
            attributes: o.attributes,
            message_id: "42".into(),
            publish_time: "2026-12-06T10:00:00Z".into(),
        }
    }

    #[test]
    fn raw_keeps_body_kind_and_header() {
        for m in [
            Message::text("héllo\n").with_header("x-ünï", "vâl"),
            Message::binary(b"plain ascii".to_vec()),
            Message::binary(vec![0xff, 0, 1]),
            Message::text(""),
            Message::binary(Vec::new()),
        ] {
            let m = m.with_header("destination", "t");
            let back = from_service(delivered(to_service(&m, Payload::Raw)), "s", Payload::Raw)
                .expect("back");
            assert_eq!(back.body, m.body);
            assert_eq!(back.header["destination"], "s");
            assert_eq!(back.header["message-id"], "42");
            for (k, v) in m.header.iter().filter(|(k, _)| *k != "destination") {
                assert_eq!(back.header.get(k), Some(v));
            }
            assert!(!back.header.contains_key(BINARY));
        }
    }

    #[test]
    fn json_keeps_the_whole_message() {
        let m = Message::binary(b"x".to_vec()).with_header("destination", "t");
        let back = from_service(delivered(to_service(&m, Payload::Json)), "s", Payload::Json)
            .expect("back");
        assert_eq!(back, m);
    }

    #[test]
    fn names_and_topics() {
        assert!(check_name("metrics_2026-x").is_ok());
        for n in ["", "a/b", "a b", "t*"] {
            assert!(check_name(n).is_err(), "{n}");
        }
        let m = Message::text("x");
        assert_eq!(topic(&m, Some("t")).expect("default"), "t");
        assert!(topic(&m, None).is_err());
        let e = topic(&m.clone().with_header("destination", "a/b"), None).expect_err("slash");
        assert_eq!(e.kind, ErrorKind::BadMessage);
    }
}
