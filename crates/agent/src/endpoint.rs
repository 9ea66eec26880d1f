//! Where a broker is: one URI, a `failover:(…)` list with its backoff, or a `file:` holding
//! either; and the connection loop that goes through the list with that backoff.

use std::fmt;
use std::time::{Duration, Instant};

use transfer::{Error as TransferError, ErrorKind, StopFlag};

use crate::error::{Error, usage};

/// Which side of the transfer a broker is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The source.
    Incoming,
    /// The destination.
    Outgoing,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Incoming => "incoming",
            Side::Outgoing => "outgoing",
        })
    }
}

/// What a URI scheme means to a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain TCP.
    Plain,
    /// TLS over TCP.
    Tls,
    /// Known but refused, with the reason (`udp://`: not supported).
    Refused(&'static str),
}

/// One server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS on this server.
    pub tls: bool,
    /// The URI's path without its `/` (an AMQP virtual host), if it has one.
    pub path: Option<String>,
    /// One address of `host`, from an `all:` alias: dialed instead of resolving `host`,
    /// which still names the server to TLS.
    pub address: Option<std::net::IpAddr>,
}

impl Endpoint {
    /// `host:port`, `[v6]:port`: how messages name the peer.
    pub fn peer(&self) -> String {
        if let Some(a) = self.address {
            return std::net::SocketAddr::new(a, self.port).to_string();
        }
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// ActiveMQ-style failover for the initial connection (milliseconds in the URI); also the
/// backoff of `--reconnect`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failover {
    /// `initialReconnectDelay` (10 ms).
    pub initial: Duration,
    /// `maxReconnectDelay` (30 s).
    pub max: Duration,
    /// `backOffMultiplier` (2).
    pub multiplier: f64,
    /// `useExponentialBackOff` (true).
    pub exponential: bool,
    /// `randomize` (true): the list is shuffled.
    pub randomize: bool,
    /// `maxReconnectAttempts` (unlimited).
    pub max_attempts: Option<u64>,
}

impl Default for Failover {
    fn default() -> Self {
        Failover {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            exponential: true,
            randomize: true,
            max_attempts: None,
        }
    }
}

/// The servers of a broker URI and, for a list, how to go through them.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    /// The servers, in the URI's order (at least one).
    pub servers: Vec<Endpoint>,
    /// `failover:` and `file:` lists: the policy; `None` for a single URI. For `all:`, the
    /// backoff with which a broker that is down is tried again.
    pub failover: Option<Failover>,
    /// `all:`: every server is a broker of its own, all used at once (consume from all,
    /// produce to any); see [`Endpoints::members`].
    pub all: bool,
}

/// The port a scheme's servers listen on unless told otherwise (the IANA registrations, and
/// STOMP's customary 61613); schemes that several protocols or ports share (`tcp`, `ssl`,
/// `stomp+ssl`) have none, so their URIs name the port.
pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "stomp" => 61613,
        "amqp" => 5672,
        "amqps" => 5671,
        "mqtt" => 1883,
        "mqtts" => 8883,
        "http" => 80,
        "https" => 443,
        _ => return None,
    })
}

/// Parses `SCHEME://host[:port]` (the scheme's default port when none is given), IPv6 as
/// `[::1]`.
/// Refuses a URI with a user (and password) in it, saying so with the password hidden: a
/// credential goes in `-auth`, where `pass-file=` keeps it out of `ps`.
fn no_userinfo(uri: &str, side: Side) -> Result<(), Error> {
    let (shown, found) = crate::secret::hide_userinfo(uri);
    if found {
        return Err(usage(format!(
            "invalid {side}-broker-uri {shown:?}: a user or password does not belong in a URI \
             (give it with --{side}-broker-auth 'plain name=USER pass-file=FILE')"
        )));
    }
    Ok(())
}

