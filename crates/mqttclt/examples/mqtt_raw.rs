//! A minimal raw MQTT 5 client on the same codecs as mqttclt, for bench/mqttclt.sh: the
//! ceiling an agent is measured against (no spool, no mapping).
//!
//!   mqtt_raw send HOST:PORT TOPIC N SIZE WINDOW   publishes N messages of SIZE bytes at QoS 1,
//!                                                 at most WINDOW awaiting their PUBACK
//!   mqtt_raw recv HOST:PORT TOPIC N CLIENT-ID     drains N messages from the persistent
//!                                                 session CLIENT-ID, a PUBACK each
//!   mqtt_raw session HOST:PORT TOPIC CLIENT-ID    makes that session (subscribed, QoS 1)
//!
//! With `spool=DIR` as a last argument, send and recv do a spool's minimal work besides
//! (`bench/raw_spool.rs`): sending, the messages come from the DQS spool DIR (locked and read,
//! mapped as mqttclt maps them, removed at their PUBACK; TOPIC is then the topic of those
//! without a destination, SIZE unused); receiving, each message is mapped and added to DIR
//! before its PUBACK.
//!
//! Prints `{"rate": MSG_PER_S}` (send and recv).

use std::collections::HashMap;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mqttclt::packet::{Connect, In, Out, Publish, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "../../../bench/raw_spool.rs"]
mod raw_spool;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Conn {
    s: TcpStream,
    r: BytesMut,
    w: BytesMut,
}

impl Conn {
    async fn open(addr: &str, id: &str, clean: bool) -> Res<Conn> {
        let mut c = Conn {
            s: TcpStream::connect(addr).await?,
            r: BytesMut::with_capacity(1 << 16),
            w: BytesMut::with_capacity(1 << 16),
        };
        c.send(Out::Connect(Connect {
            client_id: id.into(),
            keep_alive: 60,
            clean,
            session_expiry: (!clean).then_some(3600),
            receive_maximum: Some(1000),
            login: None,
            will: None,
        }))
        .await?;
        match c.next().await? {
            In::ConnAck { refused: None, .. } => Ok(c),
            other => Err(format!("CONNECT: {other:?}").into()),
        }
    }

    async fn send(&mut self, p: Out) -> Res<()> {
        Version::V5.write(p, &mut self.w)?;
        self.s.write_all(&self.w).await?;
        self.w.clear();
        Ok(())
    }

    async fn next(&mut self) -> Res<In> {
        loop {
            if let Some(p) = Version::V5.read(&mut self.r)? {
                return Ok(p);
            }
            if self.s.read_buf(&mut self.r).await? == 0 {
                return Err("closed".into());
            }
        }
    }
}

async fn session(addr: &str, topic: &str, id: &str) -> Res<()> {
    let mut c = Conn::open(addr, id, false).await?;
    c.send(Out::Subscribe(1, vec![(topic.into(), 1)])).await?;
    while !matches!(c.next().await?, In::SubAck { .. }) {}
    c.send(Out::Disconnect).await
}

async fn send(
    addr: &str,
    topic: &str,
    (n, size, window): (usize, usize, usize),
    spool: Option<&str>,
) -> Res<f64> {
    let mut c = Conn::open(addr, &format!("mqtt-raw-{}", std::process::id()), true).await?;
    let body = Bytes::from(vec![b'x'; size]);
    let mut source = spool.map(raw_spool::Source::open);
    let defaults = mqttclt::mapping::Defaults {
        topic: Some(topic.to_string()),
        qos: 1,
        retain: false,
    };
    // the spool's elements awaiting their PUBACK, by packet id
    let mut pending: HashMap<u16, String> = HashMap::new();
    let start = Instant::now();
    let (mut sent, mut acked, mut pkid) = (0, 0, 0u16);
    while acked < n {
        while sent < n && sent - acked < window {
            pkid = pkid.checked_add(1).unwrap_or(1);
            let publish = match source.as_mut() {
                Some(src) => {
                    let (name, m) = src.next().ok_or("the spool holds fewer than N")?;
                    pending.insert(pkid, name);
                    let payload = mqttclt::mapping::Payload::Raw;
                    let (mut p, _) =
                        mqttclt::mapping::to_mqtt(&m, Version::V5, payload, &defaults)?;
                    p.pkid = pkid;
                    p
                }
                None => Publish {
                    topic: topic.into(),
                    qos: 1,
                    retain: false,
                    dup: false,
                    pkid,
                    payload: body.clone(),
                    props: None,
                },
            };
            c.send(Out::Publish(publish)).await?;
            sent += 1;
        }
        if let In::PubAck { pkid, .. } = c.next().await? {
            acked += 1;
            if let (Some(src), Some(name)) = (source.as_ref(), pending.remove(&pkid)) {
                src.done(&name);
            }
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    c.send(Out::Disconnect).await?;
    Ok(rate)
}

async fn recv(addr: &str, topic: &str, n: usize, id: &str, spool: Option<&str>) -> Res<f64> {
    let sink = spool.map(raw_spool::Sink::open);
    let mut c = Conn::open(addr, id, false).await?;
    c.send(Out::Subscribe(1, vec![(topic.into(), 1)])).await?;
    let start = Instant::now();
    let mut got = 0;
    while got < n {
        if let In::Publish(p) = c.next().await? {
            if let Some(sink) = sink.as_ref() {
                let payload = mqttclt::mapping::Payload::Raw;
                sink.add(&mqttclt::mapping::from_mqtt(&p, payload)?);
            }
            c.send(Out::PubAck(p.pkid)).await?;
            got += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    c.send(Out::Disconnect).await?;
    Ok(rate)
}

fn main() {
    let all: Vec<String> = std::env::args().collect();
    let spool = raw_spool::spool_arg(&all);
    let spool = spool.as_deref();
    let a = raw_spool::without_spool(&all);
    let usage = "usage: mqtt_raw send HOST:PORT TOPIC N SIZE WINDOW | recv HOST:PORT TOPIC N ID | session HOST:PORT TOPIC ID";
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqtt_raw: {e}");
            std::process::exit(1);
        }
    };
    let num = |i: usize| a.get(i).and_then(|v| v.parse::<usize>().ok());
    let r = rt.block_on(async {
        match (a.get(1).map(String::as_str), a.get(2), a.get(3)) {
            (Some("send"), Some(addr), Some(t)) => match (num(4), num(5), num(6)) {
                (Some(n), Some(size), Some(w)) => {
                    send(addr, t, (n, size, w), spool).await.map(Some)
                }
                _ => Err(usage.into()),
            },
            (Some("recv"), Some(addr), Some(t)) => match (num(4), a.get(5)) {
                (Some(n), Some(id)) => recv(addr, t, n, id, spool).await.map(Some),
                _ => Err(usage.into()),
            },
            (Some("session"), Some(addr), Some(t)) => match a.get(4) {
                Some(id) => session(addr, t, id).await.map(|()| None),
                None => Err(usage.into()),
            },
            _ => Err(usage.into()),
        }
    });
    match r {
        Ok(Some(rate)) => println!("{{\"rate\": {rate:.1}}}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("mqtt_raw: {e}");
            std::process::exit(1);
        }
    }
}
