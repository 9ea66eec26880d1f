//! The outgoing module: messages held in a batch per topic and published in one request
//! (`topics/T:publish`); a message is confirmed once the answer's `messageIds` cover it.
//! One request is in flight at a time, in a task of its own, while the next batch gathers:
//! the spool's reads overlap the service's answer instead of waiting for it.

use std::time::{Duration, Instant};

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
/// How long a batch may gather while the incoming side pauses (a spool's read-ahead between
/// two hand-overs) before it goes out anyway: a request is a round trip, so publishing at
/// every pause would send many small ones; a source that really waits says so with the
/// engine's idle turn, which publishes at once.
const GATHER: Duration = Duration::from_millis(50);
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

/// Messages for one topic: each one's token and JSON.
type Batch = Vec<(Token, String)>;

/// What a publish request came back with.
struct Landed {
    conn: Connection,
    confirmed: Vec<Token>,
    refused: Option<Error>,
    /// On a failure: the topic and the messages without an answer.
    failed: Option<(Error, String, Batch)>,
}

/// Publishes to the topics of one service.
pub struct AmsOutgoing {
    o: OutgoingOptions,
    /// The connection, unless a request in flight holds it.
    conn: Option<Connection>,
    /// The request in flight and how many messages it carries.
    flight: Option<(tokio::task::JoinHandle<Landed>, usize)>,
    /// A request that came back, not looked at yet (`ready` takes it, cancel-safe).
    landed: Option<Landed>,
    /// What a failed request left unpublished, for `recover`: its topic and messages.
    unsent: Option<(String, Batch)>,
    /// A request task that ended without an outcome (it cannot panic; aborted at most).
    broken: Option<Error>,
    /// The batch being gathered: its topic and messages.
    topic: String,
    batch: Batch,
    /// When the batch got its first message.
    since: Option<Instant>,
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
            flight: None,
            landed: None,
            unsent: None,
            broken: None,
            topic: String::new(),
            batch: Vec::new(),
            since: None,
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

