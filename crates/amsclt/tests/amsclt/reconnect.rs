//! --reconnect: answers lost in the middle of a publish (a proxy of the tests' own stops
//! passing the service's bytes for a while): the request times out, amsclt connects again
//! and publishes the unanswered batch again (counted); nothing is lost.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use test_support::proxy::SilencingProxy;

use super::*;

#[test]
fn broker_answers_lost_mid_batch_are_recovered_with_reconnect() {
    let proxy = SilencingProxy::start(&pubsub::host());
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription("cut", 60);
    let sent = mixed(50_000, &topic)
        .into_iter()
        .filter(|m| m.body.as_bytes().len() < 100_000)
        .collect::<Vec<_>>();
    let n = sent.len();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    let uri = format!(
        "http://127.0.0.1:{}/v1/projects/{}",
        proxy.port,
        pubsub::PROJECT
    );
    let mut args = s(&["--outgoing-broker-uri", &uri, "--reliable", "--remove"]);
    args.extend(s(&[
        "--window",
        "100",
        "--reconnect",
        "--timeout-request",
        "1",
    ]));
    args.extend([
        "--incoming-queue".into(),
        format!("path={}", p(&inq)),
        "--statistics".into(),
    ]);
    let agent = std::process::Command::new(AMSCLT)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while queue_count(&inq) > n - 2000 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(queue_count(&inq) > 0, "sent everything before the cut");
    proxy.silent.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(2500));
    proxy.silent.store(false, Ordering::Relaxed);
    let (stats, stderr) = test_support::bin::succeeded(agent);
    assert!(
        stderr.contains("reconnecting") || stats.contains("reconnected"),
        "{stats}{stderr}"
    );
    let resent = test_support::bin::number_after(&stats, "times: ");
    assert_eq!(queue_count(&inq), 0, "the spool is sent");
    receive(&sub, &d.path().join("out"), n, &[]);
    // and whatever was published twice
    let mut rest = s(&["--incoming-broker-uri", &pubsub::uri(), "--reliable"]);
    rest.extend(["--subscribe".into(), format!("destination={sub}")]);
    rest.extend([
        "--outgoing-queue".into(),
        format!("path={}", p(&d.path().join("out"))),
    ]);
    rest.extend(s(&["--timeout-inactivity", "2"]));
    ok(&rest);
    let got = drain(&d.path().join("out"), "DQS");
    let dups = compare(&as_received(&sent, &sub), &got, "answers lost");
    assert!(
        dups <= resent,
        "{dups} duplicates, {resent} sent again: {stats}"
    );
}
