//! Owned children restarted at once, restart types and backoff, concurrent status commands.

use super::*;

#[test]
fn a_killed_foreground_child_is_restarted_at_once_not_at_the_next_cycle() {
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service("fg", "start = /bin/sleep 1000\nforeground = yes")],
        ),
    );
    let child = sv.start();
    let mut latencies = Vec::new();
    for _ in 0..5 {
        let old = sv.pid(&["fg"]).expect("running");
        // SAFETY: a pid of our own test's tree.
        unsafe { libc::kill(old, libc::SIGKILL) };
        let t = Instant::now();
        // the interval is an hour: only the SIGCHLD path can restart it in time
        wait_until("the restart", Duration::from_secs(10), || {
            sv.pid(&["fg"]).is_some_and(|p| p != old)
        });
        latencies.push(t.elapsed());
        // the first restart is immediate, later quick crashes back off: let it settle
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("restart latencies seen through status --json: {latencies:?}");
    assert!(sv.log().contains("exited with signal 9"), "{}", sv.log());
    let j = sv.json();
    assert_eq!(j["tree"]["children"][0]["restarts"], 5);
    stop(&sv, child);
    assert!(!sv.path("sv.pid").exists(), "pidfile removed at exit");
}

#[test]
fn foreground_children_do_not_outlive_a_killed_simplevisor() {
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[
                service("fg", "start = /bin/sleep 1000\nforeground = yes"),
                service(
                    "kept",
                    &format!("start = /bin/sleep 1000\ndaemon = {}", sv.p("kept.pid")),
                ),
            ],
        ),
    );
    let mut child = sv.start();
    let fg = sv.pid(&["fg"]).expect("fg");
    let kept = sv.pid(&["kept"]).expect("kept");
    // SIGKILL: no cleanup possible, yet the foreground child, which nobody could adopt,
    // goes with it; the daemon = PIDFILE one stays for the next simplevisor to adopt
    child.kill().expect("kill");
    child.wait().expect("wait");
    wait_until("the foreground child gone", Duration::from_secs(5), || {
        !alive(fg)
    });
    assert!(alive(kept));
    let child = sv.start();
    assert_eq!(
        sv.pid(&["kept"]),
        None,
        "adopted, not ours: no pid in the tree"
    );
    let out = sv.cmd(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    stop(&sv, child);
    assert!(
        !alive(kept),
        "stop reaches the adopted program through its pidfile"
    );
}

#[test]
fn restart_types_and_backoff() {
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[
                service(
                    "clean",
                    "start = /bin/sh -c sleep%200.2\nforeground = yes\nrestart_type = transient",
                ),
                service(
                    "once",
                    "start = /bin/sh -c exit%201\nforeground = yes\nrestart_type = temporary",
                ),
                service(
                    "crashy",
                    "start = /bin/sh -c sleep%200.05;exit%202\nforeground = yes\nrestart_type = transient\nbackoff = 0.2\nbackoff_max = 0.4",
                ),
            ],
        ),
    );
    let child = sv.start();
    wait_until("clean and once finished", Duration::from_secs(10), || {
        let j = sv.json();
        let c = &j["tree"]["children"];
        c[0]["finished"] == true && c[1]["finished"] == true
    });
    std::thread::sleep(Duration::from_millis(1500));
    let j = sv.json();
    let c = &j["tree"]["children"];
    assert_eq!(c[0]["restarts"], 0, "{j}");
    assert_eq!(c[1]["restarts"], 0, "{j}");
    // crashy: restarted, with growing delays: 0, 0.2, 0.4, 0.4 … → a handful in 1.5 s,
    // not the ~25 an unthrottled loop would do
    let r = c[2]["restarts"].as_u64().expect("restarts");
    assert!((2..=8).contains(&r), "{r} restarts: {j}");
    assert!(sv.log().contains("(backoff)"), "{}", sv.log());
    let out = sv.cmd(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("clean: OK, finished"), "{text}");
    stop(&sv, child);
}

#[test]
fn status_commands_of_siblings_run_concurrently() {
    let sv = Sv::new();
    // four services whose status command takes 2 s each: one after the other, a cycle would
    // take 8 s
    let slow = |n: &str| service(n, "start = /bin/true\nstatus = /bin/sh -c sleep%202");
    sv.conf(
        "interval = 3600",
        &supervisor("top", "", &[slow("a"), slow("b"), slow("c"), slow("d")]),
    );
    let out = sv.cmd(&["single"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let log = sv.log();
    let secs: f64 = log
        .split("supervision cycle executed successfully in ")
        .nth(1)
        .and_then(|r| r.split('s').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no cycle line: {log}"));
    assert!(
        secs < 6.0,
        "a cycle of four 2-second status commands took {secs}s"
    );
    assert!(log.contains("4 services OK"), "{log}");
}

#[test]
fn many_quick_status_commands_at_once_never_lose_an_exit() {
    // sixteen siblings whose status commands end at once, taken concurrently: every exit
    // must reach the thread waiting for it, however the reaping interleaves
    let sv = Sv::new();
    let quick: Vec<String> = (0..16)
        .map(|i| service(&format!("s{i}"), "start = /bin/true\nstatus = /bin/true"))
        .collect();
    sv.conf("interval = 3600", &supervisor("top", "", &quick));
    for round in 0..15 {
        let mut child = sv
            .command()
            .arg("single")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().expect("try_wait") {
                break s;
            }
            if t.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("round {round}: single hung (a status exit was lost)");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(status.success(), "round {round}: {status:?}");
    }
}

#[test]
fn a_failed_service_action_is_logged_once() {
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service(
                "bad",
                "start = /bin/sh -c \"echo failing >&2; exit 3\"\nstatus = /bin/false",
            )],
        ),
    );
    // both the start at launch and a supervision cycle meet the failing start
    let child = sv.start();
    stop(&sv, child);
    assert_eq!(sv.cmd(&["single"]).status.code(), Some(0));
    let log = sv.log();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("[ERROR]")).collect();
    assert_eq!(errors.len(), 2, "{log}");
    for e in errors {
        assert!(
            e.ends_with("error during service bad action stop+start: (3, \"\", \"failing\")"),
            "{e}"
        );
    }
}
