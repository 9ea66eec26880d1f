//! What an agent shows operators while it runs: the engine's counts ([`Meter`]), the
//! reconnections, each broker's state and counts, the spool depths, as Prometheus metrics
//! (`--metrics-listen`, `--metrics-file`) and as JSON (`--status --json`). One set of
//! figures, [`Figures::exposition`], feeds the three.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::{Duration, SystemTime};

use message::{MessageQueue, QueueOptions};
use metrics::Exposition;
use transfer::{ErrorKind, Meter, Recovery, SideState};

use crate::endpoint::Side;
use crate::multi::Board;

/// How often a spool is counted (a count reads every directory of the queue: never per
/// scrape).
const SPOOL_EVERY: Duration = Duration::from_secs(10);

/// One side of the run as the metrics name it.
#[derive(Debug, Clone)]
pub(crate) enum Label {
    /// A broker URI (one broker, or a `failover:` list).
    Broker(String),
    /// The brokers of an `all:` list (their rows are on the board).
    All,
    /// A directory queue: its path and its depth, -1 until first counted.
    Queue(String, Arc<AtomicI64>),
}

/// Everything the metrics read, shared with the threads that render them.
pub(crate) struct Figures {
    pub program: &'static str,
    pub meter: Arc<Meter>,
    pub recovery: Arc<Recovery>,
    pub board: Arc<Board>,
    pub sides: [Label; 2],
    pub started: SystemTime,
    /// The directory queues of the run, to count (`type=NULL` has none).
    pub spools: Vec<(QueueOptions, Arc<AtomicI64>)>,
}

fn class(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::Config => "usage",
        ErrorKind::Connect => "connect",
        ErrorKind::Broker => "broker",
        ErrorKind::Protocol => "protocol",
        ErrorKind::IncomingQueue => "incoming_queue",
        ErrorKind::OutgoingQueue => "outgoing_queue",
        ErrorKind::Pending => "pending",
        ErrorKind::BadMessage => "bad_message",
        ErrorKind::Tick => "pidfile",
    }
}

fn side_name(outgoing: bool) -> &'static str {
    if outgoing { "outgoing" } else { "incoming" }
}

