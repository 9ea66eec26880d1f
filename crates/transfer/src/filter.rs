//! Built-in filters, in place of the reference's Perl callbacks: the documented one-liners
//! as options. Applied in this order: strip broker headers, delete, rename, set; then the
//! keep and drop tests; then the tap.

use message::{Message, MessageQueue, QueueOptions};
use regex::Regex;

use crate::{Error, ErrorKind, Result};

/// A test on a header (or on the body, with the name `body`).
#[derive(Debug, Clone)]
pub struct Test {
    field: String,
    re: Regex,
}

impl Test {
    /// Parses `FIELD=REGEX` (FIELD a header name or `body`).
    pub fn parse(s: &str) -> Result<Self> {
        let (field, re) = s.split_once('=').ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!("invalid filter {s:?}: expected FIELD=REGEX"),
            )
        })?;
        let re = Regex::new(re)
            .map_err(|e| Error::caused(ErrorKind::Config, format!("invalid regex in {s:?}"), e))?;
        Ok(Test {
            field: field.to_string(),
            re,
        })
    }

    fn matches(&self, m: &Message) -> bool {
        if self.field == "body" {
            return self
                .re
                .is_match(&String::from_utf8_lossy(m.body.as_bytes()));
        }
        m.header
            .get(&self.field)
            .is_some_and(|v| self.re.is_match(v))
    }
}

/// The filter chain.
#[derive(Default)]
pub struct Filters {
    /// Headers to remove first: those the broker added on delivery
    /// (`--strip-broker-headers`; the protocol knows which).
    pub strip: &'static [&'static str],
    /// Header names to delete.
    pub delete: Vec<String>,
    /// (old, new) header names.
    pub rename: Vec<(String, String)>,
    /// (name, value) to set.
    pub set: Vec<(String, String)>,
    /// Keep only messages matching all of these.
    pub keep_if: Vec<Test>,
    /// Drop messages matching any of these.
    pub drop_if: Vec<Test>,
    /// Also add every message passed on to this queue.
    pub tap: Option<QueueOptions>,
    tap_queue: Option<MessageQueue>,
}

impl Filters {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.strip.is_empty()
            && self.delete.is_empty()
            && self.rename.is_empty()
            && self.set.is_empty()
            && self.keep_if.is_empty()
            && self.drop_if.is_empty()
            && self.tap.is_none()
    }

    /// Applies the chain; `None`: the message is dropped (and will be acknowledged).
    pub fn apply(&mut self, mut m: Message) -> Result<Option<Message>> {
        for h in self.strip {
            m.header.remove(*h);
        }
        for h in &self.delete {
            m.header.remove(h);
        }
        for (old, new) in &self.rename {
            if let Some(v) = m.header.remove(old) {
                m.header.insert(new.clone(), v);
            }
        }
        for (k, v) in &self.set {
            m.header.insert(k.clone(), v.clone());
        }
        if !self.keep_if.iter().all(|t| t.matches(&m)) || self.drop_if.iter().any(|t| t.matches(&m))
        {
            return Ok(None);
        }
        if let Some(opts) = &self.tap {
            if self.tap_queue.is_none() {
                self.tap_queue = Some(
                    MessageQueue::open(opts)
                        .map_err(|e| Error::caused(ErrorKind::OutgoingQueue, "tap queue", e))?,
                );
            }
            if let Some(q) = &self.tap_queue {
                q.add_message(&m)
                    .map_err(|e| Error::caused(ErrorKind::OutgoingQueue, "tap queue", e))?;
            }
        }
        Ok(Some(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain() {
        let mut f = Filters {
            strip: &["message-id", "subscription"],
            delete: vec!["x-del".into()],
            rename: vec![("old".into(), "new".into())],
            set: vec![("persistent".into(), "true".into())],
            keep_if: vec![Test::parse("destination=^/queue/").expect("test")],
            drop_if: vec![Test::parse("body=error").expect("test")],
            ..Filters::default()
        };
        let m = Message::text("all fine")
            .with_header("destination", "/queue/a")
            .with_header("message-id", "ID:1")
            .with_header("x-del", "1")
            .with_header("old", "v");
        let out = f.apply(m).expect("ok").expect("kept");
        assert_eq!(
            out.header.keys().collect::<Vec<_>>(),
            ["destination", "new", "persistent"]
        );
        let bad = Message::text("an error here").with_header("destination", "/queue/a");
        assert!(f.apply(bad).expect("ok").is_none());
        let topic = Message::text("x").with_header("destination", "/topic/a");
        assert!(f.apply(topic).expect("ok").is_none());
        assert!(Test::parse("nofield").is_err());
        assert!(Test::parse("body=(").is_err());
    }
}
