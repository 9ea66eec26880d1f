//! The incoming queue's read-ahead thread. Reading an element costs about seven system
//! calls (lock: link and utime; open, read, close; then two unlinks once it is confirmed);
//! done on the engine's thread they come on top of the broker's work for every message, done
//! here they overlap with it. The thread locks and reads a few elements ahead of the engine
//! and hands them over in batches (at most [`AHEAD`] batches of [`BATCH`] wait, all of them
//! locked, so no other consumer takes them), and removes or unlocks the ones the engine is
//! done with. At stop, the elements read
//! ahead and never handed on are unlocked at once.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dirq::{Names, Waiter, Woken};
use message::{Message, MessageQueue};
use tokio::sync::mpsc;

use crate::queue::QueueIncomingOptions;
use crate::{Error, ErrorKind, Result};

/// Elements handed over at once: one wake-up of the engine for that many (a wake-up costs
/// two system calls), at most this many elements' worth of latency while a queue drains.
const BATCH: usize = 16;

/// Batches waiting in the channel at most: with the one being read, at most
/// `(AHEAD + 1) × BATCH` elements are locked ahead of the engine.
const AHEAD: usize = 3;

/// How often an incoming queue is purged while looping (the reference's 300 s).
const PURGE_EVERY: Duration = Duration::from_secs(300);

/// How long the thread sleeps at most without being rung (a missed ring costs this much).
const NAP: Duration = Duration::from_secs(1);

/// What the thread hands the engine.
#[derive(Debug)]
pub(crate) enum Item {
    /// A locked element and its message.
    Message(String, Message),
    /// Reading failed; nothing more comes.
    Failed(Error),
    /// A pass over the queue found nothing for about a second (`--loop`).
    Idle,
    /// The queue was read to its end (without `--loop`).
    End,
}

/// What the engine tells the thread.
enum Cmd {
    /// Done with this element: remove it (`--remove`) or unlock it.
    Done(String),
    /// Stop reading; the commands sent before are carried out first.
    Stop,
}

fn qerr(e: impl Into<crate::error::Cause>) -> Error {
    Error::caused(ErrorKind::IncomingQueue, "incoming queue", e)
}

/// What both sides share: the commands, the first error of a remove or unlock, and the
/// doorbell that wakes the thread when it sleeps (rung only then: no system call while it
/// is busy).
struct Shared {
    cmds: Mutex<VecDeque<Cmd>>,
    failed: Mutex<Option<Error>>,
    sleeping: AtomicBool,
    bell: UnixStream,
}

impl Shared {
    fn ring(&self) {
        if self.sleeping.load(Ordering::SeqCst) {
            // non-blocking: a full socket has rung already
            let _ = (&self.bell).write(&[1]);
        }
    }

    fn push(&self, c: Cmd) {
        if let Ok(mut q) = self.cmds.lock() {
            q.push_back(c);
        }
        self.ring();
    }

