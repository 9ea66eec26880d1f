//! The commands and the supervision loop.
//!
//! The loop is event-driven: it sleeps in `poll(2)` on a self-pipe that signal handlers
//! write to (SIGCHLD among them) and on the control socket, so that the death of a child
//! simplevisor runs itself is handled at once, not at the next cycle; cycles still run
//! every `interval` seconds for the command-driven services, and the pidfile is polled every
//! half second as the reference's control protocol requires.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cli::{Cli, Command, exit};
use crate::config::{self, Config, Global};
use crate::error::Error;
use crate::pidfile;
use crate::store;
use crate::supervisor::Node;

mod supervise;
use supervise::supervise;

/// A run's end: the exit status and, for errors, the one-line message.
pub use procctl::Outcome;

const NAME: &str = "simplevisor";

fn fail(message: impl Into<String>) -> Outcome {
    Outcome::failed(NAME, exit::FAILURE, message)
}

fn done(code: i32) -> Outcome {
    Outcome::lines(NAME, code, Vec::new())
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        fail(e.line())
    }
}

/// Settings after merging: defaults, then the file, then the command line.
#[derive(Debug, Clone)]
struct Settings {
    store: Option<PathBuf>,
    pidfile: Option<PathBuf>,
    interval: Duration,
    daemon: bool,
}

fn merge(cli: &Cli, g: &Global) -> (Settings, String, Option<PathBuf>, String, String) {
    let s = Settings {
        store: cli.store.clone().or_else(|| g.store.clone()),
        pidfile: cli.pidfile.clone().or_else(|| g.pidfile.clone()),
        interval: Duration::from_secs(cli.interval.or(g.interval).unwrap_or(60)),
        daemon: cli.daemon || g.daemon.unwrap_or(false),
    };
    let log = cli
        .log
        .clone()
        .or_else(|| g.log.clone())
        .unwrap_or_else(|| "stdout".into());
    let logfile = cli.logfile.clone().or_else(|| g.logfile.clone());
    let level = cli
        .loglevel
        .clone()
        .or_else(|| g.loglevel.clone())
        .unwrap_or_else(|| "warning".into());
    let name = cli
        .logname
        .clone()
        .or_else(|| g.logname.clone())
        .unwrap_or_else(|| "simplevisor".into());
    (s, log, logfile, level, name)
}

fn socket_path(pidfile: &Path) -> PathBuf {
    let mut s = pidfile.as_os_str().to_owned();
    s.push(".sock");
    PathBuf::from(s)
}

/// Runs one invocation of the command line.
pub fn main(cli: Cli) -> Outcome {
    if matches!(cli.command, Command::Help | Command::Pod | Command::Rst) {
        use clap::CommandFactory;
        let _ = writeln!(std::io::stdout(), "{}", Cli::command().render_long_help());
        return done(exit::OK);
    }
    let cfg = match &cli.conf {
        Some(path) => {
            // made absolute, as the reference does, so that a daemon in / still finds it
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            match config::load(&path, cli.conftype) {
                Ok(c) => c,
                Err(e) => return fail(format!("invalid configuration: {e}")),
            }
        }
        None => Config {
            global: Global::default(),
            root: None,
        },
    };
    let (settings, log, logfile, level, name) = merge(&cli, &cfg.global);
    if let Err(e) = crate::log::init(&log, logfile.as_deref(), &level, &name) {
        return Error::from(e).into();
    }
    let Some(root_spec) = cfg.root.as_ref() else {
        // commands that only talk to the running simplevisor need nothing but its pidfile
        return match cli.command {
            Command::Status => status(&cli, &settings),
            Command::Stop => stop(&settings, "quit"),
            Command::StopSupervisor => stop(&settings, "stop_supervisor"),
            Command::StopChildren => send(&settings, "stop_children"),
            Command::WakeUp => send(&settings, "wake_up"),
            _ => fail("no entry found in the configuration (--conf)"),
        };
    };
    let mut root = match Node::build(root_spec) {
        Ok(r) => r,
        Err(e) => return fail(format!("invalid configuration: {e}")),
    };
    if cli.command == Command::CheckConfiguration {
        println!("the configuration file is valid");
        return done(exit::OK);
    }
    if matches!(cli.command, Command::Check | Command::Status)
        && let Some(tree) = remote_tree(&settings)
        && tree.get("name").and_then(|n| n.as_str()) == Some(root.name())
    {
        apply_remote(&mut root, &tree);
    }
    let path_mode = cli.path.is_some() || matches!(root, Node::Service(_));
    if path_mode && !matches!(cli.command, Command::RestartChild) {
        return path_command(&cli, &mut root);
    }
    if let Some(s) = &settings.store
        && let Err(e) = store::load(s, &mut root)
    {
        return fail(e.to_string());
    }
    match cli.command {
        Command::Status => status(&cli, &settings),
        Command::Check => {
            let mut lines = Vec::new();
            let ok = root.check(0, &mut lines);
            for l in lines {
                println!("{l}");
            }
            done(if ok { exit::OK } else { exit::FAILURE })
        }
        Command::Restart => fail("restart command is accepted only with a path"),
        Command::Stop => stop(&settings, "quit"),
        Command::StopSupervisor => stop(&settings, "stop_supervisor"),
        Command::StopChildren => send(&settings, "stop_children"),
        Command::WakeUp => send(&settings, "wake_up"),
        Command::RestartChild => match &cli.path {
            Some(p) => {
                let parts: Vec<&str> = p.split('/').collect();
                if root.find(&parts).is_none() {
                    return fail(format!("given path is invalid: {p}"));
                }
                send(&settings, &format!("restart_child {p}"))
            }
            None => fail("restart_child needs a PATH"),
        },
        Command::Start | Command::Single => supervise(cli.command, &cli, settings, root),
        Command::CheckConfiguration | Command::Help | Command::Pod | Command::Rst => done(exit::OK),
    }
}

