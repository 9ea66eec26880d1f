//! A service: driven by commands (`control`, explicit `start`/`stop`/`status`), found in the
//! process table (`pattern`), or run by simplevisor itself (`daemon`, `foreground`).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{Mode, RestartType, ServiceSpec, split_command};
use crate::error::{Error, Result};
use crate::process::{self, ExecOptions, Exit, Outcome};

/// A program simplevisor runs and keeps as its child.
#[derive(Debug, Clone, Copy)]
pub struct Owned {
    /// Its pid, also its process group.
    pub pid: i32,
    /// When it was started.
    pub since: Instant,
}

/// A service and what simplevisor knows of it.
#[derive(Debug)]
pub struct Service {
    /// The configuration.
    pub spec: ServiceSpec,
    exec: ExecOptions,
    pattern: Option<regex::Regex>,
    /// Owned services: the running child.
    pub child: Option<Owned>,
    /// Owned services: how the last run ended.
    pub last_exit: Option<Exit>,
    /// Owned services: restarts done after exits.
    pub restarts: u64,
    /// Owned services: a restart waiting for its backoff.
    pub next_start: Option<Instant>,
    backoff: Duration,
    /// Owned services that ended for good (temporary, or transient after a clean exit).
    pub finished: bool,
    /// Owned services seen from the command line: the running simplevisor's status of it
    /// (its child, not ours).
    pub remote: Option<i32>,
    /// The status (LSB rc) the last supervision cycle found, for the metrics of services
    /// simplevisor does not own (asking again would run their status command).
    pub last_rc: Option<i32>,
    /// Left behind in an old tree by a reload: its running state moved to the new tree,
    /// so stopping the old tree must not touch it.
    pub detached: bool,
}

/// The reference's id: md5 of `name|expected|start command` (for `daemon` services the
/// start command as simplevisor-loop would have run it), so that stores carry over.
pub fn service_id(spec: &ServiceSpec) -> String {
    let start = match (&spec.mode, &spec.control) {
        (_, Some(c)) => {
            let mut v = split_command(c);
            v.push("start".into());
            v
        }
        (Mode::Owned { pidfile: Some(p) }, _) => {
            let lp =
                which("simplevisor-loop").unwrap_or_else(|| "/usr/bin/simplevisor-loop".into());
            split_command(&format!(
                "{lp} --pidfile {} -c 1 --daemon {}",
                p.display(),
                spec.start.as_deref().unwrap_or("")
            ))
        }
        _ => split_command(spec.start.as_deref().unwrap_or("")),
    };
    md5_hex(&format!(
        "{}|{}|{}",
        spec.name,
        spec.expected,
        start.join(" ")
    ))
}

/// md5 as lowercase hex.
pub fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn which(cmd: &str) -> Option<String> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// A process found by pattern: its whole group when it leads one (a daemon that called
/// setsid), so that its own children go with it; otherwise just the process.
fn signal_tree(pid: i32, sig: i32) {
    // SAFETY: getpgid and kill on a pid just found in /proc.
    unsafe {
        if libc::getpgid(pid) == pid {
            libc::kill(-pid, sig);
        } else {
            libc::kill(pid, sig);
        }
    }
}

fn show(o: &Outcome) -> String {
    format!(
        "({}, {:?}, {:?})",
        o.rc,
        o.stdout.trim_end(),
        o.stderr.trim_end()
    )
}

impl Service {
    /// A service for this configuration (users are looked up now, so that a bad one is a
    /// configuration error).
    pub fn new(spec: ServiceSpec) -> Result<Service> {
        let user = match &spec.user {
            Some(u) => Some(process::lookup_user(u).map_err(|e| {
                Error::Config(format!(
                    "service {}: {}",
                    spec.name,
                    procctl::error_line(&e)
                ))
            })?),
            None => None,
        };
        let pattern = match &spec.mode {
            Mode::Pattern(p) => Some(regex::Regex::new(p).map_err(|e| {
                Error::Config(format!("{} service pattern not valid: {e}", spec.name))
            })?),
            _ => None,
        };
        Ok(Service {
            exec: ExecOptions {
                path: spec.path.clone(),
                env: spec.env.clone(),
                cwd: spec.cwd.clone(),
                output: spec.output.clone(),
                user,
                timeout: spec.timeout,
                quiet: false,
                die_with_parent: matches!(spec.mode, Mode::Owned { pidfile: None }),
            },
            pattern,
            child: None,
            last_exit: None,
            restarts: 0,
            next_start: None,
            backoff: spec.backoff,
            finished: false,
            detached: false,
            last_rc: None,
            remote: None,
            spec,
        })
    }

