//! Directory-based message queues, byte-for-byte compatible on disk with Perl
//! `Directory::Queue` 2.2 and python `dirq` 1.8: Rust, Perl and Python programs can share
//! one queue.
//!
//! A queue lives in a directory and needs no daemon; producers and consumers coordinate
//! only through atomic filesystem operations. Four kinds:
//!
//! - [`QueueSimple`]: one file per element, raw bytes;
//! - [`QueueNormal`]: one directory per element, one file per [`Schema`] field;
//! - [`QueueNull`]: a black hole;
//! - [`QueueSet`]: several queues iterated as one.
//!
//! ```no_run
//! use dirq::{DirQueue, QueueSimple};
//! # fn main() -> dirq::Result<()> {
//! let q = QueueSimple::new("/tmp/spool")?;
//! q.add(b"hello")?;
//! for name in q.names() {
//!     let name = name?;
//!     if !q.lock(&name)? {
//!         continue; // someone else has it
//!     }
//!     let body = q.get(&name)?;
//!     # let _ = body;
//!     q.remove(&name)?;
//! }
//! # Ok(()) }
//! ```
//!
//! Differences from the references are bug fixes that keep the on-disk format: see the
//! crate README.

mod at;
mod error;
mod name;
mod normal;
mod null;
mod options;
pub mod owners;
mod set;
mod simple;
mod sys;
pub mod table;
mod wait;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub use error::{Error, Result};
pub use name::{Names, element_name, is_dir_name, is_element_name, is_full_name};
pub use normal::{Element, Field, FieldType, QueueNormal, Schema, Value};
pub use null::QueueNull;
pub use options::Options;
pub use set::{QueueSet, SetNames};
pub use simple::QueueSimple;
pub use wait::{Waiter, Woken, is_network_fs};

/// What every queue kind can do. Adding and reading differ by kind (bytes for Simple, a
/// field map for Normal) and live on the types themselves.
pub trait DirQueue {
    /// The queue's top directory.
    fn path(&self) -> &Path;
    /// `"<st_dev>:<st_ino>"` of the top directory, as Perl and python compute it.
    fn id(&self) -> Result<String>;
    /// The elements, in iteration (creation) order, locked or not.
    fn names(&self) -> Names;
    /// The number of elements, locked or not.
    fn count(&self) -> Result<usize>;
    /// Locks an element. Permissive: "already locked" and "no such element" give
    /// `Ok(false)`; otherwise they are errors.
    fn lock_with(&self, name: &str, permissive: bool) -> Result<bool>;
    /// Unlocks an element. Permissive: "not locked" gives `Ok(false)`.
    fn unlock_with(&self, name: &str, permissive: bool) -> Result<bool>;
    /// Whether the element is locked now (only a hint: it can change at any time).
    fn is_locked(&self, name: &str) -> Result<bool>;
    /// Removes a locked element.
    fn remove(&self, name: &str) -> Result<()>;
    /// Removes an element the caller locked itself, as the references remove: without
    /// first checking that a lock is there (a system call a consumer that just locked the
    /// element need not pay). An element not locked after all is still an error, but the
    /// element may be gone by then.
    fn remove_locked(&self, name: &str) -> Result<()> {
        self.remove(name)
    }
    /// Sets the element's modification time to now: a consumer holding a lock longer than
    /// `maxlock` calls this so that purge does not take the lock away.
    fn touch(&self, name: &str) -> Result<()>;
    /// Removes temporary elements older than `maxtemp` seconds, unlocks elements locked
    /// longer than `maxlock` seconds (0 disables either) and removes empty intermediate
    /// directories except the newest.
    fn purge_with(&self, maxtemp: u64, maxlock: u64) -> Result<()>;
    /// [`DirQueue::purge_with`] with the queue's configured limits (300 / 600 by default).
    fn purge(&self) -> Result<()>;

