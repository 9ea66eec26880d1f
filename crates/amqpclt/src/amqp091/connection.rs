//! One AMQP 0-9-1 connection and its channel, on lapin: the agent's failover and TCP dial,
//! TLS with the agent's rustls configuration, SASL from the credentials, the virtual host
//! from the URI's path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agent::{Broker, Endpoint};
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::tcp::{AsyncTcpStream, RustlsConnector};
use lapin::types::ShortString;
use lapin::uri::{
    AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo, SASLMechanism,
};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use transfer::{Error, ErrorKind, Result};

use super::destination::Route;

/// The largest AMQP 0-9-1 frame we take: RabbitMQ's own default (bodies span frames).
pub const FRAME_MAX: u32 = 128 * 1024;

/// What a connection needs beyond the broker's shared settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// One broker's endpoints, dialer, credentials, timeouts.
    pub broker: Broker,
    /// `--heart-beat`: the heartbeat we ask for, in seconds (else the broker's).
    pub heartbeat: Option<u16>,
    /// Set when a server answered our AMQP 0-9-1 header with AMQP 1.0's (or, probing,
    /// closed the connection while it opened): the module choice falls back to AMQP 1.0.
    pub speaks_amqp1: Arc<AtomicBool>,
    /// No module was named: a peer that closes the connection while it opens (the Qpid
    /// Proton broker over TLS answers AMQP 0-9-1 so) is taken for an AMQP 1.0 peer.
    pub probing: bool,
}

/// An open connection with one channel.
pub struct Connected {
    /// The connection.
    pub connection: Connection,
    /// Its channel.
    pub channel: Channel,
    /// `host:port`, for messages.
    pub peer: String,
}

/// What a recovery on `conn` (connected again) reports to `transfer::Recovering`.
pub fn recovered(conn: Option<&Connected>, resent: usize) -> transfer::Recovered {
    transfer::Recovered {
        peer: conn.map_or("?", |c| c.peer.as_str()).to_string(),
        resent: resent as u64,
    }
}

