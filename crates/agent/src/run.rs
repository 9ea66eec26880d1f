//! From a command line to a finished transfer and an [`Outcome`].

use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::CommandFactory;
use message::QueueOptions;
use procctl::{DaemonOptions, Daemonized, Report};
use transfer::{
    Engine, ErrorKind, Meter, QueueIncoming, QueueIncomingOptions, QueueOutgoing, Recovering,
    Recovery, Settings, StopFlag,
};

use crate::Outcome;
use crate::Protocol;
use crate::args::{AgentArgs, key_values};
use crate::config;
use crate::dial::Dialer;
use crate::endpoint::{Endpoints, Failover, Side};
use crate::error::{Error, usage};
use crate::exit;
use crate::metrics::{Figures, Label};
use crate::multi::{self, AllIncoming, AnyOutgoing};
use crate::pidfile::{self, Pidfile};
use crate::tls::TlsSettings;

/// A plain credential's name and pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `plain name=…`.
    pub login: Option<String>,
    /// `plain pass=…`.
    pub passcode: Option<String>,
    /// An `x509` credential was given (the client certificate is in the dialer's TLS).
    pub x509: bool,
}

/// The shared settings of one broker, from which a protocol builds its module.
#[derive(Debug, Clone)]
pub struct Broker {
    /// Incoming or outgoing.
    pub side: Side,
    /// The servers and the failover policy.
    pub endpoints: Endpoints,
    /// TCP and TLS.
    pub dialer: Dialer,
    /// From `-auth`.
    pub credentials: Credentials,
    /// `--timeout-connect`.
    pub timeout_connect: Option<Duration>,
    /// `--timeout-disconnect`.
    pub timeout_disconnect: Duration,
    /// `--reliable`.
    pub reliable: bool,
    /// Set by INT/TERM/QUIT: connection loops give up between attempts.
    pub stop: StopFlag,
    /// `--reconnect`: a lost connection is recovered ([`transfer::Recovering`] counts and
    /// reports it; the module keeps what it must send again or ask receipts for).
    pub reconnect: bool,
}

impl Broker {
    /// Refuses a URI with a path, for a protocol whose URIs have none (`protocol` names it,
    /// `hint` says where that setting goes instead, if anywhere).
    pub fn no_path(&self, protocol: &str, hint: &str) -> Result<(), Error> {
        match self.endpoints.servers.iter().find(|s| s.path.is_some()) {
            Some(s) => Err(Error::Usage(format!(
                "invalid {}-broker-uri: {protocol} URI has no path ({:?}){hint}",
                self.side,
                s.path.as_deref().unwrap_or(""),
            ))),
            None => Ok(()),
        }
    }

    /// Connects to one of the servers — the only one, or with failover the first that
    /// accepts, with the URI's backoff; `retrying` (after a lost connection) retries a single
    /// server too — dialing TCP or TLS and handing the stream to the protocol's `handshake`.
    /// Only failures to connect are retried: a broker that refuses us is final.
    pub async fn connect<T, F, Fut>(&self, retrying: bool, handshake: F) -> transfer::Result<T>
    where
        F: Fn(crate::Endpoint, Box<dyn crate::dial::Stream>) -> Fut,
        Fut: std::future::Future<Output = transfer::Result<T>>,
    {
        let handshake = &handshake;
        self.endpoints
            .connect(retrying, &self.stop, |ep| async move {
                let stream = self.dialer.dial(&ep).await?;
                handshake(ep, stream).await
            })
            .await
    }
}

/// What an incoming broker subscribes to.
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    /// One `KEY=VALUE` list per `--subscribe`.
    pub subscribe: Vec<Vec<(String, String)>>,
    /// `--prefetch`, or min(count, 100) with `--reliable --count`.
    pub prefetch: Option<u64>,
    /// `--timeout-broker`: how long to wait for subscription confirmations.
    pub timeout_broker: Option<Duration>,
    /// `--count`: a protocol whose broker hands messages over before they are acknowledged
    /// must not ask for more than this many.
    pub count: Option<u64>,
}

/// Where messages come from and go to, once the options are checked.
enum End {
    Broker(String),
    Queue(QueueOptions),
}

fn seconds(name: &str, v: Option<f64>) -> Result<Option<Duration>, Error> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(usage(format!("option {name} is not positive: {s}"))),
    }
}

fn queue_options(s: &str, which: &str) -> Result<QueueOptions, Error> {
    s.parse::<QueueOptions>()
        .map_err(|e| usage(format!("{which}-queue: {e}")))
}

