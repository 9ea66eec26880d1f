//! The MQTT modules of the transfer engine. Outgoing: each message a PUBLISH; with
//! `--reliable` at QoS ≥ 1, confirmed (and its spool element removed) only on its own
//! PUBACK, matched by packet identifier. Incoming: the subscriptions' deliveries; with
//! `--reliable` (QoS 1, a persistent session) a delivery's PUBACK goes out only once the
//! destination confirmed its message, so a crash in between means a redelivery, never a
//! loss.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use message::Message;
use transfer::{Error, ErrorKind, Got, Incoming, Outgoing, Recovered, Result, Token};

use crate::mapping::{self, Defaults, Payload};
use crate::packet::{In, Out, Publish};
use crate::session::{Options, Session};

/// Bytes of PUBACKs queued (about a hundred) past which they are written even while
/// deliveries keep coming: one write for many, and few redelivered after a broker crash.
const ACKS_QUEUED_MAX: usize = 512;

fn protocol(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Protocol, what.to_string())
}

fn not_started() -> Error {
    protocol("MQTT session not started")
}

/// `-dd`: each message's header as it crosses the wire (no credential is in a message).
fn trace(dir: char, m: &Message) {
    let fields = m.header.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    agent::log::trace(dir, "", fields, m.body.as_bytes().len());
}

/// What the outgoing module needs.
#[derive(Debug, Clone)]
pub struct OutgoingOptions {
    /// The connection.
    pub session: Options,
    /// `--reliable`: publish at QoS ≥ 1 and confirm on PUBACK.
    pub reliable: bool,
    /// `--payload`.
    pub payload: Payload,
    /// `--topic`, `--qos`, `--retain`.
    pub defaults: Defaults,
}

/// A PUBLISH awaiting its PUBACK.
struct InFlight {
    /// The engine's token, until confirmed (None: confirmed already, without --reliable).
    token: Option<Token>,
    publish: Publish,
}

/// The outgoing module: PUBLISHes, confirmed by their PUBACKs.
pub struct MqttOutgoing {
    o: OutgoingOptions,
    s: Option<Session>,
    /// By packet identifier, in sending order (a BTreeMap keeps no order: the queue does).
    in_flight: HashMap<u16, InFlight>,
    order: VecDeque<u16>,
    done: Vec<Token>,
    dropped_headers: u64,
}

impl MqttOutgoing {
    /// A module (connected by `start`).
    pub fn new(o: OutgoingOptions) -> Self {
        MqttOutgoing {
            o,
            s: None,
            in_flight: HashMap::new(),
            order: VecDeque::new(),
            done: Vec::new(),
            dropped_headers: 0,
        }
    }

    fn session(&mut self) -> Result<&mut Session> {
        self.s.as_mut().ok_or_else(not_started)
    }

    /// A packet identifier not in flight.
    fn pkid(&mut self) -> Result<u16> {
        let s = self.s.as_mut().ok_or_else(not_started)?;
        for _ in 0..=u16::MAX {
            let id = s.pkid();
            if !self.in_flight.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(protocol("all 65535 packet identifiers are in flight"))
    }

    /// Queues a PUBLISH; written with the next ones (at [`Outgoing::flush`], before any
    /// wait, or once 64 KiB are queued): one write for many messages.
    async fn send(&mut self, p: Out) -> Result<()> {
        let s = self.session()?;
        s.queue(p)?;
        if s.queued() >= 64 * 1024 {
            s.flush().await?;
        }
        Ok(())
    }

    fn on_packet(&mut self, p: In) -> Result<()> {
        match p {
            In::PubAck { pkid, refused } => {
                let Some(f) = self.in_flight.remove(&pkid) else {
                    // not ours any more (resent and acknowledged twice): nothing to do
                    return Ok(());
                };
                if let Some(why) = refused {
                    return Err(Error::new(
                        ErrorKind::Broker,
                        format!("the broker refused a message to {}: {why}", f.publish.topic),
                    ));
                }
                self.done.extend(f.token);
                Ok(())
            }
            In::Disconnect(why) => Err(protocol(format!(
                "the broker closed the connection: {}",
                why.unwrap_or_else(|| "no reason given".into())
            ))),
            In::QoS2(what, _) => Err(protocol(format!("unexpected {what} (QoS 2 is not used)"))),
            // a publisher gets nothing else worth acting on
            _ => Ok(()),
        }
    }
}

impl Outgoing for MqttOutgoing {
    async fn start(&mut self) -> Result<()> {
        self.s = Some(self.o.session.connect(false).await?);
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let version = self.session()?.version;
        let (mut p, dropped) = mapping::to_mqtt(msg, version, self.o.payload, &self.o.defaults)?;
        self.dropped_headers += dropped as u64;
        if self.o.reliable && p.qos == 0 {
            p.qos = 1;
        }
        trace('>', msg);
        if p.qos == 0 {
            self.send(Out::Publish(p)).await?;
            self.done.push(token);
            return Ok(());
        }
        p.pkid = self.pkid()?;
        let pkid = p.pkid;
        let token = if self.o.reliable {
            Some(token)
        } else {
            self.done.push(token);
            None
        };
        // kept before it is sent: a connection lost while sending it is recovered by
        // sending it again (--reconnect), as the engine expects of a failed put
        self.in_flight.insert(
            pkid,
            InFlight {
                token,
                publish: p.clone(),
            },
        );
        self.order.push_back(pkid);
        // no more unacknowledged than the broker takes (its receive maximum); a connection
        // lost meanwhile is recovered with this one kept
        let limit = self.session()?.receive_maximum;
        while self.in_flight.len() > limit {
            self.session()?.flush().await?;
            match self.session()?.next(Duration::from_secs(1)).await? {
                Some(packet) => self.on_packet(packet)?,
                None => self.session()?.keep_alive().await?,
            }
        }
        self.send(Out::Publish(p)).await
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        let mut wait = if self.in_flight.is_empty() {
            Duration::ZERO
        } else {
            wait
        };
        if !wait.is_zero() {
            self.session()?.flush().await?;
        }
        while !self.in_flight.is_empty() {
            let Some(p) = self.session()?.next(wait).await? else {
                break;
            };
            self.on_packet(p)?;
            wait = Duration::ZERO;
        }
        let in_flight = &self.in_flight;
        self.order.retain(|id| in_flight.contains_key(id));
        out.append(&mut self.done);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.in_flight
            .values()
            .filter(|f| f.token.is_some())
            .count()
    }

