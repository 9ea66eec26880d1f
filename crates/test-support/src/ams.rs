//! A small server of the AMS dialect, for the behaviours of the ARGO Messaging Service that
//! no installable server has (AMS itself needs Kafka and MongoDB; Google's emulator speaks
//! Pub/Sub): the key required (`x-api-key` or `?key=`, else 401), `maxMessages` and
//! `returnImmediately` as strings (a JSON number is a 400), delivery by offset (an unacknowledged batch comes back on the next pull),
//! cumulative acknowledgements (`…:OFFSET`, the highest counts; one beyond what was pulled
//! is a 500), and 413 for a request over [`MAX_REQUEST`] bytes. One project, `ams`; topics
//! and subscriptions made by [`FakeAms::topic`].

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The largest request body taken; larger ones get 413, as AMS answers.
pub const MAX_REQUEST: usize = 1024 * 1024;

/// The key the server takes.
pub const KEY: &str = "secret-ams-key";

#[derive(Default)]
struct Sub {
    topic: String,
    /// The offset of the next message to deliver: everything before it is acknowledged.
    offset: usize,
    /// The end of the last pull: acknowledgements beyond it are refused.
    pulled: usize,
}

#[derive(Default)]
struct State {
    topics: HashMap<String, Vec<serde_json::Value>>,
    subs: HashMap<String, Sub>,
    /// Requests refused for their form (string fields, key): a client of the dialect makes
    /// none.
    refused: Vec<String>,
    /// Acknowledgements still to answer with 408, as AMS answers one past the deadline.
    late_acks: usize,
}

/// The server, listening on loopback until the test ends.
pub struct FakeAms {
    /// Its port.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl FakeAms {
    /// Starts it on a free port of 127.0.0.1.
    pub fn start() -> FakeAms {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        FakeAms { port, state }
    }

    /// amsclt's URI of its project.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}/v1/projects/ams", self.port)
    }

    /// Makes a topic and a subscription of the same name to it.
    pub fn topic(&self, name: &str) {
        let mut st = self.state.lock().expect("state");
        st.topics.entry(name.into()).or_default();
        st.subs.insert(
            name.into(),
            Sub {
                topic: name.into(),
                ..Sub::default()
            },
        );
    }

    /// The messages published to `topic` so far.
    pub fn published(&self, topic: &str) -> Vec<serde_json::Value> {
        let st = self.state.lock().expect("state");
        st.topics.get(topic).cloned().unwrap_or_default()
    }

    /// The offset of `sub` up to which everything is acknowledged.
    pub fn acknowledged(&self, sub: &str) -> usize {
        self.state.lock().expect("state").subs[sub].offset
    }

    /// The next `n` acknowledgements are answered 408 and change nothing, as AMS answers an
    /// acknowledgement that comes after the subscription's deadline: the batch is delivered
    /// again by the next pull.
    pub fn late_acks(&self, n: usize) {
        self.state.lock().expect("state").late_acks = n;
    }

    /// The requests refused for their form.
    pub fn refused(&self) -> Vec<String> {
        self.state.lock().expect("state").refused.clone()
    }
}

fn error(code: u16, message: &str) -> (u16, String) {
    (
        code,
        serde_json::json!({"error": {"code": code, "message": message, "status": "ERROR"}})
            .to_string(),
    )
}

/// One connection: requests answered in turn until the client closes.
fn serve(conn: TcpStream, state: &Mutex<State>) {
    let mut w = match conn.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let (mut length, mut key) = (0usize, None);
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "x-api-key" => key = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let key_ok = key.as_deref() == Some(KEY) || query == format!("key={KEY}");
        let (status, text) = if !key_ok {
            state
                .lock()
                .expect("state")
                .refused
                .push(format!("no key: {path}"));
            error(401, "Unauthorized")
        } else if length > MAX_REQUEST {
            error(413, "Message size too large")
        } else {
            answer(path, &body, &mut state.lock().expect("state"))
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer(path: &str, body: &[u8], st: &mut State) -> (u16, String) {
    let Some(rest) = path.strip_prefix("/v1/projects/ams/") else {
        return error(404, "no such project");
    };
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if let Some(name) = rest
        .strip_prefix("topics/")
        .and_then(|r| r.strip_suffix(":publish"))
    {
        let Some(log) = st.topics.get_mut(name) else {
            return error(404, "Topic doesn't exist");
        };
        let mut ids = Vec::new();
        for m in v["messages"].as_array().cloned().unwrap_or_default() {
            ids.push((log.len()).to_string());
            log.push(m);
        }
        return (200, serde_json::json!({ "messageIds": ids }).to_string());
    }
    let Some((name, verb)) = rest
        .strip_prefix("subscriptions/")
        .and_then(|r| r.split_once(':'))
    else {
        return error(404, "not found");
    };
    let Some(sub) = st.subs.get_mut(name) else {
        return error(404, "Subscription doesn't exist");
    };
    match verb {
        "pull" => {
            let (Some(max), Some(_)) = (
                v["maxMessages"]
                    .as_str()
                    .and_then(|m| m.parse::<usize>().ok()),
                v["returnImmediately"].as_str(),
            ) else {
                st.refused.push(format!("pull fields not strings: {v}"));
                return error(400, "Invalid pull request");
            };
            let log = &st.topics[&sub.topic];
            let end = (sub.offset + max).min(log.len());
            let msgs: Vec<serde_json::Value> = (sub.offset..end)
                .map(|i| {
                    let mut m = log[i].clone();
                    m["messageId"] = i.to_string().into();
                    m["publishTime"] = "2026-12-06T10:00:00.000000000Z".into();
                    serde_json::json!({
                        "ackId": format!("projects/ams/subscriptions/{name}:{i}"),
                        "message": m,
                    })
                })
                .collect();
            sub.pulled = end;
            (
                200,
                serde_json::json!({ "receivedMessages": msgs }).to_string(),
            )
        }
        "acknowledge" if st.late_acks > 0 => {
            st.late_acks -= 1;
            // past the deadline: the pull after this delivers from the offset again
            sub.pulled = sub.offset;
            error(408, "ack timeout")
        }
        "acknowledge" => {
            let highest = v["ackIds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str()?.rsplit_once(':')?.1.parse::<usize>().ok())
                .max();
            match highest {
                Some(h) if h < sub.pulled && h >= sub.offset => {
                    sub.offset = h + 1;
                    (200, "{}".into())
                }
                _ => error(500, "Message ack failed"),
            }
        }
        _ => error(404, "not found"),
    }
}
