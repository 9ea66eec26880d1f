//! The main loop: get, count, put, acknowledge what was confirmed; then linger.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::filter::Filters;
use crate::stats::SideState;
use message::Message;

use crate::dedup::Dedup;
use crate::{Error, ErrorKind, Got, Incoming, Meter, Outgoing, Result, Stats, Token};

/// Set (by a signal handler, say) to stop the loop gracefully: what is in flight is still
/// confirmed and acknowledged during linger.
pub type StopFlag = Arc<AtomicBool>;

/// What the loop obeys; the defaults are stompclt's.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Stop after this many messages.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop when no message arrived for this long.
    pub timeout_inactivity: Option<Duration>,
    /// At stop, wait at most this long for outstanding confirmations (None: forever).
    pub timeout_linger: Option<Duration>,
    /// At most this many messages put and not yet confirmed (None or 0: unlimited).
    pub window: Option<usize>,
    /// Start the outgoing module only when the first message arrives.
    pub lazy: bool,
}

/// Called once per loop turn (the agents check their pidfile in it); `Ok(false)` stops.
pub type Tick<'a> = Box<dyn FnMut() -> Result<bool> + 'a>;

/// The engine: settings, a stop flag and an optional per-turn hook.
pub struct Engine<'a> {
    settings: Settings,
    stop: StopFlag,
    tick: Option<Tick<'a>>,
    filters: Filters,
    meter: Arc<Meter>,
    /// `--reject-queue`: where a message the destination refuses as it is goes.
    reject: Option<message::MessageQueue>,
    /// What is kept of the messages put until they are confirmed.
    books: Books,
}

/// What the engine keeps of each message put until its confirmation.
#[derive(Default)]
struct Books {
    /// With a reject queue: each message, for a refusal that comes after `put` (a batch
    /// sent later).
    held: HashMap<Token, Message>,
    /// `--dedup`, and for a broker destination each message's id, recorded in the window
    /// once the broker confirmed it.
    dedup: Option<Dedup>,
    awaiting: HashMap<Token, u128>,
}

/// What `--dedup` makes of a message about to be put.
enum Seen {
    /// Its id is in the window.
    Before,
    /// A message with its id is staged in the destination queue, not recorded yet (a
    /// redelivery within one batch).
    Staged,
    /// Not seen: the key to record once a broker confirms it (none for a spool, whose
    /// module records it, or without an id).
    New(Option<u128>),
}

impl Books {
    /// Gives the message its id (`--dedup`) and tells whether the window has it.
    fn check(&self, msg: &mut Message, element: Option<String>, meter: &Meter) -> Seen {
        let Some(d) = &self.dedup else {
            return Seen::New(None);
        };
        match d.stamp(msg, element).map(|id| crate::dedup::key(&id)) {
            Some(k) if d.seen(k) => Seen::Before,
            Some(k) if d.staged(k) => Seen::Staged,
            Some(k) => Seen::New((!d.by_queue).then_some(k)),
            None => {
                Meter::add(&meter.without_id, 1);
                Seen::New(None)
            }
        }
    }

    /// `t` was confirmed: what was kept of it goes, its id into the window.
    fn confirmed(&mut self, t: Token) -> Result<()> {
        if !self.held.is_empty() {
            self.held.remove(&t);
        }
        if let (Some(d), Some(k)) = (&self.dedup, self.awaiting.remove(&t)) {
            d.record(k)?;
        }
        Ok(())
    }
}

/// The header a rejected message gets: why the destination refused it.
pub const REJECT_REASON: &str = "reject-reason";

impl<'a> Engine<'a> {
    /// An engine with these settings, stopped when `stop` becomes true.
    pub fn new(settings: Settings, stop: StopFlag) -> Self {
        Engine {
            settings,
            stop,
            tick: None,
            filters: Filters::default(),
            meter: Arc::default(),
            reject: None,
            books: Books::default(),
        }
    }

    /// `--dedup`: ids given to messages from queue elements, and a message whose id is in
    /// the window acknowledged and not put again.
    pub fn with_dedup(mut self, dedup: Dedup) -> Self {
        self.books.dedup = Some(dedup);
        self
    }

    /// Messages the destination refuses as they are ([`ErrorKind::BadMessage`]) go to this
    /// queue, with the reason in the header [`REJECT_REASON`], and their source is
    /// acknowledged: the run goes on instead of ending with the refusal.
    pub fn with_reject(mut self, queue: message::MessageQueue) -> Self {
        self.reject = Some(queue);
        self
    }