/// The virtual host of a URI path: percent-decoded; none or empty is RabbitMQ's `/`.
pub fn vhost(path: Option<&str>) -> String {
    let p = path.unwrap_or("");
    if p.is_empty() {
        return "/".into();
    }
    let mut out = Vec::new();
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            p.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(x)) => {
                out.push(x);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Options {
    /// A connection with its channel on one of the broker's servers (failover and backoff
    /// as every agent).
    pub async fn connect(&self, retrying: bool) -> Result<Connected> {
        self.broker
            .endpoints
            .connect(retrying, &self.broker.stop, |ep| self.open(ep))
            .await
    }

    fn uri(&self, ep: &Endpoint) -> AMQPUri {
        let c = &self.broker.credentials;
        let (username, password, mechanism) = match (&c.login, &c.passcode) {
            (None, None) if c.x509 => (String::new(), String::new(), SASLMechanism::External),
            // `none`: what pika did without credentials, RabbitMQ's guest
            (None, None) => ("guest".into(), "guest".into(), SASLMechanism::Plain),
            (l, p) => (
                l.clone().unwrap_or_default(),
                p.clone().unwrap_or_default(),
                SASLMechanism::Plain,
            ),
        };
        AMQPUri {
            scheme: if ep.tls {
                AMQPScheme::AMQPS
            } else {
                AMQPScheme::AMQP
            },
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo { username, password },
                host: ep.host.clone(),
                port: ep.port,
            },
            vhost: vhost(ep.path.as_deref()),
            query: AMQPQueryString {
                // a peer proposing no limit (0) would otherwise have lapin size its buffers
                // for 4 GiB frames; a bigger frame is refused
                frame_max: Some(FRAME_MAX),
                heartbeat: self.heartbeat,
                auth_mechanism: Some(mechanism),
                ..AMQPQueryString::default()
            },
        }
    }

    async fn open(&self, ep: Endpoint) -> Result<Connected> {
        let peer = ep.peer();
        let uri = self.uri(&ep);
        let dialer = self.broker.dialer.clone();
        let tls = dialer.tls.clone();
        let (ep2, peer2) = (ep.clone(), peer.clone());
        // lapin dials through this: the agent's TCP connect, then TLS with our configuration
        let dial = async move |_uri: AMQPUri, _rt| -> lapin::Result<_> {
            let io = async {
                let tcp = dialer.dial_tcp(&ep2).await.map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::ConnectionRefused, e.line())
                })?;
                let stream = AsyncTcpStream::Plain(async_compat::Compat::new(tcp));
                if !ep2.tls {
                    return Ok(stream);
                }
                let tls = tls.as_ref().ok_or_else(|| {
                    std::io::Error::other(format!("{peer2} needs TLS and none is configured"))
                })?;
                let connector = RustlsConnector::from(tls.client_config());
                stream
                    .into_rustls(&connector, tls.server_name(&ep2.host))
                    .await
                    .map_err(|e| std::io::Error::other(format!("TLS handshake with {peer2}: {e}")))
            };
            io.await.map_err(lapin::Error::from)
        };
        let props = ConnectionProperties::default()
            .with_connection_name(format!("amqpclt-{}", std::process::id()).into());
        let runtime = lapin::runtime::default_runtime()
            .map_err(|e| Error::caused(ErrorKind::Protocol, "no runtime", e))?;
        let wait = self
            .broker
            .timeout_connect
            .unwrap_or(Duration::from_secs(10));
        let connection =
            tokio::time::timeout(wait, Connection::connector(uri, runtime, dial, props))
                .await
                .map_err(|_| {
                    Error::new(
                        ErrorKind::Connect,
                        format!(
                            "no AMQP 0-9-1 connection with {peer} within {}s",
                            wait.as_secs()
                        ),
                    )
                })?
                .map_err(|e| self.open_error(e, &peer))?;
        let channel = connection.create_channel().await.map_err(|e| {
            Error::new(
                ErrorKind::Connect,
                format!("cannot open a channel with {peer}: {e}"),
            )
        })?;
        agent::log::debug(1, format_args!("connected to {peer} (AMQP 0-9-1)"));
        Ok(Connected {
            connection,
            channel,
            peer,
        })
    }

    /// Refused credentials and a virtual host we may not use are the broker saying no
    /// (exit 4); a peer that speaks only AMQP 1.0 is noted for the module choice; anything
    /// else is a connection that could not be made (exit 3), which failover retries.
    fn open_error(&self, e: lapin::Error, peer: &str) -> Error {
        use lapin::ErrorKind as K;
        match e.kind() {
            K::InvalidProtocolVersion(v) => {
                if v.major == 1 {
                    self.speaks_amqp1.store(true, Ordering::Relaxed);
                }
                Error::new(
                    ErrorKind::Broker,
                    format!(
                        "{peer} does not speak AMQP 0-9-1 (it answered AMQP {}.{}.{}): use \
                         --incoming-broker-module/--outgoing-broker-module amqp1",
                        v.major, v.minor, v.revision
                    ),
                )
            }
            K::ProtocolError(a) if a.get_id() == 403 => Error::new(
                ErrorKind::Broker,
                format!("{peer} refused the credentials: {a}"),
            ),
            K::ProtocolError(a) => Error::new(
                ErrorKind::Broker,
                format!("{peer} refused the connection: {a}"),
            ),
            K::IOError(io)
                if self.probing
                    && matches!(
                        io.kind(),
                        std::io::ErrorKind::UnexpectedEof
                            | std::io::ErrorKind::ConnectionReset
                            | std::io::ErrorKind::ConnectionAborted
                    ) =>
            {
                self.speaks_amqp1.store(true, Ordering::Relaxed);
                Error::caused(
                    ErrorKind::Broker,
                    format!("{peer} closed the connection to an AMQP 0-9-1 client"),
                    e,
                )
            }
            _ if e.to_string().contains("ACCESS_REFUSED") => Error::caused(
                ErrorKind::Broker,
                format!("{peer} refused the credentials"),
                e,
            ),
            _ => Error::caused(
                ErrorKind::Connect,
                format!("cannot open an AMQP 0-9-1 connection to {peer}"),
                e,
            ),
        }
    }
}

