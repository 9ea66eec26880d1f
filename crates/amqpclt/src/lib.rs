//! amqpclt: the AMQP transfer agent. This crate holds only AMQP: AMQP 1.0 connections,
//! sessions and links on fe2o3-amqp ([`broker`], [`connection`], [`mapping`], [`sasl`]),
//! AMQP 0-9-1 on lapin ([`amqp091`]), the choice between them ([`module`]). Everything an
//! agent shares (options, configuration files, daemon, pidfile, TLS, failover, exit codes)
//! comes from the `agent` crate, through [`Amqp`]'s implementation of `agent::Protocol`.

pub mod amqp091;
pub mod broker;
pub mod cli;
mod coalesce;
pub mod connection;
pub mod mapping;
pub mod module;
pub mod sasl;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use agent::{Broker, Error, Scheme, Subscriptions};

use crate::broker::{AmqpIncoming, AmqpOutgoing, IncomingOptions, OutgoingOptions};
use crate::cli::Cli;
use crate::connection::Options;
use crate::module::{Choice, ModuleIncoming, ModuleOutgoing};

/// AMQP's URI schemes: `amqps` is TLS from the first byte; `tcp` is the reference's other
/// spelling of `amqp`.
pub const SCHEMES: &[(&str, Scheme)] = &[
    ("amqp", Scheme::Plain),
    ("amqps", Scheme::Tls),
    ("tcp", Scheme::Plain),
];

/// The header keys a received message gets from the broker's delivery rather than from its
/// sender (`--strip-broker-headers`).
pub const BROKER_HEADERS: &[&str] = &["message-id", "subject"];

/// The AMQP 1.0 protocol, as the agent shell sees it.
pub struct Amqp;

fn options(cli: &Cli, broker: Broker) -> Options {
    let a = &cli.agent;
    // the peer's idle time-out is twice our heart-beat period, as with STOMP heart-beats
    let idle_timeout = a
        .heart_beat
        .then(|| Duration::from_secs_f64(a.timeout_server));
    let hostname = broker.endpoints.servers[0]
        .path
        .as_ref()
        .map(|vhost| format!("vhost:{vhost}"));
    Options {
        broker,
        idle_timeout,
        hostname,
    }
}

fn options091(cli: &Cli, broker: Broker, probing: bool) -> amqp091::connection::Options {
    let a = &cli.agent;
    let heartbeat = a
        .heart_beat
        .then(|| a.timeout_server.ceil().clamp(1.0, u16::MAX as f64) as u16);
    amqp091::connection::Options {
        broker,
        heartbeat,
        speaks_amqp1: Arc::new(AtomicBool::new(false)),
        probing,
    }
}

/// The destinations of `--subscribe`: `destination=ADDRESS`, or the reference's AMQP 0-9-1
/// form with the keys at the subscription's level (`queue=… exchange=… routing_key=…`),
/// joined into one destination.
fn destinations(subs: &Subscriptions) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for s in &subs.subscribe {
        let mut address = None;
        let mut parts = Vec::new();
        for (k, v) in s {
            match k.as_str() {
                "destination" => address = Some(v.clone()),
                // decoded once already (as every option's values): encoded again, so that
                // the destination's nested pairs decode as written
                "queue" | "exchange" | "routing_key" | "mandatory" => {
                    parts.push(format!("{k}={}", reencode(v)))
                }
                _ => {
                    return Err(Error::Usage(format!(
                        "invalid subscribe: unexpected {k:?} (amqpclt takes destination=ADDRESS, \
                         or queue=, exchange=, routing_key= for AMQP 0-9-1)"
                    )));
                }
            }
        }
        let address = match (address, parts.is_empty()) {
            (Some(a), true) => a,
            (None, false) => parts.join(","),
            (Some(_), false) => {
                return Err(Error::Usage(
                    "invalid subscribe: destination= or queue=/exchange=/routing_key=, not both"
                        .into(),
                ));
            }
            (None, true) => {
                return Err(Error::Usage(
                    "invalid subscribe: destination=ADDRESS is required".into(),
                ));
            }
        };
        out.push(address);
    }
    Ok(out)
}

