//! Clients no one here wrote, against the emulator: Google's own `google-cloud-pubsub` (over
//! gRPC) and ARGO's `argo-ams-library` (over REST, its routes switched to plain http), from
//! the .venv of scripts/setup-python.sh (`tests/python/pubsub_peer.py`). Each reads what
//! amsclt publishes, and amsclt receives what each publishes.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;

/// Runs the peer with these arguments; its standard output.
fn peer(args: &[&str]) -> String {
    let python = std::env::var("REF_PYTHON").expect(
        "REF_PYTHON is not set: compat tests need the .venv of scripts/setup-python.sh \
         (google-cloud-pubsub, argo-ams-library); leave them out with `-- --skip compat_`",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/pubsub_peer.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .env("PUBSUB_EMULATOR_HOST", pubsub::host())
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// 100 text messages amsclt publishes, read by the peer (`gcp` or `ams`); then 100 the peer
/// publishes, received by amsclt.
fn both_ways(kind: &str) {
    let d = tmp();
    let (topic, sub) = pubsub::topic_and_subscription(&format!("compat-{kind}"), 60);
    let sent: Vec<Message> = (0..100)
        .map(|i| Message::text(format!("amsclt {i} ü")).with_header("i", i.to_string()))
        .collect();
    fill(&d.path().join("in"), "DQS", &sent);
    send_spool(&d.path().join("in"), &["--topic", &topic]);
    let (pull, publish) = (format!("{kind}-pull"), format!("{kind}-publish"));
    let project = pubsub::PROJECT;
    let host = pubsub::host();
    let mut args: Vec<&str> = vec![&pull];
    if kind == "ams" {
        args.push(&host);
    }
    args.extend([project, &sub, "100"]);
    let mut got: BTreeMap<String, String> = BTreeMap::new();
    for line in peer(&args).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let data = STANDARD
            .decode(v["data"].as_str().expect("data"))
            .expect("base64");
        let i = v["attributes"]["i"]
            .as_str()
            .expect("attribute i")
            .to_string();
        got.insert(i, String::from_utf8(data).expect("UTF-8"));
    }
    assert_eq!(got.len(), 100, "{kind} read each message");
    for (i, body) in &got {
        assert_eq!(body, &format!("amsclt {i} ü"));
    }
    // the reverse
    let mut args: Vec<&str> = vec![&publish];
    if kind == "ams" {
        args.push(&host);
    }
    args.extend([project, &topic, "100"]);
    peer(&args);
    receive(&sub, &d.path().join("out"), 100, &[]);
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 100);
    for m in &got {
        assert!(m.is_text());
        let i = &m.header["i"];
        assert_eq!(m.body.as_bytes(), format!("{kind} {i}").as_bytes());
        assert_eq!(m.header["destination"], sub);
    }
}

#[test]
fn compat_google_cloud_pubsub_reads_what_amsclt_publishes_and_the_reverse() {
    both_ways("gcp");
}

#[test]
fn compat_argo_ams_library_reads_what_amsclt_publishes_and_the_reverse() {
    both_ways("ams");
}
