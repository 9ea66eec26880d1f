//! From a parsed command line to a finished transfer and an exit status.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use message::QueueOptions;
use transfer::{
    Engine, ErrorKind, QueueIncoming, QueueIncomingOptions, QueueOutgoing, Settings, StopFlag,
};

use crate::broker::{IncomingOptions, OutgoingOptions, StompIncoming, StompOutgoing};
use crate::cli::{Cli, key_values};
use crate::client::{BrokerType, ConnectOptions, Failover};
use crate::tls::TlsSettings;

/// Exit statuses (see [`crate::cli::EXIT_CODES`]).
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// `--help`.
    pub const HELP: i32 = 1;
    /// Usage or configuration.
    pub const USAGE: i32 = 2;
    /// Cannot connect.
    pub const CONNECT: i32 = 3;
    /// The broker refused.
    pub const BROKER: i32 = 4;
    /// Protocol or connection failure.
    pub const PROTOCOL: i32 = 5;
    /// Incoming queue.
    pub const INCOMING_QUEUE: i32 = 6;
    /// Outgoing queue.
    pub const OUTGOING_QUEUE: i32 = 7;
    /// Unconfirmed messages at the end of linger.
    pub const PENDING: i32 = 8;
    /// Pidfile.
    pub const PIDFILE: i32 = 9;
}

/// A failure: the one-line message and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: i32,
    /// The message (printed as `stompclt: MESSAGE`).
    pub message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: exit::USAGE,
        message: message.into(),
    }
}

impl From<transfer::Error> for Failure {
    fn from(e: transfer::Error) -> Self {
        let code = match e.kind {
            ErrorKind::Config => exit::USAGE,
            ErrorKind::Connect => exit::CONNECT,
            ErrorKind::Broker => exit::BROKER,
            ErrorKind::Protocol => exit::PROTOCOL,
            ErrorKind::IncomingQueue => exit::INCOMING_QUEUE,
            ErrorKind::OutgoingQueue => exit::OUTGOING_QUEUE,
            ErrorKind::Pending => exit::PENDING,
            ErrorKind::Pidfile => exit::PIDFILE,
        };
        Failure {
            code,
            message: e.message,
        }
    }
}

fn seconds(name: &str, v: Option<f64>) -> Result<Option<Duration>, Failure> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(usage(format!("option {name} is not positive: {s}"))),
    }
}

/// `stomp://host:port`, `tcp://host:port`, `ssl://` and `stomp+ssl://` (any scheme with
/// `ssl` means TLS), IPv6 as `[::1]`. Returns (host, port, TLS).
fn parse_uri(uri: &str, which: &str) -> Result<(String, u16, bool), Failure> {
    let bad = |why: &str| usage(format!("invalid {which}-broker-uri {uri:?}: {why}"));
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| bad("expected SCHEME://HOST:PORT"))?;
    let tls = match scheme {
        "stomp" | "tcp" => false,
        "ssl" | "stomp+ssl" | "stomp+tls" | "tls" => true,
        "udp" => return Err(bad("udp:// is not supported")),
        _ => return Err(bad("unknown scheme (stomp, tcp, ssl, stomp+ssl)")),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, p) = r
            .split_once("]:")
            .ok_or_else(|| bad("expected [IPV6]:PORT"))?;
        (h.to_string(), p)
    } else {
        let (h, p) = rest.rsplit_once(':').ok_or_else(|| bad("missing port"))?;
        (h.to_string(), p)
    };
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    let port = port.parse::<u16>().map_err(|_| bad("invalid port"))?;
    Ok((host, port, tls))
}

/// Servers (host, port, TLS) and, for `failover:`, how to go through them.
type Servers = (Vec<(String, u16, bool)>, Option<Failover>);