    /// Owned programs' output goes to /dev/null (for `single`).
    pub fn set_quiet(&mut self) {
        self.exec.quiet = true;
    }

    /// The store id.
    pub fn id(&self) -> String {
        service_id(&self.spec)
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Running now, as far as known without running a command: an owned child that is
    /// there, or the last status a cycle found.
    pub fn seen_running(&self) -> bool {
        if self.owned() {
            self.child.is_some()
        } else {
            self.last_rc == Some(0)
        }
    }

    pub(crate) fn owned(&self) -> bool {
        matches!(self.spec.mode, Mode::Owned { .. })
    }

    fn cmd(&self, sub: &str) -> Option<Vec<String>> {
        let custom = match sub {
            "start" => &self.spec.start,
            "stop" => &self.spec.stop,
            "status" => &self.spec.status,
            "restart" => &self.spec.restart,
            _ => &None,
        };
        match (custom, &self.spec.control) {
            (Some(c), _) => Some(split_command(c)),
            (None, Some(ctl)) => {
                let mut v = split_command(ctl);
                v.push(sub.to_string());
                Some(v)
            }
            (None, None) => None,
        }
    }

    fn execute(&self, argv: &[String]) -> Outcome {
        let line = argv.join(" ");
        debug!("executing {line}");
        let o = process::run(argv, &self.exec);
        if o.stderr == "timeout" && o.rc == 1 {
            warning!("{line} timed out {} seconds", self.spec.timeout.as_secs());
        }
        debug!("{line} returned: {}", show(&o));
        o
    }

    /// Takes the exit of an owned child if it has ended (without restarting it).
    pub fn poll_exit(&mut self) -> Option<Exit> {
        let c = self.child?;
        process::reap();
        let e = process::take(c.pid)?;
        self.ended(c, e);
        Some(e)
    }

    fn ended(&mut self, c: Owned, e: Exit) {
        self.child = None;
        self.last_exit = Some(e);
        // helpers it left in its group go with it
        process::kill_group(c.pid, libc::SIGKILL);
        if let Mode::Owned { pidfile: Some(p) } = &self.spec.mode {
            let _ = std::fs::remove_file(p);
        }
    }

    /// The tri-state status: 0 running, 3 stopped, anything else dirty.
    pub fn status(&mut self) -> Outcome {
        let ok = |rc| Outcome {
            rc,
            stdout: String::new(),
            stderr: String::new(),
        };
        if self.owned() {
            // the exit itself is left to the main loop, which decides on the restart
            process::reap();
            if let Some(c) = self.child {
                return ok(if process::has_exited(c.pid) { 3 } else { 0 });
            }
            if let Some(rc) = self.remote {
                return ok(rc);
            }
            // daemon = PIDFILE: the pidfile tells, for tools and for the command line
            if let Mode::Owned { pidfile: Some(p) } = &self.spec.mode
                && let Some(pid) = crate::pidfile::read_pid(p)
                && procctl::alive(pid)
            {
                return ok(0);
            }
            return ok(3);
        }
        if let Some(re) = &self.pattern {
            return ok(if process::pidof(re).is_empty() { 3 } else { 0 });
        }
        match self.cmd("status") {
            Some(argv) => self.execute(&argv),
            None => ok(3),
        }
    }

    /// Starts it (no status check).
    pub fn start(&mut self) -> Outcome {
        self.next_start = None;
        self.finished = false;
        if self.owned() {
            if let Some(c) = self.child
                && process::has_exited(c.pid)
            {
                // ended and not yet seen by the main loop: this start replaces it
                self.poll_exit();
            }
            if self.child.is_some() {
                return Outcome {
                    rc: 0,
                    stdout: String::new(),
                    stderr: String::new(),
                };
            }
            let argv = split_command(self.spec.start.as_deref().unwrap_or(""));
            return match process::spawn(&argv, &self.exec) {
                Ok(pid) => {
                    self.child = Some(Owned {
                        pid,
                        since: Instant::now(),
                    });
                    if let Mode::Owned { pidfile: Some(p) } = &self.spec.mode
                        && let Err(e) = std::fs::write(p, format!("{pid}\n"))
                    {
                        warning!(
                            "service {}: cannot write {}: {e}",
                            self.spec.name,
                            p.display()
                        );
                    }
                    Outcome {
                        rc: 0,
                        stdout: format!("started {} (pid {pid})", argv.join(" ")),
                        stderr: String::new(),
                    }
                }
                Err(e) => Outcome {
                    rc: 1,
                    stdout: String::new(),
                    stderr: procctl::error_line(&e),
                },
            };
        }
        match self.cmd("start") {
            Some(argv) => self.execute(&argv),
            None => Outcome {
                rc: 1,
                stdout: String::new(),
                stderr: "no start command".into(),
            },
        }
    }

    /// Stops it: the stop command, or the stop signal to the process group (pattern: to the
    /// matching processes) and SIGKILL after `timeout`.
    pub fn stop(&mut self) -> Outcome {
        self.next_start = None;
        let done = |msg: String| Outcome {
            rc: 0,
            stdout: msg,
            stderr: String::new(),
        };
        if self.owned() {
            self.poll_exit();
            let Some(c) = self.child else {
                // not our child (another simplevisor's, or an earlier run's): the pidfile
                // names it, and it leads its own process group
                if let Mode::Owned { pidfile: Some(p) } = &self.spec.mode
                    && let Some(pid) = crate::pidfile::read_pid(p)
                    && procctl::alive(pid)
                {
                    // its group: the stop signal, then KILL (its leader may be gone already)
                    let group = procctl::Target::Group(pid);
                    procctl::signal(group, self.spec.stop_signal);
                    let alive = procctl::Target::Pid(pid);
                    procctl::wait_gone(alive, self.spec.timeout, &mut || {
                        process::reap();
                    });
                    procctl::signal(group, libc::SIGKILL);
                    let _ = std::fs::remove_file(p);
                    return done(format!("stopped (pid {pid})"));
                }
                return done(String::new());
            };
            process::kill_group(c.pid, self.spec.stop_signal);
            let deadline = Instant::now() + self.spec.timeout;
            let mut nap = Duration::from_micros(500);
            loop {
                process::reap();
                if let Some(e) = process::take(c.pid) {
                    self.ended(c, e);
                    return done(format!("stopped (pid {}, {e})", c.pid));
                }
                if Instant::now() >= deadline {
                    warning!(
                        "service {} did not stop within {}s: SIGKILL to its process group",
                        self.spec.name,
                        self.spec.timeout.as_secs()
                    );
                    process::kill_group(c.pid, libc::SIGKILL);
                }
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(20));
            }
        }
        if let Some(re) = self.pattern.clone() {
            let pids = process::pidof(&re);
            if pids.is_empty() {
                info!("service {} already stopped", self.spec.name);
                return done(String::new());
            }
            for p in &pids {
                signal_tree(*p, self.spec.stop_signal);
            }
            let deadline = Instant::now() + self.spec.timeout;
            while !process::pidof(&re).is_empty() {
                if Instant::now() >= deadline {
                    for p in process::pidof(&re) {
                        signal_tree(p, libc::SIGKILL);
                    }
                    break;
                }
                process::reap();
                std::thread::sleep(Duration::from_millis(10));
            }
            let list: Vec<String> = pids.iter().map(i32::to_string).collect();
            info!(
                "{} killed by killing processes: {}",
                self.spec.name,
                list.join(" ")
            );
            return done(String::new());
        }
        match self.cmd("stop") {
            Some(argv) => self.execute(&argv),
            None => done(String::new()),
        }
    }