/// Percent-encodes what a destination's pairs would split or decode.
fn reencode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '%' | '=' | ',' | ' ' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn incoming1(
    cli: &Cli,
    broker: Broker,
    subs: &Subscriptions,
    addresses: Vec<String>,
) -> AmqpIncoming {
    AmqpIncoming::new(IncomingOptions {
        connection: options(cli, broker),
        addresses,
        prefetch: subs.prefetch,
        count: subs.count,
        batch: cli.batch,
    })
}

fn incoming091(
    cli: &Cli,
    broker: Broker,
    subs: &Subscriptions,
    destinations: Vec<String>,
    probing: bool,
) -> Result<(amqp091::Amqp091Incoming, Arc<AtomicBool>), Error> {
    let connection = options091(cli, broker, probing);
    let flag = connection.speaks_amqp1.clone();
    let m = amqp091::Amqp091Incoming::new(amqp091::IncomingOptions {
        connection,
        destinations,
        prefetch: subs.prefetch,
        batch: cli.batch,
    })
    .map_err(|e| Error::Usage(format!("invalid subscribe: {e}")))?;
    Ok((m, flag))
}

fn outgoing1(cli: &Cli, broker: Broker) -> AmqpOutgoing {
    AmqpOutgoing::new(OutgoingOptions {
        connection: options(cli, broker),
    })
}

fn outgoing091(
    cli: &Cli,
    broker: Broker,
    probing: bool,
) -> (amqp091::Amqp091Outgoing, Arc<AtomicBool>) {
    let connection = options091(cli, broker, probing);
    let flag = connection.speaks_amqp1.clone();
    let m = amqp091::Amqp091Outgoing::new(amqp091::OutgoingOptions { connection });
    (m, flag)
}

impl agent::Protocol for Amqp {
    const NAME: &'static str = "amqpclt";
    const SCHEMES: &'static [(&'static str, Scheme)] = SCHEMES;
    const BROKER_HEADERS: &'static [&'static str] = BROKER_HEADERS;
    // the message-id header is AMQP's properties.message-id (1.0) and message_id (0-9-1)
    const DEDUP_ID_HEADERS: &'static [&'static str] = &["message-id"];
    const DEDUP_OUT_HEADERS: &'static [&'static str] = &["message-id"];
    const MAP_OPTIONS: &'static [&'static str] = &[];
    const CALLBACK_LANGUAGE: &'static str = "Python";
    type Cli = Cli;
    type Incoming = ModuleIncoming;
    type Outgoing = ModuleOutgoing;

    fn validate(cli: &Cli) -> Result<(), Error> {
        if cli.batch == 0 {
            return Err(Error::Usage("option batch must be at least 1".into()));
        }
        Ok(())
    }

    fn incoming(cli: &Cli, broker: Broker, subs: Subscriptions) -> Result<ModuleIncoming, Error> {
        let addresses = destinations(&subs)?;
        Ok(match Choice::named(cli.incoming_broker_module.as_deref()) {
            Choice::Amqp1 => {
                ModuleIncoming::Amqp1(Box::new(incoming1(cli, broker, &subs, addresses)))
            }
            Choice::Amqp091 => ModuleIncoming::Amqp091(Box::new(
                incoming091(cli, broker, &subs, addresses, false)?.0,
            )),
            Choice::Auto => {
                let one = incoming1(cli, broker.clone(), &subs, addresses.clone());
                let (old, flag) = incoming091(cli, broker, &subs, addresses, true)?;
                ModuleIncoming::Auto(Box::new((old, one)), flag)
            }
        })
    }

    fn outgoing(cli: &Cli, broker: Broker) -> Result<ModuleOutgoing, Error> {
        Ok(match Choice::named(cli.outgoing_broker_module.as_deref()) {
            Choice::Amqp1 => ModuleOutgoing::Amqp1(Box::new(outgoing1(cli, broker))),
            Choice::Amqp091 => ModuleOutgoing::Amqp091(Box::new(outgoing091(cli, broker, false).0)),
            Choice::Auto => {
                let one = outgoing1(cli, broker.clone());
                let (old, flag) = outgoing091(cli, broker, true);
                ModuleOutgoing::Auto(Box::new((old, one)), flag)
            }
        })
    }
}
