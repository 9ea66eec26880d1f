//! amqpclt: the AMQP 1.0 transfer agent. This crate holds only AMQP: connections, sessions
//! and links on fe2o3-amqp, the incoming and outgoing broker modules of the transfer engine
//! and the message mapping. Everything an agent shares (options, configuration files,
//! daemon, pidfile, TLS, failover, exit codes) comes from the `agent` crate, through
//! [`Amqp`]'s implementation of `agent::Protocol`.

pub mod broker;
pub mod cli;
pub mod connection;
pub mod mapping;
pub mod sasl;

use std::time::Duration;

use agent::{Broker, Error, Scheme, Subscriptions};

use crate::broker::{AmqpIncoming, AmqpOutgoing, IncomingOptions, OutgoingOptions};
use crate::cli::Cli;
use crate::connection::Options;

/// AMQP 1.0's URI schemes: `amqps` is TLS from the first byte.
pub const SCHEMES: &[(&str, Scheme)] = &[("amqp", Scheme::Plain), ("amqps", Scheme::Tls)];

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

impl agent::Protocol for Amqp {
    const NAME: &'static str = "amqpclt";
    const SCHEMES: &'static [(&'static str, Scheme)] = SCHEMES;
    const BROKER_HEADERS: &'static [&'static str] = BROKER_HEADERS;
    const MAP_OPTIONS: &'static [&'static str] = &[];
    type Cli = Cli;
    type Incoming = AmqpIncoming;
    type Outgoing = AmqpOutgoing;

    fn incoming(cli: &Cli, broker: Broker, subs: Subscriptions) -> Result<AmqpIncoming, Error> {
        let mut addresses = Vec::new();
        for s in &subs.subscribe {
            let mut address = None;
            for (k, v) in s {
                match k.as_str() {
                    "destination" => address = Some(v.clone()),
                    _ => {
                        return Err(Error::Usage(format!(
                            "invalid subscribe: unexpected {k:?} (amqpclt takes destination=ADDRESS)"
                        )));
                    }
                }
            }
            addresses.push(address.ok_or_else(|| {
                Error::Usage("invalid subscribe: destination=ADDRESS is required".into())
            })?);
        }
        let (reliable, timeout_disconnect) = (broker.reliable, broker.timeout_disconnect);
        let subs_reconnect = broker.reconnect.clone();
        Ok(AmqpIncoming::new(IncomingOptions {
            connection: options(cli, broker),
            addresses,
            reliable,
            prefetch: subs.prefetch,
            count: subs.count,
            timeout_disconnect,
            reconnect: subs_reconnect,
        }))
    }

    fn outgoing(cli: &Cli, broker: Broker) -> Result<AmqpOutgoing, Error> {
        let (reliable, timeout_disconnect) = (broker.reliable, broker.timeout_disconnect);
        let reconnect = broker.reconnect.clone();
        Ok(AmqpOutgoing::new(OutgoingOptions {
            connection: options(cli, broker),
            reliable,
            timeout_disconnect,
            reconnect,
        }))
    }
}
