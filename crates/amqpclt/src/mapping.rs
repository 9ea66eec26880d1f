//! Message ↔ AMQP 1.0 message, lossless in an amqpclt → broker → amqpclt round trip.
//!
//! | message header | AMQP 1.0 |
//! |---|---|
//! | `destination` | the link's target address (sending); `properties.to` both ways; else the subscription's address (receiving) |
//! | `message-id`, `correlation-id` | `properties.message-id`, `correlation-id` (strings; other id types are written as text) |
//! | `subject`, `reply-to`, `content-type` | `properties.subject`, `reply-to`, `content-type` |
//! | `persistent` (`true`) | `header.durable` |
//! | `priority` | `header.priority` (0–255) |
//! | `ttl` | `header.ttl`, milliseconds |
//! | any other | `application-properties`, as strings |
//!
//! The body: text ↔ an amqp-value string; binary ↔ one data section. A received data
//! section (several are joined), or an amqp-value binary (what Qpid Proton's Python binding
//! sends for bytes), is text when the content type says so (`text/*` or a `charset=`), as
//! stompclt decides and as messages that crossed from STOMP arrive. A received
//! amqp-sequence or another amqp-value is an error: the delivery stays unaccepted.

use fe2o3_amqp::types::messaging::{
    AmqpValue, ApplicationProperties, Body, Data, Header, Message as AmqpMessage, MessageId,
    Priority, Properties,
};
use fe2o3_amqp::types::primitives::{Binary, SimpleValue, Value};
use message::{Body as MessageBody, Message};
use transfer::{Error, ErrorKind, Result};

/// The header keys that map to AMQP fields of their own.
const NAMED: &[&str] = &[
    "destination",
    "message-id",
    "correlation-id",
    "subject",
    "reply-to",
    "content-type",
    "persistent",
    "priority",
    "ttl",
];

/// A content type that says the body is text: `text/…`, or any with a `charset`.
pub fn is_text_type(ct: &str) -> bool {
    let ct = ct.trim().to_ascii_lowercase();
    ct.starts_with("text/") || ct.contains("charset=")
}

fn bad(msg: String) -> Error {
    Error::new(ErrorKind::BadMessage, msg)
}

/// The AMQP message for a message (its destination is the link's business).
pub fn to_amqp(m: &Message) -> Result<AmqpMessage<Body<Value>>> {
    let h = &m.header;
    let get = |k: &str| h.get(k).cloned();
    let mut header = Header::default();
    let mut with_header = false;
    if let Some(p) = h.get("persistent") {
        header.durable = p.eq_ignore_ascii_case("true");
        with_header = true;
    }
    if let Some(p) = h.get("priority") {
        header.priority = Priority(p.trim().parse::<u8>().map_err(|_| {
            bad(format!(
                "header priority {p:?} is not a number from 0 to 255"
            ))
        })?);
        with_header = true;
    }
    if let Some(t) = h.get("ttl") {
        header.ttl = Some(
            t.trim()
                .parse::<u32>()
                .map_err(|_| bad(format!("header ttl {t:?} is not a number of milliseconds")))?,
        );
        with_header = true;
    }
    let properties = Properties {
        message_id: get("message-id").map(MessageId::String),
        correlation_id: get("correlation-id").map(MessageId::String),
        subject: get("subject"),
        reply_to: get("reply-to"),
        content_type: get("content-type").map(Into::into),
        to: get("destination"),
        ..Properties::default()
    };
    let mut app = ApplicationProperties::default();
    for (k, v) in h.iter().filter(|(k, _)| !NAMED.contains(&k.as_str())) {
        app.0.insert(k.clone(), SimpleValue::String(v.clone()));
    }
    let body = match &m.body {
        MessageBody::Text(t) => Body::Value(AmqpValue(Value::String(t.clone()))),
        MessageBody::Binary(b) => Body::Data(vec![Data(Binary::from(b.clone()))].into()),
    };
    Ok(AmqpMessage {
        header: with_header.then_some(header),
        delivery_annotations: None,
        message_annotations: None,
        properties: Some(properties),
        application_properties: (!app.0.is_empty()).then_some(app),
        body,
        footer: None,
    })
}

fn id_text(id: MessageId) -> String {
    match id {
        MessageId::String(s) => s,
        MessageId::Ulong(n) => n.to_string(),
        MessageId::Uuid(u) => format!("{u:?}"),
        MessageId::Binary(b) => String::from_utf8_lossy(b.as_ref()).into_owned(),
    }
}

fn value_text(v: SimpleValue) -> String {
    match v {
        SimpleValue::String(s) => s,
        SimpleValue::Symbol(s) => s.0,
        SimpleValue::Bool(b) => b.to_string(),
        SimpleValue::Ubyte(n) => n.to_string(),
        SimpleValue::Ushort(n) => n.to_string(),
        SimpleValue::Uint(n) => n.to_string(),
        SimpleValue::Ulong(n) => n.to_string(),
        SimpleValue::Byte(n) => n.to_string(),
        SimpleValue::Short(n) => n.to_string(),
        SimpleValue::Int(n) => n.to_string(),
        SimpleValue::Long(n) => n.to_string(),
        SimpleValue::Float(f) => f.to_string(),
        SimpleValue::Double(f) => f.to_string(),
        SimpleValue::Binary(b) => String::from_utf8_lossy(b.as_ref()).into_owned(),
        other => format!("{other:?}"),
    }
}

