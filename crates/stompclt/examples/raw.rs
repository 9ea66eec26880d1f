//! The minimal STOMP client of the benchmark (`bench/stompclt.sh`): the broker's ceiling,
//! against which stompclt is measured. It speaks STOMP 1.2 with the crate's codec and does
//! nothing else: no queue, no messages model.
//!
//! `raw send HOST:PORT VHOST DEST N SIZE INFLIGHT BATCH`: N persistent SENDs of SIZE bytes,
//! pipelined, at most INFLIGHT unconfirmed, a receipt on each (BATCH 1) or on every BATCH-th
//! (a receipt confirms all earlier frames).
//! `raw recv HOST:PORT VHOST DEST N PREFETCH BATCH`: SUBSCRIBE with client-individual acks
//! and an ACK per message (BATCH 1), or client acks, one cumulative ACK per BATCH.
//! Prints one JSON line with the rate.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use stompclt::frame::{Codec, Frame, Item, Version};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

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
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (mode, addr, vhost, dest) = (&a[0], &a[1], &a[2], &a[3]);
    let n: u64 = a[4].parse().expect("N");
    let mut c = connect(addr, vhost).await;
    let start = Instant::now();
    if mode == "send" {
        let size: usize = a[5].parse().expect("SIZE");
        let inflight: u64 = a[6].parse().expect("INFLIGHT");
        let batch: u64 = a[7].parse().expect("BATCH");
        let body = vec![b'x'; size];
        let (mut sent, mut confirmed) = (0u64, 0u64);
        while confirmed < n {
            while sent < n && sent - confirmed < inflight {
                sent += 1;
                let mut f = Frame::new("SEND")
                    .header("destination", dest.clone())
                    .header("persistent", "true")
                    .header("content-length", size.to_string());
                if sent.is_multiple_of(batch) || sent == n || sent - confirmed == inflight {
                    f = f.header("receipt", sent.to_string());
                }
                f.body = body.clone();
                c.feed(&Item::Frame(f)).await.expect("send");
            }
            c.flush().await.expect("flush");
            let f = next_frame(&mut c).await;
            if f.command == "RECEIPT" {
                confirmed = f
                    .get("receipt-id")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(confirmed);
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
        let mut got = 0u64;
        while got < n {
            let f = next_frame(&mut c).await;
            if f.command != "MESSAGE" {
                continue;
            }
            got += 1;
            if got.is_multiple_of(batch) || got == n {
                let ack = Frame::new("ACK").header("id", f.get("ack").unwrap_or("").to_string());
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
        "{{\"impl\":\"raw\",\"n\":{n},\"secs\":{secs:.3},\"rate\":{:.1}}}",
        n as f64 / secs
    );
}
