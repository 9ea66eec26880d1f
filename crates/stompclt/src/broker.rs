//! The STOMP modules of the transfer engine: a subscription as the incoming module, a
//! connection sending SEND frames as the outgoing module.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use message::Message;
use transfer::{Error, ErrorKind, Got, Incoming, Outgoing, Recovered, Result, Token};

use crate::client::{Client, ConnectOptions};
use crate::frame::{Frame, Version};
use crate::mapping;

/// Header pairs (`KEY=VALUE…` strings split).
pub type Headers = Vec<(String, String)>;

/// Options of the incoming broker module.
#[derive(Debug, Clone)]
pub struct IncomingOptions {
    /// How to connect.
    pub connect: ConnectOptions,
    /// One header set per SUBSCRIBE.
    pub subscribe: Vec<Headers>,
    /// UNSUBSCRIBE at stop, matched by position (`Some(vec![])`: plain ones).
    pub unsubscribe: Option<Vec<Headers>>,
    /// The broker's prefetch header value.
    pub prefetch: Option<u64>,
    /// How long to wait for subscription receipts (None: forever).
    pub timeout_broker: Option<Duration>,
    /// Above 1: `ack:client` and one cumulative ACK for up to this many messages (sent
    /// sooner when idle), acknowledging only a prefix of confirmed messages.
    pub batch: usize,
}

struct AckInfo {
    message_id: Option<String>,
    subscription: Option<String>,
    ack: Option<String>,
}

/// Receives messages from a broker subscription.
pub struct StompIncoming {
    o: IncomingOptions,
    client: Option<Client>,
    buffered: VecDeque<Frame>,
    acks: HashMap<Token, AckInfo>,
    ids: Vec<String>,
    next: u64,
    /// batch mode: per subscription, the tokens in delivery order and whether confirmed
    order: HashMap<String, VecDeque<(Token, bool)>>,
    /// batch mode: per subscription, the last message of the confirmed prefix not yet
    /// acknowledged, and how many it covers
    unsent: HashMap<String, (AckInfo, usize)>,
    /// batch mode: ack information of confirmed messages still behind the prefix
    pending_info: HashMap<Token, AckInfo>,
    /// `--reconnect`: ACKs sent with a receipt not yet received → how many messages each
    /// covers; what a lost connection leaves here may be delivered again
    ack_receipts: HashMap<String, usize>,
    next_ack_receipt: u64,
}

impl StompIncoming {
    /// A module for these options (connected by `start`).
    pub fn new(o: IncomingOptions) -> Self {
        StompIncoming {
            o,
            client: None,
            buffered: VecDeque::new(),
            acks: HashMap::new(),
            ids: Vec::new(),
            next: 1,
            order: HashMap::new(),
            unsent: HashMap::new(),
            pending_info: HashMap::new(),
            ack_receipts: HashMap::new(),
            next_ack_receipt: 1,
        }
    }

