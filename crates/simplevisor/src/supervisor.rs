//! The supervision tree: supervisors with their strategies and restart intensity, services
//! as leaves; start and stop orders, the supervision cycle, escalation, the store.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::{EntrySpec, Strategy, SupervisorSpec};
use crate::error::{Error, Result};
use crate::process::Exit;
use crate::service::{Service, md5_hex};

/// A node of the tree.
#[derive(Debug)]
pub enum Node {
    /// A supervisor and its children.
    Supervisor(Supervisor),
    /// A service.
    Service(Box<Service>),
}

/// What one cycle found, for the log line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Services as expected.
    pub ok: usize,
    /// Services adjusted.
    pub adjusted: usize,
    /// Services whose adjustment failed.
    pub failed: usize,
}

/// A supervisor.
#[derive(Debug)]
pub struct Supervisor {
    /// Its configuration (children excluded).
    pub spec: SupervisorSpec,
    /// Its children, in order.
    pub children: Vec<Node>,
    /// The last `window` cycles: (epoch seconds, adjusted).
    pub cycles: Vec<(f64, bool)>,
    /// maxr/maxt: when restarts happened.
    restarts: VecDeque<Instant>,
    /// An owned child was restarted since the last cycle: the next cycle counts as adjusted.
    pending: bool,
}

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

impl Node {
    /// Builds the tree of a configuration entry.
    pub fn build(spec: &EntrySpec) -> Result<Node> {
        Ok(match spec {
            EntrySpec::Service(s) => Node::Service(Box::new(Service::new((**s).clone())?)),
            EntrySpec::Supervisor(s) => {
                let mut children = Vec::new();
                for c in &s.children {
                    children.push(Node::build(c)?);
                }
                let mut spec = s.clone();
                spec.children.clear();
                Node::Supervisor(Supervisor {
                    spec,
                    children,
                    cycles: Vec::new(),
                    restarts: VecDeque::new(),
                    pending: false,
                })
            }
        })
    }

    /// Every service's owned programs write to /dev/null (for `single`).
    pub fn set_quiet(&mut self) {
        match self {
            Node::Service(s) => s.set_quiet(),
            Node::Supervisor(s) => s.children.iter_mut().for_each(Node::set_quiet),
        }
    }

