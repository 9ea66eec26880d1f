//! `all:` broker lists with fake brokers (no network, seconds to run): consume from all keeps
//! each broker's acknowledgements to that broker while brokers fail and come back; produce
//! to any gets every message confirmed by some broker while brokers fail, and acknowledges
//! the source only after that.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use agent::Failover;
use agent::multi::{AllIncoming, AnyOutgoing, Board, Shared};
use message::Message;
use message::generator::Rng;
use transfer::{
    Engine, Error, ErrorKind, Got, Incoming, Outgoing, Recovery, Result, Settings, Token,
};

/// One fake broker's queue, shared by the modules built for it one after another.
#[derive(Default)]
struct Queue {
    ready: VecDeque<u32>,
    /// Delivered on the current connection, not acknowledged: token → id.
    unacked: BTreeMap<u64, u32>,
    next_token: u64,
    /// Ids acknowledged.
    acked: Vec<u32>,
}

struct World {
    queues: Vec<Queue>,
    /// Every message the destination stored (duplicates included).
    stored: Vec<u32>,
    /// Produce to any: tokens some broker confirmed.
    confirmed: HashSet<u64>,
    rng: Rng,
    /// The engine's stop flag: consume from all sets it once every queue is drained, so
    /// that the run's end depends on no clock (a loaded machine may pause the test longer
    /// than any inactivity timeout).
    stop: Arc<AtomicBool>,
}

type W = Rc<RefCell<World>>;

fn shared() -> (Shared, Arc<Recovery>) {
    // the brokers' comings and goings are warnings: not for the test's output
    agent::log::set_quiet(true);
    let recovery = Arc::new(Recovery::default());
    let s = Shared {
        recovery: recovery.clone(),
        stop: Arc::new(AtomicBool::new(false)),
        board: Arc::new(Board::default()),
        meter: Arc::new(transfer::Meter::default()),
    };
    (s, recovery)
}