/// A broker URI: one server, `failover:(uri,…)?options` or `failover:uri,…`, or
/// `file:/path` holding one URI a line (`#` comments), whose single line may be a failover.
fn parse_broker_uri(uri: &str, which: &str) -> Result<Servers, Failure> {
    let bad = |why: String| usage(format!("invalid {which}-broker-uri {uri:?}: {why}"));
    if let Some(path) = uri.strip_prefix("file:") {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .collect();
        return match lines.as_slice() {
            [] => Err(bad("the file holds no URI".into())),
            [one] => parse_broker_uri(one, which),
            many => {
                let mut servers = Vec::new();
                for l in many {
                    servers.push(parse_uri(l, which)?);
                }
                Ok((
                    servers.clone(),
                    Some(Failover {
                        servers,
                        ..Failover::default()
                    }),
                ))
            }
        };
    }
    let Some(rest) = uri.strip_prefix("failover:") else {
        return Ok((vec![parse_uri(uri, which)?], None));
    };
    let (list, query) = if let Some(r) = rest.strip_prefix('(') {
        let (l, q) = r.split_once(')').ok_or_else(|| bad("missing ')'".into()))?;
        (l, q.strip_prefix('?').unwrap_or(""))
    } else {
        match rest.split_once('?') {
            Some((l, q)) => (l, q),
            None => (rest, ""),
        }
    };
    let mut f = Failover::default();
    for u in list.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        f.servers.push(parse_uri(u, which)?);
    }
    if f.servers.is_empty() {
        return Err(bad("no URI in the failover list".into()));
    }
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| bad(format!("{kv:?} is not KEY=VALUE")))?;
        let ms = || {
            v.parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| bad(format!("{k}: {v:?} is not a number of milliseconds")))
        };
        let flag = || match v {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad(format!("{k}: {v:?} is not true or false"))),
        };
        match k {
            "initialReconnectDelay" => f.initial = ms()?,
            "maxReconnectDelay" => f.max = ms()?,
            "backOffMultiplier" => {
                f.multiplier = v
                    .parse::<f64>()
                    .ok()
                    .filter(|m| *m >= 1.0)
                    .ok_or_else(|| bad(format!("{k}: {v:?} is not a number >= 1")))?
            }
            "useExponentialBackOff" => f.exponential = flag()?,
            "randomize" => f.randomize = flag()?,
            "maxReconnectAttempts" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| bad(format!("{k}: {v:?} is not a number")))?;
                f.max_attempts = (n >= 0).then_some(n as u64);
            }
            _ => return Err(bad(format!("unknown failover option {k:?}"))),
        }
    }
    Ok((f.servers.clone(), Some(f)))
}

/// What one side's `--X-broker-*` options say.
struct BrokerArgs<'a> {
    which: &'a str,
    uri: &'a str,
    auth: &'a [String],
    connect: Option<&'a str>,
    sockopts: Option<&'a str>,
    btype: Option<&'a str>,
}

fn connect_options(
    b: BrokerArgs<'_>,
    cli: &Cli,
    stop: &StopFlag,
) -> Result<ConnectOptions, Failure> {
    let BrokerArgs {
        which,
        uri,
        auth,
        connect,
        sockopts,
        btype,
    } = b;
    let (mut servers, mut failover) = parse_broker_uri(uri, which)?;
    let mut tls = TlsSettings::default();
    if let Some(so) = sockopts {
        for (k, v) in key_values(so, &format!("{which}-broker-sockopts")).map_err(usage)? {
            match tls.sockopt(&k, &v) {
                Ok(None) => {}
                Ok(Some(w)) => crate::log::warn(format_args!("{which}-broker-sockopts: {w}")),
                Err(e) => return Err(usage(format!("invalid {which}-broker-sockopts: {e}"))),
            }
        }
    }
    let mut x509 = false;
    for a in auth {
        if a.split_whitespace().next() == Some("x509") {
            if x509 {
                return Err(usage(format!(
                    "invalid {which}-broker-auth: at most one x509 credential"
                )));
            }
            x509 = true;
            let rest = a.trim_start().trim_start_matches("x509");
            let pairs = key_values(rest, "auth").map_err(usage)?;
            tls.x509(&pairs)
                .map_err(|e| usage(format!("invalid {which}-broker-auth: {e}")))?;
        }
    }
    if tls.forced || x509 {
        // SSL_* options or a client certificate: TLS whatever the scheme said
        for s in &mut servers {
            s.2 = true;
        }
        if let Some(f) = failover.as_mut() {
            for s in &mut f.servers {
                s.2 = true;
            }
        }
    }
    let tls_config = if servers.iter().any(|s| s.2) {
        Some(
            tls.build()
                .map_err(|e| usage(format!("{which} broker TLS: {e}")))?,
        )
    } else {
        None
    };
    let (host, port, use_tls) = servers[0].clone();
    let mut o = ConnectOptions {
        stop: Some(stop.clone()),
        host,
        port,
        tls: use_tls,
        tls_config,
        failover,
        timeout_connect: seconds("timeout-connect", cli.timeout_connect)?,
        ..ConnectOptions::default()
    };
    for a in auth {
        let mut words = a.split_whitespace();
        match words.next() {
            Some("none") | None => {}
            Some("plain") => {
                for (k, v) in
                    key_values(&words.collect::<Vec<_>>().join(" "), "auth").map_err(usage)?
                {
                    match k.as_str() {
                        "name" => o.login = Some(v),
                        "pass" => o.passcode = Some(v),
                        _ => {
                            return Err(usage(format!(
                                "invalid {which}-broker-auth: unexpected {k:?}"
                            )));
                        }
                    }
                }
            }
            Some("x509") => {}
            Some(s) => {
                return Err(usage(format!(
                    "invalid {which}-broker-auth scheme {s:?} (none, plain, x509)"
                )));
            }
        }
    }
    if let Some(c) = connect {
        for (k, v) in key_values(c, &format!("{which}-broker-connect")).map_err(usage)? {
            if k == "version" {
                o.accept_version = Some(v);
            } else {
                o.headers.push((k, v));
            }
        }
    }
    if let Some(t) = btype {
        o.broker_type = Some(BrokerType::parse(t).ok_or_else(|| {
            usage(format!(
                "invalid {which}-broker-type {t:?} (ActiveMQ, Apollo, Artemis, RabbitMQ, UNKNOWN)"
            ))
        })?);
    }
    if cli.heart_beat {
        let ms = |s: f64| (s * 1000.0).round() as u64;
        o.heart_beat = Some((ms(cli.timeout_client), ms(cli.timeout_server)));
    }
    Ok(o)
}

