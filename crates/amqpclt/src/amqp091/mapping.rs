//! Message ↔ AMQP 0-9-1 publish, as the reference amqpclt maps them.
//!
//! | message | AMQP 0-9-1 (publishing) | AMQP 0-9-1 (receiving) |
//! |---|---|---|
//! | the whole header, `destination` included | `headers` table, every value a long string | `headers` table: strings as they are, numbers and booleans as text, arrays and tables (RabbitMQ's `x-death`) as JSON |
//! | `persistent: true` | `delivery_mode` 2 (else 1) | from the table only |
//! | `content-type` | `content_type` (`text/unknown` for text without one) | from the table only |
//! | text or binary body | the bytes (UTF-8 for text) | text when `content_type` is `text/*` or has a `charset=` (and is UTF-8) |
//! | `message-id` | in the table | from the table, else from `message_id` (an AMQP 1.0 sender's, through RabbitMQ) |
//! | — | `timestamp` = now | other properties are not kept (as the reference) |
//! | `destination` | in the table | from the table; when it has none (a message from another client), `/queue/KEY` for the default exchange and `/topic/KEY` for `amq.topic` |
//!
//! A `content-type` header that says text on a binary message, or binary on a text
//! message, is refused, as the reference and stompclt refuse it.

use std::time::{SystemTime, UNIX_EPOCH};

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use message::{Body, Message};
use transfer::{Error, ErrorKind, Result};

use crate::mapping::is_text_type;

/// The properties and body to publish for a message.
pub fn to_publish(m: &Message) -> Result<(BasicProperties, Vec<u8>)> {
    let mut headers = FieldTable::default();
    for (k, v) in &m.header {
        headers.insert(
            ShortString::from(k.as_str()),
            AMQPValue::LongString(LongString::from(v.as_str())),
        );
    }
    let persistent = m.header.get("persistent").is_some_and(|p| p == "true");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut props = BasicProperties::default()
        .with_headers(headers)
        .with_delivery_mode(if persistent { 2 } else { 1 })
        .with_timestamp(now);
    match m.header.get("content-type") {
        Some(ct) => {
            if is_text_type(ct) != m.is_text() {
                let (what, body) = if m.is_text() {
                    ("binary", "text")
                } else {
                    ("text", "binary")
                };
                return Err(Error::new(
                    ErrorKind::BadMessage,
                    format!("unexpected {what} content-type for a {body} message: {ct}"),
                ));
            }
            props = props.with_content_type(ShortString::from(ct.as_str()));
        }
        None if m.is_text() => props = props.with_content_type("text/unknown".into()),
        None => {}
    }
    Ok((props, m.body.as_bytes().to_vec()))
}

/// The message of a delivery (its exchange and routing key name its destination when the
/// headers table does not).
pub fn from_delivery(
    props: &BasicProperties,
    data: Vec<u8>,
    exchange: &str,
    routing_key: &str,
) -> Message {
    let mut m = Message::new();
    if let Some(h) = props.headers() {
        for (k, v) in h {
            m.header.insert(k.to_string(), text(v));
        }
    }
    // an AMQP 1.0 sender's message-id (where `--dedup` puts its ids) arrives as this
    // property through RabbitMQ
    if let Some(id) = props.message_id()
        && !m.header.contains_key("message-id")
    {
        m.header.insert("message-id".into(), id.to_string());
    }
    if !m.header.contains_key("destination") {
        match exchange {
            "" => m
                .header
                .insert("destination".into(), format!("/queue/{routing_key}")),
            "amq.topic" => m
                .header
                .insert("destination".into(), format!("/topic/{routing_key}")),
            _ => None,
        };
    }
    let text_type = props
        .content_type()
        .as_ref()
        .is_some_and(|ct| is_text_type(ct.as_str()));
    m.body = match text_type {
        true => match String::from_utf8(data) {
            Ok(s) => Body::Text(s),
            // said text, is not: kept as it came rather than refused for ever
            Err(e) => {
                agent::log::warn(format_args!(
                    "a message said text ({}) and is not UTF-8: kept as binary",
                    props.content_type().as_ref().map_or("", |c| c.as_str())
                ));
                Body::Binary(e.into_bytes())
            }
        },
        false => Body::Binary(data),
    };
    m
}

/// A header table value as header text.
fn text(v: &AMQPValue) -> String {
    match v {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.to_string(),
        AMQPValue::ByteArray(b) => String::from_utf8_lossy(b.as_slice()).into_owned(),
        AMQPValue::Void => String::new(),
        other => json(other),
    }
}

