//! A STOMP connection on tokio: CONNECT with version negotiation, frames in and out,
//! heart-beats, DISCONNECT with a receipt.

use std::time::{Duration, Instant};

use agent::Endpoint;
use agent::dial::Stream;
use agent::log;
use futures_util::{SinkExt, StreamExt};
use tokio_util::codec::Framed;
use transfer::{Error, ErrorKind, Result};

use crate::frame::{Codec, Frame, FrameError, Item, Version};

/// The broker flavours whose headers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerType {
    /// Apache ActiveMQ 5.
    ActiveMq,
    /// Apache Apollo.
    Apollo,
    /// ActiveMQ Artemis.
    Artemis,
    /// RabbitMQ.
    RabbitMq,
    /// Anything else.
    Unknown,
}

impl BrokerType {
    /// Parses the reference's names (`ActiveMQ`, `Apollo`, `Artemis`, `RabbitMQ`, `UNKNOWN`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "activemq" => Some(BrokerType::ActiveMq),
            "apollo" => Some(BrokerType::Apollo),
            "artemis" => Some(BrokerType::Artemis),
            "rabbitmq" => Some(BrokerType::RabbitMq),
            "unknown" => Some(BrokerType::Unknown),
            _ => None,
        }
    }

    /// Guesses from CONNECTED's `server` and `session` headers, as the reference does.
    pub fn detect(server: Option<&str>, session: Option<&str>) -> Self {
        match server {
            Some(s) if s.starts_with("ActiveMQ-Artemis/") => return BrokerType::Artemis,
            Some(s) if s.starts_with("ActiveMQ/") => return BrokerType::ActiveMq,
            Some(s) if s.starts_with("apache-apollo/") => return BrokerType::Apollo,
            Some(s) if s.starts_with("RabbitMQ/") => return BrokerType::RabbitMq,
            _ => {}
        }
        match session {
            Some(s) if s.starts_with("apollo-") => BrokerType::Apollo,
            Some(s) if s.starts_with("session-") && s.len() == "session-".len() + 22 => {
                BrokerType::RabbitMq
            }
            _ => BrokerType::Unknown,
        }
    }

    /// The subscription header that sets the prefetch, if the broker has one.
    pub fn prefetch_header(self) -> Option<&'static str> {
        match self {
            BrokerType::ActiveMq => Some("activemq.prefetchSize"),
            BrokerType::Apollo => Some("credit"),
            BrokerType::Artemis => Some("consumer-window-size"),
            BrokerType::RabbitMq => Some("prefetch-count"),
            BrokerType::Unknown => None,
        }
    }
}

/// How to connect: the agent's settings of the broker and STOMP's own.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Servers, failover, dialer (TCP, TLS), credentials, timeouts, stop flag.
    pub broker: agent::Broker,
    /// `accept-version`, default `1.0,1.1,1.2`.
    pub accept_version: Option<String>,
    /// Other CONNECT headers (`host` among them; default: the peer host name).
    pub headers: Vec<(String, String)>,
    /// Heart-beats asked for: (what we send, what we want), milliseconds.
    pub heart_beat: Option<(u64, u64)>,
    /// Forced broker type; detected from CONNECTED otherwise.
    pub broker_type: Option<BrokerType>,
    /// `--timeout-frame`.
    pub frame_timeout: Duration,
}

/// A connected client.
pub struct Client {
    framed: Framed<Box<dyn Stream>, Codec>,
    /// The negotiated version.
    pub version: Version,
    /// The broker type, forced or detected.
    pub broker: BrokerType,
    /// `host:port`, for messages.
    pub peer: String,
    send_every: Option<Duration>,
    silent_after: Option<Duration>,
    last_sent: Instant,
    last_recv: Instant,
    unflushed: usize,
}

/// CONNECT with the versions asked for, `host` (the peer's name unless given), the other
/// headers, the credentials and the heart-beats.
fn connect_frame(ep: &Endpoint, o: &ConnectOptions) -> Frame {
    let mut f = Frame::new("CONNECT").header(
        "accept-version",
        o.accept_version
            .clone()
            .unwrap_or_else(|| "1.0,1.1,1.2".into()),
    );
    if !o.headers.iter().any(|(k, _)| k == "host") {
        f = f.header("host", ep.host.clone());
    }
    for (k, v) in &o.headers {
        f = f.header(k, v.clone());
    }
    if let Some(l) = &o.broker.credentials.login {
        f = f.header("login", l.clone());
    }
    if let Some(p) = &o.broker.credentials.passcode {
        f = f.header("passcode", p.clone());
    }
    if let Some((cx, cy)) = o.heart_beat {
        f = f.header("heart-beat", format!("{cx},{cy}"));
    }
    f
}

/// A failure before CONNECTED: a connection reset (a broker still starting) is a connection
/// that could not be made, which failover and `--reconnect` try again.
fn handshake_error(e: FrameError, peer: &str) -> Error {
    match e {
        FrameError::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            Error::new(
                ErrorKind::Connect,
                format!("connection to {peer} failed: {e}"),
            )
        }
        e => proto(e, peer),
    }
}