    /// Waits for the request in flight, if any, and takes in its outcome: the connection
    /// back, its confirmations and refusal; its failure, what it left kept for `recover`.
    async fn land(&mut self) -> Result<()> {
        if let Some(e) = self.broken.take() {
            return Err(e);
        }
        if let Some((handle, _)) = self.flight.take() {
            let landed = handle
                .await
                .map_err(|e| Error::caused(ErrorKind::Protocol, "a publish request failed", e))?;
            self.landed = Some(landed);
        }
        let Some(l) = self.landed.take() else {
            return Ok(());
        };
        self.conn = Some(l.conn);
        self.confirmed.extend(l.confirmed);
        if let Some(r) = l.refused {
            self.refused.get_or_insert(r);
        }
        match l.failed {
            Some((e, topic, left)) => {
                self.unsent = Some((topic, left));
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Sends the batch (none in flight: call [`Self::land`] first) in a task of its own.
    fn launch(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let Some(conn) = self.conn.take() else {
            return Err(Error::new(ErrorKind::Protocol, "not connected"));
        };
        let batch = std::mem::take(&mut self.batch);
        self.bytes = 0;
        self.since = None;
        let n = batch.len();
        let topic = self.topic.clone();
        self.flight = Some((tokio::spawn(fly(conn, topic, batch)), n));
        Ok(())
    }

    /// Publishes the batch and waits for the answer.
    async fn publish(&mut self) -> Result<()> {
        self.land().await?;
        self.launch()?;
        self.land().await
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
}

/// One publish request on `conn`, its outcome for [`AmsOutgoing::land`].
async fn fly(mut conn: Connection, topic: String, batch: Batch) -> Landed {
    let mut confirmed = Vec::new();
    let mut refused = None;
    let failed = match publish_part(&mut conn, &topic, &batch, &mut confirmed, &mut refused).await {
        Ok(()) => None,
        Err(e) => {
            let done: std::collections::HashSet<Token> = confirmed.iter().copied().collect();
            let left = batch
                .into_iter()
                .filter(|(t, _)| !done.contains(t))
                .collect();
            Some((e, topic, left))
        }
    };
    Landed {
        conn,
        confirmed,
        refused,
        failed,
    }
}

/// Publishes `part`, its tokens confirmed when the service gave an id for each; one the
/// service refuses as a request (400, 413) is split in two until the message it refuses
/// stands alone: the rest is published, the refused one kept and reported.
async fn publish_part(
    conn: &mut Connection,
    topic: &str,
    part: &[(Token, String)],
    confirmed: &mut Vec<Token>,
    refused: &mut Option<Error>,
) -> Result<()> {
    let mut body = String::from("{\"messages\":[");
    for (i, (_, json)) in part.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(json);
    }
    body.push_str("]}");
    let peer = conn.peer.clone();
    let answer = conn
        .post(&format!("topics/{topic}:publish"), body.into_bytes())
        .await?;
    match answer.status {
        200..=299 => {
            let ids = serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v["messageIds"].as_array().map(Vec::len));
            if ids != Some(part.len()) {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "publish to {topic} on {peer}: {} message ids for {} messages",
                        ids.unwrap_or(0),
                        part.len()
                    ),
                ));
            }
            confirmed.extend(part.iter().map(|(t, _)| *t));
            Ok(())
        }
        400 | 413 if part.len() > 1 => {
            let (a, b) = part.split_at(part.len() / 2);
            Box::pin(publish_part(conn, topic, a, confirmed, refused)).await?;
            Box::pin(publish_part(conn, topic, b, confirmed, refused)).await
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
            refused.get_or_insert(e);
            Ok(())
        }
        _ => Err(answer.error(&format!("publish to {topic}"), &peer)),
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
            // the batch goes once the one before it has its answer
            self.land().await?;
            self.launch()?;
        }
        self.topic = topic;
        self.bytes += json.len();
        self.since.get_or_insert_with(Instant::now);
        self.batch.push((token, json));
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        // the engine waits for confirmations (a full window, linger): what is held goes out
        // now and its answer is awaited; a look without waiting takes a request that came back
        let finished = self.flight.as_ref().is_some_and(|(h, _)| h.is_finished());
        if finished || self.landed.is_some() {
            self.land().await?;
        }
        self.take_refused()?;
        if self.confirmed.is_empty() && self.refused.is_none() && !wait.is_zero() {
            self.land().await?;
            if self.confirmed.is_empty() {
                self.publish().await?;
            }
        }
        out.append(&mut self.confirmed);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.batch.len()
            + self.flight.as_ref().map_or(0, |(_, n)| *n)
            + self.landed.as_ref().map_or(0, |l| {
                l.confirmed.len()
                    + usize::from(l.refused.is_some())
                    + l.failed.as_ref().map_or(0, |(_, _, b)| b.len())
            })
            + self.unsent.as_ref().map_or(0, |(_, b)| b.len())
            + self.confirmed.len()
            + usize::from(self.refused.is_some())
    }

    async fn ready(&mut self) {
        // cancel-safe: a request that comes back is kept in `landed` in the same poll
        match &mut self.flight {
            Some((handle, _)) => {
                let landed = handle.await;
                self.flight = None;
                match landed {
                    Ok(l) => self.landed = Some(l),
                    Err(e) => {
                        self.broken = Some(Error::caused(
                            ErrorKind::Protocol,
                            "a publish request failed",
                            e,
                        ));
                    }
                }
            }
            None => std::future::pending::<()>().await,
        }
    }

    async fn idle(&mut self) -> Result<()> {
        self.take_refused()?;
        if self.refused.is_none() && self.flight.is_none() {
            self.land().await?;
            self.launch()?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.since.is_some_and(|t| t.elapsed() >= GATHER) {
            self.idle().await?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some((h, _)) = self.flight.take() {
            h.abort();
        }
        self.conn = None;
        Ok(())
    }

    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        // a request still in flight is waited for: its answer decides what is sent again
        let _ = self.land().await;
        self.conn = None;
        self.connect(true).await?;
        // an attempt whose request goes out may be published even if its answer is lost
        let unsent = self.unsent.as_ref().map_or(0, |(_, b)| b.len());
        self.resent_before += (unsent + self.batch.len()) as u64;
        if let Some((topic, left)) = self.unsent.take() {
            // what a failed request left goes first, the batch gathered since after it
            let topic = std::mem::replace(&mut self.topic, topic);
            let batch = std::mem::replace(&mut self.batch, left);
            let r = self.publish().await;
            self.topic = topic;
            self.batch = batch;
            r?;
        }
        self.publish().await?;
        Ok(Recovered {
            peer: http::connected(&mut self.conn)?.peer.clone(),
            resent: std::mem::take(&mut self.resent_before),
        })
    }
}
