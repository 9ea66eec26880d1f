//! The supervision loop of `start` and `single`, in named steps: `setup` (pidfile, signals,
//! control socket), then turns of `on_signals`, `on_action` (the pidfile's control
//! protocol), `answer_status` (the control socket), `cycle` (the supervision cycle) and
//! `sleep` (in `poll(2)` until something happens or is due), then `shutdown`.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::{
    Outcome, Settings, Signals, daemonize, done, fail, metrics_start, notify, reload, report,
    signals, socket_path,
};
use crate::cli::{Cli, Command, exit};
use crate::pidfile::{Action, Pidfile};
use crate::process;
use crate::store;
use crate::supervisor::{Counts, Node};

/// How the loop ended.
enum End {
    /// Asked to stop (a signal, `quit`, `stop_supervisor`, a pidfile that failed), or
    /// `single`'s one cycle done.
    Stopped,
    /// A supervisor failed: its children are stopped already.
    Failed,
}

/// Runs the supervision tree until asked to stop or until it fails.
pub(super) fn supervise(command: Command, cli: &Cli, s: Settings, mut root: Node) -> Outcome {
    let single = command == Command::Single;
    // bound before a --daemon fork; a bad address is a usage error
    let bound = match cli.metrics.bind() {
        Ok(b) => b,
        Err(e) => {
            return Outcome::failed(super::NAME, exit::USAGE, procctl::error_line(&e));
        }
    };
    if single {
        root.set_quiet();
        root.warn_foreground_in_single();
    }
    let mut ready = None;
    if s.daemon && !single {
        match daemonize() {
            Ok(r) => ready = Some(r),
            Err(e) => return e,
        }
    }
    process::become_subreaper();
    let mut l = match Loop::setup(cli, s, root, single) {
        Ok(l) => l,
        Err(e) => {
            report(&mut ready, Some(e.error.as_deref().unwrap_or_default()));
            return e;
        }
    };
    let exporters = match metrics_start(cli, bound, &l.latest) {
        Ok(x) => x,
        Err(e) => {
            report(&mut ready, Some(&e));
            l.cleanup();
            return fail(e);
        }
    };
    info!("supervisor started");
    if !single && let Err(e) = l.root.start(false) {
        // as the reference: the remaining siblings start at the next cycle
        error!("{e}");
    }
    report(&mut ready, None);
    notify(&format!("READY=1\nMAINPID={}", std::process::id()));
    let end = l.run();
    l.shutdown(end, exporters)
}

/// What the loop holds between its steps.
struct Loop<'a> {
    cli: &'a Cli,
    s: Settings,
    root: Node,
    single: bool,
    pidfile: Option<Pidfile>,
    sigs: Signals,
    /// The control socket beside the pidfile, and its path.
    listener: Option<(UnixListener, PathBuf)>,
    /// The figures the metrics exporters read.
    latest: Arc<Mutex<metrics::Exposition>>,
    started: SystemTime,
    next_cycle: Instant,
    next_poll: Instant,
    /// `stop_supervisor` leaves the children running.
    stop_children_too: bool,
}

impl<'a> Loop<'a> {
    /// The pidfile before any child (a second simplevisor must not start a second set),
    /// the signals, the control socket.
    fn setup(cli: &'a Cli, s: Settings, root: Node, single: bool) -> Result<Self, Outcome> {
        let pidfile = match &s.pidfile {
            Some(p) => Some(Pidfile::create(p).map_err(|e| fail(e.to_string()))?),
            None => None,
        };
        let sigs = signals().map_err(Outcome::from)?;
        let listener = s.pidfile.as_deref().and_then(|p| {
            let path = socket_path(p);
            let _ = std::fs::remove_file(&path);
            match UnixListener::bind(&path) {
                Ok(l) => {
                    let _ = l.set_nonblocking(true);
                    Some((l, path))
                }
                Err(e) => {
                    warning!("control socket {}: {e}", path.display());
                    None
                }
            }
        });
        let Node::Supervisor(_) = &root else {
            unreachable!("a service root is a path command");
        };
        let started = SystemTime::now();
        let latest = Arc::new(Mutex::new(crate::metrics::snapshot(&root, started)));
        let first_cycle = if single {
            Instant::now()
        } else {
            Instant::now() + s.interval
        };
        Ok(Loop {
            cli,
            s,
            root,
            single,
            pidfile,
            sigs,
            listener,
            latest,
            started,
            next_cycle: first_cycle,
            next_poll: Instant::now(),
            stop_children_too: true,
        })
    }

    /// Turns until the loop ends.
    fn run(&mut self) -> End {
        loop {
            if let Some(end) = self.on_signals() {
                return end;
            }
            process::reap();
            if !self.root.handle_exits() {
                return End::Failed;
            }
            let now = Instant::now();
            let next_restart = self.root.due_restarts(now);
            if now >= self.next_poll {
                self.next_poll = now + Duration::from_millis(500);
                self.publish();
                if let Some(end) = self.on_action(now) {
                    return end;
                }
            }
            self.answer_status();
            if Instant::now() >= self.next_cycle
                && let Some(end) = self.cycle()
            {
                return end;
            }
            self.sleep(next_restart);
        }
    }

