//! Message queues over directory queues: DQS (one serialized message per Simple element),
//! DQN (a Normal element with `header`, `text` or `binary`) and NULL, created from the
//! `KEY=VALUE` option strings the agents take.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use dirq::{DirQueue, Names, Options, QueueNormal, QueueNull, QueueSimple, Schema, Value};

use crate::{Body, Encoder, Error, Message, Result};

/// The message queue types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueKind {
    /// One file per message holding its serialized JSON form (the default).
    #[default]
    Dqs,
    /// One directory per message: `header` table, `text` string or `binary` bytes.
    Dqn,
    /// Accepts and discards.
    Null,
}

impl QueueKind {
    /// The name the references use.
    pub fn name(self) -> &'static str {
        match self {
            QueueKind::Dqs => "DQS",
            QueueKind::Dqn => "DQN",
            QueueKind::Null => "NULL",
        }
    }
}

impl fmt::Display for QueueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QueueKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "DQS" => Ok(QueueKind::Dqs),
            "DQN" => Ok(QueueKind::Dqn),
            "NULL" => Ok(QueueKind::Null),
            _ => Err(Error::Option(format!(
                "unknown queue type {s:?} (DQS, DQN or NULL)"
            ))),
        }
    }
}

/// Everything needed to open a message queue.
#[derive(Debug, Clone, Default)]
pub struct QueueOptions {
    /// The type (DQS by default).
    pub kind: QueueKind,
    /// The queue directory (not for NULL).
    pub path: Option<PathBuf>,
    /// Directory queue options (umask, granularity, maxelts, maxtemp, maxlock, sync, ...).
    pub dirq: Options,
    /// DQS: how messages are encoded (`compression=zlib`, `zlib!`, `lz4`, `snappy`).
    pub encoder: Encoder,
}

/// The DQN schema: `header` table, `text` string or `binary` bytes.
fn dqn_schema() -> Schema {
    Schema::new([
        ("header", "table"),
        ("text", "string?"),
        ("binary", "binary?"),
    ])
    .unwrap_or_default()
}

impl FromStr for QueueOptions {
    type Err = Error;

    /// Parses `path=/var/spool/out type=DQN compression=zlib umask=022 ...`: whitespace
    /// separated `KEY=VALUE` pairs; `type` defaults to DQS.
    fn from_str(s: &str) -> Result<Self> {
        let mut pairs = Vec::new();
        for word in s.split_whitespace() {
            let (k, v) = word.split_once('=').ok_or_else(|| {
                Error::Option(format!("{word:?} is not KEY=VALUE in queue {s:?}"))
            })?;
            pairs.push((k, v));
        }
        QueueOptions::from_pairs(pairs)
    }
}

impl QueueOptions {
    /// Builds options from `(key, value)` pairs (a config file block, say).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        let mut o = QueueOptions::default();
        if let Some((_, t)) = pairs.iter().rev().find(|(k, _)| *k == "type") {
            o.kind = t.parse()?;
        }
        for (k, v) in pairs {
            if k == "type" {
                continue;
            }
            if o.kind == QueueKind::Null {
                return Err(Error::Option(format!(
                    "the NULL queue takes no options (got {k}={v})"
                )));
            }
            let accepted = match (k, o.kind) {
                ("path", _) => {
                    o.path = Some(PathBuf::from(v));
                    true
                }
                ("compression", QueueKind::Dqs) => {
                    o.encoder = v
                        .parse()
                        .map_err(|e| Error::Option(format!("compression: {e}")))?;
                    true
                }
                // Perl's DQN option: directory link counts. Decided per filesystem here.
                ("nlink", QueueKind::Dqn) => true,
                ("maxelts", QueueKind::Dqs) | ("granularity", QueueKind::Dqn) => false,
                ("schema", _) => false,
                _ => o.dirq.set(k, v).map_err(|e| Error::Option(e.to_string()))?,
            };
            if !accepted {
                return Err(Error::Option(format!(
                    "unknown option {k:?} for a {} queue",
                    o.kind
                )));
            }
        }
        if o.kind != QueueKind::Null && o.path.is_none() {
            return Err(Error::Option(format!("a {} queue needs path=", o.kind)));
        }
        Ok(o)
    }
}

/// A message queue.
#[derive(Debug, Clone)]
pub enum MessageQueue {
    /// Serialized messages in a Simple queue.
    Dqs {
        /// The directory queue.
        queue: QueueSimple,
        /// How new messages are encoded.
        encoder: Encoder,
    },
    /// Messages as Normal elements.
    Dqn(QueueNormal),
    /// The black hole.
    Null(QueueNull),
}

/// A message as a Normal element: `header`, and `text` or `binary`.
fn normal_element(m: &Message) -> BTreeMap<String, Value> {
    let mut e = BTreeMap::new();
    e.insert("header".to_string(), Value::Table(m.header.clone()));
    match &m.body {
        Body::Text(s) => e.insert("text".to_string(), Value::String(s.clone())),
        Body::Binary(b) => e.insert("binary".to_string(), Value::Binary(b.clone())),
    };
    e
}

