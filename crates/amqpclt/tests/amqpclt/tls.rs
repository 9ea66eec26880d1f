//! amqps:// — TLS from the first byte, made by the agent's dialer (rustls), with the same
//! x509 credentials and SSL_* options as stompclt.

use super::*;

/// AMQPS_RABBITMQ=127.0.0.1:5671 (client certificates required, the test PKI of
/// tests/brokers/make-test-ca.sh in STOMP_TLS_DIR) and AMQPS_PROTON=127.0.0.1:5673 (TLS
/// auto-detected, Proton's self-signed test certificate).
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the TLS test needs the brokers' TLS listeners (scripts/test.sh)")
    })
}

fn round_trip(out_opts: Vec<String>, in_opts: Vec<String>, what: &str) {
    let d = tmp();
    let dest = unique_destination("tls");
    let sent = mixed(300, &dest);
    fill(&d.path().join("in"), "DQS", &sent);
    // AMQP 1.0 (with no module named, amqpclt speaks 0-9-1 to RabbitMQ: amqp091.rs)
    let mut args = s(&[
        "--reliable",
        "--remove",
        "--outgoing-broker-module",
        "amqp1",
    ]);
    args.extend(s(&["--incoming-queue"]));
    args.push(format!("path={}", p(&d.path().join("in"))));
    args.extend(out_opts);
    ok(&args);
    let mut args = s(&["--reliable", "--count", "300", "--timeout-inactivity", "20"]);
    args.extend(s(&["--incoming-broker-module", "amqp1"]));
    args.extend(["--subscribe".into(), format!("destination={dest}")]);
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    args.extend(in_opts);
    ok(&args);
    assert_eq!(
        compare(&sent, &drain(&d.path().join("out"), "DQS"), what),
        0
    );
}

#[test]
fn broker_amqps_with_x509_credentials_and_ssl_sockopts() {
    let pki = std::path::PathBuf::from(env("STOMP_TLS_DIR"));
    let f = |n: &str| p(&pki.join(n));
    let port = env("AMQPS_RABBITMQ")
        .rsplit_once(':')
        .expect("HOST:PORT")
        .1
        .to_string();
    let x509 = format!(
        "x509 cert={} key={} pass=secret ca={}",
        f("client.pem"),
        f("client-enc.key"),
        f("cadir")
    );
    let plain = "plain name=guest pass=guest".to_string();
    // RabbitMQ: the host name, then the IP address, both verified against the certificate
    round_trip(
        vec![
            "--outgoing-broker-uri".into(),
            format!("amqps://localhost:{port}"),
            "--outgoing-broker-auth".into(),
            x509.clone(),
            "--outgoing-broker-auth".into(),
            plain.clone(),
        ],
        vec![
            "--incoming-broker-uri".into(),
            format!("amqps://127.0.0.1:{port}"),
            "--incoming-broker-auth".into(),
            x509.clone(),
            "--incoming-broker-auth".into(),
            plain.clone(),
        ],
        "amqps rabbitmq",
    );
    // the certificate alone: SASL EXTERNAL, RabbitMQ taking the certificate's CN for the
    // user (rabbitmq_auth_mechanism_ssl, set up by tests/brokers/start-rabbitmq.sh)
    let log_dir = std::path::PathBuf::from(env("RMQ_DATA")).join("log");
    let logins = || -> usize {
        std::fs::read_dir(&log_dir)
            .expect("RabbitMQ's log directory")
            .map(|f| std::fs::read_to_string(f.expect("entry").path()).unwrap_or_default())
            .map(|t| {
                t.matches("user 'msgtk test client' authenticated and granted")
                    .count()
            })
            .sum()
    };
    let before = logins();
    round_trip(
        vec![
            "--outgoing-broker-uri".into(),
            format!("amqps://localhost:{port}"),
            "--outgoing-broker-auth".into(),
            x509.clone(),
        ],
        vec![
            "--incoming-broker-uri".into(),
            format!("amqps://localhost:{port}"),
            "--incoming-broker-auth".into(),
            x509.clone(),
        ],
        "amqps rabbitmq sasl external",
    );
    // RabbitMQ writes its log a moment later
    test_support::process::wait_until(
        "both agents logged in as the certificate's CN",
        std::time::Duration::from_secs(10),
        || logins() >= before + 2,
    );
    amqps_proton(&x509);
    amqps_failures(&port, &x509, &plain, &pki);
}

/// The Proton broker's test certificate names its host only in the CN, which rustls does
/// not accept for a name: encrypted, not authenticated (SSL_verify_mode=0); a certificate
/// alone where EXTERNAL is not offered is the broker's no (exit 4).
fn amqps_proton(x509: &str) {
    let proton = env("AMQPS_PROTON");
    let opts = |dir: &str| {
        vec![
            format!("--{dir}-broker-uri"),
            format!("amqps://{proton}"),
            format!("--{dir}-broker-sockopts"),
            "SSL_verify_mode=0".into(),
        ]
    };
    round_trip(opts("outgoing"), opts("incoming"), "amqps proton");
    // a certificate alone where EXTERNAL is not offered: the broker's no (exit 4), naming
    // what it offers; nothing removed
    let d = tmp();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &mixed(2, "/queue/msgtk.never"));
    let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&inq)));
    args.extend(opts("outgoing"));
    args.extend(["--outgoing-broker-auth".into(), x509.to_string()]);
    let err = one_line_error(&run(&args), 4);
    assert!(
        err.contains("does not offer SASL EXTERNAL (it offers: ANONYMOUS)"),
        "{err}"
    );
    assert_eq!(queue_count(&inq), 2, "nothing removed");
}

/// Failures: one line, exit 3, nothing removed.
fn amqps_failures(port: &str, x509: &str, plain: &str, pki: &Path) {
    let f = |n: &str| p(&pki.join(n));
    let d = tmp();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &mixed(2, "/queue/msgtk.never"));
    for (extra, msg) in [
        (
            vec![
                x509.to_string(),
                "SSL_verifycn_name=wrong.example".to_string(),
            ],
            "TLS handshake with",
        ),
        // with TLS 1.3 the server refuses a missing certificate after the handshake: the
        // AMQP opening fails
        (vec![plain.to_string(), String::new()], "localhost:5671"),
    ] {
        let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
        args.push(format!("path={}", p(&inq)));
        args.extend([
            "--outgoing-broker-uri".into(),
            format!("amqps://localhost:{port}"),
            "--outgoing-broker-auth".into(),
            extra[0].clone(),
        ]);
        if !extra[1].is_empty() {
            args.extend(["--outgoing-broker-sockopts".into(), extra[1].clone()]);
        } else {
            // no client certificate: RabbitMQ requires one
            args.extend([
                "--outgoing-broker-sockopts".into(),
                format!("SSL_ca_file={}", f("ca.pem")),
            ]);
        }
        let err = one_line_error(&run(&args), 3);
        assert!(err.contains(msg), "{extra:?}: {err}");
        assert_eq!(queue_count(&inq), 2, "nothing removed");
    }
}
