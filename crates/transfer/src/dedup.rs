//! The dedup window (`--dedup`): the ids of the messages already written to the outgoing
//! spool (or confirmed by the outgoing broker), so that a message delivered again after a
//! crash is acknowledged and not written twice. Kept in memory and in an append-only file
//! beside the outgoing queue (`.dedup-window`) or in a directory of its own, locked by the
//! run that uses it, bounded by age and by count.
//!
//! Into a spool the order of writes is what makes it exactly once (ARCHITECTURE.md has the
//! argument): the message is staged (written where no reader sees it), then its id is
//! appended to the file together with the staged path, then the staged message becomes an
//! element, then the source is acknowledged. A crash before the record leaves a staged file
//! no one will commit (purged later) and no id: the redelivery is written once. A crash after
//! it leaves the id and, if the commit did not happen, the staged file: the next run
//! commits it before anything else. Either way the id in the file and the element in the
//! spool go together, whatever a consumer of the spool did meanwhile.
//!
//! Ids are kept as the md5 of their text (16 bytes: about 100 bytes an id in memory, hash
//! table and age order included), whatever their length or characters.
//!
//! File format: a first line `msgtk-dedup 1`, then one record a line, `SECONDS KEY [STAGED]`:
//! the time it was recorded (Unix seconds), the md5 of the id (32 hex digits), and for a
//! spool the staged path relative to the queue. A last line without its newline is
//! a record the crash cut short (its message was never committed): it is dropped. Any other
//! malformed line is an error naming the file and line: a window is never reset in silence.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use message::{Message, MessageQueue};

use crate::{Error, ErrorKind, Result};

/// The header that carries a message's id in a spool.
pub const ID_HEADER: &str = "dedup-id";
/// The window file's name, in the outgoing queue's directory or `--dedup-state`.
pub const FILE_NAME: &str = ".dedup-window";
const MAGIC: &str = "msgtk-dedup 1";
/// The most messages a spool's writer stages before it records their ids (in one write)
/// and commits them: only the last this many records can name a message still staged.
pub const BATCH: usize = 64;
/// Ids confirmed by a broker are written out once this many bytes of records wait (they
/// need not be on disk before the source is acknowledged: a lost one costs a message sent
/// again, which the receiver's window drops).
const BUFFERED: usize = 64 * 1024;

/// How a window is bounded.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Ids older than this are forgotten (accepted again).
    pub max_age: Duration,
    /// At most this many ids; the oldest go first.
    pub max_ids: usize,
}

/// The window of one run.
pub struct Window {
    path: PathBuf,
    /// The file, opened for appending.
    file: File,
    /// The handle that holds the run's lock on the file.
    lock: File,
    bounds: Bounds,
    /// `fsync` each record before the message it names is committed (the queue's `sync`).
    sync: bool,
    ids: HashMap<u128, u64>,
    order: VecDeque<(u64, u128)>,
    /// Records in the file (live or not), to know when to rewrite it.
    records: usize,
    /// Records of broker-confirmed ids not written yet.
    buffer: String,
    /// Ids of messages staged in the queue and not recorded yet: a second copy arriving
    /// meanwhile (a redelivery within one batch) must not be staged too.
    staged: std::collections::HashSet<u128>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn qerr(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::OutgoingQueue,
        format!("dedup window {}: {what}", path.display()),
    )
}

fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::caused(
        ErrorKind::OutgoingQueue,
        format!("dedup window {}: cannot {what}", path.display()),
        e,
    )
}

/// The key an id is kept under: the md5 of its text.
pub fn key(id: &str) -> u128 {
    use md5::Digest;
    u128::from_be_bytes(md5::Md5::digest(id.as_bytes()).into())
}

/// 32 lower-case hex digits: the form of keys and of the ids of queue elements.
fn hex32(k: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for i in (0..32).rev() {
        out.push(DIGITS[((k >> (4 * i)) & 0xf) as usize] as char);
    }
    out
}