fn one_of(side: Side, broker: &Option<String>, queue: &Option<String>) -> Result<End, Error> {
    match (broker, queue) {
        (None, None) => Err(usage(format!(
            "option {side}-broker or {side}-queue is required"
        ))),
        (Some(_), Some(_)) => Err(usage(format!(
            "options {side}-broker and {side}-queue are mutually exclusive"
        ))),
        (Some(uri), None) => Ok(End::Broker(uri.clone())),
        (None, Some(q)) => Ok(End::Queue(queue_options(q, &side.to_string())?)),
    }
}

/// A `callback-code` (or the file of `callback-path`) made only of header assignments and
/// deletions becomes the built-in filters (`crate::callback`); other code stays, to be
/// refused by [`validate`].
fn simple_callbacks(a: &mut AgentArgs) -> Result<(), Error> {
    let code = match (&a.callback_code, &a.callback_path) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) => std::fs::read_to_string(p).map_err(|e| {
            usage(format!(
                "option callback-path: cannot read {}: {e}",
                p.display()
            ))
        })?,
        (None, None) => return Ok(()),
    };
    if let Some(edits) = crate::callback::translate(&code) {
        crate::log::debug(
            1,
            format_args!(
                "callback translated: delete {:?}, set {:?}",
                edits.delete, edits.set
            ),
        );
        a.header_delete.extend(edits.delete);
        a.header_set
            .extend(edits.set.into_iter().map(|(k, v)| format!("{k}={v}")));
        a.callback_code = None;
        a.callback_path = None;
    }
    Ok(())
}

/// Checks the reference's option rules; returns the source and the destination. `served`:
/// an incoming side the protocol serves itself ([`crate::Protocol::incoming_served`]).
fn validate(a: &AgentArgs, language: &str, served: Option<String>) -> Result<(End, End), Error> {
    if a.daemon && a.statistics {
        return Err(usage(
            "options daemon and statistics are mutually exclusive",
        ));
    }
    if a.callback_code.is_some() || a.callback_path.is_some() || a.callback_data.is_some() {
        return Err(usage(format!(
            "options callback-code, callback-path and callback-data run {language} code, which this agent cannot do (only header assignments and deletions are translated); use the built-in filters (--header-set, --header-delete, --header-rename, --keep-if, --drop-if, --tap, --strip-broker-headers)"
        )));
    }
    let source = match served {
        Some(_) if a.incoming_broker_uri.is_some() || a.incoming_queue.is_some() => {
            return Err(usage(
                "the incoming side the agent serves excludes options incoming-broker-uri and incoming-queue",
            ));
        }
        Some(uri) => End::Broker(uri),
        None => one_of(Side::Incoming, &a.incoming_broker_uri, &a.incoming_queue)?,
    };
    let served = a.incoming_broker_uri.is_none() && a.incoming_queue.is_none();
    let destination = one_of(Side::Outgoing, &a.outgoing_broker_uri, &a.outgoing_queue)?;
    let inq = matches!(source, End::Queue(_));
    if (a.looping || a.remove) && !inq {
        return Err(usage("options loop and remove require an incoming queue"));
    }
    if inq && (a.prefetch.is_some() || !a.subscribe.is_empty()) {
        return Err(usage(
            "options prefetch and subscribe require an incoming broker",
        ));
    }
    if !inq && !served && a.subscribe.is_empty() {
        return Err(usage(
            "option subscribe is required with an incoming broker",
        ));
    }
    if a.heart_beat && inq && matches!(destination, End::Queue(_)) {
        return Err(usage("option heart-beat requires a broker"));
    }
    for (name, v) in [
        ("timeout-client", Some(a.timeout_client)),
        ("timeout-server", Some(a.timeout_server)),
        ("timeout-disconnect", Some(a.timeout_disconnect)),
        ("timeout-flush", Some(a.timeout_flush)),
        ("duration", a.duration),
    ] {
        seconds(name, v)?;
    }
    Ok((source, destination))
}

