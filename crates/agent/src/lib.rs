//! The transfer-agent shell: everything stompclt, amqpclt and mqttclt share, written once.
//! Options ([`AgentArgs`]), their validation into typed sources and destinations,
//! configuration files, `--status`/`--quit`/`--pidfile`, `--daemon`, signals, logging,
//! TLS and x509 credentials, `failover:`/`file:` endpoints with their backoff, the TCP+TLS
//! dial, the exit codes, and the four-way queue/broker dispatch around the engine
//! (`transfer`).
//!
//! # The seam
//!
//! A protocol implements [`Protocol`]: its name, its URI schemes, the headers its brokers
//! add, its own options (a clap `Parser` that flattens [`AgentArgs`]), and how to build its
//! incoming and outgoing broker modules (the engine's `Incoming`/`Outgoing` traits) from
//! the shared settings of one broker ([`Broker`]: endpoints, dialer with TLS, credentials,
//! backoff, `--reconnect`). Its `main.rs` is then one call:
//!
//! ```text
//! struct Stomp;
//! impl agent::Protocol for Stomp {
//!     const NAME: &'static str = "stompclt";
//!     const SCHEMES: &'static [(&'static str, Scheme)] = &[("stomp", Scheme::Plain), ("ssl", Scheme::Tls)];
//!     const BROKER_HEADERS: &'static [&'static str] = &["message-id", "subscription"];
//!     const MAP_OPTIONS: &'static [&'static str] = &["incoming-broker-connect"];
//!     type Cli = Cli;                 // #[command(flatten)] agent: AgentArgs, plus its own
//!     type Incoming = StompIncoming;  // impl transfer::Incoming
//!     type Outgoing = StompOutgoing;  // impl transfer::Outgoing
//!     fn args(cli: &Cli) -> &AgentArgs { &cli.agent }
//!     fn args_mut(cli: &mut Cli) -> &mut AgentArgs { &mut cli.agent }
//!     fn incoming(cli: &Cli, b: Broker, s: Subscriptions) -> Result<StompIncoming, Error> { … }
//!     fn outgoing(cli: &Cli, b: Broker) -> Result<StompOutgoing, Error> { … }
//! }
//! fn main() -> std::process::ExitCode {
//!     let outcome = agent::run::<Stomp>(std::env::args_os().collect());
//!     outcome.print();
//!     std::process::ExitCode::from(outcome.code as u8)
//! }
//! ```
//!
//! Every mode (queue↔broker, broker↔broker, queue↔queue), option, daemon feature and exit
//! code then comes from here.

pub mod args;
pub mod config;
pub mod dial;
pub mod endpoint;
pub mod error;
pub mod exit;
pub mod log;
pub mod pidfile;
mod run;
pub mod tls;

pub use args::{AgentArgs, key_values};
pub use endpoint::{Endpoint, Endpoints, Failover, Scheme, Side};
pub use error::{Error, Outcome};
pub use run::{Broker, Credentials, Subscriptions, run};

/// What a protocol gives the shell: see the crate documentation.
pub trait Protocol {
    /// The program's name: usage and error lines, syslog ident, the configuration file's
    /// wrapper block, `--status` lines.
    const NAME: &'static str;
    /// URI schemes and what each means.
    const SCHEMES: &'static [(&'static str, Scheme)];
    /// Headers a broker adds on delivery, removed by `--strip-broker-headers`.
    const BROKER_HEADERS: &'static [&'static str];
    /// The protocol's own options whose value is `KEY=VALUE` pairs (kept whole as
    /// configuration blocks).
    const MAP_OPTIONS: &'static [&'static str];
    /// The whole command line: [`AgentArgs`] flattened, plus the protocol's own options.
    type Cli: clap::Parser + Clone + std::fmt::Debug;
    /// The incoming broker module.
    type Incoming: transfer::Incoming;
    /// The outgoing broker module.
    type Outgoing: transfer::Outgoing;
    /// The shared options within the command line.
    fn args(cli: &Self::Cli) -> &AgentArgs;
    /// The same, to hide credentials before `-dddd` shows the configuration.
    fn args_mut(cli: &mut Self::Cli) -> &mut AgentArgs;
    /// Checks the protocol's own options, after the shared ones were checked.
    fn validate(_cli: &Self::Cli) -> Result<(), Error> {
        Ok(())
    }
    /// A `--debug` level the protocol's own options ask for (at least).
    fn debug_level(_cli: &Self::Cli) -> u8 {
        0
    }
    /// Builds the incoming broker module (connected later, by the engine).
    fn incoming(
        cli: &Self::Cli,
        broker: Broker,
        subscriptions: Subscriptions,
    ) -> Result<Self::Incoming, Error>;
    /// Builds the outgoing broker module.
    fn outgoing(cli: &Self::Cli, broker: Broker) -> Result<Self::Outgoing, Error>;
}
