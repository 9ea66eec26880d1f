//! The AMQP 1.0 modules of the transfer engine: receiver links (one per `--subscribe`) as the
//! incoming module, sender links (one per destination) as the outgoing module.
//!
//! Reliable mode is settlement: a received delivery is accepted only once the destination
//! confirmed its message, and a sent message counts only once the peer's disposition says
//! Accepted. Credit is granted by hand and never beyond what `--count` still wants: a broker
//! that settles deliveries before they arrive (the Qpid Proton broker) would lose the
//! surplus. With `--batch N` confirmed deliveries are accepted N at a time, in dispositions
//! that name ranges of delivery ids, and whatever is held back is accepted when idle or
//! stopping.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use fe2o3_amqp::link::delivery::{DeliveryFut, DeliveryInfo};
use fe2o3_amqp::link::receiver::CreditMode;
use fe2o3_amqp::link::{
    Receiver, ReceiverAttachError, SendError, Sender, SenderAttachError, SessionStopReason,
};
use fe2o3_amqp::types::definitions::{ReceiverSettleMode, SenderSettleMode};
use fe2o3_amqp::types::messaging::{
    Body, Message as AmqpMessage, Outcome, Source, Target, TerminusDurability,
};
use fe2o3_amqp::types::primitives::Value;
use message::Message;
use transfer::{Error, ErrorKind, Got, Incoming, Outgoing, Recovered, Result, Token};

use crate::connection::{Connected, Options};
use crate::mapping;

/// The default credit of a receiver link (the most deliveries in flight to us).
const DEFAULT_CREDIT: u32 = 100;

/// How many times a message the peer released (or modified) is sent once more before the run
/// fails.
const MAX_RETRIES: u32 = 3;

fn protocol(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Protocol, what.to_string())
}

/// Closes a link. The Qpid Proton broker answers only a closing detach; RabbitMQ before 4.0
/// answers one with a non-closing detach, which fe2o3-amqp reports as IllegalState
/// (rabbitmq-server#2594): the link is gone either way, so that error is no failure.
async fn close_link<E: std::fmt::Display>(
    limit: Duration,
    close: impl std::future::Future<Output = std::result::Result<(), E>>,
) {
    match tokio::time::timeout(limit, close).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => agent::log::debug(1, format_args!("closing a link: {e}")),
        Err(_) => agent::log::debug(1, format_args!("closing a link: no answer")),
    }
}

/// `-dd`: each message's header (`-ddd`: and body size), as it crosses the wire. No
/// credential is part of a message; the SASL exchange is never traced.
pub(crate) fn trace(dir: char, address: &str, m: &Message) {
    let fields = m.header.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    agent::log::trace(dir, address, fields, m.body.as_bytes().len());
}

/// Options of the incoming module.
#[derive(Debug, Clone)]
pub struct IncomingOptions {
    /// How to connect.
    pub connection: Options,
    /// One address per receiver link.
    pub addresses: Vec<String>,
    /// Credit per link (`--prefetch`).
    pub prefetch: Option<u64>,
    /// `--count`: never ask for more.
    pub count: Option<u64>,
    /// `--batch`: accept confirmed deliveries this many at a time (1: each at once).
    pub batch: usize,
}

struct Link {
    receiver: Receiver,
    address: String,
    /// credit granted and not used yet, as we count it
    credit: u32,
    /// `--batch`: confirmed deliveries not accepted yet
    held: Vec<DeliveryInfo>,
}

impl Link {
    /// Accepts what the link holds back, in as few dispositions as its ids allow.
    async fn accept_held(&mut self) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.receiver.accept_all(held).await.map_err(|e| {
            protocol(format!(
                "cannot accept deliveries from {}: {e}",
                self.address
            ))
        })
    }
}

/// Receives messages from receiver links.
pub struct AmqpIncoming {
    o: IncomingOptions,
    conn: Option<Connected>,
    links: Vec<Link>,
    received: u64,
    pending: HashMap<Token, (usize, DeliveryInfo)>,
    next: u64,
}

impl AmqpIncoming {
    /// A module for these options (connected by `start`).
    pub fn new(o: IncomingOptions) -> Self {
        AmqpIncoming {
            o,
            conn: None,
            links: Vec::new(),
            received: 0,
            pending: HashMap::new(),
            next: 1,
        }
    }

