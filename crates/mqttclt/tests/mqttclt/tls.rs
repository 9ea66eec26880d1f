//! mqtts:// — TLS from the first byte, made by the agent's dialer, with the same x509
//! credentials and SSL_* options as stompclt, against Mosquitto's TLS listener (client
//! certificates required).

use super::*;

#[test]
fn broker_mqtts_with_a_client_certificate() {
    let tls = addr("MQTTS_BROKER");
    let port = tls.rsplit_once(':').expect("HOST:PORT").1.to_string();
    let pki = std::path::PathBuf::from(std::env::var("STOMP_TLS_DIR").unwrap_or_else(|_| {
        panic!("STOMP_TLS_DIR is not set: the test PKI of tests/brokers/make-test-ca.sh")
    }));
    let f = |n: &str| p(&pki.join(n));
    let x509 = format!(
        "x509 cert={} key={} pass=secret ca={}",
        f("client.pem"),
        f("client-enc.key"),
        f("cadir")
    );
    let d = tmp();
    let t = topic("tls");
    let id = client_id("tls");
    let sent = mixed(300, &t);
    fill(&d.path().join("in"), "DQS", &sent);
    // the host name, verified against the certificate; the session made over TLS too
    let over_tls = |dir: &str| {
        vec![
            format!("--{dir}-broker-uri"),
            format!("mqtts://localhost:{port}"),
            format!("--{dir}-broker-auth"),
            x509.clone(),
        ]
    };
    let mut args = s(&[
        "--reliable",
        "--duration",
        "1",
        "--outgoing-queue",
        "type=NULL",
    ]);
    args.extend(["--subscribe".into(), format!("topic={t} qos=1")]);
    args.extend([
        "--incoming-broker-connect".into(),
        format!("client-id={id}"),
    ]);
    args.extend(over_tls("incoming"));
    ok(&args);
    let mut args = s(&["--reliable", "--remove", "--incoming-queue"]);
    args.push(format!("path={}", p(&d.path().join("in"))));
    args.extend(over_tls("outgoing"));
    ok(&args);
    let mut args = s(&["--reliable", "--count", "300", "--timeout-inactivity", "20"]);
    args.extend(["--subscribe".into(), format!("topic={t} qos=1")]);
    args.extend([
        "--incoming-broker-connect".into(),
        format!("client-id={id}"),
    ]);
    args.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    args.extend(over_tls("incoming"));
    ok(&args);
    assert_eq!(
        compare(&sent, &drain(&d.path().join("out"), "DQS"), "mqtts"),
        0
    );
    // a name the certificate does not carry: one line, exit 3
    let mut args = s(&["--incoming-queue"]);
    args.push(format!("path={}", p(&d.path().join("in"))));
    args.extend([
        "--outgoing-broker-uri".into(),
        format!("mqtts://127.0.0.1:{port}"),
        "--outgoing-broker-auth".into(),
        x509,
        "--outgoing-broker-sockopts".into(),
        "SSL_verifycn_name=wrong.example".into(),
    ]);
    let err = one_line_error(&run(&args), 3);
    assert!(err.contains("TLS handshake with"), "{err}");
}
