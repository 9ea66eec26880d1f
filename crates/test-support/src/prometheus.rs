//! A real Prometheus server (Debian's `prometheus`) of a test's own: loopback, a free port,
//! its own storage, a scrape configuration naming the test's targets, scraping every
//! second; queried through its HTTP API. Killed when dropped.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Prometheus.
pub struct Prometheus {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

/// A free loopback port (bound and released: a test's own listeners take it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// An HTTP answer: status code, head (status line and headers), body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub code: u16,
    /// The status line and the headers.
    pub head: String,
    /// The body.
    pub body: String,
}

/// GET `path` from `127.0.0.1:port` (`None` when nothing listens).
pub fn http_get(port: u16, path: &str) -> Option<Response> {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(c, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut s = String::new();
    c.read_to_string(&mut s).ok()?;
    let code = s.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = s.split_once("\r\n\r\n")?;
    Some(Response {
        code,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// The value of a sample in a text exposition, by its name and labels as written
/// (`name{label="v"}`), if there is one.
pub fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(name_and_labels)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Prometheus {
    /// Starts Prometheus scraping each `(job, port)` on 127.0.0.1 every second; waits until
    /// it is ready. Fails loudly when Debian's `prometheus` is not installed.
    pub fn start(targets: &[(&str, u16)]) -> Prometheus {
        let dir = tempfile::tempdir().expect("tmp");
        let mut conf = String::from(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
        );
        for (job, port) in targets {
            conf.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
            ));
        }
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, conf).expect("config");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus (Debian package prometheus; scripts/test.sh installs it)");
        let p = Prometheus { port, child, dir };
        let t = Instant::now();
        while http_get(port, "/-/ready").is_none_or(|r| r.code != 200) {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "prometheus not ready: {}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    /// Prometheus's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query: each series' labels and value.
    pub fn query(&self, q: &str) -> Vec<(serde_json::Value, f64)> {
        let Some(r) = http_get(self.port, &format!("/api/v1/query?query={}", urlencode(q)))
            .filter(|r| r.code == 200)
        else {
            return Vec::new();
        };
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        v["data"]["result"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|s| {
                        let x = s["value"][1].as_str()?.parse().ok()?;
                        Some((s["metric"].clone(), x))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits (up to `limit`) until the query has exactly one series and `ok` holds for its
    /// value; returns the value. Fails with what Prometheus last said.
    pub fn wait_for(&self, q: &str, limit: Duration, ok: impl Fn(f64) -> bool) -> f64 {
        let t = Instant::now();
        loop {
            let r = self.query(q);
            if let [(_, v)] = r.as_slice()
                && ok(*v)
            {
                return *v;
            }
            assert!(
                t.elapsed() < limit,
                "prometheus: {q} is {r:?} after {limit:?}\n{}",
                self.targets()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The scrape targets' health, for failure messages.
    pub fn targets(&self) -> String {
        http_get(self.port, "/api/v1/targets").map_or_else(String::new, |r| r.body)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
