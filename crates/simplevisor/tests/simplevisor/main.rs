//! simplevisor run as a process, supervising real processes (shell scripts, sleep, a
//! stompclt transfer): service modes, strategies, intensity and escalation, restarts on
//! SIGKILL, process-group kills, signals, daemon life cycle, reload, bad input.
//!
//! One test binary, its tests split by topic; what other binaries' tests share comes from
//! the test-support crate.

mod config;
mod daemon;
mod metrics;
mod others;
mod restarts;
mod stopping;
mod strategies;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use test_support::bin::one_line_error;
pub use test_support::process::{alive, group_alive, need_root, wait_until};
pub use test_support::syslog::SyslogCatcher;

struct Sv {
    dir: tempfile::TempDir,
}

impl Drop for Sv {
    /// A failed test must not leave its simplevisor (and its children) running.
    fn drop(&mut self) {
        if let Ok(t) = std::fs::read_to_string(self.path("sv.pid"))
            && let Some(pid) = t.lines().next().and_then(|l| l.trim().parse::<i32>().ok())
        {
            // SAFETY: the pid of this test's simplevisor.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let t = Instant::now();
            while alive(pid) && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn simplevisor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simplevisor"))
}

impl Sv {
    fn new() -> Sv {
        Sv {
            dir: tempfile::tempdir().expect("tmp"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// Writes the configuration with a `<simplevisor>` block pointing into the temp dir.
    fn conf(&self, globals: &str, entry: &str) {
        let text = format!(
            "<simplevisor>\n  pidfile = {}\n  store = {}\n  log = file\n  logfile = {}\n  loglevel = debug\n{globals}\n</simplevisor>\n{entry}\n",
            self.p("sv.pid"),
            self.p("store.json"),
            self.p("sv.log")
        );
        std::fs::write(self.path("sv.conf"), text).expect("conf");
    }

    /// simplevisor with this test's configuration.
    fn command(&self) -> Command {
        let mut c = simplevisor();
        c.arg("--conf").arg(self.path("sv.conf"));
        c
    }

    fn cmd(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run simplevisor")
    }

    fn start(&self) -> Child {
        let child = self
            .command()
            .arg("start")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        wait_until("the control socket", Duration::from_secs(20), || {
            self.path("sv.pid.sock").exists() && self.try_json().is_some()
        });
        child
    }

    fn try_json(&self) -> Option<serde_json::Value> {
        let out = self.cmd(&["status", "--json"]);
        if out.status.code() != Some(0) {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    fn json(&self) -> serde_json::Value {
        self.try_json().unwrap_or_else(|| {
            panic!(
                "status --json: {:?}\n{}",
                self.cmd(&["status", "--json"]),
                self.log()
            )
        })
    }

    /// The pid of a service at a path of names under the root.
    fn pid(&self, names: &[&str]) -> Option<i32> {
        let mut t = self.json()["tree"].clone();
        for n in names {
            t = t["children"]
                .as_array()
                .expect("children")
                .iter()
                .find(|c| c["name"] == *n)
                .expect("child")
                .clone();
        }
        t["pid"].as_i64().map(|p| p as i32)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("sv.log")).unwrap_or_default()
    }

    fn events(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("events"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// An LSB-style control script: `ctl NAME start|stop|status`, a `sleep` per service in
    /// its own session, each action appended to `events`.
    fn ctl(&self) -> String {
        let path = self.path("ctl");
        let d = self.dir.path().display();
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\np={d}/$1.pid\ncase $2 in\n\
                 start) echo \"start $1\" >> {d}/events; setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > $p;;\n\
                 stop) echo \"stop $1\" >> {d}/events; [ -s $p ] && kill $(cat $p) 2>/dev/null; rm -f $p;;\n\
                 status) [ -s $p ] && kill -0 $(cat $p) 2>/dev/null && exit 0; exit 3;;\n\
                 esac\n"
            ),
        )
        .expect("ctl");
        let _ = Command::new("chmod").arg("+x").arg(&path).status();
        path.display().to_string()
    }

    /// SIGKILLs the control script's program of a service, waits for `n` events, returns
    /// them and starts a fresh event list.
    fn kill_and_events(&self, name: &str, n: usize, what: &str) -> Vec<String> {
        // SAFETY: a pid of our own test's tree.
        unsafe { libc::kill(self.ctl_pid(name), libc::SIGKILL) };
        let t = Instant::now();
        while self.events().len() < n {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{what} not applied: {:?}\n{}",
                self.events(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // a moment for anything unexpected to show up too
        std::thread::sleep(Duration::from_millis(100));
        let ev = self.events();
        std::fs::remove_file(self.path("events")).expect("rm");
        ev
    }

    fn ctl_pid(&self, name: &str) -> i32 {
        std::fs::read_to_string(self.path(&format!("{name}.pid")))
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid")
    }
}

fn stop(sv: &Sv, mut child: Child) -> Output {
    let out = sv.cmd(&["stop"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let status = child.wait().expect("wait");
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(status.success(), "simplevisor exited {status:?}: {stderr}");
    out
}

fn service(name: &str, body: &str) -> String {
    format!("<entry>\n type = service\n name = {name}\n{body}\n</entry>\n")
}

fn supervisor(name: &str, extra: &str, children: &[String]) -> String {
    format!(
        "<entry>\n type = supervisor\n name = {name}\n{extra}\n <children>\n{}\n </children>\n</entry>\n",
        children.join("")
    )
}
