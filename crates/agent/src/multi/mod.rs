//! `all:` broker lists: several independent brokers used at once, for every protocol.
//! An incoming `all:` consumes from every broker ([`AllIncoming`]); an outgoing one spreads
//! messages over the brokers that are up, round robin ([`AnyOutgoing`]). A broker that is
//! down at start or goes away later is tried again with the list's backoff while the others
//! keep flowing; the run fails only when every broker is gone past `maxReconnectAttempts`.
//!
//! Each broker is one protocol module of its own; a broker that failed gets a new module
//! (its old deliveries are forgotten: the broker delivers them again, counted as possible
//! duplicates; its unconfirmed messages go to another broker, counted too).

mod incoming;
mod outgoing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use transfer::{Error, ErrorKind, Recovery, Result, StopFlag};

use crate::endpoint::{Failover, Side};

pub use incoming::AllIncoming;
pub use outgoing::AnyOutgoing;

/// What the brokers of a run share: `--reconnect`'s counters (possible duplicates), the
/// stop flag of INT/TERM, and the board `--status` reads.
#[derive(Clone)]
pub struct Shared {
    /// Counts reconnections, messages sent again and deliveries not known acknowledged.
    pub recovery: Arc<Recovery>,
    /// Set by INT/TERM: no more waiting for brokers.
    pub stop: StopFlag,
    /// Where every broker's line is posted for `--status`.
    pub board: Arc<Board>,
    /// The run's figures: a broker's failure counts as an error of its class.
    pub meter: Arc<transfer::Meter>,
}

/// One broker of an `all:` list as the board shows it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Incoming or outgoing.
    pub side: Side,
    /// `host:port`.
    pub peer: String,
    /// Connected now.
    pub up: bool,
    /// Messages received from it (incoming) or confirmed by it (outgoing).
    pub messages: u64,
    /// Times it was connected again after a failure.
    pub reconnects: u64,
    /// The line of `--status` and `--statistics`.
    pub line: String,
}

/// The brokers' rows (state and counts), posted about once a second and at every change
/// of state, read by the pidfile's writer for `--status` and by the metrics.
#[derive(Debug, Default)]
pub struct Board {
    rows: std::sync::Mutex<std::collections::BTreeMap<(u8, usize), Row>>,
}

impl Board {
    fn post(&self, i: usize, row: Row) {
        let key = (u8::from(row.side == Side::Outgoing), i);
        if let Ok(mut rows) = self.rows.lock() {
            rows.insert(key, row);
        }
    }

    /// Every broker's line, the incoming ones first.
    pub fn lines(&self) -> Vec<String> {
        self.rows().into_iter().map(|r| r.line).collect()
    }

    /// Every broker's row, the incoming ones first.
    pub fn rows(&self) -> Vec<Row> {
        self.rows
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Builds the module of the broker with this index (again, after a failure).
pub type Factory<'a, M> = Box<dyn FnMut(usize) -> std::result::Result<M, crate::Error> + 'a>;

/// Where a broker of the list stands.
#[derive(Debug, Clone)]
enum State {
    /// Connected, or about to be at start.
    Up,
    /// Failed; tried again at `retry_at`.
    Down {
        retry_at: Instant,
        delay: Duration,
        attempts: u64,
        why: String,
    },
    /// Failed more than `maxReconnectAttempts` times in a row.
    Gone { why: String },
}

/// One broker of the list.
struct Member<M> {
    peer: String,
    module: Option<M>,
    /// Counts the modules built for this broker: tokens of an older one are stale.
    generation: u64,
    state: State,
    /// Messages received from it (incoming) or confirmed by it (outgoing).
    messages: u64,
    reconnects: u64,
}

/// The brokers of an `all:` list, their states and their backoff.
pub(crate) struct Members<'a, M> {
    side: Side,
    list: Vec<Member<M>>,
    factory: Factory<'a, M>,
    policy: Failover,
    recovery: Arc<Recovery>,
    stop: StopFlag,
    board: Arc<Board>,
    meter: Arc<transfer::Meter>,
    /// What the counts are: `received` or `sent`.
    what: &'static str,
    posted: Instant,
}

/// A broker that failed in a way worth trying again (connection refused or lost); a broker
/// that refuses us or a message, and local errors, end the run as with a single broker.
fn recoverable(e: &Error) -> bool {
    matches!(e.kind, ErrorKind::Connect | ErrorKind::Protocol)
}

impl<'a, M> Members<'a, M> {
    /// The brokers named by `peers`, their first modules built now (so that bad options
    /// fail before anything starts).
    pub(crate) fn new(
        side: Side,
        peers: Vec<String>,
        mut factory: Factory<'a, M>,
        policy: Failover,
        shared: Shared,
    ) -> std::result::Result<Self, crate::Error> {
        let mut list = Vec::new();
        for (i, peer) in peers.into_iter().enumerate() {
            list.push(Member {
                peer,
                module: Some(factory(i)?),
                generation: 0,
                state: State::Up,
                messages: 0,
                reconnects: 0,
            });
        }
        let m = Members {
            side,
            list,
            factory,
            policy,
            recovery: shared.recovery,
            stop: shared.stop,
            board: shared.board,
            meter: shared.meter,
            what: match side {
                Side::Incoming => "received",
                Side::Outgoing => "sent",
            },
            posted: Instant::now(),
        };
        m.post();
        Ok(m)
    }

