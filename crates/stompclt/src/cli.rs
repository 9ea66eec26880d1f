//! The command line, spelled as Perl stompclt 1.8 spells it: the options every agent shares
//! (`agent::AgentArgs`) and STOMP's own. Help text, man page and completions come from
//! these definitions.

use clap::Parser;

/// What `--help` and the man page say after the options.
pub fn after_help() -> String {
    agent::after_help(crate::SCHEMES, "", crate::BROKER_HEADERS)
}

/// Moves messages between STOMP brokers and directory queues: broker to queue, queue to
/// broker, broker to broker, queue to queue. A drop-in for Perl stompclt.
#[derive(Debug, Clone, Parser)]
#[command(name = "stompclt", version, after_help = after_help())]
pub struct Cli {
    /// The options every agent shares.
    #[command(flatten)]
    pub agent: agent::AgentArgs,

    /// Extra CONNECT headers for the incoming broker (KEY=VALUE...); 'version=1.1' selects the
    /// protocol versions accepted, 'host=/' sets the virtual host (RabbitMQ needs it).
    #[arg(long, value_name = "KEY=VALUE...")]
    pub incoming_broker_connect: Option<String>,
    /// Incoming broker type (ActiveMQ, Apollo, Artemis, RabbitMQ, UNKNOWN); default: detected
    /// from the CONNECTED frame.
    #[arg(long, value_name = "STRING")]
    pub incoming_broker_type: Option<String>,
    /// Debug flags of the STOMP client (api, command, header, body, io, connection, all): frames
    /// are logged as with -dd (-ddd with body, io, all).
    #[arg(long, value_name = "STRING")]
    pub incoming_broker_stomp_debug: Option<String>,
    /// Extra CONNECT headers for the outgoing broker (KEY=VALUE...).
    #[arg(long, value_name = "KEY=VALUE...")]
    pub outgoing_broker_connect: Option<String>,
    /// Outgoing broker type.
    #[arg(long, value_name = "STRING")]
    pub outgoing_broker_type: Option<String>,
    /// Debug flags of the STOMP client, as for the incoming broker.
    #[arg(long, value_name = "STRING")]
    pub outgoing_broker_stomp_debug: Option<String>,

    /// UNSUBSCRIBE at stop for each subscription, matched by position (KEY=VALUE..., may be
    /// empty), repeatable.
    #[arg(long, value_name = "KEY=VALUE...", num_args = 0..=1, default_missing_value = "")]
    pub unsubscribe: Vec<String>,
    /// Reliable mode, beyond the reference: ask a receipt only on every Nth SEND (and on the
    /// last before waiting), and acknowledge received messages with one cumulative
    /// 'ack:client' ACK per N. Safe with brokers that process a connection's frames in order
    /// (RabbitMQ, ActiveMQ); see the guide. Default 1 (a receipt and an ACK per message).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub batch: usize,
    /// Seconds a frame may take from its first byte to its last: a peer that trickles a frame
    /// in (a byte a second) is cut there, as a lost connection.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout_frame: f64,
}

/// STOMP's own options whose value is `KEY=VALUE` pairs (kept whole as configuration
/// blocks).
pub const MAP_OPTIONS: &[&str] = &[
    "unsubscribe",
    "incoming-broker-connect",
    "outgoing-broker-connect",
];

agent::shared_args!(Cli);
