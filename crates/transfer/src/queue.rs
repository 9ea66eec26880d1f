//! The directory queue modules: read messages from a queue, write messages to one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dirq::Names;
use message::{Message, MessageQueue, QueueOptions};

use crate::{Error, ErrorKind, Got, Incoming, Outgoing, Result, Token};

/// How often an incoming queue is purged while idle (the reference's 300 s).
const PURGE_EVERY: Duration = Duration::from_secs(300);

/// Options of the incoming queue module.
#[derive(Debug, Clone)]
pub struct QueueIncomingOptions {
    /// The queue (`path=… type=…` and the dirq options, maxtemp/maxlock for purge).
    pub queue: QueueOptions,
    /// Remove elements once handed on (otherwise unlock them: browsing).
    pub remove: bool,
    /// Start again at the end of the queue instead of stopping.
    pub looping: bool,
    /// Keep elements locked until the destination confirmed them.
    pub reliable: bool,
}

fn qerr(kind: ErrorKind, what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(kind, format!("{what}: {e}"))
}

/// The waiter's descriptor, as tokio's `AsyncFd` wants it (the waiter keeps owning it).
struct WaitFd(std::os::fd::RawFd);

impl std::os::fd::AsRawFd for WaitFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0
    }
}

/// With `--loop`: woken by inotify when an element arrives instead of scanning every
/// second (on a network filesystem, or without inotify, it polls as before).
struct Wake {
    // declared first, so dropped first: deregistered while the waiter's descriptor is open
    fd: Option<tokio::io::unix::AsyncFd<WaitFd>>,
    waiter: dirq::Waiter,
}

impl Wake {
    fn new(path: &std::path::Path) -> Wake {
        let waiter = dirq::Waiter::new(path);
        // SAFETY: the descriptor is the waiter's inotify, open until the waiter is dropped,
        // which happens after this AsyncFd (field order above); it is never replaced.
        let fd = waiter
            .raw_fd()
            .and_then(|fd| unsafe { tokio::io::unix::AsyncFd::register(WaitFd(fd)) }.ok());
        Wake { fd, waiter }
    }

    /// Waits at most `limit` for a hint that something arrived; says whether there was one.
    async fn wait(&mut self, limit: Duration) -> bool {
        if self.waiter.drain() {
            return true;
        }
        let Some(fd) = &self.fd else {
            tokio::time::sleep(limit).await;
            return false;
        };
        match tokio::time::timeout(limit, fd.readable()).await {
            Ok(Ok(mut guard)) => {
                guard.clear_ready();
                self.waiter.drain()
            }
            _ => false,
        }
    }
}

/// Reads messages from a directory queue, element by element, each locked while in flight.
pub struct QueueIncoming {
    opts: QueueIncomingOptions,
    q: Option<MessageQueue>,
    names: Option<Names>,
    pending: HashMap<Token, String>,
    next: u64,
    locked_this_pass: usize,
    last_purge: Instant,
    wake: Option<Wake>,
    /// the element handed out last (for error messages)
    last: Option<String>,
}

impl QueueIncoming {
    /// A module for this queue (opened by `start`).
    pub fn new(opts: QueueIncomingOptions) -> Self {
        QueueIncoming {
            opts,
            q: None,
            names: None,
            pending: HashMap::new(),
            next: 1,
            locked_this_pass: 0,
            last_purge: Instant::now(),
            wake: None,
            last: None,
        }
    }

    fn queue(&self) -> Result<&MessageQueue> {
        self.q
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::IncomingQueue, "incoming queue not started"))
    }

    fn purge(&mut self) -> Result<()> {
        self.last_purge = Instant::now();
        self.queue()?
            .dirq()
            .purge()
            .map_err(|e| qerr(ErrorKind::IncomingQueue, "incoming queue", e))
    }

    /// Done with an element: remove it or unlock it. An element that is gone was purged
    /// and handed on again meanwhile: the reference's "ignored duplicate ack".
    fn finish(&self, name: &str) -> Result<()> {
        let dq = self.queue()?.dirq();
        let r = if self.opts.remove {
            dq.remove(name)
        } else {
            dq.unlock_with(name, true).map(drop)
        };
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() || matches!(e, dirq::Error::NotLocked { .. }) => {
                log::warn!("ignored duplicate ack of {name}");
                Ok(())
            }
            Err(e) => Err(qerr(ErrorKind::IncomingQueue, "incoming queue", e)),
        }
    }
}