    fn window(&self) -> u32 {
        self.o
            .prefetch
            .map_or(DEFAULT_CREDIT, |p| p.clamp(1, u32::MAX as u64) as u32)
    }

    /// Tops up the links' credit: to the window when half is used, never beyond what
    /// `--count` still wants.
    async fn grant(&mut self) -> Result<()> {
        let window = self.window();
        let outstanding: u64 = self.links.iter().map(|l| l.credit as u64).sum();
        let mut room = self
            .o
            .count
            .map_or(u64::MAX, |c| c.saturating_sub(self.received + outstanding));
        for l in &mut self.links {
            if l.credit > window / 2 || room == 0 {
                continue;
            }
            let more = ((window - l.credit) as u64).min(room) as u32;
            room -= more as u64;
            // counted once given: cancelled before that (an `all:` race), it is given again
            l.receiver
                .set_credit(l.credit + more)
                .await
                .map_err(|e| protocol(format!("cannot give credit on {}: {e}", l.address)))?;
            l.credit += more;
        }
        Ok(())
    }

    async fn attach(&mut self) -> Result<()> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| protocol("incoming broker not connected"))?;
        for (i, address) in self.o.addresses.iter().enumerate() {
            // a durable terminus: RabbitMQ refuses a non-durable link on a durable queue
            let source = Source::builder()
                .address(address.clone())
                .durable(TerminusDurability::UnsettledState)
                .build();
            let receiver = Receiver::builder()
                .name(format!("amqpclt-{}-in-{i}", std::process::id()))
                .source(source)
                .receiver_settle_mode(ReceiverSettleMode::First)
                .credit_mode(CreditMode::Manual)
                .auto_accept(!self.o.connection.broker.reliable)
                .attach(&mut conn.session)
                .await
                .map_err(|e| {
                    let lost = match &e {
                        ReceiverAttachError::SessionStopped(why) => lost(why),
                        ReceiverAttachError::SessionNotMapped => true,
                        _ => false,
                    };
                    attach_error(lost, &conn.peer, "subscribe to", address, e)
                })?;
            agent::log::debug(1, format_args!("receiving from {address}"));
            self.links.push(Link {
                receiver,
                address: address.clone(),
                credit: 0,
                held: Vec::new(),
            });
        }
        Ok(())
    }

    /// The next delivery of any link, within a second.
    async fn next_delivery(
        &mut self,
    ) -> Result<Option<(usize, AmqpMessage<Body<Value>>, DeliveryInfo)>> {
        use futures_util::FutureExt;
        use futures_util::future::select_all;
        if self.links.is_empty() {
            return Ok(None);
        }
        // recv is cancel-safe: a link that loses the race keeps its delivery. What has
        // arrived already is taken without a timer or a race (most deliveries, under load).
        let ready = self.links.iter_mut().enumerate().find_map(|(i, l)| {
            l.receiver
                .recv::<Body<Value>>()
                .now_or_never()
                .map(|r| (i, r))
        });
        let (i, r) = match ready {
            Some(x) => x,
            None => {
                let recvs = self.links.iter_mut().enumerate().map(|(i, l)| {
                    Box::pin(async move { (i, l.receiver.recv::<Body<Value>>().await) })
                });
                match tokio::time::timeout(Duration::from_secs(1), select_all(recvs)).await {
                    Ok((x, _, _)) => x,
                    Err(_) => return Ok(None),
                }
            }
        };
        let d = r.map_err(|e| {
            protocol(format!(
                "receiving from {} failed: {e}",
                self.links[i].address
            ))
        })?;
        let info = DeliveryInfo::from(&d);
        Ok(Some((i, d.into_message(), info)))
    }
}

impl AmqpIncoming {}

impl Incoming for AmqpIncoming {
    async fn start(&mut self) -> Result<()> {
        self.conn = Some(self.o.connection.connect(false).await?);
        self.attach().await?;
        self.grant().await
    }

