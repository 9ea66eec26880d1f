//! A hostile AMQP peer of the test's own (no broker sends these): a frame announcing 100 GiB
//! where SASL (1.0) or the connection's start (0-9-1) begins, a protocol header or connection
//! start trickled in a byte at a time, and an AMQP 0-9-1 peer that tunes no frame limit and
//! then sends a frame over ours. amqpclt refuses the large ones before reading them and cuts
//! the slow ones at `--timeout-connect`, each with a one-line error and the documented exit
//! status.

use super::*;
use std::io::Read;
use std::time::{Duration, Instant};

/// Serves one connection: reads the client's protocol header, then writes `hostile` in chunks
/// of `chunk` bytes, `pause` apart, and holds the connection.
fn peer(hostile: Vec<u8>, chunk: usize, pause: Duration) -> u16 {
    test_support::hostile::serve(
        |c| {
            let mut header = [0u8; 8];
            c.read_exact(&mut header).is_ok()
        },
        hostile,
        chunk,
        pause,
    )
}

fn send_to(port: u16, extra: &[&str]) -> (Output, Duration) {
    send_with(port, "amqp1", extra)
}

fn send_with(port: u16, module: &str, extra: &[&str]) -> (Output, Duration) {
    let d = tmp();
    fill(&d.path().join("in"), "DQS", &mixed(1, "/queue/x"));
    let mut args = s(&[
        "--outgoing-broker-uri",
        &format!("amqp://127.0.0.1:{port}"),
        "--outgoing-broker-module",
        module,
        "--incoming-queue",
    ]);
    args.push(format!("path={}", p(&d.path().join("in"))));
    args.extend(s(extra));
    let t = Instant::now();
    let out = run(&args);
    (out, t.elapsed())
}

#[test]
fn a_frame_announced_too_large_is_refused() {
    // the SASL protocol header, then a frame header of 0xFFFFFFFF bytes
    let mut hostile = b"AMQP\x03\x01\x00\x00".to_vec();
    hostile.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0]);
    let port = peer(hostile, 64, Duration::ZERO);
    let (out, took) = send_to(port, &[]);
    let err = one_line_error(&out, 3);
    assert!(err.contains("127.0.0.1"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_header_trickled_in_is_cut_at_timeout_connect() {
    let port = peer(
        b"AMQP\x03\x01\x00\x00".to_vec(),
        1,
        Duration::from_millis(700),
    );
    let (out, took) = send_to(port, &["--timeout-connect", "2"]);
    let err = one_line_error(&out, 3);
    assert!(err.contains("within 2s"), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn an_amqp091_frame_announced_too_large_is_refused() {
    // a method frame on channel 0 announcing 0xFFFFFFFF bytes where connection.start goes
    let port = peer(
        vec![1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 10, 0, 10],
        64,
        Duration::ZERO,
    );
    refused_091(port);
}

/// An AMQP 0-9-1 frame: type, channel, payload, frame end.
fn frame(kind: u8, channel: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![kind];
    f.extend_from_slice(&channel.to_be_bytes());
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    f.extend_from_slice(payload);
    f.push(0xce);
    f
}

/// A method frame: class and method ids, then the arguments as encoded.
fn method(channel: u16, class: u16, id: u16, args: &[u8]) -> Vec<u8> {
    let mut p = class.to_be_bytes().to_vec();
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(args);
    frame(1, channel, &p)
}

/// connection.start: version 0-9, no server properties, PLAIN, en_US.
fn connection_start() -> Vec<u8> {
    let mut args = vec![0, 9, 0, 0, 0, 0];
    for s in ["PLAIN", "en_US"] {
        args.extend_from_slice(&(s.len() as u32).to_be_bytes());
        args.extend_from_slice(s.as_bytes());
    }
    method(0, 10, 10, &args)
}

/// Reads one frame whole (its payload is not looked at).
fn read_frame(c: &mut std::net::TcpStream) -> bool {
    let mut head = [0u8; 7];
    if c.read_exact(&mut head).is_err() {
        return false;
    }
    let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
    let mut rest = vec![0u8; size + 1];
    c.read_exact(&mut rest).is_ok()
}

#[test]
fn an_amqp091_peer_without_a_frame_limit_gets_ours() {
    use std::io::Write;
    // the broker's side of the opening, with connection.tune proposing no frame limit (0,
    // which lapin alone would take for 4 GiB frames and size its buffers for); then a body
    // frame of 200 KiB on the channel, over the 128 KiB amqpclt asks for
    let port = test_support::hostile::serve(
        |c| {
            let mut header = [0u8; 8];
            c.read_exact(&mut header).is_ok()
                && c.write_all(&connection_start()).is_ok()
                && read_frame(c) // start-ok
                && c.write_all(&method(0, 10, 30, &[0, 0, 0, 0, 0, 0, 0, 0])).is_ok()
                && read_frame(c) // tune-ok
                && read_frame(c) // open
                && c.write_all(&method(0, 10, 41, &[0])).is_ok()
                && read_frame(c) // channel.open
                && c.write_all(&method(1, 20, 11, &[0, 0, 0, 0])).is_ok()
        },
        frame(3, 1, &vec![b'x'; 200 * 1024]),
        64 * 1024,
        Duration::ZERO,
    );
    refused_091(port);
}

#[test]
fn an_amqp091_opening_trickled_in_is_cut_at_timeout_connect() {
    let port = peer(connection_start(), 1, Duration::from_millis(700));
    let (out, took) = send_with(port, "pika", &["--timeout-connect", "2"]);
    let err = one_line_error(&out, 3);
    assert!(err.contains("within 2s"), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// An AMQP 0-9-1 send to the hostile peer on `port`: ended by amqpclt itself (not a signal),
/// failed with one line within seconds, its resident size bounded.
fn refused_091(port: u16) {
    let (out, took) = send_with(port, "pika", &["--timeout-connect", "3"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.code().is_some(), "ended by a signal: {out:?}");
    assert!(!out.status.success(), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    assert!(u.ru_maxrss < 200 * 1024, "{} KiB", u.ru_maxrss);
}
