//! TLS on both brokers: x509 credentials, SSL_* socket options, one-line failures.

use super::*;

/// STOMP_TLS="rabbitmq=127.0.0.1:61615,activemq=127.0.0.1:61617" and STOMP_TLS_DIR, the test
/// PKI of tests/brokers/make-test-ca.sh (both brokers require client certificates).
fn tls_brokers() -> (Vec<(String, String)>, std::path::PathBuf) {
    let spec = std::env::var("STOMP_TLS").unwrap_or_else(|_| {
        panic!(
            "STOMP_TLS is not set: the TLS test needs the brokers' TLS listeners (scripts/test.sh)"
        )
    });
    let dir = std::env::var("STOMP_TLS_DIR").expect("STOMP_TLS_DIR (the test PKI)");
    let list = spec
        .split(',')
        .map(|i| {
            let (n, a) = i.split_once('=').expect("NAME=HOST:PORT in STOMP_TLS");
            (n.to_string(), a.to_string())
        })
        .collect();
    (list, dir.into())
}

#[test]
fn broker_tls_with_x509_credentials_and_ssl_sockopts() {
    let (brokers, pki) = tls_brokers();
    for (name, addr) in brokers {
        eprintln!("TLS against {name} at {addr}");
        let port = addr.rsplit_once(':').expect("HOST:PORT").1;
        let d = tmp();
        tls_both_ways(port, &pki, d.path());
        tls_from_the_environment(port, &pki, d.path());
        tls_failures(port, &pki, d.path());
    }
}

/// Sends and receives 300 messages: x509 credentials one way, SSL_* options the other.
fn tls_both_ways(port: &str, pki: &Path, d: &Path) {
    let f = |n: &str| p(&pki.join(n));
    let dest = unique_destination("tls");
    let sent = mixed(300, &dest);
    fill(&d.join("in"), "DQS", &sent);
    // send: ssl://localhost, x509 with an encrypted PKCS#8 key and a hashed CA directory
    ok(&[
        "--incoming-queue".into(),
        format!("path={}", p(&d.join("in"))),
        "--reliable".into(),
        "--remove".into(),
        "--outgoing-broker-uri".into(),
        format!("ssl://localhost:{port}"),
        "--outgoing-broker-auth".into(),
        format!(
            "x509 cert={} key={} pass=secret ca={}",
            f("client.pem"),
            f("client-enc.key"),
            f("cadir")
        ),
        "--outgoing-broker-auth".into(),
        "plain name=guest pass=guest".into(),
        "--outgoing-broker-connect".into(),
        "host=/".into(),
    ]);
    // receive: stomp+ssl:// to the IP address (verified against the IP SAN), everything from
    // the IO::Socket::SSL options
    let out = ok(&[
        "--incoming-broker-uri".into(),
        format!("stomp+ssl://127.0.0.1:{port}"),
        "--incoming-broker-sockopts".into(),
        format!(
            "SSL_cert_file={} SSL_key_file={} SSL_ca_file={} SSL_verify_mode=1 SSL_version=TLSv12",
            f("client.pem"),
            f("client.key"),
            f("ca.pem")
        ),
        "--incoming-broker-auth".into(),
        "plain name=guest pass=guest".into(),
        "--incoming-broker-connect".into(),
        "host=/".into(),
        "--subscribe".into(),
        format!("destination={dest}"),
        "--outgoing-queue".into(),
        format!("path={}", p(&d.join("out"))),
        "--reliable".into(),
        "--count".into(),
        "300".into(),
        "-s".into(),
    ]);
    assert!(out.starts_with("processed 300 messages"), "{out}");
    assert_eq!(compare(&sent, &drain(&d.join("out"), "DQS"), "TLS"), 0);
}

/// A plain tcp:// URI becomes TLS when SSL_* options are given; the X509_* environment
/// supplies what a bare x509 credential leaves out.
fn tls_from_the_environment(port: &str, pki: &Path, d: &Path) {
    let f = |n: &str| p(&pki.join(n));
    let dest2 = unique_destination("tls-env");
    fill(&d.join("in"), "DQS", &mixed(5, &dest2));
    let out = stompclt()
        .args([
            "--incoming-queue".into(),
            format!("path={}", p(&d.join("in"))),
            "--remove".into(),
            "--reliable".into(),
            "--outgoing-broker-uri".into(),
            format!("tcp://localhost:{port}"),
            "--outgoing-broker-auth".into(),
            "x509".into(),
            "--outgoing-broker-auth".into(),
            "plain name=guest pass=guest".into(),
            "--outgoing-broker-sockopts".into(),
            "SSL_use_cert=1 Timeout=5".into(),
            "--outgoing-broker-connect".into(),
            "host=/".into(),
        ])
        .env("X509_USER_CERT", f("client.pem"))
        .env("X509_USER_KEY", f("client.key"))
        .env("X509_CERT_DIR", f("cadir"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("socket option Timeout is not supported"),
        "{err}"
    );
}

/// Failures: each a one-line error naming the reason, nothing sent; SSL_verify_mode=0
/// accepts a server the trusted CA did not sign (the user's choice).
fn tls_failures(port: &str, pki: &Path, d: &Path) {
    let f = |n: &str| p(&pki.join(n));
    let base = |extra: &[String]| {
        let mut v = vec![
            "--incoming-queue".to_string(),
            format!("path={}", p(&d.join("never"))),
            "--outgoing-broker-connect".into(),
            "host=/".into(),
            "--outgoing-broker-auth".into(),
            "plain name=guest pass=guest".into(),
        ];
        v.extend_from_slice(extra);
        v
    };
    let x509 = |ca: &str| {
        format!(
            "x509 cert={} key={} ca_file={ca}",
            f("client.pem"),
            f("client.key")
        )
    };
    for (extra, code, msg) in [
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-auth".into(),
                x509(&f("other-ca.pem")),
            ],
            3,
            "UnknownIssuer",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://127.0.0.1:{port}"),
                "--outgoing-broker-auth".into(),
                x509(&f("ca.pem")),
                "--outgoing-broker-sockopts".into(),
                "SSL_verifycn_name=broker.example.org".into(),
            ],
            3,
            "not valid for name \"broker.example.org\"",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-auth".into(),
                format!(
                    "x509 cert={} key={} pass=wrong ca_file={}",
                    f("client.pem"),
                    f("client-enc.key"),
                    f("ca.pem")
                ),
            ],
            2,
            "cannot decrypt the key",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-auth".into(),
                format!("x509 cert={} ca_file={}", f("nonexistent.pem"), f("ca.pem")),
            ],
            2,
            "nonexistent.pem",
        ),
        (
            vec![
                "--outgoing-broker-uri".into(),
                format!("ssl://localhost:{port}"),
                "--outgoing-broker-sockopts".into(),
                format!("SSL_ca_file={}", f("ca.pem")),
            ],
            5,
            // RabbitMQ says CertificateRequired, ActiveMQ BadCertificate
            "received fatal alert: ",
        ),
    ] {
        fill(&d.join("never"), "DQS", &mixed(1, "/queue/msgtk.never"));
        let out = run(&base(&extra));
        let err = one_line_error(&out, code);
        assert!(err.contains(msg), "{extra:?}: {err}");
    }
    let out = run(&base(&[
        "--outgoing-broker-uri".into(),
        format!("ssl://localhost:{port}"),
        "--outgoing-broker-auth".into(),
        x509(&f("other-ca.pem")),
        "--outgoing-broker-sockopts".into(),
        "SSL_verify_mode=0".into(),
        "--remove".into(),
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
