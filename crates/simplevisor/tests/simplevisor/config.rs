//! Configuration: environment, cwd, path, user, bad files and stores, path commands on the reference example.

use super::*;

#[test]
fn environment_is_merged_and_cwd_and_path_apply() {
    let sv = Sv::new();
    std::fs::create_dir(sv.path("work")).expect("mkdir");
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service(
                "env",
                &format!(
                    "start = /bin/sh -c 'echo \"\\$FOO|\\$HOME|\\$PWD|\\$PATH\" > out; echo to-stdout; echo to-stderr >&2; exec sleep 1000'\nforeground = yes\nenv = FOO=bar%20baz\npath = /usr/bin:/bin:/opt/x\ncwd = {}\noutput = {}",
                    sv.p("work"),
                    sv.p("env.out")
                ),
            )],
        ),
    );
    let child = sv.start();
    wait_until("the output", Duration::from_secs(5), || {
        sv.path("work/out").exists()
    });
    std::thread::sleep(Duration::from_millis(50));
    let out = std::fs::read_to_string(sv.path("work/out")).expect("out");
    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(
        out.trim(),
        format!("bar baz|{home}|{}|/usr/bin:/bin:/opt/x", sv.p("work"))
    );
    // output = FILE: both streams of the program, appended
    wait_until("the program's output", Duration::from_secs(5), || {
        std::fs::read_to_string(sv.path("env.out")).is_ok_and(|t| t.contains("to-stderr"))
    });
    assert_eq!(
        std::fs::read_to_string(sv.path("env.out")).expect("output"),
        "to-stdout\nto-stderr\n"
    );
    stop(&sv, child);
}

#[test]
fn commands_honour_shell_like_quotes_and_unbalanced_ones_are_refused() {
    let sv = Sv::new();
    std::fs::create_dir(sv.path("work")).expect("mkdir");
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service(
                "q",
                &format!(
                    "start = /bin/sh -c \"echo 'two  words' \\\"and%20more\\\" > out; exec sleep 1000\"\nforeground = yes\ncwd = {}",
                    sv.p("work"),
                ),
            )],
        ),
    );
    assert_eq!(sv.cmd(&["check_configuration"]).status.code(), Some(0));
    let child = sv.start();
    wait_until("the output", Duration::from_secs(5), || {
        std::fs::read_to_string(sv.path("work/out")).is_ok_and(|t| t.ends_with('\n'))
    });
    // one argument for -c, the inner quotes left to sh, %20 literal inside quotes
    assert_eq!(
        std::fs::read_to_string(sv.path("work/out")).expect("out"),
        "two  words and%20more\n"
    );
    stop(&sv, child);
    sv.conf(
        "",
        &supervisor(
            "top",
            "",
            &[service("q", "start = /bin/sh -c 'oops\nstatus = /bin/true")],
        ),
    );
    let err = one_line_error(&sv.cmd(&["check_configuration"]), 1);
    assert!(
        err.contains("service q is not properly configured: start: unterminated '"),
        "{err}"
    );
}

#[test]
fn root_user_option_runs_the_service_as_that_user() {
    need_root();
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service(
                "u",
                &format!(
                    "start = /bin/sh -c id%20-u%20>%20{}/uid;%20exec%20sleep%201000\nforeground = yes\nuser = nobody",
                    sv.dir.path().display()
                ),
            )],
        ),
    );
    let _ = Command::new("chmod").arg("777").arg(sv.dir.path()).status();
    let child = sv.start();
    wait_until("the uid", Duration::from_secs(5), || {
        sv.path("uid").exists()
    });
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        std::fs::read_to_string(sv.path("uid")).expect("uid").trim(),
        "65534"
    );
    stop(&sv, child);
}

