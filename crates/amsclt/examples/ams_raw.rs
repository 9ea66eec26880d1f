//! The benchmark's raw client (bench/amsclt.sh): the least a program on the same HTTP crate
//! does to move N messages through a Pub/Sub REST endpoint, with no spool, no engine and no
//! mapping: `publish` sends N bodies of SIZE bytes in requests of BATCH; `pull` pulls 100 at
//! a time and acknowledges each answer before the next pull, until N arrived. Prints one
//! JSON line with the rate.
//!
//! Usage: ams_raw publish HOST:PORT PROJECT TOPIC N SIZE BATCH [spool=DIR]
//!        ams_raw pull HOST:PORT PROJECT SUBSCRIPTION N [spool=DIR]
//!
//! With `spool=DIR` it does a spool's minimal work besides (`bench/raw_spool.rs`):
//! publishing, the messages come from the DQS spool DIR (locked and read, mapped as amsclt
//! maps them, removed once their request succeeded; SIZE is then unused); pulling, each
//! message is mapped and added to DIR before the answer is acknowledged.

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use amsclt::mapping;

#[path = "../../../bench/raw_spool.rs"]
mod raw_spool;

type Send = http1::SendRequest<Full<Bytes>>;

async fn post(send: &mut Send, host: &str, path: String, body: String) -> serde_json::Value {
    send.ready().await.expect("ready");
    let req = hyper::Request::post(path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let resp = send.send_request(req).await.expect("answer");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
}

fn main() {
    let all: Vec<String> = std::env::args().collect();
    let spool = raw_spool::spool_arg(&all);
    let a = raw_spool::without_spool(&all);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let host = a[2].clone();
        let tcp = tokio::net::TcpStream::connect(&host)
            .await
            .expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (mut send, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        let base = format!("/v1/projects/{}", a[3]);
        let n: usize = a[5].parse().expect("N");
        let start = Instant::now();
        match a[1].as_str() {
            "publish" => {
                let size: usize = a[6].parse().expect("SIZE");
                let batch: usize = a[7].parse().expect("BATCH");
                let data = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; size]);
                let one = format!("{{\"data\":\"{data}\"}}");
                let mut source = spool.as_ref().map(raw_spool::Source::open);
                let mut sent = 0;
                while sent < n {
                    let k = batch.min(n - sent);
                    let mut names = Vec::with_capacity(k);
                    let body = match source.as_mut() {
                        Some(src) => {
                            let mut out = Vec::with_capacity(k);
                            for _ in 0..k {
                                let (name, m) = src.next().expect("the spool holds N messages");
                                names.push(name);
                                out.push(mapping::to_service(&m, mapping::Payload::Raw));
                            }
                            serde_json::json!({ "messages": out }).to_string()
                        }
                        None => format!("{{\"messages\":[{}]}}", vec![one.as_str(); k].join(",")),
                    };
                    post(
                        &mut send,
                        &host,
                        format!("{base}/topics/{}:publish", a[4]),
                        body,
                    )
                    .await;
                    if let Some(src) = source.as_ref() {
                        names.iter().for_each(|name| src.done(name));
                    }
                    sent += k;
                }
            }
            _ => {
                let sink = spool.as_ref().map(raw_spool::Sink::open);
                let mut got = 0;
                while got < n {
                    let v = post(
                        &mut send,
                        &host,
                        format!("{base}/subscriptions/{}:pull", a[4]),
                        r#"{"maxMessages":100,"returnImmediately":true}"#.into(),
                    )
                    .await;
                    let mut v = v;
                    let mut msgs = match v["receivedMessages"].take() {
                        serde_json::Value::Array(m) => m,
                        _ => Vec::new(),
                    };
                    if msgs.is_empty() {
                        continue;
                    }
                    if let Some(sink) = sink.as_ref() {
                        for m in msgs.iter_mut() {
                            let d: mapping::Delivered =
                                serde_json::from_value(m["message"].take()).expect("a message");
                            let payload = mapping::Payload::Raw;
                            sink.add(&mapping::from_service(d, &a[4], payload).expect("mapped"));
                        }
                    }
                    got += msgs.len();
                    let ids: Vec<&serde_json::Value> = msgs.iter().map(|m| &m["ackId"]).collect();
                    let body = serde_json::json!({ "ackIds": ids }).to_string();
                    post(
                        &mut send,
                        &host,
                        format!("{base}/subscriptions/{}:acknowledge", a[4]),
                        body,
                    )
                    .await;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{{\"messages\": {n}, \"seconds\": {secs:.3}, \"rate\": {:.0}}}",
            n as f64 / secs
        );
    });
}
