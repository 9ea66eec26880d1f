//! The configuration: Apache style (Config::General, with includes and `$var` interpolation,
//! read natively) or JSON, turned into a validated tree of supervisors and services with
//! the reference's keys, defaults and rules, plus this implementation's new keys.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// A configuration value before validation: both formats come to this.
#[derive(Debug, Clone)]
enum Val {
    Str(String, String),
    Map(Vec<(String, Val)>, String),
    List(Vec<Val>, String),
}

impl Val {
    fn at(&self) -> &str {
        match self {
            Val::Str(_, a) | Val::Map(_, a) | Val::List(_, a) => a,
        }
    }
}

fn from_block(b: &config_general::Block) -> Val {
    let mut out: Vec<(String, Val)> = Vec::new();
    for e in &b.entries {
        let v = match &e.node {
            config_general::Node::Scalar(s) => Val::Str(s.value.clone(), s.at.to_string()),
            config_general::Node::Block(b) => from_block(b),
        };
        match out.iter_mut().find(|(k, _)| *k == e.key) {
            // a repeated key or block: a list, as Config::General's getall gives
            Some((_, Val::List(l, _))) => l.push(v),
            Some((_, old)) => {
                let at = old.at().to_string();
                let first = std::mem::replace(old, Val::List(Vec::new(), at.clone()));
                *old = Val::List(vec![first, v], at);
            }
            None => out.push((e.key.clone(), v)),
        }
    }
    Val::Map(out, b.at.to_string())
}

fn from_json(v: &serde_json::Value, at: &str) -> Val {
    use serde_json::Value as J;
    match v {
        J::Object(m) => Val::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), from_json(v, &format!("{at}.{k}"))))
                .collect(),
            at.to_string(),
        ),
        J::Array(a) => Val::List(
            a.iter()
                .enumerate()
                .map(|(i, v)| from_json(v, &format!("{at}[{i}]")))
                .collect(),
            at.to_string(),
        ),
        J::String(s) => Val::Str(s.clone(), at.to_string()),
        J::Null => Val::Str(String::new(), at.to_string()),
        other => Val::Str(other.to_string(), at.to_string()),
    }
}

/// The configuration formats (`--conftype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfType {
    /// Config::General (Apache style), with includes and `$var` interpolation.
    Apache,
    /// The same tree as a JSON document.
    Json,
}

/// Global settings (the `<simplevisor>` block, overridden by the command line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Global {
    /// `store`: the JSON state file.
    pub store: Option<PathBuf>,
    /// `pidfile`: the daemon's pidfile and control channel.
    pub pidfile: Option<PathBuf>,
    /// `interval`: seconds between the end of a cycle and the start of the next (60).
    pub interval: Option<u64>,
    /// `log`: stdout, file, syslog, null.
    pub log: Option<String>,
    /// `logfile`.
    pub logfile: Option<PathBuf>,
    /// `loglevel`.
    pub loglevel: Option<String>,
    /// `logname`.
    pub logname: Option<String>,
    /// `daemon`.
    pub daemon: Option<bool>,
}

/// How children are restarted when one of them fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// Every child: stopped in reverse order, started in order.
    OneForAll,
    /// The failed child and those after it.
    RestForOne,
}

impl Strategy {
    /// The configuration word.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
        }
    }
}

/// OTP restart types, for services simplevisor runs itself (`daemon`, `foreground`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartType {
    /// Always restarted (the default, as the reference's `expected = running`).
    Permanent,
    /// Restarted only after an abnormal exit (non-zero status or a signal).
    Transient,
    /// Never restarted.
    Temporary,
}

/// A supervisor entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorSpec {
    /// `name` ("supervisor").
    pub name: String,
    /// `strategy` (one_for_one).
    pub strategy: Strategy,
    /// `window`: supervision cycles considered (12).
    pub window: usize,
    /// `adjustments`: allowed adjusting cycles in the window (3).
    pub adjustments: usize,
    /// New: OTP intensity, at most `maxr` restarts within `maxt` seconds.
    pub maxr: Option<u32>,
    /// New: the period of `maxr`, seconds.
    pub maxt: Option<f64>,
    /// The children, in order.
    pub children: Vec<EntrySpec>,
}

