//! The built-in filters that replace the reference's Perl callbacks.

use super::*;

#[test]
fn built_in_filters_replace_the_callback_one_liners() {
    let d = tmp();
    let msgs: Vec<Message> = (0..10)
        .map(|i| {
            let body = if i % 3 == 0 {
                format!("error {i}")
            } else {
                format!("fine {i}")
            };
            Message::text(body)
                .with_header("destination", "/queue/old")
                .with_header("message-id", format!("ID:{i}"))
                .with_header("x-index", i.to_string())
                .with_header("x-drop-me", "1")
        })
        .collect();
    fill(&d.path().join("in"), "DQS", &msgs);
    let out = ok(&qq_args(
        d.path(),
        &[
            "--remove",
            "--reliable",
            "-s",
            "--strip-broker-headers",
            "--header-delete",
            "x-drop-me",
            "--header-rename",
            "x-index=x-number",
            "--header-set",
            "destination=/queue/new",
            "--header-set",
            "persistent=true",
            "--drop-if",
            "body=^error",
            "--tap",
            &format!("path={}", p(&d.path().join("tap"))),
        ],
    ));
    assert!(
        out.starts_with("processed 10 messages"),
        "dropped ones count: {out}"
    );
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 6);
    for m in &got {
        assert_eq!(
            m.header.keys().map(String::as_str).collect::<Vec<_>>(),
            ["destination", "persistent", "x-number"]
        );
        assert_eq!(m.header["destination"], "/queue/new");
        assert!(m.body.as_bytes().starts_with(b"fine"));
    }
    assert_eq!(
        drain(&d.path().join("tap"), "DQS").len(),
        6,
        "the tap saw what was passed on"
    );
    assert_eq!(
        drain(&d.path().join("in"), "DQS").len(),
        0,
        "dropped ones were acknowledged"
    );
    let out = run(&qq_args(d.path(), &["--keep-if", "body=("]));
    assert_eq!(out.status.code(), Some(2));
}

/// The reference's own callback one-liners (header assignments and deletions, as its
/// manual and examples write them) become the filters; other Perl is still refused.
#[test]
fn the_references_header_edit_callbacks_become_filters() {
    let d = tmp();
    let msgs: Vec<Message> = (0..5)
        .map(|i| {
            Message::text(format!("m {i}"))
                .with_header("x-index", i.to_string())
                .with_header("x-drop-me", "1")
        })
        .collect();
    fill(&d.path().join("in"), "DQS", &msgs);
    let code = "$hdr{destination} = \"/queue/myapp.data\";\n$hdr{persistent} = \"true\";\ndelete $hdr{'x-drop-me'};\n";
    ok(&qq_args(d.path(), &["--remove", "--callback-code", code]));
    let got = drain(&d.path().join("out"), "DQS");
    assert_eq!(got.len(), 5);
    for m in &got {
        assert_eq!(m.header["destination"], "/queue/myapp.data");
        assert_eq!(m.header["persistent"], "true");
        assert!(!m.header.contains_key("x-drop-me"), "{:?}", m.header);
    }
    let out = run(&qq_args(d.path(), &["--callback-code", "print $hdr{x};"]));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("run Perl code"));
}
