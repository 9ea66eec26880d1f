//! The AMQP 0-9-1 incoming module: one consumer per `--subscribe` on one channel, with
//! basic.qos as the window.
//!
//! Deliveries are always acknowledged by hand, so that basic.qos bounds what is in flight
//! and what `--count` leaves behind goes back to the queue: reliable, once the outgoing
//! side confirmed the message (with `--batch N`, one `multiple` ack for each N confirmed in
//! delivery order); not reliable, on receipt (the reference's no-ack, without its loss of
//! everything prefetched). Acks are pipelined as publishes are (see `outgoing`): queued for
//! lapin's writer at once, their outcome collected later.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, SelectAll, Stream, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use transfer::{Error, ErrorKind, Got, Incoming, Recovered, Result, Token};

use super::connection::{Connected, Options, declare, failure, recovered};
use super::destination::{self, Route};
use super::mapping;

/// The prefetch (basic.qos) when none is given: what is in flight to us at most.
const DEFAULT_PREFETCH: u16 = 100;

/// Options of the incoming module.
#[derive(Debug, Clone)]
pub struct IncomingOptions {
    /// How to connect.
    pub connection: Options,
    /// One destination per consumer.
    pub destinations: Vec<String>,
    /// `--prefetch` (basic.qos).
    pub prefetch: Option<u64>,
    /// `--batch`: one `multiple` ack per this many confirmed messages.
    pub batch: usize,
}

type Deliveries = Pin<Box<dyn Stream<Item = (usize, lapin::Result<Delivery>)> + Send>>;
type Acking = Pin<Box<dyn Future<Output = lapin::Result<()>> + Send>>;

/// Receives messages from AMQP 0-9-1 queues.
pub struct Amqp091Incoming {
    o: IncomingOptions,
    routes: Vec<Route>,
    conn: Option<Connected>,
    consumers: SelectAll<Deliveries>,
    /// token → delivery tag, for the reliable acknowledgement
    pending: HashMap<Token, u64>,
    /// batch mode: delivery tags in order, and whether confirmed
    order: BTreeMap<u64, bool>,
    /// batch mode: the confirmed prefix not acknowledged yet (its last tag, its length)
    unacked: Option<(u64, usize)>,
    /// acks queued for lapin's writer, not known written yet
    acking: FuturesUnordered<Acking>,
    next: u64,
}

impl Amqp091Incoming {
    /// A module for these options (connected by `start`); the destinations are checked here.
    pub fn new(o: IncomingOptions) -> std::result::Result<Self, String> {
        let routes = o
            .destinations
            .iter()
            .map(|d| destination::parse(d, true))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Amqp091Incoming {
            o,
            routes,
            conn: None,
            consumers: SelectAll::new(),
            pending: HashMap::new(),
            order: BTreeMap::new(),
            unacked: None,
            acking: FuturesUnordered::new(),
            next: 1,
        })
    }

    fn batching(&self) -> bool {
        self.o.connection.broker.reliable && self.o.batch > 1
    }

    async fn subscribe(&mut self, retrying: bool) -> Result<()> {
        let c = self.o.connection.connect(retrying).await?;
        let ch = &c.channel;
        let prefetch = self
            .o
            .prefetch
            .map_or(DEFAULT_PREFETCH, |p| p.clamp(1, u16::MAX as u64) as u16);
        ch.basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| failure(&e, format!("{}: basic.qos", c.peer)))?;
        let mut consumers = SelectAll::new();
        for (i, r) in self.routes.iter().enumerate() {
            let refused = |e: lapin::Error, what: &str| {
                failure(
                    &e,
                    format!("{} refused to {what} for {}", c.peer, r.original),
                )
            };
            let queue = declare(&c, r)
                .await?
                .ok_or_else(|| Error::new(ErrorKind::Config, "a subscription needs a queue"))?;
            let consumer = ch
                .basic_consume(
                    queue.clone(),
                    format!("amqpclt-{}-{i}", std::process::id()).into(),
                    BasicConsumeOptions::default(),
                    Default::default(),
                )
                .await
                .map_err(|e| refused(e, "consume"))?;
            agent::log::debug(1, format_args!("consuming from {queue} ({})", r.original));
            let s: Deliveries = Box::pin(consumer.map(move |d| (i, d)));
            consumers.push(s);
        }
        self.consumers = consumers;
        self.conn = Some(c);
        Ok(())
    }

    /// Queues a basic.ack for lapin's writer (in order) without waiting for the write.
    async fn send_ack(&mut self, tag: u64, multiple: bool) -> Result<()> {
        let c = self
            .conn
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "incoming broker not connected"))?;
        let ch = c.channel.clone();
        let mut acking: Acking =
            Box::pin(async move { ch.basic_ack(tag, BasicAckOptions { multiple }).await });
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        match acking.as_mut().poll(&mut cx) {
            Poll::Pending => self.acking.push(acking),
            Poll::Ready(r) => self.acked(r)?,
        }
        self.reap()
    }

    fn acked(&self, r: lapin::Result<()>) -> Result<()> {
        r.map_err(|e| {
            let peer = self.conn.as_ref().map_or("?", |c| c.peer.as_str());
            failure(&e, format!("cannot acknowledge a message to {peer}"))
        })
    }

    /// The outcome of the acks written since the last look.
    fn reap(&mut self) -> Result<()> {
        while let Some(Some(r)) = futures_util::FutureExt::now_or_never(self.acking.next()) {
            self.acked(r)?;
        }
        Ok(())
    }

    /// Batch mode: the delivery's tag confirmed; acknowledges the confirmed prefix of the
    /// channel's deliveries (whatever order confirmations come in) once it holds N.
    async fn batch_ack(&mut self, tag: u64) -> Result<()> {
        if let Some(done) = self.order.get_mut(&tag) {
            *done = true;
        }
        let (mut last, mut n) = self.unacked.unwrap_or((0, 0));
        while let Some(e) = self.order.first_entry() {
            if !*e.get() {
                break;
            }
            last = *e.key();
            e.remove();
            n += 1;
        }
        self.unacked = (n > 0).then_some((last, n));
        if n >= self.o.batch {
            self.flush_acks().await?;
        }
        Ok(())
    }

    async fn flush_acks(&mut self) -> Result<()> {
        if let Some((last, _)) = self.unacked.take() {
            self.send_ack(last, true).await?;
        }
        Ok(())
    }
}