fn parse_one(uri: &str, side: Side, schemes: &[(&str, Scheme)]) -> Result<Endpoint, Error> {
    no_userinfo(uri, side)?;
    let bad = |why: &str| usage(format!("invalid {side}-broker-uri {uri:?}: {why}"));
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| bad("expected SCHEME://HOST:PORT"))?;
    let tls = match schemes.iter().find(|(s, _)| *s == scheme).map(|(_, k)| *k) {
        Some(Scheme::Plain) => false,
        Some(Scheme::Tls) => true,
        Some(Scheme::Refused(why)) => return Err(bad(why)),
        None => {
            let known: Vec<&str> = schemes
                .iter()
                .filter(|(_, k)| !matches!(k, Scheme::Refused(_)))
                .map(|(s, _)| *s)
                .collect();
            return Err(bad(&format!("unknown scheme ({})", known.join(", "))));
        }
    };
    let (rest, path) = match rest.split_once('/') {
        Some((hp, p)) if !p.is_empty() => (hp, Some(config_general::percent_decode(p))),
        Some((hp, _)) => (hp, None),
        None => (rest, None),
    };
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        match r.split_once("]:") {
            Some((h, p)) => (h, Some(p)),
            None => (
                r.strip_suffix(']')
                    .ok_or_else(|| bad("expected [IPV6] or [IPV6]:PORT"))?,
                None,
            ),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| bad("invalid port"))?,
        None => default_port(scheme)
            .ok_or_else(|| bad(&format!("missing port ({scheme}:// has no default port)")))?,
    };
    Ok(Endpoint {
        host: host.to_string(),
        port,
        tls,
        path,
        address: None,
    })
}

/// `all:SCHEME://alias:port`: one server per address the alias has (A and AAAA).
fn resolve_alias(ep: Endpoint, bad: impl Fn(String) -> Error) -> Result<Vec<Endpoint>, Error> {
    use std::net::ToSocketAddrs;
    let addrs = (ep.host.as_str(), ep.port)
        .to_socket_addrs()
        .map_err(|e| bad(format!("cannot resolve {}: {e}", ep.host)))?;
    let mut seen = Vec::new();
    for a in addrs {
        if !seen.contains(&a.ip()) {
            seen.push(a.ip());
        }
    }
    if seen.is_empty() {
        return Err(bad(format!("{} has no address", ep.host)));
    }
    Ok(seen
        .into_iter()
        .map(|a| Endpoint {
            address: Some(a),
            ..ep.clone()
        })
        .collect())
}

/// `(list)?query` or `list?query`.
fn list_and_query(rest: &str) -> Result<(&str, &str), String> {
    if let Some(r) = rest.strip_prefix('(') {
        let (l, q) = r.split_once(')').ok_or("missing ')'")?;
        Ok((l, q.strip_prefix('?').unwrap_or("")))
    } else {
        Ok(rest.split_once('?').unwrap_or((rest, "")))
    }
}

