//! The directory queue modules: read messages from a queue, write messages to one.

use std::collections::HashMap;
use std::time::Duration;

use message::{Message, MessageQueue, QueueOptions};

use crate::readahead::{Item, ReadAhead};
use crate::{Error, ErrorKind, Got, Incoming, Outgoing, Result, Token};

/// Options of the incoming queue module.
#[derive(Debug, Clone)]
pub struct QueueIncomingOptions {
    /// The queue (`path=… type=…` and the dirq options, maxtemp/maxlock for purge).
    pub queue: QueueOptions,
    /// Remove elements once handed on (otherwise unlock them: browsing).
    pub remove: bool,
    /// Start again at the end of the queue instead of stopping; with inotify, woken when an
    /// element arrives rather than scanning every second.
    pub looping: bool,
    /// Keep elements locked until the destination confirmed them.
    pub reliable: bool,
    /// `--quarantine`: where an element that cannot be read as a message goes (with its
    /// reason), instead of ending the run.
    pub quarantine: Option<Quarantine>,
}

/// `--quarantine DIR`: a directory for the elements that cannot be read, and their count.
#[derive(Debug, Clone)]
pub struct Quarantine {
    /// The directory (made if need be).
    pub dir: std::path::PathBuf,
    /// Elements moved there (the agent's metrics read it).
    pub count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

fn qerr(kind: ErrorKind, what: &str, e: impl Into<crate::error::Cause>) -> Error {
    Error::caused(kind, what, e)
}

/// Reads messages from a directory queue, each element locked while in flight. The
/// locking, reading and removing happen on a thread of their own a few elements ahead
/// ([`crate::readahead`]), so that their system calls overlap with the broker's work.
pub struct QueueIncoming {
    opts: QueueIncomingOptions,
    q: Option<MessageQueue>,
    reader: Option<ReadAhead>,
    pending: HashMap<Token, String>,
    next: u64,
    /// the element handed out last (for error messages)
    last: Option<String>,
    /// The queue's canonical path, for the stable names of its elements (`--dedup`).
    root: Option<String>,
}

impl QueueIncoming {
    /// A module for this queue (opened by `start`).
    pub fn new(opts: QueueIncomingOptions) -> Self {
        QueueIncoming {
            opts,
            q: None,
            reader: None,
            pending: HashMap::new(),
            next: 1,
            last: None,
            root: None,
        }
    }

    fn reader(&mut self) -> Result<&mut ReadAhead> {
        self.reader
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::IncomingQueue, "incoming queue not started"))
    }
}

impl Incoming for QueueIncoming {
    async fn start(&mut self) -> Result<()> {
        let q = MessageQueue::open(&self.opts.queue)
            .map_err(|e| qerr(ErrorKind::IncomingQueue, "incoming queue", e))?;
        // the locks of a run that died go at once, before purge's maxlock would take them
        let released = dirq::owners::release_dead(q.dirq(), None);
        if released > 0 {
            log::warn!("released {released} locks of a reader that died");
        }
        q.dirq()
            .purge()
            .map_err(|e| qerr(ErrorKind::IncomingQueue, "incoming queue", e))?;
        self.root = std::fs::canonicalize(q.dirq().path())
            .ok()
            .map(|p| p.display().to_string());
        self.reader = Some(ReadAhead::start(q.clone(), self.opts.clone())?);
        self.q = Some(q);
        Ok(())
    }

