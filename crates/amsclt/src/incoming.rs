//! The incoming module: pulls from the subscriptions in turn (`subscriptions/S:pull`), hands
//! each message to the engine, and acknowledges (`subscriptions/S:acknowledge`) only what the
//! engine confirmed, so that a message is in the outgoing queue before the service forgets
//! it. AMS acknowledges cumulatively and gives an unacknowledged batch back on the next pull:
//! its subscription is pulled again only once the whole batch is acknowledged.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use agent::Broker;
use serde::Deserialize;
use transfer::{Error, ErrorKind, Got, Recovered, Result, Token};

use crate::cli::Dialect;
use crate::http::{self, Connection};
use crate::mapping::{self, Delivered, Payload};

/// The most messages one pull asks for (Pub/Sub's emulator answers at most 100).
pub const MAX_PULL: u64 = 100;

/// What the incoming module needs.
#[derive(Debug, Clone)]
pub struct IncomingOptions {
    /// The shared broker settings.
    pub broker: Broker,
    /// The key, read from `--key-file`.
    pub key: Option<String>,
    /// The subscriptions, pulled in turn.
    pub subscriptions: Vec<String>,
    /// `--dialect`.
    pub dialect: Dialect,
    /// `--payload`.
    pub payload: Payload,
    /// Messages a pull asks for.
    pub max_messages: u64,
    /// `--timeout-request`.
    pub timeout: Duration,
}