    /// Restarts it: its restart command, or stop then start.
    pub fn restart(&mut self) -> Outcome {
        let custom = self
            .spec
            .restart
            .as_deref()
            .filter(|r| *r != "stop+start")
            .is_some();
        if custom && !self.owned() {
            let argv = self.cmd("restart").unwrap_or_default();
            let o = self.execute(&argv);
            info!(
                "service {} restarted with result: {}",
                self.spec.name,
                show(&o)
            );
            return o;
        }
        let a = self.stop();
        let b = self.start();
        // one line each: the stop's output, then the start's, never run together
        let join = |x: String, y: String| match (x.trim_end(), y.trim_end()) {
            ("", y) => y.to_string(),
            (x, "") => x.to_string(),
            (x, y) => format!("{x}\n{y}"),
        };
        let o = Outcome {
            rc: if a.rc != 0 { a.rc } else { b.rc },
            stdout: join(a.stdout, b.stdout),
            stderr: join(a.stderr, b.stderr),
        };
        info!("service {} stop+start result: {}", self.spec.name, show(&o));
        o
    }

    /// Whether it should run now (a finished owned service no longer should).
    pub fn wanted(&self) -> bool {
        self.spec.expected_running && !self.finished
    }

    /// Status against expected, with the reference's wording.
    pub fn check(&mut self) -> (bool, String) {
        let rc = self.status().rc;
        let n = &self.spec.name;
        match (self.wanted(), rc) {
            (true, 0) => (true, format!("{n}: OK, running, as expected")),
            (true, 3) => (false, format!("{n}: WARNING, not running, not expected")),
            (false, 0) => (false, format!("{n}: WARNING, found running, not expected")),
            (false, 3) if self.finished => (true, format!("{n}: OK, finished")),
            (false, 3) => (true, format!("{n}: OK, not running, as expected")),
            (_, rc) => (false, format!("{n}: WARNING, in \"dirty\" state: {rc}")),
        }
    }

