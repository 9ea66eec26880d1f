//! The push endpoint (`--incoming-push-listen`): the service POSTs messages to it (Pub/Sub:
//! one `{"message": …, "subscription": …}` a request; AMS: `{"messages": [...]}`), and each
//! request is answered 2xx only once its messages are in the outgoing queue (the engine
//! confirmed them), 5xx otherwise: the service then delivers them again.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use message::Message;
use tokio::sync::{mpsc, oneshot};
use transfer::{Error, ErrorKind, Got, Result, Token};

use crate::mapping::{self, Delivered, Payload};

/// The largest push request taken (a Pub/Sub message is at most 10 MB, 13.4 MB in base64):
/// a bigger one is answered 413 before it is read whole.
pub const MAX_PUSH_BODY: usize = 16 << 20;

/// A message the handler of a request waits on: confirmed (true) or not.
type Pushed = (Message, oneshot::Sender<bool>);

/// The incoming module of the push endpoint.
pub struct PushIncoming {
    addr: SocketAddr,
    /// How long a request's head, then its body, may take to arrive (`--timeout-request`): a
    /// peer sending a byte a second is cut there.
    read_timeout: Duration,
    payload: Payload,
    tls: Option<tokio_rustls::TlsAcceptor>,
    rx: Option<mpsc::Receiver<Pushed>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// Tells the connections to finish the answer they are writing and close.
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    /// Ends (`None`) once every connection task is gone: each holds a sender.
    gone: Option<mpsc::Receiver<()>>,
    waiting: HashMap<Token, oneshot::Sender<bool>>,
    next_token: u64,
}

impl PushIncoming {
    /// A module that will listen on `addr`, over TLS with `tls`.
    pub fn new(
        addr: SocketAddr,
        payload: Payload,
        tls: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
        read_timeout: Duration,
    ) -> Self {
        PushIncoming {
            addr,
            read_timeout,
            payload,
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            rx: None,
            server: None,
            shutdown: None,
            gone: None,
            waiting: HashMap::new(),
            next_token: 0,
        }
    }
}

fn answer(status: u16) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::new()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r
}

/// The messages of a push body, each with the subscription it came from; `None` when the
/// body is not one.
pub fn messages(body: &[u8], payload: Payload) -> Option<Vec<Message>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let one = |m: &serde_json::Value, sub: &str| -> Option<Message> {
        let d: Delivered = serde_json::from_value(m.clone()).ok()?;
        // "projects/P/subscriptions/S": the subscription's own name
        let name = sub.rsplit('/').next().unwrap_or(sub);
        mapping::from_service(d, name, payload).ok()
    };
    let sub = v["subscription"].as_str().unwrap_or("");
    match v["messages"].as_array() {
        Some(list) => list
            .iter()
            .map(|m| {
                let s = m["subscription"].as_str().unwrap_or(sub);
                one(m.get("message").unwrap_or(m), s)
            })
            .collect(),
        None => Some(vec![one(&v["message"], sub)?]),
    }
}

/// One request: its messages handed to the engine, the answer once each is confirmed.
async fn handle(
    req: hyper::Request<hyper::body::Incoming>,
    tx: mpsc::Sender<Pushed>,
    payload: Payload,
    read_timeout: Duration,
) -> std::result::Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != hyper::Method::POST {
        return Ok(answer(405));
    }
    // a body announced over the limit is refused unread; one that grows over it, or trickles
    // in for longer than a peer needs, is cut
    if hyper::body::Body::size_hint(req.body()).lower() > MAX_PUSH_BODY as u64 {
        return Ok(answer(413));
    }
    let body = http_body_util::Limited::new(req.into_body(), MAX_PUSH_BODY).collect();
    let body = match tokio::time::timeout(read_timeout, body).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Ok(answer(413)),
        Ok(Err(_)) | Err(_) => return Ok(answer(400)),
    };
    let Some(msgs) = messages(&body.to_bytes(), payload) else {
        return Ok(answer(400));
    };
    let mut confirmations = Vec::new();
    for m in msgs {
        let (done, confirmed) = oneshot::channel();
        if tx.send((m, done)).await.is_err() {
            return Ok(answer(503));
        }
        confirmations.push(confirmed);
    }
    for c in confirmations {
        if c.await != Ok(true) {
            return Ok(answer(503));
        }
    }
    Ok(answer(204))
}

