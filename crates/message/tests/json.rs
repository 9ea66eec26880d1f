//! The JSON form: compliance vectors of the references, exact encodings, every malformed
//! input, and property tests.

use std::path::PathBuf;

use message::{Body, Compression, DecodeError, Encoder, Message, decode};
use proptest::prelude::*;

/// The compliance vectors ship with python messaging's sdist; `scripts/setup-python.sh`
/// unpacks it and `scripts/test.sh` points MESSAGING_COMPLIANCE at it.
fn compliance_dir() -> PathBuf {
    PathBuf::from(std::env::var("MESSAGING_COMPLIANCE").unwrap_or_else(|_| {
        panic!(
            "MESSAGING_COMPLIANCE is not set: it names the test/compliance directory of python \
             messaging 1.2's sdist; run scripts/test.sh, or leave this out with `-- --skip compat_`"
        )
    }))
}

#[test]
fn compat_compliance_vectors_decode_to_their_md5() {
    let dir = compliance_dir();
    let mut files = 0;
    let mut ids = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(&dir).expect("compliance directory") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let md5 = name.split('.').next().expect("md5").to_string();
        let bytes = std::fs::read(&p).expect("read vector");
        let m = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.md5(), md5, "{name} decodes to its identity");
        for enc in ["", "zlib", "zlib!", "lz4", "lz4!", "snappy", "snappy!"] {
            let enc: Encoder = enc.parse().expect("encoder");
            let again = decode(enc.encode(&m).as_bytes()).expect("re-decode");
            assert_eq!(again.md5(), md5, "{name} re-encoded with {enc}");
        }
        files += 1;
        ids.insert(md5);
    }
    assert_eq!(
        (files, ids.len()),
        (37, 17),
        "the vector set of messaging 1.2"
    );
}

fn enc(m: &Message) -> String {
    Encoder::default().encode(m)
}

#[test]
fn encodes_what_perl_writes() {
    assert_eq!(enc(&Message::new()), "{}");
    assert_eq!(
        enc(&Message::text("")),
        r#"{"text":true}"#,
        "empty text keeps its flag"
    );
    assert_eq!(
        enc(&Message::text("hello world")),
        r#"{"body":"hello world","text":true}"#
    );
    assert_eq!(
        enc(&Message::binary("hello world")),
        r#"{"body":"hello world"}"#
    );
    let m = Message::binary(&b"abc\xee"[..])
        .with_header("subject", "demo")
        .with_header("destination", "/topic/test");
    assert_eq!(
        enc(&m),
        r#"{"header":{"destination":"/topic/test","subject":"demo"},"body":"YWJj7g==","encoding":"base64"}"#
    );
    assert_eq!(
        enc(&Message::text("café").with_header("k", "v")),
        "{\"header\":{\"k\":\"v\"},\"body\":\"café\",\"text\":true}"
    );
    // Perl keeps TAB, LF and CR raw in a binary body (python would base64 it)
    assert_eq!(
        enc(&Message::binary(&b"line1\nline2\ttab"[..])),
        r#"{"body":"line1\nline2\ttab"}"#
    );
    // control characters and quotes are escaped in JSON strings
    assert_eq!(
        enc(&Message::text("q\"b\\\u{1}\u{7f}")),
        "{\"body\":\"q\\\"b\\\\\\u0001\u{7f}\",\"text\":true}"
    );
}

