//! The push endpoint: the emulator POSTs each message of a push subscription to amsclt,
//! which answers 2xx once the message is in the spool; a run that stops leaves the rest to
//! the service's retries, which the next run takes.

use super::*;

#[test]
fn broker_pushed_messages_reach_the_spool_and_what_a_stopped_run_left_comes_back() {
    let d = tmp();
    let port = free_port();
    let (topic, _) = pubsub::topic_and_subscription("push", 60);
    let sub = format!("p-{topic}");
    let body = format!(
        "{{\"topic\":\"projects/{}/topics/{topic}\",\"pushConfig\":{{\"pushEndpoint\":\"http://127.0.0.1:{port}/push\"}}}}",
        pubsub::PROJECT
    );
    let (status, text) = pubsub::request("PUT", &format!("subscriptions/{sub}"), &body);
    assert_eq!(status, 200, "{text}");
    let sent = mixed(1000, &topic)
        .into_iter()
        .filter(|m| m.body.as_bytes().len() < 100_000)
        .collect::<Vec<_>>();
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(&d.path().join("in"), &[]);
    let out = d.path().join("out");
    let listen = |extra: &[&str]| {
        let mut args = s(&["--incoming-push-listen", &port.to_string(), "--reliable"]);
        args.extend(["--outgoing-queue".into(), format!("path={}", p(&out))]);
        args.extend(s(extra));
        ok(&args)
    };
    // a first run takes some and stops: what it had not confirmed is answered 503
    listen(&["--count", "300"]);
    assert!(queue_count(&out) >= 300);
    // the service delivers the rest again to the next run
    listen(&["--timeout-inactivity", "5"]);
    let got = drain(&out, "DQS");
    let dups = compare(&as_received(&sent, &sub), &got, "push");
    assert!(dups < 100, "{dups} duplicates");
}