impl Window {
    /// Opens (or makes) the window in `dir`, locked for this run; reads it, drops what is
    /// out of bounds, and commits to `queue` a message a crash left staged after its record.
    pub fn open(
        dir: &Path,
        bounds: Bounds,
        sync: bool,
        queue: Option<&MessageQueue>,
    ) -> Result<Window> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, "make its directory", e))?;
        let path = dir.join(FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io(&path, "open", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(qerr(&path, "in use by another run (one writer a window)"));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path, "lock", e)),
        }
        let text = std::fs::read(&path).map_err(|e| io(&path, "read", e))?;
        let mut w = Window {
            path,
            file: file.try_clone().map_err(|e| io(dir, "open", e))?,
            lock: file.try_clone().map_err(|e| io(dir, "open", e))?,
            bounds,
            sync,
            ids: HashMap::new(),
            staged: std::collections::HashSet::new(),
            order: VecDeque::new(),
            records: 0,
            buffer: String::new(),
        };
        let staged = w.load(&text)?;
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            // the record a crash cut short goes, or the next one would run into it
            file.set_len(complete as u64)
                .map_err(|e| io(&w.path, "cut a torn record", e))?;
        }
        if complete == 0 {
            writeln!(file, "{MAGIC}").map_err(|e| io(&w.path, "write", e))?;
        }
        if let Some(q) = queue {
            for staged in staged {
                let p = q.dirq().path().join(&staged);
                if p.exists() {
                    q.commit(&p).map_err(|e| {
                        Error::caused(
                            ErrorKind::OutgoingQueue,
                            format!("dedup window: cannot commit {} left staged", p.display()),
                            e,
                        )
                    })?;
                }
            }
        }
        w.expire(now());
        w.compact()?;
        Ok(w)
    }

    /// Reads the file's records; the staged paths among the last [`BATCH`] of them (the
    /// only ones that may not be committed).
    fn load(&mut self, text: &[u8]) -> Result<Vec<String>> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let text = String::from_utf8_lossy(text);
        let complete = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        let mut last_staged: VecDeque<Option<String>> = VecDeque::new();
        for (n, line) in complete.lines().enumerate() {
            if n == 0 {
                if line != MAGIC {
                    return Err(qerr(
                        &self.path,
                        format!("line 1: {line:?} is not {MAGIC:?}"),
                    ));
                }
                continue;
            }
            let bad = || {
                qerr(
                    &self.path,
                    format!("line {}: {line:?} is not SECONDS KEY [STAGED]", n + 1),
                )
            };
            let mut f = line.split(' ');
            let secs: u64 = f.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
            let id = f
                .next()
                .filter(|k| k.len() == 32)
                .and_then(|k| u128::from_str_radix(k, 16).ok())
                .ok_or_else(bad)?;
            last_staged.push_back(f.next().map(str::to_string));
            if last_staged.len() > BATCH {
                last_staged.pop_front();
            }
            if f.next().is_some() {
                return Err(bad());
            }
            self.insert(id, secs);
            self.records += 1;
        }
        Ok(last_staged.into_iter().flatten().collect())
    }

    fn insert(&mut self, id: u128, secs: u64) {
        self.ids.insert(id, secs);
        self.order.push_back((secs, id));
    }

    /// Forgets the ids out of bounds (too old, too many).
    fn expire(&mut self, now: u64) {
        let max_age = self.bounds.max_age.as_secs();
        while let Some((secs, id)) = self.order.front() {
            let old = now.saturating_sub(*secs) > max_age;
            if !old && self.order.len() <= self.bounds.max_ids {
                break;
            }
            // an id recorded again later keeps its newer time
            if self.ids.get(id) == Some(secs) {
                self.ids.remove(id);
            }
            self.order.pop_front();
        }
    }

    /// Whether `id` was written (or confirmed) within the window.
    pub fn contains(&mut self, id: &str) -> bool {
        self.contains_key(key(id))
    }

    /// [`Window::contains`] by the id's [`key`].
    pub fn contains_key(&mut self, k: u128) -> bool {
        self.expire(now());
        self.ids.contains_key(&k)
    }

    /// How many ids the window holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the window holds no id.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Records ids (by their [`key`]) with the paths of their staged messages relative to
    /// the queue, in one write: on disk (and synced, with `sync`) when this returns.
    pub fn record_staged(&mut self, batch: &[(u128, String)]) -> Result<()> {
        let secs = now();
        let mut text = std::mem::take(&mut self.buffer);
        let mut keys = Vec::with_capacity(batch.len());
        for (k, staged) in batch {
            text.push_str(&format!("{secs} {} {staged}\n", hex32(*k)));
            keys.push(*k);
            self.staged.remove(k);
        }
        self.write(&text)?;
        self.add(keys, secs)
    }

    /// A message with this id is staged in the queue (its record to come): see
    /// [`Window::is_staged`].
    pub fn stage(&mut self, k: u128) {
        self.staged.insert(k);
    }

    /// Whether a message with this id is staged and not recorded yet.
    pub fn is_staged(&self, k: u128) -> bool {
        self.staged.contains(&k)
    }

    /// The staged messages were dropped unrecorded (the queue stopped): none is staged.
    pub fn unstage_all(&mut self) {
        self.staged.clear();
    }

    /// Records `id` (a broker confirmed its message): written out with the next batch of
    /// records or at [`Window::flush`].
    pub fn record(&mut self, id: &str) -> Result<()> {
        self.record_key(key(id))
    }

    /// [`Window::record`] by the id's [`key`].
    pub fn record_key(&mut self, k: u128) -> Result<()> {
        let secs = now();
        use std::fmt::Write as _;
        let _ = writeln!(self.buffer, "{secs} {}", hex32(k));
        if self.buffer.len() >= BUFFERED {
            self.flush()?;
        }
        self.add(vec![k], secs)
    }

    /// Writes out the records waiting.
    pub fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.buffer);
        self.write(&text)
    }

    fn write(&mut self, text: &str) -> Result<()> {
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| io(&self.path, "write", e))?;
        if self.sync {
            self.file
                .sync_data()
                .map_err(|e| io(&self.path, "sync", e))?;
        }
        Ok(())
    }

    fn add(&mut self, keys: Vec<u128>, secs: u64) -> Result<()> {
        self.records += keys.len();
        for k in keys {
            self.insert(k, secs);
        }
        self.expire(secs);
        if self.records > 2 * self.ids.len().max(1000) {
            self.flush()?;
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrites the file with the live ids only (no staged paths: all are committed),
    /// atomically: a new file renamed over the old one.
    fn compact(&mut self) -> Result<()> {
        if self.records <= self.ids.len() {
            return Ok(());
        }
        let tmp = self.path.with_extension("new");
        let mut text = format!("{MAGIC}\n");
        for (secs, id) in &self.order {
            if self.ids.get(id) == Some(secs) {
                text.push_str(&format!("{secs} {id:032x}\n"));
            }
        }
        let mut f = File::create(&tmp).map_err(|e| io(&tmp, "create", e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| io(&tmp, "write", e))?;
        // the new file is locked before it replaces the old one: no gap for another run
        f.try_lock()
            .map_err(|_| qerr(&tmp, "cannot lock the rewritten window"))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io(&self.path, "replace", e))?;
        self.lock = f;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| io(&self.path, "open", e))?;
        self.records = self.ids.len();
        Ok(())
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `--dedup` for the engine: the window, and how ids are found and given.
#[derive(Clone)]
pub struct Dedup {
    /// The window (shared with the queue module when the destination is a spool).
    pub window: Arc<std::sync::Mutex<Window>>,
    /// The destination is a spool whose module records each id as it writes (staged,
    /// recorded, committed); otherwise the engine records an id once its broker confirmed.
    pub by_queue: bool,
    /// Headers that may carry a sender's id on arrival, after [`ID_HEADER`] (the
    /// protocol's own: `amqp-message-id` for STOMP through RabbitMQ, `message-id` for AMQP).
    pub id_headers: Vec<String>,
    /// Headers also given the id on the way out (unless the message has them), so that it
    /// crosses to the protocol's own id field.
    pub out_headers: Vec<String>,
    /// The host's identity, in the ids of queue elements.
    pub host: String,
}

/// The id of the message from a queue element: the same for every send of that element
/// from this host (an md5 of the host's identity and the element's stable name).
pub fn stable_id(host: &str, element: &str) -> String {
    use md5::Digest;
    let mut h = md5::Md5::new();
    h.update(host.as_bytes());
    h.update(b"\n");
    h.update(element.as_bytes());
    hex32(u128::from_be_bytes(h.finalize().into()))
}

impl Dedup {
    /// The message's id, found ([`ID_HEADER`], then the protocol's headers) or made from
    /// its queue element; written to [`ID_HEADER`] and the protocol's outgoing headers.
    /// `None`: no id at all.
    pub(crate) fn stamp(&self, msg: &mut Message, element: Option<String>) -> Option<String> {
        let id = msg
            .header
            .get(ID_HEADER)
            .or_else(|| self.id_headers.iter().find_map(|h| msg.header.get(h)))
            .cloned()
            .or_else(|| element.map(|e| stable_id(&self.host, &e)))?;
        if self.by_queue {
            msg.header.insert(ID_HEADER.into(), id.clone());
            return Some(id);
        }
        for h in &self.out_headers {
            msg.header.entry(h.clone()).or_insert_with(|| id.clone());
        }
        // To a broker, the id rides in the protocol's own field when that holds it, and
        // the header goes only where it does not: an extra AMQP application property cost
        // RabbitMQ a quarter more CPU a message (measured), and the receiving agent reads
        // either (and writes the header into its spool).
        let carried = !self.out_headers.is_empty()
            && self
                .out_headers
                .iter()
                .all(|h| msg.header.get(h) == Some(&id));
        if carried {
            msg.header.remove(ID_HEADER);
        } else {
            msg.header.insert(ID_HEADER.into(), id.clone());
        }
        Some(id)
    }

    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        // a panic elsewhere cannot leave the window half-written: its state is still good
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `id` is in the window.
    pub(crate) fn seen(&self, k: u128) -> bool {
        self.window().contains_key(k)
    }

    /// Whether a message with `id` is staged in the destination queue, not recorded yet.
    pub(crate) fn staged(&self, k: u128) -> bool {
        self.by_queue && self.window().is_staged(k)
    }

    /// Records an id by its key (a broker confirmed its message).
    pub(crate) fn record(&self, k: u128) -> Result<()> {
        self.window().record_key(k)
    }

    /// Writes out the ids recorded and not written yet.
    pub(crate) fn flush(&self) -> Result<()> {
        self.window().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        max_age: Duration::from_secs(3600),
        max_ids: 1000,
    };

    /// To a broker, the id rides in the protocol's field when that holds it, else in the
    /// header too; into a spool, always the header. A message's own id is kept.
    #[test]
    fn the_id_rides_in_the_protocols_field_or_the_header() {
        let d = tempfile::tempdir().unwrap();
        let dedup = |by_queue| Dedup {
            window: Arc::new(std::sync::Mutex::new(
                Window::open(
                    d.path().join(format!("{by_queue}")).as_path(),
                    BOUNDS,
                    false,
                    None,
                )
                .unwrap(),
            )),
            by_queue,
            id_headers: vec!["message-id".into()],
            out_headers: vec!["message-id".into()],
            host: "h".into(),
        };
        let to_broker = dedup(false);
        // made from the element: the protocol's field only
        let mut m = Message::text("x");
        let id = to_broker.stamp(&mut m, Some("e1".into())).unwrap();
        assert_eq!(id, stable_id("h", "e1"));
        assert_eq!(m.header.get("message-id"), Some(&id));
        assert!(!m.header.contains_key(ID_HEADER));
        // a message whose field holds another id: that is its id (kept), nothing added
        let mut m = Message::text("x").with_header("message-id", "theirs");
        assert_eq!(
            to_broker.stamp(&mut m, Some("e2".into())).unwrap(),
            "theirs"
        );
        assert!(!m.header.contains_key(ID_HEADER));
        // an id in the header that the field does not hold: both travel
        let mut m = Message::text("x")
            .with_header(ID_HEADER, "mine")
            .with_header("message-id", "theirs");
        assert_eq!(to_broker.stamp(&mut m, None).unwrap(), "mine");
        assert_eq!(m.header[ID_HEADER], "mine");
        assert_eq!(m.header["message-id"], "theirs");
        // into a spool: the header
        let mut m = Message::text("x").with_header("message-id", "theirs");
        assert_eq!(dedup(true).stamp(&mut m, None).unwrap(), "theirs");
        assert_eq!(m.header[ID_HEADER], "theirs");
    }

    #[test]
    fn ids_survive_the_run_and_a_torn_last_record_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        {
            let mut w = Window::open(d.path(), BOUNDS, false, None).unwrap();
            w.record("a b%c").unwrap();
            w.record("ü").unwrap();
            assert!(w.contains("a b%c"));
            assert!(
                Window::open(d.path(), BOUNDS, false, None).is_err(),
                "one run a window"
            );
        }
        let path = d.path().join(FILE_NAME);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"1234 cut-sho").unwrap();
        let mut w = Window::open(d.path(), BOUNDS, false, None).unwrap();
        assert!(w.contains("a b%c") && w.contains("ü"));
        assert!(!w.contains("cut-sho"));
        assert_eq!(w.len(), 2);
        w.record("after").unwrap();
        drop(w);
        let mut w = Window::open(d.path(), BOUNDS, false, None).unwrap();
        assert!(w.contains("after"), "a record after a torn one reads back");
    }

    #[test]
    fn a_malformed_record_is_an_error_not_a_reset() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(FILE_NAME);
        let k = format!("{:032x}", key("ok"));
        std::fs::write(&path, format!("msgtk-dedup 1\n12 {k}\nnonsense\n13 {k}\n")).unwrap();
        let e = Window::open(d.path(), BOUNDS, false, None).err().unwrap();
        assert!(e.message.contains("line 3"), "{}", e.message);
        std::fs::write(&path, "something else\n").unwrap();
        assert!(Window::open(d.path(), BOUNDS, false, None).is_err());
    }

    #[test]
    fn old_ids_and_too_many_are_forgotten() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(FILE_NAME);
        let t = now();
        std::fs::write(
            &path,
            format!(
                "msgtk-dedup 1\n{} {:032x}\n{t} {:032x}\n",
                t - 7200,
                key("old"),
                key("new")
            ),
        )
        .unwrap();
        let mut w = Window::open(d.path(), BOUNDS, false, None).unwrap();
        assert!(!w.contains("old"), "older than the window: accepted again");
        assert!(w.contains("new"));
        let small = Bounds {
            max_ids: 3,
            ..BOUNDS
        };
        drop(w);
        let mut w = Window::open(d.path(), small, false, None).unwrap();
        for i in 0..5 {
            w.record(&format!("id{i}")).unwrap();
        }
        assert_eq!(w.len(), 3);
        assert!(!w.contains("id1") && w.contains("id4"));
    }

    #[test]
    fn a_message_left_staged_after_its_record_is_committed_at_start() {
        let d = tempfile::tempdir().unwrap();
        let q = MessageQueue::open_str(&format!("path={}", d.path().display())).unwrap();
        let staged = q
            .stage_message(&message::Message::text("x"))
            .unwrap()
            .unwrap();
        let rel = staged
            .strip_prefix(d.path())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        {
            let mut w = Window::open(d.path(), BOUNDS, false, Some(&q)).unwrap();
            w.record_staged(&[(key("x-id"), rel.clone())]).unwrap();
            // the crash: never committed
        }
        assert_eq!(q.dirq().count().unwrap(), 0);
        let mut w = Window::open(d.path(), BOUNDS, false, Some(&q)).unwrap();
        assert_eq!(q.dirq().count().unwrap(), 1, "committed by the next run");
        assert!(w.contains("x-id"));
    }

    #[test]
    fn a_batch_cut_short_is_committed_at_start() {
        let d = tempfile::tempdir().unwrap();
        let q = MessageQueue::open_str(&format!("path={}", d.path().display())).unwrap();
        let mut batch = Vec::new();
        let mut paths = Vec::new();
        for i in 0..3 {
            let p = q
                .stage_message(&message::Message::text(format!("m{i}")))
                .unwrap()
                .unwrap();
            let rel = p
                .strip_prefix(d.path())
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            batch.push((key(&format!("id{i}")), rel));
            paths.push(p);
        }
        {
            let mut w = Window::open(d.path(), BOUNDS, false, Some(&q)).unwrap();
            w.record_staged(&batch).unwrap();
            // the crash: after the first commit only
            q.commit(&paths[0]).unwrap();
        }
        let mut w = Window::open(d.path(), BOUNDS, false, Some(&q)).unwrap();
        assert_eq!(
            q.dirq().count().unwrap(),
            3,
            "each recorded message an element, once"
        );
        assert!(w.contains("id0") && w.contains("id2"));
    }

    #[test]
    fn the_file_is_rewritten_with_the_live_ids() {
        let d = tempfile::tempdir().unwrap();
        let small = Bounds {
            max_ids: 10,
            ..BOUNDS
        };
        let mut w = Window::open(d.path(), small, false, None).unwrap();
        for i in 0..5000 {
            w.record(&format!("id{i}")).unwrap();
        }
        let lines = std::fs::read_to_string(d.path().join(FILE_NAME))
            .unwrap()
            .lines()
            .count();
        assert!(lines <= 2001 + 1, "{lines} lines");
        drop(w);
        let mut w = Window::open(d.path(), small, false, None).unwrap();
        assert!(w.contains("id4999") && !w.contains("id10"));
    }
}