    /// Posts every broker's line on the board.
    fn post(&self) {
        for i in 0..self.list.len() {
            self.board.post(i, self.row(i));
        }
    }

    /// Counts a message of broker `i` (posted about once a second).
    fn counted(&mut self, i: usize) {
        self.list[i].messages += 1;
        if self.posted.elapsed() >= Duration::from_secs(1) {
            self.posted = Instant::now();
            self.post();
        }
    }

    /// The indexes of the brokers that are up.
    fn up(&self) -> Vec<usize> {
        (0..self.list.len())
            .filter(|&i| self.list[i].module.is_some())
            .collect()
    }

    /// Brokers whose retry time has come: a new module each, to be started by the caller.
    fn due(&mut self) -> std::result::Result<Vec<(usize, M)>, Error> {
        let now = Instant::now();
        let mut due = Vec::new();
        for i in 0..self.list.len() {
            if matches!(self.list[i].state, State::Down { retry_at, .. } if retry_at <= now) {
                let m = (self.factory)(i).map_err(|e| Error::new(ErrorKind::Config, e.line()))?;
                due.push((i, m));
            }
        }
        Ok(due)
    }

    /// Connects the brokers whose retry time has come, each with a new module.
    async fn retry_due(&mut self, mut start: impl AsyncFnMut(&mut M) -> Result<()>) -> Result<()> {
        for (i, mut module) in self.due()? {
            match start(&mut module).await {
                Ok(()) => self.connected(i, module),
                Err(e) => {
                    drop(module);
                    self.failed(i, e)?
                }
            }
        }
        Ok(())
    }

    /// Starts every broker once; those that are down are tried again later.
    async fn start_all(&mut self, mut start: impl AsyncFnMut(&mut M) -> Result<()>) -> Result<()> {
        for i in 0..self.list.len() {
            let Some(module) = self.list[i].module.as_mut() else {
                continue;
            };
            if let Err(e) = start(module).await {
                self.failed(i, e)?;
            }
        }
        Ok(())
    }

    /// Runs `f` on every broker that is up; returns those that failed, with the error.
    async fn each_up(
        &mut self,
        mut f: impl AsyncFnMut(&mut M) -> Result<()>,
    ) -> Vec<(usize, Error)> {
        let mut failed = Vec::new();
        for (i, member) in self.list.iter_mut().enumerate() {
            if let Some(module) = member.module.as_mut()
                && let Err(e) = f(module).await
            {
                failed.push((i, e));
            }
        }
        failed
    }

    /// Stops every module; the first error is the result.
    async fn stop_all(&mut self, mut stop: impl AsyncFnMut(&mut M) -> Result<()>) -> Result<()> {
        let mut first = Ok(());
        for member in &mut self.list {
            if let Some(mut module) = member.module.take() {
                let r = stop(&mut module).await;
                if first.is_ok() {
                    first = r;
                }
            }
        }
        self.post();
        first
    }

