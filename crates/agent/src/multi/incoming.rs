//! Consume from all: one subscription per broker, feeding one engine.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use futures_util::future::select_all;
use transfer::{Got, Incoming, Result, Token};

use super::{Factory, Members, Shared};
use crate::endpoint::{Failover, Side};

/// The incoming module of an `all:` list: takes the next message of whichever broker has
/// one, and acknowledges it to the broker it came from.
///
/// The brokers are raced with their modules' `get`, and the losers' futures are dropped:
/// a protocol's `get` must be cancel-safe (lose nothing when dropped before it completes),
/// which stompclt's, amqpclt's and mqttclt's are.
pub struct AllIncoming<'a, I> {
    m: Members<'a, I>,
    /// Our token → the broker, the generation of its module, and the module's token.
    tokens: HashMap<u64, (usize, u64, Token)>,
    next: u64,
    /// Where the race starts, turning, so that no broker starves another.
    turn: usize,
}

impl<'a, I: Incoming> AllIncoming<'a, I> {
    /// The brokers named by `peers` (for messages), each module built by `factory`; a
    /// broker that is down is tried again with `policy`'s backoff.
    pub fn new(
        peers: Vec<String>,
        factory: Factory<'a, I>,
        policy: Failover,
        shared: Shared,
    ) -> std::result::Result<Self, crate::Error> {
        Ok(AllIncoming {
            m: Members::new(Side::Incoming, peers, factory, policy, shared)?,
            tokens: HashMap::new(),
            next: 1,
            turn: 0,
        })
    }

    /// One line per broker: state and messages received.
    pub fn lines(&self) -> Vec<String> {
        self.m.lines()
    }

    /// Broker `i` failed: what it delivered and was not acknowledged comes again (possible
    /// duplicates); its tokens are forgotten.
    fn failed(&mut self, i: usize, e: transfer::Error) -> Result<()> {
        let generation = self.m.list[i].generation;
        let before = self.tokens.len();
        self.tokens
            .retain(|_, (b, g, _)| !(*b == i && *g == generation));
        let forgotten = (before - self.tokens.len()) as u64;
        self.m.recovery.unacked.fetch_add(forgotten, Relaxed);
        self.m.failed(i, e)
    }

    async fn retry_due(&mut self) -> Result<()> {
        self.m.retry_due(async |m: &mut I| m.start().await).await
    }

    /// The first broker to have something, or `None` when none had for `until`. What has
    /// arrived already is taken without a race (most deliveries, under load), turning.
    async fn race(&mut self, until: Instant) -> Option<(usize, Result<Got>)> {
        use futures_util::FutureExt;
        let n = self.m.list.len();
        self.turn = self.turn.wrapping_add(1);
        // a broker with nothing at once does not hide another's message
        let mut idle = None;
        for k in 0..n {
            let i = (self.turn + k) % n;
            if let Some(module) = self.m.list[i].module.as_mut() {
                match module.get().now_or_never() {
                    Some(Ok(Got::Idle)) => idle = idle.or(Some(i)),
                    Some(r) => return Some((i, r)),
                    None => {}
                }
            }
        }
        if let Some(i) = idle {
            return Some((i, Ok(Got::Idle)));
        }
        let mut gets: Vec<_> = self
            .m
            .list
            .iter_mut()
            .enumerate()
            .filter_map(|(i, member)| {
                let module = member.module.as_mut()?;
                Some(Box::pin(async move { (i, module.get().await) }))
            })
            .collect();
        if gets.is_empty() {
            return None;
        }
        let n = gets.len();
        gets.rotate_left(self.turn % n);
        tokio::time::timeout_at(until.into(), select_all(gets))
            .await
            .ok()
            .map(|(r, _, _)| r)
    }
}

impl<I: Incoming> Incoming for AllIncoming<'_, I> {
    async fn start(&mut self) -> Result<()> {
        self.m.start_all(async |m: &mut I| m.start().await).await
    }

    async fn get(&mut self) -> Result<Got> {
        let start = Instant::now();
        let second = start + Duration::from_secs(1);
        loop {
            self.retry_due().await?;
            if self.m.up().is_empty() {
                self.m
                    .sleep_until_due(second.saturating_duration_since(Instant::now()))
                    .await;
                if Instant::now() >= second {
                    return Ok(Got::Idle);
                }
                continue;
            }
            let until = self.m.next_retry().map_or(second, |r| r.min(second));
            match self.race(until).await {
                None if Instant::now() >= second => return Ok(Got::Idle),
                None => continue,
                Some((_, Ok(Got::Idle | Got::End))) => return Ok(Got::Idle),
                Some((i, Ok(Got::Message(msg, inner)))) => {
                    let t = self.next;
                    self.next += 1;
                    self.m.counted(i);
                    self.tokens.insert(t, (i, self.m.list[i].generation, inner));
                    return Ok(Got::Message(msg, Token(t)));
                }
                Some((i, Err(e))) => self.failed(i, e)?,
            }
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        // a token of a broker that failed since: forgotten, counted as a possible duplicate
        let Some((i, generation, inner)) = self.tokens.remove(&token.0) else {
            return Ok(());
        };
        let member = &mut self.m.list[i];
        let Some(module) = member.module.as_mut() else {
            return Ok(());
        };
        if member.generation != generation {
            return Ok(());
        }
        match module.ack(inner).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // this one is among those the broker will deliver again
                self.m.recovery.unacked.fetch_add(1, Relaxed);
                self.failed(i, e)
            }
        }
    }

    async fn idle(&mut self) -> Result<()> {
        for (i, e) in self.m.each_up(async |m: &mut I| m.idle().await).await {
            self.failed(i, e)?;
        }
        self.retry_due().await
    }

    async fn stop(&mut self) -> Result<()> {
        self.m.stop_all(async |m: &mut I| m.stop().await).await
    }
}