/// The message for a received AMQP message; `address` names the subscription (the
/// `destination` when the message does not say `to`).
pub fn from_amqp(a: AmqpMessage<Body<Value>>, address: &str) -> Result<Message> {
    let mut m = Message::binary(Vec::new());
    let h = &mut m.header;
    if let Some(hd) = a.header {
        if hd.durable {
            h.insert("persistent".into(), "true".into());
        }
        if hd.priority.0 != 4 {
            h.insert("priority".into(), hd.priority.0.to_string());
        }
        if let Some(t) = hd.ttl {
            h.insert("ttl".into(), t.to_string());
        }
    }
    if let Some(app) = a.application_properties {
        for (k, v) in app.0 {
            h.insert(k, value_text(v));
        }
    }
    let mut text = false;
    if let Some(p) = a.properties {
        let mut set = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                h.insert(k.to_string(), v);
            }
        };
        set("message-id", p.message_id.map(id_text));
        set("correlation-id", p.correlation_id.map(id_text));
        set("subject", p.subject);
        set("reply-to", p.reply_to);
        text = p.content_type.as_ref().is_some_and(|c| is_text_type(&c.0));
        set("content-type", p.content_type.map(|c| c.0));
        set("destination", p.to);
    }
    h.entry("destination".into())
        .or_insert_with(|| address.to_string());
    m.body = match a.body {
        Body::Value(AmqpValue(Value::String(s))) => MessageBody::Text(s),
        Body::Data(_) | Body::Value(AmqpValue(Value::Binary(_))) => {
            let mut bytes = Vec::new();
            match a.body {
                Body::Data(sections) => {
                    for Data(b) in sections {
                        bytes.extend_from_slice(b.as_ref());
                    }
                }
                Body::Value(AmqpValue(Value::Binary(b))) => bytes = b.into_vec(),
                _ => {}
            }
            if text {
                MessageBody::Text(match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                })
            } else {
                MessageBody::Binary(bytes)
            }
        }
        Body::Empty if text => MessageBody::Text(String::new()),
        Body::Empty => MessageBody::Binary(Vec::new()),
        Body::Value(v) => {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "message from {address} has a non-string amqp-value body ({:?}): not a text or binary message",
                    v.0
                ),
            ));
        }
        Body::Sequence(_) => {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "message from {address} has an amqp-sequence body: not a text or binary message"
                ),
            ));
        }
    };
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: &Message) -> Message {
        from_amqp(to_amqp(m).expect("to"), "/queue/x").expect("from")
    }

    #[test]
    fn every_named_key_and_both_bodies_survive() {
        let m = Message::text("héllo ☺")
            .with_header("destination", "/queue/a")
            .with_header("message-id", "id-1")
            .with_header("correlation-id", "c-2")
            .with_header("subject", "s")
            .with_header("reply-to", "/queue/r")
            .with_header("content-type", "text/plain")
            .with_header("persistent", "true")
            .with_header("priority", "7")
            .with_header("ttl", "60000")
            .with_header("x-custom", "v:a\\l ☺");
        assert_eq!(round_trip(&m), m);
        let b = Message::binary(vec![0, 0xff, 1]).with_header("destination", "/queue/a");
        assert_eq!(round_trip(&b), b);
        let empty = Message::binary(Vec::new()).with_header("destination", "/queue/a");
        assert_eq!(round_trip(&empty), empty);
        let t = Message::text("").with_header("destination", "/queue/a");
        assert_eq!(round_trip(&t), t);
    }

    #[test]
    fn data_with_a_text_type_is_text_and_the_address_fills_in() {
        let a = AmqpMessage {
            header: None,
            delivery_annotations: None,
            message_annotations: None,
            properties: Some(Properties {
                content_type: Some("text/unknown".into()),
                ..Properties::default()
            }),
            application_properties: None,
            body: Body::Data(vec![Data(Binary::from(b"abc".to_vec()))].into()),
            footer: None,
        };
        let m = from_amqp(a, "/queue/q").expect("from");
        assert!(m.is_text());
        assert_eq!(m.header["destination"], "/queue/q");
        let bad = AmqpMessage {
            header: None,
            delivery_annotations: None,
            message_annotations: None,
            properties: None,
            application_properties: None,
            body: Body::Value(AmqpValue(Value::Int(3))),
            footer: None,
        };
        assert!(from_amqp(bad, "/queue/q").is_err());
        let m = Message::text("x").with_header("priority", "high");
        assert!(to_amqp(&m).is_err());
    }
}