/// How a service is driven.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// `control = PREFIX`: `PREFIX start|stop|status`, custom stop/status allowed.
    Control,
    /// Explicit `start` and `status` (and `stop`) commands.
    Commands,
    /// `start` only (or with `pattern`): the process table is searched.
    Pattern(String),
    /// `daemon = PIDFILE` or `foreground = yes`: simplevisor runs the program itself, keeps it
    /// as its child and restarts it as soon as it exits.
    Owned {
        /// The pidfile kept for other tools (`daemon` mode).
        pidfile: Option<PathBuf>,
    },
}

/// A service entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// `name`.
    pub name: String,
    /// How it is driven.
    pub mode: Mode,
    /// `start`.
    pub start: Option<String>,
    /// `control`.
    pub control: Option<String>,
    /// `stop`.
    pub stop: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `restart` (`stop+start` or a command).
    pub restart: Option<String>,
    /// `daemon`.
    pub daemon: Option<String>,
    /// `expected`: true when it must run.
    pub expected_running: bool,
    /// The `expected` word as written (part of the store id).
    pub expected: String,
    /// `timeout` for any command (60 s).
    pub timeout: Duration,
    /// `path`: PATH for the commands (merged into the environment, not replacing it).
    pub path: Option<String>,
    /// New: `env = KEY=VALUE …` (repeatable), merged into the environment.
    pub env: Vec<(String, String)>,
    /// New: `cwd`.
    pub cwd: Option<PathBuf>,
    /// New: `output`: a file the program's standard output and error are appended to
    /// (services simplevisor runs itself; otherwise they share simplevisor's).
    pub output: Option<PathBuf>,
    /// New: `user` to run the commands as (needs root).
    pub user: Option<String>,
    /// New: `stop_signal` for owned services and pattern stops (TERM).
    pub stop_signal: i32,
    /// New: `restart_type` for owned services.
    pub restart_type: RestartType,
    /// New: `backoff`: first delay after a quick crash, seconds (0.1).
    pub backoff: Duration,
    /// New: `backoff_max`: the cap (30 s).
    pub backoff_max: Duration,
}

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum EntrySpec {
    /// `type = supervisor`.
    Supervisor(SupervisorSpec),
    /// `type = service`.
    Service(Box<ServiceSpec>),
}

impl EntrySpec {
    /// The entry's name.
    pub fn name(&self) -> &str {
        match self {
            EntrySpec::Supervisor(s) => &s.name,
            EntrySpec::Service(s) => &s.name,
        }
    }
}

/// A whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The `<simplevisor>` settings.
    pub global: Global,
    /// The root entry (absent: most commands fail with "no entry found").
    pub root: Option<EntrySpec>,
}

/// Reads a configuration file.
pub fn load(path: &Path, kind: ConfType) -> Result<Config> {
    let tree = match kind {
        ConfType::Apache => {
            let block = config_general::parse_file(path, &config_general::Options::interpolating())
                .map_err(|e| Error::Config(e.to_string()))?;
            from_block(&block)
        }
        ConfType::Json => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::Config(format!("{}: invalid JSON: {e}", path.display())))?;
            from_json(&v, &path.display().to_string())
        }
    };
    build(&tree, kind)
}

/// Parses configuration text (Apache style), for tests and `-` input.
pub fn parse_apache(text: &str) -> Result<Config> {
    let block = config_general::parse_str(text, &config_general::Options::interpolating())
        .map_err(|e| Error::Config(e.to_string()))?;
    build(&from_block(&block), ConfType::Apache)
}

fn bad(at: &str, msg: impl std::fmt::Display) -> Error {
    Error::Config(format!("{at}: {msg}"))
}

fn scalar<'a>(v: &'a Val, key: &str) -> Result<&'a str> {
    match v {
        Val::Str(s, _) => Ok(s),
        other => Err(bad(
            other.at(),
            format!("{key} must be a single value, not a list or block"),
        )),
    }
}

fn int<T: std::str::FromStr>(v: &Val, key: &str) -> Result<T> {
    let s = scalar(v, key)?;
    s.trim()
        .parse::<T>()
        .map_err(|_| bad(v.at(), format!("{key} value is not a valid integer: {s}")))
}