/// Both modes of `--status` and `--quit`: the lines and the exit status.
fn control(a: &AgentArgs, program: &'static str) -> Result<Option<Outcome>, Error> {
    if a.quit && a.status {
        return Err(usage("options quit and status are mutually exclusive"));
    }
    if !(a.quit || a.status) {
        return Ok(None);
    }
    let Some(path) = a.pidfile.as_deref() else {
        return Err(usage("options quit and status require option pidfile"));
    };
    if a.status {
        let deadline = std::time::Instant::now()
            + seconds("timeout-status", a.timeout_status)?.unwrap_or_default();
        loop {
            let (code, line) = if a.json {
                pidfile::status_json(path, program)
            } else {
                pidfile::status(path, program)
            };
            if code == 0 || std::time::Instant::now() >= deadline {
                return Ok(Some(Outcome::lines(program, code, vec![line])));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let linger = a.timeout_linger.unwrap_or(1.0);
    let grace = Duration::from_secs_f64(linger + a.timeout_flush + 10.0);
    let lines = pidfile::quit(path, program, grace)?;
    Ok(Some(Outcome::lines(program, exit::OK, lines)))
}

/// Whether a configuration file gives a password itself (`pass=`, `SSL_passwd`) rather than
/// through a `pass-file=`: the references accept such files whoever can read them, so they
/// are only warned about.
fn holds_password(path: &std::path::Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| {
        let t = t.to_ascii_lowercase();
        t.contains(" pass=") || t.contains("ssl_passwd")
    })
}

/// `-auth`: the plain credential's name and pass (`pass=` or `pass-file=`), and the x509
/// credential's files into `tls`.
fn credentials(side: Side, auth: &[String], tls: &mut TlsSettings) -> Result<Credentials, Error> {
    let mut credentials = Credentials::default();
    for a in auth {
        let mut words = a.split_whitespace();
        let scheme = words.next();
        let rest: Vec<&str> = words.collect();
        let pairs = key_values(&rest.join(" "), "auth")?;
        match scheme {
            Some("none") | None => {}
            Some("plain") => {
                for (k, v) in pairs {
                    match k.as_str() {
                        "name" => credentials.login = Some(v),
                        "pass" => credentials.passcode = Some(v),
                        "pass-file" => {
                            let path = std::path::Path::new(&v);
                            let pass =
                                crate::secret::read(path).map_err(|source| Error::Secret {
                                    what: format!("{side}-broker-auth pass-file"),
                                    source,
                                })?;
                            credentials.passcode = Some(pass);
                        }
                        _ => {
                            return Err(usage(format!(
                                "invalid {side}-broker-auth: unexpected {k:?}"
                            )));
                        }
                    }
                }
            }
            Some("x509") if credentials.x509 => {
                return Err(usage(format!(
                    "invalid {side}-broker-auth: at most one x509 credential"
                )));
            }
            Some("x509") => {
                credentials.x509 = true;
                let mut pairs = pairs;
                if let Some(i) = pairs.iter().position(|(k, _)| k == "pass-file") {
                    let (_, path) = pairs.remove(i);
                    let pass =
                        crate::secret::read(std::path::Path::new(&path)).map_err(|source| {
                            Error::Secret {
                                what: format!("{side}-broker-auth pass-file"),
                                source,
                            }
                        })?;
                    pairs.push(("pass".into(), pass));
                }
                tls.x509(&pairs).map_err(|e| Error::TlsOption {
                    side,
                    option: "auth",
                    source: e,
                })?;
            }
            Some(s) => {
                return Err(usage(format!(
                    "invalid {side}-broker-auth scheme {s:?} (none, plain, x509)"
                )));
            }
        }
    }
    Ok(credentials)
}

/// One side's `-uri`, `-auth` and `-sockopts` made into broker settings.
fn broker(
    side: Side,
    uri: &str,
    auth: &[String],
    sockopts: Option<&str>,
    a: &AgentArgs,
    shared: Shared<'_>,
    schemes: &[(&str, crate::Scheme)],
) -> Result<Broker, Error> {
    let mut endpoints = Endpoints::parse(uri, side, schemes)?;
    let mut tls = TlsSettings::default();
    let tls_option = |option, source| Error::TlsOption {
        side,
        option,
        source,
    };
    if let Some(so) = sockopts {
        for (k, v) in key_values(so, &format!("{side}-broker-sockopts"))? {
            match tls.sockopt(&k, &v) {
                Ok(None) => {}
                Ok(Some(w)) => crate::log::warn(format_args!("{side}-broker-sockopts: {w}")),
                Err(e) => return Err(tls_option("sockopts", e)),
            }
        }
    }
    let credentials = credentials(side, auth, &mut tls)?;
    if tls.forced || credentials.x509 {
        // SSL_* options or a client certificate: TLS whatever the scheme said
        endpoints.force_tls();
    }
    let timeout_connect = seconds("timeout-connect", a.timeout_connect)?;
    let dialer = Dialer {
        tls: if endpoints.any_tls() {
            Some(tls.build().map_err(|source| Error::Tls { side, source })?)
        } else {
            None
        },
        timeout: timeout_connect,
    };
    Ok(Broker {
        side,
        endpoints,
        dialer,
        credentials,
        timeout_connect,
        timeout_disconnect: Duration::from_secs_f64(a.timeout_disconnect),
        reliable: a.reliable,
        stop: shared.0.clone(),
        reconnect: shared.1,
    })
}

fn pair(s: &str, what: &str) -> Result<(String, String), Error> {
    s.split_once('=')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .ok_or_else(|| usage(format!("invalid {what} {s:?}: expected A=B")))
}

fn filters(
    a: &AgentArgs,
    broker_headers: &'static [&'static str],
) -> Result<transfer::filter::Filters, Error> {
    use transfer::filter::{Filters, Test};
    let mut f = Filters::default();
    if a.strip_broker_headers {
        f.strip = broker_headers;
    }
    f.delete = a.header_delete.clone();
    for r in &a.header_rename {
        f.rename.push(pair(r, "header-rename")?);
    }
    for r in &a.header_set {
        f.set.push(pair(r, "header-set")?);
    }
    for t in &a.keep_if {
        f.keep_if.push(Test::parse(t)?);
    }
    for t in &a.drop_if {
        f.drop_if.push(Test::parse(t)?);
    }
    if let Some(t) = &a.tap {
        f.tap = Some(queue_options(t, "tap")?);
    }
    Ok(f)
}

/// INT, TERM and QUIT stop gracefully, HUP is ignored, as the reference does. (Rust
/// already ignores SIGPIPE: a closed socket is an error, not a silent death.)
fn signals(stop: &StopFlag) -> Result<(), Error> {
    procctl::signals::flag(&[libc::SIGINT, libc::SIGTERM, libc::SIGQUIT], stop)?;
    procctl::signals::flag(&[libc::SIGHUP], &Arc::new(AtomicBool::new(false)))?;
    Ok(())
}

/// `--daemon`: in the original process, the daemon's report; in the daemon, its pidfile.
fn daemonize(
    a: &AgentArgs,
    program: &'static str,
) -> Result<Result<Option<Pidfile>, Outcome>, Error> {
    let opts = DaemonOptions {
        chdir_root: false,
        keep_regular_output: false,
    };
    match procctl::daemonize(opts)? {
        Daemonized::Parent(Report::Started(pid)) => Ok(Err(Outcome::lines(
            program,
            exit::OK,
            vec![format!("{program} (pid {pid}) started")],
        ))),
        Daemonized::Parent(Report::Failed(e)) => Err(Error::DaemonFailed(e)),
        Daemonized::Parent(Report::Died) => Err(usage("the daemon did not start")),
        Daemonized::Daemon(ready) => {
            // from now on warnings and the final error go to syslog (or the --logfile)
            crate::log::daemonized();
            match a
                .pidfile
                .as_deref()
                .map(|p| Pidfile::create(p, program))
                .transpose()
            {
                Ok(pf) => {
                    ready.ready();
                    Ok(Ok(pf))
                }
                Err(e) => {
                    let e = Error::from(e);
                    ready.failed(&e.line());
                    Err(e)
                }
            }
        }
    }
}

/// `--log`, `--logfile`, `--loglevel`.
fn logging(a: &AgentArgs) -> Result<(), Error> {
    use crate::log::Target;
    let target = match (a.log.as_deref(), &a.logfile) {
        (Some("file"), None) => return Err(usage("option log=file requires option logfile")),
        (Some("file"), Some(path)) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| usage(format!("cannot open log file {}: {e}", path.display())))?;
            Target::File(f)
        }
        (Some("stdout"), _) => Target::Stdout,
        (Some("syslog"), _) => Target::Syslog,
        (Some("null"), _) => Target::Null,
        _ => Target::Stderr,
    };
    crate::log::set_target(target);
    crate::log::set_quiet(a.loglevel.as_deref() == Some("error"));
    Ok(())
}

