//! A TCP proxy that can be told to stop passing the server's bytes: a broker gone silent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A TCP proxy to a real broker that can stop passing the broker's bytes on: a broker that
/// went silent (no heart-beats), for fault injection.
pub struct SilencingProxy {
    /// The port to connect to instead of the broker's.
    pub port: u16,
    /// Set: the broker's bytes are no longer passed on.
    pub silent: Arc<AtomicBool>,
}

impl SilencingProxy {
    /// Listens on a free loopback port and passes each connection to `upstream`
    /// (`host:port`).
    pub fn start(upstream: &str) -> SilencingProxy {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        let upstream = upstream.to_string();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(broker) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut c_in, mut c_out) = (client.try_clone().expect("clone"), client);
                let (mut b_in, mut b_out) = (broker.try_clone().expect("clone"), broker);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_in.read(&mut buf) {
                        if n == 0 || b_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
                let flag = flag.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = b_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if !flag.load(Ordering::Relaxed) && c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        SilencingProxy { port, silent }
    }
}
