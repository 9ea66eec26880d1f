//! One AMQP 1.0 connection and session: the agent's dialer (TCP, TLS) under fe2o3-amqp,
//! SASL from the credentials, the idle time-out from `--heart-beat`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agent::{Broker, Endpoint};
use fe2o3_amqp::connection::ConnectionHandle;
use fe2o3_amqp::sasl_profile::SaslProfile;
use fe2o3_amqp::session::SessionHandle;
use fe2o3_amqp::{Connection, Session};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use transfer::{Error, ErrorKind, Result};

/// The largest frame a peer may send (AMQP's default is 4 GiB; RabbitMQ's own is 128 KiB).
pub const MAX_FRAME: u32 = 1 << 20;

/// The dialed stream, with the `Debug` fe2o3-amqp asks of it.
struct Stream(Box<dyn agent::dial::Stream>);

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// What a connection needs beyond the broker's shared settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// One broker's endpoints, dialer, credentials, timeouts.
    pub broker: Broker,
    /// The AMQP idle time-out we ask the peer to honour (`--heart-beat`).
    pub idle_timeout: Option<Duration>,
    /// The virtual host (the URI's path, or `vhost:NAME` for RabbitMQ), as the open's
    /// hostname.
    pub hostname: Option<String>,
}

/// An open connection with one session.
pub struct Connected {
    /// The connection.
    pub connection: ConnectionHandle<()>,
    /// Its session.
    pub session: SessionHandle<()>,
    /// `host:port`, for messages.
    pub peer: String,
}

impl Options {
    /// An AMQP connection with its session on one of the broker's servers (failover,
    /// backoff, TCP or TLS: `agent::Broker::connect`).
    pub async fn connect(&self, retrying: bool) -> Result<Connected> {
        let open = |ep, stream| Connected::open(ep, stream, self);
        self.broker.connect(retrying, open).await
    }
}

impl Connected {
    /// The connection's or the session's event loop has stopped (the peer went away): a
    /// settlement still awaited on a link we hold would never come.
    pub fn lost(&self) -> Option<Error> {
        (self.connection.is_closed() || self.session.is_ended()).then(|| {
            Error::new(
                ErrorKind::Protocol,
                format!("the connection to {} was lost", self.peer),
            )
        })
    }

    /// Opens the AMQP connection and its session on a connected stream.
    pub async fn open(
        ep: Endpoint,
        stream: Box<dyn agent::dial::Stream>,
        o: &Options,
    ) -> Result<Connected> {
        let peer = ep.peer();
        let c = &o.broker.credentials;
        let hostname = o.hostname.as_deref().unwrap_or(ep.host.as_str());
        let mut stream = Stream(stream);
        let sasl = match (&c.login, &c.passcode) {
            // a certificate alone: EXTERNAL, done before fe2o3-amqp takes the stream
            (None, None) if c.x509 => None,
            (None, None) => Some(SaslProfile::Anonymous),
            (l, p) => Some(SaslProfile::Plain {
                username: l.clone().unwrap_or_default(),
                password: p.clone().unwrap_or_default(),
            }),
        };
        let wait = o.broker.timeout_connect.unwrap_or(Duration::from_secs(10));
        let timed_out = || {
            Error::new(
                ErrorKind::Connect,
                format!("no AMQP open from {peer} within {}s", wait.as_secs()),
            )
        };
        let mut builder = Connection::builder()
            .container_id(format!("amqpclt-{}", std::process::id()))
            .hostname(hostname)
            // a peer may not send frames bigger than this (a message spans several)
            .max_frame_size(MAX_FRAME);
        match sasl {
            Some(sasl) => builder = builder.sasl_profile(sasl),
            None => tokio::time::timeout(wait, crate::sasl::external(&mut stream, hostname))
                .await
                .map_err(|_| timed_out())?
                .map_err(|e| {
                    let kind = if e.refused() {
                        ErrorKind::Broker
                    } else {
                        ErrorKind::Connect
                    };
                    Error::caused(kind, peer.to_string(), e)
                })?,
        }
        if let Some(t) = o.idle_timeout {
            builder = builder.idle_time_out(t.as_millis().min(u32::MAX as u128) as u32);
        }
        let connection = tokio::time::timeout(
            wait,
            builder.open_with_stream(crate::coalesce::Coalesced::new(stream)),
        )
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| open_error(e, &peer))?;
        let mut connection = connection;
        // a broker going down (or still starting) may close right after the open: that is a
        // connection that could not be made, which failover and --reconnect retry
        let session = Session::begin(&mut connection).await.map_err(|e| {
            Error::new(
                ErrorKind::Connect,
                format!("cannot begin a session with {peer}: {e}"),
            )
        })?;
        agent::log::debug(1, format_args!("connected to {peer} (AMQP 1.0)"));
        Ok(Connected {
            connection,
            session,
            peer,
        })
    }

    /// Ends the session and closes the connection (errors of a peer already gone are
    /// of no interest at this point).
    pub async fn close(mut self) {
        if let Err(e) = self.session.end().await {
            agent::log::debug(
                1,
                format_args!("ending the session with {}: {e}", self.peer),
            );
        }
        if let Err(e) = self.connection.close().await {
            agent::log::debug(
                1,
                format_args!("closing the connection to {}: {e}", self.peer),
            );
        }
    }
}

/// A refused SASL exchange is the broker saying no (exit 4); anything else in the opening
/// handshake is a connection that could not be made (exit 3), which failover retries.
fn open_error(e: fe2o3_amqp::connection::OpenError, peer: &str) -> Error {
    use fe2o3_amqp::connection::OpenError;
    match e {
        OpenError::SaslError { .. } => Error::caused(
            ErrorKind::Broker,
            format!("{peer} refused the credentials"),
            e,
        ),
        e => Error::caused(
            ErrorKind::Connect,
            format!("cannot open an AMQP connection to {peer}"),
            e,
        ),
    }
}