impl Incoming for QueueIncoming {
    async fn start(&mut self) -> Result<()> {
        let q = MessageQueue::open(&self.opts.queue)
            .map_err(|e| qerr(ErrorKind::IncomingQueue, "incoming queue", e))?;
        if self.opts.looping {
            // before the first scan: what arrives during it still wakes the wait
            self.wake = Some(Wake::new(q.dirq().path()));
        }
        self.names = Some(q.names());
        self.q = Some(q);
        self.purge()
    }

    async fn get(&mut self) -> Result<Got> {
        loop {
            let next = self.names.as_mut().and_then(Iterator::next);
            match next {
                Some(Ok(name)) => {
                    let locked = self
                        .queue()?
                        .dirq()
                        .lock(&name)
                        .map_err(|e| qerr(ErrorKind::IncomingQueue, "incoming queue", e))?;
                    if !locked {
                        continue;
                    }
                    self.locked_this_pass += 1;
                    let q = self.queue()?;
                    let msg = match q.get_message(&name) {
                        Ok(m) => m,
                        Err(e) => {
                            // left in place, unlocked, for a human to look at
                            let _ = q.dirq().unlock_with(&name, true);
                            return Err(qerr(ErrorKind::IncomingQueue, "incoming queue", e));
                        }
                    };
                    self.last = Some(name.clone());
                    if self.opts.reliable {
                        let t = Token(self.next);
                        self.next += 1;
                        self.pending.insert(t, name);
                        return Ok(Got::Message(msg, t));
                    }
                    self.finish(&name)?;
                    return Ok(Got::Message(msg, Token(0)));
                }
                Some(Err(e)) => return Err(qerr(ErrorKind::IncomingQueue, "incoming queue", e)),
                None => {
                    if !self.opts.looping {
                        return Ok(Got::End);
                    }
                    let idle = self.locked_this_pass == 0;
                    self.locked_this_pass = 0;
                    self.names = Some(self.queue()?.names());
                    if idle {
                        let woken = match self.wake.as_mut() {
                            Some(w) => w.wait(Duration::from_secs(1)).await,
                            None => {
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                false
                            }
                        };
                        if !woken {
                            return Ok(Got::Idle);
                        }
                    }
                }
            }
        }
    }

    async fn ack(&mut self, token: Token) -> Result<()> {
        match self.pending.remove(&token) {
            Some(name) => self.finish(&name),
            None => Ok(()),
        }
    }

    async fn idle(&mut self) -> Result<()> {
        if self.last_purge.elapsed() >= PURGE_EVERY {
            self.purge()?;
        }
        Ok(())
    }

    fn origin(&self, token: Token) -> Option<String> {
        let name = self.pending.get(&token).or(self.last.as_ref())?;
        let path = self.q.as_ref()?.dirq().path().join(name);
        Some(path.display().to_string())
    }

    async fn stop(&mut self) -> Result<()> {
        // Elements never confirmed go back to the queue at once, not after maxlock.
        if let Some(q) = &self.q {
            for (_, name) in self.pending.drain() {
                let _ = q.dirq().unlock_with(&name, true);
            }
        }
        Ok(())
    }
}

/// Writes messages to a directory queue; an add that returned is confirmed at once.
pub struct QueueOutgoing {
    opts: QueueOptions,
    q: Option<MessageQueue>,
    done: Vec<Token>,
}

impl QueueOutgoing {
    /// A module for this queue (opened by `start`).
    pub fn new(opts: QueueOptions) -> Self {
        QueueOutgoing {
            opts,
            q: None,
            done: Vec::new(),
        }
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
        let q = self
            .q
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::OutgoingQueue, "outgoing queue not started"))?;
        q.add_message(msg)
            .map_err(|e| qerr(ErrorKind::OutgoingQueue, "outgoing queue", e))?;
        self.done.push(token);
        Ok(())
    }

    async fn confirmed(&mut self, out: &mut Vec<Token>, _wait: Duration) -> Result<()> {
        out.append(&mut self.done);
        Ok(())
    }

    fn pending(&self) -> usize {
        0
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}