/// The running simplevisor's view of the tree, from its control socket.
fn remote_tree(s: &Settings) -> Option<serde_json::Value> {
    let sock = socket_path(s.pidfile.as_deref()?);
    let mut c = UnixStream::connect(sock).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut out = String::new();
    c.read_to_string(&mut out).ok()?;
    let v: serde_json::Value = serde_json::from_str(&out).ok()?;
    v.get("tree").cloned()
}

/// Gives owned services the running simplevisor's status of them (the command line does not
/// own those children).
fn apply_remote(node: &mut Node, tree: &serde_json::Value) {
    match node {
        Node::Service(svc) => {
            svc.remote = tree
                .get("status_rc")
                .and_then(|v| v.as_i64())
                .map(|rc| rc as i32);
            svc.finished = tree.get("finished").and_then(|f| f.as_bool()) == Some(true);
        }
        Node::Supervisor(sup) => {
            let Some(children) = tree.get("children").and_then(|c| c.as_array()) else {
                return;
            };
            for c in &mut sup.children {
                if let Some(t) = children
                    .iter()
                    .find(|t| t.get("name").and_then(|n| n.as_str()) == Some(c.name()))
                {
                    apply_remote(c, t);
                }
            }
        }
    }
}

/// Commands addressed to one node (or a root that is a service), run in this process.
fn path_command(cli: &Cli, root: &mut Node) -> Outcome {
    let path = cli.path.clone().unwrap_or_else(|| root.name().to_string());
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some(node) = root.find(&parts) else {
        return fail(format!("given path is invalid: {path}"));
    };
    match (cli.command, node) {
        (Command::Check, n) => {
            let mut lines = Vec::new();
            let ok = n.check(0, &mut lines);
            for l in lines {
                println!("{l}");
            }
            done(if ok { exit::OK } else { exit::FAILURE })
        }
        (Command::Status, Node::Supervisor(_)) => fail(
            "status command not supported on a supervisor node, look at \"check\" command instead",
        ),
        (Command::Start, Node::Supervisor(s)) => match s.start() {
            Ok(()) => done(exit::OK),
            Err(e) => fail(e.to_string()),
        },
        (Command::Stop, Node::Supervisor(s)) => {
            s.stop();
            done(exit::OK)
        }
        (Command::Restart, Node::Supervisor(s)) => {
            s.stop();
            match s.start() {
                Ok(()) => done(exit::OK),
                Err(e) => fail(e.to_string()),
            }
        }
        (
            c @ (Command::Start | Command::Stop | Command::Status | Command::Restart),
            Node::Service(s),
        ) => {
            let o = match c {
                Command::Start => s.start(),
                Command::Stop => s.stop(),
                Command::Status => s.status(),
                _ => s.restart(),
            };
            if !o.stdout.is_empty() {
                println!("stdout: {}", o.stdout.trim_end());
            }
            if !o.stderr.is_empty() {
                println!("stderr: {}", o.stderr.trim_end());
            }
            done(o.rc)
        }
        _ => fail("command must be one of: start, stop, status, check, restart"),
    }
}