    async fn get(&mut self) -> Result<Got> {
        self.grant().await?;
        let Some((i, m, info)) = self.next_delivery().await? else {
            if let Some(e) = self.conn.as_ref().and_then(Connected::lost) {
                return Err(e);
            }
            return Ok(Got::Idle);
        };
        self.received += 1;
        let l = &mut self.links[i];
        l.credit = l.credit.saturating_sub(1);
        let msg = mapping::from_amqp(m, &l.address)?;
        trace('<', &l.address, &msg);
        if !self.o.connection.broker.reliable {
            return Ok(Got::Message(msg, Token(0)));
        }
        let t = Token(self.next);
        self.next += 1;
        self.pending.insert(t, (i, info));
        Ok(Got::Message(msg, t))
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        let Some((i, info)) = self.pending.remove(&token) else {
            return Ok(());
        };
        let batch = self.o.batch;
        let l = &mut self.links[i];
        if batch > 1 {
            l.held.push(info);
            if l.held.len() >= batch {
                l.accept_held().await?;
            }
            return Ok(());
        }
        l.receiver
            .accept(info)
            .await
            .map_err(|e| protocol(format!("cannot accept a delivery from {}: {e}", l.address)))
    }

    async fn idle(&mut self) -> Result<()> {
        // nothing came for a while: what a batch holds back is accepted now
        for l in &mut self.links {
            l.accept_held().await?;
        }
        self.grant().await
    }

    /// `--reconnect`: deliveries received and not accepted are delivered again (so may be,
    /// uncounted, accepts still in flight when the connection went).
    fn forget(&mut self) -> u64 {
        // confirmed but held back by --batch: delivered again too
        let held: usize = self.links.iter().map(|l| l.held.len()).sum();
        self.links.clear();
        self.conn = None;
        let unacked = self.pending.len() + held;
        self.pending.clear();
        unacked as u64
    }

    /// `--reconnect`: connects and attaches again.
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        let conn = self.conn.insert(self.o.connection.connect(true).await?);
        let peer = conn.peer.clone();
        self.attach().await?;
        Ok(Recovered { peer, resent: 0 })
    }

    async fn stop(&mut self) -> Result<()> {
        // what is confirmed is accepted; the rest goes back to the broker with the link
        let limit = self.o.connection.broker.timeout_disconnect;
        let mut flushed = Ok(());
        for l in &mut self.links {
            if let Err(e) = l.accept_held().await {
                flushed = Err(e);
            }
        }
        for l in self.links.drain(..) {
            close_link(limit, l.receiver.close()).await;
        }
        if let Some(c) = self.conn.take() {
            let _ = tokio::time::timeout(limit, c.close()).await;
        }
        flushed
    }
}

/// Options of the outgoing module.
#[derive(Debug, Clone)]
pub struct OutgoingOptions {
    /// How to connect.
    pub connection: Options,
}

type Settlement = DeliveryFut<std::result::Result<Outcome, SendError>>;

struct InFlight {
    token: Token,
    address: String,
    /// a copy, to send again if the peer releases it
    message: Option<AmqpMessage<Body<Value>>>,
    retries: u32,
    settlement: Settlement,
}

/// A message not on the wire: its send failed, or its connection was lost before it was
/// confirmed; `--reconnect` sends it (again), oldest first.
struct Unsent {
    token: Token,
    address: String,
    /// a copy (reliable), or none: pre-settled, at most once, as asked
    message: Option<AmqpMessage<Body<Value>>>,
    retries: u32,
}

/// Sends messages on sender links, one per destination.
pub struct AmqpOutgoing {
    o: OutgoingOptions,
    conn: Option<Connected>,
    senders: BTreeMap<String, Sender>,
    in_flight: VecDeque<InFlight>,
    /// what `--reconnect` sends on the new connection, oldest first
    unsent: VecDeque<Unsent>,
    done: Vec<Token>,
}

impl AmqpOutgoing {
    /// A module for these options (connected by `start`).
    pub fn new(o: OutgoingOptions) -> Self {
        AmqpOutgoing {
            o,
            conn: None,
            senders: BTreeMap::new(),
            in_flight: VecDeque::new(),
            unsent: VecDeque::new(),
            done: Vec::new(),
        }
    }