    /// Whether this error is a refusal the reject queue takes.
    fn rejects(&self, e: &Error) -> bool {
        self.reject.is_some() && e.kind == ErrorKind::BadMessage
    }

    /// Writes `msg` to the reject queue with the refusal's reason, then acknowledges its
    /// source.
    async fn reject<I: Incoming>(
        &mut self,
        mut msg: Message,
        token: Token,
        why: Error,
        inc: &mut I,
    ) -> Result<()> {
        let Some(q) = &self.reject else {
            return Err(why);
        };
        msg.header.insert(REJECT_REASON.into(), why.line());
        q.add_message(&msg).map_err(|e| {
            Error::caused(
                ErrorKind::OutgoingQueue,
                "cannot add to the reject queue",
                e,
            )
        })?;
        inc.ack(token).await?;
        Meter::add(&self.meter.rejected, 1);
        Meter::add(&self.meter.acknowledged, 1);
        Ok(())
    }

    /// A refusal of a message put earlier: that message to the reject queue, if it was kept.
    async fn reject_held<I: Incoming>(&mut self, e: Error, inc: &mut I) -> Result<()> {
        let held = e
            .token
            .and_then(|t| self.books.held.remove(&t).map(|m| (m, t)));
        match held {
            Some((msg, t)) => self.reject(msg, t, e, inc).await,
            None => Err(e),
        }
    }

    /// Adds the built-in filters.
    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    /// Counts into this meter (the agent's metrics read it).
    pub fn with_meter(mut self, meter: Arc<Meter>) -> Self {
        self.meter = meter;
        self
    }

