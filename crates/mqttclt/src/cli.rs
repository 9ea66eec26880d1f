//! mqttclt's command line: the options every agent shares (`agent::AgentArgs`) and MQTT's
//! own.

use clap::Parser;

use crate::mapping::Payload;

/// What `--help` and the man page say after the options.
pub fn after_help() -> String {
    agent::after_help(
        crate::SCHEMES,
        "Credentials: none (anonymous), plain (user name and password), x509 (a TLS client \
         certificate).\nSubscriptions: --subscribe 'topic=FILTER qos=0|1' (QoS 1 with \
         --reliable).\nConnections: --{incoming,outgoing}-broker-connect 'client-id=ID \
         version=5|3.1.1 clean=true|false session-expiry=SECONDS keep-alive=SECONDS'; an \
         incoming --reliable needs a stable client-id (a persistent session).\n",
        crate::BROKER_HEADERS,
    )
}

/// Moves messages between MQTT 3.1.1/5 brokers and directory queues: broker to queue, queue
/// to broker, broker to broker, queue to queue; with the options of stompclt.
#[derive(Debug, Clone, Parser)]
#[command(name = "mqttclt", version, after_help = after_help())]
pub struct Cli {
    /// The options every agent shares.
    #[command(flatten)]
    pub agent: agent::AgentArgs,

    /// The incoming broker's CONNECT: client-id=ID version=5|3.1.1 clean=BOOL
    /// session-expiry=SECONDS keep-alive=SECONDS.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub incoming_broker_connect: Option<String>,
    /// The outgoing broker's CONNECT (as --incoming-broker-connect).
    #[arg(long, value_name = "KEY=VALUE...")]
    pub outgoing_broker_connect: Option<String>,
    /// Topic of outgoing messages without a destination header.
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// QoS of outgoing messages without a qos header (default 1 with --reliable, else 0).
    #[arg(long, value_name = "0|1", value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: Option<u8>,
    /// Publish messages without a retain header as retained.
    #[arg(long)]
    pub retain: bool,
    /// How a message travels: raw (its body; its header as MQTT 5 properties, dropped with
    /// 3.1.1) or json (the whole message as its JSON form, either version).
    #[arg(long, value_enum, default_value = "raw")]
    pub payload: Payload,
    /// The will of every MQTT connection: topic=T payload=TEXT qos=0|1 retain=BOOL.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub will: Option<String>,
}

/// MQTT's own options whose value is `KEY=VALUE` pairs (kept whole as configuration
/// blocks).
pub const MAP_OPTIONS: &[&str] = &["incoming-broker-connect", "outgoing-broker-connect", "will"];

agent::shared_args!(Cli);
