//! amsclt's command line: the options every agent shares (`agent::AgentArgs`) and those of
//! the HTTP services (AMS, Pub/Sub).

use std::path::PathBuf;

use clap::Parser;

use crate::mapping::Payload;
use crate::publisher::build::MsgType;

/// What `--help` and the man page say after the options.
pub fn after_help() -> String {
    agent::after_help(
        crate::SCHEMES,
        "URIs: http[s]://HOST[:PORT]/v1/projects/PROJECT (http for a local Pub/Sub emulator).\n\
         Credentials: none, or the service's key with --key-file FILE (sent as x-api-key and \
         ?key=; never on the command line).\nSubscriptions: --subscribe \
         'destination=SUBSCRIPTION' (repeatable).\nTopics: the message's destination header, \
         or --topic NAME.\nDialects: --dialect ams (ARGO Messaging: string fields, cumulative \
         acknowledgements) or pubsub (Google Pub/Sub and its emulator); by default pubsub for \
         http:// and *.googleapis.com, ams otherwise.\n",
        crate::BROKER_HEADERS,
    )
}

/// Which service speaks at the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// ARGO Messaging Service: `maxMessages` as a string, cumulative acknowledgements, an
    /// unacknowledged batch back on the next pull.
    Ams,
    /// Google Cloud Pub/Sub and its emulator: per-message leases.
    Pubsub,
}

/// Moves messages between ARGO Messaging (AMS) or Google Pub/Sub topics and subscriptions
/// and directory queues, over their REST API: subscription to queue, queue to topic, and
/// the rest; with the options of stompclt.
#[derive(Debug, Clone, Parser)]
#[command(name = "amsclt", version, after_help = after_help())]
pub struct Cli {
    /// The options every agent shares.
    #[command(flatten)]
    pub agent: agent::AgentArgs,

    /// The service's dialect (default: pubsub for http:// and *.googleapis.com URIs, else
    /// ams).
    #[arg(long, value_enum)]
    pub dialect: Option<Dialect>,
    /// A file holding the service's key (token), sent as the x-api-key header and the key
    /// query parameter; a key must not have to sit in ps.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Topic of outgoing messages without a destination header.
    #[arg(long, value_name = "NAME")]
    pub topic: Option<String>,
    /// How a message travels: raw (its body as data, its header as attributes) or json (the
    /// whole message as its JSON form, text flag included).
    #[arg(long, value_enum, default_value = "raw")]
    pub payload: Payload,
    /// Serve the push endpoint on [ADDR:]PORT (127.0.0.1 by default) as the incoming side:
    /// each request answered 2xx once its messages are in the outgoing queue, 5xx otherwise
    /// (the service delivers them again).
    #[arg(long, value_name = "[ADDR:]PORT")]
    pub incoming_push_listen: Option<String>,
    /// With --incoming-push-listen: serve https with this certificate chain (PEM; the
    /// services push to https endpoints only).
    #[arg(long, value_name = "FILE", requires = "incoming_push_key")]
    pub incoming_push_cert: Option<PathBuf>,
    /// The private key of --incoming-push-cert (PEM, unencrypted: protect it by its mode).
    #[arg(long, value_name = "FILE", requires = "incoming_push_cert")]
    pub incoming_push_key: Option<PathBuf>,
    /// Seconds each HTTP request may take before it counts as a lost connection; with
    /// --incoming-push-listen, how long a pushed request's head, then its body, may take to
    /// arrive.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout_request: f64,
    /// The most messages one publish request carries (1 to 1000).
    #[arg(long, value_name = "INT", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub publish_batch: Option<u16>,
    /// Publish each queue element as ams-publisher's message of this type: its header
    /// fields, the body lines the type selects and the tags map, as JSON (or the Avro datum
    /// of --avro-schema), with the attributes partition_date and type.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub ams_message: Option<MsgType>,
    /// With --ams-message: encode it as the raw Avro binary datum of this schema (.avsc).
    #[arg(long, value_name = "FILE")]
    pub avro_schema: Option<PathBuf>,
    /// Do what ams-publisherd does with this configuration (its INI file): each
    /// [Queue_X]/[Topic_X] pair is a worker moving the queue to the topic, reliably,
    /// removing what was published; several workers run as one process each.
    #[arg(long, value_name = "FILE")]
    pub ams_publisher: Option<PathBuf>,
    /// With --ams-publisher: run only this worker (X of [Queue_X]).
    #[arg(long, value_name = "NAME")]
    pub ams_publisher_worker: Option<String>,

    /// The key of --ams-publisher's configuration (never a command-line option).
    #[arg(skip)]
    pub key: Option<String>,
}

/// amsclt has no `KEY=VALUE` options of its own.
pub const MAP_OPTIONS: &[&str] = &[];

agent::shared_args!(Cli);
