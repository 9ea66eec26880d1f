//! `--reconnect` for every protocol: which errors are worth a reconnection, the retry loop,
//! and the bookkeeping (counters, metrics, the lines an operator reads). A protocol module
//! does only the protocol part: it forgets what the old connection held and connects again,
//! then says to whom and how many messages it sent again ([`Recovered`]).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use message::Message;

use crate::{Error, ErrorKind, Got, Incoming, Meter, Outgoing, Recovery, Result, SideState, Token};

/// What a module's reconnection did, for [`Recovering`] to count and report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The peer connected now (`host:port`).
    pub peer: String,
    /// Unconfirmed messages put again on the new connection (an outgoing module's).
    pub resent: u64,
}

/// Which side a module is on, for the lines and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Incoming,
    Outgoing,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Incoming => "incoming",
            Side::Outgoing => "outgoing",
        }
    }
}

/// A module whose failed calls go through its `recover` once when `--reconnect` asked for it
/// and the error is a lost or broken connection ([`ErrorKind::Protocol`]; a broker that
/// refuses, and local errors, are final): `get` is tried again after a recovery; `ack`,
/// `idle`, `put` and `confirmed` count as done (a module that recovers has kept what it must
/// send again, and the broker delivers again what was not acknowledged).
pub struct Recovering<M> {
    module: M,
    enabled: bool,
    meter: Option<Arc<Meter>>,
    recovery: Option<Arc<Recovery>>,
}

impl<M> Recovering<M> {
    /// Wraps a module; `enabled`: `--reconnect`.
    pub fn new(module: M, enabled: bool) -> Self {
        Recovering {
            module,
            enabled,
            meter: None,
            recovery: None,
        }
    }

    /// Counts the errors ridden through and shows the side reconnecting in this meter.
    pub fn with_meter(mut self, meter: Arc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Counts reconnections, messages sent again and deliveries not known to be
    /// acknowledged here (`--statistics`, metrics).
    pub fn with_recovery(mut self, recovery: Arc<Recovery>) -> Self {
        self.recovery = Some(recovery);
        self
    }

    fn recoverable(&self, e: &Error, side: Side) -> bool {
        let yes = self.enabled && e.kind == ErrorKind::Protocol;
        if yes {
            log::warn!("{} broker: {e}; reconnecting", side.name());
            if let Some(m) = &self.meter {
                m.error(e.kind);
                m.set_state(side == Side::Outgoing, SideState::Reconnecting);
            }
        }
        yes
    }

    /// Counts and reports a reconnection that held.
    fn recovered(&self, side: Side, r: &Recovered) {
        if let Some(c) = &self.recovery {
            c.reconnects.fetch_add(1, Relaxed);
            c.resent.fetch_add(r.resent, Relaxed);
        }
        if let Some(m) = &self.meter {
            m.set_state(side == Side::Outgoing, SideState::Up);
        }
        match side {
            Side::Incoming => log::warn!("incoming broker: reconnected to {}", r.peer),
            Side::Outgoing => log::warn!(
                "outgoing broker: reconnected to {}, {} unconfirmed messages sent again",
                r.peer,
                r.resent
            ),
        }
    }

    /// Recovers until a recovery holds: a connection lost again while recovering (a cluster
    /// node that accepts, then drops us while its queues move) is recovered again, after a
    /// pause that grows to 5 s. Errors that are not a lost connection end it (the module's
    /// connection loop gives up with one after its attempts, or at INT/TERM).
    async fn recover_fully(
        &mut self,
        e: Error,
        side: Side,
        recover: impl AsyncFn(&mut M, Error) -> Result<Recovered>,
    ) -> Result<()> {
        let mut e = e;
        let mut pause = Duration::from_millis(100);
        loop {
            log::debug!("{} broker: recovering from: {e}", side.name());
            match recover(&mut self.module, e).await {
                Ok(r) => {
                    self.recovered(side, &r);
                    return Ok(());
                }
                Err(again) if self.recoverable(&again, side) => {
                    e = again;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl<I: Incoming> Recovering<I> {
    /// The incoming side's recovery: what the old connection held is forgotten (counted as
    /// possible duplicates) before each attempt to connect again.
    async fn recover_incoming(&mut self, e: Error) -> Result<()> {
        let unacked = self.recovery.clone();
        self.recover_fully(e, Side::Incoming, async move |m: &mut I, e| {
            let forgotten = m.forget();
            if let Some(c) = &unacked {
                c.unacked.fetch_add(forgotten, Relaxed);
            }
            m.recover(e).await
        })
        .await
    }
}

impl<O: Outgoing> Recovering<O> {
    /// The outgoing side's recovery: the module puts again what was not confirmed.
    async fn recover_outgoing(&mut self, e: Error) -> Result<()> {
        self.recover_fully(e, Side::Outgoing, async |m: &mut O, e| m.recover(e).await)
            .await
    }
}

impl<I: Incoming> Incoming for Recovering<I> {
    async fn start(&mut self) -> Result<()> {
        self.module.start().await
    }

    async fn get(&mut self) -> Result<Got> {
        loop {
            match self.module.get().await {
                Err(e) if self.recoverable(&e, Side::Incoming) => self.recover_incoming(e).await?,
                r => return r,
            }
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        match self.module.ack(token).await {
            Err(e) if self.recoverable(&e, Side::Incoming) => self.recover_incoming(e).await,
            r => r,
        }
    }

    async fn idle(&mut self) -> Result<()> {
        match self.module.idle().await {
            Err(e) if self.recoverable(&e, Side::Incoming) => self.recover_incoming(e).await,
            r => r,
        }
    }

    async fn stop(&mut self) -> Result<()> {
        self.module.stop().await
    }

    fn origin(&self, token: Token) -> Option<String> {
        self.module.origin(token)
    }

    fn element(&self, token: Token) -> Option<String> {
        self.module.element(token)
    }

    fn has_ready(&self) -> bool {
        self.module.has_ready()
    }

    fn acks_before_waiting(&self) -> bool {
        self.module.acks_before_waiting()
    }
}

impl<O: Outgoing> Outgoing for Recovering<O> {
    async fn start(&mut self) -> Result<()> {
        self.module.start().await
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        match self.module.put(msg, token).await {
            Err(e) if self.recoverable(&e, Side::Outgoing) => self.recover_outgoing(e).await,
            r => r,
        }
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        match self.module.confirmed(out, wait).await {
            Err(e) if self.recoverable(&e, Side::Outgoing) => self.recover_outgoing(e).await,
            r => r,
        }
    }

    fn pending(&self) -> usize {
        self.module.pending()
    }

    async fn ready(&mut self) {
        self.module.ready().await
    }

    async fn flush(&mut self) -> Result<()> {
        match self.module.flush().await {
            Err(e) if self.recoverable(&e, Side::Outgoing) => self.recover_outgoing(e).await,
            r => r,
        }
    }

    async fn idle(&mut self) -> Result<()> {
        match self.module.idle().await {
            Err(e) if self.recoverable(&e, Side::Outgoing) => self.recover_outgoing(e).await,
            r => r,
        }
    }

    async fn stop(&mut self) -> Result<()> {
        self.module.stop().await
    }
}
