//! A hostile peer of a test's own: the one place a fake server is right, for what no broker
//! sends (sizes beyond any limit, bytes trickled in).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Serves one connection on a free loopback port: `handshake` plays the protocol's opening
/// (false: give up), then `hostile` is written in chunks of `chunk` bytes, `pause` apart, and
/// the connection is held open, silent. Returns the port.
pub fn serve(
    handshake: impl FnOnce(&mut TcpStream) -> bool + Send + 'static,
    hostile: Vec<u8>,
    chunk: usize,
    pause: Duration,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((mut c, _)) = listener.accept() else {
            return;
        };
        if !handshake(&mut c) {
            return;
        }
        for part in hostile.chunks(chunk) {
            if c.write_all(part).is_err() {
                return;
            }
            std::thread::sleep(pause);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    port
}
