//! amsclt: the HTTP transfer agent for the ARGO Messaging Service (AMS) and Google Cloud
//! Pub/Sub's REST API (and its emulator). This crate holds only what is theirs: one HTTP/1.1
//! connection a side on the agent's dialer ([`http`]), publishing in batches
//! ([`outgoing`]), pulling and acknowledging after the engine confirmed ([`incoming`]),
//! and the message mapping ([`mapping`]). Everything an agent shares (options,
//! configuration files, daemon, pidfile, TLS, failover, `--reconnect`, exit codes) comes
//! from the `agent` crate, through [`Ams`]'s implementation of `agent::Protocol`.

pub mod cli;
pub mod http;
pub mod incoming;
pub mod mapping;
pub mod outgoing;
pub mod publisher;
pub mod push;

use std::time::Duration;

use agent::{Broker, Error, Scheme, Subscriptions};

use crate::cli::{Cli, Dialect};
use crate::incoming::{AmsIncoming, IncomingOptions, MAX_PULL};
use crate::outgoing::{AmsOutgoing, OutgoingOptions};
use crate::push::PushIncoming;

/// The services' URI schemes: `http` for a local emulator, `https` for the services.
pub const SCHEMES: &[(&str, Scheme)] = &[("http", Scheme::Plain), ("https", Scheme::Tls)];

/// The header keys a received message gets from the service rather than from its sender
/// (`--strip-broker-headers`).
pub const BROKER_HEADERS: &[&str] = &["message-id", "publish-time"];

/// The AMS and Pub/Sub REST protocol, as the agent shell sees it.
pub struct Ams;

/// The incoming side: pulling from subscriptions, or serving the push endpoint.
pub enum AmsIn {
    /// `--subscribe`: pull (boxed: the larger by far).
    Pull(Box<AmsIncoming>),
    /// `--incoming-push-listen`: pushed to.
    Push(PushIncoming),
}

macro_rules! both {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            AmsIn::Pull($m) => $e,
            AmsIn::Push($m) => $e,
        }
    };
}

impl transfer::Incoming for AmsIn {
    async fn start(&mut self) -> transfer::Result<()> {
        both!(self, m => m.start().await)
    }
    async fn get(&mut self) -> transfer::Result<transfer::Got> {
        both!(self, m => m.get().await)
    }
    async fn ack(&mut self, token: transfer::Token) -> transfer::Result<()> {
        both!(self, m => m.ack(token).await)
    }
    async fn idle(&mut self) -> transfer::Result<()> {
        both!(self, m => m.idle().await)
    }
    async fn stop(&mut self) -> transfer::Result<()> {
        both!(self, m => m.stop().await)
    }
    fn forget(&mut self) -> u64 {
        both!(self, m => m.forget())
    }
    async fn recover(&mut self, e: transfer::Error) -> transfer::Result<transfer::Recovered> {
        both!(self, m => m.recover(e).await)
    }
    fn has_ready(&self) -> bool {
        both!(self, m => m.has_ready())
    }

    fn acks_before_waiting(&self) -> bool {
        both!(self, m => m.acks_before_waiting())
    }
}

/// `--incoming-push-listen`: `PORT` (on 127.0.0.1) or `ADDR:PORT`.
fn push_addr(s: &str) -> Result<std::net::SocketAddr, Error> {
    let full = if s.contains(':') {
        s.to_string()
    } else {
        format!("127.0.0.1:{s}")
    };
    full.parse().map_err(|_| {
        usage(format!(
            "invalid incoming-push-listen {s:?}: not [ADDR:]PORT (an IP address and a port)"
        ))
    })
}

fn usage(s: String) -> Error {
    Error::Usage(s)
}

/// The dialect: `--dialect`, or Pub/Sub for `http://` (a local emulator) and
/// `*.googleapis.com`, AMS for the rest.
fn dialect(cli: &Cli, broker: &Broker) -> Dialect {
    cli.dialect.unwrap_or_else(|| {
        let pubsub = broker
            .endpoints
            .servers
            .iter()
            .all(|s| !s.tls || s.host.ends_with(".googleapis.com"));
        if pubsub {
            Dialect::Pubsub
        } else {
            Dialect::Ams
        }
    })
}

/// The key of `--ams-publisher`'s file, or of `--key-file` (its first line), refused when the
/// file cannot be read, others can access it, or the line is empty.
fn key(cli: &Cli) -> Result<Option<String>, Error> {
    if cli.key.is_some() {
        return Ok(cli.key.clone());
    }
    let Some(path) = &cli.key_file else {
        return Ok(None);
    };
    let key = agent::secret::read(path).map_err(|source| Error::Secret {
        what: "key-file".into(),
        source,
    })?;
    Ok(Some(key.trim().to_string()))
}

/// Every server's URI must name the project: `/v1/projects/PROJECT`.
fn check_paths(broker: &Broker) -> Result<(), Error> {
    for s in &broker.endpoints.servers {
        let path = s.path.as_deref().unwrap_or("");
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if !matches!(parts.as_slice(), [_, "projects", p] if !p.is_empty()) {
            return Err(usage(format!(
                "invalid {}-broker-uri: {}:{} needs the path /v1/projects/PROJECT (got {path:?})",
                broker.side, s.host, s.port
            )));
        }
    }
    Ok(())
}

