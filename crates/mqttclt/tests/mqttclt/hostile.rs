//! A hostile MQTT peer of the test's own (no broker sends these): a packet announcing more
//! than the protocol's 256 MB, and a PUBLISH trickled in a byte at a time. mqttclt refuses
//! the first before reading it, and cuts the second when the keep-alive's ping goes
//! unanswered (the PINGRESP never comes out from behind the unfinished packet).

use super::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Serves one connection: CONNACK to the CONNECT, SUBACK to the SUBSCRIBE (its packet id
/// echoed), then `hostile` in chunks of `chunk` bytes, `pause` apart.
fn peer(hostile: Vec<u8>, chunk: usize, pause: Duration) -> u16 {
    test_support::hostile::serve(
        |c| {
            let Some((1, _)) = packet(c) else {
                return false;
            };
            let _ = c.write_all(&[0x20, 0x02, 0x00, 0x00]);
            let Some((8, sub)) = packet(c) else {
                return false;
            };
            c.write_all(&[0x90, 0x03, sub[0], sub[1], 0x01]).is_ok()
        },
        hostile,
        chunk,
        pause,
    )
}

/// One packet from the client: its type, and what follows its remaining length.
fn packet(c: &mut std::net::TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut b = [0u8; 1];
    c.read_exact(&mut b).ok()?;
    let kind = b[0] >> 4;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        c.read_exact(&mut b).ok()?;
        len |= ((b[0] & 0x7f) as usize) << shift;
        shift += 7;
        if b[0] & 0x80 == 0 {
            break;
        }
    }
    let mut rest = vec![0u8; len];
    c.read_exact(&mut rest).ok()?;
    Some((kind, rest))
}

fn receive_from(port: u16, extra: &[&str]) -> (Output, Duration) {
    let d = tmp();
    let mut args = s(&[
        "--incoming-broker-uri",
        &format!("mqtt://127.0.0.1:{port}"),
        "--incoming-broker-connect",
        "version=3.1.1",
        "--subscribe",
        "topic=x qos=1",
        "--outgoing-queue",
    ]);
    args.push(format!("path={}", p(&d.path().join("out"))));
    args.extend(s(extra));
    let t = Instant::now();
    let out = run(&args);
    (out, t.elapsed())
}

#[test]
fn a_packet_announced_too_large_is_refused() {
    // remaining length 0xFFFFFFFF... : five varint bytes, beyond MQTT's four
    let port = peer(
        vec![0x32, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1],
        64,
        Duration::ZERO,
    );
    let (out, took) = receive_from(port, &[]);
    let err = one_line_error(&out, 5);
    assert!(err.contains("malformed packet"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_packet_trickled_in_is_cut_by_the_keep_alive() {
    let mut publish = vec![0x32, 0x0e, 0x00, 0x01, b'x', 0x00, 0x01];
    publish.extend_from_slice(b"slow body");
    let port = peer(publish, 1, Duration::from_millis(500));
    let (out, took) = receive_from(
        port,
        &["--incoming-broker-connect", "version=3.1.1 keep-alive=2"],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("no answer to a ping"), "{err}");
    assert!(took < Duration::from_secs(8), "{took:?}");
}
