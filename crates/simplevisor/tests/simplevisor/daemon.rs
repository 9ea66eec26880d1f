//! The daemon: start/status/stop, the pidfile actions, HUP reload, the SysV wrapper, systemd notify, syslog.

use super::*;

#[test]
fn daemon_start_status_stop_and_a_stale_pidfile() {
    let sv = Sv::new();
    let ctl = sv.ctl();
    sv.conf(
        "interval = 1",
        &supervisor("top", "", &[service("c", &format!("control = {ctl} c"))]),
    );
    let out = sv.cmd(&["--daemon", "start"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let pid: i32 = text
        .trim()
        .strip_prefix("simplevisor (pid ")
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    let out = sv.cmd(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("was active on"));
    assert_eq!(sv.cmd(&["check"]).status.code(), Some(0));
    // a second one refuses, before starting anything
    let out = sv.cmd(&["--daemon", "start"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already running"));
    // SIGKILL: the pidfile stays, stale
    // SAFETY: the daemon we started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    wait_until("the daemon gone", Duration::from_secs(5), || !alive(pid));
    assert!(sv.path("sv.pid").exists());
    assert_eq!(sv.cmd(&["status"]).status.code(), Some(3));
    // a new start takes the stale pidfile over and adopts the running service
    let out = sv.cmd(&["--daemon", "start"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(sv.log().contains("was stale"), "{}", sv.log());
    assert_eq!(
        sv.events().iter().filter(|e| *e == "start c").count(),
        1,
        "{:?}",
        sv.events()
    );
    let out = sv.cmd(&["stop"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(sv.cmd(&["status"]).status.code(), Some(3));
    assert_eq!(sv.events().last().map(String::as_str), Some("stop c"));
    assert!(!sv.path("sv.pid").exists());
}

#[test]
fn pidfile_actions_wake_up_stop_children_restart_child_and_stop_supervisor() {
    let sv = Sv::new();
    let ctl = sv.ctl();
    // JSON this time, the reference's other format
    let conf = serde_json::json!({
        "simplevisor": {
            "pidfile": sv.p("sv.pid"), "store": sv.p("store.json"), "interval": "3600",
            "log": "file", "logfile": sv.p("sv.log"), "loglevel": "debug"
        },
        "entry": {"type": "supervisor", "name": "top", "adjustments": "100", "children": {"entry": [
            {"type": "service", "name": "x", "control": format!("{ctl} x")},
            {"type": "service", "name": "y", "control": format!("{ctl} y")}
        ]}}
    });
    std::fs::write(sv.path("sv.json"), conf.to_string()).expect("json");
    let run = |args: &[&str]| {
        simplevisor()
            .args(["--conftype", "json", "--conf"])
            .arg(sv.path("sv.json"))
            .args(args)
            .output()
            .expect("run")
    };
    let out = run(&["--daemon", "start"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    wait_until("x and y started", Duration::from_secs(10), || {
        sv.events().len() >= 2
    });
    // the interval is an hour: only wake_up can make the next cycle come now
    // SAFETY: a pid of our own test's tree.
    unsafe { libc::kill(sv.ctl_pid("x"), libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(sv.events().len(), 2, "{:?}", sv.events());
    assert_eq!(run(&["wake_up"]).status.code(), Some(0));
    wait_until("x restarted by the cycle", Duration::from_secs(5), || {
        sv.events().last().map(String::as_str) == Some("start x")
    });
    std::fs::remove_file(sv.path("events")).expect("rm");
    assert_eq!(run(&["restart_child", "top/y"]).status.code(), Some(0));
    wait_until("y restarted", Duration::from_secs(5), || {
        sv.events().len() >= 2
    });
    assert_eq!(sv.events(), ["stop y", "start y"]);
    std::fs::remove_file(sv.path("events")).expect("rm");
    assert_eq!(run(&["stop_children"]).status.code(), Some(0));
    wait_until("children stopped", Duration::from_secs(5), || {
        sv.events().len() >= 2
    });
    assert_eq!(sv.events(), ["stop x", "stop y"]);
    assert_eq!(run(&["check"]).status.code(), Some(1));
    assert_eq!(run(&["wake_up"]).status.code(), Some(0));
    wait_until("children started again", Duration::from_secs(5), || {
        sv.events().len() >= 4
    });
    assert_eq!(run(&["check"]).status.code(), Some(0));
    std::fs::remove_file(sv.path("events")).expect("rm");
    // stop_supervisor: simplevisor goes, the children stay; a new start adopts them
    let pid = std::fs::read_to_string(sv.path("sv.pid")).expect("pidfile");
    let pid: i32 = pid.trim().parse().expect("pid");
    assert_eq!(run(&["stop_supervisor"]).status.code(), Some(0));
    assert!(!alive(pid));
    assert!(alive(sv.ctl_pid("x")) && alive(sv.ctl_pid("y")));
    assert!(sv.events().is_empty(), "{:?}", sv.events());
    assert_eq!(run(&["--daemon", "start"]).status.code(), Some(0));
    assert!(
        sv.events().is_empty(),
        "adopted, not restarted: {:?}",
        sv.events()
    );
    assert_eq!(run(&["stop"]).status.code(), Some(0));
    assert_eq!(sv.events(), ["stop x", "stop y"]);
    let out = run(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn hup_reloads_only_what_changed_and_usr_signals_do_not_kill() {
    let sv = Sv::new();
    let entry = |b: &str, extra: &str| {
        supervisor(
            "top",
            "",
            &[
                service("a", "start = /bin/sleep 1000\nforeground = yes"),
                service("b", &format!("start = /bin/sleep {b}\nforeground = yes")),
                extra.to_string(),
            ],
        )
    };
    sv.conf("interval = 3600", &entry("1001", ""));
    let mut child = sv.start();
    let (a, b) = (sv.pid(&["a"]).expect("a"), sv.pid(&["b"]).expect("b"));
    for sig in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGQUIT] {
        // SAFETY: our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "a USR/QUIT signal killed it"
    );
    assert!(alive(a) && alive(b));
    sv.conf(
        "interval = 3600",
        &entry(
            "1002",
            &service("c", "start = /bin/sleep 1003\nforeground = yes"),
        ),
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    wait_until("the reload", Duration::from_secs(10), || {
        sv.log().contains("configuration reloaded")
    });
    assert_eq!(sv.pid(&["a"]), Some(a), "an unchanged service was touched");
    let b2 = sv.pid(&["b"]).expect("b runs");
    assert_ne!(b2, b);
    assert!(!alive(b), "the old b still runs");
    assert!(sv.pid(&["c"]).is_some());
    // a broken configuration is refused and the tree kept
    let good = std::fs::read(sv.path("sv.conf")).expect("conf");
    std::fs::write(sv.path("sv.conf"), "<entry>\n type = bogus\n</entry>\n").expect("write");
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    wait_until("the refusal", Duration::from_secs(10), || {
        sv.log().contains("configuration not reloaded")
    });
    std::fs::write(sv.path("sv.conf"), good).expect("write");
    assert_eq!(sv.pid(&["a"]), Some(a));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().expect("wait").success());
    assert!(!alive(a) && !alive(b2));
}

#[test]
fn simplevisor_control_runs_it_as_a_service_with_the_reference_codes() {
    let sv = Sv::new();
    let ctl = sv.ctl();
    sv.conf(
        "interval = 1",
        &supervisor("top", "", &[service("c", &format!("control = {ctl} c"))]),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/simplevisor-control");
    let control = |args: &[&str], extra: &[(&str, String)]| {
        let mut c = Command::new("sh");
        c.arg(&script)
            .args(args)
            .env("SIMPLEVISOR_NAME", "svtest")
            .env("SIMPLEVISOR_CMD", env!("CARGO_BIN_EXE_simplevisor"))
            .env("SIMPLEVISOR_CONF", sv.path("sv.conf"))
            .env("SIMPLEVISOR_PIDFILE", sv.path("control.pid"))
            .env("SIMPLEVISOR_LOCKFILE", sv.path("lock/svtest"));
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().expect("simplevisor-control")
    };
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(control(&["configtest"], &[]).status.code(), Some(0));
    let out = control(&["start"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out).contains("started"));
    assert!(sv.path("lock/svtest").exists(), "the lock file");
    let out = control(&["status"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // a pidfile older than MAXAGE minutes: stuck, 4
    let out = control(&["status"], &[("SIMPLEVISOR_MAXAGE", "0".into())]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(text(&out).contains("stuck since"), "{}", text(&out));
    assert_eq!(control(&["check"], &[]).status.code(), Some(0));
    assert_eq!(control(&["wake-up"], &[]).status.code(), Some(0));
    assert_eq!(
        control(&["restart-child", "top/c"], &[]).status.code(),
        Some(0)
    );
    wait_until("c restarted", Duration::from_secs(5), || {
        sv.events().iter().filter(|e| *e == "start c").count() >= 2
    });
    assert_eq!(control(&["status", "top/c"], &[]).status.code(), Some(0));
    let out = control(&["stop"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!sv.path("lock/svtest").exists());
    let out = control(&["status"], &[]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(text(&out).contains("not running with return code 3"));
    // the reference's codes for what is missing, and usage
    let out = control(&["status"], &[("SIMPLEVISOR_CONF", sv.p("nope.conf"))]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let out = control(&["status"], &[("SIMPLEVISOR_CMD", sv.p("nope"))]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(control(&["dance"], &[]).status.code(), Some(1));
    assert_eq!(sv.events().last().map(String::as_str), Some("stop c"));
}

#[test]
fn systemd_notify_ready_reloading_and_stopping() {
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service("fg", "start = /bin/sleep 1000\nforeground = yes")],
        ),
    );
    let sock = std::os::unix::net::UnixDatagram::bind(sv.path("notify")).expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut child = simplevisor()
        .arg("--conf")
        .arg(sv.path("sv.conf"))
        .arg("start")
        .env("NOTIFY_SOCKET", sv.path("notify"))
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut buf = [0u8; 256];
    let mut next = || {
        let n = sock.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    // READY only once the children were started
    assert_eq!(next(), format!("READY=1\nMAINPID={}", child.id()));
    assert!(sv.pid(&["fg"]).is_some());
    // SAFETY: our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    assert_eq!(next(), "RELOADING=1");
    assert_eq!(next(), "READY=1");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(next(), "STOPPING=1");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn root_syslog_gets_the_reference_lines_with_facility_daemon() {
    need_root();
    let sv = Sv::new();
    sv.conf(
        "",
        &supervisor(
            "top",
            "",
            &[service("s", "start = /bin/true\nstatus = /bin/true")],
        ),
    );
    let log = SyslogCatcher::new(sv.dir.path());
    let out = log
        .command(env!("CARGO_BIN_EXE_simplevisor"))
        .arg("--conf")
        .arg(sv.path("sv.conf"))
        .args([
            "--log",
            "syslog",
            "--loglevel",
            "info",
            "--logname",
            "svtest",
            "single",
        ])
        .output()
        .expect("run");
    let got = log.lines_until(|l| l.contains("supervision cycle executed"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let started = got
        .iter()
        .find(|l| l.contains("[INFO] supervisor started"))
        .unwrap_or_else(|| panic!("no syslog line: {got:?}"));
    // facility daemon (3 << 3) + info (6), the ident with the pid
    assert!(started.starts_with("<30>"), "{started}");
    assert!(started.contains("svtest["), "{started}");
}
