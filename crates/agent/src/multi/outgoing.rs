//! Produce to any: messages spread over the brokers that are up, the least loaded first,
//! round robin among equals.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use message::Message;
use transfer::{Outgoing, Result, Token};

use super::{Factory, Members, Shared};
use crate::endpoint::{Failover, Side};

/// The outgoing module of an `all:` list. Every message put and not yet confirmed is kept
/// with the broker it went to: when that broker fails, it goes to another one (counted as
/// sent again: the failed broker may have had it).
///
/// Confirmations are collected from every broker without waiting, then waited for on one
/// broker at a time, so a protocol's `confirmed` is never cancelled.
pub struct AnyOutgoing<'a, O> {
    m: Members<'a, O>,
    /// Put and not confirmed: the broker it went to (`None`: waiting for one) and a copy.
    sent: HashMap<Token, (Option<usize>, Message)>,
    /// Per broker, what it was given, oldest first (entries confirmed since are skipped).
    given: Vec<VecDeque<Token>>,
    /// Per broker, how many of its messages are unconfirmed.
    outstanding: Vec<usize>,
    /// Waiting for a broker: put first, or taken from a broker that failed.
    requeue: VecDeque<Token>,
    /// The next broker of the round robin.
    turn: usize,
    buf: Vec<Token>,
}

impl<'a, O: Outgoing> AnyOutgoing<'a, O> {
    /// The brokers named by `peers`, each module built by `factory`; a broker that is down
    /// is tried again with `policy`'s backoff.
    pub fn new(
        peers: Vec<String>,
        factory: Factory<'a, O>,
        policy: Failover,
        shared: Shared,
    ) -> std::result::Result<Self, crate::Error> {
        let n = peers.len();
        Ok(AnyOutgoing {
            m: Members::new(Side::Outgoing, peers, factory, policy, shared)?,
            sent: HashMap::new(),
            given: vec![VecDeque::new(); n],
            outstanding: vec![0; n],
            requeue: VecDeque::new(),
            turn: 0,
            buf: Vec::new(),
        })
    }

    /// One line per broker: state and messages confirmed.
    pub fn lines(&self) -> Vec<String> {
        self.m.lines()
    }

    /// Broker `i` failed: what it was given and did not confirm waits for another one.
    fn failed(&mut self, i: usize, e: transfer::Error) -> Result<()> {
        let mut moved = 0;
        for t in self.given[i].drain(..) {
            if let Some(entry) = self.sent.get_mut(&t)
                && entry.0 == Some(i)
            {
                entry.0 = None;
                self.requeue.push_back(t);
                moved += 1;
            }
        }
        self.outstanding[i] = 0;
        self.m.recovery.resent.fetch_add(moved, Relaxed);
        self.m.failed(i, e)
    }

    async fn retry_due(&mut self) -> Result<()> {
        self.m.retry_due(async |m: &mut O| m.start().await).await
    }

    /// The broker that is up with the fewest unconfirmed messages, round robin among
    /// equals (a broker that slows down, say under flow control, gets less instead of
    /// holding the window); waits for one when none is up.
    async fn pick(&mut self) -> Result<usize> {
        loop {
            let up = self.m.up();
            if !up.is_empty() {
                let n = up.len();
                let start = self.turn % n;
                self.turn = self.turn.wrapping_add(1);
                let i = (0..n)
                    .map(|k| up[(start + k) % n])
                    .min_by_key(|&i| self.outstanding[i])
                    .unwrap_or(up[start]);
                return Ok(i);
            }
            if self.m.stop.load(Relaxed) {
                return Err(transfer::Error::new(
                    transfer::ErrorKind::Connect,
                    "stopped by a signal while no outgoing broker was up",
                ));
            }
            self.m.sleep_until_due(Duration::from_secs(1)).await;
            self.retry_due().await?;
        }
    }