    /// `single` and `foreground` services: they live only as long as the simplevisor that
    /// started them, so a one-shot run cannot keep them.
    pub fn warn_foreground_in_single(&self) {
        match self {
            Node::Service(s) => {
                if matches!(s.spec.mode, crate::config::Mode::Owned { pidfile: None }) {
                    warning!(
                        "service {}: foreground services need a running simplevisor (start); \
                         single stops them when it exits (daemon = PIDFILE survives it)",
                        s.name()
                    );
                }
            }
            Node::Supervisor(s) => s.children.iter().for_each(Node::warn_foreground_in_single),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        match self {
            Node::Supervisor(s) => &s.spec.name,
            Node::Service(s) => s.name(),
        }
    }

    /// The store id.
    pub fn id(&self) -> String {
        match self {
            Node::Supervisor(s) => md5_hex(&s.spec.name),
            Node::Service(s) => s.id(),
        }
    }

    /// Starts it (services only if they do not run), as the pre-run of `start`.
    pub fn start(&mut self, careful: bool) -> Result<()> {
        match self {
            Node::Supervisor(s) => s.start(),
            Node::Service(s) => s.cond_start(careful).map(drop),
        }
    }

    /// Stops it.
    pub fn stop(&mut self, careful: bool) -> Result<()> {
        match self {
            Node::Supervisor(s) => {
                s.stop();
                Ok(())
            }
            Node::Service(s) => s.cond_stop(careful).map(drop),
        }
    }

    /// The `check` tree: whether all is as expected, and the indented lines.
    pub fn check(&mut self, depth: usize, lines: &mut Vec<String>) -> bool {
        let pad = "  ".repeat(depth);
        match self {
            Node::Service(s) => {
                let (ok, line) = s.check();
                lines.push(format!("{pad}{line}"));
                ok
            }
            Node::Supervisor(s) => {
                let at = lines.len();
                let mut ok = true;
                for c in &mut s.children {
                    ok &= c.check(depth + 1, lines);
                }
                let head = if ok {
                    format!("{pad}{}: OK, as expected", s.spec.name)
                } else {
                    format!("{pad}{}: WARNING, not expected", s.spec.name)
                };
                lines.insert(at, head);
                ok
            }
        }
    }

    /// The node at a path (`top/sub/svc`, starting with this node's name).
    pub fn find(&mut self, path: &[&str]) -> Option<&mut Node> {
        let (first, rest) = path.split_first()?;
        if *first != self.name() {
            return None;
        }
        if rest.is_empty() {
            return Some(self);
        }
        match self {
            Node::Supervisor(s) => s.children.iter_mut().find_map(|c| c.find(rest)),
            Node::Service(_) => None,
        }
    }

    /// The store entry: supervisors with their cycles and children, services by name.
    pub fn dump(&self) -> serde_json::Value {
        match self {
            Node::Service(s) => serde_json::json!({ "name": s.name() }),
            Node::Supervisor(s) => {
                let mut children = serde_json::Map::new();
                for c in &s.children {
                    children.insert(c.id(), c.dump());
                }
                serde_json::json!({
                    "name": s.spec.name,
                    "cycles": s.cycles.iter().map(|(t, a)| serde_json::json!([t, a])).collect::<Vec<_>>(),
                    "children": children,
                })
            }
        }
    }

    /// Takes back what a store says (cycle history), matching nodes by id.
    pub fn load(&mut self, v: &serde_json::Value) -> Result<()> {
        let Node::Supervisor(s) = self else {
            return Ok(());
        };
        if let Some(cycles) = v.get("cycles") {
            let list = cycles
                .as_array()
                .ok_or_else(|| bad_store("cycles is not a list"))?;
            s.cycles.clear();
            for c in list {
                let t = c.get(0).and_then(|t| t.as_f64());
                let a = c.get(1).and_then(|a| a.as_bool());
                match (t, a) {
                    (Some(t), Some(a)) => s.cycles.push((t, a)),
                    _ => return Err(bad_store("a cycle is not [time, adjusted]")),
                }
            }
            let w = s.spec.window;
            if s.cycles.len() > w {
                s.cycles.drain(..s.cycles.len() - w);
            }
        }
        if let Some(children) = v.get("children") {
            let map = children
                .as_object()
                .ok_or_else(|| bad_store("children is not an object"))?;
            for c in &mut s.children {
                if let Some(cv) = map.get(&c.id()) {
                    c.load(cv)?;
                }
            }
        }
        Ok(())
    }

    /// `status --json`.
    pub fn state_json(&mut self) -> serde_json::Value {
        match self {
            Node::Service(s) => s.state_json(),
            Node::Supervisor(s) => serde_json::json!({
                "type": "supervisor",
                "name": s.spec.name,
                "strategy": s.spec.strategy.as_str(),
                "adjusted_cycles": s.cycles.iter().filter(|c| c.1).count(),
                "window": s.spec.window,
                "adjustments": s.spec.adjustments,
                "children": s.children.iter_mut().map(Node::state_json).collect::<Vec<_>>(),
            }),
        }
    }

    /// Owned children that ended since the last call: restarts (now or after a backoff) as
    /// their supervisor's strategy says. `false` when the intensity limit failed this node
    /// (it has stopped its children).
    pub fn handle_exits(&mut self) -> bool {
        match self {
            Node::Service(_) => true,
            Node::Supervisor(s) => s.handle_exits(),
        }
    }

    /// Starts owned services whose backoff has run out; returns the earliest pending one.
    pub fn due_restarts(&mut self, now: Instant) -> Option<Instant> {
        match self {
            Node::Service(s) => match s.next_start {
                Some(t) if t <= now => {
                    if s.wanted() {
                        let o = s.start();
                        info!(
                            "service {} restarted after its backoff: rc {}",
                            s.name(),
                            o.rc
                        );
                    }
                    s.next_start = None;
                    None
                }
                other => other,
            },
            Node::Supervisor(s) => s
                .children
                .iter_mut()
                .filter_map(|c| c.due_restarts(now))
                .min(),
        }
    }
}

fn bad_store(why: &str) -> Error {
    Error::Other(format!("Status file not valid: {why}"))
}

impl Supervisor {
    fn dependent(&self) -> bool {
        self.spec.strategy != Strategy::OneForOne
    }

