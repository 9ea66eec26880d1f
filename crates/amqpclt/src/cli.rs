//! The command line: the options every agent shares (`agent::AgentArgs`), spelled as
//! stompclt spells them. Help text, man page and completions come from these definitions.

use clap::Parser;

/// What `--help` and the man page say after the options.
pub fn after_help() -> String {
    agent::after_help(
        crate::SCHEMES,
        "SCHEME://HOST:PORT/VHOST selects a RabbitMQ virtual host (the open's hostname \
         vhost:VHOST).\nCredentials: none (SASL ANONYMOUS), plain (SASL PLAIN), x509 alone \
         (SASL EXTERNAL: the TLS client certificate is the identity).\n",
        crate::BROKER_HEADERS,
    )
}

/// Moves messages between AMQP 1.0 brokers and directory queues: broker to queue, queue to
/// broker, broker to broker, queue to queue; with the options of stompclt.
#[derive(Debug, Clone, Parser)]
#[command(name = "amqpclt", version, after_help = after_help())]
pub struct Cli {
    /// The options every agent shares.
    #[command(flatten)]
    pub agent: agent::AgentArgs,
}

agent::shared_args!(Cli);