    async fn get(&mut self) -> Result<Got> {
        match self.reader()?.next().await? {
            Item::Message(name, msg) => {
                self.last = Some(name.clone());
                if self.opts.reliable {
                    let t = Token(self.next);
                    self.next += 1;
                    self.pending.insert(t, name);
                    return Ok(Got::Message(msg, t));
                }
                self.reader()?.done(name)?;
                Ok(Got::Message(msg, Token(0)))
            }
            Item::Failed(e) => Err(e),
            Item::Idle => Ok(Got::Idle),
            Item::End => Ok(Got::End),
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        match self.pending.remove(&token) {
            Some(name) => self.reader()?.done(name),
            None => Ok(()),
        }
    }

    async fn idle(&mut self) -> Result<()> {
        // the reader thread purges while it loops
        Ok(())
    }

    fn has_ready(&self) -> bool {
        self.reader.as_ref().is_some_and(ReadAhead::has_ready)
    }

    fn element(&self, token: Token) -> Option<String> {
        let name = self.pending.get(&token).or(self.last.as_ref())?;
        Some(format!("{}/{name}", self.root.as_deref()?))
    }

    fn origin(&self, token: Token) -> Option<String> {
        let name = self.pending.get(&token).or(self.last.as_ref())?;
        let path = self.q.as_ref()?.dirq().path().join(name);
        Some(path.display().to_string())
    }

    async fn stop(&mut self) -> Result<()> {
        let Some(mut reader) = self.reader.take() else {
            return Ok(());
        };
        let (unsent, r) = reader.stop().await;
        // Elements read ahead or never confirmed go back to the queue at once, not after
        // maxlock.
        if let Some(q) = &self.q {
            for name in unsent.iter().chain(self.pending.values()) {
                let _ = q.dirq().unlock_with(name, true);
            }
        }
        self.pending.clear();
        r
    }
}

/// Writes messages to a directory queue; an add that returned is confirmed at once.
pub struct QueueOutgoing {
    opts: QueueOptions,
    q: Option<MessageQueue>,
    done: Vec<Token>,
    /// `--dedup`: each message's id recorded between its staging and its commit.
    window: Option<std::sync::Arc<std::sync::Mutex<crate::dedup::Window>>>,
    /// Staged messages whose ids are not recorded yet: token, id's key, staged path.
    staged: Vec<(Token, u128, std::path::PathBuf)>,
}

fn not_started() -> Error {
    Error::new(ErrorKind::OutgoingQueue, "outgoing queue not started")
}

impl QueueOutgoing {
    /// A module for this queue (opened by `start`).
    pub fn new(opts: QueueOptions) -> Self {
        QueueOutgoing {
            opts,
            q: None,
            done: Vec::new(),
            window: None,
            staged: Vec::new(),
        }
    }

    /// `--dedup`: writes in two steps, the ids of the messages recorded in `window` in
    /// between, up to [`crate::dedup::BATCH`] at a time (see [`crate::dedup`]).
    pub fn with_window(
        mut self,
        window: std::sync::Arc<std::sync::Mutex<crate::dedup::Window>>,
    ) -> Self {
        self.window = Some(window);
        self
    }

    /// Records the ids of the staged messages (one write), then makes them elements: each
    /// confirmed once it is one.
    fn commit_staged(&mut self) -> Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let q = self.q.as_ref().ok_or_else(not_started)?;
        let root = q.dirq().path();
        let records: Vec<(u128, String)> = self
            .staged
            .iter()
            .map(|(_, k, p)| {
                let rel = p.strip_prefix(root).unwrap_or(p);
                (*k, rel.to_string_lossy().into_owned())
            })
            .collect();
        if let Some(w) = &self.window {
            w.lock()
                .unwrap_or_else(|p| p.into_inner())
                .record_staged(&records)?;
        }
        let qe = |e| qerr(ErrorKind::OutgoingQueue, "outgoing queue", e);
        for (token, _, p) in std::mem::take(&mut self.staged) {
            q.commit(&p).map_err(qe)?;
            self.done.push(token);
        }
        Ok(())
    }
}

impl Outgoing for QueueOutgoing {
    async fn start(&mut self) -> Result<()> {
        self.q = Some(
            MessageQueue::open(&self.opts)
                .map_err(|e| qerr(ErrorKind::OutgoingQueue, "outgoing queue", e))?,
        );
        Ok(())
    }

    async fn put(&mut self, msg: &Message, token: Token) -> Result<()> {
        let q = self.q.as_ref().ok_or_else(not_started)?;
        let qe = |e| qerr(ErrorKind::OutgoingQueue, "outgoing queue", e);
        match (&self.window, msg.header.get(crate::dedup::ID_HEADER)) {
            (Some(_), Some(id)) => {
                // NULL stages nothing: nothing to record either
                if let Some(p) = q.stage_message(msg).map_err(qe)? {
                    let k = crate::dedup::key(id);
                    if let Some(w) = &self.window {
                        w.lock().unwrap_or_else(|p| p.into_inner()).stage(k);
                    }
                    self.staged.push((token, k, p));
                    if self.staged.len() >= crate::dedup::BATCH {
                        self.commit_staged()?;
                    }
                    return Ok(());
                }
            }
            _ => {
                q.add_message(msg).map_err(qe)?;
            }
        }
        self.done.push(token);
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, wait: Duration) -> Result<()> {
        // a look without waiting leaves the staged batch to fill
        if !wait.is_zero() {
            self.commit_staged()?;
        }
        out.append(&mut self.done);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.staged.len() + self.done.len()
    }

    async fn idle(&mut self) -> Result<()> {
        self.commit_staged()
    }

    async fn flush(&mut self) -> Result<()> {
        self.commit_staged()
    }

    async fn stop(&mut self) -> Result<()> {
        // staged and never recorded: not elements, and no one will commit them
        for (_, _, p) in self.staged.drain(..) {
            let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
        }
        if let Some(w) = &self.window {
            w.lock().unwrap_or_else(|p| p.into_inner()).unstage_all();
        }
        Ok(())
    }
}