impl MessageQueue {
    /// Opens (creating if needed) the queue an option string describes.
    pub fn open_str(options: &str) -> Result<Self> {
        MessageQueue::open(&options.parse()?)
    }

    /// Opens (creating if needed) a queue.
    pub fn open(o: &QueueOptions) -> Result<Self> {
        let path = o.path.as_deref().unwrap_or(Path::new(""));
        Ok(match o.kind {
            QueueKind::Dqs => MessageQueue::Dqs {
                queue: QueueSimple::with_options(path, &o.dirq)?,
                encoder: o.encoder,
            },
            QueueKind::Dqn => {
                let mut d = o.dirq.clone();
                d.schema = Some(dqn_schema());
                MessageQueue::Dqn(QueueNormal::with_options(path, &d)?)
            }
            QueueKind::Null => MessageQueue::Null(QueueNull::new()),
        })
    }

    /// The type.
    pub fn kind(&self) -> QueueKind {
        match self {
            MessageQueue::Dqs { .. } => QueueKind::Dqs,
            MessageQueue::Dqn(_) => QueueKind::Dqn,
            MessageQueue::Null(_) => QueueKind::Null,
        }
    }

    /// The underlying directory queue, for iteration, locking, removing and purging.
    pub fn dirq(&self) -> &dyn DirQueue {
        match self {
            MessageQueue::Dqs { queue, .. } => queue,
            MessageQueue::Dqn(q) => q,
            MessageQueue::Null(q) => q,
        }
    }

    /// Adds a message; returns the element name (`""` for NULL).
    pub fn add_message(&self, m: &Message) -> Result<String> {
        match self {
            MessageQueue::Dqs { queue, encoder } => Ok(queue.add(&encoder.serialize(m))?),
            MessageQueue::Dqn(q) => Ok(q.add(&normal_element(m))?),
            MessageQueue::Null(_) => Ok(String::new()),
        }
    }

    /// The first half of an add in two steps (dirq's `stage`): the message written where
    /// no reader sees it; `None` for NULL. [`MessageQueue::commit`] makes it an element.
    pub fn stage_message(&self, m: &Message) -> Result<Option<std::path::PathBuf>> {
        match self {
            MessageQueue::Dqs { queue, encoder } => Ok(Some(queue.stage(&encoder.serialize(m))?)),
            MessageQueue::Dqn(q) => Ok(Some(q.stage(&normal_element(m))?)),
            MessageQueue::Null(_) => Ok(None),
        }
    }

    /// The second half: a staged message (its path, from [`MessageQueue::stage_message`],
    /// perhaps by an earlier process) becomes an element; returns its name.
    pub fn commit(&self, staged: &std::path::Path) -> Result<String> {
        match self {
            MessageQueue::Dqs { queue, .. } => Ok(queue.commit_path(staged)?),
            MessageQueue::Dqn(q) => Ok(q.commit_path(staged)?),
            MessageQueue::Null(_) => Ok(String::new()),
        }
    }

    /// Reads a locked element as a message. A corrupt element is an [`Error::Corrupt`]
    /// naming its path.
    pub fn get_message(&self, name: &str) -> Result<Message> {
        self.get_message_with(name, true)
    }

    /// [`MessageQueue::get_message`] for an element the caller has just locked itself: a
    /// DQN element's lock is not checked again (a `stat` per element saved).
    pub fn get_locked_message(&self, name: &str) -> Result<Message> {
        self.get_message_with(name, false)
    }

    fn get_message_with(&self, name: &str, check_lock: bool) -> Result<Message> {
        match self {
            MessageQueue::Dqs { queue, .. } => {
                let bytes = queue.get(name)?;
                crate::decode(&bytes).map_err(|source| Error::Corrupt {
                    path: queue.path().join(name),
                    source,
                })
            }
            MessageQueue::Dqn(q) => {
                // field decoding errors (bad UTF-8, bad table line) name the file already
                let mut e = if check_lock {
                    q.get(name)?
                } else {
                    q.get_locked(name)?
                };
                let header = match e.remove("header") {
                    Some(Value::Table(t)) => t,
                    _ => BTreeMap::new(),
                };
                let body = match (e.remove("text"), e.remove("binary")) {
                    (Some(Value::String(s)), _) => Body::Text(s),
                    (_, Some(Value::Binary(b))) => Body::Binary(b),
                    _ => Body::Binary(Vec::new()),
                };
                Ok(Message { header, body })
            }
            MessageQueue::Null(_) => Err(Error::Unsupported {
                kind: "NULL",
                op: "get_message",
            }),
        }
    }

    /// The elements in iteration order.
    pub fn names(&self) -> Names {
        self.dirq().names()
    }
}