fn policy() -> Failover {
    Failover {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        randomize: false,
        ..Failover::default()
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn lost() -> Error {
    Error::new(ErrorKind::Protocol, "connection lost")
}

/// A subscription on broker `b`: delivers its queue; a lost connection (at random) makes
/// the broker deliver again what was not acknowledged, to the next module.
struct Sub {
    w: W,
    b: usize,
    fail: f64,
}

impl Incoming for Sub {
    async fn start(&mut self) -> Result<()> {
        let mut w = self.w.borrow_mut();
        let q = &mut w.queues[self.b];
        // a new connection: what the last one left unacknowledged comes again
        let back: Vec<u32> = std::mem::take(&mut q.unacked).into_values().collect();
        for id in back.into_iter().rev() {
            q.ready.push_front(id);
        }
        Ok(())
    }

    async fn get(&mut self) -> Result<Got> {
        let mut w = self.w.borrow_mut();
        if w.rng.chance(self.fail) {
            return Err(lost());
        }
        let q = &mut w.queues[self.b];
        let Some(id) = q.ready.pop_front() else {
            return Ok(Got::Idle);
        };
        q.next_token += 1;
        let t = q.next_token;
        q.unacked.insert(t, id);
        let m = Message::text(format!("{id}")).with_header("broker", self.b.to_string());
        Ok(Got::Message(m, Token(t)))
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        let mut w = self.w.borrow_mut();
        let q = &mut w.queues[self.b];
        let id = q.unacked.remove(&token.0).unwrap_or_else(|| {
            panic!(
                "broker {}: token {} not delivered by it on this connection",
                self.b, token.0
            )
        });
        q.acked.push(id);
        Ok(())
    }

    async fn idle(&mut self) -> Result<()> {
        {
            let w = self.w.borrow();
            if w.queues
                .iter()
                .all(|q| q.ready.is_empty() && q.unacked.is_empty())
            {
                w.stop.store(true, Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A spool: stores and confirms at once.
#[derive(Default)]
struct Spool {
    w: Option<W>,
    pending: Vec<Token>,
}

impl Outgoing for Spool {
    async fn start(&mut self) -> Result<()> {
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let id = String::from_utf8_lossy(msg.body.as_bytes())
            .parse()
            .expect("id");
        if let Some(w) = &self.w {
            w.borrow_mut().stored.push(id);
        }
        self.pending.push(token);
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, _: Duration) -> Result<()> {
        out.append(&mut self.pending);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

fn world(brokers: usize, each: u32, seed: u64) -> W {
    let queues = (0..brokers)
        .map(|b| Queue {
            ready: (0..each).map(|i| b as u32 * 100_000 + i).collect(),
            ..Queue::default()
        })
        .collect();
    Rc::new(RefCell::new(World {
        queues,
        stored: Vec::new(),
        confirmed: HashSet::new(),
        rng: Rng::new(seed),
        stop: Arc::new(AtomicBool::new(false)),
    }))
}

/// The runs end by themselves (drained, or the source's end); the inactivity timeout only
/// ends a run that hangs, which then fails its checks.
fn settings() -> Settings {
    Settings {
        timeout_inactivity: Some(Duration::from_secs(20)),
        window: Some(20),
        ..Settings::default()
    }
}

/// Consume from all over `brokers` subscriptions of `w`, each losing its connection with
/// chance `fail` at each get.
fn all(w: &W, brokers: usize, fail: f64, sh: Shared) -> AllIncoming<'static, Sub> {
    let w = w.clone();
    let factory = Box::new(move |b: usize| {
        Ok(Sub {
            w: w.clone(),
            b,
            fail,
        })
    });
    let peers = (0..brokers).map(|b| format!("broker{b}:1")).collect();
    AllIncoming::new(peers, factory, policy(), sh).expect("all")
}

#[test]
fn consume_from_all_acknowledges_each_message_to_its_broker_through_failures() {
    for seed in 1..=4 {
        let w = world(3, 300, seed);
        let (sh, recovery) = shared();
        let mut inc = all(&w, 3, 0.01, sh);
        let mut out = Spool {
            w: Some(w.clone()),
            pending: Vec::new(),
        };
        let stop = w.borrow().stop.clone();
        block_on(Engine::new(settings(), stop).run(&mut inc, &mut out)).expect("run");
        let w = w.borrow();
        let stored: HashSet<u32> = w.stored.iter().copied().collect();
        for (b, q) in w.queues.iter().enumerate() {
            assert!(
                q.ready.is_empty() && q.unacked.is_empty(),
                "seed {seed}: broker {b} not drained"
            );
            let acked: HashSet<u32> = q.acked.iter().copied().collect();
            assert_eq!(acked.len(), 300, "seed {seed}: broker {b}");
            // each broker's own messages, and only those
            assert!(
                acked.iter().all(|id| id / 100_000 == b as u32),
                "seed {seed}: broker {b}"
            );
            assert!(
                acked.is_subset(&stored),
                "seed {seed}: acknowledged, not stored"
            );
        }
        let dups = w.stored.len() - stored.len();
        let counted = recovery.unacked.load(Relaxed) as usize;
        assert!(
            dups <= counted,
            "seed {seed}: {dups} duplicates, {counted} counted"
        );
    }
}

/// A broker of produce to any: confirms some of what it holds on each call, and loses its
/// connection at random (what it held unconfirmed is then another broker's to take).
struct Broker {
    w: W,
    held: Vec<(Token, u32)>,
    fail: f64,
}

impl Outgoing for Broker {
    async fn start(&mut self) -> Result<()> {
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        if self.w.borrow_mut().rng.chance(self.fail) {
            return Err(lost());
        }
        let id = String::from_utf8_lossy(msg.body.as_bytes())
            .parse()
            .expect("id");
        self.held.push((token, id));
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, _: Duration) -> Result<()> {
        let mut w = self.w.borrow_mut();
        if w.rng.chance(self.fail) {
            return Err(lost());
        }
        let mut keep = Vec::new();
        for (t, id) in std::mem::take(&mut self.held) {
            if w.rng.chance(0.5) {
                w.stored.push(id);
                w.confirmed.insert(t.0);
                out.push(t);
            } else {
                keep.push((t, id));
            }
        }
        self.held = keep;
        Ok(())
    }

    fn pending(&self) -> usize {
        self.held.len()
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A spool read to its end: acknowledging a token the destination did not confirm fails.
struct Source {
    w: W,
    left: VecDeque<u32>,
    unacked: HashSet<u64>,
}

impl Incoming for Source {
    async fn start(&mut self) -> Result<()> {
        Ok(())
    }

    async fn get(&mut self) -> Result<Got> {
        Ok(match self.left.pop_front() {
            Some(id) => {
                self.unacked.insert(u64::from(id) + 1);
                Got::Message(Message::text(format!("{id}")), Token(u64::from(id) + 1))
            }
            None if self.unacked.is_empty() => Got::End,
            None => Got::Idle,
        })
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        assert!(
            self.w.borrow().confirmed.contains(&token.0),
            "token {} acknowledged before a broker confirmed it",
            token.0
        );
        assert!(
            self.unacked.remove(&token.0),
            "token {} acked twice",
            token.0
        );
        Ok(())
    }

    async fn idle(&mut self) -> Result<()> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[test]
fn produce_to_any_gets_everything_confirmed_through_failures() {
    for seed in 1..=8 {
        let w = world(0, 0, seed);
        let (sh, recovery) = shared();
        let fw = w.clone();
        let factory = Box::new(move |_: usize| {
            Ok(Broker {
                w: fw.clone(),
                held: Vec::new(),
                fail: 0.02,
            })
        });
        let peers = (0..3).map(|b| format!("broker{b}:1")).collect();
        let mut out = AnyOutgoing::new(peers, factory, policy(), sh).expect("any");
        let mut inc = Source {
            w: w.clone(),
            left: (0..1000).collect(),
            unacked: HashSet::new(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        block_on(Engine::new(settings(), stop).run(&mut inc, &mut out)).expect("run");
        assert!(inc.unacked.is_empty(), "seed {seed}: left unacknowledged");
        let w = w.borrow();
        let stored: HashSet<u32> = w.stored.iter().copied().collect();
        assert_eq!(stored.len(), 1000, "seed {seed}: not all confirmed");
        let dups = w.stored.len() - stored.len();
        let counted = recovery.resent.load(Relaxed) as usize;
        assert!(
            dups <= counted,
            "seed {seed}: {dups} duplicates, {counted} sent again"
        );
        assert!(
            recovery.reconnects.load(Relaxed) > 0,
            "seed {seed}: no broker failed"
        );
    }
}

#[test]
fn an_idle_broker_does_not_hide_anothers_messages() {
    use transfer::Incoming as _;
    let w = world(2, 10, 1);
    w.borrow_mut().queues[0].ready.clear();
    let mut inc = all(&w, 2, 0.0, shared().0);
    block_on(async {
        inc.start().await.expect("start");
        for n in 0..10 {
            match inc.get().await.expect("get") {
                Got::Message(..) => {}
                _ => panic!("message {n}: idle while broker 1 had messages"),
            }
        }
        assert!(matches!(inc.get().await.expect("get"), Got::Idle));
    });
}