    /// When the next broker that is down will be tried.
    fn next_retry(&self) -> Option<Instant> {
        self.list
            .iter()
            .filter_map(|m| match m.state {
                State::Down { retry_at, .. } => Some(retry_at),
                _ => None,
            })
            .min()
    }

    /// Broker `i` is connected with this module.
    fn connected(&mut self, i: usize, module: M) {
        let m = &mut self.list[i];
        if !matches!(m.state, State::Up) {
            m.reconnects += 1;
            self.recovery
                .reconnects
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            crate::log::warn(format_args!(
                "{} broker {}: connected again",
                self.side, m.peer
            ));
        }
        m.module = Some(module);
        m.generation += 1;
        m.state = State::Up;
        self.post();
    }

    /// Broker `i` failed with `e`: its module is dropped and it is tried again later (or
    /// given up). Errors that are not worth a retry, and every broker gone, end the run.
    fn failed(&mut self, i: usize, e: Error) -> Result<()> {
        if !recoverable(&e) || self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(e);
        }
        self.meter.error(e.kind);
        let policy = &self.policy;
        let m = &mut self.list[i];
        m.module = None;
        let (attempts, delay) = match &m.state {
            State::Down {
                attempts, delay, ..
            } => {
                let next = if policy.exponential {
                    delay.mul_f64(policy.multiplier).min(policy.max)
                } else {
                    *delay
                };
                (attempts + 1, next)
            }
            _ => (1, policy.initial),
        };
        let why = e.line();
        if policy.max_attempts.is_some_and(|max| attempts > max) {
            crate::log::warn(format_args!(
                "{} broker {}: {why}; given up after {attempts} attempts",
                self.side, m.peer
            ));
            m.state = State::Gone { why };
        } else {
            let line = format_args!(
                "{} broker {}: {why}; trying again in {delay:?}",
                self.side, m.peer
            );
            // the first failure is news; the retries that follow are for --debug
            if attempts == 1 {
                crate::log::warn(line);
            } else {
                crate::log::debug(1, line);
            }
            m.state = State::Down {
                retry_at: Instant::now() + delay,
                delay,
                attempts,
                why,
            };
        }
        self.post();
        if self
            .list
            .iter()
            .all(|m| matches!(m.state, State::Gone { .. }))
        {
            let whys: Vec<String> = self
                .list
                .iter()
                .map(|m| match &m.state {
                    State::Gone { why } => format!("{}: {why}", m.peer),
                    _ => m.peer.clone(),
                })
                .collect();
            return Err(Error::new(
                ErrorKind::Connect,
                format!("every {} broker is gone ({})", self.side, whys.join("; ")),
            ));
        }
        Ok(())
    }

    /// Waits until the next broker that is down is due, at most `limit`, in slices so that
    /// INT/TERM is obeyed.
    async fn sleep_until_due(&self, limit: Duration) {
        let until = self
            .next_retry()
            .map_or(Instant::now() + limit, |r| r.min(Instant::now() + limit));
        while Instant::now() < until && !self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
    }

    /// One line per broker for `--statistics` and `--status`: its state and its count.
    pub(crate) fn lines(&self) -> Vec<String> {
        (0..self.list.len()).map(|i| self.line(i)).collect()
    }

    fn row(&self, i: usize) -> Row {
        let m = &self.list[i];
        Row {
            side: self.side,
            peer: m.peer.clone(),
            up: matches!(m.state, State::Up) && m.module.is_some(),
            messages: m.messages,
            reconnects: m.reconnects,
            line: self.line(i),
        }
    }

    fn line(&self, i: usize) -> String {
        let m = &self.list[i];
        let state = match &m.state {
            State::Up if m.module.is_some() => "up".to_string(),
            State::Up => "stopped".to_string(),
            State::Down { why, .. } => format!("down ({why})"),
            State::Gone { why } => format!("gone ({why})"),
        };
        let again = match m.reconnects {
            0 => String::new(),
            1 => ", reconnected once".to_string(),
            n => format!(", reconnected {n} times"),
        };
        format!(
            "{} broker {}: {} messages {}, {state}{again}",
            self.side, m.peer, m.messages, self.what
        )
    }
}
