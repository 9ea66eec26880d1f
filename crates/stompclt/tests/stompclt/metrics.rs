//! The metrics every agent shares (crates/agent): `--metrics-file`, `--metrics-listen`,
//! `--status --json`, and their refusals. Scraped by a real Prometheus in amqpclt's
//! `broker_prometheus_*` test.

use super::*;

use test_support::prometheus::{free_port, http_get};

/// A sample's value in a text exposition; fails naming it when it is not there.
fn sample(text: &str, name_and_labels: &str) -> f64 {
    test_support::prometheus::sample(text, name_and_labels)
        .unwrap_or_else(|| panic!("no {name_and_labels} in\n{text}"))
}

/// `/metrics` of the agent listening on `port`, empty when nothing answers yet.
fn scrape(port: u16) -> String {
    http_get(port, "/metrics").map_or_else(String::new, |r| r.body)
}

#[test]
fn metrics_file_has_the_final_figures_of_a_queue_run() {
    let d = tmp();
    let msgs = mixed(500, "/queue/metrics");
    fill(&d.path().join("in"), "DQS", &msgs);
    let prom = d.path().join("m.prom");
    let args = qq_args(
        d.path(),
        &[
            "--remove",
            "--drop-if",
            "destination=/queue/nowhere",
            "--metrics-file",
            &p(&prom),
        ],
    );
    ok(&args);
    let text = std::fs::read_to_string(&prom).expect("metrics file");
    for name in [
        "stompclt_messages_received_total",
        "stompclt_messages_sent_total",
        "stompclt_messages_confirmed_total",
        "stompclt_messages_acknowledged_total",
    ] {
        assert_eq!(sample(&text, name), 500.0, "{name}");
    }
    assert_eq!(sample(&text, "stompclt_messages_dropped_total"), 0.0);
    assert_eq!(sample(&text, "stompclt_messages_pending"), 0.0);
    let bytes: usize = msgs.iter().map(|m| m.size()).sum();
    assert_eq!(sample(&text, "stompclt_sent_bytes_total"), bytes as f64);
    // the spools, counted again at the end
    let inq = format!(
        "stompclt_queue_messages{{side=\"incoming\",queue=\"{}\"}}",
        p(&d.path().join("in"))
    );
    let outq = format!(
        "stompclt_queue_messages{{side=\"outgoing\",queue=\"{}\"}}",
        p(&d.path().join("out"))
    );
    assert_eq!(sample(&text, &inq), 0.0);
    assert_eq!(sample(&text, &outq), 500.0);
    assert_eq!(
        sample(&text, "stompclt_errors_total{class=\"outgoing_queue\"}"),
        0.0
    );
    assert_eq!(sample(&text, "stompclt_build_info{version=\"0.1.0\"}"), 1.0);
    // whole files only: no temporary left beside it
    let names: Vec<_> = std::fs::read_dir(d.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");
}

#[test]
fn metrics_file_counts_the_error_that_ended_the_run() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(3, "/queue/x"));
    let prom = d.path().join("m.prom");
    // a regular file where the outgoing queue's directory should be
    std::fs::write(d.path().join("out"), "").expect("file");
    let out = run(&qq_args(d.path(), &["--metrics-file", &p(&prom)]));
    one_line_error(&out, 7);
    let text = std::fs::read_to_string(&prom).expect("metrics file");
    assert_eq!(
        sample(&text, "stompclt_errors_total{class=\"outgoing_queue\"}"),
        1.0
    );
    assert_eq!(sample(&text, "stompclt_messages_acknowledged_total"), 0.0);
}

#[test]
fn metrics_listen_and_status_json_while_running() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(200, "/queue/x"));
    let port = free_port();
    let pidfile = d.path().join("pid");
    let mut args = qq_args(
        d.path(),
        &["--loop", "--remove", "--metrics-listen", &port.to_string()],
    );
    args.extend(["--pidfile".to_string(), p(&pidfile)]);
    let child = stompclt()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    let r = loop {
        if let Some(r) = http_get(port, "/metrics")
            && r.body
                .contains("\nstompclt_messages_acknowledged_total 200\n")
        {
            break r;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "no 200 acknowledged");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(r.code, 200, "{r:?}");
    assert!(
        r.head.contains("Content-Type: text/plain; version=0.0.4"),
        "{r:?}"
    );
    assert_eq!(http_get(port, "/nope").map(|r| r.code), Some(404));
    // the same figures through the pidfile, as one JSON object
    let t = Instant::now();
    let status = loop {
        let out = run(&[
            "--pidfile".into(),
            p(&pidfile),
            "--status".into(),
            "--json".into(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        if v["metrics"]["stompclt_messages_acknowledged_total"] == 200 {
            break v;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "{v}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["code"], 0);
    assert_eq!(status["pid"], child.id());
    assert_eq!(status["metrics"]["stompclt_messages_sent_total"], 200);
    ok(&["--pidfile".into(), p(&pidfile), "--quit".into()]);
    test_support::bin::succeeded(child);
    let out = run(&[
        "--pidfile".into(),
        p(&pidfile),
        "--status".into(),
        "--json".into(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "stompclt is not running");
}

#[test]
fn metrics_options_refused_with_one_line() {
    let d = tmp();
    let cases: [(&[&str], &str); 4] = [
        (&["--metrics-listen", "0.0.0.0:9187"], "every interface"),
        (&["--metrics-listen", "nowhere"], "invalid metrics address"),
        (
            &["--metrics-file", "/nonexistent/dir/m.prom"],
            "cannot write metrics file",
        ),
        (
            &["--metrics-file", "x.prom", "--metrics-interval", "0"],
            "invalid metrics-interval",
        ),
    ];
    for (extra, why) in cases {
        let out = run(&qq_args(d.path(), extra));
        let e = one_line_error(&out, 2);
        assert!(e.contains(why), "{extra:?}: {e}");
    }
    // a taken port
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port().to_string();
    let e = one_line_error(&run(&qq_args(d.path(), &["--metrics-listen", &port])), 2);
    assert!(e.contains("cannot listen for metrics on 127.0.0.1:"), "{e}");
    // --json only with --status
    let out = run(&qq_args(d.path(), &["--json"]));
    assert_eq!(out.status.code(), Some(2));
}

/// The listener is bound before the --daemon fork and served by the daemon.
#[test]
fn metrics_listen_served_by_a_daemon() {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(30, "/queue/x"));
    let port = free_port();
    let pidfile = d.path().join("pid");
    let mut args = qq_args(
        d.path(),
        &[
            "--loop",
            "--remove",
            "--daemon",
            "--metrics-listen",
            &port.to_string(),
        ],
    );
    args.extend(["--pidfile".to_string(), p(&pidfile)]);
    ok(&args);
    let t = Instant::now();
    while !scrape(port).contains("\nstompclt_messages_confirmed_total 30\n") {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", scrape(port));
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(&["--pidfile".into(), p(&pidfile), "--quit".into()]);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
}