fn parse<P: Protocol>(args: &[OsString]) -> Result<P::Cli, Outcome> {
    procctl::outcome::parse(P::NAME, args.iter().cloned(), exit::CLAP)
}

/// Ends the process as the outcome says; its error line also goes where the log goes when
/// that is not a terminal (syslog once daemonized, the log file).
pub fn finish(outcome: Outcome) -> std::process::ExitCode {
    if let Some(e) = &outcome.error {
        crate::log::error(e);
    }
    outcome.exit()
}

/// Runs one invocation of agent `P` with these arguments (the program name first).
pub fn run<P: Protocol>(argv: Vec<OsString>) -> Outcome {
    crate::log::init(P::NAME);
    match run_checked::<P>(argv) {
        Ok(o) => o,
        Err(e) => Outcome::failed(P::NAME, e.exit_code(), e.line()),
    }
}

fn run_checked<P: Protocol>(argv: Vec<OsString>) -> Result<Outcome, Error> {
    let mut cli = match parse::<P>(&argv) {
        Ok(c) => c,
        Err(o) => return Ok(o),
    };
    let a = cli.as_ref();
    if a.manual {
        let text = P::Cli::command().render_long_help().to_string();
        return Ok(Outcome::lines(P::NAME, exit::OK, vec![text]));
    }
    if a.list {
        return Ok(Outcome::lines(
            P::NAME,
            exit::OK,
            crate::args::option_list(&P::Cli::command()),
        ));
    }
    if let Some(path) = &a.config {
        let maps: Vec<&str> = crate::args::MAP_OPTIONS
            .iter()
            .chain(P::MAP_OPTIONS)
            .copied()
            .collect();
        let src = config::Source {
            path,
            config_general: a.config_general.as_deref(),
            program: P::NAME,
            maps: &maps,
        };
        // the file's options first, the command line after: the command line wins
        let merged = config::merge(&src, &P::Cli::command(), &argv)?;
        cli = match parse::<P>(&merged) {
            Ok(c) => c,
            Err(o) => return Ok(o),
        };
    }
    simple_callbacks(cli.as_mut())?;
    P::prepare(&mut cli)?;
    let a = cli.as_ref();
    logging(a)?;
    if let Some(path) = a.config.as_deref().filter(|p| holds_password(p))
        && let Some(w) = crate::secret::warning(path, "the configuration file")
    {
        crate::log::warn(format_args!("{w}"));
    }
    let debug = if a.loglevel.as_deref() == Some("debug") {
        1
    } else {
        0
    };
    crate::log::set_level(a.debug.max(P::debug_level(&cli)).max(debug));
    if a.debug > 3 {
        // credentials are not for logs
        let mut shown = cli.clone();
        P::hide_secrets(&mut shown);
        let sa = shown.as_mut();
        for auth in sa
            .incoming_broker_auth
            .iter_mut()
            .chain(sa.outgoing_broker_auth.iter_mut())
        {
            *auth = auth.split_whitespace().next().unwrap_or("").to_string() + " …";
        }
        for sockopts in [
            &mut sa.incoming_broker_sockopts,
            &mut sa.outgoing_broker_sockopts,
        ]
        .into_iter()
        .flatten()
        {
            *sockopts = crate::secret::hide_sockopts(sockopts);
        }
        for uri in [&mut sa.incoming_broker_uri, &mut sa.outgoing_broker_uri]
            .into_iter()
            .flatten()
        {
            *uri = crate::secret::hide_userinfo(uri).0;
        }
        crate::log::debug(4, format_args!("configuration: {shown:?}"));
    }
    if let Some(o) = control(a, P::NAME)? {
        return Ok(o);
    }
    let (source, destination) = validate(a, P::CALLBACK_LANGUAGE, P::incoming_served(&cli))?;
    P::validate(&cli)?;
    transfer_run::<P>(&cli, source, destination)
}

