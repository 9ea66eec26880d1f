//! Fake incoming and outgoing modules driven by a seeded random schedule: they deliver,
//! confirm out of order, stall, lose the connection mid-window and refuse the Nth put, and
//! write everything the engine does into one ledger that the tests check afterwards. Every
//! rule of at-least-once that can be checked at the moment it is broken (an acknowledgement
//! before its confirmation, a token acknowledged twice) panics there.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use message::Message;
pub use message::generator::Rng;
use transfer::{Error, ErrorKind, Got, Incoming, Outgoing, Recovered, Result, Token};

/// How often each fault happens (probabilities per call).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// `get` answers idle (a stall).
    pub idle: f64,
    /// A call of the incoming module finds its connection lost.
    pub in_lost: f64,
    /// A call of the outgoing module finds its connection lost.
    pub out_lost: f64,
    /// A lost outgoing connection had already delivered each unconfirmed message.
    pub delivered_unconfirmed: f64,
    /// A recovery fails once more (the new connection lost at once).
    pub recover_fails: f64,
    /// Each unconfirmed message is confirmed by a `confirmed` call.
    pub confirm: f64,
    /// The put with this number (1-based) is refused by the broker: final.
    pub refuse_put: Option<u64>,
    /// The put with this number is refused as a message (too large, say) at once.
    pub bad_put: Option<u64>,
    /// The put with this number is taken, then refused as a message by a later call (a
    /// batch sent later), naming its token.
    pub bad_later: Option<u64>,
}

/// Everything that happened, for the tests' checks.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Source: message ids not delivered yet (or to be delivered again).
    pub source: VecDeque<u32>,
    /// Source: delivered and not acknowledged, by token.
    pub delivered: BTreeMap<u64, u32>,
    /// Source: tokens of a connection that was lost (their acks are ignored).
    pub stale: HashSet<u64>,
    /// Source: tokens acknowledged.
    pub acked: HashSet<u64>,
    /// Source: message ids acknowledged.
    pub acked_ids: HashSet<u32>,
    /// Destination: tokens confirmed to the engine.
    pub confirmed: HashSet<u64>,
    /// Destination: tokens of messages refused as they are (`Faults::bad_put`, `bad_later`).
    pub refused: HashSet<u64>,
    /// Destination: every message stored, duplicates included.
    pub stored: Vec<u32>,
    /// The incoming module was stopped, with this many deliveries still unacknowledged.
    pub stopped_with: Option<usize>,
    /// What the modules reported to `Recovering`: deliveries forgotten, messages resent,
    /// reconnections that held.
    pub forgotten: u64,
    pub resent: u64,
    pub reconnects: u64,
    /// Puts made, refused included.
    pub puts: u64,
}

impl Ledger {
    /// A source of `n` messages, ids 0..n.
    pub fn new(n: u32) -> Shared {
        Rc::new(RefCell::new(Ledger {
            source: (0..n).collect(),
            ..Ledger::default()
        }))
    }

    /// Messages stored more than once.
    pub fn duplicates(&self) -> usize {
        let unique: HashSet<u32> = self.stored.iter().copied().collect();
        self.stored.len() - unique.len()
    }

    /// Message ids never stored.
    pub fn lost(&self, n: u32) -> Vec<u32> {
        let unique: HashSet<u32> = self.stored.iter().copied().collect();
        (0..n).filter(|id| !unique.contains(id)).collect()
    }
}

pub type Shared = Rc<RefCell<Ledger>>;

fn lost(side: &str) -> Error {
    Error::new(ErrorKind::Protocol, format!("{side} connection lost"))
}

/// A broker subscription or a queue: delivers the ledger's source, redelivers what a lost
/// connection left unacknowledged.
pub struct FakeIncoming {
    pub ledger: Shared,
    rng: Rng,
    faults: Faults,
    next: u64,
    /// `get` says End once the source is empty (a queue); otherwise Idle (a broker).
    pub ends: bool,
    /// Sets this flag once this many messages were delivered (INT/TERM mid-window).
    pub stop_after: Option<(u64, transfer::StopFlag)>,
    handed: u64,
}

impl FakeIncoming {
    pub fn new(ledger: Shared, seed: u64, faults: Faults) -> Self {
        FakeIncoming {
            ledger,
            rng: Rng::new(seed),
            faults,
            next: 1,
            ends: true,
            stop_after: None,
            handed: 0,
        }
    }

    fn maybe_lost(&mut self) -> Result<()> {
        if self.rng.chance(self.faults.in_lost) {
            return Err(lost("incoming"));
        }
        Ok(())
    }
}

impl Incoming for FakeIncoming {
    async fn start(&mut self) -> Result<()> {
        Ok(())
    }

