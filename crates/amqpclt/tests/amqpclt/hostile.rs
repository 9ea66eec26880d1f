//! A hostile AMQP peer of the test's own (no broker sends these): a frame announcing 100 GiB
//! where SASL (1.0) or the connection's start (0-9-1) begins, and a protocol header trickled in
//! a byte at a time. amqpclt refuses the first before reading it and cuts the second at
//! `--timeout-connect`, each with a one-line error and the documented exit status.

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
    let (out, took) = send_with(port, "pika", &["--timeout-connect", "3"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    assert!(u.ru_maxrss < 200 * 1024, "{} KiB", u.ru_maxrss);
}
