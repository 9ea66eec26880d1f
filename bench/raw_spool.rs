//! The spool's minimal work, for the raw clients of the benchmarks (`spool=DIR`): the
//! ceiling an agent is measured against is a client that moves the same messages between
//! the same DQS spool and the broker with nothing of the agent's own around it. Each raw
//! client (`crates/*/examples/*_raw.rs`, `raw.rs`) includes this file by path.
//!
//! Taking: each element locked, read and decoded when it is sent, removed once the broker
//! confirmed it (7 calls, directories held open). Adding: each message received encoded and
//! added (4 calls) before it is acknowledged. No read-ahead, no threads, no records.

#![allow(dead_code)] // each client uses one half or both

use std::path::Path;

use dirq::{DirQueue, QueueSimple};
use message::{Encoder, Message};

/// `spool=DIR` among the arguments, if any: the spool's path.
pub fn spool_arg(args: &[String]) -> Option<String> {
    args.iter()
        .find_map(|a| a.strip_prefix("spool=").map(str::to_string))
}

/// The arguments without any `spool=DIR`.
pub fn without_spool(args: &[String]) -> Vec<String> {
    args.iter()
        .filter(|a| !a.starts_with("spool="))
        .cloned()
        .collect()
}

/// Messages taken from a DQS spool, in its order.
pub struct Source {
    queue: QueueSimple,
    names: dirq::Names,
}

impl Source {
    pub fn open(path: impl AsRef<Path>) -> Source {
        let queue = QueueSimple::new(path).expect("spool");
        let names = queue.names();
        Source { queue, names }
    }

    /// The next message, locked in the spool: its element name and the message.
    pub fn next(&mut self) -> Option<(String, Message)> {
        loop {
            let name = self.names.next()?.expect("element name");
            if !self.queue.lock(&name).expect("lock") {
                continue;
            }
            let bytes = self.queue.get(&name).expect("read");
            return Some((name, message::decode(&bytes).expect("a DQS message")));
        }
    }

    /// The broker has the message of `name`: out of the spool.
    pub fn done(&self, name: &str) {
        self.queue.remove_locked(name).expect("remove");
    }
}

/// Messages added to a DQS spool.
pub struct Sink {
    queue: QueueSimple,
    encoder: Encoder,
}

impl Sink {
    pub fn open(path: impl AsRef<Path>) -> Sink {
        Sink {
            queue: QueueSimple::new(path).expect("spool"),
            encoder: Encoder::default(),
        }
    }

    /// The message written: it may be acknowledged now.
    pub fn add(&self, m: &Message) {
        self.queue.add(&self.encoder.serialize(m)).expect("add");
    }
}
