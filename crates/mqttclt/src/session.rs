//! One MQTT connection on the agent's dialer (TCP or TLS, failover, backoff): CONNECT and
//! CONNACK, packets in and out, keep-alive. The session state (packet identifiers in
//! flight) belongs to the broker modules, which know which spool element each one is.

use std::time::{Duration, Instant};

use agent::{Broker, Endpoint};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use transfer::{Error, ErrorKind, Result};

use crate::packet::{Connect, In, Out, Version};

/// What a connection needs beyond the broker's shared settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// One broker's endpoints, dialer, credentials, timeouts.
    pub broker: Broker,
    /// The protocol version.
    pub version: Version,
    /// The CONNECT to send (credentials filled in from the broker's).
    pub connect: Connect,
}

/// An open MQTT connection.
pub struct Session {
    stream: Box<dyn agent::dial::Stream>,
    /// The protocol version.
    pub version: Version,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// `host:port`, for messages.
    pub peer: String,
    /// The broker still had our session (persistent sessions).
    pub session_present: bool,
    /// How many QoS 1 publications may await their PUBACK (MQTT 5 CONNACK's receive
    /// maximum; 65535 when the broker sets none).
    pub receive_maximum: usize,
    next_pkid: u16,
    keep_alive: Duration,
    last_sent: Instant,
    ping_sent: Option<Instant>,
}

fn lost(peer: &str, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("the connection to {peer} was lost: {e}"),
    )
}

impl Options {
    /// An MQTT connection on one of the broker's servers (failover, backoff, TCP or TLS:
    /// `agent::Broker::connect`).
    pub async fn connect(&self, retrying: bool) -> Result<Session> {
        self.broker
            .connect(retrying, |ep, stream| Session::open(ep, stream, self))
            .await
    }
}

impl Session {
    async fn open(
        ep: Endpoint,
        stream: Box<dyn agent::dial::Stream>,
        o: &Options,
    ) -> Result<Session> {
        let peer = ep.peer();
        let mut connect = o.connect.clone();
        let c = &o.broker.credentials;
        if c.login.is_some() || c.passcode.is_some() {
            connect.login = Some((
                c.login.clone().unwrap_or_default(),
                c.passcode.clone().unwrap_or_default(),
            ));
        }
        let mut s = Session {
            stream,
            version: o.version,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::with_capacity(64 * 1024),
            peer: peer.clone(),
            session_present: false,
            receive_maximum: usize::from(u16::MAX),
            next_pkid: 0,
            keep_alive: Duration::from_secs(u64::from(connect.keep_alive)),
            last_sent: Instant::now(),
            ping_sent: None,
        };
        s.send(Out::Connect(connect)).await.map_err(|e| {
            Error::new(
                ErrorKind::Connect,
                format!("cannot connect to {peer}: {}", e.line()),
            )
        })?;
        let wait = o.broker.timeout_connect.unwrap_or(Duration::from_secs(10));
        let no_connack = || {
            Error::new(
                ErrorKind::Connect,
                format!("no MQTT CONNACK from {peer} within {}s", wait.as_secs()),
            )
        };
        match s.next(wait).await {
            Ok(Some(In::ConnAck {
                session_present,
                refused: None,
                receive_maximum,
            })) => {
                s.session_present = session_present;
                if let Some(m) = receive_maximum {
                    s.receive_maximum = usize::from(m.max(1));
                }
                agent::log::debug(
                    1,
                    format_args!("connected to {peer} (MQTT {:?})", o.version),
                );
                Ok(s)
            }
            Ok(Some(In::ConnAck {
                refused: Some(why), ..
            })) => Err(Error::new(
                ErrorKind::Broker,
                format!("{peer} refused the connection: {why}"),
            )),
            Ok(Some(other)) => Err(Error::new(
                ErrorKind::Connect,
                format!("{peer} answered CONNECT with {other:?}"),
            )),
            Ok(None) => Err(no_connack()),
            // a broker that closes at once (a 3.1.1 broker asked for MQTT 5, say)
            Err(e) => Err(Error::new(
                ErrorKind::Connect,
                format!("cannot open an MQTT session with {peer}: {}", e.line()),
            )),
        }
    }

    /// A packet identifier (1 to 65535, then again from 1); the caller skips those still
    /// in flight.
    pub fn pkid(&mut self) -> u16 {
        self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
        self.next_pkid
    }

    /// Appends a packet to what goes out at the next flush.
    pub fn queue(&mut self, p: Out) -> Result<()> {
        let version = self.version;
        version
            .write(p, &mut self.wbuf)
            .map_err(|e| Error::caused(ErrorKind::BadMessage, "cannot encode", e))
    }

