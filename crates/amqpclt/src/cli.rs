//! The command line: the options every agent shares (`agent::AgentArgs`), spelled as
//! stompclt spells them. Help text, man page and completions come from these definitions.

use clap::Parser;

/// What `--help` and the man page say after the options.
pub fn after_help() -> String {
    agent::after_help(
        crate::SCHEMES,
        "SCHEME://HOST:PORT/VHOST selects a RabbitMQ virtual host (percent-encoded; none: /).\n\
         Protocol (--*-broker-module): pika or kombu = AMQP 0-9-1, amqp1 = AMQP 1.0; none \
         named: AMQP 0-9-1\nwhen the broker speaks it (RabbitMQ), else AMQP 1.0.\n\
         Credentials: none (AMQP 1.0: SASL ANONYMOUS; 0-9-1: guest, as pika), plain (SASL \
         PLAIN),\nx509 alone (SASL EXTERNAL: the TLS client certificate is the identity).\n",
        crate::BROKER_HEADERS,
    )
}

/// Moves messages between AMQP brokers (AMQP 0-9-1 and AMQP 1.0) and directory queues:
/// broker to queue, queue to broker, broker to broker, queue to queue; with the options of
/// stompclt and python-amqpclt.
#[derive(Debug, Clone, Parser)]
#[command(name = "amqpclt", version, after_help = after_help())]
pub struct Cli {
    /// The options every agent shares.
    #[command(flatten)]
    pub agent: agent::AgentArgs,
    /// The incoming broker's protocol: pika or kombu (AMQP 0-9-1, as python-amqpclt) or
    /// amqp1 (AMQP 1.0). Default: AMQP 0-9-1 if the broker speaks it, else AMQP 1.0.
    #[arg(long, value_name = "MODULE", value_parser = MODULES)]
    pub incoming_broker_module: Option<String>,
    /// The outgoing broker's protocol: pika, kombu (AMQP 0-9-1) or amqp1 (AMQP 1.0).
    /// Default: AMQP 0-9-1 if the broker speaks it, else AMQP 1.0.
    #[arg(long, value_name = "MODULE", value_parser = MODULES)]
    pub outgoing_broker_module: Option<String>,
    /// Reliable mode: acknowledge received messages N at a time once confirmed: one
    /// 'multiple' ack per N in delivery order (AMQP 0-9-1), dispositions accepting ranges of
    /// N (AMQP 1.0); what is held back is acknowledged when idle. Default 1 (each at once).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub batch: usize,
}

/// The broker modules `--*-broker-module` takes.
pub const MODULES: [&str; 3] = ["pika", "kombu", "amqp1"];

agent::shared_args!(Cli);
