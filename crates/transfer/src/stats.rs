//! The statistics stompclt prints at the end, with the reference's exact lines.

use std::time::Instant;

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
