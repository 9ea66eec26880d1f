//! Lock owners: which run holds which element locks of a queue, so that the locks of a run
//! that died (SIGKILL, the OOM killer, a crash) are released at once by the next one instead
//! of after purge's `maxlock` — and never those of a run that lives. The agents' readers and
//! `dirq pop`/`get` hold one; the references' readers do not (their locks wait for `maxlock`).
//!
//! Each reading run holds an owner file, `.owners/PID-NANOS` in the queue, locked with
//! `flock(2)`: the kernel drops that lock with its holder, so "the file can be locked" means
//! "its owner is dead". The run appends a line `NAME STAMP` for each lock it takes (the
//! stamp is the lock's own date, see dirq's `lock_at`), written out a batch at a time
//! before any of them is locked, and rewrites the file with the locks it still holds when it
//! has grown. A run that starts (and a looping run, every purge) locks each other owner file
//! it can: for each record it releases the element's lock only if it still carries that
//! stamp (a lock taken again since, by anyone, has another), or if it was linked and never
//! dated by that owner (see [`release_dead`]), then removes the file. The `.lck` links are
//! the references' own: a lock of a reference reader has no owner record and waits for purge.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::DirQueue;

/// The directory of owner files, in the queue's.
pub const DIR: &str = ".owners";

/// This run's owner file: [`Owner::took`] records a lock before it is taken
/// ([`DirQueue::lock_at`] with the same stamp), [`Owner::flush`] writes the records out
/// (before the locks they name are taken), [`Owner::released`] forgets one.
pub struct Owner {
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
    pub fn new(queue: &Path) -> Option<Owner> {
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
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A lock about to be taken, with its stamp (0: the queue type has none to tell it by).
    /// A name this run holds already (a second pass meets the elements in flight) keeps
    /// its record.
    pub fn took(&mut self, name: &str, stamp: i128) {
        if stamp == 0 || self.held.contains_key(name) {
            return;
        }
        self.buffer.push_str(name);
        // written in place; nanoseconds fit an i64 until 2262, and i64 formats faster
        let _ = match i64::try_from(stamp) {
            Ok(ns) => writeln!(self.buffer, " {ns}"),
            Err(_) => writeln!(self.buffer, " {stamp}"),
        };
        self.held.insert(name.to_string(), stamp);
        self.records += 1;
    }

    /// A lock released (the element removed or unlocked).
    pub fn released(&mut self, name: &str) {
        self.held.remove(name);
    }

    /// A lock not taken after all (locked by another, or by this run with another stamp):
    /// forgotten only if the record is this attempt's.
    pub fn not_taken(&mut self, name: &str, stamp: i128) {
        if self.held.get(name) == Some(&stamp) {
            self.held.remove(name);
        }
    }

    /// Writes out the records waiting; the file rewritten with the locks held when it has
    /// grown past them.
    pub fn flush(&mut self) {
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

/// How much later than a lock's change date a run's plan to take it may be dated and still
/// be the plan that made the link: stamps come from the clock, change dates from the
/// kernel's, which lags it by up to a scheduler tick.
const CLOCK_SLACK: i128 = 50_000_000;

/// An owner file's records: each name with the stamps it was planned with, oldest first.
fn records(f: &mut File) -> HashMap<String, Vec<i128>> {
    let mut text = String::new();
    let mut out: HashMap<String, Vec<i128>> = HashMap::new();
    if f.read_to_string(&mut text).is_err() {
        return out;
    }
    for line in text.lines() {
        if let Some((name, stamp)) = line.split_once(' ')
            && let Ok(stamp) = stamp.parse::<i128>()
        {
            out.entry(name.to_string()).or_default().push(stamp);
        }
    }
    out
}

/// Releases the locks of the dead owners of `q` (their files can be locked); returns how
/// many. Errors are ignored: what is not released waits for purge, as before.
///
/// A dead owner's lock is its own when it still carries the stamp it recorded. One it
/// linked and died before dating (SIGKILL lands between the two calls) still has the
/// element's old date, older than the lock's change date; it is released when the dead
/// owner planned that name before the link and no living owner did (a living one between
/// its own link and dating recorded its plan before linking: its file, read after the look
/// at the lock, has it). A reference reader dates its lock at once (both dates equal): only
/// one caught between its two calls could be taken for such a lock, as the references'
/// own purge would take it.
pub fn release_dead(q: &dyn DirQueue, mine: Option<&Path>) -> usize {
    if q.path().as_os_str().is_empty() {
        return 0;
    }
    let dir = q.path().join(DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut living = Vec::new();
    let mut dead = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let Ok(mut f) = OpenOptions::new().read(true).open(&path) else {
            continue;
        };
        // held: its owner lives (this run's own file is held by this run)
        if Some(path.as_path()) == mine || f.try_lock().is_err() {
            living.push(path);
            continue;
        }
        let recs = records(&mut f);
        // the file stays locked until it is removed: no other run releases the same locks
        dead.push((f, path, recs));
    }
    let mut released = 0;
    let mut undated = Vec::new();
    for (_, _, recs) in &dead {
        for (name, stamps) in recs {
            let Ok(Some((m, c))) = q.lock_dates(name) else {
                continue;
            };
            if stamps.contains(&m) {
                if q.unlock_dated(name, (m, c)).unwrap_or(false) {
                    released += 1;
                }
            } else if m < c && stamps.last().is_some_and(|s| *s <= c + CLOCK_SLACK) {
                undated.push((name, (m, c)));
            }
        }
    }
    if !undated.is_empty() {
        let plans: Vec<_> = living
            .iter()
            .filter_map(|p| File::open(p).ok())
            .map(|mut f| records(&mut f))
            .collect();
        for (name, dates) in undated {
            let claimed = plans.iter().any(|r| {
                r.get(name)
                    .and_then(|s| s.last())
                    .is_some_and(|s| *s <= dates.1 + CLOCK_SLACK)
            });
            if !claimed && q.unlock_dated(name, dates).unwrap_or(false) {
                released += 1;
            }
        }
    }
    for (_, path, _) in &dead {
        let _ = std::fs::remove_file(path);
    }
    released
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueueSimple;

    fn now() -> i128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128)
    }

    /// A queue with one element, made a while ago (its date older than any lock's).
    fn queue() -> (tempfile::TempDir, QueueSimple, String) {
        let d = tempfile::tempdir().expect("tmp");
        let q = QueueSimple::new(d.path().join("q")).expect("queue");
        let name = q.add(b"x").expect("add");
        std::thread::sleep(std::time::Duration::from_millis(30));
        (d, q, name)
    }

    /// An owner file listing `name` planned at `stamp`; held (a living owner) when the
    /// returned file is kept.
    fn owner(q: &QueueSimple, id: &str, name: &str, stamp: i128) -> File {
        let dir = q.path().join(DIR);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join(id);
        std::fs::write(&path, format!("{name} {stamp}\n")).expect("write");
        let f = File::open(&path).expect("open");
        f.try_lock().expect("lock");
        f
    }

    /// The lock's link alone, as a run killed between link and dating leaves it.
    fn link(q: &QueueSimple, name: &str) {
        let p = q.path().join(name);
        std::fs::hard_link(&p, format!("{}.lck", p.display())).expect("link");
    }

    #[test]
    fn a_dead_owners_dated_lock_is_released() {
        let (_d, q, name) = queue();
        let stamp = now();
        drop(owner(&q, "1-1", &name, stamp));
        assert!(q.lock_at(&name, stamp).expect("lock"));
        assert_eq!(release_dead(&q, None), 1);
        assert!(!q.is_locked(&name).expect("locked?"));
        assert!(!q.path().join(DIR).join("1-1").exists(), "its file removed");
    }

    #[test]
    fn a_dead_owners_undated_link_is_released() {
        let (_d, q, name) = queue();
        drop(owner(&q, "1-1", &name, now()));
        link(&q, &name);
        assert_eq!(release_dead(&q, None), 1);
        assert!(!q.is_locked(&name).expect("locked?"));
    }

    #[test]
    fn an_undated_link_a_living_owner_planned_is_kept() {
        let (_d, q, name) = queue();
        let planned = now();
        drop(owner(&q, "1-1", &name, planned));
        // a living run planned it too, before the link: the link may be its own, between
        // its link and its dating
        let _living = owner(&q, "2-2", &name, planned + 1);
        link(&q, &name);
        assert_eq!(release_dead(&q, None), 0);
        assert!(q.is_locked(&name).expect("locked?"));
    }

    #[test]
    fn an_undated_link_a_living_owner_planned_only_later_is_released() {
        let (_d, q, name) = queue();
        drop(owner(&q, "1-1", &name, now()));
        link(&q, &name);
        // a living run that planned the name well after the link found it locked
        let _living = owner(&q, "2-2", &name, now() + 10 * CLOCK_SLACK);
        assert_eq!(release_dead(&q, None), 1);
    }

    #[test]
    fn a_reference_readers_lock_is_kept() {
        // dated at once (python dirq's link then utime): both dates equal
        let (_d, q, name) = queue();
        drop(owner(&q, "1-1", &name, now()));
        assert!(q.lock(&name).expect("lock"));
        assert_eq!(release_dead(&q, None), 0);
        assert!(q.is_locked(&name).expect("locked?"));
    }

    #[test]
    fn a_link_made_after_the_dead_owner_planned_it_anew_is_kept() {
        // the dead run's last plan of the name came after the link: its own link failed,
        // the lock is another reader's
        let (_d, q, name) = queue();
        link(&q, &name);
        drop(owner(&q, "1-1", &name, now() + 10 * CLOCK_SLACK));
        assert_eq!(release_dead(&q, None), 0);
        assert!(q.is_locked(&name).expect("locked?"));
    }

    #[test]
    fn a_living_owners_dated_lock_is_kept() {
        let (_d, q, name) = queue();
        let stamp = now();
        let _living = owner(&q, "2-2", &name, stamp);
        assert!(q.lock_at(&name, stamp).expect("lock"));
        assert_eq!(release_dead(&q, None), 0);
        assert!(q.is_locked(&name).expect("locked?"));
    }
}
