//! The outgoing module: messages held in a batch per topic and published in one request
//! (`topics/T:publish`); a message is confirmed once the answer's `messageIds` cover it.

use std::time::Duration;

use agent::Broker;
use message::Message;
use transfer::{Error, ErrorKind, Recovered, Result, Token};

use crate::http::{self, Connection};
use crate::mapping::{self, Payload};
use crate::publisher::build::Build;

/// The most messages one publish request carries (the services' limit).
pub const MAX_BATCH: usize = 1000;
/// The most bytes of data one request carries: well under the services' 10 MB.
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// The largest message sent at all: the services take requests of 10 MB (the emulator does
/// not even answer a larger one), so a message that alone exceeds it is refused here.
pub const MAX_MESSAGE: usize = 10_000_000;

/// What the outgoing module needs.
#[derive(Debug, Clone)]
pub struct OutgoingOptions {
    /// The shared broker settings.
    pub broker: Broker,
    /// The key, read from `--key-file`.
    pub key: Option<String>,
    /// `--topic`.
    pub topic: Option<String>,
    /// `--payload`.
    pub payload: Payload,
    /// `--ams-message`: ams-publisher's message built instead (`--payload` unused).
    pub build: Option<Build>,
    /// `--publish-batch`: the most messages a request carries.
    pub batch: usize,
    /// `--timeout-request`.
    pub timeout: Duration,
}

/// Publishes to the topics of one service.
pub struct AmsOutgoing {
    o: OutgoingOptions,
    conn: Option<Connection>,
    /// The batch being gathered: its topic, and each message's token and JSON.
    topic: String,
    batch: Vec<(Token, String)>,
    bytes: usize,
    confirmed: Vec<Token>,
    /// A message the service refused: reported once what was published around it has
    /// been handed to the engine (so that it is acknowledged, not sent twice).
    refused: Option<Error>,
    /// Messages published again by recovery attempts that failed after sending (their
    /// requests may have been taken): counted with the attempt that succeeds.
    resent_before: u64,
}

impl AmsOutgoing {
    /// A module not connected yet.
    pub fn new(o: OutgoingOptions) -> Self {
        AmsOutgoing {
            o,
            conn: None,
            topic: String::new(),
            batch: Vec::new(),
            bytes: 0,
            confirmed: Vec::new(),
            refused: None,
            resent_before: 0,
        }
    }

    async fn connect(&mut self, retrying: bool) -> Result<()> {
        let o = &self.o;
        http::connect(&mut self.conn, &o.broker, &o.key, o.timeout, retrying).await
    }

    fn conn(&mut self) -> Result<&mut Connection> {
        http::connected(&mut self.conn)
    }

    /// Publishes the batch; its tokens are confirmed when the service gave an id for each.
    async fn publish(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.bytes = 0;
        let topic = self.topic.clone();
        let before = self.confirmed.len();
        if let Err(e) = self.publish_part(&topic, &batch).await {
            // what had no answer is kept for --reconnect to publish again
            let done: std::collections::HashSet<Token> =
                self.confirmed[before..].iter().copied().collect();
            self.batch = batch
                .into_iter()
                .filter(|(t, _)| !done.contains(t))
                .collect();
            return Err(e);
        }
        Ok(())
    }

    /// The refusal to report now, once the messages published beside it were handed over.
    fn take_refused(&mut self) -> Result<()> {
        match self.refused.take() {
            Some(e) if self.confirmed.is_empty() => Err(e),
            r => {
                self.refused = r;
                Ok(())
            }
        }
    }

    /// Publishes `part`, its tokens confirmed when the service gave an id for each; one the
    /// service refuses as a request (400, 413) is split in two until the message it refuses
    /// stands alone: the rest is published, the refused one kept and reported.
    async fn publish_part(&mut self, topic: &str, part: &[(Token, String)]) -> Result<()> {
        let mut body = String::from("{\"messages\":[");
        for (i, (_, json)) in part.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(json);
        }
        body.push_str("]}");
        let conn = self.conn()?;
        let peer = conn.peer.clone();
        let answer = conn
            .post(&format!("topics/{topic}:publish"), body.into_bytes())
            .await?;
        match answer.status {
            200..=299 => {
                let ids = serde_json::from_slice::<serde_json::Value>(&answer.body)
                    .ok()
                    .and_then(|v| v["messageIds"].as_array().map(Vec::len));
                if ids == Some(part.len()) {
                    self.confirmed.extend(part.iter().map(|(t, _)| *t));
                } else {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "publish to {topic} on {peer}: {} message ids for {} messages",
                            ids.unwrap_or(0),
                            part.len()
                        ),
                    ));
                }
                Ok(())
            }
            400 | 413 if part.len() > 1 => {
                let (a, b) = part.split_at(part.len() / 2);
                Box::pin(self.publish_part(topic, a)).await?;
                Box::pin(self.publish_part(topic, b)).await
            }
            400 | 413 => {
                let e = Error::new(
                    ErrorKind::BadMessage,
                    format!(
                        "{peer} refused a message for topic {topic}: HTTP {}: {}",
                        answer.status,
                        answer.reason()
                    ),
                )
                .about(part[0].0);
                self.refused.get_or_insert(e);
                Ok(())
            }
            _ => Err(answer.error(&format!("publish to {topic}"), &peer)),
        }
    }
}

impl transfer::Outgoing for AmsOutgoing {
    async fn start(&mut self) -> Result<()> {
        self.connect(false).await
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        self.take_refused()?;
        let topic = mapping::topic(msg, self.o.topic.as_deref())?.to_string();
        let out = match &self.o.build {
            None => mapping::to_service(msg, self.o.payload),
            Some(b) => mapping::built(msg, b)?,
        };
        let json = serde_json::to_string(&out)
            .map_err(|e| Error::caused(ErrorKind::BadMessage, "cannot encode a message", e))?;
        if json.len() > MAX_MESSAGE {
            return Err(Error::new(
                ErrorKind::BadMessage,
                format!(
                    "a message of {} bytes encoded, over the services' request limit of {MAX_MESSAGE}",
                    json.len()
                ),
            ));
        }
        if !self.batch.is_empty()
            && (topic != self.topic
                || self.batch.len() >= self.o.batch
                || self.bytes + json.len() > MAX_BYTES)
        {
            self.publish().await?;
        }
        self.topic = topic;
        self.bytes += json.len();
        self.batch.push((token, json));
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        // the engine waits for confirmations (a full window, linger): what is held goes out
        // now; a look without waiting, after each message, leaves the batch to fill
        self.take_refused()?;
        if self.confirmed.is_empty() && self.refused.is_none() && !wait.is_zero() {
            self.publish().await?;
        }
        out.append(&mut self.confirmed);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.batch.len() + self.confirmed.len() + usize::from(self.refused.is_some())
    }

    async fn idle(&mut self) -> Result<()> {
        self.take_refused()?;
        if self.refused.is_none() {
            self.publish().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.idle().await
    }

    async fn stop(&mut self) -> Result<()> {
        self.conn = None;
        Ok(())
    }

    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.conn = None;
        self.connect(true).await?;
        // an attempt whose request goes out may be published even if its answer is lost
        self.resent_before += self.batch.len() as u64;
        self.publish().await?;
        Ok(Recovered {
            peer: self.conn()?.peer.clone(),
            resent: std::mem::take(&mut self.resent_before),
        })
    }
}
