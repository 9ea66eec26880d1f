//! MESSAGE frame → message, message → SEND frame, as the reference maps them.

use message::{Body, Message};
use transfer::{Error, ErrorKind, Result};

use crate::frame::Frame;

/// A content type that says the body is text: `text/…`, or any with a `charset`.
pub fn is_text_type(ct: &str) -> bool {
    let ct = ct.trim().to_ascii_lowercase();
    ct.starts_with("text/") || ct.contains("charset=")
}

/// Every header of the MESSAGE frame is kept; the body is text when the content type says
/// so (decoded as UTF-8, malformed sequences replaced, as the reference's permissive mode).
pub fn from_frame(f: Frame) -> Message {
    let text = f.get("content-type").is_some_and(is_text_type);
    let header = f.headers.into_iter().collect();
    let body = if text {
        match String::from_utf8(f.body) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    } else {
        Body::Binary(f.body)
    };
    Message { header, body }
}

/// The SEND frame for a message: its header as is, `text/unknown` for text without a
/// content type, `content-length` set (or, when the header is present but empty, left out:
/// the ActiveMQ TextMessage trick). A text/binary mismatch with the content type is an
/// error, as is a missing destination.
pub fn to_send(m: &Message) -> Result<Frame> {
    let bad = |msg: String| Error::new(ErrorKind::BadMessage, msg);
    if !m.header.contains_key("destination") {
        return Err(bad("message has no destination header".into()));
    }
    let mut f = Frame::new("SEND");
    let mut suppress_length = false;
    for (k, v) in &m.header {
        if k == "content-length" {
            suppress_length = v.trim().is_empty();
            continue; // set below from the body actually sent
        }
        f.headers.push((k.clone(), v.clone()));
    }
    match (m.header.get("content-type"), &m.body) {
        (Some(ct), Body::Binary(_)) if is_text_type(ct) => {
            return Err(bad(format!(
                "binary message with the text content-type {ct:?}"
            )));
        }
        (Some(ct), Body::Text(_)) if !is_text_type(ct) => {
            return Err(bad(format!(
                "text message with the binary content-type {ct:?}"
            )));
        }
        (None, Body::Text(_)) => f
            .headers
            .push(("content-type".into(), "text/unknown".into())),
        _ => {}
    }
    let body = m.body.as_bytes();
    if suppress_length {
        if body.contains(&0) {
            return Err(bad(
                "message body holds a NUL byte and its empty content-length asks to send none"
                    .into(),
            ));
        }
    } else if !body.is_empty() {
        // The reference reuses a received content-length as is; the actual length is the
        // same for an unchanged body and keeps the frame sound if the body changed.
        f.headers
            .push(("content-length".into(), body.len().to_string()));
    }
    f.body = body.to_vec();
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiving_keeps_every_header() {
        let f = Frame::new("MESSAGE")
            .header("destination", "/queue/a")
            .header("message-id", "ID:1")
            .header("content-type", "text/plain; charset=utf-8")
            .header("content-length", "4");
        let mut f = f;
        f.body = "é!!".as_bytes().to_vec();
        let m = from_frame(f);
        assert!(m.is_text());
        assert_eq!(m.header.len(), 4);
        assert_eq!(m.body, Body::Text("é!!".into()));
        let b =
            from_frame(Frame::new("MESSAGE").header("content-type", "application/octet-stream"));
        assert!(!b.is_text());
        let mut bad = Frame::new("MESSAGE").header("content-type", "text/plain");
        bad.body = vec![0xff, b'a'];
        assert_eq!(from_frame(bad).body, Body::Text("\u{fffd}a".into()));
    }

    #[test]
    fn sending_rules() {
        let m = Message::text("hi").with_header("destination", "/queue/a");
        let f = to_send(&m).expect("frame");
        assert_eq!(f.get("content-type"), Some("text/unknown"));
        assert_eq!(f.get("content-length"), Some("2"));
        let m = Message::text("hi")
            .with_header("destination", "/queue/a")
            .with_header("content-length", "");
        assert_eq!(to_send(&m).expect("frame").get("content-length"), None);
        let m = Message::binary("x")
            .with_header("destination", "/q")
            .with_header("content-type", "text/plain");
        assert_eq!(
            to_send(&m).unwrap_err().to_string(),
            "binary message with the text content-type \"text/plain\""
        );
        let m = Message::text("x")
            .with_header("destination", "/q")
            .with_header("content-type", "image/png");
        assert_eq!(
            to_send(&m).unwrap_err().to_string(),
            "text message with the binary content-type \"image/png\""
        );
        assert_eq!(
            to_send(&Message::text("x")).unwrap_err().to_string(),
            "message has no destination header"
        );
        let m = Message::binary(Vec::new()).with_header("destination", "/q");
        assert_eq!(
            to_send(&m).expect("frame").get("content-length"),
            None,
            "empty body"
        );
    }
}