/// As the packaged unit runs it: simplevisor as a user of its own (here `daemon`) holding
/// CAP_SETUID, CAP_SETGID and CAP_KILL as ambient capabilities (setpriv does what systemd's
/// User= and AmbientCapabilities= do). A service naming a user runs as that user, one naming
/// none as simplevisor's; neither keeps any capability; simplevisor stops both.
#[test]
fn root_as_its_unit_runs_it_services_run_as_their_users_without_capabilities() {
    need_root();
    let sv = Sv::new();
    let _ = Command::new("chmod").arg("777").arg(sv.dir.path()).status();
    // the test's build may sit where other users cannot reach it: a copy they can run
    let exe = sv.path("simplevisor");
    std::fs::copy(env!("CARGO_BIN_EXE_simplevisor"), &exe).expect("copy simplevisor");
    let report = |name: &str| {
        format!(
            "start = /bin/sh -c 'id -u > {d}/{name}.tmp; grep ^Cap /proc/self/status >> {d}/{name}.tmp; mv {d}/{name}.tmp {d}/{name}; exec sleep 1000'\nforeground = yes",
            d = sv.dir.path().display()
        )
    };
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[
                service("named", &format!("{}\nuser = nobody", report("named"))),
                service("unnamed", &report("unnamed")),
            ],
        ),
    );
    let caps = "-all,+setuid,+setgid,+kill";
    let mut child = Command::new("setpriv")
        .args(["--reuid=daemon", "--regid=daemon", "--init-groups"])
        .arg(format!("--inh-caps={caps}"))
        .arg(format!("--ambient-caps={caps}"))
        .arg(format!("--bounding-set={caps}"))
        .arg(&exe)
        .arg("--conf")
        .arg(sv.path("sv.conf"))
        .arg("start")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) runs simplevisor");
    wait_until("both services' reports", Duration::from_secs(20), || {
        sv.path("named").exists() && sv.path("unnamed").exists()
    });
    let read = |name: &str| std::fs::read_to_string(sv.path(name)).expect("report");
    let (named, unnamed) = (read("named"), read("unnamed"));
    assert_eq!(named.lines().next(), Some("65534"), "{named}");
    assert_eq!(unnamed.lines().next(), Some("1"), "{unnamed}");
    for (name, report) in [("named", &named), ("unnamed", &unnamed)] {
        for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            let line = report
                .lines()
                .find(|l| l.starts_with(set))
                .unwrap_or_else(|| panic!("{name}: no {set}: {report}"));
            assert!(line.ends_with("0000000000000000"), "{name}: {line}");
        }
    }
    // simplevisor signals its services across users (CAP_KILL) and ends cleanly
    let pids = [sv.pid(&["named"]), sv.pid(&["unnamed"])];
    let out = sv.cmd(&["stop"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "simplevisor exited {status:?}\n{}",
        sv.log()
    );
    for pid in pids.into_iter().flatten() {
        assert!(!alive(pid), "service {pid} outlived simplevisor");
    }
}