/// One pulled message, until it is acknowledged.
struct Held {
    token: Token,
    subscription: usize,
    ack_id: String,
    acked: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Pulled {
    #[serde(default)]
    received_messages: Vec<Received>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Received {
    ack_id: String,
    message: Delivered,
}

/// The answer of a pull from `subscription`: each message with its acknowledgement id.
pub fn pulled(
    body: &[u8],
    subscription: &str,
    payload: Payload,
) -> std::result::Result<Vec<(String, message::Message)>, PullError> {
    let pulled: Pulled = serde_json::from_slice(body).map_err(PullError::NotAPull)?;
    pulled
        .received_messages
        .into_iter()
        .map(|r| {
            let m = mapping::from_service(r.message, subscription, payload)
                .map_err(PullError::Message)?;
            Ok((r.ack_id, m))
        })
        .collect()
}

/// An answer to a pull that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// Not the JSON of a pull's answer.
    #[error("not the answer of a pull")]
    NotAPull(#[source] serde_json::Error),
    /// A message in it cannot be decoded.
    #[error(transparent)]
    Message(transfer::Error),
}

/// Pulls from the subscriptions of one service.
pub struct AmsIncoming {
    o: IncomingOptions,
    conn: Option<Connection>,
    next_token: u64,
    /// Pulled and not handed to the engine yet.
    ready: VecDeque<(message::Message, Token)>,
    /// Handed out (or ready), in order, until acknowledged to the service.
    held: VecDeque<Held>,
    /// The subscription to pull next.
    turn: usize,
    /// When the leases of what is held were last extended (Pub/Sub).
    extended: std::time::Instant,
    /// Messages whose acknowledgement is being sent: if it fails (a late one answered 408,
    /// a lost connection), the service delivers them again, counted by `forget`.
    acking: u64,
}

/// Pub/Sub: leases of held messages are extended this often, by [`LEASE`], so that a slow
/// destination does not see them delivered again while they are in flight.
const EXTEND_EVERY: Duration = Duration::from_secs(5);
/// How long an extension asks for.
const LEASE: u32 = 60;

impl AmsIncoming {
    /// A module not connected yet.
    pub fn new(o: IncomingOptions) -> Self {
        AmsIncoming {
            o,
            conn: None,
            next_token: 0,
            ready: VecDeque::new(),
            held: VecDeque::new(),
            turn: 0,
            extended: std::time::Instant::now(),
            acking: 0,
        }
    }

    async fn connect(&mut self, retrying: bool) -> Result<()> {
        let o = &self.o;
        http::connect(&mut self.conn, &o.broker, &o.key, o.timeout, retrying).await
    }

    fn conn(&mut self) -> Result<&mut Connection> {
        http::connected(&mut self.conn)
    }

    /// Acknowledges what the engine confirmed: Pub/Sub every confirmed message, AMS the
    /// longest confirmed run from the oldest (its acknowledgement is cumulative).
    async fn flush_acks(&mut self) -> Result<()> {
        // per subscription: the ids to send and how many messages they acknowledge
        let mut by_sub: BTreeMap<usize, (Vec<String>, u64)> = BTreeMap::new();
        match self.o.dialect {
            Dialect::Pubsub => {
                self.held.retain(|h| {
                    if h.acked {
                        let e = by_sub.entry(h.subscription).or_default();
                        e.0.push(h.ack_id.clone());
                        e.1 += 1;
                    }
                    !h.acked
                });
            }
            Dialect::Ams => {
                while self.held.front().is_some_and(|h| h.acked) {
                    if let Some(h) = self.held.pop_front() {
                        // the highest of a subscription's acknowledges the ones before
                        let e = by_sub.entry(h.subscription).or_default();
                        e.0 = vec![h.ack_id];
                        e.1 += 1;
                    }
                }
            }
        }
        self.acking += by_sub.values().map(|(_, n)| n).sum::<u64>();
        for (sub, (ids, n)) in by_sub {
            let name = self.o.subscriptions[sub].clone();
            let body = serde_json::json!({ "ackIds": ids }).to_string();
            let conn = self.conn()?;
            let peer = conn.peer.clone();
            let a = conn
                .post(
                    &format!("subscriptions/{name}:acknowledge"),
                    body.into_bytes(),
                )
                .await?;
            if !(200..300).contains(&a.status) {
                return Err(a.error(&format!("acknowledge on {name}"), &peer));
            }
            self.acking -= n;
        }
        Ok(())
    }

    /// Pub/Sub: `modifyAckDeadline` for the held messages not acknowledged yet, by
    /// subscription: `seconds` more (0: delivered again at once, for what is given back).
    async fn lease(&mut self, seconds: u32) -> Result<()> {
        if self.o.dialect != Dialect::Pubsub {
            return Ok(());
        }
        let mut by_sub: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for h in self.held.iter().filter(|h| !h.acked) {
            by_sub
                .entry(h.subscription)
                .or_default()
                .push(h.ack_id.clone());
        }
        for (sub, ids) in by_sub {
            let name = self.o.subscriptions[sub].clone();
            let body = serde_json::json!({ "ackIds": ids, "ackDeadlineSeconds": seconds });
            let conn = self.conn()?;
            let peer = conn.peer.clone();
            let a = conn
                .post(
                    &format!("subscriptions/{name}:modifyAckDeadline"),
                    body.to_string().into_bytes(),
                )
                .await?;
            if !(200..300).contains(&a.status) {
                return Err(a.error(&format!("modifyAckDeadline on {name}"), &peer));
            }
        }
        self.extended = std::time::Instant::now();
        Ok(())
    }

    /// Extends the leases of what is held when it is time to.
    async fn keep_leases(&mut self) -> Result<()> {
        if self.extended.elapsed() >= EXTEND_EVERY && self.held.iter().any(|h| !h.acked) {
            self.lease(LEASE).await?;
        }
        Ok(())
    }

    /// Pulls once from the next subscription whose turn it is; whether anything came.
    async fn pull(&mut self) -> Result<bool> {
        let sub = self.turn % self.o.subscriptions.len();
        self.turn = self.turn.wrapping_add(1);
        // AMS gives an unacknowledged batch back on the next pull: not before it is done
        if self.o.dialect == Dialect::Ams && self.held.iter().any(|h| h.subscription == sub) {
            return Ok(false);
        }
        let name = self.o.subscriptions[sub].clone();
        let n = self.o.max_messages;
        let body = match self.o.dialect {
            Dialect::Pubsub => {
                serde_json::json!({ "maxMessages": n, "returnImmediately": true })
            }
            Dialect::Ams => {
                serde_json::json!({ "maxMessages": n.to_string(), "returnImmediately": "true" })
            }
        };
        let conn = self.conn()?;
        let peer = conn.peer.clone();
        let a = conn
            .post(
                &format!("subscriptions/{name}:pull"),
                body.to_string().into_bytes(),
            )
            .await?;
        if !(200..300).contains(&a.status) {
            return Err(a.error(&format!("pull from {name}"), &peer));
        }
        let pulled = pulled(&a.body, &name, self.o.payload).map_err(|e| match e {
            PullError::Message(e) => e,
            e => Error::caused(
                ErrorKind::Protocol,
                format!("pull from {name} on {peer}"),
                e,
            ),
        })?;
        let got = !pulled.is_empty();
        for (ack_id, m) in pulled {
            let token = Token(self.next_token);
            self.next_token += 1;
            self.held.push_back(Held {
                token,
                subscription: sub,
                ack_id,
                acked: false,
            });
            self.ready.push_back((m, token));
        }
        Ok(got)
    }
}

impl transfer::Incoming for AmsIncoming {
    async fn start(&mut self) -> Result<()> {
        self.connect(false).await
    }

    async fn get(&mut self) -> Result<Got> {
        if let Some((m, t)) = self.ready.pop_front() {
            return Ok(Got::Message(m, t));
        }
        self.flush_acks().await?;
        self.keep_leases().await?;
        // an empty pull answers at once: asked again, less and less often, for a second
        let mut pause = Duration::from_millis(25);
        let mut waited = Duration::ZERO;
        loop {
            for _ in 0..self.o.subscriptions.len() {
                if self.pull().await?
                    && let Some((m, t)) = self.ready.pop_front()
                {
                    return Ok(Got::Message(m, t));
                }
            }
            if waited >= Duration::from_secs(1) {
                return Ok(Got::Idle);
            }
            tokio::time::sleep(pause).await;
            waited += pause;
            pause = (pause * 2).min(Duration::from_millis(400));
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        if let Some(h) = self.held.iter_mut().find(|h| h.token == token) {
            h.acked = true;
        }
        if self.held.len() >= MAX_PULL as usize && self.held.iter().all(|h| h.acked) {
            self.flush_acks().await?;
        }
        Ok(())
    }

    async fn idle(&mut self) -> Result<()> {
        self.flush_acks().await?;
        self.keep_leases().await
    }

    async fn stop(&mut self) -> Result<()> {
        if self.conn.is_some() {
            self.flush_acks().await?;
            // what was pulled and not taken goes back at once, not after its deadline
            self.lease(0).await?;
        }
        self.conn = None;
        self.ready.clear();
        self.held.clear();
        Ok(())
    }

    fn forget(&mut self) -> u64 {
        self.conn = None;
        // handed to the engine and not acknowledged to the service (or an acknowledgement
        // that may not have gone through): delivered again
        let unacked = self.held.len().saturating_sub(self.ready.len()) as u64
            + std::mem::take(&mut self.acking);
        self.ready.clear();
        self.held.clear();
        unacked
    }

    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.connect(true).await?;
        Ok(Recovered {
            peer: self.conn()?.peer.clone(),
            resent: 0,
        })
    }

    fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    // the next pull goes out with the acknowledgements of everything written so far: a
    // pull acknowledging a batch late slowed pulling with --dedup to 0.55-0.72 (measured)
    fn acks_before_waiting(&self) -> bool {
        true
    }
}