#[test]
fn compression_rules() {
    let zlib = Encoder::with(Compression::Zlib);
    let long = "a".repeat(1000);
    // ASCII text: no utf8 token; tokens sorted
    let e = zlib.encode(&Message::text(long.clone()));
    assert_eq!(
        e,
        r#"{"body":"eJxLTBwFo2AUDHcAAPnYevg=","text":true,"encoding":"base64+zlib"}"#
    );
    let e = zlib.encode(&Message::text("é".repeat(300)));
    assert!(
        e.ends_with(r#""text":true,"encoding":"base64+utf8+zlib"}"#),
        "{e}"
    );
    // an LZ4 block behind its 4-byte little-endian size (e8 03 00 00 = 1000); the block
    // itself may differ from liblz4's by a few bytes, both are valid
    let e = Encoder::with(Compression::Lz4).encode(&Message::binary(long.as_bytes()));
    assert!(e.starts_with(r#"{"body":"6AMAA"#) && e.ends_with(r#","encoding":"base64+lz4"}"#));
    // 255 and shorter: never compressed unless forced
    let short = Message::text("a".repeat(255));
    assert_eq!(zlib.encode(&short), enc(&short));
    let forced: Encoder = "zlib!".parse().expect("zlib!");
    assert!(
        forced
            .encode(&Message::text("abc"))
            .contains("\"encoding\":\"base64+zlib\"")
    );
    // kept only when it pays off: random bytes do not compress
    let mut rng = message::generator::Rng::new(7);
    let noise: Vec<u8> = (0..2000).map(|_| rng.next_u64() as u8).collect();
    let e = zlib.encode(&Message::binary(noise.clone()));
    assert!(
        e.ends_with(r#""encoding":"base64"}"#),
        "not worth compressing: {e}"
    );
    assert_eq!(
        decode(e.as_bytes()).expect("decode").body,
        Body::Binary(noise)
    );
    for bad in ["gzip", "zlib!!", "!", "ZLIB"] {
        assert!(bad.parse::<Encoder>().is_err(), "{bad}");
    }
}

#[test]
fn decodes_every_spelling() {
    let cases: &[(&str, Message)] = &[
        ("{}", Message::new()),
        (r#"{"text":true}"#, Message::text("")),
        // python's spaced form, \u escapes, its token order
        (
            r#"{"header": {"k": "v"}, "body": "caf\u00e9", "text": true}"#,
            Message::text("café").with_header("k", "v"),
        ),
        (
            r#"{"body": "YWJj7g==", "encoding": "base64"}"#,
            Message::binary(&b"abc\xee"[..]),
        ),
        (
            r#"{"body": "eJxLTBwFo2AUDHcAAPnYevg=", "text": true, "encoding": "utf8+zlib+base64"}"#,
            Message::text("a".repeat(1000)),
        ),
        (
            r#"{"body":"6AMAAB9hAQD////SUGFhYWFh","encoding":"lz4+base64"}"#,
            Message::binary(vec![b'a'; 1000]),
        ),
        // unpadded and wrapped base64
        (
            r#"{"body":"YWJj\n7g","encoding":"base64"}"#,
            Message::binary(&b"abc\xee"[..]),
        ),
        // any truthy text, unknown keys ignored, numbers in the header
        (r#"{"body":"x","text":1,"extra":[1,2]}"#, Message::text("x")),
        (r#"{"body":"x","text":false}"#, Message::binary("x")),
        (
            r#"{"header":{"lid":56}}"#,
            Message::new().with_header("lid", "56"),
        ),
        (r#"{"body":"x","encoding":""}"#, Message::binary("x")),
    ];
    for (json, want) in cases {
        assert_eq!(
            &decode(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}")),
            want,
            "{json}"
        );
    }
    let snappy = Encoder::with(Compression::Snappy).encode(&Message::text("ab".repeat(500)));
    assert!(snappy.contains("base64+snappy"));
    assert_eq!(
        decode(snappy.as_bytes()).expect("snappy"),
        Message::text("ab".repeat(500))
    );
}

#[test]
fn malformed_inputs_have_clear_errors() {
    let err = |s: &[u8]| decode(s).expect_err("must fail").to_string();
    assert!(
        err(b"{not json").starts_with("invalid JSON: key must be a string"),
        "{}",
        err(b"{not json")
    );
    assert!(err(b"").starts_with("invalid JSON: EOF"));
    assert!(err(b"\xff").starts_with("invalid JSON"));
    assert_eq!(
        err(b"[1]"),
        "invalid message: expected a JSON object, found an array"
    );
    assert_eq!(
        err(b" \"x\""),
        "invalid message: expected a JSON object, found a string"
    );
    assert_eq!(
        err(b"12"),
        "invalid message: expected a JSON object, found a number"
    );
    assert!(
        err(br#"{"body":5}"#).contains("expected body as a JSON string"),
        "{}",
        err(br#"{"body":5}"#)
    );
    assert!(err(br#"{"header":[]}"#).contains("expected header as a JSON object of strings"));
    assert!(err(br#"{"header":{"k":null}}"#).contains("expected header values as JSON strings"));
    assert!(err(br#"{"text":[]}"#).contains("expected text as a JSON boolean"));
    assert!(err(br#"{"encoding":1}"#).contains("expected encoding as a JSON string"));
    assert_eq!(
        decode(br#"{"body":"x","encoding":"base64+rot13"}"#),
        Err(DecodeError::UnknownEncoding("rot13".into()))
    );
    assert_eq!(
        err(br#"{"body":"x","encoding":"zlib+lz4"}"#),
        "invalid message: more than one compression in encoding \"zlib+lz4\""
    );
    assert!(
        err(br#"{"body":"!!!!","encoding":"base64"}"#)
            .starts_with("invalid message: body is not valid base64")
    );
    assert!(
        err(br#"{"body":"AAAA","encoding":"base64+zlib"}"#)
            .starts_with("invalid message: body does not decompress with zlib")
    );
    assert!(err(br#"{"body":"/////w==","encoding":"base64+lz4"}"#).contains("with lz4"));
    assert!(err(br#"{"body":"/w==","encoding":"base64+snappy"}"#).contains("with snappy"));
    assert_eq!(
        err(br#"{"body":"/w==","text":true,"encoding":"base64"}"#),
        "invalid message: text body is not valid UTF-8"
    );
    assert_eq!(
        err(br#"{"body":"/w==","encoding":"base64+utf8"}"#),
        "invalid message: text body is not valid UTF-8"
    );
}

fn arb_message() -> impl Strategy<Value = Message> {
    let header = proptest::collection::btree_map(".{0,12}", ".{0,20}", 0..5);
    let body = prop_oneof![
        ".{0,600}".prop_map(Body::Text),
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(Body::Binary),
        // compressible ones
        (0usize..2000).prop_map(|n| Body::Text("abc".repeat(n))),
        (0usize..2000).prop_map(|n| Body::Binary(vec![0u8; n])),
    ];
    (header, body).prop_map(|(header, body)| Message { header, body })
}

proptest! {
    #[test]
    fn encode_then_decode_is_the_identity(m in arb_message(), c in 0usize..7) {
        let enc: Encoder = ["", "zlib", "lz4", "snappy", "zlib!", "lz4!", "snappy!"][c].parse().expect("encoder");
        let json = enc.encode(&m);
        prop_assert_eq!(decode(json.as_bytes()).expect("decodes"), m);
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decoding_mutated_messages_never_panics(m in arb_message(), pos in any::<usize>(), b in any::<u8>()) {
        let mut json = Encoder::with(Compression::Lz4).serialize(&m);
        if !json.is_empty() {
            let i = pos % json.len();
            json[i] = b;
        }
        let _ = decode(&json);
    }
}