/// Serves one connection until it closes, or until `shutdown` says so: then the answer
/// being written is finished first (hyper's graceful shutdown).
async fn serve<I, S>(
    io: I,
    service: S,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    read_timeout: Duration,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = Full<Bytes>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(read_timeout)
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

impl transfer::Incoming for PushIncoming {
    async fn start(&mut self) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|e| {
                Error::caused(
                    ErrorKind::Config,
                    format!("cannot listen on {} (--incoming-push-listen)", self.addr),
                    e,
                )
            })?;
        agent::log::debug(1, format_args!("push endpoint on {}", self.addr));
        let (tx, rx) = mpsc::channel(1000);
        let payload = self.payload;
        let read_timeout = self.read_timeout;
        let tls = self.tls.clone();
        let (shutdown, watch) = tokio::sync::watch::channel(false);
        let (alive, gone) = mpsc::channel::<()>(1);
        self.rx = Some(rx);
        self.shutdown = Some(shutdown);
        self.gone = Some(gone);
        self.server = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tx, tls, watch, alive) =
                    (tx.clone(), tls.clone(), watch.clone(), alive.clone());
                tokio::spawn(async move {
                    let service =
                        service_fn(move |req| handle(req, tx.clone(), payload, read_timeout));
                    match tls {
                        // a client that fails the handshake is just dropped
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve(TokioIo::new(s), service, watch, read_timeout).await;
                            }
                        }
                        None => serve(TokioIo::new(stream), service, watch, read_timeout).await,
                    }
                    drop(alive);
                });
            }
        }));
        Ok(())
    }

    async fn get(&mut self) -> Result<Got> {
        let Some(rx) = self.rx.as_mut() else {
            return Ok(Got::End);
        };
        match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            Err(_) => Ok(Got::Idle),
            Ok(None) => Ok(Got::End),
            Ok(Some((m, done))) => {
                let token = Token(self.next_token);
                self.next_token += 1;
                self.waiting.insert(token, done);
                Ok(Got::Message(m, token))
            }
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        if let Some(done) = self.waiting.remove(&token) {
            let _ = done.send(true);
        }
        Ok(())
    }

    async fn idle(&mut self) -> Result<()> {
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(s) = self.server.take() {
            s.abort();
        }
        // what was not confirmed is answered 503: the service delivers it again
        for (_, done) in self.waiting.drain() {
            let _ = done.send(false);
        }
        self.rx = None;
        // the answers being written go out before the run ends (a 2xx lost here would be
        // a duplicate later), for a second at most
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(true);
        }
        if let Some(mut gone) = self.gone.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), gone.recv()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_push_bodies() {
        let pubsub = br#"{"subscription":"projects/p/subscriptions/s1",
            "message":{"data":"aGk=","attributes":{"k":"v"},"messageId":"7"}}"#;
        let m = messages(pubsub, Payload::Raw).expect("a Pub/Sub push body");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].body.as_bytes(), b"hi");
        assert_eq!(m[0].header["destination"], "s1");
        assert_eq!(m[0].header["k"], "v");
        let ams = br#"{"messages":[
            {"subscription":"/projects/p/subscriptions/s2","message":{"data":"YQ==","messageId":"1"}},
            {"subscription":"/projects/p/subscriptions/s2","message":{"data":"Yg==","messageId":"2"}}]}"#;
        let m = messages(ams, Payload::Raw).expect("an AMS push body");
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].body.as_bytes(), b"b");
        assert_eq!(m[1].header["destination"], "s2");
        assert!(messages(b"not json", Payload::Raw).is_none());
    }
}