/// `--ams-message` and `--avro-schema`: how messages are built, the schema read and checked.
fn build(cli: &Cli) -> Result<Option<publisher::build::Build>, Error> {
    let Some(msgtype) = cli.ams_message else {
        return Ok(None);
    };
    let avro = match &cli.avro_schema {
        None => None,
        Some(path) => {
            let bad = |e: String| usage(format!("invalid avro-schema {}: {e}", path.display()));
            let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
            Some(publisher::avro::parse(&text).map_err(bad)?)
        }
    };
    Ok(Some(publisher::build::Build { msgtype, avro }))
}

fn timeout(cli: &Cli) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(cli.timeout_request)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            usage(format!(
                "invalid timeout-request: {} is not a positive number of seconds",
                cli.timeout_request
            ))
        })
}

impl agent::Protocol for Ams {
    const NAME: &'static str = "amsclt";
    const SCHEMES: &'static [(&'static str, Scheme)] = SCHEMES;
    const BROKER_HEADERS: &'static [&'static str] = BROKER_HEADERS;
    const MAP_OPTIONS: &'static [&'static str] = cli::MAP_OPTIONS;
    type Cli = Cli;
    type Incoming = AmsIn;
    type Outgoing = AmsOutgoing;

    fn prepare(cli: &mut Cli) -> Result<(), Error> {
        publisher::apply(cli)
    }

    fn hide_secrets(cli: &mut Cli) {
        if let Some(k) = &mut cli.key {
            *k = "***".into();
        }
    }

    fn validate(cli: &Cli) -> Result<(), Error> {
        // ams-publisher reads its Key from an INI anyone may read: warned about, not refused
        if let Some(path) = cli.ams_publisher.as_deref().filter(|_| cli.key.is_some())
            && let Some(w) = agent::secret::warning(path, "the ams-publisher configuration")
        {
            agent::log::warn(format_args!("{w}"));
        }
        if cli.avro_schema.is_some() && cli.ams_message.is_none() {
            return Err(usage("option avro-schema needs --ams-message".into()));
        }
        if let Some(t) = &cli.topic {
            mapping::check_name(t).map_err(|e| usage(format!("invalid topic: {e}")))?;
        }
        if let Some(l) = &cli.incoming_push_listen {
            push_addr(l)?;
        } else if cli.incoming_push_cert.is_some() {
            return Err(usage(
                "option incoming-push-cert needs --incoming-push-listen".into(),
            ));
        }
        timeout(cli).map(|_| ())
    }

    fn incoming_served(cli: &Cli) -> Option<String> {
        // the side's name in metrics and --status (a bad address is refused by `validate`)
        let l = cli.incoming_push_listen.as_ref()?;
        let addr = push_addr(l).map_or_else(|_| l.clone(), |a| a.to_string());
        let scheme = if cli.incoming_push_cert.is_some() {
            "https"
        } else {
            "http"
        };
        Some(format!("{scheme}://{addr}/v1/projects/push"))
    }

    fn incoming(cli: &Cli, broker: Broker, subs: Subscriptions) -> Result<AmsIn, Error> {
        if let Some(l) = &cli.incoming_push_listen {
            if !subs.subscribe.is_empty() {
                return Err(usage(
                    "options incoming-push-listen and subscribe are mutually exclusive".into(),
                ));
            }
            let tls = match (&cli.incoming_push_cert, &cli.incoming_push_key) {
                (Some(cert), Some(key)) => {
                    Some(agent::tls::server_config(cert, key).map_err(|e| {
                        usage(format!(
                            "invalid incoming-push-cert: {}",
                            procctl::error_line(&e)
                        ))
                    })?)
                }
                _ => None,
            };
            return Ok(AmsIn::Push(PushIncoming::new(
                push_addr(l)?,
                cli.payload,
                tls,
                timeout(cli)?,
            )));
        }
        check_paths(&broker)?;
        let mut subscriptions = Vec::new();
        for s in &subs.subscribe {
            let mut name = None;
            for (k, v) in s {
                match k.as_str() {
                    "destination" => name = Some(v.clone()),
                    _ => {
                        return Err(usage(format!(
                            "invalid subscribe: unexpected {k:?} (amsclt takes destination=SUBSCRIPTION)"
                        )));
                    }
                }
            }
            let name = name.ok_or_else(|| {
                usage("invalid subscribe: destination=SUBSCRIPTION is required".into())
            })?;
            mapping::check_name(&name).map_err(|e| usage(format!("invalid subscribe: {e}")))?;
            subscriptions.push(name);
        }
        if subscriptions.is_empty() {
            return Err(usage(
                "an incoming broker needs --subscribe destination=SUBSCRIPTION".into(),
            ));
        }
        let max_messages = subs
            .prefetch
            .unwrap_or(MAX_PULL)
            .min(subs.count.unwrap_or(MAX_PULL))
            .clamp(1, MAX_PULL);
        Ok(AmsIn::Pull(Box::new(AmsIncoming::new(IncomingOptions {
            dialect: dialect(cli, &broker),
            key: key(cli)?,
            subscriptions,
            payload: cli.payload,
            max_messages,
            timeout: timeout(cli)?,
            broker,
        }))))
    }

    fn outgoing(cli: &Cli, broker: Broker) -> Result<AmsOutgoing, Error> {
        check_paths(&broker)?;
        Ok(AmsOutgoing::new(OutgoingOptions {
            key: key(cli)?,
            topic: cli.topic.clone(),
            payload: cli.payload,
            build: build(cli)?,
            batch: cli.publish_batch.map_or(outgoing::MAX_BATCH, usize::from),
            timeout: timeout(cli)?,
            broker,
        }))
    }
}
