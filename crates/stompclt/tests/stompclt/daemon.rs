//! Signals, --daemon, --pidfile, --status and --quit.

use super::*;

#[test]
fn signals_stop_gracefully_and_hup_is_ignored() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(20, "/q"));
    let mut child = stompclt()
        .args(qq_args(
            d.path(),
            &["--loop", "--remove", "--reliable", "-s"],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "HUP must not stop stompclt"
    );
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("processed 20 messages"));
    assert_eq!(drain(&d.path().join("out"), "DQS").len(), 20);
    for sig in ["-INT", "-QUIT"] {
        let mut child = stompclt()
            .args(qq_args(d.path(), &["--loop"]))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(500));
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .expect("kill");
        assert_eq!(child.wait().expect("wait").code(), Some(0), "{sig}");
    }
}

/// Running, not a zombie (an orphaned daemon may wait a while for init to reap it).
fn pid_alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn daemon_pidfile_status_quit_lifecycle() {
    let d = tmp();
    let pf = p(&d.path().join("stompclt.pid"));
    std::fs::create_dir_all(d.path().join("in")).expect("mkdir");
    let status = |want: i32| {
        let out = run(&["--status".into(), "--pidfile".into(), pf.clone()]);
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(want), "status: {line}");
        line
    };
    assert_eq!(status(3).trim(), "stompclt is not running");
    let out = ok(&qq_args(
        d.path(),
        &["--loop", "--remove", "--daemon", "--pidfile", &pf],
    ));
    let pid = out
        .trim()
        .strip_prefix("stompclt (pid ")
        .and_then(|r| r.strip_suffix(") started"))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    assert_eq!(std::fs::read_to_string(&pf).expect("pidfile").trim(), pid);
    assert_eq!(status(0).trim(), format!("stompclt (pid {pid}) is running"));
    // the daemon works: what is spooled now is moved
    fill(&d.path().join("in"), "DQS", &mixed(5, "/q"));
    let start = Instant::now();
    let mut moved = 0;
    while moved < 5 && start.elapsed() < Duration::from_secs(10) {
        moved += drain(&d.path().join("out"), "DQS").len();
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(moved, 5, "the daemon moves what is spooled");
    // a second instance on the same pidfile is refused
    let second = run(&qq_args(d.path(), &["--loop", "--pidfile", &pf]));
    assert_eq!(
        second.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let out = ok(&["--quit".into(), "--pidfile".into(), pf.clone()]);
    assert!(
        out.contains("is being told to quit") && out.contains("has quit"),
        "{out}"
    );
    assert!(!pid_alive(&pid));
    assert!(!Path::new(&pf).exists());
    status(3);
    // a pidfile left by SIGKILL is seen as dead, then replaced by the next start
    let mut child = stompclt()
        .args(qq_args(d.path(), &["--loop", "--pidfile", &pf]))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert!(status(1).contains("is dead"));
    let again = stompclt()
        .args(qq_args(d.path(), &["--loop", "--pidfile", &pf]))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    status(0);
    ok(&["--quit".into(), "--pidfile".into(), pf.clone()]);
    let out = again.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("removing stale pid file"));
}

/// Once detached, the daemon's standard error is /dev/null: its warnings and its final error
/// go to syslog (facility user), as the reference logs.
#[test]
fn root_a_daemon_warns_and_fails_through_syslog() {
    let d = tmp();
    let pf = p(&d.path().join("stompclt.pid"));
    // a pidfile left by a process that is gone: replaced, with a warning
    std::fs::write(&pf, "999999999\n").expect("stale pidfile");
    std::fs::create_dir_all(d.path().join("in")).expect("mkdir");
    let log = SyslogCatcher::new(d.path());
    let out = log
        .command(STOMPCLT)
        .args(qq_args(
            d.path(),
            &["--loop", "--remove", "--daemon", "--pidfile", &pf],
        ))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let warned = log.lines_until(|l| l.contains("removing stale pid file"));
    let line = warned.last().expect("a syslog line");
    // facility user (1 << 3) + warning (4), the ident with the pid
    assert!(line.starts_with("<12>"), "{warned:?}");
    assert!(line.contains("stompclt["), "{line}");
    // a corrupt element stops the daemon (exit 6): the error goes to syslog too
    let q = d.path().join("in");
    dirq::QueueSimple::new(&q)
        .expect("open")
        .add(b"not a message")
        .expect("add");
    let failed = log.lines_until(|l| l.contains("incoming queue"));
    let line = failed.last().expect("a syslog line");
    // user (8) + err (3)
    assert!(line.starts_with("<11>"), "{failed:?}");
    test_support::process::wait_until("the daemon to stop", Duration::from_secs(10), || {
        !Path::new(&pf).exists()
    });
}
