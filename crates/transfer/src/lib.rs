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

pub mod dedup;
mod engine;
mod error;
pub mod filter;
mod queue;
mod readahead;
mod recovering;
mod stats;

pub use engine::{Engine, REJECT_REASON, Settings, StopFlag};
pub use error::{Cause, Error, ErrorKind, Result};
pub use queue::{Quarantine, QueueIncoming, QueueIncomingOptions, QueueOutgoing};
pub use recovering::{Recovered, Recovering};
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
    /// After a lost connection, with `--reconnect`, before [`Incoming::recover`]: drops what
    /// the old connection held and returns how many deliveries were received and not known
    /// to be acknowledged (the broker delivers them again: possible duplicates). Their old
    /// tokens are forgotten, so late confirmations of them are ignored. Default: none.
    fn forget(&mut self) -> u64 {
        0
    }
    /// After [`Incoming::forget`]: connects and subscribes again and says to whom (see
    /// [`Recovering`], which counts and reports it); the default gives the error back.
    async fn recover(&mut self, e: Error) -> Result<Recovered> {
        Err(e)
    }
    /// Where the message of this token (or the last one handed out) came from, for error
    /// messages: a queue element's path; `None` for a broker.
    fn origin(&self, _token: Token) -> Option<String> {
        None
    }
    /// The queue element a message came from, as a stable name (the queue's canonical
    /// path and the element's name), for `--dedup` ids; `None` for a broker.
    fn element(&self, _token: Token) -> Option<String> {
        None
    }
    /// Whether [`Incoming::get`] has a message without waiting (an incoming queue's
    /// read-ahead); when it may wait, the engine first lets the outgoing module write what
    /// it holds ([`Outgoing::flush`]). Default: it may wait.
    fn has_ready(&self) -> bool {
        false
    }
    /// Whether, before [`Incoming::get`] waits, the acknowledgements of what the outgoing
    /// module has just confirmed should be given first: a source that asks its peer for
    /// more only after acknowledging (a pull) would otherwise acknowledge a request late.
    /// Default: no (the acknowledgements go with the next turn, in fewer writes).
    fn acks_before_waiting(&self) -> bool {
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
    /// After a lost connection, with `--reconnect`: connects again, puts again what was not
    /// confirmed, in order, and says to whom and how many (see [`Recovering`], which counts
    /// and reports it); the default gives the error back.
    async fn recover(&mut self, e: Error) -> Result<Recovered> {
        Err(e)
    }
}