    /// Adds the per-turn hook.
    pub fn with_tick(mut self, tick: Tick<'a>) -> Self {
        self.tick = Some(tick);
        self
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Runs the transfer to its end and returns the statistics. On error, the incoming
    /// module is still stopped, so that nothing it holds stays locked.
    pub async fn run<I: Incoming, O: Outgoing>(
        &mut self,
        inc: &mut I,
        out: &mut O,
    ) -> Result<Stats> {
        let mut stats = Stats::default();
        let mut out_started = false;
        let r = self.main(inc, out, &mut stats, &mut out_started).await;
        // a message refused after `put` (a batch sent later) is named as in `put`
        let r = r.map_err(|e| match e.token {
            Some(t) => Self::name_element(e, inc.origin(t)),
            None => e,
        });
        let r = self.stopped(r, inc, out, out_started).await;
        if let Err(e) = &r {
            self.meter.error(e.kind);
        }
        r.map(|()| stats)
    }

    /// The end of a run: both sides stopped, pending messages reported.
    async fn stopped<I: Incoming, O: Outgoing>(
        &mut self,
        r: Result<()>,
        inc: &mut I,
        out: &mut O,
        out_started: bool,
    ) -> Result<()> {
        let meter = &self.meter;
        meter.set_state(false, SideState::Stopped);
        if out_started {
            meter.set_state(true, SideState::Stopped);
        }
        match r {
            Ok(()) => {
                let pending = out.pending();
                let stopped_out = if out_started {
                    out.stop().await
                } else {
                    Ok(())
                };
                let stopped_in = inc.stop().await;
                if pending > 0 {
                    return Err(Error::new(
                        ErrorKind::Pending,
                        format!("{pending} pending messages"),
                    ));
                }
                stopped_out?;
                stopped_in
            }
            Err(e) => {
                // Best effort: give back what the source lent us; the first error is the one
                // to report.
                let _ = inc.stop().await;
                Err(e)
            }
        }
    }

    /// What the destination confirmed (waiting up to `wait` for it), acknowledged to the
    /// source; `buf` is the reused list of tokens.
    async fn ack_confirmed<I: Incoming, O: Outgoing>(
        &mut self,
        inc: &mut I,
        out: &mut O,
        buf: &mut Vec<Token>,
        wait: Duration,
    ) -> Result<()> {
        out.confirmed(buf, wait).await?;
        Meter::add(&self.meter.confirmed, buf.len() as u64);
        for t in buf.drain(..) {
            self.books.confirmed(t)?;
            inc.ack(t).await?;
            Meter::add(&self.meter.acknowledged, 1);
        }
        self.meter
            .pending
            .store(out.pending() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Starts the sides (the outgoing one later with `--lazy`), then turns until a stop
    /// condition, then lingers.
    async fn main<I: Incoming, O: Outgoing>(
        &mut self,
        inc: &mut I,
        out: &mut O,
        stats: &mut Stats,
        out_started: &mut bool,
    ) -> Result<()> {
        if !self.settings.lazy {
            self.start_outgoing(out, out_started).await?;
        }
        inc.start().await?;
        self.meter.set_state(false, SideState::Up);
        let mut run = Turns {
            start: Instant::now(),
            last_message: Instant::now(),
            confirmed: Vec::new(),
        };
        loop {
            if self.done(stats, &run) {
                break;
            }
            match self.turn(inc, out, stats, out_started, &mut run).await {
                Ok(Flow::Go) => {}
                Ok(Flow::Stop) => break,
                // a message put earlier refused: rejected, and the run goes on
                Err(e) if self.rejects(&e) => self.reject_held(e, inc).await?,
                Err(e) => return Err(e),
            }
            if let Some(tick) = self.tick.as_mut()
                && !tick()?
            {
                break;
            }
        }
        self.linger(inc, out, &mut run.confirmed).await?;
        // the ids a broker confirmed, written out at the end of a run
        match &self.books.dedup {
            Some(d) => d.flush(),
            None => Ok(()),
        }
    }

    async fn start_outgoing<O: Outgoing>(&self, out: &mut O, started: &mut bool) -> Result<()> {
        out.start().await?;
        *started = true;
        self.meter.set_state(true, SideState::Up);
        Ok(())
    }

    /// A stop condition: INT/TERM, `--count`, `--duration`.
    fn done(&self, stats: &Stats, run: &Turns) -> bool {
        let s = &self.settings;
        self.stopping()
            || s.count.is_some_and(|c| stats.count >= c)
            || s.duration.is_some_and(|d| run.start.elapsed() >= d)
    }

    /// One turn: wait for confirmations when the window is full, otherwise take what the
    /// source has (racing the destination's confirmations) and hand it on; then acknowledge
    /// what was confirmed.
    async fn turn<I: Incoming, O: Outgoing>(
        &mut self,
        inc: &mut I,
        out: &mut O,
        stats: &mut Stats,
        out_started: &mut bool,
        run: &mut Turns,
    ) -> Result<Flow> {
        if self
            .settings
            .window
            .is_some_and(|w| w > 0 && out.pending() >= w)
        {
            // wait for confirmations instead of taking more
            out.idle().await?;
            let wait = Duration::from_millis(200);
            self.ack_confirmed(inc, out, &mut run.confirmed, wait)
                .await?;
            inc.idle().await?;
            return Ok(Flow::Go);
        }
        if *out_started && !inc.has_ready() {
            // the next message may take a while: what the destination holds goes now
            out.flush().await?;
            if inc.acks_before_waiting() {
                self.ack_confirmed(inc, out, &mut run.confirmed, Duration::ZERO)
                    .await?;
            }
        }
        // a confirmation that arrives while the incoming side waits is taken at once
        let got = if *out_started && out.pending() > 0 {
            tokio::select! {
                biased;
                got = inc.get() => Some(got?),
                () = out.ready() => None,
            }
        } else {
            Some(inc.get().await?)
        };
        match got {
            None => {}
            Some(Got::Message(msg, token)) => {
                run.last_message = Instant::now();
                self.handle(msg, token, inc, out, stats, out_started)
                    .await?;
            }
            Some(Got::Idle) => {
                if self
                    .settings
                    .timeout_inactivity
                    .is_some_and(|t| run.last_message.elapsed() >= t)
                {
                    return Ok(Flow::Stop);
                }
                inc.idle().await?;
                out.idle().await?;
            }
            Some(Got::End) => return Ok(Flow::Stop),
        }
        self.ack_confirmed(inc, out, &mut run.confirmed, Duration::ZERO)
            .await?;
        Ok(Flow::Go)
    }

    /// One message: counted (before filtering, as the reference counts dropped ones),
    /// filtered, and put; a dropped one is acknowledged at once, as nothing will confirm it.
    async fn handle<I: Incoming, O: Outgoing>(
        &mut self,
        msg: Message,
        token: Token,
        inc: &mut I,
        out: &mut O,
        stats: &mut Stats,
        out_started: &mut bool,
    ) -> Result<()> {
        stats.message(msg.size());
        Meter::add(&self.meter.received, 1);
        Meter::add(&self.meter.received_bytes, msg.size() as u64);
        let msg = if self.filters.is_empty() {
            Some(msg)
        } else {
            self.filters.apply(msg)?
        };
        let Some(mut msg) = msg else {
            return self.not_put(token, inc, stats, &self.meter.dropped).await;
        };
        let awaiting = match self.books.check(&mut msg, inc.element(token), &self.meter) {
            Seen::Before => {
                // written (or confirmed) before: acknowledged, not put again
                return self
                    .not_put(token, inc, stats, &self.meter.duplicates)
                    .await;
            }
            Seen::Staged => {
                // the other copy's batch is committed first (its id recorded, it an
                // element): only then is this one acknowledged, not put
                out.flush().await?;
                return self
                    .not_put(token, inc, stats, &self.meter.duplicates)
                    .await;
            }
            Seen::New(awaiting) => awaiting,
        };
        if !*out_started {
            self.start_outgoing(out, out_started).await?;
        }
        let size = msg.size() as u64;
        if let Some(k) = awaiting {
            self.books.awaiting.insert(token, k);
        }
        if self.put(msg, token, inc, out).await? {
            Meter::add(&self.meter.sent, 1);
            Meter::add(&self.meter.sent_bytes, size);
        }
        stats.handed_on();
        Ok(())
    }

    /// A message acknowledged without being put (dropped by a filter, or a duplicate),
    /// counted in `why`.
    async fn not_put<I: Incoming>(
        &self,
        token: Token,
        inc: &mut I,
        stats: &mut Stats,
        why: &std::sync::atomic::AtomicU64,
    ) -> Result<()> {
        inc.ack(token).await?;
        Meter::add(why, 1);
        Meter::add(&self.meter.acknowledged, 1);
        stats.handed_on();
        Ok(())
    }

    /// Puts a message; with a reject queue, a refusal of it is rejected (`false`: not put)
    /// and a refusal of an earlier one reported by this `put` is rejected before this
    /// message is put again.
    async fn put<I: Incoming, O: Outgoing>(
        &mut self,
        msg: Message,
        token: Token,
        inc: &mut I,
        out: &mut O,
    ) -> Result<bool> {
        loop {
            match out.put(&msg, token).await {
                Ok(()) => {
                    if self.reject.is_some() {
                        self.books.held.insert(token, msg);
                    }
                    return Ok(true);
                }
                Err(e) if self.rejects(&e) && e.token.is_some_and(|t| t != token) => {
                    self.reject_held(e, inc).await?;
                }
                Err(e) if self.rejects(&e) => {
                    self.reject(msg, token, e, inc).await?;
                    return Ok(false);
                }
                Err(e) => return Err(Self::name_element(e, inc.origin(token))),
            }
        }
    }

    /// A message refused as it is, from a queue element: the element is named, and it is the
    /// incoming queue's error.
    fn name_element(e: Error, origin: Option<String>) -> Error {
        match (e.kind, origin) {
            (ErrorKind::BadMessage, Some(element)) => Error {
                kind: ErrorKind::IncomingQueue,
                message: format!("incoming queue element {element}: {}", e.message),
                ..e
            },
            _ => e,
        }
    }

    /// Linger: keeps confirming and acknowledging what is in flight, at most
    /// `--timeout-linger`.
    async fn linger<I: Incoming, O: Outgoing>(
        &mut self,
        inc: &mut I,
        out: &mut O,
        confirmed: &mut Vec<Token>,
    ) -> Result<()> {
        let limit = self.settings.timeout_linger;
        let linger_start = Instant::now();
        if out.pending() > 0 {
            let r = out.idle().await;
            self.or_reject(r, inc).await?;
        }
        while out.pending() > 0 {
            if limit.is_some_and(|l| linger_start.elapsed() >= l) {
                break;
            }
            let wait = limit.map_or(Duration::from_millis(100), |l| {
                (l / 10).min(Duration::from_millis(100))
            });
            let r = self.ack_confirmed(inc, out, confirmed, wait).await;
            self.or_reject(r, inc).await?;
            inc.idle().await?;
        }
        let r = self
            .ack_confirmed(inc, out, confirmed, Duration::ZERO)
            .await;
        self.or_reject(r, inc).await
    }

    /// `r`, unless it is the refusal of a message put earlier and a reject queue takes it.
    async fn or_reject<I: Incoming>(&mut self, r: Result<()>, inc: &mut I) -> Result<()> {
        match r {
            Err(e) if self.rejects(&e) => self.reject_held(e, inc).await,
            r => r,
        }
    }
}

/// What the turns of one run keep.
struct Turns {
    start: Instant,
    last_message: Instant,
    /// Confirmed tokens, reused between calls.
    confirmed: Vec<Token>,
}

/// Whether the loop goes on.
enum Flow {
    Go,
    Stop,
}