/// JSON for structured values (and the numbers and booleans inside them).
fn json(v: &AMQPValue) -> String {
    let quote = |s: &str| {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    match v {
        AMQPValue::Boolean(b) => b.to_string(),
        AMQPValue::ShortShortInt(n) => n.to_string(),
        AMQPValue::ShortShortUInt(n) => n.to_string(),
        AMQPValue::ShortInt(n) => n.to_string(),
        AMQPValue::ShortUInt(n) => n.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        AMQPValue::LongUInt(n) => n.to_string(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        AMQPValue::Float(f) => f.to_string(),
        AMQPValue::Double(f) => f.to_string(),
        AMQPValue::Timestamp(t) => t.to_string(),
        AMQPValue::DecimalValue(d) => (d.value as f64 / 10f64.powi(i32::from(d.scale))).to_string(),
        AMQPValue::FieldArray(a) => {
            let items: Vec<String> = a.as_slice().iter().map(json).collect();
            format!("[{}]", items.join(","))
        }
        AMQPValue::FieldTable(t) => {
            let items: Vec<String> = t
                .inner()
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k.as_str()), json(v)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        AMQPValue::Void => "null".into(),
        other => quote(&text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_properties_as_the_reference() {
        let m = Message::text("hi")
            .with_header("destination", "/queue/q")
            .with_header("persistent", "true");
        let (p, body) = to_publish(&m).expect("mapped");
        assert_eq!(body, b"hi");
        assert_eq!(*p.delivery_mode(), Some(2));
        assert_eq!(
            p.content_type().as_ref().map(|c| c.as_str()),
            Some("text/unknown")
        );
        let h = p.headers().as_ref().expect("headers");
        assert_eq!(h.inner().len(), 2);
        let back = from_delivery(&p, body, "", "q");
        assert_eq!(back.header, m.header);
        assert!(back.is_text());
        let bin = Message::binary(vec![0u8, 255]);
        let (p, _) = to_publish(&bin).expect("mapped");
        assert_eq!(*p.delivery_mode(), Some(1));
        assert!(p.content_type().is_none());
        let back = from_delivery(&p, vec![0, 255], "", "q");
        assert!(!back.is_text());
        assert_eq!(back.header["destination"], "/queue/q");
    }

    #[test]
    fn inconsistent_content_type_is_refused() {
        let m = Message::binary(vec![1u8]).with_header("content-type", "text/plain");
        let e = to_publish(&m).expect_err("refused");
        assert!(e.line().contains("unexpected text content-type"), "{e}");
        let m = Message::text("x").with_header("content-type", "application/octet-stream");
        assert!(to_publish(&m).is_err());
    }

    #[test]
    fn received_values_become_text() {
        let mut t = FieldTable::default();
        t.insert("n".into(), AMQPValue::LongInt(-3));
        t.insert("b".into(), AMQPValue::Boolean(true));
        let mut inner = FieldTable::default();
        inner.insert("queue".into(), AMQPValue::LongString("q\"1".into()));
        t.insert(
            "x-death".into(),
            AMQPValue::FieldArray(vec![AMQPValue::FieldTable(inner)].into()),
        );
        let p = BasicProperties::default()
            .with_headers(t)
            .with_content_type("text/plain; charset=utf-8".into());
        let m = from_delivery(&p, b"\xff".to_vec(), "amq.topic", "a.b");
        assert_eq!(m.header["destination"], "/topic/a.b");
        assert_eq!(m.header["n"], "-3");
        assert_eq!(m.header["b"], "true");
        assert_eq!(m.header["x-death"], r#"[{"queue":"q\"1"}]"#);
        // said text, is not UTF-8: binary
        assert!(!m.is_text());
    }

    /// The `message_id` property (an AMQP 1.0 sender's message-id, through RabbitMQ) is the
    /// `message-id` header when the table has none; the table's wins.
    #[test]
    fn the_message_id_property_is_read_when_the_table_has_none() {
        let p = BasicProperties::default().with_message_id("id-1".into());
        let m = from_delivery(&p, b"x".to_vec(), "", "q");
        assert_eq!(m.header["message-id"], "id-1");
        let mut t = FieldTable::default();
        t.insert("message-id".into(), AMQPValue::LongString("id-2".into()));
        let p = p.with_headers(t);
        let m = from_delivery(&p, b"x".to_vec(), "", "q");
        assert_eq!(m.header["message-id"], "id-2");
    }
}
