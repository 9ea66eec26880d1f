//! --reconnect: a broker of the test's own restarted in the middle of a transfer; a peer
//! that closes the connection after CONNECT, as a starting ActiveMQ does.

use super::*;

#[test]
fn broker_restart_mid_transfer_with_reconnect_loses_nothing() {
    // side by side: each mostly waits for its broker to stop and start
    std::thread::scope(|scope| {
        for kind in ["rabbitmq", "activemq"] {
            scope.spawn(move || restart_case(OwnBroker::start_new(kind)));
        }
    });
}

fn restart_case(rabbit: OwnBroker) {
    eprintln!("broker restart: {}", rabbit.kind);
    let d = tmp();
    let dest = unique_destination("restart");
    let n = 10_000;
    // persistent, or the broker itself would drop them at its restart
    let sent = test_support::brokers::persistent(mixed(n, &dest));
    fill(&d.path().join("in"), "DQS", &sent);
    let uri = format!(
        "failover:(stomp://127.0.0.1:{})?maxReconnectDelay=500",
        rabbit.stomp
    );
    let common = |dir: &str| {
        s(&[
            &format!("--{dir}-broker-uri"),
            &uri,
            &format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest",
            &format!("--{dir}-broker-connect"),
            "host=/",
            "--reliable",
            "--reconnect",
            "--statistics",
        ])
    };
    // queue → broker, the broker restarted once some messages went out
    let send = stompclt()
        .args(common("outgoing"))
        .args([
            "--incoming-queue",
            &format!("path={}", p(&d.path().join("in"))),
        ])
        .args(["--remove", "--window", "500"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while queue_count(&d.path().join("in")) > n - 3000 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        queue_count(&d.path().join("in")) > 0,
        "sent everything before the restart"
    );
    rabbit.restart();
    let (so, se) = reconnected_once(send);
    assert!(se.contains("reconnecting"), "{se}");
    assert_eq!(queue_count(&d.path().join("in")), 0);
    let resent = counted(&so, "reconnected 1 times: ");

    // broker → queue, the broker restarted mid-way again
    let recv = stompclt()
        .args(common("incoming"))
        .args(["--subscribe", &format!("destination={dest}")])
        .args([
            "--outgoing-queue",
            &format!("path={}", p(&d.path().join("out"))),
        ])
        .args(["--prefetch", "1000", "--timeout-inactivity", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while queue_count(&d.path().join("out")) < 3000 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        queue_count(&d.path().join("out")) < n,
        "received everything before the restart"
    );
    rabbit.restart();
    let (so, _) = reconnected_once(recv);
    let got = drain(&d.path().join("out"), "DQS");
    let dups = compare(&sent, &got, "broker restart");
    eprintln!(
        "broker restarts on {}: {n} messages, {dups} duplicates; {}",
        rabbit.kind,
        so.trim()
    );
    // every duplicate is accounted for: sent again by the sender, or received without the
    // broker's receipt for its ACK when the connection went
    let unacked = counted(&so, "messages sent again, ");
    assert!(
        dups <= resent + unacked,
        "{dups} duplicates, {resent} sent again + {unacked} not known to be acknowledged"
    );
}

/// Waits for a stompclt run that had to reconnect once and succeeded: (stdout, stderr).
fn reconnected_once(child: std::process::Child) -> (String, String) {
    let (so, se) = test_support::bin::succeeded(child);
    assert!(so.contains("reconnected 1 times"), "{so}");
    (so, se)
}

use test_support::bin::number_after as counted;

/// A broker still starting (ActiveMQ's transport is up before its broker service) reads the
/// CONNECT and closes without a frame: a connection failure, tried again, never the
/// credentials' exit status. A fake peer: a real broker does it only for a moment.
#[test]
fn closed_after_connect_is_a_connection_failure_failover_tries_again() {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = closed.clone();
    // left waiting for a connection that never comes if the agent gives up early
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut conn = std::io::BufReader::new(conn.expect("accept"));
            // up to the end of the CONNECT frame, counted, then closed without a word (the
            // count first: the agent may be gone the moment the connection closes)
            let _ = conn.read_until(0, &mut Vec::new());
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(conn);
        }
    });
    let (code, err) = subscribe_fails(
        &format!(
            "failover:(tcp://127.0.0.1:{port})?maxReconnectAttempts=2&initialReconnectDelay=10"
        ),
        &[],
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "127.0.0.1:{port} closed the connection after CONNECT"
        )),
        "{err}"
    );
    let tries = closed.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(tries, 3, "tried three times: {err}");
}