/// Waits at most `wait` for the CONNECTED frame (heart-beats skipped); an ERROR frame is the
/// broker's refusal.
async fn await_connected(
    framed: &mut Framed<Box<dyn Stream>, Codec>,
    wait: Duration,
    peer: &str,
) -> Result<Frame> {
    loop {
        let next = tokio::time::timeout(wait, framed.next())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Connect,
                    format!("no CONNECTED frame from {peer} within {}s", wait.as_secs()),
                )
            })?;
        match next {
            // closed without an ERROR frame (a refused login comes with one): a broker still
            // starting, as ActiveMQ does before its broker service is up, so a connection
            // failure that failover and --reconnect try again
            None => {
                return Err(Error::new(
                    ErrorKind::Connect,
                    format!("{peer} closed the connection after CONNECT"),
                ));
            }
            Some(Err(e)) => return Err(handshake_error(e, peer)),
            Some(Ok(Item::HeartBeat)) => continue,
            Some(Ok(Item::Frame(f))) if f.command == "CONNECTED" => return Ok(f),
            Some(Ok(Item::Frame(f))) if f.command == "ERROR" => {
                return Err(error_frame(&f, peer));
            }
            Some(Ok(Item::Frame(f))) => {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("expected CONNECTED from {peer}, got {}", f.command),
                ));
            }
        }
    }
}

/// `--debug --debug`: each frame's command and headers (`-ddd`: and body size), the
/// passcode hidden.
fn trace(dir: char, f: &Frame, peer: &str) {
    if log::enabled(2) {
        let fields = f.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        log::trace(dir, &format!("{peer} {}", f.command), fields, f.body.len());
    }
}

fn proto(e: FrameError, peer: &str) -> Error {
    match e {
        FrameError::Io(e) => Error::caused(
            ErrorKind::Protocol,
            format!("connection to {peer} failed"),
            e,
        ),
        e => Error::caused(ErrorKind::Protocol, format!("bad frame from {peer}"), e),
    }
}

/// The fatal error for an ERROR frame: its `message` header (and a short body).
pub fn error_frame(f: &Frame, peer: &str) -> Error {
    let msg = f.get("message").unwrap_or("");
    let body = String::from_utf8_lossy(&f.body);
    let body = body.trim();
    let detail = if body.is_empty() || msg.contains(body) {
        String::new()
    } else {
        format!(
            " ({})",
            body.lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        )
    };
    Error::new(
        ErrorKind::Broker,
        format!("unexpected ERROR frame received from {peer}: {msg}{detail}"),
    )
}

/// Heart-beats: each direction at the larger of the two periods, off if either is 0.
/// Returns how often to send one and after how long a silent broker is dead.
fn heart_beats(asked: Option<(u64, u64)>, hb: &str) -> (Option<Duration>, Option<Duration>) {
    let Some((cx, cy)) = asked else {
        return (None, None);
    };
    let mut it = hb.split(',').map(|s| s.trim().parse::<u64>().unwrap_or(0));
    let (sx, sy) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (
        (cx > 0 && sy > 0).then(|| Duration::from_millis(cx.max(sy))),
        (cy > 0 && sx > 0).then(|| Duration::from_millis(cy.max(sx)) * 2),
    )
}

impl Client {
    /// Connects (see `agent::Broker::connect`: failover, backoff, TCP or TLS) and speaks
    /// STOMP's CONNECT; an ERROR frame is final.
    pub async fn connect_any(o: &ConnectOptions, retrying: bool) -> Result<Client> {
        o.broker
            .connect(retrying, |ep, stream| Client::connect(ep, stream, o))
            .await
    }

    /// Sends CONNECT on a connected stream and waits for CONNECTED.
    pub async fn connect(
        ep: Endpoint,
        stream: Box<dyn Stream>,
        o: &ConnectOptions,
    ) -> Result<Client> {
        let peer = ep.peer();
        let mut codec = Codec::default();
        codec.max_partial = o.frame_timeout;
        let mut framed = Framed::new(stream, codec);
        let connect = connect_frame(&ep, o);
        trace('>', &connect, &peer);
        framed
            .send(&Item::Frame(connect))
            .await
            .map_err(|e| handshake_error(e, &peer))?;
        let wait = o.broker.timeout_connect.unwrap_or(Duration::from_secs(10));
        let connected = await_connected(&mut framed, wait, &peer).await?;
        trace('<', &connected, &peer);
        let version = connected
            .get("version")
            .and_then(Version::parse)
            .unwrap_or(Version::V1_0);
        framed.codec_mut().version = version;
        let broker = o.broker_type.unwrap_or_else(|| {
            BrokerType::detect(connected.get("server"), connected.get("session"))
        });
        let (send_every, silent_after) = match connected.get("heart-beat") {
            Some(hb) if version >= Version::V1_1 => heart_beats(o.heart_beat, hb),
            _ => (None, None),
        };
        log::debug(
            1,
            format_args!(
                "connected to {peer}: STOMP {}, broker type {broker:?}, heart-beats {:?}/{:?}",
                version.as_str(),
                send_every,
                silent_after.map(|s| s / 2)
            ),
        );
        Ok(Client {
            framed,
            version,
            broker,
            peer,
            send_every,
            silent_after,
            last_sent: Instant::now(),
            last_recv: Instant::now(),
            unflushed: 0,
        })
    }