    fn batching(&self) -> bool {
        self.o.connect.broker.reliable && self.o.batch > 1
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "incoming broker not connected"))
    }

    /// The ACK each version defines: `id` (the MESSAGE's `ack` header) in 1.2,
    /// `message-id` and `subscription` in 1.1, `message-id` in 1.0. (Sending more confuses
    /// ActiveMQ, which then stops dispatching after a few prefetch windows.)
    async fn send_ack(&mut self, info: AckInfo, covers: usize) -> Result<()> {
        let version = self.client()?.version;
        let mut f = Frame::new("ACK");
        if self.o.connect.broker.reconnect {
            // with a receipt, so that a lost connection tells which ACKs the broker had
            let id = format!("ack-{}", self.next_ack_receipt);
            self.next_ack_receipt += 1;
            f = f.header("receipt", id.clone());
            self.ack_receipts.insert(id, covers);
        }
        match (version, info.ack) {
            (Version::V1_2, Some(id)) => f = f.header("id", id),
            _ => {
                if let Some(m) = info.message_id {
                    f = f.header("message-id", m);
                }
                if version >= Version::V1_1
                    && let Some(s) = info.subscription
                {
                    f = f.header("subscription", s);
                }
            }
        }
        self.client()?.send(f).await
    }

    /// Batch mode: sends the cumulative ACKs held back.
    async fn flush_acks(&mut self) -> Result<()> {
        let held: Vec<(AckInfo, usize)> = self.unsent.drain().map(|(_, v)| v).collect();
        for (info, n) in held {
            self.send_ack(info, n).await?;
        }
        Ok(())
    }

    /// Sends frames that each carry a receipt and waits for all the receipts, keeping any
    /// MESSAGE that arrives meanwhile.
    async fn with_receipts(&mut self, frames: Vec<Frame>, what: &str) -> Result<()> {
        let mut missing: Vec<String> = frames
            .iter()
            .filter_map(|f| f.get("receipt").map(String::from))
            .collect();
        let timeout = self.o.timeout_broker;
        let c = self.client()?;
        for f in frames {
            c.send(f).await?;
        }
        let start = Instant::now();
        let mut keep = Vec::new();
        let mut seen = Vec::new();
        while !missing.is_empty() {
            let left = match timeout {
                Some(t) if start.elapsed() >= t => break,
                Some(t) => (t - start.elapsed()).min(Duration::from_secs(1)),
                None => Duration::from_secs(1),
            };
            match c.recv(left).await? {
                Some(f) if f.command == "RECEIPT" => {
                    if let Some(id) = f.get("receipt-id") {
                        missing.retain(|m| m != id);
                        seen.push(id.to_string());
                    }
                }
                Some(f) if f.command == "MESSAGE" => keep.push(f),
                _ => {}
            }
        }
        self.buffered.extend(keep);
        for id in seen {
            self.ack_receipts.remove(&id);
        }
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorKind::Broker,
                format!("missing {what} receipts: {}", missing.join(", ")),
            ));
        }
        Ok(())
    }

    fn deliver(&mut self, f: Frame) -> Got {
        let token = if self.o.connect.broker.reliable {
            let t = Token(self.next);
            self.next += 1;
            if self.batching() {
                let sub = f.get("subscription").unwrap_or("").to_string();
                self.order.entry(sub).or_default().push_back((t, false));
            }
            self.acks.insert(
                t,
                AckInfo {
                    message_id: f.get("message-id").map(String::from),
                    subscription: f.get("subscription").map(String::from),
                    ack: f.get("ack").map(String::from),
                },
            );
            t
        } else {
            Token(0)
        };
        Got::Message(mapping::from_frame(f), token)
    }
}

impl StompIncoming {
    /// Connects and subscribes.
    async fn connect(&mut self, retrying: bool) -> Result<()> {
        let client = Client::connect_any(&self.o.connect, retrying).await?;
        self.ids.clear();
        let version = client.version;
        let broker = client.broker;
        self.client = Some(client);
        let ack = match (self.o.connect.broker.reliable, version) {
            (false, _) => "auto",
            (true, _) if self.batching() => "client",
            (true, Version::V1_0) => "client",
            (true, _) => "client-individual",
        };
        let prefetch = match (self.o.prefetch, broker.prefetch_header()) {
            (None, _) => None,
            (Some(n), Some(h)) => Some((h, n)),
            (Some(_), None) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    "option prefetch needs a known broker type (use --incoming-broker-type)",
                ));
            }
        };
        let mut frames = Vec::new();
        for (i, user) in self.o.subscribe.iter().enumerate() {
            let mut f = Frame::new("SUBSCRIBE");
            if let Some((h, n)) = prefetch {
                f = f.header(h, n.to_string());
            }
            for (k, v) in user {
                if k != "ack" {
                    f.set(k, v.clone());
                }
            }
            f.set("ack", ack);
            let id = match f.get("id") {
                Some(id) => id.to_string(),
                None => {
                    let id = format!("stompclt-{}-{i}", std::process::id());
                    f.set("id", id.clone());
                    id
                }
            };
            self.ids.push(id);
            if f.get("receipt").is_none() {
                f.set("receipt", format!("subscribe-{i}"));
            }
            frames.push(f);
        }
        self.with_receipts(frames, "subscription").await
    }

    /// A RECEIPT for one of our ACKs: the broker has it.
    fn note_receipt(&mut self, f: &Frame) {
        if f.command == "RECEIPT"
            && let Some(id) = f.get("receipt-id")
        {
            self.ack_receipts.remove(id);
        }
    }

    async fn idle_once(&mut self) -> Result<()> {
        self.flush_acks().await?;
        // flushes queued ACKs and keeps heart-beats going
        if let Some(f) = self.client()?.recv(Duration::ZERO).await? {
            if f.command == "MESSAGE" {
                self.buffered.push_back(f);
            } else {
                self.note_receipt(&f);
            }
        }
        Ok(())
    }
}

impl Incoming for StompIncoming {
    async fn start(&mut self) -> Result<()> {
        self.connect(false).await
    }

