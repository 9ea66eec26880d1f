//! The main loop: get, count, put, acknowledge what was confirmed; then linger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::filter::Filters;
use crate::stats::SideState;
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

/// Called once per loop turn (pidfile liveness and its `quit` action); `Ok(false)` stops.
pub type Tick<'a> = Box<dyn FnMut() -> Result<bool> + 'a>;

/// The engine: settings, a stop flag and an optional per-turn hook.
pub struct Engine<'a> {
    settings: Settings,
    stop: StopFlag,
    tick: Option<Tick<'a>>,
    filters: Filters,
    meter: Arc<Meter>,
}

impl<'a> Engine<'a> {
    /// An engine with these settings, stopped when `stop` becomes true.
    pub fn new(settings: Settings, stop: StopFlag) -> Self {
        Engine {
            settings,
            stop,
            tick: None,
            filters: Filters::default(),
            meter: Arc::default(),
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

    async fn ack_confirmed<I: Incoming, O: Outgoing>(
        meter: &Meter,
        inc: &mut I,
        out: &mut O,
        buf: &mut Vec<Token>,
        wait: Duration,
    ) -> Result<()> {
        out.confirmed(buf, wait).await?;
        Meter::add(&meter.confirmed, buf.len() as u64);
        for t in buf.drain(..) {
            inc.ack(t).await?;
            Meter::add(&meter.acknowledged, 1);
        }
        meter.pending.store(out.pending() as u64, Ordering::Relaxed);
        Ok(())
    }

    async fn main<I: Incoming, O: Outgoing>(
        &mut self,
        inc: &mut I,
        out: &mut O,
        stats: &mut Stats,
        out_started: &mut bool,
    ) -> Result<()> {
        let s = self.settings.clone();
        let start = Instant::now();
        let mut last_message = start;
        let mut confirmed = Vec::new();
        let meter = self.meter.clone();
        if !s.lazy {
            out.start().await?;
            *out_started = true;
            meter.set_state(true, SideState::Up);
        }
        inc.start().await?;
        meter.set_state(false, SideState::Up);
        loop {
            if self.stopping()
                || s.count.is_some_and(|c| stats.count >= c)
                || s.duration.is_some_and(|d| start.elapsed() >= d)
            {
                break;
            }
            let window_full = s.window.is_some_and(|w| w > 0 && out.pending() >= w);
            if window_full {
                // Wait for confirmations instead of taking more.
                out.idle().await?;
                Self::ack_confirmed(
                    &self.meter,
                    inc,
                    out,
                    &mut confirmed,
                    Duration::from_millis(200),
                )
                .await?;
                inc.idle().await?;
            } else {
                if *out_started && !inc.has_ready() {
                    // the next message may take a while: what the destination holds goes now
                    out.flush().await?;
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
                        last_message = Instant::now();
                        // counted before filtering, as the reference counts dropped ones
                        stats.message(msg.size());
                        Meter::add(&meter.received, 1);
                        Meter::add(&meter.received_bytes, msg.size() as u64);
                        let msg = if self.filters.is_empty() {
                            Some(msg)
                        } else {
                            self.filters.apply(msg)?
                        };
                        match msg {
                            Some(msg) => {
                                if !*out_started {
                                    out.start().await?;
                                    *out_started = true;
                                    meter.set_state(true, SideState::Up);
                                }
                                if let Err(e) = out.put(&msg, token).await {
                                    return Err(match (e.kind, inc.origin(token)) {
                                        (ErrorKind::BadMessage, Some(element)) => Error::new(
                                            ErrorKind::IncomingQueue,
                                            format!(
                                                "incoming queue element {element}: {}",
                                                e.message
                                            ),
                                        ),
                                        _ => e,
                                    });
                                }
                                Meter::add(&meter.sent, 1);
                                Meter::add(&meter.sent_bytes, msg.size() as u64);
                            }
                            // dropped: nothing will confirm it, acknowledge it now
                            None => {
                                inc.ack(token).await?;
                                Meter::add(&meter.dropped, 1);
                                Meter::add(&meter.acknowledged, 1);
                            }
                        }
                        stats.handed_on();
                    }
                    Some(Got::Idle) => {
                        if s.timeout_inactivity
                            .is_some_and(|t| last_message.elapsed() >= t)
                        {
                            break;
                        }
                        inc.idle().await?;
                        out.idle().await?;
                    }
                    Some(Got::End) => break,
                }
                Self::ack_confirmed(&self.meter, inc, out, &mut confirmed, Duration::ZERO).await?;
            }
            if let Some(tick) = self.tick.as_mut()
                && !tick()?
            {
                break;
            }
        }
        // Linger: keep confirming and acknowledging what is in flight.
        let linger_start = Instant::now();
        if out.pending() > 0 {
            out.idle().await?;
        }
        while out.pending() > 0 {
            if s.timeout_linger
                .is_some_and(|l| linger_start.elapsed() >= l)
            {
                break;
            }
            let wait = s.timeout_linger.map_or(Duration::from_millis(100), |l| {
                (l / 10).min(Duration::from_millis(100))
            });
            Self::ack_confirmed(&self.meter, inc, out, &mut confirmed, wait).await?;
            inc.idle().await?;
        }
        Self::ack_confirmed(&self.meter, inc, out, &mut confirmed, Duration::ZERO).await?;
        Ok(())
    }
}
