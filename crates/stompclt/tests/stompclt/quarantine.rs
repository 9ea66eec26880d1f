//! `--quarantine DIR` (the shell's, for every agent): unreadable incoming queue elements
//! (empty, truncated, bad JSON, bad compression, a bad header) are moved aside whole with
//! their reason, counted, and the transfer goes on.

use super::*;

/// The unreadable elements, each as a DQS element's bytes.
const BAD: &[&[u8]] = &[
    b"",
    br#"{"header":{"destination":"/q"},"body":"trunc"#,
    b"not json at all",
    br#"{"header":{},"body":"eJzLSM3JyQcA","encoding":"base64+zlib"}"#,
    br#"{"header":"not a table","body":"x"}"#,
];

#[test]
fn quarantine_sets_aside_unreadable_elements_for_every_agent() {
    for agent in ["stompclt", "amqpclt", "mqttclt", "amsclt"] {
        let bin = test_support::bin::sibling(STOMPCLT, agent);
        let d = tmp();
        let inq = d.path().join("in");
        let sent = mixed(20, "/q");
        fill(&inq, "DQS", &sent);
        let lib = dirq::QueueSimple::new(&inq).expect("open");
        for b in BAD {
            lib.add(b).expect("add");
        }
        let qdir = d.path().join("quarantine");
        let args = vec![
            "--incoming-queue".to_string(),
            format!("path={}", p(&inq)),
            "--outgoing-queue".into(),
            format!("path={}", p(&d.path().join("out"))),
            "--reliable".into(),
            "--remove".into(),
            "--statistics".into(),
            "--quarantine".into(),
            p(&qdir),
        ];
        let out = test_support::bin::output(&bin, &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{agent}: {out:?}");
        assert!(
            stdout.contains("5 unreadable incoming queue elements quarantined"),
            "{agent}: {stdout}"
        );
        assert_eq!(lib.count().expect("count"), 0, "{agent}: the spool drained");
        let got = drain(&d.path().join("out"), "DQS");
        assert_eq!(compare(&sent, &got, agent), 0);
        let mut moved: Vec<String> = std::fs::read_dir(&qdir)
            .expect("quarantine")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        moved.sort();
        let reasons: Vec<&String> = moved.iter().filter(|n| n.ends_with(".reason")).collect();
        assert_eq!(reasons.len(), 5, "{agent}: {moved:?}");
        assert_eq!(
            moved.len(),
            10,
            "{agent}: each element whole, and its reason"
        );
        // the elements as they were, byte for byte
        let mut bytes: Vec<Vec<u8>> = moved
            .iter()
            .filter(|n| !n.ends_with(".reason"))
            .map(|n| std::fs::read(qdir.join(n)).expect("read"))
            .collect();
        bytes.sort();
        let mut want: Vec<Vec<u8>> = BAD.iter().map(|b| b.to_vec()).collect();
        want.sort();
        assert_eq!(bytes, want, "{agent}");
        let reason = std::fs::read_to_string(qdir.join(reasons[0])).expect("reason");
        assert_eq!(reason.lines().count(), 1, "{agent}: one line: {reason}");
        // stderr says it once per element
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches("moved to").count(), 5, "{agent}: {stderr}");
    }
}