fn seconds(v: &Val, key: &str) -> Result<f64> {
    let s = scalar(v, key)?;
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| {
            bad(
                v.at(),
                format!("{key} value is not a number of seconds: {s}"),
            )
        })
}

fn boolean(v: &Val, key: &str) -> Result<bool> {
    let s = scalar(v, key)?;
    config_general::parse_bool(s)
        .ok_or_else(|| bad(v.at(), format!("{key} value is not a boolean: {s}")))
}

fn build(tree: &Val, kind: ConfType) -> Result<Config> {
    let Val::Map(top, at) = tree else {
        return Err(bad(tree.at(), "invalid configuration: not a map"));
    };
    let mut cfg = Config {
        global: Global::default(),
        root: None,
    };
    for (k, v) in top {
        match k.as_str() {
            "simplevisor" => cfg.global = global(v)?,
            "entry" => {
                if let Val::List(l, _) = v {
                    return Err(bad(
                        l.get(1).map_or(at.as_str(), |e| e.at()),
                        "invalid configuration: exactly one root <entry> is allowed",
                    ));
                }
                cfg.root = Some(entry(v, None, kind)?);
            }
            other => {
                return Err(bad(
                    v.at(),
                    format!(
                        "invalid configuration: unexpected top-level key {other:?} \
                         (only <simplevisor> and <entry>)"
                    ),
                ));
            }
        }
    }
    Ok(cfg)
}

fn global(v: &Val) -> Result<Global> {
    let Val::Map(m, _) = v else {
        return Err(bad(v.at(), "simplevisor must be a block"));
    };
    let mut g = Global::default();
    for (k, v) in m {
        match k.as_str() {
            "store" => g.store = Some(scalar(v, k)?.into()),
            "pidfile" => g.pidfile = Some(scalar(v, k)?.into()),
            "interval" => g.interval = Some(int(v, k)?),
            "log" => {
                let s = scalar(v, k)?;
                if !matches!(s, "stdout" | "file" | "syslog" | "null") {
                    return Err(bad(
                        v.at(),
                        format!("invalid log {s:?} (stdout, file, syslog, null)"),
                    ));
                }
                g.log = Some(s.into());
            }
            "logfile" => g.logfile = Some(scalar(v, k)?.into()),
            "loglevel" => g.loglevel = Some(scalar(v, k)?.into()),
            "logname" => g.logname = Some(scalar(v, k)?.into()),
            "daemon" => g.daemon = Some(boolean(v, k)?),
            // they share the command line's namespace in the reference
            "conftype" | "command" | "path" => {}
            other => {
                return Err(bad(
                    v.at(),
                    format!("{other} is not a valid configuration property"),
                ));
            }
        }
    }
    Ok(g)
}

fn entry(v: &Val, forced_expected: Option<&str>, kind: ConfType) -> Result<EntrySpec> {
    let Val::Map(m, at) = v else {
        return Err(bad(v.at(), "an entry must be a block"));
    };
    let get = |k: &str| m.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let ty = get("type")
        .ok_or_else(|| bad(at, "entry without type (supervisor or service)"))
        .and_then(|t| scalar(t, "type"))?;
    match ty {
        "supervisor" => supervisor(m, at, kind).map(EntrySpec::Supervisor),
        "service" => service(m, at, forced_expected).map(|s| EntrySpec::Service(Box::new(s))),
        other => Err(bad(
            at,
            format!("invalid entry type {other:?} (supervisor or service)"),
        )),
    }
}