fn need_pidfile<'a>(s: &'a Settings, what: &str) -> Result<&'a Path, Outcome> {
    s.pidfile
        .as_deref()
        .ok_or_else(|| fail(format!("{what} requires a pidfile")))
}

fn status(cli: &Cli, s: &Settings) -> Outcome {
    let pf = match need_pidfile(s, "status") {
        Ok(p) => p,
        Err(e) => return e,
    };
    if cli.json {
        let sock = socket_path(pf);
        let mut out = String::new();
        match UnixStream::connect(&sock).and_then(|mut c| {
            c.set_read_timeout(Some(Duration::from_secs(30)))?;
            c.read_to_string(&mut out)
        }) {
            Ok(_) => {
                println!("{}", out.trim_end());
                return done(exit::OK);
            }
            Err(e) => {
                println!(
                    "{{\"running\":false,\"error\":{}}}",
                    serde_json::Value::String(format!("{}: {e}", sock.display()))
                );
                return done(exit::NOT_RUNNING);
            }
        }
    }
    let (code, msg) = pidfile::status(pf, Duration::from_secs(60));
    println!("{msg}");
    done(code)
}

fn send(s: &Settings, action: &str) -> Outcome {
    let pf = match need_pidfile(s, action) {
        Ok(p) => p,
        Err(e) => return e,
    };
    match pidfile::send(pf, action) {
        Ok(Some(pid)) if procctl::alive(pid) => {
            println!("simplevisor (pid {pid}) is being told to {action}...");
            done(exit::OK)
        }
        Ok(_) => {
            println!("simplevisor does not seem to be running anymore");
            done(exit::OK)
        }
        Err(e) => fail(e.to_string()),
    }
}

/// `stop` / `stop_supervisor`: the action, then waiting; TERM after 60 s (the daemon may be
/// in a long cycle), then KILL after 30 more.
fn stop(s: &Settings, action: &str) -> Outcome {
    let pf = match need_pidfile(s, action) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let pid = match pidfile::send(pf, action) {
        Ok(Some(pid)) if procctl::alive(pid) => pid,
        Ok(_) => {
            println!("simplevisor does not seem to be running anymore");
            let _ = std::fs::remove_file(pf);
            return done(exit::OK);
        }
        Err(e) => return fail(e.to_string()),
    };
    println!("simplevisor (pid {pid}) is being told to {action}...");
    // TERM after 60 s (the daemon may be in a long cycle), then KILL after 30 more; a
    // stop_supervisor that did not work goes to KILL at once
    let mut steps = vec![(None, Duration::from_secs(60))];
    if action == "quit" {
        steps.push((Some(libc::SIGTERM), Duration::from_secs(30)));
    }
    steps.push((Some(libc::SIGKILL), Duration::from_secs(5)));
    let went = procctl::escalate(
        procctl::Target::Pid(pid),
        &steps,
        &mut |sig| match sig {
            Some(libc::SIGTERM) => warning!("simplevisor (pid {pid}) still running, sending TERM"),
            Some(_) => warning!("simplevisor (pid {pid}) still running, sending KILL"),
            None => {}
        },
        &mut || {},
    );
    if went != Some(0) {
        let _ = std::fs::remove_file(pf);
    }
    done(exit::OK)
}

/// Signal flags and the self-pipe that wakes the loop.
struct Signals {
    term: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
    usr: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    wake: UnixStream,
}

fn signals() -> Result<Signals, Error> {
    use libc::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    let pair = || -> std::io::Result<(UnixStream, UnixStream)> {
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        notify.set_nonblocking(true)?;
        Ok((wake, notify))
    };
    let (wake, notify) = pair().map_err(|source| Error::Io {
        what: "socketpair".into(),
        source,
    })?;
    let s = Signals {
        term: Arc::new(AtomicBool::new(false)),
        hup: Arc::new(AtomicBool::new(false)),
        usr: Arc::new(AtomicBool::new(false)),
        quit: Arc::new(AtomicBool::new(false)),
        wake,
    };
    procctl::signals::flag(&[SIGTERM, SIGINT], &s.term)?;
    procctl::signals::flag(&[SIGHUP], &s.hup)?;
    procctl::signals::flag(&[SIGUSR1, SIGUSR2], &s.usr)?;
    procctl::signals::flag(&[SIGQUIT], &s.quit)?;
    procctl::signals::wake(
        &[SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGCHLD],
        &notify,
    )?;
    Ok(s)
}

