//! Stops and timeouts kill whole process groups; pattern services found and stopped through /proc.

use super::*;

#[test]
fn stop_and_timeouts_kill_whole_process_groups() {
    let sv = Sv::new();
    // durations no other process uses, to find leftovers by command line
    let marker = format!("{}.25", 5000 + std::process::id() % 1000);
    sv.conf(
        "interval = 1",
        &supervisor(
            "top",
            // the hanging service is dirty at every cycle: adjusted every time
            "adjustments = 1000",
            &[
                // a program with children of its own
                service(
                    "tree",
                    &format!(
                        "start = /bin/sh -c sleep%20{marker}%20&%20sleep%20{marker}%20&%20exec%20sleep%20{marker}\nforeground = yes"
                    ),
                ),
                // a status command that hangs with a grandchild, killed at its timeout
                service(
                    "hang",
                    &format!(
                        "start = /bin/true\nstatus = /bin/sh -c sleep%20{marker}9%20;%20true\ntimeout = 1"
                    ),
                ),
            ],
        ),
    );
    let child = sv.start();
    let pgid = sv.pid(&["tree"]).expect("running");
    wait_until("the group's three sleeps", Duration::from_secs(5), || {
        std::fs::read_dir("/proc")
            .expect("proc")
            .flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path().join("stat"))
                    .ok()
                    .and_then(|s| {
                        s.rsplit_once(')')
                            .map(|(_, r)| r.split_whitespace().nth(2) == Some(&pgid.to_string()))
                    })
                    .unwrap_or(false)
            })
            .count()
            >= 3
    });
    // let a cycle time out on the hanging status command
    wait_until("a status timeout", Duration::from_secs(20), || {
        sv.log().contains("timed out 1 seconds")
    });
    let leftovers = |pat: &str| -> usize {
        std::fs::read_dir("/proc")
            .expect("proc")
            .flatten()
            .filter(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(pat))
                    .unwrap_or(false)
            })
            .count()
    };
    wait_until(
        "the timed-out status's grandchild killed",
        Duration::from_secs(5),
        || leftovers(&format!("{marker}9")) == 0,
    );
    stop(&sv, child);
    assert!(
        !group_alive(pgid),
        "a process of the stopped service's group survived"
    );
    assert_eq!(leftovers(&marker), 0, "a process was left behind");
}

#[test]
fn pattern_services_are_found_and_stopped_through_proc() {
    let sv = Sv::new();
    // a duration no other process uses: the pattern finds exactly this program
    let d = format!("{}.75", 6000 + std::process::id() % 1000);
    let pat = d.replace('.', "\\.");
    // a program that daemonizes itself keeping its command line, as the reference expects
    // of pattern services; its own child goes with it at stop (its process group)
    let selfd = sv.path("selfd.sh");
    std::fs::write(
        &selfd,
        "#!/bin/sh\nif [ -z \"$DAEMONIZED\" ]; then DAEMONIZED=1 setsid \"$0\" \"$@\" </dev/null >/dev/null 2>&1 & exit 0; fi\nsleep \"$1\" & wait\n",
    )
    .expect("script");
    let _ = Command::new("chmod").arg("+x").arg(&selfd).status();
    sv.conf(
        "interval = 1",
        &supervisor(
            "top",
            "",
            &[
                service(
                    "p",
                    &format!(
                        "start = /usr/bin/setsid -f /bin/sleep {d}\npattern = ^/bin/sleep {pat}$"
                    ),
                ),
                // without a pattern the start command itself is the pattern
                service("q", &format!("start = {} {d}1", selfd.display())),
            ],
        ),
    );
    // the living processes whose command line is `argv` exactly, or holds `arg`
    let procs = |keep: &dyn Fn(&[&str]) -> bool| -> Vec<i32> {
        std::fs::read_dir("/proc")
            .expect("proc")
            .flatten()
            .filter_map(|e| {
                let pid: i32 = e.file_name().to_str()?.parse().ok()?;
                let c = std::fs::read(e.path().join("cmdline")).ok()?;
                let c = String::from_utf8_lossy(&c);
                let args: Vec<&str> = c.trim_end_matches('\0').split('\0').collect();
                (keep(&args) && alive(pid)).then_some(pid)
            })
            .collect()
    };
    let find = |arg: &str| procs(&|a: &[&str]| a.contains(&arg));
    let exact = |argv: &[&str]| procs(&|a: &[&str]| a == argv);
    let (d1, script) = (format!("{d}1"), selfd.display().to_string());
    // p's sleep; q's script, daemonized (its first run gone), and its sleep: not a start
    // still in flight (setsid before its exec, the first run before its exit), which the
    // patterns do not find or a check might see twice
    let p_sleep = || exact(&["/bin/sleep", &d]);
    let q_up = || exact(&["/bin/sh", &script, &d1]).len() == 1 && exact(&["sleep", &d1]).len() == 1;
    assert_eq!(sv.cmd(&["check"]).status.code(), Some(1));
    let child = sv.start();
    wait_until("both running", Duration::from_secs(10), || {
        p_sleep().len() == 1 && q_up()
    });
    assert_eq!(sv.cmd(&["check"]).status.code(), Some(0));
    let old = p_sleep()[0];
    // SAFETY: a pid of our own test's tree.
    unsafe { libc::kill(old, libc::SIGKILL) };
    wait_until("restarted by a cycle", Duration::from_secs(10), || {
        p_sleep().iter().any(|p| *p != old)
    });
    // settled: one of each, as a check sees them
    wait_until("settled after the restart", Duration::from_secs(20), || {
        p_sleep().len() == 1 && q_up() && sv.cmd(&["check"]).status.code() == Some(0)
    });
    stop(&sv, child);
    wait_until(
        "both stopped through /proc",
        Duration::from_secs(30),
        || find(&d).is_empty() && find(&d1).is_empty(),
    );
    assert!(
        sv.log().contains("killed by killing processes"),
        "{}",
        sv.log()
    );
}