fn supervisor(m: &[(String, Val)], at: &str, kind: ConfType) -> Result<SupervisorSpec> {
    let mut s = SupervisorSpec {
        name: "supervisor".into(),
        strategy: Strategy::OneForOne,
        window: 12,
        adjustments: 3,
        maxr: None,
        maxt: None,
        children: Vec::new(),
    };
    let mut expected: Option<String> = None;
    let mut children: Option<&Val> = None;
    for (k, v) in m {
        match k.as_str() {
            "type" => {}
            "name" => s.name = scalar(v, k)?.to_string(),
            "strategy" => {
                s.strategy = match scalar(v, k)? {
                    "one_for_one" => Strategy::OneForOne,
                    "one_for_all" => Strategy::OneForAll,
                    "rest_for_one" => Strategy::RestForOne,
                    other => {
                        return Err(bad(
                            v.at(),
                            format!(
                                "invalid strategy {other:?} (one_for_one, one_for_all, \
                                 rest_for_one)"
                            ),
                        ));
                    }
                }
            }
            "window" => s.window = int(v, k)?,
            "adjustments" => s.adjustments = int(v, k)?,
            "maxr" => s.maxr = Some(int(v, k)?),
            "maxt" => s.maxt = Some(seconds(v, k)?),
            "expected" => {
                let e = scalar(v, k)?.to_lowercase();
                if !matches!(e.as_str(), "none" | "running" | "stopped") {
                    return Err(bad(
                        v.at(),
                        format!("invalid expected {e:?} (none, running, stopped)"),
                    ));
                }
                expected = (e != "none").then_some(e);
            }
            "children" => children = Some(v),
            k if k.starts_with("var_") => {}
            other => {
                return Err(bad(
                    v.at(),
                    format!(
                        "an invalid property has been specified for {}: {other}",
                        s.name
                    ),
                ));
            }
        }
    }
    if s.window == 0 {
        return Err(bad(at, format!("window of {} must be at least 1", s.name)));
    }
    if s.maxr.is_some() != s.maxt.is_some() {
        return Err(bad(at, format!("{}: maxr and maxt go together", s.name)));
    }
    let entries = match children {
        Some(Val::Map(cm, _)) => match cm.iter().find(|(k, _)| k == "entry") {
            Some((_, Val::List(l, _))) => l.clone(),
            Some((_, one)) => vec![one.clone()],
            None => Vec::new(),
        },
        Some(Val::List(l, _)) if kind == ConfType::Json => l.clone(),
        Some(other) => return Err(bad(other.at(), "children must be a block of <entry>")),
        None => Vec::new(),
    };
    for e in &entries {
        let child = entry(e, expected.as_deref(), kind)?;
        if s.children.iter().any(|c| c.name() == child.name()) {
            return Err(bad(
                e.at(),
                format!("two entries with the same name: {}", child.name()),
            ));
        }
        s.children.push(child);
    }
    if s.children.is_empty() {
        return Err(bad(at, format!("empty supervisor found: {}", s.name)));
    }
    Ok(s)
}

fn signal_number(name: &str) -> Option<i32> {
    let n = name.trim().trim_start_matches("SIG").to_ascii_uppercase();
    if let Ok(num) = n.parse::<i32>() {
        return (1..=64).contains(&num).then_some(num);
    }
    Some(match n.as_str() {
        "TERM" => libc::SIGTERM,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "HUP" => libc::SIGHUP,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "STOP" => libc::SIGSTOP,
        _ => return None,
    })
}

/// A service entry: parsed, checked against the reference's rules, its mode resolved.
fn service(m: &[(String, Val)], at: &str, forced_expected: Option<&str>) -> Result<ServiceSpec> {
    let (mut s, extra) = parse_service(m, at)?;
    if let Some(e) = forced_expected {
        s.expected_running = e == "running";
        s.expected = e.to_string();
    }
    validate_service(&s, &extra, at)?;
    s.mode = service_mode(&s, extra, at)?;
    Ok(s)
}

/// What a service entry says beyond its [`ServiceSpec`] fields.
struct ServiceExtra {
    foreground: bool,
    pattern: Option<String>,
    restart_type_given: bool,
}

/// "service NAME is not properly configured: …"
fn misconfigured(at: &str, name: &str, msg: impl std::fmt::Display) -> Error {
    bad(
        at,
        format!("service {name} is not properly configured: {msg}"),
    )
}

