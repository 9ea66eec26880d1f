//! mqttclt: the MQTT transfer agent (MQTT 3.1.1 and 5). This crate holds only MQTT: the
//! session over the agent's dialer, the incoming and outgoing broker modules of the transfer
//! engine and the message mapping. Everything an agent shares (options, configuration
//! files, daemon, pidfile, TLS, failover, exit codes) comes from the `agent` crate, through
//! [`Mqtt`]'s implementation of `agent::Protocol`.
//!
//! The packets are encoded and decoded by rumqttc's codecs; the session is this crate's own:
//! rumqttc's event loop owns its network connection (the agent dials, with failover and the
//! shared TLS settings) and gives no confirmation per publication, while a spool element may
//! be removed only on the PUBACK of its own packet identifier.

pub mod broker;
pub mod cli;
pub mod mapping;
pub mod packet;
pub mod session;

use std::time::Duration;

use agent::{Broker, Error, Scheme, Side, Subscriptions, Value};
use bytes::Bytes;

use crate::broker::{IncomingOptions, MqttIncoming, MqttOutgoing, OutgoingOptions};
use crate::cli::Cli;
use crate::mapping::{Defaults, QOS2};
use crate::packet::{Connect, Version, Will};
use crate::session::Options;

/// MQTT's URI schemes: `mqtts` is TLS from the first byte.
pub const SCHEMES: &[(&str, Scheme)] = &[("mqtt", Scheme::Plain), ("mqtts", Scheme::Tls)];

/// The header keys a received message gets from the delivery rather than from its sender
/// (`--strip-broker-headers`).
pub const BROKER_HEADERS: &[&str] = &["qos", "retain"];

/// The session expiry asked for by an incoming `--reliable` MQTT 5 session that names none
/// (a day: the broker keeps what arrives while mqttclt is away that long).
const DEFAULT_SESSION_EXPIRY: u32 = 86_400;

/// The MQTT protocol, as the agent shell sees it.
pub struct Mqtt;

fn usage(s: String) -> Error {
    Error::Usage(s)
}

fn qos(what: &str, v: &str) -> Result<u8, Error> {
    match v {
        "0" => Ok(0),
        "1" => Ok(1),
        "2" => Err(usage(format!("invalid {what}: {QOS2}"))),
        _ => Err(usage(format!("invalid {what}: qos={v:?} (0 or 1)"))),
    }
}

fn will(cli: &Cli) -> Result<Option<Will>, Error> {
    let Some(s) = &cli.will else {
        return Ok(None);
    };
    let mut w = Will {
        topic: String::new(),
        payload: Bytes::new(),
        qos: 0,
        retain: false,
    };
    for (k, v) in agent::key_values(s, "will")? {
        let value = Value::new("will", &k, &v);
        match k.as_str() {
            "topic" => w.topic = v,
            "payload" => w.payload = Bytes::from(v.into_bytes()),
            "qos" => w.qos = qos("will", &v)?,
            "retain" => w.retain = value.boolean().map_err(usage)?,
            _ => return Err(usage(value.unexpected("topic, payload, qos, retain"))),
        }
    }
    mapping::check_topic(&w.topic).map_err(|e| usage(format!("invalid will: {e}")))?;
    Ok(Some(w))
}

