//! The minimal STOMP client of the benchmark (`bench/stompclt.sh`): the broker's ceiling,
//! against which stompclt is measured. It speaks STOMP 1.2 with the crate's codec and does
//! nothing else: no queue, no messages model.
//!
//! `raw send HOST:PORT VHOST DEST N SIZE INFLIGHT BATCH`: N persistent SENDs of SIZE bytes,
//! pipelined, at most INFLIGHT unconfirmed, a receipt on each (BATCH 1) or on every BATCH-th
//! (a receipt confirms all earlier frames).
//! `raw recv HOST:PORT VHOST DEST N PREFETCH BATCH`: SUBSCRIBE with client-individual acks
//! and an ACK per message (BATCH 1), or client acks, one cumulative ACK per BATCH.
//! With `spool=DIR` as a last argument it does a spool's minimal work besides
//! (`bench/raw_spool.rs`): sending, its messages come from the DQS spool DIR (locked and read,
//! mapped as stompclt maps them, removed once a receipt covers them; SIZE is then unused);
//! receiving, each message is mapped and added to DIR before it is acknowledged.
//! Prints one JSON line with the rate.

use std::collections::VecDeque;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use stompclt::frame::{Codec, Frame, Item, Version};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

#[path = "../../../bench/raw_spool.rs"]
mod raw_spool;

type Conn = Framed<TcpStream, Codec>;

async fn connect(addr: &str, vhost: &str) -> Conn {
    let s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut c = Framed::new(s, Codec::default());
    let f = Frame::new("CONNECT")
        .header("accept-version", "1.2")
        .header("host", vhost)
        .header("login", "guest")
        .header("passcode", "guest");
    c.send(&Item::Frame(f)).await.expect("CONNECT");
    loop {
        match c.next().await.expect("open").expect("frame") {
            Item::Frame(f) if f.command == "CONNECTED" => break,
            Item::Frame(f) => panic!("{f:?}"),
            Item::HeartBeat => {}
        }
    }
    c.codec_mut().version = Version::V1_2;
    c
}

async fn next_frame(c: &mut Conn) -> Frame {
    loop {
        match c.next().await.expect("open").expect("frame") {
            Item::Frame(f) if f.command == "ERROR" => panic!("ERROR {:?}", f.get("message")),
            Item::Frame(f) => return f,
            Item::HeartBeat => {}
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let spool = raw_spool::spool_arg(&all);
    let a = raw_spool::without_spool(&all);
    let (mode, addr, vhost, dest) = (&a[0], &a[1], &a[2], &a[3]);
    let n: u64 = a[4].parse().expect("N");
    let mut c = connect(addr, vhost).await;
    let start = Instant::now();
    if mode == "send" {
        let size: usize = a[5].parse().expect("SIZE");
        let inflight: u64 = a[6].parse().expect("INFLIGHT");
        let batch: u64 = a[7].parse().expect("BATCH");
        let body = vec![b'x'; size];
        let mut source = spool.as_ref().map(raw_spool::Source::open);
        // sent from the spool, not confirmed yet: (sequence number, element)
        let mut pending: VecDeque<(u64, String)> = VecDeque::new();
        let (mut sent, mut confirmed) = (0u64, 0u64);
        while confirmed < n {
            while sent < n && sent - confirmed < inflight {
                sent += 1;
                let mut f = match source.as_mut() {
                    Some(src) => {
                        let (name, m) = src.next().expect("the spool holds N messages");
                        pending.push_back((sent, name));
                        stompclt::mapping::to_send(&m).expect("a message stompclt sends")
                    }
                    None => {
                        let mut f = Frame::new("SEND")
                            .header("destination", dest.clone())
                            .header("persistent", "true")
                            .header("content-length", size.to_string());
                        f.body = body.clone();
                        f
                    }
                };
                if sent.is_multiple_of(batch) || sent == n || sent - confirmed == inflight {
                    f = f.header("receipt", sent.to_string());
                }
                c.feed(&Item::Frame(f)).await.expect("send");
            }
            c.flush().await.expect("flush");
            let f = next_frame(&mut c).await;
            if f.command == "RECEIPT" {
                confirmed = f
                    .get("receipt-id")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(confirmed);
                if let Some(src) = source.as_ref() {
                    while pending.front().is_some_and(|(i, _)| *i <= confirmed) {
                        let (_, name) = pending.pop_front().expect("pending");
                        src.done(&name);
                    }
                }
            }
        }
    } else {
        let prefetch = &a[5];
        let batch: u64 = a[6].parse().expect("BATCH");
        let ack = if batch > 1 {
            "client"
        } else {
            "client-individual"
        };
        let f = Frame::new("SUBSCRIBE")
            .header("destination", dest.clone())
            .header("id", "raw")
            .header("ack", ack)
            .header("prefetch-count", prefetch.clone())
            .header("activemq.prefetchSize", prefetch.clone());
        c.send(&Item::Frame(f)).await.expect("subscribe");
        let sink = spool.as_ref().map(raw_spool::Sink::open);
        let mut got = 0u64;
        while got < n {
            let f = next_frame(&mut c).await;
            if f.command != "MESSAGE" {
                continue;
            }
            got += 1;
            let acking = got.is_multiple_of(batch) || got == n;
            let id = acking.then(|| f.get("ack").unwrap_or("").to_string());
            if let Some(sink) = sink.as_ref() {
                sink.add(&stompclt::mapping::from_frame(f));
            }
            if let Some(id) = id {
                let ack = Frame::new("ACK").header("id", id);
                c.feed(&Item::Frame(ack)).await.expect("ack");
            }
            if got.is_multiple_of(64) || got == n {
                c.flush().await.expect("flush");
            }
        }
        let f = Frame::new("DISCONNECT").header("receipt", "bye");
        c.send(&Item::Frame(f)).await.expect("disconnect");
        while next_frame(&mut c).await.command != "RECEIPT" {}
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"impl\":\"{}\",\"n\":{n},\"secs\":{secs:.3},\"rate\":{:.1}}}",
        if spool.is_some() { "raw+spool" } else { "raw" },
        n as f64 / secs
    );
}
