//! Message ⇄ MQTT PUBLISH, as the README's table says.
//!
//! MQTT 5 (`--payload raw`): `destination` ↔ topic, `qos`/`retain` ↔ QoS and retain,
//! `content-type` ↔ content type, `reply-to` ↔ response topic, `correlation-id` ↔
//! correlation data, the text flag ↔ payload format indicator 1, every other header ↔ a
//! user property. MQTT 3.1.1 carries only topic, payload, QoS and retain: with `--payload
//! raw` the other headers are dropped (counted), with `--payload json` the whole message
//! travels as its JSON form (either version) and comes back identical.

use bytes::Bytes;
use message::{Body, Message};
use transfer::{Error, ErrorKind, Result};

use crate::packet::{Props, Publish, Version};

/// How a message becomes a payload (`--payload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Payload {
    /// The body only (headers as MQTT 5 properties, dropped with 3.1.1).
    #[default]
    Raw,
    /// The whole message as its JSON form (the spool's DQS encoding).
    Json,
}

/// Defaults for messages without the headers (`--topic`, `--qos`, `--retain`).
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// Topic when a message has no `destination`.
    pub topic: Option<String>,
    /// QoS when a message has no `qos`.
    pub qos: u8,
    /// Retain when a message has no `retain`.
    pub retain: bool,
}

/// The header keys that are MQTT fields rather than properties.
const FIELDS: &[&str] = &["destination", "qos", "retain"];

fn bad(what: String) -> Error {
    Error::new(ErrorKind::BadMessage, what)
}

/// Checks a topic name for publishing: not empty, no wildcard, no NUL.
pub fn check_topic(t: &str) -> std::result::Result<(), String> {
    if t.is_empty() {
        return Err("an empty topic".into());
    }
    if t.contains(['+', '#']) {
        return Err(format!(
            "topic {t:?} has a wildcard (+ or #), which is for subscribing"
        ));
    }
    if t.contains('\0') {
        return Err(format!("topic {t:?} has a NUL character"));
    }
    if t.len() > 65535 {
        return Err("a topic longer than 65535 bytes".into());
    }
    Ok(())
}

/// The PUBLISH for a message (packet id 0, set by the sender), and how many headers MQTT
/// could not carry.
pub fn to_mqtt(
    m: &Message,
    version: Version,
    payload: Payload,
    d: &Defaults,
) -> Result<(Publish, usize)> {
    let topic = m
        .header
        .get("destination")
        .or(d.topic.as_ref())
        .ok_or_else(|| bad("message has no destination header (and no --topic)".into()))?
        .clone();
    check_topic(&topic).map_err(bad)?;
    let qos = match m.header.get("qos").map(String::as_str) {
        None => d.qos,
        Some("0") => 0,
        Some("1") => 1,
        Some("2") => return Err(bad(QOS2.into())),
        Some(q) => return Err(bad(format!("header qos={q:?}: 0 or 1"))),
    };
    let retain = match m.header.get("retain").map(String::as_str) {
        None => d.retain,
        Some(r) => r == "true",
    };
    let mut dropped = 0;
    let (body, props) = match payload {
        Payload::Json => (
            Bytes::from(message::Encoder::default().encode(m).into_bytes()),
            (version == Version::V5).then(|| Props {
                utf8: true,
                content_type: Some("application/json".into()),
                ..Props::default()
            }),
        ),
        Payload::Raw => {
            let body = Bytes::copy_from_slice(m.body.as_bytes());
            match version {
                Version::V311 => {
                    dropped = m
                        .header
                        .keys()
                        .filter(|k| !FIELDS.contains(&k.as_str()))
                        .count();
                    (body, None)
                }
                Version::V5 => (body, Some(props_of(m)?)),
            }
        }
    };
    Ok((
        Publish {
            topic,
            qos,
            retain,
            dup: false,
            pkid: 0,
            payload: body,
            props,
        },
        dropped,
    ))
}

/// Why QoS 2 is refused.
pub const QOS2: &str = "QoS 2 is not supported: an exchange cut by a restart cannot be \
                        finished reliably; use QoS 1 (at-least-once, duplicates counted)";

fn props_of(m: &Message) -> Result<Props> {
    let mut p = Props {
        utf8: m.is_text(),
        ..Props::default()
    };
    for (k, v) in &m.header {
        if k.contains('\0') || v.contains('\0') {
            return Err(bad(format!(
                "header {k:?} cannot be carried by MQTT 5 (a NUL character)"
            )));
        }
        match k.as_str() {
            "destination" | "qos" | "retain" => {}
            "content-type" => p.content_type = Some(v.clone()),
            "reply-to" => p.response_topic = Some(v.clone()),
            "correlation-id" => p.correlation_data = Some(Bytes::from(v.clone().into_bytes())),
            _ => p.user.push((k.clone(), v.clone())),
        }
    }
    Ok(p)
}