/// The session options of one side; `persistent` (an incoming --reliable) needs a stable
/// client id and a session that outlives the connection.
fn options(
    cli: &Cli,
    broker: Broker,
    persistent: bool,
    receive_maximum: Option<u64>,
) -> Result<Options, Error> {
    let side = broker.side;
    broker.no_path("an MQTT", "")?;
    let what = format!("{side}-broker-connect");
    let given = match side {
        Side::Incoming => &cli.incoming_broker_connect,
        Side::Outgoing => &cli.outgoing_broker_connect,
    };
    let (mut client_id, mut version, mut clean, mut expiry, mut keep_alive) =
        (None, Version::V5, None, None, 60u16);
    for (k, v) in agent::key_values(given.as_deref().unwrap_or(""), &what)? {
        let value = Value::new(&what, &k, &v);
        match k.as_str() {
            "client-id" => client_id = Some(v),
            "version" => {
                version = match v.as_str() {
                    "5" | "5.0" => Version::V5,
                    "3.1.1" | "4" => Version::V311,
                    _ => return Err(usage(format!("invalid {what}: version={v:?} (5 or 3.1.1)"))),
                }
            }
            "clean" => clean = Some(value.boolean().map_err(usage)?),
            "session-expiry" => expiry = Some(value.number::<u32>().map_err(usage)?),
            "keep-alive" => keep_alive = value.number().map_err(usage)?,
            _ => {
                return Err(usage(value.unexpected(
                    "client-id, version, clean, session-expiry, keep-alive",
                )));
            }
        }
    }
    if persistent {
        if client_id.is_none() {
            return Err(usage(format!(
                "--reliable needs a stable client id: --{what} client-id=ID (the broker keeps \
                 the session's messages under it while mqttclt is away)"
            )));
        }
        if clean == Some(true) {
            return Err(usage(format!(
                "--reliable needs a persistent session: not clean=true in --{what}"
            )));
        }
        if version == Version::V5 && expiry == Some(0) {
            return Err(usage(format!(
                "--reliable needs a session that outlives the connection: session-expiry > 0 \
                 in --{what}"
            )));
        }
    }
    let clean = clean.unwrap_or(!persistent);
    let session_expiry = match version {
        Version::V311 => None,
        Version::V5 => expiry.or((!clean).then_some(DEFAULT_SESSION_EXPIRY)),
    };
    let client_id = client_id.unwrap_or_else(|| format!("mqttclt-{}-{side}", std::process::id()));
    Ok(Options {
        broker,
        version,
        connect: Connect {
            client_id,
            keep_alive,
            clean,
            session_expiry,
            receive_maximum: match version {
                Version::V311 => None,
                Version::V5 => receive_maximum.map(|n| n.clamp(1, u64::from(u16::MAX)) as u16),
            },
            login: None,
            will: will(cli)?,
        },
    })
}

impl agent::Protocol for Mqtt {
    const NAME: &'static str = "mqttclt";
    const SCHEMES: &'static [(&'static str, Scheme)] = SCHEMES;
    const BROKER_HEADERS: &'static [&'static str] = BROKER_HEADERS;
    const MAP_OPTIONS: &'static [&'static str] = cli::MAP_OPTIONS;
    type Cli = Cli;
    type Incoming = MqttIncoming;
    type Outgoing = MqttOutgoing;

    fn incoming(cli: &Cli, broker: Broker, subs: Subscriptions) -> Result<MqttIncoming, Error> {
        let reliable = broker.reliable;
        let mut subscriptions = Vec::new();
        for s in &subs.subscribe {
            let (mut topic, mut q) = (None, None);
            for (k, v) in s {
                match k.as_str() {
                    "topic" => topic = Some(v.clone()),
                    "qos" => q = Some(qos("subscribe", v)?),
                    _ => {
                        return Err(usage(format!(
                            "invalid subscribe: unexpected {k:?} (mqttclt takes topic=FILTER qos=0|1)"
                        )));
                    }
                }
            }
            let topic =
                topic.ok_or_else(|| usage("invalid subscribe: topic=FILTER is required".into()))?;
            let q = q.unwrap_or(u8::from(reliable));
            if reliable && q == 0 {
                return Err(usage(format!(
                    "invalid subscribe: --reliable needs qos=1 (topic {topic})"
                )));
            }
            subscriptions.push((topic, q));
        }
        Ok(MqttIncoming::new(IncomingOptions {
            session: options(cli, broker, reliable, subs.prefetch)?,
            subscriptions,
            reliable,
            payload: cli.payload,
            timeout_broker: subs.timeout_broker.unwrap_or(Duration::from_secs(10)),
        }))
    }

    fn outgoing(cli: &Cli, broker: Broker) -> Result<MqttOutgoing, Error> {
        let reliable = broker.reliable;
        if cli.qos == Some(2) {
            return Err(usage(format!("invalid qos: {QOS2}")));
        }
        if let Some(t) = &cli.topic {
            mapping::check_topic(t).map_err(|e| usage(format!("invalid topic: {e}")))?;
        }
        let defaults = Defaults {
            topic: cli.topic.clone(),
            qos: cli.qos.unwrap_or(u8::from(reliable)),
            retain: cli.retain,
        };
        Ok(MqttOutgoing::new(OutgoingOptions {
            session: options(cli, broker, false, None)?,
            reliable,
            payload: cli.payload,
            defaults,
        }))
    }
}