    fn take_failure(&self) -> Result<()> {
        match self.failed.lock().map(|mut f| f.take()) {
            Ok(Some(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

/// The engine's end of the read-ahead thread.
pub(crate) struct ReadAhead {
    items: mpsc::Receiver<Vec<Item>>,
    /// The rest of the batch being handed out.
    buffer: VecDeque<Item>,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReadAhead {
    /// Starts reading `q` (already opened and purged).
    pub(crate) fn start(q: MessageQueue, opts: QueueIncomingOptions) -> Result<ReadAhead> {
        let (item_tx, items) = mpsc::channel(AHEAD);
        let (bell, door) = UnixStream::pair().map_err(|e| {
            Error::caused(
                ErrorKind::IncomingQueue,
                "incoming queue: cannot make a socket pair",
                e,
            )
        })?;
        bell.set_nonblocking(true)
            .and_then(|()| door.set_read_timeout(Some(NAP)))
            .map_err(|e| {
                Error::caused(
                    ErrorKind::IncomingQueue,
                    "incoming queue: cannot set up its socket pair",
                    e,
                )
            })?;
        let shared = Arc::new(Shared {
            cmds: Mutex::new(VecDeque::new()),
            failed: Mutex::new(None),
            sleeping: AtomicBool::new(false),
            bell,
        });
        let mut worker = Worker {
            waiter: opts.looping.then(|| Waiter::new(q.dirq().path())),
            names: q.names(),
            q,
            opts,
            items: item_tx,
            shared: Arc::clone(&shared),
            door,
            locked_this_pass: 0,
            last_purge: Instant::now(),
            idle_since: None,
            owner: None,
            planned: VecDeque::new(),
        };
        worker.owner = dirq::owners::Owner::new(worker.q.dirq().path());
        let thread = std::thread::Builder::new()
            .name("queue-reader".into())
            .spawn(move || worker.run())
            .map_err(|e| {
                Error::caused(
                    ErrorKind::IncomingQueue,
                    "incoming queue: cannot start its reader thread",
                    e,
                )
            })?;
        Ok(ReadAhead {
            items,
            buffer: VecDeque::new(),
            shared,
            thread: Some(thread),
        })
    }

    /// The next item; an error of an earlier remove or unlock first.
    pub(crate) async fn next(&mut self) -> Result<Item> {
        self.shared.take_failure()?;
        if let Some(item) = self.buffer.pop_front() {
            return Ok(item);
        }
        let batch = self.items.recv().await;
        // room in the channel: a thread waiting for it goes on
        self.shared.ring();
        match batch {
            Some(batch) => {
                self.buffer.extend(batch);
                self.buffer
                    .pop_front()
                    .ok_or_else(|| qerr("its reader thread sent nothing"))
            }
            None => {
                self.shared.take_failure()?;
                Err(qerr("its reader thread stopped"))
            }
        }
    }

    /// Whether [`ReadAhead::next`] has an item without waiting.
    pub(crate) fn has_ready(&self) -> bool {
        !self.buffer.is_empty() || !self.items.is_empty()
    }

    /// Done with an element: the thread removes or unlocks it.
    pub(crate) fn done(&self, name: String) -> Result<()> {
        self.shared.take_failure()?;
        self.shared.push(Cmd::Done(name));
        Ok(())
    }

    /// Stops the thread after the commands sent so far; returns the elements it had read
    /// ahead and not handed on (still locked), and its first error.
    pub(crate) async fn stop(&mut self) -> (Vec<String>, Result<()>) {
        self.shared.push(Cmd::Stop);
        let mut unsent: Vec<String> = Vec::new();
        let mut keep = |item: Item| {
            if let Item::Message(name, _) = item {
                unsent.push(name);
            }
        };
        self.buffer.drain(..).for_each(&mut keep);
        // the thread may be waiting for room in the channel: drain it until the thread is gone
        while let Some(batch) = self.items.recv().await {
            self.shared.ring();
            batch.into_iter().for_each(&mut keep);
        }
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            return (unsent, Err(qerr("its reader thread panicked")));
        }
        (unsent, self.shared.take_failure())
    }
}

/// The thread's side.
struct Worker {
    q: MessageQueue,
    opts: QueueIncomingOptions,
    names: Names,
    waiter: Option<Waiter>,
    items: mpsc::Sender<Vec<Item>>,
    shared: Arc<Shared>,
    door: UnixStream,
    locked_this_pass: usize,
    last_purge: Instant,
    /// Since when a pass found nothing and the thread waits for arrivals (`--loop`).
    idle_since: Option<Instant>,
    /// This run's owner file: which locks it holds, for its successor if it dies.
    owner: Option<dirq::owners::Owner>,
    /// Names taken from the pass and recorded in the owner file, not locked yet (`None`:
    /// the pass's end).
    planned: VecDeque<Option<std::result::Result<(String, i128), dirq::Error>>>,
}

/// Names recorded in the owner file with one write, before they are locked.
const PLAN: usize = 16;

impl Worker {
    fn run(&mut self) {
        // read and not yet handed over
        let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
        // the batch goes now (full, or nothing more to read at once)
        let mut ready = false;
        let mut reading = true;
        loop {
            if !self.obey() {
                self.give_back(batch);
                return;
            }
            if ready && !batch.is_empty() {
                match self.items.try_send(std::mem::take(&mut batch)) {
                    Ok(()) => batch.reserve(BATCH),
                    Err(mpsc::error::TrySendError::Full(b)) => {
                        batch = b;
                        self.sleep(NAP, true, false);
                        continue;
                    }
                    Err(mpsc::error::TrySendError::Closed(b)) => {
                        // the engine is gone without a stop
                        self.give_back(b);
                        return;
                    }
                }
            }
            ready = false;
            if !reading {
                self.sleep(NAP, false, false);
                continue;
            }
            if let Some(since) = self.idle_since {
                let left = Duration::from_secs(1).saturating_sub(since.elapsed());
                match self.sleep(left, false, true) {
                    Woken::Other => continue,
                    Woken::Queue => self.idle_since = None,
                    Woken::Timeout if since.elapsed() < Duration::from_secs(1) => continue,
                    Woken::Timeout => {
                        // a scan a second still, as the reference's loop
                        self.idle_since = None;
                        self.new_pass();
                        batch.push(Item::Idle);
                        ready = true;
                        continue;
                    }
                }
                self.new_pass();
            }
            match self.read() {
                Ok(Some(item @ Item::Message(..))) => {
                    batch.push(item);
                    ready = batch.len() >= BATCH;
                }
                Ok(Some(item)) => {
                    reading = !matches!(item, Item::End);
                    batch.push(item);
                    ready = true;
                }
                // the end of a pass: what was read goes now
                Ok(None) => ready = true,
                Err(e) => {
                    reading = false;
                    batch.push(Item::Failed(e));
                    ready = true;
                }
            }
        }
    }

    /// Unlocks what was read and never handed on.
    fn give_back(&mut self, batch: Vec<Item>) {
        for item in batch {
            if let Item::Message(name, _) = item {
                let _ = self.q.dirq().unlock_with(&name, true);
                if let Some(o) = self.owner.as_mut() {
                    o.released(&name);
                }
            }
        }
    }

    /// Carries out the engine's commands; false on stop.
    fn obey(&mut self) -> bool {
        loop {
            let cmd = match self.shared.cmds.lock() {
                Ok(mut q) => q.pop_front(),
                Err(_) => return false,
            };
            match cmd {
                None => return true,
                Some(Cmd::Stop) => return false,
                Some(Cmd::Done(name)) => {
                    if let Err(e) = self.finish(&name)
                        && let Ok(mut f) = self.shared.failed.lock()
                    {
                        f.get_or_insert(e);
                    }
                }
            }
        }
    }

    /// Sleeps until rung, `limit` passed, or (`queue`) something arrived in the queue.
    fn sleep(&mut self, limit: Duration, room: bool, queue: bool) -> Woken {
        self.shared.sleeping.store(true, Ordering::SeqCst);
        // what came before the flag was up rang no bell
        let work = self.shared.cmds.lock().is_ok_and(|q| !q.is_empty())
            || (room && self.items.capacity() > 0);
        let woken = if work {
            // not read from the bell: a ring may or may not be on its way (a stray one
            // only makes a later sleep end early)
            Woken::Other
        } else if let (true, Some(w)) = (queue, self.waiter.as_mut()) {
            // (a looping reader always has a waiter; it polls where inotify cannot see)
            let r = w.wait_or(limit, self.door.as_fd());
            if r == Woken::Other {
                // readable: the bell's bytes, without waiting
                let _ = self.door.read(&mut [0u8; 64]);
            }
            r
        } else {
            // the bell, for the socket's read time-out
            match self.door.read(&mut [0u8; 64]) {
                Ok(n) if n > 0 => Woken::Other,
                _ => Woken::Timeout,
            }
        };
        self.shared.sleeping.store(false, Ordering::SeqCst);
        woken
    }

    /// The next item, or `None` at the end of a `--loop` pass that found nothing (the
    /// thread then waits for arrivals).
    fn read(&mut self) -> Result<Option<Item>> {
        loop {
            match self.next_name() {
                Some(Ok((name, stamp))) => {
                    if !self.q.dirq().lock_at(&name, stamp).map_err(qerr)? {
                        if let Some(o) = self.owner.as_mut() {
                            o.not_taken(&name, stamp);
                        }
                        continue;
                    }
                    self.locked_this_pass += 1;
                    return match self.q.get_locked_message(&name) {
                        Ok(m) => Ok(Some(Item::Message(name, m))),
                        Err(e) => match &self.opts.quarantine {
                            Some(qu) => {
                                self.set_aside(&name, qerr(e), qu)?;
                                continue;
                            }
                            None => {
                                // left in place, unlocked, for a human to look at
                                let _ = self.q.dirq().unlock_with(&name, true);
                                Err(qerr(e))
                            }
                        },
                    };
                }
                Some(Err(e)) => return Err(qerr(e)),
                None => {
                    if !self.opts.looping {
                        return Ok(Some(Item::End));
                    }
                    if self.last_purge.elapsed() >= PURGE_EVERY {
                        self.last_purge = Instant::now();
                        let mine = self.owner.as_ref().map(|o| o.path().to_path_buf());
                        dirq::owners::release_dead(self.q.dirq(), mine.as_deref());
                        self.q.dirq().purge().map_err(qerr)?;
                    }
                    if std::mem::take(&mut self.locked_this_pass) > 0 {
                        self.new_pass();
                        continue;
                    }
                    self.idle_since = Some(Instant::now());
                    return Ok(None);
                }
            }
        }
    }

    /// A new pass over the queue's names.
    fn new_pass(&mut self) {
        self.names = self.q.names();
        for (name, stamp) in self.planned.drain(..).flatten().flatten() {
            if let Some(o) = self.owner.as_mut() {
                o.not_taken(&name, stamp);
            }
        }
    }

    /// The next name to lock and the stamp to lock it with. Names are taken [`PLAN`] at a
    /// time and written to the owner file (one write) before any of them is locked: a lock
    /// this run holds is always in its owner record, whenever it dies.
    fn next_name(&mut self) -> Option<std::result::Result<(String, i128), dirq::Error>> {
        if self.planned.is_empty() {
            let stamps = self.owner.is_some() && self.q.dirq().stamps_locks();
            let base = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i128);
            for i in 0..PLAN {
                let next = self.names.next();
                let last = !matches!(next, Some(Ok(_)));
                let planned = next.map(|r| r.map(|name| (name, base + i as i128)));
                if let (true, Some(Ok((name, stamp))), Some(o)) =
                    (stamps, &planned, self.owner.as_mut())
                {
                    o.took(name, *stamp);
                }
                self.planned.push_back(planned);
                if last {
                    break;
                }
            }
            if let Some(o) = self.owner.as_mut() {
                o.flush();
            }
        }
        self.planned.pop_front().flatten()
    }

    /// `--quarantine`: an element that cannot be read, moved whole (a DQS file, a DQN
    /// directory) to the quarantine directory as `DIR-NAME`, with `DIR-NAME.reason` beside
    /// it; logged once and counted. Its lock goes with it or is removed.
    fn set_aside(&self, name: &str, why: Error, qu: &crate::queue::Quarantine) -> Result<()> {
        let root = self.q.dirq().path();
        let src = root.join(name);
        let flat = name.replace('/', "-");
        let dst = qu.dir.join(&flat);
        let moved = std::fs::create_dir_all(&qu.dir)
            .and_then(|()| move_aside(&src, &dst))
            .map_err(|e| {
                Error::caused(
                    ErrorKind::IncomingQueue,
                    format!(
                        "cannot move {} to quarantine {}",
                        src.display(),
                        qu.dir.display()
                    ),
                    e,
                )
            })?;
        let reason = why.line();
        let _ = std::fs::write(qu.dir.join(format!("{flat}.reason")), format!("{reason}\n"));
        // a DQS element's lock is a second name of the file: it goes too
        let _ = std::fs::remove_file(root.join(format!("{name}.lck")));
        qu.count.fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "incoming queue element {}: {reason}: moved to {}",
            src.display(),
            moved.display()
        );
        Ok(())
    }

    /// Done with an element: remove it or unlock it. An element that is gone was purged
    /// and handed on again meanwhile: the reference's "ignored duplicate ack".
    fn finish(&mut self, name: &str) -> Result<()> {
        if let Some(o) = self.owner.as_mut() {
            o.released(name);
        }
        let dq = self.q.dirq();
        let r = if self.opts.remove {
            dq.remove_locked(name)
        } else {
            dq.unlock_with(name, true).map(drop)
        };
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() || matches!(e, dirq::Error::NotLocked { .. }) => {
                log::warn!("ignored duplicate ack of {name}");
                Ok(())
            }
            Err(e) => Err(qerr(e)),
        }
    }
}

/// Moves `src` (a file or a directory) to `dst`, by copying where a rename cannot (another
/// filesystem). Returns `dst`.
fn move_aside(src: &std::path::Path, dst: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    match std::fs::rename(src, dst) {
        Ok(()) => Ok(dst.to_path_buf()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            copy_tree(src, dst)?;
            if src.is_dir() {
                std::fs::remove_dir_all(src)?;
            } else {
                std::fs::remove_file(src)?;
            }
            Ok(dst.to_path_buf())
        }
        Err(e) => Err(e),
    }
}

fn copy_tree(src: &std::path::Path, dst: &std::path::Path) -> std::io::Result<()> {
    if src.is_dir() {
        std::fs::create_dir_all(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dst).map(drop)
    }
}