    /// Starts the children in order (dependent strategies wait for each); the first
    /// service error stops starting the others, as the reference does.
    pub fn start(&mut self) -> Result<()> {
        let careful = self.dependent();
        for c in &mut self.children {
            c.start(careful)?;
        }
        Ok(())
    }

    /// Stops the children: one_for_one in declaration order, the dependent strategies in
    /// reverse order, each waited for. Errors are logged and the others still stopped.
    pub fn stop(&mut self) {
        let careful = self.dependent();
        let order: Vec<usize> = if careful {
            (0..self.children.len()).rev().collect()
        } else {
            (0..self.children.len()).collect()
        };
        for i in order {
            if let Err(e) = self.children[i].stop(careful) {
                error!("{e}");
            }
        }
    }

    fn log_adjustment(&mut self, adjusted: bool) {
        // restarts of owned children done between cycles were counted for maxr/maxt when
        // they happened; for the cycle window they make this cycle an adjusting one, as
        // the reference's next-cycle restart would have
        let pending = std::mem::take(&mut self.pending);
        self.cycles.push((now_epoch(), adjusted || pending));
        let w = self.spec.window;
        if self.cycles.len() > w {
            self.cycles.drain(..self.cycles.len() - w);
        }
        if adjusted {
            self.restarts.push_back(Instant::now());
        }
    }

    /// Whether the restart intensity is exceeded: more than `adjustments` adjusting cycles
    /// in the last `window`, or (new) more than `maxr` restarts within `maxt` seconds.
    pub fn failed(&mut self) -> bool {
        let adjusted = self.cycles.iter().filter(|c| c.1).count();
        if adjusted > self.spec.adjustments {
            error!(
                "{} handled {adjusted} adjustments in {} supervision cycles",
                self.spec.name, self.spec.window
            );
            return true;
        }
        self.time_failed()
    }

    fn time_failed(&mut self) -> bool {
        let (Some(maxr), Some(maxt)) = (self.spec.maxr, self.spec.maxt) else {
            return false;
        };
        let period = Duration::from_secs_f64(maxt);
        while self.restarts.front().is_some_and(|t| t.elapsed() > period) {
            self.restarts.pop_front();
        }
        if self.restarts.len() > maxr as usize {
            error!(
                "{} handled {} restarts in {maxt} seconds (maxr {maxr})",
                self.spec.name,
                self.restarts.len()
            );
            return true;
        }
        false
    }

    /// One supervision cycle; `false` when the intensity limit made this supervisor fail
    /// (its children are then stopped).
    pub fn supervise(&mut self, counts: &mut Counts) -> bool {
        let ok = if self.dependent() {
            self.supervise_dependent(counts)
        } else {
            self.supervise_one_for_one(counts)
        };
        if !ok {
            self.stop();
        }
        ok
    }

    fn supervise_one_for_one(&mut self, counts: &mut Counts) -> bool {
        // the services' status commands run at the same time, so that one slow command does
        // not hold up its siblings (nor the cycle's heartbeat) for its whole timeout
        let statuses: Vec<Option<i32>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .children
                .iter_mut()
                .map(|c| match c {
                    Node::Service(s) => Some(scope.spawn(move || s.status().rc)),
                    Node::Supervisor(_) => None,
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.map(|h| h.join().unwrap_or(1)))
                .collect()
        });
        let mut logged = false;
        for (i, status) in statuses.into_iter().enumerate() {
            let adjusted = match &mut self.children[i] {
                Node::Supervisor(sub) => {
                    if sub.supervise(counts) {
                        false
                    } else {
                        info!("supervisor {} stopped, starting it", sub.spec.name);
                        if let Err(e) = sub.start() {
                            error!("{e}");
                        }
                        true
                    }
                }
                Node::Service(s) => match s.cond_adjust_after(status.unwrap_or(1), false) {
                    Ok(Some(_)) => {
                        counts.adjusted += 1;
                        true
                    }
                    Ok(None) => {
                        counts.ok += 1;
                        false
                    }
                    Err(e) => {
                        error!("{e}");
                        counts.failed += 1;
                        true
                    }
                },
            };
            if adjusted && !logged {
                logged = true;
                self.log_adjustment(true);
                if self.failed() {
                    return false;
                }
            }
        }
        if !logged {
            self.log_adjustment(false);
            if self.failed() {
                return false;
            }
        }
        true
    }

