//! The transfer engine: moves messages from one incoming module (a broker subscription or
//! a directory queue) to one outgoing module (a broker or a directory queue), with
//! at-least-once delivery. It knows no protocol, and no process: stompclt and amqpclt implement
//! [`Incoming`] and [`Outgoing`] for their brokers; the queue modules live here.
//!
//! A source is acknowledged (a broker ACK, or the queue element removed) only once the
//! destination confirmed the message (a broker receipt or accepted outcome, or a completed
//! queue add). Stop conditions, the window, linger and statistics live here once; the
//! pidfile, signals, daemon and logging of a process live in the agent shell (`agent`).
//! Warnings (a duplicate acknowledgement) go through the `log` facade, which the shell
//! routes to standard error or syslog: a library prints nothing itself.

mod engine;
mod error;
pub mod filter;
mod queue;
mod readahead;
mod stats;

pub use engine::{Engine, Settings, StopFlag};
pub use error::{Error, ErrorKind, Result};
pub use queue::{QueueIncoming, QueueIncomingOptions, QueueOutgoing};
pub use stats::{Meter, Recovery, SideState, Stats};

use message::Message;

/// An opaque handle with which the incoming module acknowledges a message later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

/// What the incoming module has for the engine.
#[derive(Debug)]
pub enum Got {
    /// A message, to be acknowledged with its token once the destination confirmed it.
    Message(Message, Token),
    /// Nothing arrived for a while (about a second).
    Idle,
    /// The source is exhausted (a queue read to its end without `--loop`).
    End,
}

/// The source of messages.
#[allow(async_fn_in_trait)]
pub trait Incoming {
    /// Connects or opens.
    async fn start(&mut self) -> Result<()>;
    /// The next message, or idle after about a second, or the end.
    async fn get(&mut self) -> Result<Got>;
    /// The destination confirmed (or a filter dropped) the message of this token.
    async fn ack(&mut self, token: Token) -> Result<()>;
    /// Called when there was nothing to do (heart-beats, periodic purge).
    async fn idle(&mut self) -> Result<()>;
    /// Disconnects or closes; messages not acknowledged go back to the source.
    async fn stop(&mut self) -> Result<()>;
    /// After a lost connection, with `--reconnect`: connect again (see [`Recovering`]); the
    /// default gives the error back.
    async fn recover(&mut self, e: Error) -> Result<()> {
        Err(e)
    }
    /// Where the message of this token (or the last one handed out) came from, for error
    /// messages: a queue element's path; `None` for a broker.
    fn origin(&self, _token: Token) -> Option<String> {
        None
    }
    /// Whether [`Incoming::get`] has a message without waiting (an incoming queue's
    /// read-ahead); when it may wait, the engine first lets the outgoing module write what
    /// it holds ([`Outgoing::flush`]). Default: it may wait.
    fn has_ready(&self) -> bool {
        false
    }
}

/// The destination of messages.
#[allow(async_fn_in_trait)]
pub trait Outgoing {
    /// Connects or opens.
    async fn start(&mut self) -> Result<()>;
    /// Hands a message on; `token` comes back from [`Outgoing::confirmed`] once the
    /// destination has it.
    async fn put(&mut self, msg: &Message, token: Token) -> Result<()>;
    /// Moves the tokens confirmed since the last call into `out`, waiting at most `wait`
    /// for the first one when none is ready.
    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: std::time::Duration) -> Result<()>;
    /// How many messages were put and are not confirmed yet.
    fn pending(&self) -> usize;
    /// Resolves when [`Outgoing::confirmed`] may have something new, for the engine to race
    /// against a waiting [`Incoming::get`] (a broker → broker run whose confirmations would
    /// otherwise wait for the incoming side's idle second). Must be cancel-safe. Default:
    /// never (confirmations are then looked for after each message and each idle turn).
    async fn ready(&mut self) {
        std::future::pending::<()>().await
    }
    /// Called when the engine waits (nothing came in, the window is full, linger): time to
    /// ask for confirmations that batching held back.
    async fn idle(&mut self) -> Result<()> {
        Ok(())
    }
    /// Writes what `put` held back to send several messages in one write: called when the
    /// incoming module may have to wait for the next message. Default: nothing held.
    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    /// Disconnects or closes.
    async fn stop(&mut self) -> Result<()>;
    /// After a lost connection, with `--reconnect`: connect again and put again what was
    /// not confirmed (see [`Recovering`]); the default gives the error back.
    async fn recover(&mut self, e: Error) -> Result<()> {
        Err(e)
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
    meter: Option<std::sync::Arc<Meter>>,
}

