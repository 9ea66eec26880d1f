//! Lock owners: which run holds which element locks of an incoming queue, so that the locks
//! of a run that died (SIGKILL, the OOM killer, a crash) are released at once by the next
//! one instead of after purge's `maxlock` — and never those of a run that lives.
//!
//! Each reading run holds an owner file, `.owners/PID-NANOS` in the queue, locked with
//! `flock(2)`: the kernel drops that lock with its holder, so "the file can be locked" means
//! "its owner is dead". The run appends a line `NAME STAMP` for each lock it takes (the
//! stamp is the lock's own date, see dirq's `lock_stamped`), written out a batch at a time,
//! and rewrites the file with the locks it still holds when it has grown. A run that starts
//! (and a looping run, every purge) locks each other owner file it can: for each record it
//! releases the element's lock only if it still carries that stamp (a lock taken again
//! since, by anyone, has another), then removes the file. The `.lck` links are the
//! references' own: a lock of a reference reader has no owner record and waits for purge.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use dirq::DirQueue;

/// The directory of owner files, in the queue's.
pub const DIR: &str = ".owners";

/// This run's owner file.
pub(crate) struct Owner {
    path: PathBuf,
    file: File,
    /// Records not written yet.
    buffer: String,
    /// The locks held now, and their stamps.
    held: HashMap<String, i128>,
    /// Records in the file.
    records: usize,
}

impl Owner {
    /// Makes and locks this run's owner file in `queue`'s `.owners`; `None` where it
    /// cannot (a read-only queue: its locks then wait for purge, as before).
    pub(crate) fn new(queue: &Path) -> Option<Owner> {
        if queue.as_os_str().is_empty() || !queue.is_dir() {
            return None;
        }
        let dir = queue.join(DIR);
        std::fs::create_dir_all(&dir).ok()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = dir.join(format!("{}-{nanos}", std::process::id()));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .ok()?;
        file.try_lock().ok()?;
        Some(Owner {
            path,
            file,
            buffer: String::new(),
            held: HashMap::new(),
            records: 0,
        })
    }

    /// The owner file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A lock about to be taken, with its stamp (0: the queue type has none to tell it by).
    /// A name this run holds already (a second pass meets the elements in flight) keeps
    /// its record.
    pub(crate) fn took(&mut self, name: &str, stamp: i128) {
        if stamp == 0 || self.held.contains_key(name) {
            return;
        }
        self.buffer.push_str(name);
        self.buffer.push(' ');
        self.buffer.push_str(&stamp.to_string());
        self.buffer.push('\n');
        self.held.insert(name.to_string(), stamp);
        self.records += 1;
    }

    /// A lock released (the element removed or unlocked).
    pub(crate) fn released(&mut self, name: &str) {
        self.held.remove(name);
    }

    /// A lock not taken after all (locked by another, or by this run with another stamp):
    /// forgotten only if the record is this attempt's.
    pub(crate) fn not_taken(&mut self, name: &str, stamp: i128) {
        if self.held.get(name) == Some(&stamp) {
            self.held.remove(name);
        }
    }

    /// Writes out the records waiting; the file rewritten with the locks held when it has
    /// grown past them.
    pub(crate) fn flush(&mut self) {
        if self.records > 4096 && self.records > 4 * self.held.len() {
            let mut text = String::new();
            for (name, stamp) in &self.held {
                text.push_str(&format!("{name} {stamp}\n"));
            }
            if self.file.set_len(0).is_ok() {
                self.buffer = text;
                self.records = self.held.len();
            }
        }
        if !self.buffer.is_empty() && self.file.write_all(self.buffer.as_bytes()).is_ok() {
            self.buffer.clear();
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // a run that ends has released its locks (or given them back): nothing to do for it
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Releases the locks of the dead owners of `q` (their files can be locked); returns how
/// many. Errors are ignored: what is not released waits for purge, as before.
pub(crate) fn release_dead(q: &dyn DirQueue, mine: Option<&Path>) -> usize {
    if q.path().as_os_str().is_empty() {
        return 0;
    }
    let dir = q.path().join(DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut released = 0;
    for e in entries.flatten() {
        let path = e.path();
        if Some(path.as_path()) == mine {
            continue;
        }
        let Ok(mut f) = OpenOptions::new().read(true).open(&path) else {
            continue;
        };
        // held: its owner lives
        if f.try_lock().is_err() {
            continue;
        }
        let mut text = String::new();
        if f.read_to_string(&mut text).is_ok() {
            for line in text.lines() {
                let Some((name, stamp)) = line.split_once(' ') else {
                    continue;
                };
                let Ok(stamp) = stamp.parse::<i128>() else {
                    continue;
                };
                if q.unlock_stamped(name, stamp).unwrap_or(false) {
                    released += 1;
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    released
}
