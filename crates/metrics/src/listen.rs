//! `/metrics` over HTTP: a thread that answers one short request per connection. A scrape
//! every few seconds needs no HTTP library: the request line is all that is read.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::Render;

/// What can go wrong with a listen address.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Not `PORT`, `HOST:PORT` or `[V6]:PORT`.
    #[error("invalid metrics address {0:?}: expected PORT, HOST:PORT or [IPV6]:PORT")]
    Syntax(String),
    /// The host name does not resolve.
    #[error("invalid metrics address {addr:?}: {source}")]
    Resolve {
        /// As given.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// 0.0.0.0 or :: without the explicit permission.
    #[error(
        "metrics address {0} listens on every interface: give a loopback or interface address, \
         or add {1} to mean it"
    )]
    Wildcard(String, &'static str),
    /// The listening thread could not start.
    #[error("cannot serve metrics")]
    Serve {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// bind(2) failed.
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Parses a `--metrics-listen` value: `PORT` alone means loopback (127.0.0.1); a wildcard
/// address (0.0.0.0, ::) is refused unless `allow_wildcard` (the option named by `flag`).
pub fn parse_listen(
    s: &str,
    allow_wildcard: bool,
    flag: &'static str,
) -> Result<SocketAddr, ListenError> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let addr = match s.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            let Some((host, port)) = s.rsplit_once(':') else {
                return Err(ListenError::Syntax(s.into()));
            };
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(ListenError::Syntax(s.into()));
            }
            (host, port.parse::<u16>().unwrap_or(0))
                .to_socket_addrs()
                .map_err(|source| ListenError::Resolve {
                    addr: s.into(),
                    source,
                })?
                .next()
                .ok_or_else(|| ListenError::Syntax(s.into()))?
        }
    };
    if addr.ip().is_unspecified() && !allow_wildcard {
        return Err(ListenError::Wildcard(addr.to_string(), flag));
    }
    Ok(addr)
}

/// A running `/metrics` listener (its thread lives as long as the process).
#[derive(Debug)]
pub struct Listener {
    addr: SocketAddr,
}

impl Listener {
    /// Binds now (so that a taken port fails the start) and serves from a thread.
    pub fn start(addr: SocketAddr, render: Render) -> Result<Self, ListenError> {
        let l = TcpListener::bind(addr).map_err(|source| ListenError::Bind { addr, source })?;
        Self::serve(l, render)
    }

    /// Serves a socket bound earlier (before a daemon's fork, say) from a thread.
    pub fn serve(l: TcpListener, render: Render) -> Result<Self, ListenError> {
        let addr = l
            .local_addr()
            .map_err(|source| ListenError::Serve { source })?;
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for conn in l.incoming().flatten() {
                    // a client that stalls costs at most the timeouts, and only the scrape
                    let _ = answer(conn, &render);
                }
            })
            .map_err(|source| ListenError::Serve { source })?;
        Ok(Listener { addr })
    }

    /// The bound address (the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /metrics`.
    Metrics,
    /// `GET /`.
    Index,
    /// Any other path.
    NotFound,
    /// Any other method.
    NotAllowed,
}

/// The route of a request (its first line is all that counts, whatever bytes it holds), and
/// whether the answer is its head alone (`HEAD`).
pub fn route(request: &[u8]) -> (Route, bool) {
    let line = String::from_utf8_lossy(request);
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let route = match (method, path) {
        ("GET" | "HEAD", "/metrics") => Route::Metrics,
        ("GET" | "HEAD", "/") => Route::Index,
        ("GET" | "HEAD", _) => Route::NotFound,
        _ => Route::NotAllowed,
    };
    (route, method == "HEAD")
}

fn answer(mut conn: TcpStream, render: &Render) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16384 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let (route, head_only) = route(&req);
    let (status, ctype, body) = match route {
        Route::Metrics => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render().render(),
        ),
        Route::Index => (
            "200 OK",
            "text/plain; charset=utf-8",
            "metrics are at /metrics\n".to_string(),
        ),
        Route::NotFound => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: metrics are at /metrics\n".to_string(),
        ),
        Route::NotAllowed => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET\n".to_string(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    if !head_only {
        conn.write_all(body.as_bytes())?;
    }
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn addresses() {
        let f = "--metrics-any";
        assert_eq!(
            parse_listen("9100", false, f).unwrap(),
            "127.0.0.1:9100".parse().unwrap()
        );
        assert_eq!(
            parse_listen("[::1]:9", false, f).unwrap(),
            "[::1]:9".parse().unwrap()
        );
        assert!(
            parse_listen("localhost:9100", false, f)
                .unwrap()
                .ip()
                .is_loopback()
        );
        let e = parse_listen("0.0.0.0:9100", false, f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("every interface") && e.contains("--metrics-any"),
            "{e}"
        );
        assert!(parse_listen("[::]:9100", true, f).is_ok());
        for bad in ["", "x", "host:", ":9", "1.2.3.4:99999"] {
            assert!(parse_listen(bad, false, f).is_err(), "{bad}");
        }
    }

    #[test]
    fn serves_metrics() {
        let render: Render = Arc::new(|| {
            let mut e = crate::Exposition::new();
            e.counter("t_total", "T.").sample(&[], 7.0);
            e
        });
        let l = Listener::start("127.0.0.1:0".parse().unwrap(), render).unwrap();
        let get = |path: &str| {
            let mut c = TcpStream::connect(l.addr()).unwrap();
            write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut s = String::new();
            c.read_to_string(&mut s).unwrap();
            s
        };
        let ok = get("/metrics");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\nt_total 7\n"), "{ok}");
        assert!(get("/other").starts_with("HTTP/1.1 404"));
    }
}