#[test]
fn push_options_are_checked() {
    let q = |extra: &[&str]| {
        let mut v = s(&["--outgoing-queue", "path=/tmp/x"]);
        v.extend(s(extra));
        v
    };
    for (args, want) in [
        (
            q(&["--incoming-push-listen", "nonsense"]),
            "invalid incoming-push-listen",
        ),
        (
            q(&[
                "--incoming-push-listen",
                "8080",
                "--subscribe",
                "destination=a",
            ]),
            "mutually exclusive",
        ),
        (
            q(&[
                "--incoming-push-listen",
                "8080",
                "--incoming-queue",
                "path=/tmp/y",
            ]),
            "excludes options incoming-broker-uri and incoming-queue",
        ),
        (
            q(&[
                "--incoming-push-listen",
                "8080",
                "--incoming-push-cert",
                "/nonexistent/cert.pem",
                "--incoming-push-key",
                "/nonexistent/key.pem",
            ]),
            "invalid incoming-push-cert: cannot read /nonexistent/cert.pem",
        ),
        (
            q(&[
                "--incoming-queue",
                "path=/tmp/y",
                "--incoming-push-cert",
                "/tmp/c",
                "--incoming-push-key",
                "/tmp/k",
            ]),
            "needs --incoming-push-listen",
        ),
    ] {
        let err = one_line_error(&run(&args), 2);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn broker_push_over_tls_with_a_server_certificate() {
    // the test PKI scripts/test.sh makes (tests/brokers/make-test-ca.sh)
    let pki =
        std::path::PathBuf::from(std::env::var("MSGTK_PKI").expect(
            "MSGTK_PKI is not set: the push TLS test needs the test PKI of scripts/test.sh",
        ));
    let d = tmp();
    let port = free_port();
    let out = d.path().join("out");
    let mut args = s(&["--incoming-push-listen", &port.to_string(), "--reliable"]);
    args.extend(s(&["--incoming-push-cert", &p(&pki.join("server.pem"))]));
    args.extend(s(&["--incoming-push-key", &p(&pki.join("server.key"))]));
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&out))]);
    args.extend(s(&["--count", "3"]));
    let mut child = KillOnDrop(
        std::process::Command::new(AMSCLT)
            .args(&args)
            .spawn()
            .expect("amsclt"),
    );
    let push = |scheme: &str, i: usize| {
        let body = format!(
            "{{\"message\":{{\"data\":\"aGVsbG8=\",\"attributes\":{{\"i\":\"{i}\"}},\"messageId\":\"{i}\"}},\"subscription\":\"projects/p/subscriptions/s\"}}"
        );
        std::process::Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "10",
            ])
            .args(["--cacert", &p(&pki.join("ca.pem"))])
            .args(["-H", "Content-Type: application/json", "-d", &body])
            .arg(format!("{scheme}://localhost:{port}/push"))
            .output()
            .expect("curl")
    };
    // the endpoint comes up
    let start = std::time::Instant::now();
    while String::from_utf8_lossy(&push("https", 0).stdout) != "204" {
        assert!(start.elapsed().as_secs() < 20, "no https endpoint");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // plain http to it is no push: nothing taken
    let plain = push("http", 99);
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "204");
    for i in 1..3 {
        let o = push("https", i);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "204",
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let got = wait_for(&out, 3);
    assert!(got.iter().all(|m| m.body.as_bytes() == b"hello"));
    let mut ids: Vec<&str> = got.iter().map(|m| m.header["i"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["0", "1", "2"],
        "each https push once, the plain one none"
    );
    assert!(child.0.wait().expect("wait").success(), "--count 3 reached");
}

/// A child killed if the test fails before it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the spool at `out` holds `n` messages, then takes them.
fn wait_for(out: &Path, n: usize) -> Vec<Message> {
    let start = std::time::Instant::now();
    while !out.exists() || queue_count(out) < n {
        assert!(
            start.elapsed().as_secs() < 20,
            "{n} messages did not arrive"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drain(out, "DQS")
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

/// A hostile peer of the push endpoint: a body announced over the limit is answered 413 at
/// once, a request that trickles in a byte a second is cut at `--timeout-request`, and the
/// endpoint still serves a good push afterwards.
#[test]
fn hostile_pushes_are_cut() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let d = tmp();
    let port = free_port();
    let out = d.path().join("out");
    let mut args = s(&["--incoming-push-listen", &port.to_string(), "--reliable"]);
    args.extend(["--outgoing-queue".into(), format!("path={}", p(&out))]);
    args.extend(s(&["--count", "1", "--timeout-request", "2"]));
    let child = std::process::Command::new(AMSCLT)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let connect = || {
        let t = Instant::now();
        loop {
            if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
                c.set_read_timeout(Some(Duration::from_secs(20)))
                    .expect("timeout");
                return c;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "no endpoint");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let status = |c: &mut TcpStream| {
        let mut answer = Vec::new();
        let _ = c.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    // 20 MiB announced (over the 16 MiB limit), a few bytes sent: refused without reading it
    let mut c = connect();
    write!(
        c,
        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 20971520\r\nConnection: close\r\n\r\n{{\"mess"
    )
    .expect("write");
    let t = Instant::now();
    let line = status(&mut c);
    assert!(line.contains(" 413"), "{line:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // a head sent a byte a second: the connection is closed at the time-out
    let mut c = connect();
    let t = Instant::now();
    for b in b"POST /push HTTP/1.1\r\nHost: x\r\n".iter().take(8) {
        if c.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let _ = status(&mut c);
    let cut = t.elapsed();
    assert!(cut < Duration::from_secs(6), "cut after {cut:?}");
    // a body that trickles in after its head: answered 400 at the time-out
    let mut c = connect();
    write!(
        c,
        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{"
    )
    .expect("write");
    let t = Instant::now();
    let line = status(&mut c);
    assert!(line.contains(" 400"), "{line:?}");
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // and a good push still lands
    let mut c = connect();
    let body = r#"{"message":{"data":"aGVsbG8=","messageId":"1"},"subscription":"projects/p/subscriptions/s"}"#;
    write!(
        c,
        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let line = status(&mut c);
    assert!(line.contains(" 204"), "{line:?}");
    test_support::bin::succeeded(child);
    assert_eq!(queue_count(&out), 1);
}