impl Connected {
    /// Whether the connection went away (the broker closed it or the socket broke).
    pub fn lost(&self) -> Option<Error> {
        (!self.connection.status().connected()).then(|| {
            Error::new(
                ErrorKind::Protocol,
                format!("the connection to {} was lost", self.peer),
            )
        })
    }

    /// Closes the channel and the connection (errors of a peer already gone are of no
    /// interest at this point).
    pub async fn close(self, limit: Duration) {
        let close = async {
            if let Err(e) = self.channel.close(200, "bye".into()).await {
                agent::log::debug(1, format_args!("closing the channel to {}: {e}", self.peer));
            }
            if let Err(e) = self.connection.close(200, "bye".into()).await {
                agent::log::debug(
                    1,
                    format_args!("closing the connection to {}: {e}", self.peer),
                );
            }
        };
        let _ = tokio::time::timeout(limit, close).await;
    }
}

/// What a lapin failure is to the engine: the broker closing the channel or the connection
/// for a reason of its own (no such exchange, access refused, a precondition) is final
/// (exit 4); a broken socket, a missed heartbeat or a broker shutting down (320
/// CONNECTION_FORCED) is a lost connection, which `--reconnect` recovers.
pub fn failure(e: &lapin::Error, what: impl std::fmt::Display) -> Error {
    use lapin::ErrorKind as K;
    let kind = match e.kind() {
        K::ProtocolError(a) if a.get_id() != 320 => ErrorKind::Broker,
        _ => ErrorKind::Protocol,
    };
    Error::caused(kind, what.to_string(), e.clone())
}

/// Declares what a route needs, as the reference did: its queue, its exchange (unless the
/// default one or `amq.*`), and the queue's binding to the exchange with the routing key.
/// Returns the queue's name (the server's, for a server-named queue), if the route has one.
pub async fn declare(c: &Connected, r: &Route) -> Result<Option<ShortString>> {
    let refused = |e: lapin::Error, what: &str| {
        failure(
            &e,
            format!("{} refused to {what} for {}", c.peer, r.original),
        )
    };
    let ch = &c.channel;
    let mut queue = None;
    if let Some(q) = &r.queue {
        let opts = QueueDeclareOptions {
            durable: q.durable,
            exclusive: q.exclusive,
            auto_delete: q.auto_delete,
            ..QueueDeclareOptions::default()
        };
        let declared = ch
            .queue_declare(q.name.as_str().into(), opts, q.arguments.clone())
            .await
            .map_err(|e| refused(e, "declare the queue"))?;
        queue = Some(declared.name().clone());
    }
    if let Some(x) = r.exchange.as_ref().filter(|x| x.declared()) {
        let opts = ExchangeDeclareOptions {
            durable: x.durable,
            auto_delete: x.auto_delete,
            ..ExchangeDeclareOptions::default()
        };
        ch.exchange_declare(
            x.name.as_str().into(),
            exchange_kind(&x.kind),
            opts,
            x.arguments.clone(),
        )
        .await
        .map_err(|e| refused(e, "declare the exchange"))?;
    }
    if let (Some(q), Some(x)) = (&queue, r.exchange.as_ref())
        && !x.name.is_empty()
    {
        ch.queue_bind(
            q.clone(),
            x.name.as_str().into(),
            r.routing_key.as_str().into(),
            QueueBindOptions::default(),
            Default::default(),
        )
        .await
        .map_err(|e| refused(e, "bind the queue"))?;
    }
    Ok(queue)
}

fn exchange_kind(k: &str) -> ExchangeKind {
    match k {
        "direct" => ExchangeKind::Direct,
        "fanout" => ExchangeKind::Fanout,
        "topic" => ExchangeKind::Topic,
        "headers" => ExchangeKind::Headers,
        other => ExchangeKind::Custom(other.to_string()),
    }
}