/// A metrics option that cannot work: a usage error, in one line.
fn metrics_error(e: ::metrics::StartError) -> Error {
    usage(procctl::error_line(&e))
}

/// How the metrics name a side of the run.
fn label(end: &End) -> Label {
    match end {
        End::Broker(uri) if uri.trim_start().starts_with("all:") => Label::All,
        End::Broker(uri) => Label::Broker(uri.clone()),
        End::Queue(q) => Label::Queue(
            q.path
                .as_ref()
                .map_or_else(|| "NULL".to_string(), |p| p.display().to_string()),
            Arc::new(std::sync::atomic::AtomicI64::new(-1)),
        ),
    }
}

/// Built once per run: boxed only to keep the enums small.
enum In<'a, I> {
    Broker(Box<Recovering<I>>),
    All(Box<AllIncoming<'a, I>>),
    Queue(Box<QueueIncoming>),
}

enum Out<'a, O> {
    Broker(Box<Recovering<O>>),
    Any(Box<AnyOutgoing<'a, O>>),
    Queue(Box<QueueOutgoing>),
}

/// What the signals share with the broker modules, and `--reconnect`.
type Shared<'a> = (&'a StopFlag, bool);

/// An `all:` list: the members' brokers, their names for messages, the backoff.
fn members(b: &Broker) -> (Vec<Broker>, Vec<String>, Failover) {
    let brokers: Vec<Broker> = b
        .endpoints
        .members()
        .into_iter()
        .map(|endpoints| Broker {
            endpoints,
            // a broker of the list that fails gets a new module: its own recovery unused
            reconnect: false,
            ..b.clone()
        })
        .collect();
    let peers = brokers
        .iter()
        .map(|m| m.endpoints.servers[0].peer())
        .collect();
    (
        brokers,
        peers,
        b.endpoints.failover.clone().unwrap_or_default(),
    )
}

