//! A hostile STOMP peer of the test's own (the one place a fake server is right: no broker
//! sends these): a MESSAGE announcing 100 GiB, a MESSAGE with endless headers, and a frame
//! trickled in a byte at a time. stompclt refuses each before allocating it, or cuts it at
//! `--timeout-frame`, with a one-line error and the documented exit status.

use super::*;
use std::io::{Read, Write};

/// Serves one connection: reads CONNECT, answers CONNECTED (1.2), reads the SUBSCRIBE, then
/// writes `hostile` in chunks of `chunk` bytes, `pause` apart.
fn peer(hostile: Vec<u8>, chunk: usize, pause: Duration) -> u16 {
    test_support::hostile::serve(
        |c| {
            let mut frames = 0;
            let mut b = [0u8; 1];
            // CONNECT, then SUBSCRIBE: each ends with a NUL
            while frames < 2 && c.read_exact(&mut b).is_ok() {
                if b[0] == 0 {
                    frames += 1;
                    if frames == 1 {
                        let _ = c.write_all(b"CONNECTED\nversion:1.2\n\n\0");
                    }
                }
            }
            true
        },
        hostile,
        chunk,
        pause,
    )
}

fn receive_from(port: u16, extra: &[&str]) -> (Output, Duration) {
    let d = tmp();
    let mut args = s(&[
        "--incoming-broker-uri",
        &format!("stomp://127.0.0.1:{port}"),
        "--subscribe",
        "destination=/queue/x",
        "--outgoing-queue",
    ]);
    args.push(format!("path={}", p(&d.path().join("out"))));
    args.extend(s(extra));
    let t = Instant::now();
    let out = run(&args);
    (out, t.elapsed())
}

/// The largest resident size of the children waited for so far, in KiB.
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    u.ru_maxrss
}

#[test]
fn a_frame_announced_too_large_is_refused_before_it_is_read() {
    let port = peer(
        b"MESSAGE\ndestination:/queue/x\nmessage-id:1\nsubscription:0\ncontent-length:107374182400\n\nxxxx"
            .to_vec(),
        1 << 20,
        Duration::ZERO,
    );
    let (out, took) = receive_from(port, &[]);
    let err = one_line_error(&out, 5);
    assert!(err.contains("frame larger than the maximum"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        children_max_rss_kib() < 200 * 1024,
        "{} KiB",
        children_max_rss_kib()
    );
}

#[test]
fn endless_headers_are_refused() {
    let mut hostile = b"MESSAGE\n".to_vec();
    for i in 0..5000 {
        hostile.extend_from_slice(format!("h{i}:v\n").as_bytes());
    }
    hostile.extend_from_slice(b"\nbody\0");
    let port = peer(hostile, 64 << 10, Duration::ZERO);
    let (out, _) = receive_from(port, &[]);
    let err = one_line_error(&out, 5);
    assert!(err.contains("more than 1000 header lines"), "{err}");
}

#[test]
fn a_frame_trickled_in_is_cut_at_timeout_frame() {
    let port = peer(
        b"MESSAGE\ndestination:/queue/x\nmessage-id:1\nsubscription:0\n\nslow body\0".to_vec(),
        1,
        Duration::from_millis(250),
    );
    let (out, took) = receive_from(port, &["--timeout-frame", "2"]);
    let err = one_line_error(&out, 5);
    assert!(err.contains("not complete"), "{err}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
}
