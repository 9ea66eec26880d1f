//! The STOMP modules of the transfer engine: a subscription as the incoming module, a
//! connection sending SEND frames as the outgoing module.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use message::Message;
use transfer::{Error, ErrorKind, Got, Incoming, Outgoing, Result, Token};

use crate::client::{Client, ConnectOptions};
use crate::frame::{Frame, Version};
use crate::mapping;

/// Header pairs (`KEY=VALUE…` strings split).
pub type Headers = Vec<(String, String)>;

/// Options of the incoming broker module.
#[derive(Debug, Clone, Default)]
pub struct IncomingOptions {
    /// How to connect.
    pub connect: ConnectOptions,
    /// One header set per SUBSCRIBE.
    pub subscribe: Vec<Headers>,
    /// UNSUBSCRIBE at stop, matched by position (`Some(vec![])`: plain ones).
    pub unsubscribe: Option<Vec<Headers>>,
    /// Client acks, sent only once the destination confirmed.
    pub reliable: bool,
    /// The broker's prefetch header value.
    pub prefetch: Option<u64>,
    /// How long to wait for subscription receipts (None: forever).
    pub timeout_broker: Option<Duration>,
    /// How long to wait for the DISCONNECT receipt.
    pub timeout_disconnect: Duration,
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
        }
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "incoming broker not connected"))
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
                    }
                }
                Some(f) if f.command == "MESSAGE" => keep.push(f),
                _ => {}
            }
        }
        self.buffered.extend(keep);
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorKind::Broker,
                format!("missing {what} receipts: {}", missing.join(", ")),
            ));
        }
        Ok(())
    }

    fn deliver(&mut self, f: Frame) -> Got {
        let token = if self.o.reliable {
            let t = Token(self.next);
            self.next += 1;
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

impl Incoming for StompIncoming {
    async fn start(&mut self) -> Result<()> {
        let client = Client::connect(&self.o.connect).await?;
        let version = client.version;
        let broker = client.broker;
        self.client = Some(client);
        let ack = match (self.o.reliable, version) {
            (false, _) => "auto",
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

    async fn get(&mut self) -> Result<Got> {
        if let Some(f) = self.buffered.pop_front() {
            return Ok(self.deliver(f));
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            let left = Duration::from_secs(1).saturating_sub(start.elapsed());
            match self.client()?.recv(left).await? {
                Some(f) if f.command == "MESSAGE" => return Ok(self.deliver(f)),
                Some(_) => {} // a late receipt: nothing to do
                None => break,
            }
        }
        Ok(Got::Idle)
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        let Some(info) = self.acks.remove(&token) else {
            return Ok(());
        };
        let mut f = Frame::new("ACK");
        if let Some(id) = info.ack {
            f = f.header("id", id);
        }
        if let Some(m) = info.message_id {
            f = f.header("message-id", m);
        }
        if let Some(s) = info.subscription {
            f = f.header("subscription", s);
        }
        self.client()?.send(f).await
    }

    async fn idle(&mut self) -> Result<()> {
        // flushes queued ACKs and keeps heart-beats going
        if let Some(f) = self.client()?.recv(Duration::ZERO).await?
            && f.command == "MESSAGE"
        {
            self.buffered.push_back(f);
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        if self.client.is_none() {
            return Ok(());
        }
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
        let receipt = self.o.reliable && self.client()?.version >= Version::V1_1;
        let c = self.client.take().expect("checked above");
        c.disconnect(receipt, self.o.timeout_disconnect).await
    }
}

/// Options of the outgoing broker module.
#[derive(Debug, Clone, Default)]
pub struct OutgoingOptions {
    /// How to connect.
    pub connect: ConnectOptions,
    /// A receipt per SEND, messages confirmed by their receipts.
    pub reliable: bool,
    /// How long to wait for the DISCONNECT receipt.
    pub timeout_disconnect: Duration,
}

/// Sends messages to a broker.
pub struct StompOutgoing {
    o: OutgoingOptions,
    client: Option<Client>,
    /// receipt number → token, in sending order
    pending: BTreeMap<u64, Token>,
    done: Vec<Token>,
    next: u64,
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
        }
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "outgoing broker not connected"))
    }
}

impl Outgoing for StompOutgoing {
    async fn start(&mut self) -> Result<()> {
        self.client = Some(Client::connect(&self.o.connect).await?);
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let mut f = mapping::to_send(msg)?;
        if self.o.reliable {
            let n = self.next;
            self.next += 1;
            f.set("receipt", n.to_string());
            self.pending.insert(n, token);
        } else {
            self.done.push(token);
        }
        self.client()?.send(f).await
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        if !self.o.reliable {
            self.client()?.flush().await?;
            out.append(&mut self.done);
            return Ok(());
        }
        let mut wait = if self.pending.is_empty() {
            Duration::ZERO
        } else {
            wait
        };
        loop {
            let Some(f) = self.client()?.recv(wait).await? else {
                return Ok(());
            };
            wait = Duration::ZERO;
            if f.command != "RECEIPT" {
                continue;
            }
            if let Some(n) = f.get("receipt-id").and_then(|r| r.parse::<u64>().ok())
                && let Some(t) = self.pending.remove(&n)
            {
                out.push(t);
            }
        }
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    async fn stop(&mut self) -> Result<()> {
        let Some(c) = self.client.take() else {
            return Ok(());
        };
        let receipt = self.o.reliable && c.version >= Version::V1_1;
        c.disconnect(receipt, self.o.timeout_disconnect).await
    }
}
