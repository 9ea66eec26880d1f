//! Several workers: one child process each (this program again, with
//! `--ams-publisher-worker NAME`), as ams-publisherd runs one process a worker. A worker
//! that ends does not end the others (ams-publisherd keeps running without a worker that
//! gave up); TERM, INT and HUP are passed on to the children; the run ends when they all
//! have, with the status of the first that failed (0 when none did).

use std::ffi::OsString;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;
use procctl::Outcome;
use procctl::liveness::{Target, signal};

use crate::cli::Cli;

const NAME: &str = "amsclt";

/// The run of every worker when `argv` names an ams-publisher configuration of more than
/// one worker and no `--ams-publisher-worker`; `None` otherwise (one transfer, run as
/// usual).
pub fn workers(argv: &[OsString]) -> Option<Outcome> {
    let cli = Cli::try_parse_from(argv).ok()?;
    let path = cli.ams_publisher.as_ref()?;
    if cli.ams_publisher_worker.is_some() {
        return None;
    }
    // an unreadable file is reported by the usual run
    let workers = super::read(path).ok()?;
    if workers.len() < 2 {
        return None;
    }
    let a = &cli.agent;
    let single = [
        ("daemon", a.daemon),
        ("pidfile", a.pidfile.is_some()),
        ("status", a.status),
        ("quit", a.quit),
        ("metrics-listen", a.metrics.metrics_listen.is_some()),
        ("metrics-file", a.metrics.metrics_file.is_some()),
    ];
    if let Some((opt, _)) = single.iter().find(|(_, given)| *given) {
        return Some(Outcome::failed(
            NAME,
            agent::exit::USAGE,
            format!(
                "option {opt} is for one worker and {} has {}: run each with \
                 --ams-publisher-worker NAME (the amsclt@ unit does)",
                path.display(),
                workers.len()
            ),
        ));
    }
    let names: Vec<String> = workers.into_iter().map(|w| w.name).collect();
    Some(run(argv, &names))
}

fn run(argv: &[OsString], names: &[String]) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    if let Err(e) = procctl::signals::flag(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP], &stop) {
        return Outcome::failed(NAME, agent::exit::USAGE, procctl::error_line(&e));
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            return Outcome::failed(NAME, agent::exit::USAGE, format!("cannot find myself: {e}"));
        }
    };
    let mut children: Vec<(String, Option<Child>)> = Vec::new();
    let mut worst = agent::exit::OK;
    for name in names {
        let spawned = Command::new(&exe)
            .args(&argv[1..])
            .arg("--ams-publisher-worker")
            .arg(name)
            .spawn();
        match spawned {
            Ok(c) => children.push((name.clone(), Some(c))),
            Err(e) => {
                agent::log::warn(format_args!("cannot start worker {name}: {e}"));
                worst = agent::exit::USAGE;
            }
        }
    }
    let mut told = false;
    while children.iter().any(|(_, c)| c.is_some()) {
        if stop.load(Ordering::Relaxed) && !told {
            told = true;
            for (_, c) in &children {
                if let Some(c) = c {
                    signal(Target::Pid(c.id() as i32), libc::SIGTERM);
                }
            }
        }
        for (name, slot) in &mut children {
            let Some(child) = slot else { continue };
            if let Ok(Some(status)) = child.try_wait() {
                // a worker killed by a signal counts as a transfer that failed
                let code = status.code().unwrap_or(agent::exit::PROTOCOL);
                if code != agent::exit::OK {
                    agent::log::warn(format_args!(
                        "worker {name} ended with status {code}; the others go on"
                    ));
                    if worst == agent::exit::OK {
                        worst = code;
                    }
                }
                *slot = None;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Outcome::lines(NAME, worst, Vec::new())
}
