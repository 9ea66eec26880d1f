//! The command line: usage errors, --list, -dddd, a closed stdout, configuration files.

use super::*;

#[test]
fn usage_errors() {
    let cases = [
        (s(&["--bogus"]), 2, "unexpected argument '--bogus'"),
        (
            s(&["--outgoing-queue", "path=/tmp/x"]),
            2,
            "stompclt: option incoming-broker or incoming-queue is required",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--window",
                "-1",
            ]),
            2,
            "unexpected argument '-1'",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--subscribe",
                "destination=/q",
            ]),
            2,
            "require an incoming broker",
        ),
        (
            s(&[
                "--incoming-broker-uri",
                "stomp://h:1",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "option subscribe is required",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--callback-code",
                "1",
            ]),
            2,
            "run Perl code",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x type=XYZ",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "unknown queue type",
        ),
        (
            s(&[
                "--incoming-broker-uri",
                "http://h:1",
                "--subscribe",
                "destination=/q",
                "--outgoing-queue",
                "path=/y",
            ]),
            2,
            "unknown scheme",
        ),
        (
            s(&[
                "--incoming-queue",
                "path=/x",
                "--outgoing-queue",
                "path=/y",
                "--duration",
                "-5",
            ]),
            2,
            "",
        ),
    ];
    test_support::bin::expect_errors(STOMPCLT, &cases);
    assert_eq!(
        run(&s(&["--help"])).status.code(),
        Some(1),
        "help exits 1, as the reference"
    );
    let v = run(&s(&["--version"]));
    assert_eq!(v.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("stompclt "));
}

#[test]
fn list_prints_every_option_and_debug_traces_frames() {
    let out = run(&s(&["--list"]));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for o in [
        "--incoming-broker-sockopts",
        "--outgoing-broker-auth",
        "--statistics -s",
        "--list -l",
        "--config",
    ] {
        assert!(
            text.lines().any(|l| l == o),
            "{o} missing from --list: {text}"
        );
    }
    // -dddd: the configuration, with credentials hidden
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(1, "/queue/x"));
    let out = run(&[
        "-dddd".into(),
        "--incoming-queue".into(),
        format!("path={}", p(&d.path().join("in"))),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
        "--outgoing-broker-auth".into(),
        "plain name=u pass=topsecret".into(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("debug: configuration: Cli {"), "{err}");
    assert!(!err.contains("topsecret"), "{err}");
}

#[test]
fn a_closed_stdout_is_no_panic() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(5, "/q"));
    let mut child = stompclt()
        .args(qq_args(d.path(), &["-s"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // the reader went away, like `| head -0`
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_config_file_drives_the_same_run_as_the_command_line() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(30, "/q"));
    let conf = d.path().join("stompclt.conf");
    std::fs::write(
        &conf,
        format!(
            "# reference style\n<stompclt>\n  <incoming-queue>\n    path = {}\n  </incoming-queue>\n  \
             outgoing-queue = \"path={} type=DQN\"\n  remove = yes\n  statistics = true\n  \
             count = 10\n  quit = true\n</stompclt>\n",
            p(&d.path().join("in")),
            p(&d.path().join("out"))
        ),
    )
    .expect("write config");
    let out = ok(&["--config".into(), p(&conf)]);
    assert!(out.starts_with("processed 10 messages"), "{out}");
    assert_eq!(drain(&d.path().join("out"), "DQN").len(), 10);
    // the command line overrides the file
    let out = ok(&[
        "--conf".into(),
        p(&conf),
        "--count".into(),
        "5".into(),
        "--no-statistics".into(),
    ]);
    assert_eq!(out, "");
    assert_eq!(drain(&d.path().join("out"), "DQN").len(), 5);
    // an unknown key names the file and line
    std::fs::write(&conf, "incoming-queue = path=/x\nbogus = 1\n").expect("write");
    let r = run(&["--cfg".into(), p(&conf)]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!("stompclt: {}:2: unknown option \"bogus\"", p(&conf))
    );
    std::fs::write(&conf, "<incoming-queue>\npath = /x\n").expect("write");
    let err = String::from_utf8_lossy(&run(&["--cfg".into(), p(&conf)]).stderr).into_owned();
    assert!(
        err.contains(":1: block <incoming-queue> is not closed"),
        "{err}"
    );
}
