//! The TCP (and TLS) connection to one server, before any protocol is spoken.

use std::time::Duration;

use tokio::net::TcpStream;
use transfer::{Error, ErrorKind, Result};

use crate::endpoint::Endpoint;
use crate::tls::Tls;

/// A connected byte stream: plain TCP or TLS over it.
pub trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// How to dial: the TLS configuration (when any server needs it) and the connect timeout.
#[derive(Debug, Clone, Default)]
pub struct Dialer {
    /// Built once for every server of the broker.
    pub tls: Option<Tls>,
    /// TCP connect timeout, also the TLS handshake's (60 s when unset).
    pub timeout: Option<Duration>,
}

impl Dialer {
    /// Connects the TCP socket to the server (TCP_NODELAY), within the connect timeout:
    /// for a client library that runs its own TLS handshake on it (AMQP 0-9-1's lapin).
    /// Failures are [`ErrorKind::Connect`]: failover moves on to the next server.
    pub async fn dial_tcp(&self, ep: &Endpoint) -> Result<TcpStream> {
        let peer = ep.peer();
        let connect = async {
            match ep.address {
                // an address of an `all:` alias: the name is for TLS only
                Some(a) => TcpStream::connect(std::net::SocketAddr::new(a, ep.port)).await,
                None => TcpStream::connect((ep.host.as_str(), ep.port)).await,
            }
        };
        let stream = match self.timeout {
            Some(t) => tokio::time::timeout(t, connect).await.map_err(|_| {
                Error::new(
                    ErrorKind::Connect,
                    format!("cannot connect to {peer}: timed out"),
                )
            })?,
            None => connect.await,
        }
        .map_err(|e| Error::caused(ErrorKind::Connect, format!("cannot connect to {peer}"), e))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// Connects to the server (TCP_NODELAY) and runs the TLS handshake when it needs TLS.
    /// Failures are [`ErrorKind::Connect`]: failover moves on to the next server.
    pub async fn dial(&self, ep: &Endpoint) -> Result<Box<dyn Stream>> {
        let peer = ep.peer();
        let stream = self.dial_tcp(ep).await?;
        if !ep.tls {
            return Ok(Box::new(stream));
        }
        let Some(tls) = &self.tls else {
            return Err(Error::new(
                ErrorKind::Connect,
                format!("{peer} needs TLS and none is configured"),
            ));
        };
        let failed = |why: String| {
            Error::new(
                ErrorKind::Connect,
                format!("TLS handshake with {peer}: {why}"),
            )
        };
        let t = self.timeout.unwrap_or(Duration::from_secs(60));
        let s = tokio::time::timeout(t, tls.handshake(&ep.host, stream))
            .await
            .map_err(|_| failed("timed out".into()))?
            .map_err(|e| failed(e.to_string()))?;
        crate::log::debug(1, format_args!("TLS established with {peer}"));
        Ok(Box::new(s))
    }
}