    async fn get(&mut self) -> Result<Got> {
        if let Some(f) = self.buffered.pop_front() {
            return Ok(self.deliver(f));
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            let left = Duration::from_secs(1).saturating_sub(start.elapsed());
            match self.client()?.recv(left).await? {
                Some(f) if f.command == "MESSAGE" => return Ok(self.deliver(f)),
                Some(f) => self.note_receipt(&f),
                None => break,
            }
        }
        Ok(Got::Idle)
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        let Some(info) = self.acks.remove(&token) else {
            return Ok(());
        };
        if !self.batching() {
            return self.send_ack(info, 1).await;
        }
        // Cumulative: acknowledge only the prefix of the subscription's deliveries that is
        // wholly confirmed, whatever order confirmations come in.
        let sub = info.subscription.clone().unwrap_or_default();
        self.pending_info.insert(token, info);
        let q = self.order.entry(sub.clone()).or_default();
        if let Some(e) = q.iter_mut().find(|(t, _)| *t == token) {
            e.1 = true;
        }
        let mut last = None;
        let mut n = 0;
        while q.front().is_some_and(|(_, done)| *done) {
            let (t, _) = q.pop_front().expect("checked");
            if let Some(prev) = last.replace(t) {
                self.pending_info.remove(&prev);
            }
            n += 1;
        }
        let Some(info) = last.and_then(|t| self.pending_info.remove(&t)) else {
            return Ok(());
        };
        // the latest of the prefix carries the ACK
        let covered = self.unsent.get(&sub).map_or(0, |(_, c)| *c) + n;
        if covered >= self.o.batch {
            self.unsent.remove(&sub);
            self.send_ack(info, covered).await
        } else {
            self.unsent.insert(sub, (info, covered));
            Ok(())
        }
    }

    async fn idle(&mut self) -> Result<()> {
        self.idle_once().await
    }

    /// `--reconnect`: what was received and not acknowledged (or acknowledged without the
    /// broker's receipt) may be delivered again.
    fn forget(&mut self) -> u64 {
        self.client = None;
        // what the destination has or will have but the broker may not know it acknowledged
        let unacked = self.acks.len()
            + self.pending_info.len()
            + self.unsent.values().map(|(_, n)| *n).sum::<usize>()
            + self.ack_receipts.drain().map(|(_, n)| n).sum::<usize>();
        self.acks.clear();
        self.pending_info.clear();
        self.unsent.clear();
        self.order.clear();
        // MESSAGE frames kept from the old connection would be acknowledged on the new one,
        // which knows nothing of them: the broker redelivers them anyway
        self.buffered.clear();
        unacked as u64
    }

    /// `--reconnect`: connects and subscribes again.
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.connect(true).await?;
        Ok(Recovered {
            peer: self.client()?.peer.clone(),
            resent: 0,
        })
    }

    async fn stop(&mut self) -> Result<()> {
        if self.client.is_none() {
            return Ok(());
        }
        self.flush_acks().await?;
        if let Some(unsub) = self.o.unsubscribe.clone() {
            let mut frames = Vec::new();
            for (i, id) in self.ids.clone().into_iter().enumerate() {
                let mut f = Frame::new("UNSUBSCRIBE");
                for (k, v) in unsub.get(i).into_iter().flatten() {
                    f.set(k, v.clone());
                }
                f.set("id", id);
                f.set("receipt", format!("unsubscribe-{i}"));
                frames.push(f);
            }
            self.with_receipts(frames, "unsubscription").await?;
        }
        let receipt = self.o.connect.broker.reliable && self.client()?.version >= Version::V1_1;
        let c = self.client.take().expect("checked above");
        c.disconnect(receipt, self.o.connect.broker.timeout_disconnect)
            .await
    }
}

/// Options of the outgoing broker module.
#[derive(Debug, Clone)]
pub struct OutgoingOptions {
    /// How to connect.
    pub connect: ConnectOptions,
    /// Above 1: a receipt on every Nth SEND only (and on the last one before waiting); a
    /// RECEIPT then confirms every earlier SEND of the connection.
    pub batch: usize,
}

/// Sends messages to a broker.
pub struct StompOutgoing {
    o: OutgoingOptions,
    client: Option<Client>,
    /// receipt number → token, in sending order
    pending: BTreeMap<u64, Token>,
    done: Vec<Token>,
    next: u64,
    /// batch mode: the last SEND, held back until we know whether it needs a receipt
    held: Option<(u64, Frame)>,
    /// `--reconnect` with `--reliable`: copies of the unconfirmed SENDs, to send again
    unconfirmed: BTreeMap<u64, Frame>,
}

impl StompOutgoing {
    /// A module for these options (connected by `start`).
    pub fn new(o: OutgoingOptions) -> Self {
        StompOutgoing {
            o,
            client: None,
            pending: BTreeMap::new(),
            done: Vec::new(),
            next: 1,
            held: None,
            unconfirmed: BTreeMap::new(),
        }
    }