/// The incoming module: the protocol's broker module or the queue module.
fn incoming<'a, P: Protocol>(
    cli: &'a P::Cli,
    source: End,
    shared: Shared<'_>,
    all: &multi::Shared,
) -> Result<In<'a, P::Incoming>, Error> {
    let a = cli.as_ref();
    Ok(match source {
        End::Broker(uri) => {
            let b = broker(
                Side::Incoming,
                &uri,
                &a.incoming_broker_auth,
                a.incoming_broker_sockopts.as_deref(),
                a,
                shared,
                P::SCHEMES,
            )?;
            let mut subscribe = Vec::new();
            for s in &a.subscribe {
                subscribe.push(key_values(s, "subscribe")?);
            }
            let subs = Subscriptions {
                subscribe,
                prefetch: a.prefetch.or(match (a.reliable, a.count) {
                    (true, Some(c)) => Some(c.min(100)),
                    _ => None,
                }),
                timeout_broker: seconds("timeout-broker", a.timeout_broker)?,
                count: a.count,
            };
            if b.endpoints.all {
                let (brokers, peers, policy) = members(&b);
                let factory =
                    Box::new(move |i: usize| P::incoming(cli, brokers[i].clone(), subs.clone()));
                let all = AllIncoming::new(peers, factory, policy, all.clone())?;
                return Ok(In::All(Box::new(all)));
            }
            In::Broker(Box::new(
                Recovering::new(P::incoming(cli, b, subs)?, a.reconnect)
                    .with_meter(all.meter.clone())
                    .with_recovery(all.recovery.clone()),
            ))
        }
        End::Queue(queue) => In::Queue(Box::new(QueueIncoming::new(QueueIncomingOptions {
            queue,
            remove: a.remove,
            looping: a.looping,
            reliable: a.reliable,
            quarantine: a.quarantine.as_ref().map(|dir| transfer::Quarantine {
                dir: dir.clone(),
                count: all.meter.quarantined.clone(),
            }),
        }))),
    })
}

/// The outgoing module: the protocol's broker module or the queue module.
fn outgoing<'a, P: Protocol>(
    cli: &'a P::Cli,
    destination: End,
    shared: Shared<'_>,
    all: &multi::Shared,
    dedup: Option<&transfer::dedup::Dedup>,
) -> Result<Out<'a, P::Outgoing>, Error> {
    let a = cli.as_ref();
    Ok(match destination {
        End::Broker(uri) => {
            let b = broker(
                Side::Outgoing,
                &uri,
                &a.outgoing_broker_auth,
                a.outgoing_broker_sockopts.as_deref(),
                a,
                shared,
                P::SCHEMES,
            )?;
            if b.endpoints.all {
                let (brokers, peers, policy) = members(&b);
                let factory = Box::new(move |i: usize| P::outgoing(cli, brokers[i].clone()));
                let any = AnyOutgoing::new(peers, factory, policy, all.clone())?;
                return Ok(Out::Any(Box::new(any)));
            }
            Out::Broker(Box::new(
                Recovering::new(P::outgoing(cli, b)?, a.reconnect)
                    .with_meter(all.meter.clone())
                    .with_recovery(all.recovery.clone()),
            ))
        }
        End::Queue(q) => {
            let mut m = QueueOutgoing::new(q);
            if let Some(d) = dedup {
                m = m.with_window(d.window.clone());
            }
            Out::Queue(Box::new(m))
        }
    })
}