    /// Stops `from..` (one_for_all: everything) in reverse order and starts it in order.
    fn apply_dependent(&mut self, i: usize) -> Result<()> {
        let from = match self.spec.strategy {
            Strategy::RestForOne => i,
            _ => 0,
        };
        info!(
            "applying {} strategy because of: {}",
            self.spec.strategy.as_str(),
            self.children[i].name()
        );
        for j in (from..self.children.len()).rev() {
            self.children[j].stop(true)?;
        }
        for j in from..self.children.len() {
            self.children[j].start(true)?;
        }
        Ok(())
    }

    fn supervise_dependent(&mut self, counts: &mut Counts) -> bool {
        let mut logged = false;
        for i in 0..self.children.len() {
            let to_adjust = match &mut self.children[i] {
                Node::Supervisor(sub) => !sub.supervise(counts),
                Node::Service(s) => {
                    let (ok, _) = s.check();
                    if ok {
                        counts.ok += 1;
                    }
                    !ok
                }
            };
            if !to_adjust {
                continue;
            }
            let mut interrupt = false;
            match self.apply_dependent(i) {
                Ok(()) => counts.adjusted += 1,
                Err(e) => {
                    error!("{e}");
                    // the reference miscounts this (adjusted + 1); a failure is one failure
                    counts.failed += 1;
                    interrupt = true;
                }
            }
            if !logged {
                logged = true;
                self.log_adjustment(true);
                if self.failed() {
                    return false;
                }
            }
            if interrupt {
                debug!(
                    "interrupting supervision cycle because of a service error, failure recorded"
                );
                return true;
            }
        }
        if !logged {
            self.log_adjustment(false);
            if self.failed() {
                return false;
            }
        }
        true
    }

    fn handle_exits(&mut self) -> bool {
        for i in 0..self.children.len() {
            let exit: Option<Exit> = match &mut self.children[i] {
                Node::Supervisor(sub) => {
                    if !sub.handle_exits() {
                        // escalation: the failed supervisor stopped its children
                        info!("supervisor {} stopped, starting it", sub.spec.name);
                        if let Err(e) = sub.start() {
                            error!("{e}");
                        }
                        self.pending = true;
                        self.restarts.push_back(Instant::now());
                        if self.failed_now() {
                            return false;
                        }
                    }
                    None
                }
                Node::Service(s) => s.child.and_then(|c| crate::process::take(c.pid)),
            };
            let Some(exit) = exit else { continue };
            let Node::Service(s) = &mut self.children[i] else {
                continue;
            };
            let Some(delay) = s.exited(exit) else {
                continue;
            };
            self.pending = true;
            self.restarts.push_back(Instant::now());
            if self.failed_now() {
                return false;
            }
            if self.dependent() {
                if let Err(e) = self.apply_dependent(i) {
                    error!("{e}");
                }
            } else if delay.is_zero() {
                let Node::Service(s) = &mut self.children[i] else {
                    continue;
                };
                let o = s.start();
                info!("service {} restarted at once: rc {}", s.name(), o.rc);
            } else {
                let Node::Service(s) = &mut self.children[i] else {
                    continue;
                };
                info!(
                    "service {} restarts in {:.3}s (backoff)",
                    s.name(),
                    delay.as_secs_f64()
                );
                s.next_start = Some(Instant::now() + delay);
            }
        }
        true
    }

    /// Intensity check for a restart done between cycles: maxr/maxt at once (the cycle
    /// window sees it at the next cycle).
    fn failed_now(&mut self) -> bool {
        if self.time_failed() {
            self.stop();
            return true;
        }
        false
    }
}
