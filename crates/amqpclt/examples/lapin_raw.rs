//! The minimal AMQP 0-9-1 client of the benchmark (`bench/amqpclt.sh`): the ceiling against
//! which amqpclt's 0-9-1 modules are measured. lapin and nothing else: no queue, no message
//! model.
//!
//! `lapin_raw send HOST:PORT USER PASS QUEUE N SIZE [bare|mapped]`: N persistent messages of
//! SIZE bytes to the durable queue QUEUE, publisher confirms with up to 1000 unconfirmed.
//! `bare` (the default) publishes a body and a delivery mode; `mapped` publishes what
//! amqpclt's 0-9-1 mapping (the reference's) makes of the benchmark's spool messages: their
//! header fields (`destination`, `persistent`) in the headers table, a timestamp, the content
//! type `text/unknown`, and `mandatory` — RabbitMQ's own work per message differs between
//! the two, so the benchmark shows both.
//! `lapin_raw recv HOST:PORT USER PASS QUEUE N PREFETCH`: N deliveries with basic.qos
//! PREFETCH, an ack each. Prints `{"rate": MSG_PER_S}`.
//! With `spool=DIR` as a last argument it does a spool's minimal work besides
//! (`bench/raw_spool.rs`): sending, its messages come from the DQS spool DIR (locked and read,
//! mapped as amqpclt maps them, removed once confirmed; SIZE and the shape are then unused);
//! receiving, each message is mapped and added to DIR before it is acknowledged.

use std::collections::VecDeque;
use std::time::Instant;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

#[path = "../../../bench/raw_spool.rs"]
mod raw_spool;

type Failure = Box<dyn std::error::Error>;

async fn declare(ch: &Channel, queue: &str) -> Result<(), Failure> {
    let opts = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    ch.queue_declare(queue.into(), opts, Default::default())
        .await?;
    Ok(())
}

/// A publication confirmed: its spool element (if any) removed.
async fn confirmed(
    (c, name): (lapin::PublisherConfirm, Option<String>),
    src: Option<&raw_spool::Source>,
) -> Result<(), Failure> {
    if !c.await?.is_ack() {
        return Err("nacked".into());
    }
    if let (Some(src), Some(name)) = (src, name) {
        src.done(&name);
    }
    Ok(())
}

async fn send(
    ch: &Channel,
    queue: &str,
    n: usize,
    size: usize,
    inflight: usize,
    mapped: bool,
    spool: Option<&str>,
) -> Result<(), Failure> {
    let mut source = spool.map(raw_spool::Source::open);
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    let body = vec![b'x'; size];
    let mut props = BasicProperties::default().with_delivery_mode(2);
    if mapped {
        let mut headers = FieldTable::default();
        let field = |v: String| AMQPValue::LongString(v.into());
        headers.insert("destination".into(), field(format!("/queue/{queue}")));
        headers.insert("persistent".into(), field("true".into()));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        props = props
            .with_headers(headers)
            .with_timestamp(now)
            .with_content_type("text/unknown".into());
    }
    let options = BasicPublishOptions {
        mandatory: mapped,
        immediate: false,
    };
    let mut pending: VecDeque<(lapin::PublisherConfirm, Option<String>)> = VecDeque::new();
    for _ in 0..n {
        if pending.len() >= inflight
            && let Some(p) = pending.pop_front()
        {
            confirmed(p, source.as_ref()).await?;
        }
        let c = match source.as_mut() {
            Some(src) => {
                let (name, m) = src.next().ok_or("the spool holds fewer than N")?;
                let (props, data) = amqpclt::amqp091::mapping::to_publish(&m)?;
                let options = BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                };
                let c = ch
                    .basic_publish("".into(), queue.into(), options, &data, props)
                    .await?;
                (c, Some(name))
            }
            None => {
                let c = ch
                    .basic_publish("".into(), queue.into(), options, &body, props.clone())
                    .await?;
                (c, None)
            }
        };
        pending.push_back(c);
    }
    for p in pending {
        confirmed(p, source.as_ref()).await?;
    }
    Ok(())
}

async fn recv(
    ch: &Channel,
    queue: &str,
    n: usize,
    prefetch: u16,
    spool: Option<&str>,
) -> Result<(), Failure> {
    let sink = spool.map(raw_spool::Sink::open);
    ch.basic_qos(prefetch, BasicQosOptions::default()).await?;
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "raw".into(),
            BasicConsumeOptions::default(),
            Default::default(),
        )
        .await?;
    let mut got = 0;
    while got < n {
        let Some(d) = consumer.next().await else {
            return Err("consumer ended".into());
        };
        let d = d?;
        if let Some(sink) = sink.as_ref() {
            let m = amqpclt::amqp091::mapping::from_delivery(
                &d.properties,
                d.data,
                d.exchange.as_str(),
                d.routing_key.as_str(),
            );
            sink.add(&m);
        }
        ch.basic_ack(d.delivery_tag, BasicAckOptions::default())
            .await?;
        got += 1;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let all: Vec<String> = std::env::args().collect();
    let spool = raw_spool::spool_arg(&all);
    let a = raw_spool::without_spool(&all);
    if !(8..=9).contains(&a.len()) {
        return Err(
            "usage: lapin_raw send|recv HOST:PORT USER PASS QUEUE N SIZE|PREFETCH [bare|mapped]"
                .into(),
        );
    }
    let mapped = match a.get(8).map(String::as_str) {
        None | Some("bare") => false,
        Some("mapped") => true,
        Some(other) => return Err(format!("unknown message shape {other}").into()),
    };
    let uri = format!("amqp://{}:{}@{}/%2F", a[3], a[4], a[2]);
    let conn = Connection::connect(&uri, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    let (queue, n) = (a[5].as_str(), a[6].parse::<usize>()?);
    declare(&ch, queue).await?;
    let t = Instant::now();
    match a[1].as_str() {
        "send" => send(&ch, queue, n, a[7].parse()?, 1000, mapped, spool.as_deref()).await?,
        "recv" => recv(&ch, queue, n, a[7].parse()?, spool.as_deref()).await?,
        other => return Err(format!("unknown action {other}").into()),
    }
    println!("{{\"rate\": {:.0}}}", n as f64 / t.elapsed().as_secs_f64());
    conn.close(200, "bye".into()).await?;
    Ok(())
}