    /// Hands every message waiting for a broker to one.
    async fn drain_requeue(&mut self) -> Result<()> {
        while let Some(t) = self.requeue.pop_front() {
            if !self.sent.contains_key(&t) {
                continue;
            }
            let i = self.pick().await?;
            let (Some(module), Some(entry)) =
                (self.m.list[i].module.as_mut(), self.sent.get_mut(&t))
            else {
                continue;
            };
            match module.put(&entry.1, t).await {
                Ok(()) => {
                    entry.0 = Some(i);
                    self.given[i].push_back(t);
                    self.outstanding[i] += 1;
                }
                Err(e) => {
                    self.requeue.push_front(t);
                    self.failed(i, e)?;
                }
            }
        }
        Ok(())
    }

    /// Takes the confirmations in `buf` that broker `i` gave for what it holds.
    fn take(&mut self, i: usize, out: &mut Vec<Token>) {
        for t in self.buf.drain(..) {
            if self.sent.get(&t).is_some_and(|(b, _)| *b == Some(i)) {
                self.sent.remove(&t);
                self.outstanding[i] = self.outstanding[i].saturating_sub(1);
                self.m.counted(i);
                out.push(t);
            }
        }
        if self.given[i].len() > 2 * self.sent.len() + 64 {
            // drop what was confirmed from the resend lists now and then
            let sent = &self.sent;
            self.given[i].retain(|t| sent.get(t).is_some_and(|(b, _)| *b == Some(i)));
        }
    }

    /// Waits at most `wait` for a confirmation from any broker: on one broker at a time (a
    /// protocol's `confirmed` is not cancelled), in short turns when several owe some, so
    /// that a slow broker does not keep a fast one's confirmations waiting.
    async fn wait_any(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        let until = std::time::Instant::now() + wait;
        loop {
            let owing: Vec<usize> = (0..self.outstanding.len())
                .filter(|&i| self.outstanding[i] > 0 && self.m.list[i].module.is_some())
                .collect();
            let left = until.saturating_duration_since(std::time::Instant::now());
            if owing.is_empty() {
                // nobody to ask: what waits is for a broker that is down
                self.m.sleep_until_due(left).await;
                return Ok(());
            }
            let i = owing[self.turn % owing.len()];
            self.turn = self.turn.wrapping_add(1);
            let slice = if owing.len() == 1 {
                left
            } else {
                left.min(Duration::from_millis(5))
            };
            self.collect(i, out, slice).await?;
            if !out.is_empty() || left.is_zero() || std::time::Instant::now() >= until {
                return Ok(());
            }
        }
    }

    /// Asks broker `i` for its confirmations, waiting at most `wait`.
    async fn collect(&mut self, i: usize, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        let Some(module) = self.m.list[i].module.as_mut() else {
            return Ok(());
        };
        match module.confirmed(&mut self.buf, wait).await {
            Ok(()) => {
                self.take(i, out);
                Ok(())
            }
            Err(e) => {
                // what it confirmed before failing counts
                self.take(i, out);
                self.failed(i, e)
            }
        }
    }
}

impl<O: Outgoing> Outgoing for AnyOutgoing<'_, O> {
    async fn start(&mut self) -> Result<()> {
        self.m.start_all(async |m: &mut O| m.start().await).await
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        self.sent.insert(token, (None, msg.clone()));
        self.requeue.push_back(token);
        self.drain_requeue().await
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        self.retry_due().await?;
        self.drain_requeue().await?;
        for i in self.m.up() {
            self.collect(i, out, Duration::ZERO).await?;
        }
        if out.is_empty() && !wait.is_zero() && !self.sent.is_empty() {
            self.wait_any(out, wait).await?;
        }
        self.drain_requeue().await
    }

    fn pending(&self) -> usize {
        self.sent.len()
    }

    async fn idle(&mut self) -> Result<()> {
        for (i, e) in self.m.each_up(async |m: &mut O| m.idle().await).await {
            self.failed(i, e)?;
        }
        self.retry_due().await?;
        self.drain_requeue().await
    }

    async fn flush(&mut self) -> Result<()> {
        for (i, e) in self.m.each_up(async |m: &mut O| m.flush().await).await {
            self.failed(i, e)?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        self.m.stop_all(async |m: &mut O| m.stop().await).await
    }
}
