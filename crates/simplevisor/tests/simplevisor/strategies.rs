//! Strategies, start and stop orders, intensity and escalation.

use super::*;

#[test]
fn strategies_restart_in_order_and_sigterm_stops_in_reverse() {
    let sv = Sv::new();
    let ctl = sv.ctl();
    let svc = |n: &str| service(n, &format!("control = {ctl} {n}"));
    sv.conf(
        "interval = 1",
        &supervisor(
            "top",
            "",
            &[
                svc("x"),
                supervisor("sub", "strategy = rest_for_one", &[svc("a"), svc("b")]),
                supervisor("all", "strategy = one_for_all", &[svc("p"), svc("q")]),
            ],
        ),
    );
    let mut child = sv.start();
    wait_until("every service started", Duration::from_secs(10), || {
        sv.events().len() >= 5
    });
    assert_eq!(
        sv.events(),
        ["start x", "start a", "start b", "start p", "start q"]
    );
    std::fs::remove_file(sv.path("events")).expect("rm");
    // rest_for_one: a dies → b stopped (a, dead, needs no stop), a and b started again
    assert_eq!(
        sv.kill_and_events("a", 3, "rest_for_one"),
        ["stop b", "start a", "start b"]
    );
    // one_for_all: p dies → q stopped, p and q started in order
    assert_eq!(
        sv.kill_and_events("p", 3, "one_for_all"),
        ["stop q", "start p", "start q"]
    );
    // one_for_one: x dies → only x
    assert_eq!(sv.kill_and_events("x", 1, "one_for_one"), ["start x"]);
    // SIGTERM: one_for_one in declaration order, the dependent ones in reverse
    // SAFETY: our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().expect("wait").success());
    assert_eq!(
        sv.events(),
        ["stop x", "stop b", "stop a", "stop q", "stop p"]
    );
    assert!(
        sv.log().contains("1 services needed adjustment"),
        "{}",
        sv.log()
    );
    let store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sv.path("store.json")).expect("store"))
            .expect("json");
    // md5("top"), as the reference names the root
    assert!(
        store.get("b28354b543375bfa94dabaeda722927f").is_some(),
        "{store}"
    );
}

#[test]
fn intensity_exceeded_escalates_and_the_root_fails() {
    let sv = Sv::new();
    // a service that never comes up: its status always says stopped
    let never = |n: &str| service(n, "start = /bin/true\nstatus = /bin/sh -c exit%203");
    sv.conf(
        "interval = 0",
        &supervisor(
            "top",
            "window = 10\nadjustments = 1",
            &[supervisor(
                "inner",
                "window = 10\nadjustments = 1",
                &[never("bad")],
            )],
        ),
    );
    let out = sv.cmd(&["start"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("supervision interrupted/failed"), "{err}");
    let log = sv.log();
    assert!(
        log.contains("inner handled 2 adjustments in 10 supervision cycles"),
        "{log}"
    );
    assert!(
        log.contains("supervisor inner stopped, starting it"),
        "{log}"
    );
    assert!(
        log.contains("top handled 2 adjustments in 10 supervision cycles"),
        "{log}"
    );
    assert!(
        !sv.path("sv.pid").exists(),
        "the pidfile is removed on failure too"
    );

    // OTP intensity in seconds: a crashing foreground program, maxr 3 in 60 s
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "maxr = 3\nmaxt = 60",
            &[service(
                "crash",
                "start = /bin/sh -c exit%201\nforeground = yes\nbackoff = 0.01",
            )],
        ),
    );
    let t = Instant::now();
    let out = sv.cmd(&["start"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(t.elapsed() < Duration::from_secs(30));
    assert!(
        sv.log()
            .contains("top handled 4 restarts in 60 seconds (maxr 3)"),
        "{}",
        sv.log()
    );
}