/// The message of a delivery.
pub fn from_mqtt(p: &Publish, payload: Payload) -> Result<Message> {
    if payload == Payload::Json {
        let mut m = message::decode(&p.payload).map_err(|e| {
            bad(format!(
                "a delivery on {} is not a JSON message (--payload json): {e}",
                p.topic
            ))
        })?;
        m.header
            .entry("destination".into())
            .or_insert_with(|| p.topic.clone());
        return Ok(m);
    }
    let props = p.props.clone().unwrap_or_default();
    let body = if props.utf8 {
        match String::from_utf8(p.payload.to_vec()) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(p.payload.to_vec())
    };
    let mut m = Message {
        body,
        ..Message::default()
    };
    let h = &mut m.header;
    for (k, v) in props.user {
        // a repeated key: the last one wins, as a map has one value
        if h.insert(k.clone(), v).is_some() {
            agent::log::warn(format_args!(
                "a delivery on {} repeats user property {k:?}: the last value is kept",
                p.topic
            ));
        }
    }
    if let Some(ct) = props.content_type {
        h.insert("content-type".into(), ct);
    }
    if let Some(r) = props.response_topic {
        h.insert("reply-to".into(), r);
    }
    if let Some(c) = props.correlation_data {
        h.insert(
            "correlation-id".into(),
            String::from_utf8_lossy(&c).into_owned(),
        );
    }
    h.insert("destination".into(), p.topic.clone());
    h.insert("qos".into(), p.qos.to_string());
    if p.retain {
        h.insert("retain".into(), "true".into());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        Message::text("héllo\n")
            .with_header("destination", "a/b")
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_header("reply-to", "r/1")
            .with_header("correlation-id", "c-1")
            .with_header("x-ünï", "välue")
            .with_header("qos", "1")
    }

    #[test]
    fn v5_raw_round_trip_is_lossless() {
        let m = sample();
        let (p, dropped) =
            to_mqtt(&m, Version::V5, Payload::Raw, &Defaults::default()).expect("map");
        assert_eq!((p.qos, p.retain, dropped), (1, false, 0));
        assert_eq!(from_mqtt(&p, Payload::Raw).expect("back"), m);
        let bin = Message::binary(vec![0, 255, 1]).with_header("destination", "t");
        let (p, _) = to_mqtt(&bin, Version::V5, Payload::Raw, &Defaults::default()).expect("map");
        let back = from_mqtt(&p, Payload::Raw).expect("back");
        assert_eq!(
            (back.body, back.header.get("qos")),
            (bin.body, Some(&"0".to_string()))
        );
    }

    #[test]
    fn json_carries_everything_over_311_and_raw_counts_what_it_drops() {
        let m = sample();
        let (p, dropped) =
            to_mqtt(&m, Version::V311, Payload::Json, &Defaults::default()).expect("map");
        assert_eq!(dropped, 0);
        assert_eq!(from_mqtt(&p, Payload::Json).expect("back"), m);
        let (p, dropped) =
            to_mqtt(&m, Version::V311, Payload::Raw, &Defaults::default()).expect("map");
        assert_eq!(dropped, 4, "content-type, reply-to, correlation-id, x-ünï");
        assert_eq!(&p.payload[..], "héllo\n".as_bytes());
    }

    #[test]
    fn what_mqtt_cannot_carry_is_a_clear_error() {
        let d = Defaults::default();
        for (m, what) in [
            (Message::text("x"), "no destination"),
            (
                Message::text("x").with_header("destination", "a/+"),
                "wildcard",
            ),
            (
                Message::text("x")
                    .with_header("destination", "a")
                    .with_header("qos", "2"),
                "QoS 2",
            ),
            (
                Message::text("x")
                    .with_header("destination", "a")
                    .with_header("k", "a\0b"),
                "NUL",
            ),
        ] {
            let e = to_mqtt(&m, Version::V5, Payload::Raw, &d).expect_err(what);
            assert!(e.to_string().contains(what), "{e}");
        }
        let d = Defaults {
            topic: Some("dflt".into()),
            qos: 1,
            retain: true,
        };
        let (p, _) = to_mqtt(&Message::text("x"), Version::V5, Payload::Raw, &d).expect("map");
        assert_eq!((p.topic.as_str(), p.qos, p.retain), ("dflt", 1, true));
    }
}
