//! One HTTP/1.1 keep-alive connection to the service, on a stream the agent dialed (TCP or
//! TLS, with failover): JSON requests with a time-out each, their answers classified into
//! the engine's error kinds.

use std::time::Duration;

use agent::dial::Stream;
use agent::{Broker, Endpoint};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use transfer::{Error, ErrorKind, Result};

/// The largest answer taken from a service: a pull of 100 messages of up to 1 MiB each
/// (AMS's limit; Pub/Sub's is 10 MB but its pulls stop near 10 MB in all), in base64, with
/// room to spare.
pub const MAX_ANSWER: usize = 256 << 20;

/// A connection: requests go out one at a time and each waits for its answer.
pub struct Connection {
    send: SendRequest<Full<Bytes>>,
    driver: tokio::task::JoinHandle<()>,
    /// `host:port`, for messages.
    pub peer: String,
    host: String,
    /// The path before `/topics/…` and `/subscriptions/…` (`/v1/projects/P`).
    pub base: String,
    key: Option<String>,
    timeout: Duration,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// An answer: its status and its body.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as received.
    pub body: Bytes,
}

impl Answer {
    /// The service's own words: `error.message` of its JSON error body, or the body.
    pub fn reason(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.trim().chars().take(200).collect())
    }

    /// The error for an answer that is not a success: refusals of the request itself
    /// (400, 404, 413) are the broker's (exit 4) unless the caller knows better; 401 and 403
    /// too; time-outs, throttling and server errors (408, 429, 5xx) are a connection to
    /// recover (exit 5, `--reconnect` tries again).
    pub fn error(&self, what: &str, peer: &str) -> Error {
        let kind = match self.status {
            408 | 429 | 500..=599 => ErrorKind::Protocol,
            _ => ErrorKind::Broker,
        };
        Error::new(
            kind,
            format!("{what} on {peer}: HTTP {}: {}", self.status, self.reason()),
        )
    }
}

/// Connects `slot` to one of the broker's servers (failover, backoff, TLS: the shell's),
/// replacing what it held.
pub async fn connect(
    slot: &mut Option<Connection>,
    broker: &Broker,
    key: &Option<String>,
    timeout: Duration,
    retrying: bool,
) -> Result<()> {
    *slot = None;
    let conn = broker
        .connect(retrying, |ep, stream| {
            Connection::open(ep, stream, key.clone(), timeout)
        })
        .await?;
    agent::log::debug(1, format_args!("connected to {}", conn.peer));
    *slot = Some(conn);
    Ok(())
}

/// The connection of `slot`, or the error of a module used unconnected.
pub fn connected(slot: &mut Option<Connection>) -> Result<&mut Connection> {
    slot.as_mut()
        .ok_or_else(|| Error::new(ErrorKind::Protocol, "not connected"))
}

impl Connection {
    /// Speaks HTTP/1.1 on `stream` to `ep`, with `key` as `x-api-key` and `?key=`.
    pub async fn open(
        ep: Endpoint,
        stream: Box<dyn Stream>,
        key: Option<String>,
        timeout: Duration,
    ) -> Result<Connection> {
        let peer = ep.peer();
        let (send, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| {
            Error::caused(
                ErrorKind::Connect,
                format!("cannot speak HTTP to {peer}"),
                e,
            )
        })?;
        // the connection's own task: it reads and writes while requests wait for answers
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let default_port = if ep.tls { 443 } else { 80 };
        let host = if ep.port == default_port {
            ep.host.clone()
        } else {
            format!("{}:{}", ep.host, ep.port)
        };
        Ok(Connection {
            send,
            driver,
            base: format!("/{}", ep.path.as_deref().unwrap_or("").trim_matches('/')),
            peer,
            host,
            key,
            timeout,
        })
    }

    /// POSTs `body` (JSON) to `BASE/PATH`; any answer comes back, a failure to get one is a
    /// lost connection (exit 5 unless `--reconnect` recovers it).
    pub async fn post(&mut self, path: &str, body: Vec<u8>) -> Result<Answer> {
        let mut uri = format!("{}/{path}", self.base);
        // traced without the key (it rides the query and a header)
        agent::log::trace('>', &format!("{} POST {uri}", self.peer), [], body.len());
        if let Some(k) = &self.key {
            uri.push_str("?key=");
            uri.push_str(&percent_encode(k));
        }
        let mut req = hyper::Request::post(uri)
            .header("host", &self.host)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(k) = &self.key {
            req = req.header("x-api-key", k);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::caused(ErrorKind::Config, "cannot make an HTTP request", e))?;
        let lost = |e: Box<dyn std::error::Error + Send + Sync>| {
            Error::caused(
                ErrorKind::Protocol,
                format!("the connection to {} failed", self.peer),
                e,
            )
        };
        let exchange = async {
            self.send.ready().await.map_err(|e| lost(e.into()))?;
            let resp = self
                .send
                .send_request(req)
                .await
                .map_err(|e| lost(e.into()))?;
            let status = resp.status().as_u16();
            // an answer over the limit is refused as announced or as it arrives, not
            // allocated whole
            let too_big = || {
                Error::new(
                    ErrorKind::Protocol,
                    format!("{} answered more than {} MiB", self.peer, MAX_ANSWER >> 20),
                )
            };
            if hyper::body::Body::size_hint(resp.body()).lower() > MAX_ANSWER as u64 {
                return Err(too_big());
            }
            let body = http_body_util::Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        too_big()
                    } else {
                        lost(e)
                    }
                })?
                .to_bytes();
            agent::log::trace('<', &format!("{} HTTP {status}", self.peer), [], body.len());
            Ok(Answer { status, body })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "no answer from {} within {:?} (--timeout-request)",
                    self.peer, self.timeout
                ),
            )),
        }
    }
}

/// A key as a query parameter value.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_say_why_and_of_which_kind() {
        let a = |status, body: &str| Answer {
            status,
            body: Bytes::from(body.to_string()),
        };
        let e = a(
            404,
            r#"{"error":{"code":404,"message":"Topic not found","status":"NOT_FOUND"}}"#,
        )
        .error("publish to t", "h:1");
        assert_eq!(e.kind, ErrorKind::Broker);
        assert_eq!(e.message, "publish to t on h:1: HTTP 404: Topic not found");
        assert_eq!(
            a(503, "busy").error("pull", "h:1").kind,
            ErrorKind::Protocol
        );
        assert_eq!(a(429, "").error("pull", "h:1").kind, ErrorKind::Protocol);
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }
}
