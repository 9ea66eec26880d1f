//! AMQP 0-9-1 destinations as the reference amqpclt reads them: `/queue/X`, `/topic/X`, or a
//! list of `key=value` pairs (comma or space separated) naming the queue, the exchange, the
//! routing key and their arguments, nested values percent-encoded.
//!
//! | destination | subscribing | publishing |
//! |---|---|---|
//! | `/queue/X` | durable queue X declared, consumed | durable queue X declared; default exchange, routing key X |
//! | `/topic/X` | server-named exclusive auto-delete queue bound to `amq.topic` with key X | `amq.topic`, routing key X |
//! | `queue=Q exchange=E routing_key=K` | Q declared (E declared unless `amq.*`, Q bound to E with K), consumed | the same declarations; E with key K |
//!
//! `queue` and `exchange` take nested pairs (`name=`, `durable=`, `exclusive=`,
//! `auto_delete=`, `type=` for an exchange, `arguments=`), percent-encoded inside the
//! outer list: `queue=name%3Djobs%2Cdurable%3Dtrue`. `arguments` values `true`/`false` are
//! booleans and whole numbers are integers (RabbitMQ wants `x-message-ttl` as a number).
//! `mandatory=true` publishes with the mandatory flag: an unroutable message is an error.

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

/// A queue to declare (an empty name: the server names it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueSpec {
    /// The queue's name; empty for a server-named queue.
    pub name: String,
    /// `durable`.
    pub durable: bool,
    /// `exclusive`.
    pub exclusive: bool,
    /// `auto_delete`.
    pub auto_delete: bool,
    /// `arguments` (`x-queue-type`, `x-message-ttl`, …).
    pub arguments: FieldTable,
}

/// An exchange to publish to or bind to (declared unless its name is empty or `amq.*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExchangeSpec {
    /// The exchange's name; empty for the default exchange.
    pub name: String,
    /// Its type (`direct` unless said).
    pub kind: String,
    /// `durable`.
    pub durable: bool,
    /// `auto_delete`.
    pub auto_delete: bool,
    /// `arguments`.
    pub arguments: FieldTable,
}

impl ExchangeSpec {
    /// Whether the agent declares it: not the default exchange, not a predeclared `amq.*`.
    pub fn declared(&self) -> bool {
        !self.name.is_empty() && !self.name.starts_with("amq.")
    }
}

/// Where a destination leads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Route {
    /// The destination as written (for messages).
    pub original: String,
    /// The exchange (the default one when absent).
    pub exchange: Option<ExchangeSpec>,
    /// The queue to declare (and, subscribing, to consume from).
    pub queue: Option<QueueSpec>,
    /// The routing key.
    pub routing_key: String,
    /// Publish with the mandatory flag.
    pub mandatory: bool,
}

impl Route {
    /// The exchange's name (empty: the default exchange).
    pub fn exchange_name(&self) -> &str {
        self.exchange.as_ref().map_or("", |e| e.name.as_str())
    }
}

/// Reads a destination; `subscribing` gives `/topic/X` its server-named queue.
pub fn parse(dest: &str, subscribing: bool) -> Result<Route, String> {
    let original = dest.to_string();
    if let Some(q) = dest.strip_prefix("/queue/") {
        if q.is_empty() {
            return Err(format!("destination {dest:?} names no queue"));
        }
        return Ok(Route {
            original,
            exchange: None,
            queue: Some(QueueSpec {
                name: q.to_string(),
                durable: true,
                ..QueueSpec::default()
            }),
            routing_key: q.to_string(),
            mandatory: false,
        });
    }
    if let Some(t) = dest.strip_prefix("/topic/") {
        return Ok(Route {
            original,
            exchange: Some(ExchangeSpec {
                name: "amq.topic".into(),
                kind: "topic".into(),
                ..ExchangeSpec::default()
            }),
            // a subscriber's own queue; a publisher declares none (the reference declared
            // and bound one for each sender, which kept a copy of all it sent)
            queue: subscribing.then(|| QueueSpec {
                exclusive: true,
                auto_delete: true,
                ..QueueSpec::default()
            }),
            routing_key: t.to_string(),
            mandatory: false,
        });
    }
    let mut route = Route {
        original,
        ..Route::default()
    };
    for (k, v) in pairs(dest)? {
        match k.as_str() {
            "queue" => route.queue = Some(queue(&decode(&v)?)?),
            "exchange" => route.exchange = Some(exchange(&decode(&v)?)?),
            "routing_key" => route.routing_key = v,
            "mandatory" => route.mandatory = flag(&k, &v)?,
            _ => {
                return Err(format!(
                    "destination {dest:?}: unknown key {k:?} (expected /queue/NAME, /topic/NAME, \
                     or queue=, exchange=, routing_key=, mandatory=)"
                ));
            }
        }
    }
    if route.queue.is_none() && route.exchange.is_none() {
        return Err(format!(
            "destination {dest:?} names neither a queue nor an exchange"
        ));
    }
    if subscribing && route.queue.is_none() {
        return Err(format!(
            "destination {dest:?}: a subscription needs a queue (queue=...)"
        ));
    }
    Ok(route)
}