    /// Whether this queue's locks carry a stamp of the locker's choosing
    /// ([`DirQueue::lock_at`]): Simple queues' do.
    fn stamps_locks(&self) -> bool {
        false
    }
    /// Locks an element permissively and dates the lock with `stamp` (nanoseconds since
    /// the epoch, about now: purge reads it as the lock's age): `Ok(false)` when it is
    /// already locked or gone. The stamp identifies this lock: [`DirQueue::unlock_stamped`]
    /// releases it only while it is still this one (a lock taken again later has another
    /// date). Queues whose locks carry no stamp lock as [`DirQueue::lock`] does.
    fn lock_at(&self, name: &str, stamp: i128) -> Result<bool> {
        let _ = stamp;
        self.lock(name)
    }
    /// Releases a lock of [`DirQueue::lock_at`] whose owner is gone: only if the
    /// element is still locked with that stamp (like purge, between its look and its
    /// unlink another may lock it again: the window is a system call wide). Whether it did.
    fn unlock_stamped(&self, name: &str, stamp: i128) -> Result<bool> {
        let _ = (name, stamp);
        Ok(false)
    }
    /// The dates of an element's lock, `(modified, changed)` in nanoseconds since the epoch:
    /// `None` when it is not locked, or where locks carry no stamp. A lock modified before
    /// it changed was linked and never dated: its locker died between the two system calls,
    /// or is between them now (a dated lock, by [`DirQueue::lock_at`] or a reference, has
    /// its change date at the dating, and a reference's both dates equal).
    fn lock_dates(&self, name: &str) -> Result<Option<(i128, i128)>> {
        let _ = name;
        Ok(None)
    }
    /// Releases a lock whose owner is gone, only if its dates are still `dates` (as for
    /// [`DirQueue::unlock_stamped`], the window is a system call wide). Whether it did.
    fn unlock_dated(&self, name: &str, dates: (i128, i128)) -> Result<bool> {
        let _ = (name, dates);
        Ok(false)
    }

    /// Locks an element permissively, as the references do by default: `Ok(false)` when
    /// it is already locked or gone.
    fn lock(&self, name: &str) -> Result<bool> {
        self.lock_with(name, true)
    }
    /// Unlocks an element strictly, as the references do by default.
    fn unlock(&self, name: &str) -> Result<bool> {
        self.unlock_with(name, false)
    }
}

/// Any queue kind, for code that picks the kind at run time (and for [`QueueSet`]).
#[derive(Debug, Clone)]
pub enum AnyQueue {
    /// A Simple queue.
    Simple(QueueSimple),
    /// A Normal queue.
    Normal(QueueNormal),
    /// The Null queue.
    Null(QueueNull),
}

macro_rules! each {
    ($self:ident, $q:ident => $e:expr) => {
        match $self {
            AnyQueue::Simple($q) => $e,
            AnyQueue::Normal($q) => $e,
            AnyQueue::Null($q) => $e,
        }
    };
}

impl DirQueue for AnyQueue {
    fn path(&self) -> &Path {
        each!(self, q => q.path())
    }
    fn id(&self) -> Result<String> {
        each!(self, q => q.id())
    }
    fn names(&self) -> Names {
        each!(self, q => q.names())
    }
    fn count(&self) -> Result<usize> {
        each!(self, q => q.count())
    }
    fn lock_with(&self, name: &str, permissive: bool) -> Result<bool> {
        each!(self, q => q.lock_with(name, permissive))
    }
    fn unlock_with(&self, name: &str, permissive: bool) -> Result<bool> {
        each!(self, q => q.unlock_with(name, permissive))
    }
    fn is_locked(&self, name: &str) -> Result<bool> {
        each!(self, q => q.is_locked(name))
    }
    fn remove(&self, name: &str) -> Result<()> {
        each!(self, q => q.remove(name))
    }
    fn remove_locked(&self, name: &str) -> Result<()> {
        each!(self, q => q.remove_locked(name))
    }
    fn touch(&self, name: &str) -> Result<()> {
        each!(self, q => q.touch(name))
    }
    fn purge_with(&self, maxtemp: u64, maxlock: u64) -> Result<()> {
        each!(self, q => q.purge_with(maxtemp, maxlock))
    }
    fn purge(&self) -> Result<()> {
        each!(self, q => q.purge())
    }
    fn stamps_locks(&self) -> bool {
        each!(self, q => q.stamps_locks())
    }
    fn lock_at(&self, name: &str, stamp: i128) -> Result<bool> {
        each!(self, q => q.lock_at(name, stamp))
    }
    fn unlock_stamped(&self, name: &str, stamp: i128) -> Result<bool> {
        each!(self, q => q.unlock_stamped(name, stamp))
    }
    fn lock_dates(&self, name: &str) -> Result<Option<(i128, i128)>> {
        each!(self, q => q.lock_dates(name))
    }
    fn unlock_dated(&self, name: &str, dates: (i128, i128)) -> Result<bool> {
        each!(self, q => q.unlock_dated(name, dates))
    }
}

fn queue_id(path: &Path) -> Result<String> {
    let m = std::fs::metadata(path).map_err(|e| Error::io("stat", path, e))?;
    Ok(format!("{}:{}", m.dev(), m.ino()))
}

/// rmdir that tolerates "not empty" and "already gone": purge races with writers.
fn rmdir_if_empty(p: &Path) -> Result<()> {
    match std::fs::remove_dir(p) {
        Ok(()) => Ok(()),
        Err(e) if sys::is_gone(&e) || sys::is_exists(&e) => Ok(()),
        Err(e) => Err(Error::io("remove directory", p, e)),
    }
}