    async fn sender(&mut self, address: &str) -> Result<&mut Sender> {
        if !self.senders.contains_key(address) {
            let conn = self
                .conn
                .as_mut()
                .ok_or_else(|| protocol("outgoing broker not connected"))?;
            let target = Target::builder()
                .address(address.to_string())
                .durable(TerminusDurability::UnsettledState)
                .build();
            let mode = if self.o.connection.broker.reliable {
                SenderSettleMode::Unsettled
            } else {
                SenderSettleMode::Settled
            };
            let sender = Sender::builder()
                .name(format!(
                    "amqpclt-{}-out-{}",
                    std::process::id(),
                    self.senders.len()
                ))
                .target(target)
                .sender_settle_mode(mode)
                .attach(&mut conn.session)
                .await
                .map_err(|e| {
                    let lost = match &e {
                        SenderAttachError::SessionStopped(why) => lost(why),
                        SenderAttachError::SessionNotMapped => true,
                        _ => false,
                    };
                    attach_error(lost, &conn.peer, "send to", address, e)
                })?;
            agent::log::debug(1, format_args!("sending to {address}"));
            self.senders.insert(address.to_string(), sender);
        }
        self.senders
            .get_mut(address)
            .ok_or_else(|| protocol("no sender link"))
    }

    async fn send(
        &mut self,
        address: String,
        m: AmqpMessage<Body<Value>>,
        token: Token,
        retries: u32,
    ) -> Result<()> {
        let copy = self.o.connection.broker.reliable.then(|| m.clone());
        if agent::log::enabled(2) {
            trace('>', &address, &mapping::from_amqp(m.clone(), &address)?);
        }
        // not sent (its link lost at attach, or the send failed): kept for --reconnect
        let settlement = match self.sender(&address).await {
            Ok(sender) => sender
                .send_batchable(m)
                .await
                .map_err(|e| protocol(format!("cannot send to {address}: {e}"))),
            Err(e) => Err(e),
        };
        let settlement = match settlement {
            Ok(s) => s,
            Err(e) => {
                self.unsent.push_back(Unsent {
                    token,
                    address,
                    message: copy,
                    retries,
                });
                return Err(e);
            }
        };
        self.in_flight.push_back(InFlight {
            token,
            address,
            message: copy,
            retries,
            settlement,
        });
        Ok(())
    }

    /// What the peer said of one message: confirmed, to be retried, or a failure.
    async fn settled(
        &mut self,
        f: InFlight,
        outcome: std::result::Result<Outcome, SendError>,
    ) -> Result<()> {
        let address = f.address.clone();
        match outcome {
            Ok(Outcome::Accepted(_)) => {
                self.done.push(f.token);
                Ok(())
            }
            Ok(Outcome::Rejected(r)) => Err(Error::new(
                ErrorKind::Broker,
                format!(
                    "the broker rejected a message to {address}: {}",
                    r.error
                        .map(|e| format!("{:?} {}", e.condition, e.description.unwrap_or_default()))
                        .unwrap_or_else(|| "no reason given".into())
                ),
            )),
            Ok(other) if f.retries < MAX_RETRIES => {
                agent::log::warn(format_args!(
                    "the broker did not take a message to {address} ({}): sending it again",
                    outcome_name(&other)
                ));
                let m = f.message.ok_or_else(|| protocol("no copy to send again"))?;
                self.send(f.address, m, f.token, f.retries + 1).await
            }
            Ok(other) => Err(Error::new(
                ErrorKind::Broker,
                format!(
                    "the broker did not take a message to {address} after {MAX_RETRIES} \
                     attempts: {}",
                    outcome_name(&other)
                ),
            )),
            Err(e) => {
                // still unconfirmed: --reconnect sends it again with the others
                self.in_flight.push_front(f);
                Err(protocol(format!("sending to {address} failed: {e}")))
            }
        }
    }
}

impl Outgoing for AmqpOutgoing {
    async fn start(&mut self) -> Result<()> {
        self.conn = Some(self.o.connection.connect(false).await?);
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let address = msg.header.get("destination").cloned().ok_or_else(|| {
            Error::new(ErrorKind::BadMessage, "message has no destination header")
        })?;
        let m = mapping::to_amqp(msg)?;
        self.send(address, m, token, 0).await
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        // settlements come in order on a link; the oldest first
        let mut wait = wait;
        while let Some(mut f) = self.in_flight.pop_front() {
            let outcome = if wait.is_zero() {
                match futures_util::FutureExt::now_or_never(&mut f.settlement) {
                    Some(o) => o,
                    None => {
                        self.in_flight.push_front(f);
                        break;
                    }
                }
            } else {
                match tokio::time::timeout(wait, &mut f.settlement).await {
                    Ok(o) => o,
                    Err(_) => {
                        self.in_flight.push_front(f);
                        break;
                    }
                }
            };
            wait = Duration::ZERO;
            self.settled(f, outcome).await?;
        }
        out.append(&mut self.done);
        // nothing settled and the connection gone: its settlements will never come
        if !self.in_flight.is_empty()
            && let Some(e) = self.conn.as_ref().and_then(Connected::lost)
        {
            return Err(e);
        }
        Ok(())
    }

