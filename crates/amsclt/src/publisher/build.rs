//! ams-publisher's message, built from a queue element as its publisher builds it: the
//! header fields, the body's `key: value` lines its type selects, and the `tags` map; then
//! the raw Avro datum of the configured schema, or JSON; published with the attributes
//! `partition_date` (the date of the `timestamp` header) and `type`.

use std::collections::BTreeMap;

use message::Message;
use serde_json::{Map, Value};

use super::avro::{self, Schema};

/// The kind of message a topic carries (`MsgType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum MsgType {
    /// Monitoring results: `summary`, `message`, `actual_data`; tags from `vofqan`,
    /// `voname`, `roc`, `site` (as `endpoint_group`).
    MetricData,
    /// Alarms: `details`, `vo`, `site`, `roc`, `urlhistory`, `urlhelp`; no tags.
    Alarm,
}

impl MsgType {
    /// The name ams-publisher's configuration and the `type` attribute use.
    pub fn name(self) -> &'static str {
        match self {
            MsgType::MetricData => "metric_data",
            MsgType::Alarm => "alarm",
        }
    }

    fn body_fields(self) -> &'static [&'static str] {
        match self {
            MsgType::MetricData => &["summary", "message", "actual_data"],
            MsgType::Alarm => &["details", "vo", "site", "roc", "urlhistory", "urlhelp"],
        }
    }

    fn tag_fields(self) -> &'static [&'static str] {
        match self {
            MsgType::MetricData => &["vofqan", "voname", "roc", "site"],
            MsgType::Alarm => &[],
        }
    }
}

/// How messages are built and encoded.
#[derive(Debug, Clone)]
pub struct Build {
    /// `MsgType`.
    pub msgtype: MsgType,
    /// `AvroSchema` when `Avro` is on; JSON otherwise.
    pub avro: Option<Schema>,
}

/// The body's `key: value` lines whose key is one of `fields` (the last one wins); as
/// tags, `site` is named `endpoint_group`.
fn body_lines(body: &str, fields: &[&str], tags: bool) -> Vec<(String, String)> {
    body.split('\n')
        .filter_map(|line| line.split_once(": "))
        .filter(|(k, _)| fields.contains(k))
        .map(|(k, v)| {
            let k = if tags && k == "site" {
                "endpoint_group"
            } else {
                k
            };
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The message as a JSON object: header fields, body fields, tags (when there is a body).
pub fn record(m: &Message, msgtype: MsgType) -> Map<String, Value> {
    let mut rec: Map<String, Value> = m
        .header
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let body = String::from_utf8_lossy(m.body.as_bytes());
    if !body.is_empty() {
        for (k, v) in body_lines(&body, msgtype.body_fields(), false) {
            rec.insert(k, Value::String(v));
        }
        let tags: Map<String, Value> = body_lines(&body, msgtype.tag_fields(), true)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        rec.insert("tags".into(), Value::Object(tags));
    }
    rec
}

/// `YYYY-MM-DD` of a `YYYY-MM-DDTHH:MM:SSZ` timestamp.
pub fn partition_date(timestamp: &str) -> Option<&str> {
    let b = timestamp.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    shape.then(|| &timestamp[..10])
}

/// Today's date (UTC), for a message without timestamp.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // days since 1970-01-01 to a civil date (Howard Hinnant's algorithm)
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A JSON text as Python's `json.dumps` writes it: `", "` and `": "` between items,
/// anything beyond ASCII escaped.
fn python_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(&Value::String(k.clone()), out);
                out.push_str(": ");
                python_json(x, out);
            }
            out.push('}');
        }
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The published form: `(data, attributes)`; an error names what does not fit.
pub fn build(m: &Message, b: &Build) -> Result<(Vec<u8>, BTreeMap<String, String>), String> {
    let rec = record(m, b.msgtype);
    let date = match m.header.get("timestamp").map(String::as_str) {
        None | Some("") => today(),
        Some(t) => partition_date(t)
            .ok_or_else(|| format!("timestamp {t:?} is not YYYY-MM-DDTHH:MM:SSZ"))?
            .to_string(),
    };
    let data = match &b.avro {
        Some(schema) => avro::encode(schema, &Value::Object(rec))
            .map_err(|e| format!("not an example of the Avro schema: {e}"))?,
        None => {
            let mut s = String::new();
            python_json(&Value::Object(rec), &mut s);
            s.into_bytes()
        }
    };
    let attributes = BTreeMap::from([
        ("partition_date".to_string(), date),
        ("type".to_string(), b.msgtype.name().to_string()),
    ]);
    Ok((data, attributes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric() -> Message {
        Message::text("summary: OK ü\nmessage: all good\nsite: SITE-1\nvoname: ops\nnoise\n")
            .with_header("timestamp", "2026-12-06T10:00:00Z")
            .with_header("metric", "org.nagios.Ping")
    }

    #[test]
    fn picks_the_lines_its_type_selects() {
        let r = record(&metric(), MsgType::MetricData);
        assert_eq!(r["summary"], "OK ü");
        assert_eq!(r["message"], "all good");
        assert_eq!(r["tags"]["endpoint_group"], "SITE-1");
        assert_eq!(r["tags"]["voname"], "ops");
        assert!(r.get("site").is_none() && r.get("noise").is_none());
        let a = record(&metric(), MsgType::Alarm);
        assert_eq!(a["site"], "SITE-1");
        assert_eq!(a["tags"], serde_json::json!({}));
        assert!(
            record(&Message::text(""), MsgType::Alarm)
                .get("tags")
                .is_none()
        );
    }

    #[test]
    fn json_as_python_writes_it() {
        let b = Build {
            msgtype: MsgType::MetricData,
            avro: None,
        };
        let (data, attrs) = build(&metric(), &b).unwrap();
        assert_eq!(
            String::from_utf8(data).unwrap(),
            "{\"message\": \"all good\", \"metric\": \"org.nagios.Ping\", \"summary\": \
             \"OK \\u00fc\", \"tags\": {\"endpoint_group\": \"SITE-1\", \"voname\": \"ops\"}, \
             \"timestamp\": \"2026-12-06T10:00:00Z\"}"
        );
        assert_eq!(attrs["partition_date"], "2026-12-06");
        assert_eq!(attrs["type"], "metric_data");
        let bad = Message::text("").with_header("timestamp", "yesterday");
        assert_eq!(
            build(&bad, &b).unwrap_err(),
            "timestamp \"yesterday\" is not YYYY-MM-DDTHH:MM:SSZ"
        );
        assert_eq!(today().len(), 10);
    }
}