fn queue_options(s: &str, which: &str) -> Result<QueueOptions, Failure> {
    s.parse::<QueueOptions>()
        .map_err(|e| usage(format!("{which}-queue: {e}")))
}

fn pair(s: &str, what: &str) -> Result<(String, String), Failure> {
    s.split_once('=')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .ok_or_else(|| usage(format!("invalid {what} {s:?}: expected A=B")))
}

fn filters(cli: &Cli) -> Result<transfer::filter::Filters, Failure> {
    use transfer::filter::{Filters, Test};
    let mut f = Filters::default();
    f.strip_broker_headers = cli.strip_broker_headers;
    f.delete = cli.header_delete.clone();
    for r in &cli.header_rename {
        f.rename.push(pair(r, "header-rename")?);
    }
    for r in &cli.header_set {
        f.set.push(pair(r, "header-set")?);
    }
    for t in &cli.keep_if {
        f.keep_if.push(Test::parse(t)?);
    }
    for t in &cli.drop_if {
        f.drop_if.push(Test::parse(t)?);
    }
    if let Some(t) = &cli.tap {
        f.tap = Some(queue_options(t, "tap")?);
    }
    Ok(f)
}

/// Checks the reference's option rules.
fn validate(cli: &Cli) -> Result<(), Failure> {
    if cli.quit && cli.status {
        return Err(usage("options quit and status are mutually exclusive"));
    }
    if (cli.quit || cli.status) && cli.pidfile.is_none() {
        return Err(usage("options quit and status require option pidfile"));
    }
    if cli.quit || cli.status {
        return Ok(());
    }
    if cli.daemon && cli.statistics {
        return Err(usage(
            "options daemon and statistics are mutually exclusive",
        ));
    }
    if cli.callback_code.is_some() || cli.callback_path.is_some() || cli.callback_data.is_some() {
        return Err(usage(
            "options callback-code, callback-path and callback-data run Perl code, which this stompclt cannot do; use the built-in filters (--header-set, --header-delete, --header-rename, --keep-if, --drop-if, --tap, --strip-broker-headers)",
        ));
    }
    match (&cli.incoming_broker_uri, &cli.incoming_queue) {
        (None, None) => {
            return Err(usage(
                "option incoming-broker or incoming-queue is required",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(usage(
                "options incoming-broker and incoming-queue are mutually exclusive",
            ));
        }
        _ => {}
    }
    match (&cli.outgoing_broker_uri, &cli.outgoing_queue) {
        (None, None) => {
            return Err(usage(
                "option outgoing-broker or outgoing-queue is required",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(usage(
                "options outgoing-broker and outgoing-queue are mutually exclusive",
            ));
        }
        _ => {}
    }
    let inq = cli.incoming_queue.is_some();
    if (cli.looping || cli.remove) && !inq {
        return Err(usage("options loop and remove require an incoming queue"));
    }
    if inq && (cli.prefetch.is_some() || !cli.subscribe.is_empty() || !cli.unsubscribe.is_empty()) {
        return Err(usage(
            "options prefetch, subscribe and unsubscribe require an incoming broker",
        ));
    }
    if !inq && cli.subscribe.is_empty() {
        return Err(usage(
            "option subscribe is required with an incoming broker",
        ));
    }
    if cli.heart_beat && inq && cli.outgoing_queue.is_some() {
        return Err(usage("option heart-beat requires a broker"));
    }
    for (name, v) in [
        ("timeout-client", Some(cli.timeout_client)),
        ("timeout-server", Some(cli.timeout_server)),
        ("timeout-disconnect", Some(cli.timeout_disconnect)),
        ("timeout-flush", Some(cli.timeout_flush)),
        ("duration", cli.duration),
    ] {
        seconds(name, v)?;
    }
    Ok(())
}

/// The signal handling of the reference: INT, TERM and QUIT stop gracefully, HUP is
/// ignored. (Rust already ignores SIGPIPE: a closed socket is an error, not a silent death.)
fn signals(stop: StopFlag) -> Result<StopFlag, Failure> {
    let ignored = Arc::new(AtomicBool::new(false));
    let reg = |sig, flag: &StopFlag| {
        signal_hook::flag::register(sig, flag.clone())
            .map(drop)
            .map_err(|e| usage(format!("cannot handle signal {sig}: {e}")))
    };
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGQUIT,
    ] {
        reg(sig, &stop)?;
    }
    reg(signal_hook::consts::SIGHUP, &ignored)?;
    Ok(stop)
}

/// What `--status` and `--quit` do: the lines to print and the exit status.
fn control(cli: &Cli) -> Result<Option<(Vec<String>, i32)>, Failure> {
    let Some(path) = cli.pidfile.as_deref() else {
        return Ok(None);
    };
    if cli.status {
        let deadline = std::time::Instant::now()
            + seconds("timeout-status", cli.timeout_status)?.unwrap_or_default();
        loop {
            let (code, line) = transfer::pidfile::status(path, "stompclt");
            if code == 0 || std::time::Instant::now() >= deadline {
                return Ok(Some((vec![line], code)));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    if cli.quit {
        let linger = cli.timeout_linger.unwrap_or(1.0);
        let grace = Duration::from_secs_f64(linger + cli.timeout_flush + 10.0);
        let lines = transfer::pidfile::quit(path, "stompclt", grace)?;
        return Ok(Some((lines, exit::OK)));
    }
    Ok(None)
}

/// Detaches: the parent waits for the child to report that it started (pidfile created)
/// and prints `stompclt (pid N) started`, or the child's error.
fn daemonize(cli: &Cli) -> Result<Option<transfer::pidfile::Pidfile>, Failure> {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: pipe(2) fills the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(usage("cannot create a pipe to daemonize"));
    }
    // SAFETY: no thread has been started yet (the runtime comes later), so fork is safe.
    match unsafe { libc::fork() } {
        -1 => Err(usage("cannot fork to daemonize")),
        0 => {
            // SAFETY: the read end belongs to the parent; setsid detaches from the terminal.
            unsafe {
                libc::close(fds[0]);
                libc::setsid();
            }
            // SAFETY: a second fork so that the daemon can never reacquire a terminal.
            match unsafe { libc::fork() } {
                -1 => std::process::exit(exit::USAGE),
                0 => {}
                _ => std::process::exit(0),
            }
            // SAFETY: the write end was created above and is owned here now.
            let mut w = unsafe { std::fs::File::from_raw_fd(fds[1]) };
            let pid = match cli.pidfile.as_deref() {
                Some(p) => match transfer::pidfile::Pidfile::create(p, "stompclt") {
                    Ok(pf) => Some(pf),
                    Err(e) => {
                        let _ = writeln!(w, "error {}", e.message);
                        std::process::exit(exit::PIDFILE);
                    }
                },
                None => None,
            };
            let _ = writeln!(w, "ok {}", std::process::id());
            drop(w);
            if let Ok(null) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                use std::os::fd::AsRawFd;
                // SAFETY: replacing the standard descriptors by /dev/null.
                unsafe {
                    libc::dup2(null.as_raw_fd(), 0);
                    libc::dup2(null.as_raw_fd(), 1);
                    libc::dup2(null.as_raw_fd(), 2);
                }
            }
            crate::syslog::open();
            Ok(pid)
        }
        child => {
            // SAFETY: the write end belongs to the child.
            unsafe { libc::close(fds[1]) };
            // SAFETY: the read end was created above.
            let mut r = unsafe { std::fs::File::from_raw_fd(fds[0]) };
            let mut msg = String::new();
            let _ = r.read_to_string(&mut msg);
            // SAFETY: reap the first child (it exits at once).
            unsafe { libc::waitpid(child, std::ptr::null_mut(), 0) };
            match msg.trim().split_once(' ') {
                Some(("ok", pid)) => {
                    use std::io::Write;
                    let _ = writeln!(std::io::stdout(), "stompclt (pid {pid}) started");
                    std::process::exit(exit::OK)
                }
                Some(("error", e)) => Err(Failure {
                    code: exit::PIDFILE,
                    message: e.to_string(),
                }),
                _ => Err(usage("the daemon did not start")),
            }
        }
    }
}

/// Runs one stompclt invocation; returns the statistics lines to print.
pub fn run(cli: Cli) -> Result<Vec<String>, Failure> {
    // -stomp-debug flags are Net::STOMP::Client's frame tracing: the same as -dd (-ddd for
    // bodies) here
    let stomp_debug = [
        &cli.incoming_broker_stomp_debug,
        &cli.outgoing_broker_stomp_debug,
    ]
    .into_iter()
    .flatten()
    .map(|f| {
        if f.contains("body") || f.contains("all") || f.contains("io") {
            3
        } else if f.trim().is_empty() {
            0
        } else {
            2
        }
    })
    .max()
    .unwrap_or(0);
    crate::log::set_level(cli.debug.max(stomp_debug));
    if cli.debug > 3 {
        // credentials are not for logs
        let mut shown = cli.clone();
        for a in shown
            .incoming_broker_auth
            .iter_mut()
            .chain(shown.outgoing_broker_auth.iter_mut())
        {
            *a = a.split_whitespace().next().unwrap_or("").to_string() + " …";
        }
        crate::log::debug(4, format_args!("configuration: {shown:?}"));
    }
    validate(&cli)?;
    if let Some((lines, code)) = control(&cli)? {
        if code == exit::OK {
            return Ok(lines);
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = out.flush();
        std::process::exit(code);
    }
    let reliable = cli.reliable;
    let prefetch = cli.prefetch.or(match (reliable, cli.count) {
        (true, Some(c)) => Some(c.min(100)),
        _ => None,
    });
    let settings = Settings {
        count: cli.count,
        duration: seconds("duration", cli.duration)?,
        timeout_inactivity: seconds("timeout-inactivity", cli.timeout_inactivity)?,
        timeout_linger: seconds("timeout-linger", cli.timeout_linger)?,
        window: cli.window.map(|w| w as usize),
        lazy: cli.lazy,
    };
    let disconnect = Duration::from_secs_f64(cli.timeout_disconnect);
    // registered with the signals later (after a --daemon fork); reconnect loops watch it
    let stop: StopFlag = Arc::new(AtomicBool::new(false));
    let recovery = Arc::new(transfer::Recovery::default());
    let reconnect = cli.reconnect.then(|| crate::broker::Reconnect {
        recovery: recovery.clone(),
    });
    let incoming = match (&cli.incoming_broker_uri, &cli.incoming_queue) {
        (Some(uri), _) => {
            let mut subscribe = Vec::new();
            for s in &cli.subscribe {
                subscribe.push(key_values(s, "subscribe").map_err(usage)?);
            }
            let unsubscribe = if cli.unsubscribe.is_empty() {
                None
            } else {
                let mut v = Vec::new();
                for s in &cli.unsubscribe {
                    v.push(key_values(s, "unsubscribe").map_err(usage)?);
                }
                Some(v)
            };
            In::Broker(Box::new(StompIncoming::new(IncomingOptions {
                connect: connect_options(
                    BrokerArgs {
                        which: "incoming",
                        uri,
                        auth: &cli.incoming_broker_auth,
                        connect: cli.incoming_broker_connect.as_deref(),
                        sockopts: cli.incoming_broker_sockopts.as_deref(),
                        btype: cli.incoming_broker_type.as_deref(),
                    },
                    &cli,
                    &stop,
                )?,
                subscribe,
                unsubscribe,
                reliable,
                prefetch,
                timeout_broker: seconds("timeout-broker", cli.timeout_broker)?,
                timeout_disconnect: disconnect,
                batch: cli.batch,
                reconnect: reconnect.clone(),
            })))
        }
        (None, Some(q)) => In::Queue(Box::new(QueueIncoming::new(QueueIncomingOptions {
            queue: queue_options(q, "incoming")?,
            remove: cli.remove,
            looping: cli.looping,
            reliable,
        }))),
        (None, None) => unreachable!("validated"),
    };
    let outgoing = match (&cli.outgoing_broker_uri, &cli.outgoing_queue) {
        (Some(uri), _) => Out::Broker(Box::new(StompOutgoing::new(OutgoingOptions {
            connect: connect_options(
                BrokerArgs {
                    which: "outgoing",
                    uri,
                    auth: &cli.outgoing_broker_auth,
                    connect: cli.outgoing_broker_connect.as_deref(),
                    sockopts: cli.outgoing_broker_sockopts.as_deref(),
                    btype: cli.outgoing_broker_type.as_deref(),
                },
                &cli,
                &stop,
            )?,
            reliable,
            timeout_disconnect: disconnect,
            batch: cli.batch,
            reconnect: reconnect.clone(),
        }))),
        (None, Some(q)) => Out::Queue(Box::new(QueueOutgoing::new(queue_options(q, "outgoing")?))),
        (None, None) => unreachable!("validated"),
    };
    let filters = filters(&cli)?;
    let mut pidfile = if cli.daemon {
        daemonize(&cli)?
    } else {
        match cli.pidfile.as_deref() {
            Some(p) => Some(transfer::pidfile::Pidfile::create(p, "stompclt")?),
            None => None,
        }
    };
    let stop = signals(stop)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the runtime: {e}")))?;
    let stats = rt.block_on(async move {
        let mut engine = Engine::new(settings, stop).with_filters(filters);
        if let Some(pf) = pidfile.as_mut() {
            engine = engine.with_tick(Box::new(move || pf.tick()));
        }
        match (incoming, outgoing) {
            (In::Broker(mut i), Out::Broker(mut o)) => engine.run(&mut *i, &mut *o).await,
            (In::Broker(mut i), Out::Queue(mut o)) => engine.run(&mut *i, &mut *o).await,
            (In::Queue(mut i), Out::Broker(mut o)) => engine.run(&mut *i, &mut *o).await,
            (In::Queue(mut i), Out::Queue(mut o)) => engine.run(&mut *i, &mut *o).await,
        }
    })?;
    Ok(if cli.statistics {
        let mut lines = stats.lines();
        lines.extend(recovery.lines());
        lines
    } else {
        Vec::new()
    })
}

// Built once per run: boxed only to keep the enums small.
enum In {
    Broker(Box<StompIncoming>),
    Queue(Box<QueueIncoming>),
}

enum Out {
    Broker(Box<StompOutgoing>),
    Queue(Box<QueueOutgoing>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            parse_uri("stomp://localhost:61613", "x").expect("ok"),
            ("localhost".into(), 61613, false)
        );
        assert_eq!(
            parse_uri("tcp://127.0.0.1:61614/", "x").expect("ok"),
            ("127.0.0.1".into(), 61614, false)
        );
        assert_eq!(
            parse_uri("stomp://[::1]:61613", "x").expect("ok"),
            ("::1".into(), 61613, false)
        );
        assert_eq!(
            parse_uri("stomp+ssl://broker.example.org:61612", "x").expect("ok"),
            ("broker.example.org".into(), 61612, true)
        );
        assert_eq!(
            parse_uri("ssl://[::1]:61612", "x").expect("ok"),
            ("::1".into(), 61612, true)
        );
        for bad in [
            "localhost:61613",
            "http://x:1",
            "stomp://x",
            "stomp://:1",
            "stomp://x:99999",
            "udp://x:1",
        ] {
            assert!(parse_uri(bad, "incoming").is_err(), "{bad}");
        }
    }
}
