//! stompclt: the STOMP transfer agent. This crate holds only STOMP: a 1.0/1.1/1.2 frame
//! codec and client on tokio, the incoming and outgoing broker modules of the transfer
//! engine, the message mapping and STOMP's own options. Everything an agent shares (the
//! other options, configuration files, daemon, pidfile, TLS, failover, exit codes) comes
//! from the `agent` crate, through [`Stomp`]'s implementation of `agent::Protocol`.

pub mod broker;
pub mod cli;
pub mod client;
pub mod frame;
pub mod mapping;

use agent::{Broker, Error, Scheme, Side, Subscriptions, key_values};

use crate::broker::{IncomingOptions, OutgoingOptions, StompIncoming, StompOutgoing};
use crate::cli::Cli;
use crate::client::{BrokerType, ConnectOptions};

/// STOMP's URI schemes: any with `ssl` or `tls` means TLS.
pub const SCHEMES: &[(&str, Scheme)] = &[
    ("stomp", Scheme::Plain),
    ("tcp", Scheme::Plain),
    ("ssl", Scheme::Tls),
    ("stomp+ssl", Scheme::Tls),
    ("stomp+tls", Scheme::Tls),
    ("tls", Scheme::Tls),
    ("udp", Scheme::Refused("udp:// is not supported")),
];

/// Headers a STOMP broker adds on delivery, which make no sense when a message is sent
/// again (`--strip-broker-headers`).
pub const BROKER_HEADERS: &[&str] = &[
    "message-id",
    "subscription",
    "ack",
    "content-length",
    "receipt",
    "redelivered",
    "timestamp",
    "expires",
];

/// A STOMP URI names no path (the virtual host is the `host` CONNECT header).
fn no_path(broker: &Broker) -> Result<(), Error> {
    let hint = format!(
        "; set the virtual host with --{}-broker-connect host=NAME",
        broker.side
    );
    broker.no_path("a STOMP", &hint)
}

/// The STOMP protocol, as the agent shell sees it.
pub struct Stomp;

/// `-connect`, `-type` and heart-beats of one side: the STOMP connection settings.
fn connect_options(cli: &Cli, broker: Broker) -> Result<ConnectOptions, Error> {
    let (connect, btype) = match broker.side {
        Side::Incoming => (&cli.incoming_broker_connect, &cli.incoming_broker_type),
        Side::Outgoing => (&cli.outgoing_broker_connect, &cli.outgoing_broker_type),
    };
    let side = broker.side;
    let mut o = ConnectOptions {
        broker,
        accept_version: None,
        headers: Vec::new(),
        heart_beat: None,
        broker_type: None,
        frame_timeout: std::time::Duration::try_from_secs_f64(cli.timeout_frame)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                agent::Error::Usage(format!("invalid timeout-frame: {}", cli.timeout_frame))
            })?,
    };
    if let Some(c) = connect {
        for (k, v) in key_values(c, &format!("{side}-broker-connect"))? {
            if k == "version" {
                o.accept_version = Some(v);
            } else {
                o.headers.push((k, v));
            }
        }
    }
    if let Some(t) = btype {
        o.broker_type = Some(BrokerType::parse(t).ok_or_else(|| {
            Error::Usage(format!(
                "invalid {side}-broker-type {t:?} (ActiveMQ, Apollo, Artemis, RabbitMQ, UNKNOWN)"
            ))
        })?);
    }
    let a = &cli.agent;
    if a.heart_beat {
        let ms = |s: f64| (s * 1000.0).round() as u64;
        o.heart_beat = Some((ms(a.timeout_client), ms(a.timeout_server)));
    }
    Ok(o)
}

impl agent::Protocol for Stomp {
    const NAME: &'static str = "stompclt";
    const SCHEMES: &'static [(&'static str, Scheme)] = SCHEMES;
    const BROKER_HEADERS: &'static [&'static str] = BROKER_HEADERS;
    // RabbitMQ's STOMP adapter maps amqp-message-id to the AMQP message id, which its AMQP
    // 1.0 and 0-9-1 consumers see (custom STOMP headers do not reach AMQP 1.0 there)
    const DEDUP_ID_HEADERS: &'static [&'static str] = &["amqp-message-id"];
    const DEDUP_OUT_HEADERS: &'static [&'static str] = &["amqp-message-id"];
    const MAP_OPTIONS: &'static [&'static str] = cli::MAP_OPTIONS;
    type Cli = Cli;
    type Incoming = StompIncoming;
    type Outgoing = StompOutgoing;

    fn validate(cli: &Cli) -> Result<(), Error> {
        let a = &cli.agent;
        if a.incoming_queue.is_some() && !cli.unsubscribe.is_empty() {
            return Err(Error::Usage(
                "option unsubscribe requires an incoming broker".into(),
            ));
        }
        Ok(())
    }

    /// `-stomp-debug` flags are Net::STOMP::Client's frame tracing: the same as `-dd`
    /// (`-ddd` for bodies) here.
    fn debug_level(cli: &Cli) -> u8 {
        [
            &cli.incoming_broker_stomp_debug,
            &cli.outgoing_broker_stomp_debug,
        ]
        .into_iter()
        .flatten()
        .map(|f| {
            if f.contains("body") || f.contains("all") || f.contains("io") {
                3
            } else if f.trim().is_empty() {
                0
            } else {
                2
            }
        })
        .max()
        .unwrap_or(0)
    }

    fn incoming(cli: &Cli, broker: Broker, subs: Subscriptions) -> Result<StompIncoming, Error> {
        no_path(&broker)?;
        let unsubscribe = if cli.unsubscribe.is_empty() {
            None
        } else {
            let mut v = Vec::new();
            for s in &cli.unsubscribe {
                v.push(key_values(s, "unsubscribe")?);
            }
            Some(v)
        };
        Ok(StompIncoming::new(IncomingOptions {
            connect: connect_options(cli, broker)?,
            subscribe: subs.subscribe,
            unsubscribe,
            prefetch: subs.prefetch,
            timeout_broker: subs.timeout_broker,
            batch: cli.batch,
        }))
    }

    fn outgoing(cli: &Cli, broker: Broker) -> Result<StompOutgoing, Error> {
        no_path(&broker)?;
        Ok(StompOutgoing::new(OutgoingOptions {
            connect: connect_options(cli, broker)?,
            batch: cli.batch,
        }))
    }
}
