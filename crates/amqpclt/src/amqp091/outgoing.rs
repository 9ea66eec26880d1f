//! The AMQP 0-9-1 outgoing module: basic.publish on one channel, with publisher confirms
//! when reliable.
//!
//! Reliable: the channel is in confirm mode and a message counts as sent only once the
//! broker acked it; a nack, or a mandatory message returned as unroutable, is an error and
//! nothing is removed. Not reliable: as the reference, a publish counts once written.
//!
//! Publishes are pipelined: lapin writes from a thread of its own and a publish resolves
//! once its frames are written, so awaiting each one would cost a round trip between the
//! threads per message. Each publish is started at `put` (its frames queued, in order) and
//! its outcome collected by `confirmed`.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Confirmation, PublisherConfirm};
use message::Message;
use transfer::{Error, ErrorKind, Outgoing, Recovered, Result, Token};

use super::connection::{Connected, Options, declare, failure, recovered};
use super::destination::{self, Route};
use super::mapping;

/// Options of the outgoing module.
#[derive(Debug, Clone)]
pub struct OutgoingOptions {
    /// How to connect.
    pub connection: Options,
}

type Publishing = Pin<Box<dyn Future<Output = lapin::Result<PublisherConfirm>> + Send>>;

/// Where a message is: being written, awaiting the broker's confirm, settled (the outcome
/// kept until `confirmed` takes it), or not published (the connection broke).
enum Stage {
    Publishing(Publishing),
    Confirming(PublisherConfirm),
    Resolved(Box<lapin::Result<Confirmation>>),
    Unsent,
}

impl Stage {
    /// Drives the stage on until it is resolved (or cannot go on now).
    fn poll_on(&mut self, reliable: bool, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self {
                Stage::Publishing(p) => match p.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(c)) if reliable => *self = Stage::Confirming(c),
                    Poll::Ready(Ok(_)) => {
                        *self = Stage::Resolved(Box::new(Ok(Confirmation::NotRequested)));
                    }
                    Poll::Ready(Err(e)) => *self = Stage::Resolved(Box::new(Err(e))),
                },
                Stage::Confirming(c) => match Pin::new(c).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => *self = Stage::Resolved(Box::new(r)),
                },
                Stage::Resolved(_) | Stage::Unsent => return Poll::Ready(()),
            }
        }
    }
}

struct InFlight {
    token: Token,
    route: Route,
    /// what to publish again after a reconnection
    props: BasicProperties,
    body: Arc<Vec<u8>>,
    stage: Stage,
}

/// Publishes messages to an AMQP 0-9-1 broker.
pub struct Amqp091Outgoing {
    o: OutgoingOptions,
    conn: Option<Connected>,
    /// queues and exchanges declared (and bindings made) on this connection
    declared: HashSet<String>,
    in_flight: VecDeque<InFlight>,
    done: Vec<Token>,
}

impl Amqp091Outgoing {
    /// A module for these options (connected by `start`).
    pub fn new(o: OutgoingOptions) -> Self {
        Amqp091Outgoing {
            o,
            conn: None,
            declared: HashSet::new(),
            in_flight: VecDeque::new(),
            done: Vec::new(),
        }
    }

