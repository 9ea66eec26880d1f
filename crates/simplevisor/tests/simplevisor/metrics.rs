//! `--metrics-listen` and `--metrics-file`: the tree's figures for Prometheus (scraped by a
//! real Prometheus in amqpclt's `broker_prometheus_*` test).

use super::*;

use test_support::prometheus::{free_port, http_get, sample};

fn scrape(port: u16) -> String {
    http_get(port, "/metrics").map_or_else(String::new, |r| r.body)
}

#[test]
fn metrics_count_a_restart_after_sigkill() {
    let sv = Sv::new();
    sv.conf(
        "interval = 3600",
        &supervisor(
            "top",
            "",
            &[service("a", "start = /bin/sleep 1000\nforeground = yes")],
        ),
    );
    let port = free_port();
    let prom = sv.path("sv.prom");
    let child = sv
        .command()
        .args(["--metrics-listen", &port.to_string(), "--metrics-file"])
        .arg(&prom)
        .args(["--metrics-interval", "0.2", "start"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_until("the control socket", Duration::from_secs(20), || {
        sv.path("sv.pid.sock").exists() && sv.try_json().is_some()
    });
    let a = sv.pid(&["a"]).expect("a runs");
    wait_until("a up in the metrics", Duration::from_secs(10), || {
        sample(&scrape(port), "simplevisor_service_up{service=\"top/a\"}") == Some(1.0)
    });
    let text = scrape(port);
    assert_eq!(
        sample(
            &text,
            "simplevisor_service_restarts_total{service=\"top/a\"}"
        ),
        Some(0.0)
    );
    assert!(sample(&text, "simplevisor_resident_memory_bytes").is_some_and(|b| b > 100_000.0));
    assert_eq!(
        sample(
            &text,
            "simplevisor_supervisor_window_cycles{supervisor=\"top\"}"
        ),
        Some(12.0)
    );
    // SAFETY: the service of this test's own simplevisor.
    unsafe { libc::kill(a, libc::SIGKILL) };
    wait_until("the restart counted", Duration::from_secs(10), || {
        let t = scrape(port);
        sample(&t, "simplevisor_service_restarts_total{service=\"top/a\"}") == Some(1.0)
            && sample(&t, "simplevisor_service_up{service=\"top/a\"}") == Some(1.0)
    });
    let text = scrape(port);
    assert_eq!(
        sample(
            &text,
            "simplevisor_service_last_exit_status{service=\"top/a\"}"
        ),
        Some(137.0)
    );
    assert!(sv.pid(&["a"]).is_some_and(|p| p != a));
    // the textfile follows, and has the last figures after the stop
    wait_until("the textfile", Duration::from_secs(10), || {
        std::fs::read_to_string(&prom).is_ok_and(|t| {
            sample(&t, "simplevisor_service_restarts_total{service=\"top/a\"}") == Some(1.0)
        })
    });
    stop(&sv, child);
    let t = std::fs::read_to_string(&prom).expect("textfile");
    assert_eq!(
        sample(&t, "simplevisor_service_up{service=\"top/a\"}"),
        Some(0.0),
        "{t}"
    );
}

#[test]
fn metrics_wildcard_refused_with_one_line() {
    let sv = Sv::new();
    sv.conf(
        "",
        &supervisor(
            "top",
            "",
            &[service("a", "start = /bin/sleep 1000\nforeground = yes")],
        ),
    );
    let out = sv
        .command()
        .args(["--metrics-listen", "[::]:9", "start"])
        .output()
        .expect("run");
    let e = one_line_error(&out, 2);
    assert!(
        e.contains("every interface") && e.contains("--metrics-allow-wildcard"),
        "{e}"
    );
}