/// The entry's keys into a spec (mode still to be resolved); unknown keys are errors.
fn parse_service(m: &[(String, Val)], at: &str) -> Result<(ServiceSpec, ServiceExtra)> {
    let get = |k: &str| m.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let name = get("name")
        .ok_or_else(|| bad(at, "service without name"))
        .and_then(|v| scalar(v, "name"))?
        .to_string();
    let text = |k: &str| -> Result<Option<String>> {
        get(k).map(|v| scalar(v, k).map(str::to_string)).transpose()
    };
    let mut s = ServiceSpec {
        mode: Mode::Commands,
        start: text("start")?,
        control: text("control")?,
        stop: text("stop")?,
        status: text("status")?,
        restart: text("restart")?,
        daemon: text("daemon")?,
        expected_running: true,
        expected: "running".into(),
        timeout: Duration::from_secs(60),
        path: text("path")?,
        env: Vec::new(),
        cwd: text("cwd")?.map(PathBuf::from),
        output: text("output")?.map(PathBuf::from),
        user: text("user")?,
        stop_signal: libc::SIGTERM,
        restart_type: RestartType::Permanent,
        backoff: Duration::from_millis(100),
        backoff_max: Duration::from_secs(30),
        name,
    };
    let mut extra = ServiceExtra {
        foreground: false,
        pattern: None,
        restart_type_given: false,
    };
    for (k, v) in m {
        match k.as_str() {
            "type" | "name" | "start" | "control" | "stop" | "status" | "restart" | "daemon"
            | "path" | "cwd" | "user" | "output" => {}
            "expected" => {
                let e = scalar(v, k)?.to_string();
                s.expected_running = e == "running";
                s.expected = e;
            }
            "timeout" => {
                let t: u64 = int(v, k).map_err(|_| {
                    bad(
                        v.at(),
                        format!(
                            "timeout value for {} is not a valid integer: {}",
                            s.name,
                            scalar(v, k).unwrap_or("?")
                        ),
                    )
                })?;
                s.timeout = Duration::from_secs(t);
            }
            "pattern" => extra.pattern = Some(scalar(v, k)?.to_string()),
            "foreground" => extra.foreground = boolean(v, k)?,
            "env" => s.env.extend(env_pairs(v, k)?),
            "stop_signal" => {
                let sig = scalar(v, k)?;
                s.stop_signal = signal_number(sig)
                    .ok_or_else(|| bad(v.at(), format!("unknown signal {sig:?}")))?;
            }
            "restart_type" => {
                extra.restart_type_given = true;
                s.restart_type = restart_type(v, k)?;
            }
            "backoff" => s.backoff = Duration::from_secs_f64(seconds(v, k)?),
            "backoff_max" => s.backoff_max = Duration::from_secs_f64(seconds(v, k)?),
            k if k.starts_with("var_") => {}
            other => {
                return Err(bad(
                    v.at(),
                    format!("invalid property for service {}: {other}", s.name),
                ));
            }
        }
    }
    Ok((s, extra))
}

/// `env = KEY=VALUE …`, repeatable.
fn env_pairs(v: &Val, k: &str) -> Result<Vec<(String, String)>> {
    let items = match v {
        Val::List(l, _) => l.clone(),
        one => vec![one.clone()],
    };
    let mut pairs = Vec::new();
    for item in items {
        for word in scalar(&item, k)?.split_whitespace() {
            let (key, val) = word
                .split_once('=')
                .ok_or_else(|| bad(item.at(), format!("env: {word:?} is not KEY=VALUE")))?;
            pairs.push((unquote(key), unquote(val)));
        }
    }
    Ok(pairs)
}

fn restart_type(v: &Val, k: &str) -> Result<RestartType> {
    Ok(match scalar(v, k)? {
        "permanent" => RestartType::Permanent,
        "transient" => RestartType::Transient,
        "temporary" => RestartType::Temporary,
        other => {
            return Err(bad(
                v.at(),
                format!("invalid restart_type {other:?} (permanent, transient, temporary)"),
            ));
        }
    })
}

