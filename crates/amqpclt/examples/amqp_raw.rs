//! The minimal AMQP 1.0 client of the benchmark (`bench/amqpclt.sh`): the ceiling against
//! which amqpclt is measured. fe2o3-amqp and nothing else: no queue, no message model.
//!
//! `amqp_raw send HOST:PORT USER PASS ADDRESS N SIZE INFLIGHT`: N durable data sections of
//! SIZE bytes, up to INFLIGHT unsettled sends awaiting Accepted.
//! `amqp_raw recv HOST:PORT USER PASS ADDRESS N CREDIT`: N deliveries with CREDIT of link
//! credit, accepting each. USER `-` means SASL ANONYMOUS. Prints `{"rate": MSG_PER_S}`.
//! With `spool=DIR` as a last argument it does a spool's minimal work besides
//! (`bench/raw_spool.rs`): sending, its messages come from the DQS spool DIR (locked and read,
//! mapped as amqpclt maps them, removed once Accepted; SIZE is then unused); receiving, each
//! message is mapped and added to DIR before it is accepted.

use std::collections::VecDeque;
use std::time::Instant;

use fe2o3_amqp::link::receiver::CreditMode;
use fe2o3_amqp::sasl_profile::SaslProfile;
use fe2o3_amqp::types::messaging::{
    Body, Data, Header, Message, Outcome, Source, Target, TerminusDurability,
};
use fe2o3_amqp::types::primitives::{Binary, Value};
use fe2o3_amqp::{Connection, Receiver, Sender, Session};

#[path = "../../../bench/raw_spool.rs"]
mod raw_spool;

type Failure = Box<dyn std::error::Error>;

async fn send(
    session: &mut fe2o3_amqp::session::SessionHandle<()>,
    address: &str,
    n: usize,
    size: usize,
    inflight: usize,
    spool: Option<&str>,
) -> Result<(), Failure> {
    let mut source = spool.map(raw_spool::Source::open);
    let target = Target::builder()
        .address(address.to_string())
        .durable(TerminusDurability::UnsettledState)
        .build();
    let mut sender = Sender::builder()
        .name("raw-sender")
        .target(target)
        .attach(session)
        .await?;
    let mut pending = VecDeque::new();
    for _ in 0..n {
        if pending.len() >= inflight
            && let Some((fut, name)) = pending.pop_front()
        {
            check(fut.await)?;
            done(source.as_ref(), name);
        }
        let (m, name) = match source.as_mut() {
            Some(src) => {
                let (name, m) = src.next().ok_or("the spool holds fewer than N")?;
                (amqpclt::mapping::to_amqp(&m)?, Some(name))
            }
            None => (
                Message::builder()
                    .header(Header {
                        durable: true,
                        ..Header::default()
                    })
                    .body(Body::Data(
                        vec![Data(Binary::from(vec![b'x'; size]))].into(),
                    ))
                    .build(),
                None,
            ),
        };
        pending.push_back((sender.send_batchable(m).await?, name));
    }
    for (fut, name) in pending {
        check(fut.await)?;
        done(source.as_ref(), name);
    }
    let _ = sender.close().await;
    Ok(())
}

async fn recv(
    session: &mut fe2o3_amqp::session::SessionHandle<()>,
    address: &str,
    n: usize,
    credit: u32,
    spool: Option<&str>,
) -> Result<(), Failure> {
    let sink = spool.map(raw_spool::Sink::open);
    let source = Source::builder()
        .address(address.to_string())
        .durable(TerminusDurability::UnsettledState)
        .build();
    let mut receiver = Receiver::builder()
        .name("raw-receiver")
        .source(source)
        .credit_mode(CreditMode::Auto(credit))
        .auto_accept(false)
        .attach(session)
        .await?;
    for _ in 0..n {
        let d = receiver.recv::<Body<Value>>().await?;
        let Some(sink) = sink.as_ref() else {
            receiver.accept(&d).await?;
            continue;
        };
        let info = fe2o3_amqp::link::delivery::DeliveryInfo::from(&d);
        sink.add(&amqpclt::mapping::from_amqp(d.into_message(), address)?);
        receiver.accept(info).await?;
    }
    let _ = receiver.close().await;
    Ok(())
}

async fn run(all: &[String]) -> Result<f64, Failure> {
    let spool = raw_spool::spool_arg(all);
    let args = &raw_spool::without_spool(all)[..];
    let [
        mode,
        addr,
        user,
        pass,
        address,
        n,
        size_or_credit,
        rest @ ..,
    ] = args
    else {
        return Err(
            "usage: amqp_raw send|recv HOST:PORT USER PASS ADDRESS N SIZE|CREDIT [INFLIGHT]".into(),
        );
    };
    let n: usize = n.parse()?;
    let sasl = if user == "-" {
        SaslProfile::Anonymous
    } else {
        SaslProfile::Plain {
            username: user.clone(),
            password: pass.clone(),
        }
    };
    let mut conn = Connection::builder()
        .container_id("amqp_raw")
        .sasl_profile(sasl)
        .open(format!("amqp://{addr}").as_str())
        .await?;
    let mut session = Session::begin(&mut conn).await?;
    let start = Instant::now();
    if mode == "send" {
        let inflight: usize = rest.first().ok_or("INFLIGHT")?.parse()?;
        let size = size_or_credit.parse()?;
        send(&mut session, address, n, size, inflight, spool.as_deref()).await?;
    } else {
        let credit = size_or_credit.parse()?;
        recv(&mut session, address, n, credit, spool.as_deref()).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = session.end().await;
    let _ = conn.close().await;
    Ok(n as f64 / secs)
}

/// A message accepted: its spool element (if any) removed.
fn done(source: Option<&raw_spool::Source>, name: Option<String>) {
    if let (Some(src), Some(name)) = (source, name) {
        src.done(&name);
    }
}

fn check(r: Result<Outcome, fe2o3_amqp::link::SendError>) -> Result<(), Failure> {
    match r? {
        Outcome::Accepted(_) => Ok(()),
        other => Err(format!("not accepted: {other:?}").into()),
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("amqp_raw: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&args)) {
        Ok(rate) => {
            println!("{{\"rate\": {rate:.1}}}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("amqp_raw: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