/// Detaches (double fork, setsid, chdir /); the original process waits on a pipe for the
/// daemon to say it holds the pidfile and has started its children, and exits 0, or 1
/// with its error.
fn daemonize() -> Result<procctl::Readiness, Outcome> {
    let opts = procctl::DaemonOptions {
        chdir_root: true,
        keep_regular_output: true,
    };
    match procctl::daemonize(opts).map_err(|e| Outcome::from(Error::from(e)))? {
        procctl::Daemonized::Daemon(ready) => Ok(ready),
        procctl::Daemonized::Parent(procctl::Report::Started(pid)) => {
            println!("simplevisor (pid {pid}) started");
            Err(done(exit::OK))
        }
        procctl::Daemonized::Parent(procctl::Report::Failed(e)) => Err(fail(e)),
        procctl::Daemonized::Parent(procctl::Report::Died) => {
            Err(fail("the daemon died while starting"))
        }
    }
}

fn report(ready: &mut Option<procctl::Readiness>, error: Option<&str>) {
    if let Some(r) = ready.take() {
        match error {
            None => r.ready(),
            Some(e) => r.failed(e),
        }
    }
}

/// Moves the running state of unchanged services from the old tree to the new one (HUP);
/// what is left in the old tree is stopped.
fn carry_over(old: &mut Node, new: &mut Node) {
    match (old, new) {
        (Node::Service(o), Node::Service(n)) if o.spec == n.spec => {
            std::mem::swap(o, n);
            // the fresh copy left behind must not stop what now belongs to the new tree
            o.detached = true;
        }
        (Node::Supervisor(o), Node::Supervisor(n)) => {
            n.cycles = o.cycles.clone();
            for nc in &mut n.children {
                if let Some(oc) = o.children.iter_mut().find(|c| c.name() == nc.name()) {
                    carry_over(oc, nc);
                }
            }
        }
        _ => {}
    }
}

/// `start` and `single`.
/// The exporters of `--metrics-listen` and `--metrics-file`, reading the latest snapshot.
fn metrics_start(
    cli: &Cli,
    bound: Option<std::net::TcpListener>,
    latest: &Arc<Mutex<metrics::Exposition>>,
) -> Result<metrics::Exporters, String> {
    let l = latest.clone();
    let render: metrics::Render = Arc::new(move || l.lock().map(|e| e.clone()).unwrap_or_default());
    cli.metrics
        .start(bound, render)
        .map_err(|e| procctl::error_line(&e))
}

/// systemd's readiness protocol (`Type=notify`): a datagram to `$NOTIFY_SOCKET` (a path, or
/// `@name` in the abstract namespace); nothing when it is not set.
fn notify(state: &str) {
    let Some(addr) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = addr.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
    } else {
        sock.send_to(state.as_bytes(), std::path::Path::new(&addr))
    };
    if let Err(e) = sent {
        warning!(
            "cannot notify systemd through {}: {e}",
            addr.to_string_lossy()
        );
    }
}

/// SIGHUP: reads the configuration again and applies the difference: unchanged services
/// keep running untouched, removed or changed ones are stopped, new or changed ones
/// started. A bad configuration is logged and the running tree kept.
fn reload(cli: &Cli, root: &mut Node) {
    let Some(path) = &cli.conf else {
        warning!("caught SIGHUP, but there is no configuration file to reload");
        return;
    };
    let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
    let cfg = match config::load(&path, cli.conftype) {
        Ok(c) => c,
        Err(e) => {
            error!("caught SIGHUP, configuration not reloaded: {e}");
            return;
        }
    };
    let Some(spec) = cfg.root else {
        error!("caught SIGHUP, configuration not reloaded: no entry found");
        return;
    };
    let mut new = match Node::build(&spec) {
        Ok(n) => n,
        Err(e) => {
            error!("caught SIGHUP, configuration not reloaded: {e}");
            return;
        }
    };
    if !matches!(new, Node::Supervisor(_)) {
        error!("caught SIGHUP, configuration not reloaded: the root must stay a supervisor");
        return;
    }
    carry_over(root, &mut new);
    let mut old = std::mem::replace(root, new);
    if let Node::Supervisor(o) = &mut old {
        o.stop();
    }
    if let Err(e) = root.start(false) {
        error!("{e}");
    }
    info!("caught SIGHUP, configuration reloaded");
}