    async fn get(&mut self) -> Result<Got> {
        self.maybe_lost()?;
        if self.rng.chance(self.faults.idle) {
            return Ok(Got::Idle);
        }
        let mut l = self.ledger.borrow_mut();
        let Some(id) = l.source.pop_front() else {
            return Ok(if self.ends && l.delivered.is_empty() {
                Got::End
            } else {
                Got::Idle
            });
        };
        let token = self.next;
        self.next += 1;
        l.delivered.insert(token, id);
        self.handed += 1;
        if let Some((n, flag)) = &self.stop_after
            && self.handed >= *n
        {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let m = Message::text(format!("message {id}")).with_header("id", id.to_string());
        Ok(Got::Message(m, Token(token)))
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        {
            let l = self.ledger.borrow();
            assert!(
                l.confirmed.contains(&token.0) || l.refused.contains(&token.0),
                "token {} acknowledged before its destination confirmed (or refused) it",
                token.0
            );
            assert!(!l.acked.contains(&token.0), "token {} acked twice", token.0);
            if l.stale.contains(&token.0) {
                // a delivery of a lost connection: the broker delivers it again
                return Ok(());
            }
        }
        // the ACK may be lost with the connection: the broker then delivers it again
        self.maybe_lost()?;
        let mut l = self.ledger.borrow_mut();
        let id = l
            .delivered
            .remove(&token.0)
            .unwrap_or_else(|| panic!("token {} acknowledged, never delivered", token.0));
        l.acked.insert(token.0);
        l.acked_ids.insert(id);
        Ok(())
    }

    async fn idle(&mut self) -> Result<()> {
        self.maybe_lost()
    }

    async fn stop(&mut self) -> Result<()> {
        let mut l = self.ledger.borrow_mut();
        l.stopped_with = Some(l.delivered.len());
        // what was not acknowledged goes back to the source (a broker redelivers, a queue
        // unlocks)
        let back: Vec<(u64, u32)> = std::mem::take(&mut l.delivered).into_iter().collect();
        for (_, id) in back.into_iter().rev() {
            l.source.push_front(id);
        }
        Ok(())
    }

    fn forget(&mut self) -> u64 {
        let mut l = self.ledger.borrow_mut();
        let back: Vec<(u64, u32)> = std::mem::take(&mut l.delivered).into_iter().collect();
        let n = back.len() as u64;
        for (token, id) in back.into_iter().rev() {
            l.stale.insert(token);
            l.source.push_front(id);
        }
        l.forgotten += n;
        n
    }

    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        if self.rng.chance(self.faults.recover_fails) {
            return Err(lost("incoming"));
        }
        self.ledger.borrow_mut().reconnects += 1;
        Ok(Recovered {
            peer: "fake-in:1".into(),
            resent: 0,
        })
    }
}

/// A broker that stores what it confirms, confirms out of order, and may lose the
/// connection with messages in flight (having stored some of them: duplicates later).
pub struct FakeOutgoing {
    pub ledger: Shared,
    rng: Rng,
    faults: Faults,
    /// Put and not confirmed: (token, id).
    in_flight: Vec<(u64, u32)>,
    /// Put, to be refused by the next `confirmed` (`Faults::bad_later`).
    refuse_later: Option<u64>,
    /// Confirms nothing at all (a stalled broker).
    pub stalled: bool,
    /// The next call finds the connection lost.
    pub lose_next: Rc<Cell<bool>>,
}

impl FakeOutgoing {
    pub fn new(ledger: Shared, seed: u64, faults: Faults) -> Self {
        FakeOutgoing {
            ledger,
            rng: Rng::new(seed ^ 0x5555),
            faults,
            in_flight: Vec::new(),
            refuse_later: None,
            stalled: false,
            lose_next: Rc::default(),
        }
    }

    /// The connection is lost: some unconfirmed messages had reached the broker.
    fn lose(&mut self) -> Error {
        for (_, id) in self.in_flight.clone() {
            if self.rng.chance(self.faults.delivered_unconfirmed) {
                self.ledger.borrow_mut().stored.push(id);
            }
        }
        lost("outgoing")
    }
}

fn id_of(msg: &Message) -> u32 {
    msg.header["id"].parse().expect("id header")
}

impl Outgoing for FakeOutgoing {
    async fn start(&mut self) -> Result<()> {
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let n = {
            let mut l = self.ledger.borrow_mut();
            l.puts += 1;
            l.puts
        };
        if self.faults.refuse_put == Some(n) {
            return Err(Error::new(ErrorKind::Broker, format!("put {n} refused")));
        }
        if self.faults.bad_put == Some(n) {
            self.ledger.borrow_mut().refused.insert(token.0);
            return Err(Error::new(
                ErrorKind::BadMessage,
                format!("put {n} too large"),
            ));
        }
        if self.faults.bad_later == Some(n) {
            self.ledger.borrow_mut().refused.insert(token.0);
            self.refuse_later = Some(token.0);
            return Ok(());
        }
        // kept before it is written: a module that recovers sends it again
        self.in_flight.push((token.0, id_of(msg)));
        if self.lose_next.replace(false) || self.rng.chance(self.faults.out_lost) {
            return Err(self.lose());
        }
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, _wait: Duration) -> Result<()> {
        if let Some(t) = self.refuse_later.take() {
            return Err(Error::new(ErrorKind::BadMessage, "refused in its batch").about(Token(t)));
        }
        if self.lose_next.replace(false) || self.rng.chance(self.faults.out_lost) {
            return Err(self.lose());
        }
        if self.stalled {
            tokio::task::yield_now().await;
            return Ok(());
        }
        let mut keep = Vec::new();
        for (token, id) in std::mem::take(&mut self.in_flight) {
            if self.rng.chance(self.faults.confirm) {
                let mut l = self.ledger.borrow_mut();
                l.stored.push(id);
                l.confirmed.insert(token);
                out.push(Token(token));
            } else {
                keep.push((token, id));
            }
        }
        // out of order: the broker's confirmations need not follow the puts
        for i in (1..out.len()).rev() {
            let j = self.rng.below(i + 1);
            out.swap(i, j);
        }
        self.in_flight = keep;
        Ok(())
    }

    fn pending(&self) -> usize {
        self.in_flight.len() + usize::from(self.refuse_later.is_some())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    async fn recover(&mut self, _: Error) -> Result<Recovered> {
        if self.rng.chance(self.faults.recover_fails) {
            // lost again before anything was sent again
            return Err(lost("outgoing"));
        }
        let mut l = self.ledger.borrow_mut();
        l.reconnects += 1;
        // every unconfirmed message goes again; the same tokens confirm them
        l.resent += self.in_flight.len() as u64;
        Ok(Recovered {
            peer: "fake-out:1".into(),
            resent: self.in_flight.len() as u64,
        })
    }
}
