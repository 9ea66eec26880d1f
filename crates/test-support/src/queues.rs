//! Temporary queues and the messages the tests send through them.

use std::collections::HashMap;
use std::path::Path;

use message::generator::Rng;
use message::{Message, MessageQueue};

/// A temporary directory, removed at the end.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tmp")
}

/// A path as an option value.
pub fn p(path: &Path) -> String {
    path.display().to_string()
}

/// n messages: ASCII text, random binary, Unicode header and text, empty text, empty
/// binary, and one 1 MiB binary body; each has an x-index header.
pub fn mixed(n: usize, dest: &str) -> Vec<Message> {
    let mut rng = Rng::new(n as u64);
    (0..n)
        .map(|i| {
            let mut m = match i % 5 {
                0 => Message::text(format!("text message {i} with some words")),
                1 => Message::binary(
                    (0..(i % 300))
                        .map(|_| rng.next_u64() as u8)
                        .collect::<Vec<_>>(),
                ),
                2 => Message::text(format!("Unicode ☺ é 中文 {i}"))
                    .with_header("x-unicode", "valeur é ☺ 中")
                    .with_header("x-colon:and\\backslash", "a:b\\c"),
                3 => Message::text(""),
                _ => Message::binary(Vec::new()),
            };
            if i == 7 {
                m = Message::binary(
                    (0..1 << 20)
                        .map(|_| rng.next_u64() as u8)
                        .collect::<Vec<_>>(),
                );
            }
            m.with_header("destination", dest)
                .with_header("x-index", i.to_string())
        })
        .collect()
}

/// Adds the messages to a queue (`DQS` or `DQN`).
pub fn fill(path: &Path, kind: &str, msgs: &[Message]) {
    let q = MessageQueue::open_str(&format!("path={} type={kind}", path.display())).expect("open");
    for m in msgs {
        q.add_message(m).expect("add");
    }
}

/// Takes every message out of a queue.
pub fn drain(path: &Path, kind: &str) -> Vec<Message> {
    let q = MessageQueue::open_str(&format!("path={} type={kind}", path.display())).expect("open");
    let mut out = Vec::new();
    for n in q.names() {
        let n = n.expect("name");
        if q.dirq().lock(&n).expect("lock") {
            out.push(q.get_message(&n).expect("message"));
            q.dirq().remove(&n).expect("remove");
        }
    }
    out
}

/// Every sent message arrived with its body, text flag and every header sent (the broker
/// adds its own, and content-length is set on the way); returns the number of duplicates.
pub fn compare(sent: &[Message], got: &[Message], ctx: &str) -> usize {
    let mut by_index: HashMap<&str, Vec<&Message>> = HashMap::new();
    for m in got {
        let i = m.header.get("x-index").map(String::as_str).unwrap_or("?");
        by_index.entry(i).or_default().push(m);
    }
    let mut dups = 0;
    for m in sent {
        let i = &m.header["x-index"];
        let arrived = by_index.get(i.as_str()).unwrap_or_else(|| {
            panic!(
                "{ctx}: message {i} lost ({} of {} arrived)",
                got.len(),
                sent.len()
            )
        });
        dups += arrived.len() - 1;
        for a in arrived {
            assert_eq!(a.is_text(), m.is_text(), "{ctx}: text flag of {i}");
            assert_eq!(a.body.as_bytes(), m.body.as_bytes(), "{ctx}: body of {i}");
            for (k, v) in &m.header {
                if k == "content-length" {
                    continue;
                }
                assert_eq!(a.header.get(k), Some(v), "{ctx}: header {k} of {i}");
            }
        }
    }
    let sent_ids: std::collections::HashSet<&str> =
        sent.iter().map(|m| m.header["x-index"].as_str()).collect();
    assert!(
        by_index.keys().all(|k| sent_ids.contains(k)),
        "{ctx}: unknown messages arrived"
    );
    dups
}

/// How many elements a DQS queue holds.
pub fn queue_count(path: &Path) -> usize {
    MessageQueue::open_str(&format!("path={}", p(path)))
        .expect("open")
        .dirq()
        .count()
        .expect("count")
}

/// A consumer takes everything out of the full queue and purges it, freeing the space.
pub fn free_space(outq: &Path, received: &mut Vec<Message>) {
    received.extend(drain(outq, "DQS"));
    MessageQueue::open_str(&format!("path={}", p(outq)))
        .expect("open")
        .dirq()
        .purge_with(1, 0)
        .expect("purge");
}

/// A spool of `n` mixed messages to a destination no other test uses, in `DIR/in`:
/// (the temporary DIR, the destination, the messages).
pub fn spooled(n: usize, tag: &str) -> (tempfile::TempDir, String, Vec<Message>) {
    let d = tmp();
    let dest = crate::brokers::unique_destination(tag);
    let sent = mixed(n, &dest);
    fill(&d.path().join("in"), "DQS", &sent);
    (d, dest, sent)
}

/// Adds an element that is no message (bad JSON) to a DQS queue.
pub fn add_corrupt(path: &Path) {
    dirq::QueueSimple::new(path)
        .expect("open")
        .add(b"{not json")
        .expect("add");
}
