//! SIGKILL at random moments of long transfers: nothing lost; no duplicate with --dedup,
//! duplicates counted without.

use std::process::Command;

use test_support::soak::{Popper, SOAK_MESSAGES, receive_under_sigkill, send_under_sigkill};

use super::*;

/// 20 kills while publishing a spool into a persistent session, 20 while draining it,
/// with --dedup (MQTT 5 carries the id as a user property) while another process pops the
/// destination spool; then both run to the end: every message arrives once.
#[test]
fn broker_reliable_survives_20_sigkills_in_each_direction() {
    soak("kill", SOAK_MESSAGES, 20, true);
}

/// Without --dedup the same kills cost duplicates (counted): the mechanism matters.
#[test]
fn broker_sigkills_without_dedup_cost_duplicates() {
    let dups = soak("kill-nodedup", SOAK_MESSAGES / 5, 5, false);
    assert!(dups > 0, "kills without --dedup cost duplicates");
}

/// `n` messages published under `kills` kills, then drained under as many; returns the
/// duplicates.
fn soak(name: &str, n: usize, kills: u64, dedup: bool) -> usize {
    let d = tmp();
    let t = topic(name);
    let id = client_id(name);
    let sent = mixed(n, &t);
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    subscribe_session(&id, &t, &V5);
    let runs = send_under_sigkill(&inq, kills, || {
        let mut cmd = Command::new(MQTTCLT);
        cmd.args(s(&["--reliable", "--window", "200", "--remove"]))
            .args(["--incoming-queue".into(), format!("path={}", p(&inq))])
            .args(["--outgoing-broker-uri".into(), uri()]);
        if dedup {
            cmd.arg("--dedup")
                .args(["--dedup-state".into(), p(&d.path().join("state"))]);
        }
        cmd
    });
    let outq = d.path().join("out");
    let receiver = || {
        let mut cmd = Command::new(MQTTCLT);
        cmd.arg("--reliable")
            .args(["--subscribe".into(), format!("topic={t} qos=1")])
            .args([
                "--incoming-broker-connect".into(),
                format!("client-id={id}"),
            ])
            .args(["--outgoing-queue".into(), format!("path={}", p(&outq))])
            .args(["--incoming-broker-uri".into(), uri()]);
        if dedup {
            cmd.arg("--dedup");
        }
        cmd
    };
    let popper = Popper::start(&outq);
    receive_under_sigkill(kills, receiver, || popper.count(), sent.len());
    let out = receiver()
        .args(["--timeout-inactivity", "5"])
        .output()
        .expect("final receive");
    assert!(out.status.success(), "{out:?}");
    let got = popper.finish();
    let dups = compare(&sent, &got, "mosquitto kill -9");
    if dedup {
        assert_eq!(dups, 0, "exactly once with --dedup");
    }
    eprintln!(
        "mosquitto (--dedup {dedup}): {runs} runs killed sending, {kills} receiving; {} messages received, {dups} duplicates, 0 lost",
        got.len()
    );
    dups
}

/// The will: published by the broker when a connection dies without DISCONNECT.
#[test]
fn broker_the_will_is_published_when_mqttclt_dies() {
    let d = tmp();
    let (t, w) = (topic("will-sub"), topic("will"));
    let id = client_id("will");
    subscribe_session(&id, &w, &V5);
    let mut agent = Command::new(MQTTCLT)
        .args(["--incoming-broker-uri".into(), uri()])
        .args(["--subscribe".into(), format!("topic={t}")])
        .args([
            "--will".into(),
            format!("topic={w} payload=agent%20died qos=1"),
        ])
        .args(s(&["--outgoing-queue", "type=NULL"]))
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Child::kill is SIGKILL: no DISCONNECT goes out
    agent.kill().expect("kill");
    let _ = agent.wait();
    receive(&id, &w, 1, &d.path().join("out"), &V5);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body.as_bytes(), b"agent died");
}