    fn careful_wait(&mut self, want: i32, what: &str) -> Result<()> {
        let deadline = Instant::now() + self.spec.timeout;
        let mut nap = Duration::from_millis(5);
        loop {
            let rc = self.status().rc;
            if rc == want {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let msg = format!(
                    "error {what} service {}, have been waiting {}",
                    self.spec.name,
                    self.spec.timeout.as_secs()
                );
                return Err(Error::Service(msg));
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(500));
        }
    }

    /// The error of an action that failed; whoever handles it logs it, once.
    fn fail_if(&self, changed: &str, o: &Outcome) -> Result<()> {
        if o.rc != 0 {
            let msg = format!(
                "error during service {} action {changed}: {}",
                self.spec.name,
                show(o)
            );
            return Err(Error::Service(msg));
        }
        Ok(())
    }

    /// Starts it if it should run and does not (a dirty one is stopped first); with
    /// `careful`, waits until its status says running.
    pub fn cond_start(&mut self, careful: bool) -> Result<Option<&'static str>> {
        let rc = self.status().rc;
        let changed = match rc {
            3 if self.wanted() => {
                let o = self.start();
                info!(
                    "service {} started with result: {}",
                    self.spec.name,
                    show(&o)
                );
                self.fail_if("start", &o)?;
                "start"
            }
            0 | 3 => return Ok(None),
            _ if self.wanted() => {
                let s = self.stop();
                info!(
                    "service {} stopped for cleaning with result: {}",
                    self.spec.name,
                    show(&s)
                );
                let o = self.start();
                info!(
                    "service {} started with result: {}",
                    self.spec.name,
                    show(&o)
                );
                self.fail_if("stop+start", &o)?;
                "stop+start"
            }
            _ => return Ok(None),
        };
        if careful {
            self.careful_wait(0, "starting")?;
        }
        Ok(Some(changed))
    }

    /// Stops it if it runs or is dirty; with `careful`, waits until its status says stopped.
    pub fn cond_stop(&mut self, careful: bool) -> Result<Option<&'static str>> {
        if self.detached {
            return Ok(None);
        }
        let rc = self.status().rc;
        if rc == 3 {
            return Ok(None);
        }
        let o = self.stop();
        if rc == 0 {
            info!(
                "service {} found running, stopped with result: {}",
                self.spec.name,
                show(&o)
            );
        } else {
            info!(
                "service {} found in dirty state: {rc}, stopped for cleaning with result: {}",
                self.spec.name,
                show(&o)
            );
        }
        self.fail_if("stop", &o)?;
        if careful {
            self.careful_wait(3, "stopping")?;
        }
        Ok(Some("stop"))
    }

    /// One supervision step: start, stop or stop+start according to status and expected.
    pub fn cond_adjust(&mut self, careful: bool) -> Result<Option<&'static str>> {
        let rc = self.status().rc;
        self.cond_adjust_after(rc, careful)
    }

    /// [`Service::cond_adjust`] with the status already taken (statuses of one_for_one
    /// siblings are taken concurrently).
    pub fn cond_adjust_after(&mut self, rc: i32, careful: bool) -> Result<Option<&'static str>> {
        self.last_rc = Some(rc);
        let (changed, o) = match rc {
            0 if !self.wanted() => {
                let o = self.stop();
                info!(
                    "service {} stopped with result: {}",
                    self.spec.name,
                    show(&o)
                );
                ("stop", o)
            }
            3 if self.wanted() => {
                if self.next_start.is_some() {
                    // an owned service waiting for its backoff: not now
                    return Ok(None);
                }
                let o = self.start();
                info!(
                    "service {} started with result: {}",
                    self.spec.name,
                    show(&o)
                );
                ("start", o)
            }
            0 | 3 => return Ok(None),
            _ => {
                let s = self.stop();
                info!(
                    "service {} stopped for cleaning with result: {}",
                    self.spec.name,
                    show(&s)
                );
                let o = if self.wanted() {
                    let o = self.start();
                    info!(
                        "service {} started with result: {}",
                        self.spec.name,
                        show(&o)
                    );
                    o
                } else {
                    s
                };
                ("stop+start", o)
            }
        };
        self.fail_if(changed, &o)?;
        if careful {
            let want = if self.wanted() { 0 } else { 3 };
            self.careful_wait(want, "adjusting")?;
        }
        Ok(Some(changed))
    }

    /// An owned child ended (reaped by the main loop): decides whether and when to start it
    /// again. `None`: not restarted (stopped on purpose, expected stopped, or its restart
    /// type says so).
    pub fn exited(&mut self, exit: Exit) -> Option<Duration> {
        let c = self.child?;
        let ran = c.since.elapsed();
        self.ended(c, exit);
        warning!(
            "service {} (pid {}) exited with {exit} after {:.3}s",
            self.spec.name,
            c.pid,
            ran.as_secs_f64()
        );
        if !self.spec.expected_running {
            return None;
        }
        let again = match self.spec.restart_type {
            RestartType::Permanent => true,
            RestartType::Transient => !exit.is_success(),
            RestartType::Temporary => false,
        };
        if !again {
            self.finished = true;
            info!(
                "service {} ({:?}) is not restarted",
                self.spec.name, self.spec.restart_type
            );
            return None;
        }
        // a program that ran a while is restarted at once; one that keeps crashing waits,
        // twice as long each time, up to the cap
        let delay = if ran >= Duration::from_secs(10) || self.restarts == 0 {
            self.backoff = self.spec.backoff;
            Duration::ZERO
        } else {
            let d = self.backoff;
            self.backoff = (self.backoff * 2).min(self.spec.backoff_max);
            // ±10 % jitter, so that a crowd of crashing services does not restart in step
            let j = (std::process::id() as u64 ^ self.restarts.wrapping_mul(0x9e37_79b9)) % 21;
            d.mul_f64(0.9 + j as f64 / 100.0)
        };
        self.restarts += 1;
        Some(delay)
    }

    /// For `status --json`.
    pub fn state_json(&mut self) -> serde_json::Value {
        let rc = self.status().rc;
        serde_json::json!({
            "type": "service",
            "name": self.spec.name,
            "expected": self.spec.expected,
            "status": match rc { 0 => "running", 3 => "stopped", _ => "dirty" },
            "status_rc": rc,
            "pid": self.child.map(|c| c.pid),
            "uptime": self.child.map(|c| c.since.elapsed().as_secs_f64()),
            "restarts": self.restarts,
            "last_exit": self.last_exit.map(|e| e.to_string()),
            "finished": self.finished,
        })
    }
}