    /// Queues a frame; it is written at the next flush (or when enough are queued).
    pub async fn send(&mut self, f: Frame) -> Result<()> {
        trace('>', &f, &self.peer);
        self.framed
            .feed(&Item::Frame(f))
            .await
            .map_err(|e| proto(e, &self.peer))?;
        self.unflushed += 1;
        if self.unflushed >= 64 || self.framed.write_buffer().len() >= 256 * 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<()> {
        if self.unflushed > 0 || !self.framed.write_buffer().is_empty() {
            self.framed
                .flush()
                .await
                .map_err(|e| proto(e, &self.peer))?;
            self.unflushed = 0;
            self.last_sent = Instant::now();
        }
        Ok(())
    }

    async fn beat(&mut self) -> Result<()> {
        if let Some(every) = self.send_every
            && self.last_sent.elapsed() >= every / 2
        {
            self.framed
                .send(&Item::HeartBeat)
                .await
                .map_err(|e| proto(e, &self.peer))?;
            self.last_sent = Instant::now();
        }
        if let Some(silent) = self.silent_after
            && self.last_recv.elapsed() > silent
        {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "broker {} silent for {:.1}s (heart-beats missed)",
                    self.peer,
                    self.last_recv.elapsed().as_secs_f64()
                ),
            ));
        }
        Ok(())
    }

    /// The next frame within `wait` (zero: only what has already arrived). ERROR frames are
    /// fatal errors. Heart-beats are sent and checked meanwhile. What is queued is written
    /// before returning empty-handed.
    pub async fn recv(&mut self, wait: Duration) -> Result<Option<Frame>> {
        self.recv_inner(wait, true).await
    }

    /// A frame that has already arrived, if any, writing nothing: the SENDs queued stay
    /// queued for one write of many (the caller flushes before it waits).
    pub async fn recv_arrived(&mut self) -> Result<Option<Frame>> {
        self.recv_inner(Duration::ZERO, false).await
    }

    async fn recv_inner(&mut self, wait: Duration, flush: bool) -> Result<Option<Frame>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.beat().await?;
            // Frames already here are handed out before anything is written: the ACKs and
            // SENDs they cause queue up and leave in batches (every 64 frames, or below,
            // before we wait), not one write each.
            let next = match futures_util::FutureExt::now_or_never(self.framed.next()) {
                Some(n) => Some(n),
                None => {
                    // about to wait, or to return empty-handed: what is queued goes out first
                    if flush || !wait.is_zero() {
                        self.flush().await?;
                    }
                    if wait.is_zero() {
                        return Ok(None);
                    }
                    let tick = self
                        .send_every
                        .map_or(wait, |e| (e / 4).max(Duration::from_millis(10)));
                    let until = deadline.min(tokio::time::Instant::now() + tick);
                    tokio::time::timeout_at(until, self.framed.next())
                        .await
                        .ok()
                }
            };
            match next {
                None if tokio::time::Instant::now() >= deadline => return Ok(None),
                None => continue,
                Some(None) => {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("connection closed by {}", self.peer),
                    ));
                }
                Some(Some(Err(e))) => return Err(proto(e, &self.peer)),
                Some(Some(Ok(item))) => {
                    self.last_recv = Instant::now();
                    match item {
                        Item::HeartBeat => continue,
                        Item::Frame(f) if f.command == "ERROR" => {
                            trace('<', &f, &self.peer);
                            return Err(error_frame(&f, &self.peer));
                        }
                        Item::Frame(f) => {
                            trace('<', &f, &self.peer);
                            return Ok(Some(f));
                        }
                    }
                }
            }
        }
    }

    /// Sends DISCONNECT; with `receipt`, waits up to `timeout` for its RECEIPT (which
    /// confirms every frame sent before). Frames arriving meanwhile are dropped: anything
    /// unacknowledged is redelivered by the broker.
    pub async fn disconnect(mut self, receipt: bool, timeout: Duration) -> Result<()> {
        let mut f = Frame::new("DISCONNECT");
        if receipt {
            f = f.header("receipt", "disconnect");
        }
        self.send(f).await?;
        self.flush().await?;
        if !receipt {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.recv(deadline - Instant::now()).await {
                Ok(Some(f))
                    if f.command == "RECEIPT" && f.get("receipt-id") == Some("disconnect") =>
                {
                    return Ok(());
                }
                Ok(_) => {}
                // some brokers close right after the receipt
                Err(_) => return Ok(()),
            }
        }
        Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "no receipt for DISCONNECT from {} within {}s",
                self.peer,
                timeout.as_secs()
            ),
        ))
    }
}