impl Incoming for Amqp091Incoming {
    async fn start(&mut self) -> Result<()> {
        self.subscribe(false).await
    }

    async fn get(&mut self) -> Result<Got> {
        // next() on SelectAll is cancel-safe: a delivery not taken stays queued in lapin
        let next = match tokio::time::timeout(Duration::from_secs(1), self.consumers.next()).await {
            Ok(n) => n,
            Err(_) => {
                if let Some(e) = self.conn.as_ref().and_then(Connected::lost) {
                    return Err(e);
                }
                return Ok(Got::Idle);
            }
        };
        let (i, d) =
            match next {
                Some(x) => x,
                // every consumer ended: the channel is closed
                None => {
                    return Err(self.conn.as_ref().and_then(Connected::lost).unwrap_or_else(
                        || Error::new(ErrorKind::Protocol, "the broker cancelled the consumers"),
                    ));
                }
            };
        let d =
            d.map_err(|e| failure(&e, format!("receiving from {}", self.routes[i].original)))?;
        let msg = mapping::from_delivery(
            &d.properties,
            d.data,
            d.exchange.as_str(),
            d.routing_key.as_str(),
        );
        crate::broker::trace('<', &self.routes[i].original, &msg);
        if !self.o.connection.broker.reliable {
            self.send_ack(d.delivery_tag, false).await?;
            return Ok(Got::Message(msg, Token(0)));
        }
        let t = Token(self.next);
        self.next += 1;
        self.pending.insert(t, d.delivery_tag);
        if self.batching() {
            self.order.insert(d.delivery_tag, false);
        }
        Ok(Got::Message(msg, t))
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        // an unknown token (acknowledged already, or from before a reconnection) is no error
        let Some(tag) = self.pending.remove(&token) else {
            return Ok(());
        };
        if self.batching() {
            return self.batch_ack(tag).await;
        }
        self.send_ack(tag, false).await
    }

    async fn idle(&mut self) -> Result<()> {
        // nothing came for a while: what a batch holds back is acknowledged now
        self.flush_acks().await
    }

    /// `--reconnect`: deliveries not acknowledged are delivered again.
    fn forget(&mut self) -> u64 {
        self.consumers = SelectAll::new();
        self.acking = FuturesUnordered::new();
        let unacked = self.pending.len() + self.unacked.take().map_or(0, |(_, n)| n);
        self.pending.clear();
        self.order.clear();
        unacked as u64
    }

    /// `--reconnect`: connects and consumes again.
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        if let Some(c) = self.conn.take() {
            c.close(Duration::from_millis(100)).await;
        }
        self.subscribe(true).await?;
        Ok(recovered(self.conn.as_ref(), 0))
    }

    async fn stop(&mut self) -> Result<()> {
        // acknowledge what is confirmed; the rest goes back to the queues with the channel
        let mut flushed = self.flush_acks().await;
        // the acks written before the channel closes
        let limit = self.o.connection.broker.timeout_disconnect;
        let written = async {
            while let Some(r) = self.acking.next().await {
                self.acked(r)?;
            }
            Ok(())
        };
        match tokio::time::timeout(limit, written).await {
            Ok(r) => flushed = flushed.and(r),
            Err(_) => agent::log::debug(1, format_args!("acks not written within {limit:?}")),
        }
        self.consumers = SelectAll::new();
        if let Some(c) = self.conn.take() {
            c.close(self.o.connection.broker.timeout_disconnect).await;
        }
        flushed
    }
}