impl<M> Recovering<M> {
    /// Wraps a module; `enabled`: `--reconnect`.
    pub fn new(module: M, enabled: bool) -> Self {
        Recovering {
            module,
            enabled,
            meter: None,
        }
    }

    /// Counts the errors ridden through and shows the side reconnecting in this meter.
    pub fn with_meter(mut self, meter: std::sync::Arc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    fn recoverable(&self, e: &Error, side: &str) -> bool {
        let yes = self.enabled && e.kind == ErrorKind::Protocol;
        if yes {
            log::warn!("{side} broker: {e}; reconnecting");
            if let Some(m) = &self.meter {
                m.error(e.kind);
                m.set_state(side == "outgoing", SideState::Reconnecting);
            }
        }
        yes
    }

    /// Recovers until a recovery holds: a connection lost again while recovering (a cluster
    /// node that accepts, then drops us while its queues move) is recovered again, after a
    /// pause that grows to 5 s. Errors that are not a lost connection end it (the module's
    /// connection loop gives up with one after its attempts, or at INT/TERM).
    async fn recover_fully(
        &mut self,
        e: Error,
        side: &str,
        recover: impl AsyncFn(&mut M, Error) -> Result<()>,
    ) -> Result<()> {
        let mut e = e;
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            match recover(&mut self.module, e).await {
                Err(again) if self.recoverable(&again, side) => {
                    e = again;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(5));
                }
                r => {
                    if let (Ok(()), Some(m)) = (&r, &self.meter) {
                        m.set_state(side == "outgoing", SideState::Up);
                    }
                    return r;
                }
            }
        }
    }
}

impl<I: Incoming> Incoming for Recovering<I> {
    async fn start(&mut self) -> Result<()> {
        self.module.start().await
    }

    async fn get(&mut self) -> Result<Got> {
        loop {
            match self.module.get().await {
                Err(e) if self.recoverable(&e, "incoming") => {
                    self.recover_fully(e, "incoming", async |m: &mut I, e| m.recover(e).await)
                        .await?
                }
                r => return r,
            }
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        match self.module.ack(token).await {
            Err(e) if self.recoverable(&e, "incoming") => {
                self.recover_fully(e, "incoming", async |m: &mut I, e| m.recover(e).await)
                    .await
            }
            r => r,
        }
    }

    async fn idle(&mut self) -> Result<()> {
        match self.module.idle().await {
            Err(e) if self.recoverable(&e, "incoming") => {
                self.recover_fully(e, "incoming", async |m: &mut I, e| m.recover(e).await)
                    .await
            }
            r => r,
        }
    }

    async fn stop(&mut self) -> Result<()> {
        self.module.stop().await
    }

    fn origin(&self, token: Token) -> Option<String> {
        self.module.origin(token)
    }

    fn has_ready(&self) -> bool {
        self.module.has_ready()
    }
}

impl<O: Outgoing> Outgoing for Recovering<O> {
    async fn start(&mut self) -> Result<()> {
        self.module.start().await
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        match self.module.put(msg, token).await {
            Err(e) if self.recoverable(&e, "outgoing") => {
                self.recover_fully(e, "outgoing", async |m: &mut O, e| m.recover(e).await)
                    .await
            }
            r => r,
        }
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: std::time::Duration) -> Result<()> {
        match self.module.confirmed(out, wait).await {
            Err(e) if self.recoverable(&e, "outgoing") => {
                self.recover_fully(e, "outgoing", async |m: &mut O, e| m.recover(e).await)
                    .await
            }
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
            Err(e) if self.recoverable(&e, "outgoing") => {
                self.recover_fully(e, "outgoing", async |m: &mut O, e| m.recover(e).await)
                    .await
            }
            r => r,
        }
    }

    async fn idle(&mut self) -> Result<()> {
        match self.module.idle().await {
            Err(e) if self.recoverable(&e, "outgoing") => {
                self.recover_fully(e, "outgoing", async |m: &mut O, e| m.recover(e).await)
                    .await
            }
            r => r,
        }
    }

    async fn stop(&mut self) -> Result<()> {
        self.module.stop().await
    }
}