#[test]
fn bad_configurations_and_stores_are_one_line_errors() {
    let sv = Sv::new();
    for (entry, msg) in [
        (
            "<entry>\n type = supervisor\n name = top\n <children>\n  <entry>\n   type = service\n   name = s\n   start = a\n   control = b\n  </entry>\n </children>\n</entry>\n",
            "start and control are mutually exclusive",
        ),
        (
            "<entry>\n type = supervisor\n name = top\n</entry>\n",
            "empty supervisor found: top",
        ),
        ("<entry>\n type = supervisor\n <children>\n", "not closed"),
    ] {
        sv.conf("", entry);
        let out = sv.cmd(&["check_configuration"]);
        let err = one_line_error(&out, 1);
        assert!(err.contains(msg), "{entry}: {err}");
        assert!(err.contains("sv.conf:"), "names the file and line: {err}");
    }
    sv.conf(
        "",
        &supervisor(
            "top",
            "",
            &[service("s", "start = /bin/true\nstatus = /bin/true")],
        ),
    );
    assert_eq!(sv.cmd(&["check_configuration"]).status.code(), Some(0));
    std::fs::write(sv.path("store.json"), "{not json").expect("store");
    let out = sv.cmd(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("Status file not valid"), "{err}");
    std::fs::remove_file(sv.path("store.json")).expect("rm");
    // usage errors
    let out = simplevisor().arg("bogus").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .next()
            .is_some_and(|l| l.starts_with("simplevisor: invalid value 'bogus'")
                && l.contains("[possible values: start,")),
        "{err}"
    );
    let out = sv.cmd(&["restart"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accepted only with a path"));
    let out = simplevisor().args(["status"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn path_commands_and_the_reference_example() {
    let sv = Sv::new();
    let ctl = sv.ctl();
    std::fs::create_dir(sv.path("pipeline")).expect("mkdir");
    std::fs::write(
        sv.path("pipeline/one.conf"),
        format!("<entry>\n type = service\n name = p1\n control = {ctl} p1\n</entry>\n"),
    )
    .expect("include");
    std::fs::write(
        sv.path("pipeline/two.conf"),
        format!("<entry>\n type = service\n name = p2\n control = {ctl} p2\n</entry>\n"),
    )
    .expect("include");
    let entry = format!(
        "<entry>\n    type        = supervisor\n    name        = top\n    strategy    = one_for_one\n    window      = 12\n    adjustments = 3\n    var_base    = {d}\n    <children>\n        <entry>\n            type     = service\n            name     = httpd\n            expected = running\n            control  = {ctl} httpd\n        </entry>\n        <entry>\n            type    = service\n            name    = worker\n            start   = /bin/sleep 1000\n            daemon  = ${{var_base}}/worker.pid\n            timeout = 20\n        </entry>\n        <entry>\n            type   = service\n            name   = custom\n            start  = {ctl} custom start\n            stop   = {ctl} custom stop\n            status = {ctl} custom status\n        </entry>\n        <entry>\n            type     = service\n            name     = off\n            expected = stopped\n            control  = {ctl} off\n        </entry>\n        <entry>\n            type     = supervisor\n            name     = pipeline\n            strategy = rest_for_one\n            <children>\n                <<include pipeline/*.conf>>\n            </children>\n        </entry>\n    </children>\n</entry>\n",
        d = sv.dir.path().display()
    );
    sv.conf("interval = 30", &entry);
    assert_eq!(sv.cmd(&["check"]).status.code(), Some(1));
    // single: one cycle starts what should run, counted as adjustments, then exits
    let out = sv.cmd(&["single"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = sv.cmd(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("  off: OK, not running, as expected"),
        "{text}"
    );
    assert!(text.contains("    p2: OK, running, as expected"), "{text}");
    let store = std::fs::read_to_string(sv.path("store.json")).expect("store");
    assert!(
        store.contains("true"),
        "single counted its adjustment: {store}"
    );
    // path commands run here, with the command's own exit status
    let out = sv.cmd(&["status", "top/custom"]);
    assert_eq!(out.status.code(), Some(0));
    let out = sv.cmd(&["stop", "top/custom"]);
    assert_eq!(out.status.code(), Some(0));
    let out = sv.cmd(&["status", "top/custom"]);
    assert_eq!(out.status.code(), Some(3));
    let out = sv.cmd(&["status", "top/pipeline"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported on a supervisor node"));
    let out = sv.cmd(&["status", "top/nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("given path is invalid"));
    // stop on a supervisor path: the whole subtree, no crash
    let out = sv.cmd(&["stop", "top"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = sv.cmd(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("worker: WARNING, not running"), "{text}");
    assert!(!sv.path("worker.pid").exists());
}

/// `restart PATH` without a restart command is stop then start: their outputs come one line
/// each, not run together.
#[test]
fn stop_and_start_outputs_are_separated_on_restart() {
    let sv = Sv::new();
    sv.conf(
        "",
        &supervisor(
            "top",
            "",
            &[service(
                "s",
                "start = /bin/echo go\nstop = /bin/echo halt\nstatus = /bin/true",
            )],
        ),
    );
    let out = sv.cmd(&["restart", "top/s"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("halt\ngo"), "{text}");
}
