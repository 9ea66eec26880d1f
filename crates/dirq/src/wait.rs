//! Waiting for the next element instead of polling: inotify on the queue's top directory
//! and its intermediate directories (those created while waiting included), through nix's
//! `inotify` module (nix is the toolkit's one binding of the Linux system calls; the
//! `inotify` crate would add a second one for the same three calls).
//!
//! A wake-up is a hint, never a promise: a concurrent consumer may have taken the element,
//! so callers scan, lock, and wait again. Watches are set up before the caller's scan, so
//! an element added between the scan and the wait still wakes it.
//!
//! Where inotify cannot see other hosts' changes (NFS, CIFS/SMB, AFS, Ceph and other
//! network filesystems, recognised by their `statfs` magic) or is not available, the
//! waiter falls back to polling every [`Waiter::POLL`]; [`Waiter::is_polling`] says so.
//! `DIRQ_WAIT=poll` in the environment forces polling (a filesystem the list misses).

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::name::{is_dir_name, is_element_name};

/// Filesystems whose changes made on other hosts inotify does not report.
const NETWORK_FS: &[i64] = &[
    0x6969,      // NFS
    0xff53_4d42, // CIFS
    0xfe53_4d42, // SMB2
    0x517b,      // SMB
    0x5346_414f, // AFS
    0x00c3_6400, // Ceph
    0x6573_5546, // FUSE (sshfs and friends)
    0x0bd0_0bd0, // Lustre
    0x4750_4653, // GPFS
];

/// Whether `path` lives on a network filesystem (or one inotify cannot watch for others).
// f_type is i64 on x86_64 and narrower elsewhere: the cast is for the other targets
#[allow(clippy::unnecessary_cast)]
pub fn is_network_fs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| NETWORK_FS.contains(&(s.filesystem_type().0 as i64)))
        .unwrap_or(false)
}

/// Waits for elements to appear in a queue directory.
pub struct Waiter {
    top: PathBuf,
    inotify: Option<Inotify>,
    dirs: HashMap<WatchDescriptor, Option<String>>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("top", &self.top)
            .field("polling", &self.inotify.is_none())
            .finish()
    }
}

impl Waiter {
    /// How often a polling waiter looks (no inotify, or a network filesystem).
    pub const POLL: Duration = Duration::from_millis(200);

