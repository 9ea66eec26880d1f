//! `all:` over two independent AMQP 1.0 peers, RabbitMQ and the Qpid Proton broker (SASL
//! ANONYMOUS on both): produce to any, then consume from all, each message once. The
//! multi-broker modules are the agent shell's, the same as stompclt's.

use super::*;

#[test]
fn broker_all_produces_to_any_and_consumes_from_all() {
    let peers: Vec<String> = brokers().into_iter().map(|b| b.uri).collect();
    let uri = format!("all:({})", peers.join(","));
    let d = tmp();
    let dest = unique_destination("all");
    let n = 4000;
    let sent = mixed(n, &dest);
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    let stats = ok(&s(&[
        "--incoming-queue",
        &format!("path={}", p(&inq)),
        "--remove",
        "--reliable",
        "--window",
        "200",
        "-s",
        "--outgoing-broker-uri",
        &uri,
    ]));
    assert_eq!(queue_count(&inq), 0);
    let share = |stats: &str, side: &str, peer: &str| {
        let addr = peer.trim_start_matches("amqp://");
        test_support::bin::number_after(stats, &format!("{side} broker {addr}: "))
    };
    let shares: Vec<usize> = peers.iter().map(|b| share(&stats, "outgoing", b)).collect();
    // the split follows the peers' pace (a loaded machine favours the Proton broker, one
    // run gave RabbitMQ 162 of 4000): each must get some, all must arrive
    assert!(
        shares.iter().all(|&c| c >= n / 100) && shares.iter().sum::<usize>() == n,
        "each peer gets a real share: {stats}"
    );
    let out = d.path().join("out");
    let stats = ok(&s(&[
        "--incoming-broker-uri",
        &uri,
        "--subscribe",
        &format!("destination={dest}"),
        "--reliable",
        "--timeout-inactivity",
        "5",
        "-s",
        "--outgoing-queue",
        &format!("path={}", p(&out)),
    ]));
    let got = drain(&out, "DQS");
    assert_eq!(compare(&sent, &got, "amqpclt all:"), 0);
    assert_eq!(got.len(), n);
    for (b, want) in peers.iter().zip(shares) {
        assert_eq!(share(&stats, "incoming", b), want, "{stats}");
    }
}
