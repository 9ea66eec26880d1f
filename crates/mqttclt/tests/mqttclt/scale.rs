//! `all:SCHEME://alias:port`: one name, two addresses, a broker on each. The name exists
//! only inside a private mount namespace (`unshare -m`, as root) where a hosts file of the
//! test's own is bind-mounted over /etc/hosts: the machine's files are not touched.

use std::process::Command;

use super::*;
use test_support::brokers::OwnBroker;

const ALIAS: &str = "msgtk-alias.test";
const PORT: u16 = 1885;

/// mqttclt with these arguments, run where `ALIAS` resolves to 127.0.0.2 and 127.0.0.3.
fn in_namespace(hosts: &Path, args: &[String]) -> String {
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/hosts && exec "$@""#)
        .arg(hosts)
        .arg(MQTTCLT)
        .args(args)
        .output()
        .expect("unshare");
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{so}{se}");
    so.into_owned()
}

/// The message count of the per-broker `--statistics` line of `addr`.
fn count_of(stats: &str, side: &str, addr: &str) -> usize {
    let marker = format!("{side} broker {addr}: ");
    test_support::bin::number_after(stats, &marker)
}

#[test]
fn root_all_alias_spreads_over_and_consumes_from_every_address() {
    test_support::process::need_root();
    let brokers = [
        OwnBroker::mosquitto_at("127.0.0.2", PORT),
        OwnBroker::mosquitto_at("127.0.0.3", PORT),
    ];
    let d = tmp();
    let hosts = d.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1 localhost\n127.0.0.2 {ALIAS}\n127.0.0.3 {ALIAS}\n"),
    )
    .expect("hosts");
    let t = topic("alias");
    let id = client_id("alias");
    let uri = format!("all:mqtt://{ALIAS}:{PORT}");
    let consume = |extra: &[&str]| {
        let mut a = s(&[
            "--incoming-broker-uri",
            &uri,
            "--subscribe",
            &format!("topic={t} qos=1"),
            "--incoming-broker-connect",
            &format!("client-id={id} version=5 session-expiry=600"),
            "--reliable",
            "-s",
        ]);
        a.extend(s(extra));
        a
    };
    // persistent sessions on both brokers, so that they keep what is published
    in_namespace(
        &hosts,
        &consume(&["--duration", "1", "--outgoing-queue", "type=NULL"]),
    );
    let n = 4000;
    let sent = mixed(n, &t);
    fill(&d.path().join("in"), "DQS", &sent);
    let stats = in_namespace(
        &hosts,
        &s(&[
            "--incoming-queue",
            &format!("path={}", p(&d.path().join("in"))),
            "--remove",
            "--reliable",
            "--window",
            "100",
            "-s",
            "--outgoing-broker-uri",
            &uri,
            "--outgoing-broker-connect",
            "version=5",
        ]),
    );
    let shares: Vec<usize> = ["127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|a| count_of(&stats, "outgoing", &format!("{a}:{PORT}")))
        .collect();
    assert!(
        shares.iter().all(|&c| c >= n / 20) && shares.iter().sum::<usize>() == n,
        "both addresses get a real share: {stats}"
    );
    let out = d.path().join("out");
    let stats = in_namespace(
        &hosts,
        &consume(&[
            "--count",
            &n.to_string(),
            "--timeout-inactivity",
            "20",
            "--outgoing-queue",
            &format!("path={}", p(&out)),
        ]),
    );
    let got = drain(&out, "DQS");
    assert_eq!(compare(&sent, &got, "through the alias"), 0);
    assert_eq!(got.len(), n);
    for (a, share) in ["127.0.0.2", "127.0.0.3"].iter().zip(shares) {
        assert_eq!(
            count_of(&stats, "incoming", &format!("{a}:{PORT}")),
            share,
            "{stats}"
        );
    }
    drop(brokers);
}
