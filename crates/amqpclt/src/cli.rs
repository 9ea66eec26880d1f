//! The command line: the options every agent shares (`agent::AgentArgs`), spelled as
//! stompclt spells them. Help text, man page and completions come from these definitions.

use agent::Scheme;
use clap::Parser;

/// What `--help` and the man page say after the options.
pub fn after_help() -> String {
    let schemes: Vec<String> = crate::SCHEMES
        .iter()
        .map(|(s, k)| {
            format!(
                "{s}:// ({})",
                if *k == Scheme::Tls { "TLS" } else { "plain" }
            )
        })
        .collect();
    format!(
        "URI schemes: {}; SCHEME://HOST:PORT/VHOST selects a RabbitMQ virtual host \
         (sent as the open's hostname vhost:VHOST); failover:(URI,...)?OPTIONS; file:PATH.\n\
         Credentials: none (SASL ANONYMOUS), plain (SASL PLAIN), x509 (a TLS client certificate).\n\
         Broker headers (--strip-broker-headers): {}.\n\n{}",
        schemes.join(", "),
        crate::BROKER_HEADERS.join(", "),
        agent::exit::EXIT_CODES
    )
}

/// Moves messages between AMQP 1.0 brokers and directory queues: broker to queue, queue to
/// broker, broker to broker, queue to queue; with the options of stompclt.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "amqpclt",
    version,
    after_help = after_help(),
    max_term_width = 100,
    disable_help_flag = true,
    args_override_self = true
)]
pub struct Cli {
    /// The options every agent shares.
    #[command(flatten)]
    pub agent: agent::AgentArgs,
}
