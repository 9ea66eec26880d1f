//! The broker module of each side: AMQP 1.0 (`amqp1`), AMQP 0-9-1 (`pika`, `kombu`), or,
//! when none is named, AMQP 0-9-1 wherever the broker speaks it (as the reference, whose
//! configurations name no module) and AMQP 1.0 with a broker that answers only AMQP 1.0
//! (Artemis, Qpid Dispatch Router, the Qpid Proton broker, Azure Service Bus).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use message::Message;
use transfer::{Error, Got, Incoming, Outgoing, Recovered, Result, Token};

use crate::amqp091::{Amqp091Incoming, Amqp091Outgoing};
use crate::broker::{AmqpIncoming as Amqp1Incoming, AmqpOutgoing as Amqp1Outgoing};

/// Which AMQP a side speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// AMQP 0-9-1 where the broker speaks it, else AMQP 1.0.
    Auto,
    /// AMQP 0-9-1 (`pika`, `kombu`).
    Amqp091,
    /// AMQP 1.0 (`amqp1`).
    Amqp1,
}

impl Choice {
    /// The module an option names (checked by clap's value list).
    pub fn named(module: Option<&str>) -> Choice {
        match module {
            None => Choice::Auto,
            Some("amqp1") => Choice::Amqp1,
            Some(_) => Choice::Amqp091,
        }
    }
}

/// AMQP 0-9-1 first: whether the broker answered with AMQP 1.0's header instead.
fn falls_back(e: &Error, speaks_amqp1: &AtomicBool) -> bool {
    let yes = speaks_amqp1.load(Ordering::Relaxed);
    if yes {
        agent::log::debug(1, format_args!("{e}; speaking AMQP 1.0 instead"));
    }
    yes
}

/// The incoming module of either protocol.
pub enum ModuleIncoming {
    /// AMQP 1.0.
    Amqp1(Box<Amqp1Incoming>),
    /// AMQP 0-9-1.
    Amqp091(Box<Amqp091Incoming>),
    /// Not decided until the broker answers.
    Auto(Box<(Amqp091Incoming, Amqp1Incoming)>, Arc<AtomicBool>),
    /// Only while deciding.
    Deciding,
}

/// The outgoing module of either protocol.
pub enum ModuleOutgoing {
    /// AMQP 1.0.
    Amqp1(Box<Amqp1Outgoing>),
    /// AMQP 0-9-1.
    Amqp091(Box<Amqp091Outgoing>),
    /// Not decided until the broker answers.
    Auto(Box<(Amqp091Outgoing, Amqp1Outgoing)>, Arc<AtomicBool>),
    /// Only while deciding.
    Deciding,
}

fn undecided() -> Error {
    Error::new(
        transfer::ErrorKind::Protocol,
        "the broker module is not started",
    )
}

macro_rules! each {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            Self::Amqp1($m) => $e,
            Self::Amqp091($m) => $e,
            _ => Err(undecided()),
        }
    };
}

impl Incoming for ModuleIncoming {
    async fn start(&mut self) -> Result<()> {
        let Self::Auto(..) = self else {
            return each!(self, m => m.start().await);
        };
        let Self::Auto(both, flag) = std::mem::replace(self, Self::Deciding) else {
            return Err(undecided());
        };
        let (mut old, new) = *both;
        match old.start().await {
            Ok(()) => {
                *self = Self::Amqp091(Box::new(old));
                Ok(())
            }
            Err(e) if falls_back(&e, &flag) => {
                *self = Self::Amqp1(Box::new(new));
                each!(self, m => m.start().await)
            }
            Err(e) => {
                // undecided still: a broker down now is asked again when it is back
                *self = Self::Auto(Box::new((old, new)), flag);
                Err(e)
            }
        }
    }

    async fn get(&mut self) -> Result<Got> {
        each!(self, m => m.get().await)
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        each!(self, m => m.ack(token).await)
    }

    async fn idle(&mut self) -> Result<()> {
        each!(self, m => m.idle().await)
    }

    async fn stop(&mut self) -> Result<()> {
        match self {
            Self::Amqp1(m) => m.stop().await,
            Self::Amqp091(m) => m.stop().await,
            _ => Ok(()),
        }
    }

    fn forget(&mut self) -> u64 {
        match self {
            Self::Amqp1(m) => m.forget(),
            Self::Amqp091(m) => m.forget(),
            _ => 0,
        }
    }

    async fn recover(&mut self, e: Error) -> Result<Recovered> {
        match self {
            Self::Amqp1(m) => m.recover(e).await,
            Self::Amqp091(m) => m.recover(e).await,
            _ => Err(e),
        }
    }
}

impl Outgoing for ModuleOutgoing {
    async fn start(&mut self) -> Result<()> {
        let Self::Auto(..) = self else {
            return each!(self, m => m.start().await);
        };
        let Self::Auto(both, flag) = std::mem::replace(self, Self::Deciding) else {
            return Err(undecided());
        };
        let (mut old, new) = *both;
        match old.start().await {
            Ok(()) => {
                *self = Self::Amqp091(Box::new(old));
                Ok(())
            }
            Err(e) if falls_back(&e, &flag) => {
                *self = Self::Amqp1(Box::new(new));
                each!(self, m => m.start().await)
            }
            Err(e) => {
                *self = Self::Auto(Box::new((old, new)), flag);
                Err(e)
            }
        }
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        each!(self, m => m.put(msg, token).await)
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        each!(self, m => m.confirmed(out, wait).await)
    }

    fn pending(&self) -> usize {
        match self {
            Self::Amqp1(m) => m.pending(),
            Self::Amqp091(m) => m.pending(),
            _ => 0,
        }
    }

    async fn ready(&mut self) {
        match self {
            Self::Amqp1(m) => m.ready().await,
            Self::Amqp091(m) => m.ready().await,
            _ => std::future::pending().await,
        }
    }

    async fn idle(&mut self) -> Result<()> {
        each!(self, m => m.idle().await)
    }

    async fn flush(&mut self) -> Result<()> {
        each!(self, m => m.flush().await)
    }

    async fn stop(&mut self) -> Result<()> {
        match self {
            Self::Amqp1(m) => m.stop().await,
            Self::Amqp091(m) => m.stop().await,
            _ => Ok(()),
        }
    }

    async fn recover(&mut self, e: Error) -> Result<Recovered> {
        match self {
            Self::Amqp1(m) => m.recover(e).await,
            Self::Amqp091(m) => m.recover(e).await,
            _ => Err(e),
        }
    }
}