    async fn idle(&mut self) -> Result<()> {
        let s = self.session()?;
        s.flush().await?;
        s.keep_alive().await
    }

    async fn flush(&mut self) -> Result<()> {
        match self.s.as_mut() {
            Some(s) => s.flush().await,
            None => Ok(()),
        }
    }

    async fn stop(&mut self) -> Result<()> {
        if self.dropped_headers > 0 {
            agent::log::warn(format_args!(
                "{} header fields were dropped: MQTT 3.1.1 carries only topic, QoS and \
                 retain (--payload json keeps them)",
                self.dropped_headers
            ));
        }
        if let Some(s) = self.s.take() {
            s.close(self.o.session.broker.timeout_disconnect).await;
        }
        Ok(())
    }

    /// `--reconnect`: connects again and publishes every unacknowledged publication
    /// again, in order, marked as a duplicate.
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.s = None;
        let mut s = self.o.session.connect(true).await?;
        let mut resent = 0u64;
        for id in &self.order {
            if let Some(f) = self.in_flight.get_mut(id) {
                f.publish.dup = true;
                s.queue(Out::Publish(f.publish.clone()))?;
                resent += 1;
            }
        }
        s.flush().await?;
        let peer = s.peer.clone();
        self.s = Some(s);
        Ok(Recovered { peer, resent })
    }
}

/// What the incoming module needs.
#[derive(Debug, Clone)]
pub struct IncomingOptions {
    /// The connection.
    pub session: Options,
    /// (topic filter, QoS) per `--subscribe`.
    pub subscriptions: Vec<(String, u8)>,
    /// `--reliable`: acknowledge a delivery only once its message is confirmed.
    pub reliable: bool,
    /// `--payload`.
    pub payload: Payload,
    /// `--timeout-broker`: how long to wait for the SUBACK.
    pub timeout_broker: Duration,
}

/// The incoming module: the deliveries of the subscriptions.
pub struct MqttIncoming {
    o: IncomingOptions,
    s: Option<Session>,
    /// Deliveries read while waiting for something else (a SUBACK).
    early: VecDeque<Publish>,
    /// Token → packet identifier of deliveries not yet acknowledged.
    pending: BTreeMap<Token, u16>,
    next: u64,
}

impl MqttIncoming {
    /// A module (connected by `start`).
    pub fn new(o: IncomingOptions) -> Self {
        MqttIncoming {
            o,
            s: None,
            early: VecDeque::new(),
            pending: BTreeMap::new(),
            next: 1,
        }
    }

    fn session(&mut self) -> Result<&mut Session> {
        self.s.as_mut().ok_or_else(not_started)
    }