fn transfer_run<P: Protocol>(
    cli: &P::Cli,
    source: End,
    destination: End,
) -> Result<Outcome, Error> {
    let a = cli.as_ref();
    let settings = settings(a)?;
    // registered with the signals later (after a --daemon fork); reconnect loops watch it
    let stop: StopFlag = Arc::new(AtomicBool::new(false));
    let all = multi::Shared {
        recovery: Arc::new(Recovery::default()),
        stop: stop.clone(),
        board: Arc::new(multi::Board::default()),
        meter: Arc::new(Meter::default()),
    };
    let sides = [label(&source), label(&destination)];
    let spools = spools(&source, &destination, &sides);
    let mut incoming = incoming::<P>(cli, source, (&stop, a.reconnect), &all)?;
    let dedup = dedup::<P>(a, &destination)?;
    let mut outgoing = outgoing::<P>(cli, destination, (&stop, a.reconnect), &all, dedup.as_ref())?;
    let filters = filters(a, P::BROKER_HEADERS)?;
    let reject = reject_queue(a)?;
    let bound = a.metrics.bind().map_err(metrics_error)?;
    let mut pidfile = match process::<P>(a)? {
        Ok(pidfile) => pidfile,
        Err(parent) => return Ok(parent),
    };
    if let Some(pf) = pidfile.as_mut()
        && (matches!(incoming, In::All(_)) || matches!(outgoing, Out::Any(_)))
    {
        let board = all.board.clone();
        pf.set_details(Box::new(move || board.lines()))?;
    }
    let figures = Arc::new(Figures {
        program: P::NAME,
        meter: all.meter.clone(),
        recovery: all.recovery.clone(),
        board: all.board.clone(),
        sides,
        started: std::time::SystemTime::now(),
        spools,
    });
    let exporters = observe(a, &figures, pidfile.as_mut(), bound)?;
    signals(&stop)?;
    let mut engine = Engine::new(settings, stop)
        .with_filters(filters)
        .with_meter(all.meter.clone());
    if let Some(q) = reject {
        engine = engine.with_reject(q);
    }
    if let Some(d) = dedup {
        engine = engine.with_dedup(d);
    }
    let stats = run_engine(engine, pidfile.as_mut(), &mut incoming, &mut outgoing);
    // the final figures, the error that ended the run included
    if a.metrics.metrics_file.is_some() {
        figures.count_spools();
    }
    // a failure here is a warning: the transfer itself is done
    if let Err(e) = exporters.finish() {
        crate::log::warn(format_args!("cannot write the final metrics file: {e}"));
    }
    let stats = stats?;
    let mut lines = Vec::new();
    if a.statistics {
        lines = statistics(&stats, &incoming, &outgoing, &all.recovery);
        lines.extend(beyond(a, &all.meter));
    }
    Ok(Outcome::lines(P::NAME, exit::OK, lines))
}

/// `--statistics`' lines for the options beyond the reference that are on.
fn beyond(a: &AgentArgs, m: &Meter) -> Vec<String> {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let mut lines = Vec::new();
    if a.dedup {
        lines.push(format!(
            "dedup: {} duplicates dropped, {} messages without id",
            get(&m.duplicates),
            get(&m.without_id)
        ));
    }
    if a.quarantine.is_some() {
        let n = get(&m.quarantined);
        lines.push(format!(
            "{n} unreadable incoming queue elements quarantined"
        ));
    }
    if a.reject_queue.is_some() {
        let n = get(&m.rejected);
        lines.push(format!(
            "{n} messages refused by the destination, in the reject queue"
        ));
    }
    lines
}

/// `--dedup`: the window opened (beside the outgoing queue, or in `--dedup-state`) and
/// locked for this run, what a crash left staged committed, before anything moves.
fn dedup<P: Protocol>(
    a: &AgentArgs,
    destination: &End,
) -> Result<Option<transfer::dedup::Dedup>, Error> {
    if !a.dedup {
        return Ok(None);
    }
    let bounds = transfer::dedup::Bounds {
        max_age: seconds("dedup-window", Some(a.dedup_window))?.unwrap_or_default(),
        max_ids: a.dedup_size.max(1),
    };
    let (dir, queue) = match (destination, &a.dedup_state) {
        (_, Some(dir)) => (dir.clone(), None),
        (End::Queue(q), None) => match &q.path {
            Some(p) => (p.clone(), Some(q)),
            None => {
                return Err(usage(
                    "option dedup needs --dedup-state DIR with a NULL queue",
                ));
            }
        },
        (End::Broker(_), None) => {
            return Err(usage(
                "option dedup needs --dedup-state DIR when the destination is a broker",
            ));
        }
    };
    let by_queue = matches!(destination, End::Queue(_));
    let opened = queue
        .map(message::MessageQueue::open)
        .transpose()
        .map_err(|e| usage(format!("outgoing-queue: {}", procctl::error_line(&e))))?;
    let sync = queue.is_some_and(|q| q.dirq.sync);
    let window = transfer::dedup::Window::open(&dir, bounds, sync, opened.as_ref())?;
    Ok(Some(transfer::dedup::Dedup {
        window: Arc::new(std::sync::Mutex::new(window)),
        by_queue,
        id_headers: P::DEDUP_ID_HEADERS.iter().map(|h| h.to_string()).collect(),
        out_headers: P::DEDUP_OUT_HEADERS.iter().map(|h| h.to_string()).collect(),
        host: procctl::host_identity(),
    }))
}