    /// How many bytes are queued.
    pub fn queued(&self) -> usize {
        self.wbuf.len()
    }

    /// Writes what was queued.
    pub async fn flush(&mut self) -> Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let peer = &self.peer;
        // what was written leaves the buffer at once: cancel-safe (an `all:` list races
        // the brokers' reads and drops the losers)
        while !self.wbuf.is_empty() {
            match self.stream.write(&self.wbuf).await {
                Ok(0) => return Err(lost(peer, "the connection accepts no more data")),
                Ok(n) => bytes::Buf::advance(&mut self.wbuf, n),
                Err(e) => return Err(lost(peer, e)),
            }
        }
        self.stream.flush().await.map_err(|e| lost(peer, e))?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// Sends one packet now.
    pub async fn send(&mut self, p: Out) -> Result<()> {
        self.queue(p)?;
        self.flush().await
    }

    /// Whether a whole PUBLISH has arrived and waits in the read buffer: [`Session::next`]
    /// returns it without waiting.
    pub fn has_publish(&self) -> bool {
        self.rbuf.first().is_some_and(|b| b >> 4 == 3) && whole_packet(&self.rbuf)
    }

    /// The next packet from the broker, waiting at most `wait` (zero: only what has
    /// arrived); PINGRESPs are taken here.
    pub async fn next(&mut self, wait: Duration) -> Result<Option<In>> {
        let deadline = Instant::now() + wait;
        loop {
            match self.version.read(&mut self.rbuf) {
                Ok(Some(In::PingResp)) => {
                    self.ping_sent = None;
                    continue;
                }
                Ok(Some(p)) => return Ok(Some(p)),
                Ok(None) => {}
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("{} sent a malformed packet: {e}", self.peer),
                    ));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let read = self.stream.read_buf(&mut self.rbuf);
            let got = if left.is_zero() {
                // only what has arrived: polled once (a zero tokio timer would wait for the
                // timer wheel's next millisecond)
                futures_util::FutureExt::now_or_never(read)
            } else {
                tokio::time::timeout(left, read).await.ok()
            };
            match got {
                Some(Ok(0)) => return Err(lost(&self.peer, "closed by the broker")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(lost(&self.peer, e)),
                None => return Ok(None),
            }
        }
    }

    /// Pings the broker when nothing was sent for half the keep-alive; a ping unanswered
    /// for a whole keep-alive is a lost connection.
    pub async fn keep_alive(&mut self) -> Result<()> {
        if self.keep_alive.is_zero() {
            return Ok(());
        }
        if let Some(t) = self.ping_sent
            && t.elapsed() >= self.keep_alive
        {
            return Err(lost(&self.peer, "no answer to a ping"));
        }
        if self.ping_sent.is_none() && self.last_sent.elapsed() >= self.keep_alive / 2 {
            self.send(Out::PingReq).await?;
            self.ping_sent = Some(Instant::now());
        }
        Ok(())
    }

    /// Sends DISCONNECT and closes (a broker already gone is of no interest now).
    pub async fn close(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            if self.send(Out::Disconnect).await.is_ok() {
                let _ = self.stream.shutdown().await;
            }
        })
        .await;
    }
}

/// Whether `buf` starts with a whole MQTT packet: its fixed header (a type byte and a
/// remaining length of up to four 7-bit bytes) and that many bytes after it.
fn whole_packet(buf: &[u8]) -> bool {
    let mut len = 0usize;
    for (i, b) in buf.iter().skip(1).take(4).enumerate() {
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return buf.len() >= 2 + i + len;
        }
    }
    false
}

#[cfg(test)]
mod whole_packet_tests {
    use super::whole_packet;

    #[test]
    fn a_packet_is_whole_once_its_remaining_length_has_arrived() {
        assert!(!whole_packet(&[]));
        assert!(!whole_packet(&[0x30]));
        assert!(whole_packet(&[0xd0, 0x00]), "PINGRESP");
        assert!(!whole_packet(&[0x30, 0x03, 1, 2]));
        assert!(whole_packet(&[0x30, 0x03, 1, 2, 3]));
        // 200 = 0xc8 0x01
        let mut p = vec![0x30, 0xc8, 0x01];
        p.extend(vec![0u8; 199]);
        assert!(!whole_packet(&p));
        p.push(0);
        assert!(whole_packet(&p));
        assert!(
            !whole_packet(&[0x30, 0xff, 0xff, 0xff, 0xff]),
            "five length bytes"
        );
    }
}