    /// Connects and subscribes; deliveries that come before the SUBACK are kept.
    async fn open(&mut self, retrying: bool) -> Result<()> {
        let mut s = self.o.session.connect(retrying).await?;
        let pkid = s.pkid();
        s.send(Out::Subscribe(pkid, self.o.subscriptions.clone()))
            .await?;
        let deadline = tokio::time::Instant::now() + self.o.timeout_broker;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match s.next(left).await? {
                Some(In::SubAck { pkid: id, granted }) if id == pkid => {
                    for ((topic, _), g) in self.o.subscriptions.iter().zip(granted) {
                        if let Err(why) = g {
                            return Err(Error::new(
                                ErrorKind::Broker,
                                format!("{} refused the subscription to {topic}: {why}", s.peer),
                            ));
                        }
                    }
                    break;
                }
                Some(In::Publish(p)) => self.early.push_back(p),
                Some(In::Disconnect(why)) => {
                    return Err(Error::new(
                        ErrorKind::Broker,
                        format!(
                            "{} closed the connection when subscribing: {}",
                            s.peer,
                            why.unwrap_or_else(|| "no reason given".into())
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(Error::new(
                        ErrorKind::Broker,
                        format!("no SUBACK from {} in time (--timeout-broker)", s.peer),
                    ));
                }
            }
        }
        self.s = Some(s);
        Ok(())
    }

    /// A delivery handed to the engine: acknowledged now (without --reliable) or when
    /// the engine says so.
    async fn deliver(&mut self, p: Publish) -> Result<Got> {
        if p.qos == 2 {
            return Err(protocol(format!(
                "a QoS 2 delivery on {} (subscriptions ask for QoS 1 at most)",
                p.topic
            )));
        }
        let msg = mapping::from_mqtt(&p, self.o.payload)?;
        trace('<', &msg);
        if p.qos == 0 {
            return Ok(Got::Message(msg, Token(0)));
        }
        if !self.o.reliable {
            // queued, not awaited: `get` stays cancel-safe; it goes with the next flush
            self.session()?.queue(Out::PubAck(p.pkid))?;
            return Ok(Got::Message(msg, Token(0)));
        }
        let t = Token(self.next);
        self.next += 1;
        self.pending.insert(t, p.pkid);
        Ok(Got::Message(msg, t))
    }
}

impl Incoming for MqttIncoming {
    // a PUBLISH already read waits: what the destination holds (a --dedup batch) can wait
    // for it
    fn has_ready(&self) -> bool {
        !self.early.is_empty() || self.s.as_ref().is_some_and(Session::has_publish)
    }

    async fn start(&mut self) -> Result<()> {
        self.open(false).await
    }

    async fn get(&mut self) -> Result<Got> {
        if let Some(p) = self.early.pop_front() {
            // a resumed session floods in before the SUBACK (up to the receive maximum):
            // its PUBACKs go out as they pile up too, or a crash would have it all again
            let s = self.session()?;
            if s.queued() >= ACKS_QUEUED_MAX {
                s.flush().await?;
            }
            return self.deliver(p).await;
        }
        // what has arrived first, writing nothing; the PUBACKs queued go out in one write
        // when we are about to wait (or when many are queued)
        let mut wait = Duration::ZERO;
        loop {
            let s = self.session()?;
            if !wait.is_zero() || s.queued() >= ACKS_QUEUED_MAX {
                s.flush().await?;
            }
            let got = s.next(wait).await?;
            if got.is_none() && wait.is_zero() {
                wait = Duration::from_secs(1);
                continue;
            }
            match got {
                Some(In::Publish(p)) => return self.deliver(p).await,
                Some(In::Disconnect(why)) => {
                    return Err(protocol(format!(
                        "the broker closed the connection: {}",
                        why.unwrap_or_else(|| "no reason given".into())
                    )));
                }
                Some(_) => {}
                None => return Ok(Got::Idle),
            }
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        match self.pending.remove(&token) {
            // written with the others before `get` waits, or at idle and stop; a connection
            // lost first only means the broker delivers it again
            Some(pkid) => self.session()?.queue(Out::PubAck(pkid)),
            None => Ok(()),
        }
    }

    async fn idle(&mut self) -> Result<()> {
        let s = self.session()?;
        s.flush().await?;
        s.keep_alive().await
    }

    async fn stop(&mut self) -> Result<()> {
        // deliveries not acknowledged come again to the same persistent session
        self.pending.clear();
        if let Some(s) = self.s.take() {
            s.close(self.o.session.broker.timeout_disconnect).await;
        }
        Ok(())
    }

    /// `--reconnect`: deliveries not yet acknowledged come again to the persistent
    /// session.
    fn forget(&mut self) -> u64 {
        let unacked = self.pending.len() as u64;
        self.pending.clear();
        self.early.clear();
        self.s = None;
        unacked
    }

    /// `--reconnect`: connects and subscribes again.
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.open(true).await?;
        Ok(Recovered {
            peer: self.s.as_ref().map_or("?", |s| s.peer.as_str()).to_string(),
            resent: 0,
        })
    }
}
