//! The statistics stompclt prints at the end, with the reference's exact lines.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::time::Instant;

use crate::ErrorKind;

/// Counts messages and their sizes from the first message taken to the last handed on.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Messages processed (dropped by a filter included, as the reference counts them).
    pub count: u64,
    /// The sum of the messages' `size()`.
    pub bytes: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Stats {
    /// Counts one message.
    pub fn message(&mut self, size: usize) {
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.count += 1;
        self.bytes += size as u64;
    }

    /// Marks a message handed on (the clock stops at the last one).
    pub fn handed_on(&mut self) {
        self.last = Some(Instant::now());
    }

    /// The reference's lines: `processed N messages in T seconds (X k msg/sec)`,
    /// `throughput is around X MB/second`, `average message size is around N bytes`.
    pub fn lines(&self) -> Vec<String> {
        match self.count {
            0 => vec!["processed no messages".into()],
            1 => vec!["processed only 1 message".into()],
            n => {
                let secs = match (self.first, self.last) {
                    (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
                    _ => 0.0,
                }
                .max(1e-6);
                vec![
                    format!(
                        "processed {n} messages in {secs:.3} seconds ({:.3} k msg/sec)",
                        n as f64 / secs / 1000.0
                    ),
                    // the reference divides by 1024 then 1000
                    format!(
                        "throughput is around {:.3} MB/second",
                        self.bytes as f64 / 1024.0 / 1000.0 / secs
                    ),
                    format!("average message size is around {} bytes", self.bytes / n),
                ]
            }
        }
    }
}

/// What reconnections during the run cost, shared by the broker modules (`--reconnect`).
/// Messages sent again or redelivered may arrive twice; nothing is lost.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Connections re-established after a failure.
    pub reconnects: std::sync::atomic::AtomicU64,
    /// Unconfirmed messages sent again on a new connection (duplicates if the broker had
    /// them already).
    pub resent: std::sync::atomic::AtomicU64,
    /// Messages received whose acknowledgement the broker had not confirmed when the
    /// connection was lost: it may deliver them again, so the destination may have them twice.
    pub unacked: std::sync::atomic::AtomicU64,
}

impl Recovery {
    /// Lines added to the statistics when there was any reconnection.
    pub fn lines(&self) -> Vec<String> {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.reconnects.load(Relaxed);
        let (resent, unacked) = (self.resent.load(Relaxed), self.unacked.load(Relaxed));
        // (a broker of an `all:` list may fail and not come back: counts, no reconnection)
        if n + resent + unacked == 0 {
            return Vec::new();
        }
        let reconnected = match n {
            0 => "no reconnection".to_string(),
            n => format!("reconnected {n} times"),
        };
        vec![format!(
            "{reconnected}: {resent} messages sent again, {unacked} received messages not known \
             to be acknowledged (possible duplicates)"
        )]
    }
}

/// Where a broker side stands, for the metrics ([`Meter::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SideState {
    /// Not started yet (`--lazy`, or before the first connection).
    Idle = 0,
    /// Connected.
    Up = 1,
    /// The connection was lost: reconnecting (`--reconnect`).
    Reconnecting = 2,
    /// Stopped at the end of the run.
    Stopped = 3,
}

/// The running figures operators scrape, updated by the engine as it goes (relaxed atomics:
/// a few nanoseconds a message) and read by the agent's metrics from other threads.
#[derive(Debug, Default)]
pub struct Meter {
    /// Messages taken from the incoming module.
    pub received: AtomicU64,
    /// Their bytes (`size()`: body and header).
    pub received_bytes: AtomicU64,
    /// Messages handed to the outgoing module.
    pub sent: AtomicU64,
    /// Their bytes.
    pub sent_bytes: AtomicU64,
    /// Messages the destination confirmed.
    pub confirmed: AtomicU64,
    /// Messages acknowledged to the source (after confirmation, or dropped by a filter).
    pub acknowledged: AtomicU64,
    /// Messages dropped by the filters.
    pub dropped: AtomicU64,
    /// Messages the destination refused, written to the reject queue.
    pub rejected: AtomicU64,
    /// `--dedup`: messages whose id was in the window, acknowledged and not written again.
    pub duplicates: AtomicU64,
    /// `--dedup`: messages that came with no id and got none (passed on as they are).
    pub without_id: AtomicU64,
    /// `--quarantine`: incoming queue elements that could not be read, moved aside.
    pub quarantined: std::sync::Arc<AtomicU64>,
    /// Messages put and not confirmed, now.
    pub pending: AtomicU64,
    /// Errors by class ([`ErrorKind::index`]): those ridden through (a reconnection, a
    /// broker of an `all:` list that went away) and the one that ended the run.
    errors: [AtomicU64; ErrorKind::COUNT],
    /// [`SideState`] of the incoming and the outgoing side.
    state: [AtomicU8; 2],
}

impl Meter {
    /// Counts an error of this kind.
    pub fn error(&self, kind: ErrorKind) {
        self.errors[kind.index()].fetch_add(1, Relaxed);
    }

    /// The errors counted for this kind.
    pub fn errors(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()].load(Relaxed)
    }

    /// Sets the state of a side (`outgoing`: false for the incoming side).
    pub fn set_state(&self, outgoing: bool, s: SideState) {
        self.state[usize::from(outgoing)].store(s as u8, Relaxed);
    }

    /// The state of a side.
    pub fn state(&self, outgoing: bool) -> SideState {
        match self.state[usize::from(outgoing)].load(Relaxed) {
            1 => SideState::Up,
            2 => SideState::Reconnecting,
            3 => SideState::Stopped,
            _ => SideState::Idle,
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_lines() {
        let mut s = Stats::default();
        assert_eq!(s.lines(), ["processed no messages"]);
        s.message(10);
        s.handed_on();
        assert_eq!(s.lines(), ["processed only 1 message"]);
        s.message(20);
        s.handed_on();
        let l = s.lines();
        assert!(l[0].starts_with("processed 2 messages in "), "{l:?}");
        assert!(l[0].ends_with(" k msg/sec)"));
        assert!(l[1].starts_with("throughput is around ") && l[1].ends_with(" MB/second"));
        assert_eq!(l[2], "average message size is around 15 bytes");
    }
}
