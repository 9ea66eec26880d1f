//! The STOMP frame codec: escaping per version, content-length, NUL and EOL rules, partial
//! input at every cut, and random input that never panics.

use bytes::BytesMut;
use proptest::prelude::*;
use stompclt::frame::{Codec, Frame, FrameError, Item, Version};
use tokio_util::codec::{Decoder, Encoder};

proptest! {
    // the decoder's fuzz target: any bytes, fed whole or in two pieces, give frames or a
    // clean error, never a panic
    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), cut in any::<usize>(), v in 0usize..3) {
        let version = [Version::V1_0, Version::V1_1, Version::V1_2][v];
        let mut c = Codec::new(version, 256);
        let cut = cut % (bytes.len() + 1);
        let mut b = BytesMut::from(&bytes[..cut]);
        let mut ok = true;
        while ok {
            match c.decode(&mut b) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => ok = false,
            }
        }
        if ok {
            b.extend_from_slice(&bytes[cut..]);
            while let Ok(Some(_)) = c.decode(&mut b) {}
        }
    }

    #[test]
    fn frames_round_trip(cmd in "[A-Z]{1,10}", headers in proptest::collection::vec(("[a-z:\\\n-]{1,8}", "[ -~\n\r\\:é]{0,12}"), 0..5), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut f = Frame::new(&cmd);
        for (k, v) in &headers {
            if f.get(k).is_none() {
                f.headers.push((k.clone(), v.clone()));
            }
        }
        f.headers.push(("content-length".into(), body.len().to_string()));
        f.body = body;
        let mut c = codec(Version::V1_2);
        let mut b = BytesMut::new();
        c.encode(&Item::Frame(f.clone()), &mut b).expect("encode");
        prop_assert_eq!(c.decode(&mut b).expect("decode"), Some(Item::Frame(f)));
    }
}

fn codec(v: Version) -> Codec {
    Codec::new(v, 1 << 20)
}

fn decode_all(c: &mut Codec, bytes: &[u8]) -> Result<Vec<Item>, FrameError> {
    let mut b = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(i) = c.decode(&mut b)? {
        out.push(i);
    }
    Ok(out)
}

fn encode(c: &mut Codec, f: Frame) -> Vec<u8> {
    let mut b = BytesMut::new();
    c.encode(&Item::Frame(f), &mut b).expect("encode");
    b.to_vec()
}

#[test]
fn escaping_per_version() {
    let f = Frame::new("SEND").header("k:1", "a\\b\nc\rd");
    assert_eq!(
        encode(&mut codec(Version::V1_0), f.clone()),
        b"SEND\nk:1:a\\b\nc\rd\n\n\0"
    );
    assert_eq!(
        encode(&mut codec(Version::V1_1), f.clone()),
        b"SEND\nk\\c1:a\\\\b\\nc\rd\n\n\0"
    );
    assert_eq!(
        encode(&mut codec(Version::V1_2), f.clone()),
        b"SEND\nk\\c1:a\\\\b\\nc\\rd\n\n\0"
    );
    for v in [Version::V1_1, Version::V1_2] {
        let bytes = encode(&mut codec(v), f.clone());
        let got = decode_all(&mut codec(v), &bytes).expect("decode");
        assert_eq!(got, vec![Item::Frame(f.clone())], "{v:?}");
    }
    // CONNECT and CONNECTED are never escaped
    let c = Frame::new("CONNECT").header("passcode", "a:b\\c");
    assert_eq!(
        encode(&mut codec(Version::V1_2), c),
        b"CONNECT\npasscode:a:b\\c\n\n\0"
    );
}

#[test]
fn bad_escapes_are_errors() {
    let e = decode_all(&mut codec(Version::V1_2), b"MESSAGE\nk:a\\tb\n\n\0").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid escape sequence \"\\\\t\" in header of MESSAGE frame"
    );
    // \r is 1.2 only
    assert!(decode_all(&mut codec(Version::V1_1), b"MESSAGE\nk:a\\rb\n\n\0").is_err());
    // 1.0 takes backslashes literally
    let ok = decode_all(&mut codec(Version::V1_0), b"MESSAGE\nk:a\\tb\n\n\0").expect("1.0");
    assert_eq!(
        ok,
        vec![Item::Frame(Frame::new("MESSAGE").header("k", "a\\tb"))]
    );
}