    fn keeps_copies(&self) -> bool {
        self.o.connect.broker.reliable && self.o.connect.broker.reconnect
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "outgoing broker not connected"))
    }

    fn batching(&self) -> bool {
        self.o.connect.broker.reliable && self.o.batch > 1
    }

    /// Sends the held-back SEND, with a receipt when asked or when its number says so.
    async fn release(&mut self, force_receipt: bool) -> Result<()> {
        if let Some((n, mut f)) = self.held.take() {
            if force_receipt || n % self.o.batch as u64 == 0 {
                f.set("receipt", n.to_string());
            }
            self.client()?.send(f).await?;
        }
        Ok(())
    }

    async fn put_frame(&mut self, f: Frame, token: Token) -> Result<()> {
        let mut f = f;
        if self.batching() {
            let n = self.next;
            self.next += 1;
            self.pending.insert(n, token);
            if self.keeps_copies() {
                self.unconfirmed.insert(n, f.clone());
            }
            // a failed release leaves both frames to recover(), which sends all copies
            self.release(false).await?;
            self.held = Some((n, f));
            return Ok(());
        }
        if self.o.connect.broker.reliable {
            let n = self.next;
            self.next += 1;
            f.set("receipt", n.to_string());
            self.pending.insert(n, token);
            if self.keeps_copies() {
                self.unconfirmed.insert(n, f.clone());
            }
        } else {
            self.done.push(token);
        }
        self.client()?.send(f).await
    }

    async fn idle_once(&mut self) -> Result<()> {
        if self.client.is_some() && self.held.is_some() {
            self.release(true).await?;
            self.client()?.flush().await?;
        }
        Ok(())
    }
}

impl Outgoing for StompOutgoing {
    async fn start(&mut self) -> Result<()> {
        self.client = Some(Client::connect_any(&self.o.connect, false).await?);
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let f = mapping::to_send(msg)?;
        self.put_frame(f, token).await
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        if !self.o.connect.broker.reliable {
            // written by flush() (the engine calls it before the incoming side may wait),
            // by idle and linger, or every 64 frames
            out.append(&mut self.done);
            return Ok(());
        }
        let mut wait = if self.pending.is_empty() {
            Duration::ZERO
        } else {
            wait
        };
        loop {
            let got = if wait.is_zero() {
                // receipts already here, without writing the SENDs queued one by one
                self.client()?.recv_arrived().await?
            } else {
                self.client()?.recv(wait).await?
            };
            let Some(f) = got else {
                return Ok(());
            };
            wait = Duration::ZERO;
            if f.command != "RECEIPT" {
                continue;
            }
            let Some(n) = f.get("receipt-id").and_then(|r| r.parse::<u64>().ok()) else {
                continue;
            };
            if self.batching() {
                // a receipt confirms every earlier SEND of the connection
                let later = self.pending.split_off(&(n + 1));
                out.extend(std::mem::replace(&mut self.pending, later).into_values());
                let later = self.unconfirmed.split_off(&(n + 1));
                self.unconfirmed = later;
            } else if let Some(t) = self.pending.remove(&n) {
                self.unconfirmed.remove(&n);
                out.push(t);
            }
        }
    }

    /// `--reconnect`: connects again and sends every unconfirmed message again, in order
    /// (the broker may have had some of them).
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.client = None;
        self.held = None;
        self.client = Some(Client::connect_any(&self.o.connect, true).await?);
        let again: Vec<(u64, Frame)> = self
            .unconfirmed
            .iter()
            .map(|(n, f)| (*n, f.clone()))
            .collect();
        let last = again.last().map(|(n, _)| *n);
        for (n, mut f) in again {
            if Some(n) == last {
                // batch mode: the receipt that confirms them all
                f.set("receipt", n.to_string());
            }
            self.client()?.send(f).await?;
        }
        self.client()?.flush().await?;
        Ok(Recovered {
            peer: self.client()?.peer.clone(),
            resent: self.unconfirmed.len() as u64,
        })
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The SENDs queued go out in one write.
    async fn flush(&mut self) -> Result<()> {
        match self.client.as_mut() {
            Some(c) => c.flush().await,
            None => Ok(()),
        }
    }

    async fn idle(&mut self) -> Result<()> {
        self.idle_once().await?;
        self.flush().await
    }

    async fn stop(&mut self) -> Result<()> {
        if let Err(e) = self.idle_once().await {
            self.recover(e).await?;
        }
        let Some(c) = self.client.take() else {
            return Ok(());
        };
        let receipt = self.o.connect.broker.reliable && c.version >= Version::V1_1;
        c.disconnect(receipt, self.o.connect.broker.timeout_disconnect)
            .await
    }
}