impl Endpoints {
    /// A broker URI: one server, `failover:(uri,…)?options` or `failover:uri,…`, or
    /// `file:/path` holding one URI a line (`#` comments), whose single line may be a
    /// failover.
    pub fn parse(uri: &str, side: Side, schemes: &[(&str, Scheme)]) -> Result<Endpoints, Error> {
        no_userinfo(uri, side)?;
        let bad = |why: String| usage(format!("invalid {side}-broker-uri {uri:?}: {why}"));
        if let Some(path) = uri.strip_prefix("file:") {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
            let lines: Vec<&str> = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .collect();
            return match lines.as_slice() {
                [] => Err(bad("the file holds no URI".into())),
                [one] => Endpoints::parse(one, side, schemes),
                many => Ok(Endpoints {
                    servers: many
                        .iter()
                        .map(|l| parse_one(l, side, schemes))
                        .collect::<Result<_, _>>()?,
                    failover: Some(Failover::default()),
                    all: false,
                }),
            };
        }
        let (rest, all) = match (uri.strip_prefix("failover:"), uri.strip_prefix("all:")) {
            (Some(r), _) => (r, false),
            (None, Some(r)) => (r, true),
            (None, None) => {
                return Ok(Endpoints {
                    servers: vec![parse_one(uri, side, schemes)?],
                    failover: None,
                    all: false,
                });
            }
        };
        let (list, query) = list_and_query(rest).map_err(bad)?;
        let mut servers = list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| parse_one(u, side, schemes))
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            let which = if all { "all" } else { "failover" };
            return Err(bad(format!("no URI in the {which} list")));
        }
        if all && !rest.starts_with('(') {
            // the alias form: every address of the name is a broker
            let [one] = <[Endpoint; 1]>::try_from(servers)
                .map_err(|_| bad("several URIs must be in parentheses: all:(URI,...)".into()))?;
            servers = resolve_alias(one, bad)?;
        }
        let mut f = Failover::default();
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| bad(format!("{kv:?} is not KEY=VALUE")))?;
            f.set(&format!("{side}-broker-uri {uri:?}"), k, v)
                .map_err(usage)?;
        }
        Ok(Endpoints {
            servers,
            failover: Some(f),
            all,
        })
    }

    /// `all:`: one single-server [`Endpoints`] per broker, each connected with one attempt
    /// (the multi-broker modules retry a broker that is down with the `all:` backoff while
    /// the others keep going).
    pub fn members(&self) -> Vec<Endpoints> {
        self.servers
            .iter()
            .map(|s| Endpoints {
                servers: vec![s.clone()],
                failover: Some(Failover {
                    max_attempts: Some(0),
                    randomize: false,
                    ..Failover::default()
                }),
                all: false,
            })
            .collect()
    }

    /// Turns TLS on for every server (`SSL_*` socket options or an x509 credential ask for
    /// it whatever the scheme says).
    pub fn force_tls(&mut self) {
        for s in &mut self.servers {
            s.tls = true;
        }
    }

    /// Whether any server needs TLS.
    pub fn any_tls(&self) -> bool {
        self.servers.iter().any(|s| s.tls)
    }

    /// Connects with `one` to the server, or with failover to the first of the servers
    /// that accepts, retrying with the backoff the URI asks for. `retrying` (a lost
    /// connection with `--reconnect`) retries a single server too, with the default
    /// backoff. Only [`ErrorKind::Connect`] failures are retried: a broker that refuses us
    /// is final. INT/TERM (`stop`) ends the waiting.
    pub async fn connect<T, F, Fut>(
        &self,
        retrying: bool,
        stop: &StopFlag,
        mut one: F,
    ) -> transfer::Result<T>
    where
        F: FnMut(Endpoint) -> Fut,
        Fut: std::future::Future<Output = transfer::Result<T>>,
    {
        let policy = match (&self.failover, retrying) {
            (Some(f), _) => f.clone(),
            (None, true) => Failover {
                randomize: false,
                ..Failover::default()
            },
            (None, false) => return one(self.servers[0].clone()).await,
        };
        let servers = if retrying && self.failover.is_none() {
            self.servers[..1].to_vec()
        } else {
            policy.order(&self.servers)
        };
        let stopped = || stop.load(std::sync::atomic::Ordering::Relaxed);
        let mut delay = policy.initial;
        let mut attempts = 0u64;
        loop {
            for server in &servers {
                if stopped() {
                    return Err(TransferError::new(
                        ErrorKind::Connect,
                        "stopped by a signal while connecting",
                    ));
                }
                match one(server.clone()).await {
                    Ok(c) => return Ok(c),
                    Err(e) if e.kind == ErrorKind::Connect => {
                        attempts += 1;
                        if policy.max_attempts == Some(0) {
                            // one attempt asked for: the error as it is
                            return Err(e);
                        }
                        if policy.max_attempts.is_some_and(|m| attempts > m) {
                            return Err(TransferError {
                                message: format!(
                                    "{} (after {attempts} failover attempts)",
                                    e.message
                                ),
                                ..e
                            });
                        }
                        crate::log::debug(
                            1,
                            format_args!("{}; next attempt in {delay:?}", e.line()),
                        );
                        // in slices, so that INT/TERM is obeyed during a long backoff
                        let until = Instant::now() + delay;
                        while Instant::now() < until && !stopped() {
                            let left = until.saturating_duration_since(Instant::now());
                            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
                        }
                        if policy.exponential {
                            delay = delay.mul_f64(policy.multiplier).min(policy.max);
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

impl Failover {
    /// Applies one `failover:` URI option of option `what`.
    fn set(&mut self, what: &str, k: &str, v: &str) -> Result<(), String> {
        let value = crate::args::Value::new(what, k, v);
        match k {
            "initialReconnectDelay" => self.initial = value.millis()?,
            "maxReconnectDelay" => self.max = value.millis()?,
            "backOffMultiplier" => {
                self.multiplier = Some(value.number::<f64>()?)
                    .filter(|m| *m >= 1.0)
                    .ok_or_else(|| value.is_not("a number >= 1"))?
            }
            "useExponentialBackOff" => self.exponential = value.boolean()?,
            "randomize" => self.randomize = value.boolean()?,
            "maxReconnectAttempts" => {
                let n: i64 = value.number()?;
                self.max_attempts = (n >= 0).then_some(n as u64);
            }
            _ => {
                return Err(format!(
                    "invalid {what}: unknown failover option {k:?} (initialReconnectDelay, \
                     maxReconnectDelay, backOffMultiplier, useExponentialBackOff, randomize, \
                     maxReconnectAttempts)"
                ));
            }
        }
        Ok(())
    }

    /// The servers in the order to try them: shuffled with `randomize`.
    fn order(&self, servers: &[Endpoint]) -> Vec<Endpoint> {
        let mut servers = servers.to_vec();
        if self.randomize && servers.len() > 1 {
            let seed = std::process::id() as u64
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos() as u64;
            let mut rng = message::generator::Rng::new(seed);
            for i in (1..servers.len()).rev() {
                servers.swap(i, rng.below(i + 1));
            }
        }
        servers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMES: &[(&str, Scheme)] = &[
        ("stomp", Scheme::Plain),
        ("tcp", Scheme::Plain),
        ("ssl", Scheme::Tls),
        ("stomp+ssl", Scheme::Tls),
        ("udp", Scheme::Refused("udp:// is not supported")),
    ];

    fn one(uri: &str) -> Result<Endpoint, Error> {
        parse_one(uri, Side::Incoming, SCHEMES)
    }

    #[test]
    fn a_password_in_a_uri_is_refused_and_hidden() {
        for uri in [
            "stomp://u:Pw-x@h:1",
            "failover:(stomp://h:2,stomp://u:Pw-x@h:1)?randomize=false",
            "all:stomp://u:Pw-x@h:1",
            "stomp://u:Pw-x@h:1/path@x",
        ] {
            let e = Endpoints::parse(uri, Side::Incoming, SCHEMES)
                .expect_err(uri)
                .to_string();
            assert!(!e.contains("Pw-x"), "{e}");
            assert!(e.contains("u:***@h:1") && e.contains("pass-file"), "{e}");
        }
        assert!(one("stomp://h:1/a@b").is_ok());
    }

    fn ep(host: &str, port: u16, tls: bool) -> Endpoint {
        Endpoint {
            host: host.into(),
            port,
            tls,
            path: None,
            address: None,
        }
    }

    #[test]
    fn uris() {
        assert_eq!(
            one("stomp://localhost:61613").expect("ok"),
            ep("localhost", 61613, false)
        );
        assert_eq!(
            one("tcp://127.0.0.1:61614/").expect("ok"),
            ep("127.0.0.1", 61614, false)
        );
        assert_eq!(
            one("stomp://[::1]:61613").expect("ok"),
            ep("::1", 61613, false)
        );
        assert_eq!(
            one("stomp+ssl://broker.example.org:61612").expect("ok"),
            ep("broker.example.org", 61612, true)
        );
        assert_eq!(one("ssl://[::1]:61612").expect("ok").peer(), "[::1]:61612");
        assert_eq!(
            one("stomp://h:1/a%2Fb").expect("path").path.as_deref(),
            Some("a/b")
        );
        for bad in [
            "localhost:61613",
            "http://x:1",
            // a scheme without a default port (stomp://x means port 61613)
            "tcp://x",
            "stomp://:1",
            "stomp://x:99999",
            "udp://x:1",
        ] {
            assert!(one(bad).is_err(), "{bad}");
        }
        let e = one("http://x:1").expect_err("unknown").to_string();
        assert!(
            e.contains("unknown scheme (stomp, tcp, ssl, stomp+ssl)"),
            "{e}"
        );
        assert!(
            one("udp://x:1")
                .expect_err("udp")
                .to_string()
                .contains("udp://")
        );
    }

    #[test]
    fn failover_lists_and_options() {
        let e = Endpoints::parse(
            "failover:(stomp://a:1,ssl://b:2)?initialReconnectDelay=5&randomize=false&maxReconnectAttempts=3",
            Side::Outgoing,
            SCHEMES,
        )
        .expect("ok");
        assert_eq!(e.servers, [ep("a", 1, false), ep("b", 2, true)]);
        let f = e.failover.expect("failover");
        assert_eq!(f.initial, Duration::from_millis(5));
        assert!(!f.randomize);
        assert_eq!(f.max_attempts, Some(3));
        assert!(Endpoints::parse("failover:()", Side::Outgoing, SCHEMES).is_err());
        assert!(Endpoints::parse("failover:stomp://a:1?bogus=1", Side::Outgoing, SCHEMES).is_err());
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("uris");
        std::fs::write(&p, "# brokers\nstomp://a:1\nstomp://b:2 # second\n").expect("write");
        let e = Endpoints::parse(&format!("file:{}", p.display()), Side::Incoming, SCHEMES)
            .expect("file");
        assert_eq!(e.servers.len(), 2);
        assert!(e.failover.is_some());
    }

    #[test]
    fn all_lists_and_aliases() {
        let e = Endpoints::parse(
            "all:(stomp://a:1,ssl://b:2)?maxReconnectAttempts=3",
            Side::Incoming,
            SCHEMES,
        )
        .expect("list");
        assert!(e.all);
        assert_eq!(e.servers, [ep("a", 1, false), ep("b", 2, true)]);
        assert_eq!(e.failover.as_ref().and_then(|f| f.max_attempts), Some(3));
        let members = e.members();
        assert_eq!(members.len(), 2);
        assert!(members.iter().all(|m| !m.all
            && m.servers.len() == 1
            && m.failover.as_ref().and_then(|f| f.max_attempts) == Some(0)));
        // an address is its own alias: one broker; localhost has at least one address
        let e = Endpoints::parse("all:stomp://127.0.0.1:61613", Side::Outgoing, SCHEMES)
            .expect("alias");
        assert_eq!(e.servers.len(), 1);
        assert_eq!(e.servers[0].address, Some([127, 0, 0, 1].into()));
        assert_eq!(e.servers[0].peer(), "127.0.0.1:61613");
        let e = Endpoints::parse("all:stomp://localhost:1", Side::Outgoing, SCHEMES)
            .expect("localhost");
        assert!(
            e.servers
                .iter()
                .all(|s| s.host == "localhost" && s.address.is_some())
        );
        for (bad, why) in [
            ("ssl://a", "missing port (ssl:// has no default port)"),
            ("stomp://[::1", "expected [IPV6] or [IPV6]:PORT"),
            ("stomp://:61613", "missing host"),
            ("all:()", "no URI in the all list"),
            ("all:stomp://a:1,stomp://b:2", "in parentheses"),
            ("all:(stomp://a:1", "missing ')'"),
            ("all:(stomp://a:1)?bogus=1", "unknown failover option"),
            (
                "all:stomp://no-such-host.invalid:1",
                "cannot resolve no-such-host.invalid",
            ),
        ] {
            let e = Endpoints::parse(bad, Side::Incoming, SCHEMES)
                .expect_err(bad)
                .to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn schemes_have_their_default_ports() {
        for (uri, host, port) in [
            ("stomp://broker.example", "broker.example", 61613),
            ("stomp://broker.example:1234", "broker.example", 1234),
            ("stomp://[::1]", "::1", 61613),
            ("stomp://[::1]:7", "::1", 7),
        ] {
            let e = parse_one(uri, Side::Incoming, SCHEMES).expect(uri);
            assert_eq!((e.host.as_str(), e.port), (host, port), "{uri}");
        }
        assert_eq!(default_port("amqps"), Some(5671));
        assert_eq!(default_port("mqtt"), Some(1883));
        assert_eq!(default_port("https"), Some(443));
        assert_eq!(default_port("tcp"), None);
    }
}