impl Figures {
    /// The current figures.
    pub fn exposition(&self) -> Exposition {
        let p = self.program;
        let m = &self.meter;
        let mut e = Exposition::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            e.counter(&format!("{p}_{name}"), help)
                .sample(&[], v as f64);
        };
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed);
        counter(
            "messages_received_total",
            "Messages taken from the incoming broker or queue (filtered ones included).",
            get(&m.received),
        );
        counter(
            "messages_sent_total",
            "Messages handed to the outgoing broker or queue.",
            get(&m.sent),
        );
        counter(
            "messages_confirmed_total",
            "Messages the destination confirmed (receipt, accepted outcome, publisher ack, PUBACK, queue add).",
            get(&m.confirmed),
        );
        counter(
            "messages_acknowledged_total",
            "Messages acknowledged to the source (broker ack, queue element removed).",
            get(&m.acknowledged),
        );
        counter(
            "messages_dropped_total",
            "Messages dropped by the filters (--keep-if, --drop-if).",
            get(&m.dropped),
        );
        counter(
            "duplicates_dropped_total",
            "Messages whose id was in the --dedup window: acknowledged, not written again.",
            get(&m.duplicates),
        );
        counter(
            "messages_without_id_total",
            "Messages that came with no id and got none (--dedup passes them on).",
            get(&m.without_id),
        );
        counter(
            "elements_quarantined_total",
            "Incoming queue elements that could not be read, moved to --quarantine.",
            get(&m.quarantined),
        );
        counter(
            "messages_rejected_total",
            "Messages the destination refused, written to the reject queue (--reject-queue).",
            get(&m.rejected),
        );
        counter(
            "received_bytes_total",
            "Bytes of the messages received (body and header).",
            get(&m.received_bytes),
        );
        counter(
            "sent_bytes_total",
            "Bytes of the messages sent (body and header).",
            get(&m.sent_bytes),
        );
        let r = &self.recovery;
        counter(
            "reconnects_total",
            "Connections made again after a failure.",
            get(&r.reconnects),
        );
        counter(
            "possible_duplicates_total",
            "Messages sent again after a failure, or received and not known acknowledged: they may arrive twice.",
            get(&r.resent) + get(&r.unacked),
        );
        e.gauge(
            &format!("{p}_messages_pending"),
            "Messages sent and not confirmed yet.",
        )
        .sample(&[], get(&m.pending) as f64);
        let f = e.counter(
            &format!("{p}_errors_total"),
            "Errors by exit class: those ridden through (reconnections, a broker of an all: list) and the one that ended the run.",
        );
        for k in ErrorKind::ALL {
            if k != ErrorKind::BadMessage {
                let n = m.errors(k)
                    + if k == ErrorKind::Protocol {
                        m.errors(ErrorKind::BadMessage)
                    } else {
                        0
                    };
                f.sample(&[("class", class(k))], n as f64);
            }
        }
        self.brokers(&mut e);
        let f = e.gauge(
            &format!("{p}_queue_messages"),
            "Elements in the incoming or outgoing directory queue (counted every 10 s).",
        );
        for (i, side) in self.sides.iter().enumerate() {
            if let Label::Queue(path, depth) = side {
                let d = depth.load(Relaxed);
                if d >= 0 {
                    f.sample(&[("side", side_name(i == 1)), ("queue", path)], d as f64);
                }
            }
        }
        let started = self
            .started
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        e.gauge(
            &format!("{p}_start_time_seconds"),
            "When the agent started, seconds since the epoch.",
        )
        .sample(&[], started.as_secs_f64());
        e.gauge(
            &format!("{p}_build_info"),
            "The agent's version (always 1).",
        )
        .sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0);
        e
    }

    /// Per broker: up or not, messages, reconnections.
    fn brokers(&self, e: &mut Exposition) {
        let p = self.program;
        let mut rows = Vec::new();
        for (i, side) in self.sides.iter().enumerate() {
            if let Label::Broker(uri) = side {
                rows.push(BrokerRow {
                    side: side_name(i == 1),
                    broker: uri.clone(),
                    up: self.meter.state(i == 1) == SideState::Up,
                    counts: None,
                });
            }
        }
        for r in self.board.rows() {
            rows.push(BrokerRow {
                side: side_name(r.side == Side::Outgoing),
                broker: r.peer,
                up: r.up,
                counts: Some((r.messages, r.reconnects)),
            });
        }
        let f = e.gauge(
            &format!("{p}_broker_up"),
            "1 while connected to the broker, 0 while not (connecting, reconnecting, down, stopped).",
        );
        for r in &rows {
            f.sample(
                &[("side", r.side), ("broker", &r.broker)],
                f64::from(u8::from(r.up)),
            );
        }
        let f = e.counter(
            &format!("{p}_broker_messages_total"),
            "Messages received from (incoming) or confirmed by (outgoing) each broker of an all: list.",
        );
        for r in &rows {
            if let Some((n, _)) = r.counts {
                f.sample(&[("side", r.side), ("broker", &r.broker)], n as f64);
            }
        }
        let f = e.counter(
            &format!("{p}_broker_reconnects_total"),
            "Times each broker of an all: list was connected again after a failure.",
        );
        for r in &rows {
            if let Some((_, n)) = r.counts {
                f.sample(&[("side", r.side), ("broker", &r.broker)], n as f64);
            }
        }
    }
}

/// One broker as the metrics show it.
struct BrokerRow {
    side: &'static str,
    broker: String,
    up: bool,
    /// Messages and reconnections (brokers of an `all:` list).
    counts: Option<(u64, u64)>,
}

impl Figures {
    /// Counts the directory queues of the run now.
    pub fn count_spools(&self) {
        for (opts, depth) in &self.spools {
            // a queue not there yet (an outgoing one made at the first message, --lazy) is
            // counted next time: opening it would create it
            if opts.path.as_ref().is_some_and(|p| p.is_dir())
                && let Ok(n) = MessageQueue::open(opts)
                    .map_err(|_| ())
                    .and_then(|q| q.dirq().count().map_err(|_| ()))
            {
                depth.store(n as i64, Relaxed);
            }
        }
    }

    /// Counts the directory queues every [`SPOOL_EVERY`] from a thread.
    pub fn count_spools_every(self: &Arc<Self>) {
        if self.spools.is_empty() {
            return;
        }
        let f = self.clone();
        let _ = std::thread::Builder::new()
            .name("spool-depth".into())
            .spawn(move || {
                loop {
                    f.count_spools();
                    std::thread::sleep(SPOOL_EVERY);
                }
            });
    }
}