    /// `--reconnect`: connects again and sends every unconfirmed message again, in order
    /// (the peer may have had some of them).
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        self.senders.clear();
        self.conn = None;
        // what went out unconfirmed, then what never went: kept until sent again, so that a
        // recovery cut short (a node that drops the connection again) loses none of it
        let mut again: VecDeque<Unsent> = self
            .in_flight
            .drain(..)
            .map(|f| Unsent {
                token: f.token,
                address: f.address,
                message: f.message,
                retries: f.retries,
            })
            .collect();
        again.append(&mut self.unsent);
        self.unsent = again;
        let n = self.unsent.len();
        let conn = self.conn.insert(self.o.connection.connect(true).await?);
        let peer = conn.peer.clone();
        while let Some(u) = self.unsent.pop_front() {
            let Some(m) = u.message else {
                self.done.push(u.token);
                continue;
            };
            if let Err(e) = self.send(u.address, m, u.token, u.retries).await {
                // kept at the back by send: it goes first next time
                if let Some(last) = self.unsent.pop_back() {
                    self.unsent.push_front(last);
                }
                return Err(e);
            }
        }
        Ok(Recovered {
            peer,
            resent: n as u64,
        })
    }

    fn pending(&self) -> usize {
        self.in_flight.len() + self.unsent.len()
    }

    async fn stop(&mut self) -> Result<()> {
        let limit = self.o.connection.broker.timeout_disconnect;
        let senders = std::mem::take(&mut self.senders);
        for (_, s) in senders {
            close_link(limit, s.close()).await;
        }
        if let Some(c) = self.conn.take() {
            let _ = tokio::time::timeout(limit, c.close()).await;
        }
        Ok(())
    }
}

/// An outcome as a log line says it.
fn outcome_name(o: &Outcome) -> String {
    match o {
        Outcome::Accepted(_) => "accepted".into(),
        Outcome::Rejected(_) => "rejected".into(),
        Outcome::Released(_) => "released".into(),
        Outcome::Modified(m) => format!(
            "modified{}{}",
            if m.delivery_failed == Some(true) {
                ", delivery failed"
            } else {
                ""
            },
            if m.undeliverable_here == Some(true) {
                ", undeliverable here"
            } else {
                ""
            }
        ),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// Whether a session stopped for a lost connection rather than a refusal: without an error
/// from the peer, or with the connection forced closed (a node shutting down).
fn lost(why: &SessionStopReason) -> bool {
    use fe2o3_amqp::connection::ConnectionStopReason as C;
    use fe2o3_amqp::types::definitions::{ConnectionError, ErrorCondition};
    match why {
        SessionStopReason::Ended | SessionStopReason::RemoteEnded => true,
        SessionStopReason::EndedWithError(_) | SessionStopReason::RemoteEndedWithError(_) => false,
        SessionStopReason::ConnectionStopped(C::RemoteClosedWithError(e)) => matches!(
            e.condition,
            ErrorCondition::ConnectionError(ConnectionError::ConnectionForced)
        ),
        SessionStopReason::ConnectionStopped(_) => true,
    }
}

/// A link that could not attach: the broker's refusal, or (`lost`) the session or its
/// connection gone meanwhile, which `--reconnect` recovers from (a cluster node that
/// accepts a connection and drops it while its queues move to another node).
fn attach_error(
    lost: bool,
    peer: &str,
    what: &str,
    address: &str,
    e: impl std::fmt::Display,
) -> Error {
    if lost {
        protocol(format!(
            "{peer}: connection lost before the link to {address} was attached: {e}"
        ))
    } else {
        Error::new(
            ErrorKind::Broker,
            format!("{peer} refused to {what} {address}: {e}"),
        )
    }
}
