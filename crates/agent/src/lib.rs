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
//! incoming and outgoing broker modules (the engine's `Incoming`/`Outgoing` traits, with
//! their `forget`/`recover` for `--reconnect`, counted and reported by
//! `transfer::Recovering`) from the shared settings of one broker ([`Broker`]: endpoints,
//! dialer with TLS, credentials, backoff, `--reliable`, `--reconnect`;
//! [`Broker::connect`] runs failover and the TCP/TLS dial around the protocol's handshake).
//! Its `main.rs` is then one line, [`main!`] (which runs [`run`] on mimalloc):
//!
//! ```text
//! struct Stomp;
//! impl agent::Protocol for Stomp {
//!     const NAME: &'static str = "stompclt";
//!     const SCHEMES: &'static [(&'static str, Scheme)] = &[("stomp", Scheme::Plain), ("ssl", Scheme::Tls)];
//!     const BROKER_HEADERS: &'static [&'static str] = &["message-id", "subscription"];
//!     const MAP_OPTIONS: &'static [&'static str] = &["incoming-broker-connect"];
//!     type Cli = Cli;                 // #[command(flatten)] agent: AgentArgs, plus its own;
//!                                     // agent::shared_args!(Cli) finds them
//!     type Incoming = StompIncoming;  // impl transfer::Incoming (recover: reconnect)
//!     type Outgoing = StompOutgoing;  // impl transfer::Outgoing (recover: reconnect, resend)
//!     fn incoming(cli: &Cli, b: Broker, s: Subscriptions) -> Result<StompIncoming, Error> { … }
//!     fn outgoing(cli: &Cli, b: Broker) -> Result<StompOutgoing, Error> { … }
//! }
//! agent::main!(stompclt::Stomp);  // in src/main.rs
//! ```
//!
//! Every mode (queue↔broker, broker↔broker, queue↔queue), option, daemon feature and exit
//! code then comes from here.

pub mod args;
pub mod callback;
pub mod config;
pub mod dial;
pub mod endpoint;
pub mod error;
pub mod exit;
pub mod log;
mod metrics;
pub mod multi;
pub mod pidfile;
mod run;
pub mod secret;
pub mod tls;

pub use args::{AgentArgs, Value, key_values};
pub use endpoint::{Endpoint, Endpoints, Failover, Scheme, Side};
pub use error::Error;
pub use procctl::Outcome;
pub use run::{Broker, Credentials, Subscriptions, finish, run};

/// The allocator the agent binaries use (see [`main!`]).
#[doc(hidden)]
pub use mimalloc::MiMalloc as Allocator;

/// An agent binary's `main`: parses, runs the protocol `$p` (a [`Protocol`]
/// implementation), prints the outcome and exits with its documented status ([`exit`]).
/// It also makes mimalloc the binary's allocator rather than glibc's malloc: a message's
/// buffers are allocated on the spool's read-ahead thread and freed on the engine's, where
/// glibc's arenas contend and consolidate (measured in bench/, README "Design notes").
#[macro_export]
macro_rules! main {
    ($p:ty) => {
        #[global_allocator]
        static ALLOCATOR: $crate::Allocator = $crate::Allocator;

        fn main() -> std::process::ExitCode {
            $crate::finish($crate::run::<$p>(std::env::args_os().collect()))
        }
    };
}

/// Implements `AsRef<AgentArgs>` and `AsMut<AgentArgs>` for a command line that flattens
/// the shared options into its field `agent`.
#[macro_export]
macro_rules! shared_args {
    ($cli:ty) => {
        impl AsRef<$crate::AgentArgs> for $cli {
            fn as_ref(&self) -> &$crate::AgentArgs {
                &self.agent
            }
        }
        impl AsMut<$crate::AgentArgs> for $cli {
            fn as_mut(&mut self) -> &mut $crate::AgentArgs {
                &mut self.agent
            }
        }
    };
}

/// The `--help` text after the options, the same shape for every agent: the URI schemes,
/// what else the protocol says, the headers `--strip-broker-headers` removes, the exit
/// statuses.
pub fn after_help(schemes: &[(&str, Scheme)], more: &str, broker_headers: &[&str]) -> String {
    let list = |k: Scheme| {
        schemes
            .iter()
            .filter(|(_, s)| *s == k)
            .map(|(s, _)| format!("{s}://"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "URI schemes: {} (plain), {} (TLS); failover:(URI,...)?OPTIONS; file:PATH;\n\
         all:(URI,...)?OPTIONS or all:SCHEME://ALIAS:PORT: every broker at once (consume from\n\
         all, produce to any; a broker that is down is retried with the OPTIONS' backoff).\n{more}\
         Broker headers (--strip-broker-headers): {}.\n\n{}",
        list(Scheme::Plain),
        list(Scheme::Tls),
        broker_headers.join(", "),
        exit::EXIT_CODES
    )
}

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
    /// `--dedup`: headers that may carry a sender's id on arrival (after `dedup-id`): the
    /// protocol's own id field as its incoming module maps it. Default: none.
    const DEDUP_ID_HEADERS: &'static [&'static str] = &[];
    /// `--dedup`: headers also given the id on the way out, so that it reaches the
    /// protocol's own id field (and crosses to other protocols). Default: none.
    const DEDUP_OUT_HEADERS: &'static [&'static str] = &[];
    /// The language of the reference's callbacks, for the message that refuses them.
    const CALLBACK_LANGUAGE: &'static str = "Perl";
    /// The whole command line: [`AgentArgs`] flattened, plus the protocol's own options
    /// ([`shared_args!`] gives the two `As*` implementations).
    type Cli: clap::Parser + Clone + std::fmt::Debug + AsRef<AgentArgs> + AsMut<AgentArgs>;
    /// The incoming broker module.
    type Incoming: transfer::Incoming;
    /// The outgoing broker module.
    type Outgoing: transfer::Outgoing;
    /// Completes the command line before it is checked: an option of the protocol's own
    /// may stand for shared ones (amsclt's `--ams-publisher` reads a configuration file of
    /// another tool into the queue, broker and topic options). Default: nothing.
    fn prepare(_cli: &mut Self::Cli) -> Result<(), Error> {
        Ok(())
    }
    /// Checks the protocol's own options, after the shared ones were checked.
    fn validate(_cli: &Self::Cli) -> Result<(), Error> {
        Ok(())
    }
    /// An incoming side the protocol serves itself rather than connects to (amsclt's push
    /// endpoint): a URI standing in for `--incoming-broker-uri` (it names the side in
    /// metrics and `--status`), without `--subscribe`. Default: none.
    fn incoming_served(_cli: &Self::Cli) -> Option<String> {
        None
    }
    /// Hides the secrets of the protocol's own options in a copy of the command line that is
    /// about to be logged (`-dddd`); the shared ones (`-auth`, `-sockopts`, URIs) are hidden
    /// by the shell. Default: nothing.
    fn hide_secrets(_cli: &mut Self::Cli) {}
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