/// `key=value` pairs separated by commas or spaces (the value is cut at the first `=`).
fn pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split([',', ' '])
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("{e:?} in {s:?} is not key=value"))
        })
        .collect()
}

fn flag(k: &str, v: &str) -> Result<bool, String> {
    agent::Value::new("destination", k, v).boolean()
}

fn queue(s: &str) -> Result<QueueSpec, String> {
    let mut q = QueueSpec::default();
    for (k, v) in pairs(s)? {
        match k.as_str() {
            "name" => q.name = v,
            "durable" => q.durable = flag(&k, &v)?,
            "exclusive" => q.exclusive = flag(&k, &v)?,
            "auto_delete" => q.auto_delete = flag(&k, &v)?,
            "arguments" => q.arguments = arguments(&decode(&v)?)?,
            _ => return Err(format!("queue {s:?}: unknown key {k:?}")),
        }
    }
    Ok(q)
}

fn exchange(s: &str) -> Result<ExchangeSpec, String> {
    let mut x = ExchangeSpec {
        kind: "direct".into(),
        ..ExchangeSpec::default()
    };
    for (k, v) in pairs(s)? {
        match k.as_str() {
            "name" => x.name = v,
            "type" => x.kind = v,
            "durable" => x.durable = flag(&k, &v)?,
            "auto_delete" => x.auto_delete = flag(&k, &v)?,
            "arguments" => x.arguments = arguments(&decode(&v)?)?,
            _ => return Err(format!("exchange {s:?}: unknown key {k:?}")),
        }
    }
    Ok(x)
}

fn arguments(s: &str) -> Result<FieldTable, String> {
    let mut t = FieldTable::default();
    for (k, v) in pairs(s)? {
        let value = match v.as_str() {
            "true" => AMQPValue::Boolean(true),
            "false" => AMQPValue::Boolean(false),
            _ => match v.parse::<i64>() {
                Ok(n) => AMQPValue::LongLongInt(n),
                Err(_) => AMQPValue::LongString(LongString::from(v.as_str())),
            },
        };
        t.insert(ShortString::from(k.as_str()), value);
    }
    Ok(t)
}

/// Percent-decoding (`%3D` is `=`), as nested values are written.
fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("{s:?}: bad percent escape at {}", i + 1))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?}: percent escapes are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_and_topic_shorthands() {
        let r = parse("/queue/a.b", false).expect("queue");
        assert_eq!(r.exchange_name(), "");
        assert_eq!(r.routing_key, "a.b");
        let q = r.queue.expect("declared");
        assert!(q.durable && !q.exclusive && q.name == "a.b");
        let t = parse("/topic/x.y", true).expect("topic");
        assert_eq!(t.exchange_name(), "amq.topic");
        let q = t.queue.expect("own queue");
        assert!(q.name.is_empty() && q.exclusive && q.auto_delete);
        assert!(parse("/topic/x.y", false).expect("topic").queue.is_none());
        assert!(parse("/queue/", false).is_err());
    }

    #[test]
    fn nested_pairs() {
        let r = parse(
            "queue=name%3Djobs%2Cdurable%3Dtrue%2Carguments%3Dx-message-ttl%253D6000,\
             exchange=name%3Dlogs%2Ctype%3Dfanout routing_key=k mandatory=true",
            true,
        )
        .expect("parsed");
        let q = r.queue.clone().expect("queue");
        assert_eq!(q.name, "jobs");
        assert!(q.durable);
        assert_eq!(
            q.arguments.inner().get("x-message-ttl"),
            Some(&AMQPValue::LongLongInt(6000))
        );
        let x = r.exchange.clone().expect("exchange");
        assert_eq!((x.name.as_str(), x.kind.as_str()), ("logs", "fanout"));
        assert!(x.declared());
        assert_eq!(r.routing_key, "k");
        assert!(r.mandatory);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse("colour=red", false).expect_err("unknown key");
        assert!(e.contains("unknown key \"colour\""), "{e}");
        let e = parse("exchange=name%3Dx", true).expect_err("no queue");
        assert!(e.contains("needs a queue"), "{e}");
        let e = parse("queue=name%3", false).expect_err("bad escape");
        assert!(e.contains("percent"), "{e}");
        let e = parse("routing_key", false).expect_err("not a pair");
        assert!(e.contains("not key=value"), "{e}");
    }
}