#[test]
fn repeated_headers() {
    let bytes = b"MESSAGE\nk:first\nk:second\n\n\0";
    let first = decode_all(&mut codec(Version::V1_2), bytes).expect("1.2");
    assert_eq!(
        first,
        vec![Item::Frame(Frame::new("MESSAGE").header("k", "first"))]
    );
    let last = decode_all(&mut codec(Version::V1_0), bytes).expect("1.0");
    assert_eq!(
        last,
        vec![Item::Frame(Frame::new("MESSAGE").header("k", "second"))]
    );
}

#[test]
fn content_length_and_nul() {
    // a body with NULs needs content-length
    let bytes = b"MESSAGE\ncontent-length:3\n\na\0b\0";
    let got = decode_all(&mut codec(Version::V1_2), bytes).expect("decode");
    let Item::Frame(f) = &got[0] else {
        panic!("frame")
    };
    assert_eq!(f.body, b"a\0b");
    // empty content-length: up to the NUL
    let got = decode_all(
        &mut codec(Version::V1_2),
        b"MESSAGE\ncontent-length:\n\nhello\0",
    )
    .expect("decode");
    let Item::Frame(f) = &got[0] else {
        panic!("frame")
    };
    assert_eq!(f.body, b"hello");
    let e = decode_all(
        &mut codec(Version::V1_2),
        b"MESSAGE\ncontent-length:2\n\nabc\0",
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "frame body is not followed by NUL (content-length 2)"
    );
    let e = decode_all(
        &mut codec(Version::V1_2),
        b"MESSAGE\ncontent-length:x\n\n\0",
    );
    assert_eq!(e.unwrap_err().to_string(), "invalid content-length \"x\"");
}

#[test]
fn heart_beats_crlf_and_pipelining() {
    let bytes = b"\n\r\nRECEIPT\r\nreceipt-id:1\r\n\r\n\0\nRECEIPT\nreceipt-id:2\n\n\0\n";
    let got = decode_all(&mut codec(Version::V1_2), bytes).expect("decode");
    assert_eq!(
        got,
        vec![
            Item::HeartBeat,
            Item::HeartBeat,
            Item::Frame(Frame::new("RECEIPT").header("receipt-id", "1")),
            Item::HeartBeat,
            Item::Frame(Frame::new("RECEIPT").header("receipt-id", "2")),
            Item::HeartBeat,
        ]
    );
}

#[test]
fn partial_input_waits_for_more() {
    let whole = b"MESSAGE\ndestination:/queue/a\ncontent-length:5\n\nhello\0";
    for cut in 0..whole.len() {
        let mut c = codec(Version::V1_2);
        let mut b = BytesMut::from(&whole[..cut]);
        assert_eq!(c.decode(&mut b).expect("no error"), None, "cut at {cut}");
        b.extend_from_slice(&whole[cut..]);
        assert!(matches!(
            c.decode(&mut b).expect("decodes"),
            Some(Item::Frame(_))
        ));
    }
}

#[test]
fn malformed_frames() {
    let mut c = Codec::new(Version::V1_2, 64);
    let big = [b"MESSAGE\n\n".as_slice(), &[b'x'; 100]].concat();
    assert_eq!(
        decode_all(&mut c, &big).unwrap_err().to_string(),
        "frame larger than the maximum of 64 bytes"
    );
    let e = decode_all(&mut codec(Version::V1_2), b"MESSAGE\nno-colon\n\n\0").unwrap_err();
    assert_eq!(
        e.to_string(),
        "malformed header line \"no-colon\" in MESSAGE frame"
    );
    let e = decode_all(&mut codec(Version::V1_2), b"MESSAGE\nk:\xff\n\n\0").unwrap_err();
    assert_eq!(e.to_string(), "frame headers are not valid UTF-8");
    let e = decode_all(&mut codec(Version::V1_2), b"\r\n\r\n\0").map(|v| v.len());
    assert_eq!(e.expect("two heart-beats then a lone NUL waits"), 2);
}