/// `--reject-queue`, opened (made if need be) before anything moves.
fn reject_queue(a: &AgentArgs) -> Result<Option<message::MessageQueue>, Error> {
    let Some(s) = &a.reject_queue else {
        return Ok(None);
    };
    let o = queue_options(s, "reject")?;
    message::MessageQueue::open(&o)
        .map(Some)
        .map_err(|e| usage(format!("reject-queue: {}", procctl::error_line(&e))))
}

/// What the engine obeys, from the shared options.
fn settings(a: &AgentArgs) -> Result<Settings, Error> {
    Ok(Settings {
        count: a.count,
        duration: seconds("duration", a.duration)?,
        timeout_inactivity: seconds("timeout-inactivity", a.timeout_inactivity)?,
        timeout_linger: seconds("timeout-linger", a.timeout_linger)?,
        window: a.window.map(|w| w as usize),
        lazy: a.lazy,
    })
}

/// The directory queues of the run, with the depth gauge of their side, for the metrics.
fn spools(
    source: &End,
    destination: &End,
    sides: &[Label; 2],
) -> Vec<(message::QueueOptions, Arc<std::sync::atomic::AtomicI64>)> {
    [source, destination]
        .iter()
        .zip(sides)
        .filter_map(|(end, label)| match (end, label) {
            (End::Queue(q), Label::Queue(_, depth)) if q.path.is_some() => {
                Some((q.clone(), depth.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The process around the run: `--daemon` (the parent's outcome, `Err`, ends it there) or
/// the `--pidfile` of a foreground run.
fn process<P: Protocol>(a: &AgentArgs) -> Result<Result<Option<Pidfile>, Outcome>, Error> {
    if a.daemon {
        return daemonize(a, P::NAME);
    }
    Ok(Ok(a
        .pidfile
        .as_deref()
        .map(|p| Pidfile::create(p, P::NAME))
        .transpose()?))
}

/// The figures' readers: `--status --json` through the pidfile, the spool counter, and the
/// metrics exporters (listener, textfile).
fn observe(
    a: &AgentArgs,
    figures: &Arc<Figures>,
    pidfile: Option<&mut Pidfile>,
    bound: Option<std::net::TcpListener>,
) -> Result<::metrics::Exporters, Error> {
    let render: ::metrics::Render = {
        let f = figures.clone();
        Arc::new(move || f.exposition())
    };
    let has_pidfile = pidfile.is_some();
    if let Some(pf) = pidfile {
        let r = render.clone();
        pf.set_figures(Box::new(move || r().to_json().to_string()))?;
    }
    if a.metrics.any() || has_pidfile {
        figures.count_spools_every();
    }
    a.metrics.start(bound, render).map_err(metrics_error)
}

/// Runs the engine on a current-thread runtime, the pidfile ticked once a turn.
fn run_engine<'p, I: transfer::Incoming, O: transfer::Outgoing>(
    mut engine: Engine<'p>,
    pidfile: Option<&'p mut Pidfile>,
    incoming: &mut In<'_, I>,
    outgoing: &mut Out<'_, O>,
) -> Result<transfer::Stats, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    if let Some(pf) = pidfile {
        engine = engine.with_tick(Box::new(move || {
            pf.tick()
                .map_err(|e| transfer::Error::new(ErrorKind::Tick, Error::from(e).line()))
        }));
    }
    let stats = rt.block_on(async {
        // one arm per pair of module types: the engine is generic, not dynamic
        macro_rules! go {
            ($($i:ident => $o:ident),*) => {
                match (incoming, outgoing) {
                    $((In::$i(i), Out::$o(o)) => engine.run(&mut **i, &mut **o).await,)*
                }
            };
        }
        go!(Broker => Broker, Broker => Any, Broker => Queue,
            All => Broker, All => Any, All => Queue,
            Queue => Broker, Queue => Any, Queue => Queue)
    });
    Ok(stats?)
}

/// `--statistics`: the reference's lines, each broker's of an `all:` list, the reconnections.
fn statistics<I: transfer::Incoming, O: transfer::Outgoing>(
    stats: &transfer::Stats,
    incoming: &In<'_, I>,
    outgoing: &Out<'_, O>,
    recovery: &Recovery,
) -> Vec<String> {
    let mut lines = stats.lines();
    if let In::All(i) = incoming {
        lines.extend(i.lines());
    }
    if let Out::Any(o) = outgoing {
        lines.extend(o.lines());
    }
    lines.extend(recovery.lines());
    lines
}