    /// Watches the queue at `top` (which must exist) and its intermediate directories.
    /// Set it up before scanning the queue.
    pub fn new(top: &Path) -> Waiter {
        let mut w = Waiter {
            top: top.to_path_buf(),
            inotify: None,
            dirs: HashMap::new(),
        };
        // DIRQ_WAIT=poll: for a filesystem the magic numbers miss, and for benchmarks
        if is_network_fs(top) || std::env::var_os("DIRQ_WAIT").is_some_and(|v| v == "poll") {
            return w;
        }
        let Ok(ino) = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) else {
            return w;
        };
        w.inotify = Some(ino);
        if w.watch(None).is_err() {
            w.inotify = None;
            return w;
        }
        if let Ok(rd) = std::fs::read_dir(top) {
            for e in rd.flatten() {
                if let Some(name) = e.file_name().to_str()
                    && is_dir_name(name.as_bytes())
                {
                    let _ = w.watch(Some(name.to_string()));
                }
            }
        }
        w
    }

    /// Whether this waiter polls (no inotify here, or a network filesystem).
    pub fn is_polling(&self) -> bool {
        self.inotify.is_none()
    }

    fn watch(&mut self, dir: Option<String>) -> nix::Result<()> {
        let Some(ino) = &self.inotify else {
            return Ok(());
        };
        let path = match &dir {
            Some(d) => self.top.join(d),
            None => self.top.clone(),
        };
        // an element is published by rename (Normal, Simple's fallback) or by link
        // (Simple's renameat2 counts as a move); a new intermediate directory by mkdir
        let mask = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_ONLYDIR
            | AddWatchFlags::IN_DONT_FOLLOW;
        let wd = ino.add_watch(&path, mask)?;
        self.dirs.insert(wd, dir);
        Ok(())
    }

    /// The descriptor to wait on (readable when something happened), for an event loop;
    /// `None` when polling.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.inotify.as_ref().map(|i| i.as_fd())
    }

    /// The raw descriptor, for registering with an async runtime.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.fd().map(|f| f.as_raw_fd())
    }

    /// Reads the events that are there (without blocking), watches the new intermediate
    /// directories, and says whether anything may have arrived.
    pub fn drain(&mut self) -> bool {
        let mut woken = false;
        let mut new_dirs = Vec::new();
        if let Some(ino) = &self.inotify {
            while let Ok(events) = ino.read_events() {
                if events.is_empty() {
                    break;
                }
                for ev in events {
                    let at_top = matches!(self.dirs.get(&ev.wd), Some(None));
                    let name = ev.name.as_ref().map(|n| n.as_bytes()).unwrap_or_default();
                    if at_top && ev.mask.contains(AddWatchFlags::IN_ISDIR) && is_dir_name(name) {
                        // elements may land in it before it is watched: a scan too
                        woken = true;
                        new_dirs.push(String::from_utf8_lossy(name).into_owned());
                    } else if !at_top && is_element_name(name) {
                        woken = true;
                    }
                    // anything else (a lock, a temporary file, a queue's own directories)
                    // announces no new element
                }
            }
        }
        for d in new_dirs {
            let _ = self.watch(Some(d));
        }
        woken
    }

    /// Blocks until something may have arrived or `timeout` ran out (polling waiters sleep
    /// [`Waiter::POLL`] at most). Returns whether it was woken by the queue.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        self.wait_for(timeout, None) == Woken::Queue
    }

    /// [`Waiter::wait`], woken too when `other` becomes readable (a program's own
    /// doorbell: a pipe or socket it writes to when it has work for the waiting thread).
    /// `other` is not read.
    pub fn wait_or(&mut self, timeout: Duration, other: BorrowedFd<'_>) -> Woken {
        self.wait_for(timeout, Some(other.as_raw_fd()))
    }

    fn wait_for(&mut self, timeout: Duration, other: Option<RawFd>) -> Woken {
        if self.drain() {
            return Woken::Queue;
        }
        let queue = self.raw_fd();
        let timeout = if queue.is_some() {
            timeout
        } else {
            timeout.min(Self::POLL)
        };
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // rounded up: a wait of less than a millisecond is no busy loop
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            // a negative descriptor is left out by poll(2)
            let mut pfd = [other.unwrap_or(-1), queue.unwrap_or(-1)].map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            // SAFETY: two pollfds, each ours or the caller's open descriptor, or -1.
            let n = unsafe { libc::poll(pfd.as_mut_ptr(), 2, ms) };
            if n > 0 && pfd[0].revents != 0 {
                return Woken::Other;
            }
            if n > 0 && pfd[1].revents != 0 && self.drain() {
                return Woken::Queue;
            }
            if Instant::now() >= deadline {
                return Woken::Timeout;
            }
        }
    }
}

/// What ended a [`Waiter::wait_or`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// Something may have arrived in the queue.
    Queue,
    /// The other descriptor is readable.
    Other,
    /// Neither, within the time-out.
    Timeout,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueueSimple;

    #[test]
    fn an_add_wakes_the_waiter_even_in_a_new_directory() {
        let d = tempfile::tempdir().expect("tmp");
        let q = QueueSimple::new(d.path()).expect("queue");
        let mut w = Waiter::new(d.path());
        assert!(!w.is_polling(), "tmpfs or a local disk: inotify");
        assert!(!w.wait(Duration::from_millis(50)), "nothing yet");
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            q.add(b"x").expect("add");
        });
        let start = Instant::now();
        assert!(w.wait(Duration::from_secs(5)), "woken");
        assert!(start.elapsed() < Duration::from_secs(2));
        t.join().expect("join");
        // the intermediate directory made by that add is watched now: an add in it wakes
        let q = QueueSimple::new(d.path()).expect("queue");
        while w.drain() {}
        q.add(b"y").expect("add");
        assert!(w.wait(Duration::from_secs(5)));
        assert!(!is_network_fs(d.path()));
    }

    #[test]
    fn a_doorbell_wakes_the_waiter_too() {
        use std::io::Write;
        let d = tempfile::tempdir().expect("tmp");
        let q = QueueSimple::new(d.path()).expect("queue");
        let mut w = Waiter::new(d.path());
        let (mut bell, door) = std::os::unix::net::UnixStream::pair().expect("pair");
        let short = Duration::from_millis(30);
        assert_eq!(w.wait_or(short, door.as_fd()), Woken::Timeout);
        bell.write_all(b"x").expect("ring");
        assert_eq!(
            w.wait_or(Duration::from_secs(5), door.as_fd()),
            Woken::Other
        );
        let mut door = door;
        std::io::Read::read_exact(&mut door, &mut [0u8]).expect("read the bell");
        q.add(b"x").expect("add");
        assert_eq!(
            w.wait_or(Duration::from_secs(5), door.as_fd()),
            Woken::Queue
        );
    }
}