    /// TERM/INT stop; USR1/USR2 and QUIT are ignored (said so); HUP reloads the
    /// configuration.
    fn on_signals(&mut self) -> Option<End> {
        let sigs = &self.sigs;
        if sigs.term.swap(false, Ordering::Relaxed) {
            info!("caught SIGTERM or SIGINT, stopping");
            notify("STOPPING=1");
            return Some(End::Stopped);
        }
        if sigs.usr.swap(false, Ordering::Relaxed) {
            info!("caught SIGUSR1 or SIGUSR2, ignoring it");
        }
        if sigs.quit.swap(false, Ordering::Relaxed) {
            warning!("caught SIGQUIT, ignoring it (TERM or INT stop simplevisor)");
        }
        if sigs.hup.swap(false, Ordering::Relaxed) {
            notify("RELOADING=1");
            reload(self.cli, &mut self.root);
            notify("READY=1");
        }
        None
    }

    /// The pidfile's control protocol: the action written to it, if any.
    fn on_action(&mut self, now: Instant) -> Option<End> {
        let action = match self.pidfile.as_mut()?.poll() {
            Ok(a) => a?,
            Err(e) => {
                // the pidfile is gone or unusable: stop, children included
                error!("{e}");
                self.stop_children_too = true;
                return Some(End::Stopped);
            }
        };
        match action {
            Action::Quit => {
                info!("asked to quit");
                notify("STOPPING=1");
                return Some(End::Stopped);
            }
            Action::StopSupervisor => {
                info!("asked to stop_supervisor");
                notify("STOPPING=1");
                self.stop_children_too = false;
                return Some(End::Stopped);
            }
            Action::StopChildren => {
                info!("stopping all the children");
                if let Node::Supervisor(sup) = &mut self.root {
                    sup.stop();
                }
            }
            Action::WakeUp => {
                info!("asked to wake up");
                self.next_cycle = now;
            }
            Action::RestartChild(path) => self.restart_child(&path),
            Action::Unknown(a) => warning!("unknown action: {a}"),
        }
        None
    }

    fn restart_child(&mut self, path: &str) {
        let parts: Vec<&str> = path.split('/').collect();
        match self.root.find(&parts) {
            Some(Node::Service(svc)) => {
                svc.restart();
            }
            Some(Node::Supervisor(sup)) => {
                sup.stop();
                if let Err(e) = sup.start() {
                    error!("{e}");
                }
                info!("supervisor {} restarted", sup.spec.name);
            }
            None => warning!("restart_child: given path is invalid: {path}"),
        }
    }

    /// `status --json`: the live tree, to every client waiting on the control socket.
    fn answer_status(&mut self) {
        let Some((l, _)) = &self.listener else {
            return;
        };
        while let Ok((mut c, _)) = l.accept() {
            let state = serde_json::json!({
                "running": true,
                "pid": std::process::id(),
                "tree": self.root.state_json(),
            });
            let _ = c.set_write_timeout(Some(Duration::from_secs(5)));
            let _ = c.write_all(format!("{state}\n").as_bytes());
        }
    }

    /// One supervision cycle, with the reference's line; `single` stops after it.
    fn cycle(&mut self) -> Option<End> {
        let mut counts = Counts::default();
        let t = Instant::now();
        let ok = match &mut self.root {
            Node::Supervisor(sup) => sup.supervise(&mut counts),
            Node::Service(_) => true,
        };
        info!(
            "supervision cycle executed {} in {:.3}s: {} services OK, {} services needed \
             adjustment, {} services failed adjustment",
            if ok { "successfully" } else { "with a failure" },
            t.elapsed().as_secs_f64(),
            counts.ok,
            counts.adjusted,
            counts.failed
        );
        self.save();
        if !ok {
            return Some(End::Failed);
        }
        if self.single {
            return Some(End::Stopped);
        }
        self.next_cycle = Instant::now() + self.s.interval;
        None
    }

    /// Sleeps in `poll(2)` until a signal, a control client, or the next thing due.
    fn sleep(&self, next_restart: Option<Instant>) {
        let mut until = self.next_cycle.min(self.next_poll);
        if let Some(r) = next_restart {
            until = until.min(r);
        }
        let wait = until.saturating_duration_since(Instant::now());
        let mut fds = vec![libc::pollfd {
            fd: self.sigs.wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some((l, _)) = &self.listener {
            fds.push(libc::pollfd {
                fd: l.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: a valid array of pollfd for its length.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms.max(0)) };
        let mut buf = [0u8; 256];
        while (&self.sigs.wake).read(&mut buf).is_ok_and(|n| n > 0) {}
    }

    fn publish(&self) {
        if let Ok(mut l) = self.latest.lock() {
            *l = crate::metrics::snapshot(&self.root, self.started);
        }
    }

    fn save(&self) {
        if let Some(st) = &self.s.store
            && let Err(e) = store::save(st, &self.root)
        {
            error!("{e}");
        }
    }

    /// Removes the pidfile and the control socket.
    fn cleanup(self) {
        if let Some(p) = self.pidfile {
            p.remove();
        }
        if let Some((_, path)) = self.listener {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Stops the children (unless `stop_supervisor` or `single`), saves the store, writes
    /// the final figures once the children are stopped, cleans up.
    fn shutdown(mut self, end: End, exporters: metrics::Exporters) -> Outcome {
        let failed = matches!(end, End::Failed);
        if failed {
            // a failed supervisor stopped its children already
            error!("supervision interrupted/failed");
        } else if self.stop_children_too && !self.single {
            info!("stopping all the children");
            if let Node::Supervisor(sup) = &mut self.root {
                sup.stop();
            }
        }
        if !failed {
            info!("stopping the supervisor");
        }
        self.save();
        self.publish();
        if let Err(e) = exporters.finish() {
            warning!("cannot write the final metrics file: {e}");
        }
        self.cleanup();
        if failed {
            fail("supervision interrupted/failed")
        } else {
            done(exit::OK)
        }
    }
}