    async fn connect(&mut self, retrying: bool) -> Result<()> {
        let c = self.o.connection.connect(retrying).await?;
        if self.o.connection.broker.reliable {
            c.channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| failure(&e, format!("{}: confirm.select", c.peer)))?;
        }
        self.declared.clear();
        self.conn = Some(c);
        Ok(())
    }

    fn channel(&self) -> Result<&Connected> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "outgoing broker not connected"))
    }

    /// Declares what the route needs, once per connection (as the reference).
    async fn declare(&mut self, r: &Route) -> Result<()> {
        if self.declared.contains(&r.original) {
            return Ok(());
        }
        declare(self.channel()?, r).await?;
        self.declared.insert(r.original.clone());
        Ok(())
    }

    /// Starts the publish of a message: its frames are queued for lapin's writer now, in
    /// order; `confirmed` collects the outcome.
    async fn publish(&mut self, mut f: InFlight) -> Result<()> {
        let declared = self.declare(&f.route).await;
        let c = match declared.and_then(|()| self.channel()) {
            Ok(c) => c,
            Err(e) => {
                // kept with the unconfirmed, so that --reconnect publishes it too
                f.stage = Stage::Unsent;
                self.in_flight.push_back(f);
                return Err(e);
            }
        };
        // a message to a queue we declared must reach it: mandatory when reliable
        let mandatory = f.route.mandatory
            || (self.o.connection.broker.reliable
                && f.route.queue.is_some()
                && f.route.exchange.is_none());
        let ch = c.channel.clone();
        let (exchange, key) = (
            f.route.exchange_name().to_string(),
            f.route.routing_key.clone(),
        );
        let (body, props) = (f.body.clone(), f.props.clone());
        let publishing: Publishing = Box::pin(async move {
            ch.basic_publish(
                exchange.as_str().into(),
                key.as_str().into(),
                BasicPublishOptions {
                    mandatory,
                    immediate: false,
                },
                &body,
                props,
            )
            .await
        });
        // the first poll queues the frames (and registers the confirm), in put order
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        f.stage = Stage::Publishing(publishing);
        let _ = f.stage.poll_on(self.o.connection.broker.reliable, &mut cx);
        self.in_flight.push_back(f);
        Ok(())
    }

    /// Why the broker closed the channel, from the oldest unconfirmed publish (a refusal
    /// such as 404 arrives after the publishes that followed it were sent).
    async fn reason(&mut self) -> Option<Error> {
        let reliable = self.o.connection.broker.reliable;
        let f = self.in_flight.front_mut()?;
        let dest = f.route.original.clone();
        let stage = &mut f.stage;
        let resolved = std::future::poll_fn(|cx| stage.poll_on(reliable, cx));
        let _ = tokio::time::timeout(Duration::from_secs(2), resolved).await;
        match &f.stage {
            Stage::Resolved(r) if r.is_err() => {
                let Err(e) = r.as_ref() else { return None };
                let err = failure(e, format!("publishing to {dest} failed"));
                (err.kind == ErrorKind::Broker).then_some(err)
            }
            _ => None,
        }
    }

    /// A publish (or its confirm) failed: the message is kept for --reconnect, and the
    /// error names the broker's reason when the channel was closed for one.
    async fn failed(&mut self, mut f: InFlight, e: lapin::Error) -> Error {
        let mut err = failure(&e, format!("publishing to {} failed", f.route.original));
        f.stage = Stage::Unsent;
        if matches!(e.kind(), lapin::ErrorKind::InvalidChannelState(..))
            && let Some(reason) = self.reason().await
        {
            err = reason;
        }
        self.in_flight.push_front(f);
        err
    }

    /// What the broker said of one message.
    fn settled(&mut self, f: &InFlight, c: Confirmation) -> Result<()> {
        let dest = &f.route.original;
        match c {
            Confirmation::Ack(None) | Confirmation::NotRequested => {
                self.done.push(f.token);
                Ok(())
            }
            Confirmation::Ack(Some(r)) | Confirmation::Nack(Some(r)) => Err(Error::new(
                ErrorKind::Broker,
                format!(
                    "the broker returned a message to {dest}: {} {}",
                    r.reply_code, r.reply_text
                ),
            )),
            Confirmation::Nack(None) => Err(Error::new(
                ErrorKind::Broker,
                format!("the broker refused (nacked) a message to {dest}"),
            )),
        }
    }

    /// Moves the oldest message on, waiting at most `wait`: true when it is done with.
    async fn advance(&mut self, wait: Duration) -> Result<bool> {
        let reliable = self.o.connection.broker.reliable;
        let Some(f) = self.in_flight.front_mut() else {
            return Ok(false);
        };
        let stage = &mut f.stage;
        if wait.is_zero() {
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            let _ = stage.poll_on(reliable, &mut cx);
        } else {
            let resolved = std::future::poll_fn(|cx| stage.poll_on(reliable, cx));
            let _ = tokio::time::timeout(wait, resolved).await;
        }
        if matches!(f.stage, Stage::Publishing(_) | Stage::Confirming(_)) {
            return Ok(false);
        }
        let Some(mut f) = self.in_flight.pop_front() else {
            return Ok(false);
        };
        match std::mem::replace(&mut f.stage, Stage::Unsent) {
            Stage::Resolved(r) => match *r {
                Ok(c) => {
                    self.settled(&f, c)?;
                    Ok(true)
                }
                Err(e) => Err(self.failed(f, e).await),
            },
            _ => {
                self.in_flight.push_front(f);
                Err(self.channel()?.lost().unwrap_or_else(|| {
                    Error::new(ErrorKind::Protocol, "a message could not be published")
                }))
            }
        }
    }
}

impl Outgoing for Amqp091Outgoing {
    async fn start(&mut self) -> Result<()> {
        self.connect(false).await
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let dest = msg.header.get("destination").ok_or_else(|| {
            Error::new(ErrorKind::BadMessage, "message has no destination header")
        })?;
        let route =
            destination::parse(dest, false).map_err(|e| Error::new(ErrorKind::BadMessage, e))?;
        let (props, body) = mapping::to_publish(msg)?;
        crate::broker::trace('>', dest, msg);
        self.publish(InFlight {
            token,
            route,
            props,
            body: Arc::new(body),
            stage: Stage::Unsent,
        })
        .await
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        // writes and confirms come in publishing order; the oldest first, waiting only for
        // the first step
        let mut wait = wait;
        loop {
            let before = self.done.len();
            if !self.advance(wait).await? {
                break;
            }
            if self.done.len() > before {
                wait = Duration::ZERO;
            }
        }
        out.append(&mut self.done);
        if !self.in_flight.is_empty()
            && let Some(e) = self.conn.as_ref().and_then(Connected::lost)
        {
            return Err(e);
        }
        Ok(())
    }

    fn pending(&self) -> usize {
        self.in_flight.len()
    }

    async fn ready(&mut self) {
        let reliable = self.o.connection.broker.reliable;
        std::future::poll_fn(|cx| match self.in_flight.front_mut() {
            Some(f) => f.stage.poll_on(reliable, cx),
            None => Poll::Pending,
        })
        .await
    }

    /// `--reconnect`: connects again and publishes every unconfirmed message again, in
    /// order (the broker may have had some).
    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        if let Some(c) = self.conn.take() {
            // the old connection's io loop may still run: close it without waiting long
            c.close(Duration::from_millis(100)).await;
        }
        let again: Vec<InFlight> = self.in_flight.drain(..).collect();
        self.connect(true).await?;
        let n = again.len();
        for f in again {
            self.publish(InFlight {
                stage: Stage::Unsent,
                ..f
            })
            .await?;
        }
        Ok(recovered(self.conn.as_ref(), n))
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(c) = self.conn.take() {
            c.close(self.o.connection.broker.timeout_disconnect).await;
        }
        Ok(())
    }
}