/// The reference's rules (which keys go together), and this simplevisor's for the keys it
/// adds.
fn validate_service(s: &ServiceSpec, extra: &ServiceExtra, at: &str) -> Result<()> {
    let ctx = |msg: &str| misconfigured(at, &s.name, msg);
    for (key, cmd) in [
        ("start", &s.start),
        ("stop", &s.stop),
        ("status", &s.status),
        ("restart", &s.restart),
        ("control", &s.control),
    ] {
        if let Some(cmd) = cmd {
            try_split_command(cmd).map_err(|e| ctx(&format!("{key}: {e}")))?;
        }
    }
    let has = |o: &Option<String>| o.is_some();
    let (foreground, pattern) = (extra.foreground, extra.pattern.is_some());
    let owned = foreground || has(&s.daemon);
    let rules = [
        (
            !has(&s.start) && !has(&s.control),
            "one of start or control is required",
        ),
        (
            has(&s.start) && has(&s.control),
            "start and control are mutually exclusive",
        ),
        (
            has(&s.daemon) && has(&s.control),
            "daemon and control are mutually exclusive",
        ),
        (
            pattern && (has(&s.status) || has(&s.stop) || has(&s.control)),
            "pattern excludes status, stop and control",
        ),
        (
            foreground && (has(&s.control) || has(&s.daemon) || pattern),
            "foreground excludes control, daemon and pattern",
        ),
        (
            foreground && (has(&s.stop) || has(&s.status)),
            "a foreground service is stopped and checked by simplevisor itself: no stop or \
             status",
        ),
        (
            s.output.is_some() && !owned,
            "output needs a service simplevisor runs itself (daemon or foreground)",
        ),
        (
            extra.restart_type_given && !owned,
            "restart_type needs a service simplevisor runs itself (daemon or foreground)",
        ),
        (s.backoff_max < s.backoff, "backoff_max is below backoff"),
    ];
    match rules.iter().find(|(broken, _)| *broken) {
        Some((_, why)) => Err(ctx(why)),
        None => Ok(()),
    }
}

/// How simplevisor runs and checks the service: itself (daemon, foreground), through an
/// init script, with commands, or by a process pattern.
fn service_mode(s: &ServiceSpec, extra: ServiceExtra, at: &str) -> Result<Mode> {
    Ok(if extra.foreground || s.daemon.is_some() {
        Mode::Owned {
            pidfile: s.daemon.as_ref().map(PathBuf::from),
        }
    } else if s.control.is_some() {
        Mode::Control
    } else if s.status.is_some() {
        Mode::Commands
    } else {
        let p = extra
            .pattern
            .unwrap_or_else(|| split_command(s.start.as_deref().unwrap_or("")).join(" "));
        regex::Regex::new(&p)
            .map_err(|e| misconfigured(at, &s.name, format!("pattern not valid: {e}")))?;
        Mode::Pattern(p)
    })
}

/// A command string split into its arguments, no shell involved: on whitespace, as the
/// reference does, with each unquoted part URL-unquoted (`%20` for a space) — and, beyond the
/// reference, with shell-like quoting: `'…'` keeps everything literally, `"…"` too except
/// that `\"` and `\\` stand for `"` and `\`, and a backslash outside quotes keeps the next
/// character. A command without quotes or backslashes splits exactly as the reference splits
/// it. Configurations are checked with [`try_split_command`]; past that check this cannot
/// fail, and an unbalanced quote is kept literally.
pub fn split_command(cmd: &str) -> Vec<String> {
    try_split_command(cmd).unwrap_or_else(|_| cmd.split_whitespace().map(unquote).collect())
}

/// [`split_command`], saying why a command cannot be split (an unterminated quote).
pub fn try_split_command(cmd: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    // the word being built, and its not-yet-decoded unquoted run
    let mut word: Option<String> = None;
    let mut plain = String::new();
    let mut chars = cmd.chars();
    let flush = |word: &mut Option<String>, plain: &mut String| {
        if !plain.is_empty() {
            word.get_or_insert_with(String::new)
                .push_str(&unquote(plain));
            plain.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                flush(&mut word, &mut plain);
                words.extend(word.take());
            }
            '\'' => {
                flush(&mut word, &mut plain);
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unterminated ' in {cmd:?}")),
                    }
                }
            }
            '"' => {
                flush(&mut word, &mut plain);
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(format!("unterminated \" in {cmd:?}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unterminated \" in {cmd:?}")),
                    }
                }
            }
            '\\' => {
                flush(&mut word, &mut plain);
                match chars.next() {
                    Some(c) => word.get_or_insert_with(String::new).push(c),
                    None => return Err(format!("trailing \\ in {cmd:?}")),
                }
            }
            c => plain.push(c),
        }
    }
    flush(&mut word, &mut plain);
    words.extend(word);
    Ok(words)
}

/// `%XX` decoding (python's `urllib.parse.unquote`).
pub fn unquote(s: &str) -> String {
    config_general::percent_decode(s)
}

#[cfg(test)]
mod tests;
