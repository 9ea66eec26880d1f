//! The minimal AMQP 1.0 client of the benchmark (`bench/amqpclt.sh`): the ceiling against
//! which amqpclt is measured. fe2o3-amqp and nothing else: no queue, no message model.
//!
//! `amqp_raw send HOST:PORT USER PASS ADDRESS N SIZE INFLIGHT`: N durable data sections of
//! SIZE bytes, up to INFLIGHT unsettled sends awaiting Accepted.
//! `amqp_raw recv HOST:PORT USER PASS ADDRESS N CREDIT`: N deliveries with CREDIT of link
//! credit, accepting each. USER `-` means SASL ANONYMOUS. Prints `{"rate": MSG_PER_S}`.

use std::collections::VecDeque;
use std::time::Instant;

use fe2o3_amqp::link::receiver::CreditMode;
use fe2o3_amqp::sasl_profile::SaslProfile;
use fe2o3_amqp::types::messaging::{
    Body, Header, Message, Outcome, Source, Target, TerminusDurability,
};
use fe2o3_amqp::types::primitives::{Binary, Value};
use fe2o3_amqp::{Connection, Receiver, Sender, Session};

type Failure = Box<dyn std::error::Error>;

async fn send(
    session: &mut fe2o3_amqp::session::SessionHandle<()>,
    address: &str,
    n: usize,
    size: usize,
    inflight: usize,
) -> Result<(), Failure> {
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
            && let Some(fut) = pending.pop_front()
        {
            check(fut.await)?;
        }
        let m = Message::builder()
            .header(Header {
                durable: true,
                ..Header::default()
            })
            .data(Binary::from(vec![b'x'; size]))
            .build();
        pending.push_back(sender.send_batchable(m).await?);
    }
    for fut in pending {
        check(fut.await)?;
    }
    let _ = sender.close().await;
    Ok(())
}

async fn recv(
    session: &mut fe2o3_amqp::session::SessionHandle<()>,
    address: &str,
    n: usize,
    credit: u32,
) -> Result<(), Failure> {
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
        receiver.accept(&d).await?;
    }
    let _ = receiver.close().await;
    Ok(())
}

async fn run(args: &[String]) -> Result<f64, Failure> {
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
        send(&mut session, address, n, size_or_credit.parse()?, inflight).await?;
    } else {
        recv(&mut session, address, n, size_or_credit.parse()?).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = session.end().await;
    let _ = conn.close().await;
    Ok(n as f64 / secs)
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
