//! What the supervision tree shows operators: per service its state, restarts, last exit
//! status, time since start and backoff; per supervisor the adjusted cycles in its window;
//! simplevisor's own memory. The main loop takes a snapshot ([`snapshot`]) about twice a
//! second; the `/metrics` listener and the textfile writer read the latest one.

use std::time::{Instant, SystemTime};

use metrics::Exposition;

use crate::supervisor::Node;

/// One service, by its path in the tree.
struct ServiceRow {
    path: String,
    up: bool,
    expected: bool,
    restarts: u64,
    last_exit: Option<i32>,
    uptime: Option<f64>,
    backoff: Option<f64>,
}

/// One supervisor, by its path in the tree.
struct SupervisorRow {
    path: String,
    adjusted: usize,
    window: usize,
    adjustments: usize,
}

fn walk(
    node: &Node,
    parent: &str,
    now: Instant,
    sv: &mut Vec<ServiceRow>,
    sup: &mut Vec<SupervisorRow>,
) {
    match node {
        Node::Service(s) => sv.push(ServiceRow {
            path: format!("{parent}{}", s.name()),
            up: s.seen_running(),
            expected: s.spec.expected_running,
            restarts: s.restarts,
            last_exit: s.last_exit.map(|e| e.rc()),
            uptime: s.child.map(|c| c.since.elapsed().as_secs_f64()),
            backoff: s
                .next_start
                .map(|t| t.saturating_duration_since(now).as_secs_f64()),
        }),
        Node::Supervisor(s) => {
            let path = format!("{parent}{}", s.spec.name);
            sup.push(SupervisorRow {
                path: path.clone(),
                adjusted: s.cycles.iter().filter(|c| c.1).count(),
                window: s.spec.window,
                adjustments: s.spec.adjustments,
            });
            for c in &s.children {
                walk(c, &format!("{path}/"), now, sv, sup);
            }
        }
    }
}

/// Resident memory of this process, from /proc/self/statm (pages × page size).
fn rss_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page.max(1) as f64)
}

/// The tree's figures now (no command is run: services simplevisor does not own show the
/// status the last cycle found).
pub fn snapshot(root: &Node, started: SystemTime) -> Exposition {
    let (mut sv, mut sup) = (Vec::new(), Vec::new());
    walk(root, "", Instant::now(), &mut sv, &mut sup);
    let mut e = Exposition::new();
    let f = e.gauge(
        "simplevisor_service_up",
        "1 while the service runs (owned: its child is there; others: the last cycle's status), else 0.",
    );
    for r in &sv {
        f.sample(&[("service", &r.path)], f64::from(u8::from(r.up)));
    }
    let f = e.gauge(
        "simplevisor_service_expected_up",
        "1 when the configuration expects the service running, 0 when stopped.",
    );
    for r in &sv {
        f.sample(&[("service", &r.path)], f64::from(u8::from(r.expected)));
    }
    let f = e.counter(
        "simplevisor_service_restarts_total",
        "Restarts of an owned service after its program ended.",
    );
    for r in &sv {
        f.sample(&[("service", &r.path)], r.restarts as f64);
    }
    let f = e.gauge(
        "simplevisor_service_last_exit_status",
        "How the owned service's program last ended: its exit code, or 128 + the signal.",
    );
    for r in &sv {
        if let Some(rc) = r.last_exit {
            f.sample(&[("service", &r.path)], f64::from(rc));
        }
    }
    let f = e.gauge(
        "simplevisor_service_uptime_seconds",
        "Seconds since the owned service's program was started.",
    );
    for r in &sv {
        if let Some(u) = r.uptime {
            f.sample(&[("service", &r.path)], u);
        }
    }
    let f = e.gauge(
        "simplevisor_service_backoff_seconds",
        "Seconds left before a restart held back by the backoff (0: none in force).",
    );
    for r in &sv {
        f.sample(&[("service", &r.path)], r.backoff.unwrap_or(0.0));
    }
    let f = e.gauge(
        "simplevisor_supervisor_adjusted_cycles",
        "Supervision cycles that adjusted a child, among the last `window` cycles.",
    );
    for r in &sup {
        f.sample(&[("supervisor", &r.path)], r.adjusted as f64);
    }
    let f = e.gauge(
        "simplevisor_supervisor_window_cycles",
        "The supervisor's window (cycles looked at).",
    );
    for r in &sup {
        f.sample(&[("supervisor", &r.path)], r.window as f64);
    }
    let f = e.gauge(
        "simplevisor_supervisor_adjustments_allowed",
        "Adjusted cycles allowed in the window before the supervisor fails.",
    );
    for r in &sup {
        f.sample(&[("supervisor", &r.path)], r.adjustments as f64);
    }
    if let Some(rss) = rss_bytes() {
        e.gauge(
            "simplevisor_resident_memory_bytes",
            "simplevisor's own resident memory.",
        )
        .sample(&[], rss);
    }
    let t = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    e.gauge(
        "simplevisor_start_time_seconds",
        "When simplevisor started, seconds since the epoch.",
    )
    .sample(&[], t.as_secs_f64());
    e.gauge(
        "simplevisor_build_info",
        "simplevisor's version (always 1).",
    )
    .sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    e
}
