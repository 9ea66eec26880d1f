//! The Simple queue: one file per element.
//!
//! ```text
//! PATH/DDDDDDDD/EEEEEEEEEEEEEE      element (raw bytes)
//! PATH/DDDDDDDD/EEEEEEEEEEEEEE.tmp  being written (only where no unnamed file can be made)
//! PATH/DDDDDDDD/EEEEEEEEEEEEEE.lck  lock: hard link to the element
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::at::{self, Dirs};
use crate::error::{ALREADY_LOCKED, Error, NO_SUCH_ELEMENT, Result};
use crate::name::{self, Names, check_name, element_name, is_element_name, list_dirs};
use crate::sys::{self, Linked, Moved, Perms, is_gone};
use crate::{DirQueue, Options, queue_id};

/// A Simple directory queue (Perl `Directory::Queue::Simple`, python `QueueSimple`).
#[derive(Debug, Clone)]
pub struct QueueSimple {
    path: PathBuf,
    perms: Perms,
    rndhex: u8,
    granularity: u64,
    maxtemp: u64,
    maxlock: u64,
    sync: bool,
    /// Intermediate directories held open for the `*at` calls.
    dirs: Dirs,
}

impl QueueSimple {
    /// Opens the queue at `path` with default options, creating the directory if needed.
    pub fn new(path: impl AsRef<Path>) -> Result<Self> {
        Self::with_options(path, &Options::default())
    }

    /// Opens the queue at `path`, creating the directory (and missing parents) if needed.
    pub fn with_options(path: impl AsRef<Path>, opts: &Options) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let perms = Perms::new(opts.umask).synced(opts.sync);
        perms
            .mkdir_all(&path)
            .map_err(|e| Error::io("create queue directory", &path, e))?;
        Ok(QueueSimple {
            path,
            perms,
            rndhex: opts.rndhex.unwrap_or_else(name::random_hex) & 0xf,
            granularity: opts.granularity,
            maxtemp: opts.maxtemp,
            maxlock: opts.maxlock,
            sync: opts.sync,
            dirs: Dirs::default(),
        })
    }

    /// The intermediate directory for an element added now.
    fn insertion_dir(&self) -> String {
        let (mut s, _) = name::now();
        if self.granularity > 1 {
            s -= s % self.granularity;
        }
        let mut dir = String::with_capacity(8);
        name::push_hex(&mut dir, u64::from(s as u32), 8);
        dir
    }

    /// Adds an element holding `data`; returns its name.
    ///
    /// The data are written to an unnamed file that gets the element's name once complete,
    /// as the references' `NAME.tmp` and rename do, in one directory change instead of two;
    /// where the filesystem or kernel cannot, to `NAME.tmp` as they do.
    pub fn add(&self, data: &[u8]) -> Result<String> {
        let dir = self.insertion_dir();
        match self.add_anon(data, &dir)? {
            Some(name) => Ok(name),
            None => self.add_named(data),
        }
    }

    /// The first half of an add in two steps: the data written to `NAME.tmp` in the
    /// insertion directory, not an element yet. [`QueueSimple::commit_path`] makes it one; a
    /// staged file left behind (a crash between the two) is either committed by its path
    /// (`commit_path`) or removed by [`purge`](QueueSimple::purge) once older than maxtemp.
    /// A caller that must record something before the element can be seen (and popped by
    /// another process) records it in between.
    pub fn stage(&self, data: &[u8]) -> Result<PathBuf> {
        let tmp = self.write_tmp(data)?;
        if self.sync {
            // the staged file's name is durable too: a caller records it next
            if let Some(d) = tmp.parent() {
                sys::sync_dir(d).map_err(|e| Error::io("sync", d, e))?;
            }
        }
        Ok(tmp)
    }

    /// `NAME.tmp` in the insertion directory, written (and synced, with `sync`).
    fn write_tmp(&self, data: &[u8]) -> Result<PathBuf> {
        let dir = self.insertion_dir();
        let dpath = self.path.join(&dir);
        let (tmp, mut file) = loop {
            let tmp = format!("{}.tmp", element_name(self.rndhex));
            match self.in_dir(&dir, |fd| self.perms.create_new_at(fd, &tmp)) {
                Ok(f) => break (dpath.join(tmp), f),
                Err(e) if is_gone(&e) => self
                    .perms
                    .mkdir_ok(&dpath)
                    .map_err(|e| Error::io("create directory", &dpath, e))?,
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(Error::io("create", dpath.join(tmp), e)),
            }
        };
        let written = file
            .write_all(data)
            .and_then(|()| if self.sync { file.sync_data() } else { Ok(()) });
        drop(file);
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io("write", &tmp, e));
        }
        Ok(tmp)
    }

    /// The second half: the staged file (its path, as [`QueueSimple::stage`] gave it)
    /// becomes an element of its directory; returns the element name.
    pub fn commit_path(&self, tmp: &Path) -> Result<String> {
        let invalid = || {
            Error::io(
                "commit",
                tmp,
                std::io::Error::from(std::io::ErrorKind::InvalidInput),
            )
        };
        let dpath = tmp
            .parent()
            .filter(|d| d.parent() == Some(self.path.as_path()))
            .ok_or_else(invalid)?;
        let dir = dpath
            .file_name()
            .and_then(|d| d.to_str())
            .ok_or_else(invalid)?;
        let from = tmp
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(invalid)?;
        loop {
            let elt = element_name(self.rndhex);
            match self.in_dir(dir, |fd| sys::move_noreplace_at(fd, from, &elt)) {
                Ok(Moved::Done) => {
                    if self.sync {
                        sys::sync_dir(dpath).map_err(|e| Error::io("sync", dpath, e))?;
                    }
                    return Ok(format!("{dir}/{elt}"));
                }
                Ok(Moved::Exists) => {}
                Err(e) => return Err(Error::io("publish", dpath.join(&elt), e)),
            }
        }
    }

    /// [`QueueSimple::add`] the references' way: `NAME.tmp`, then renamed.
    fn add_named(&self, data: &[u8]) -> Result<String> {
        let tmp = self.write_tmp(data)?;
        self.commit_path(&tmp).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }

    /// [`QueueSimple::add`] through an unnamed file; `None` where none can be made or named.
    /// The directory's path is made only where needed (an error, a new directory, a sync):
    /// an add makes no allocation but the element's name.
    fn add_anon(&self, data: &[u8], dir: &str) -> Result<Option<String>> {
        let dpath = || self.path.join(dir);
        let mkdir = || {
            let dpath = dpath();
            self.perms
                .mkdir_ok(&dpath)
                .map_err(|e| Error::io("create directory", &dpath, e))
        };
        let mut file = loop {
            match self.in_dir(dir, |fd| self.perms.create_anon(fd)) {
                Ok(Some(f)) => break f,
                Ok(None) => return Ok(None),
                Err(e) if is_gone(&e) => mkdir()?,
                Err(e) => return Err(Error::io("create a new element in", dpath(), e)),
            }
        };
        file.write_all(data)
            .and_then(|()| if self.sync { file.sync_data() } else { Ok(()) })
            // nothing to clean up: an unnamed file vanishes when closed
            .map_err(|e| Error::io("write a new element in", dpath(), e))?;
        loop {
            let elt = element_name(self.rndhex);
            match self.in_dir(dir, |fd| sys::link_anon(&file, fd, &elt)) {
                Ok(Linked::Done) => {
                    if self.sync {
                        let dpath = dpath();
                        sys::sync_dir(&dpath).map_err(|e| Error::io("sync", &dpath, e))?;
                    }
                    let mut name = String::with_capacity(dir.len() + 1 + elt.len());
                    name.push_str(dir);
                    name.push('/');
                    name.push_str(&elt);
                    return Ok(Some(name));
                }
                Ok(Linked::Exists) => {}
                Ok(Linked::Unsupported) => return Ok(None),
                // The directory was purged between our open and the link: make it again.
                Err(e) if is_gone(&e) => mkdir()?,
                Err(e) => return Err(Error::io("publish", dpath().join(&elt), e)),
            }
        }
    }

    /// Moves the file at `src` into the queue as a new element; it must be on the same
    /// filesystem. Returns the element name.
    pub fn add_path(&self, src: impl AsRef<Path>) -> Result<String> {
        let src = src.as_ref();
        if self.sync {
            fs::File::open(src)
                .and_then(|f| f.sync_data())
                .map_err(|e| Error::io("sync", src, e))?;
        }
        let dir = self.insertion_dir();
        let dpath = self.path.join(&dir);
        self.perms
            .mkdir_ok(&dpath)
            .map_err(|e| Error::io("create directory", &dpath, e))?;
        self.publish(src, &dir, &dpath)
    }

    /// Gives the finished file at `src` its final element name in `dir`: a fresh name per
    /// try, never replacing an existing element.
    fn publish(&self, src: &Path, dir: &str, dpath: &Path) -> Result<String> {
        loop {
            let elt = element_name(self.rndhex);
            let dst = dpath.join(&elt);
            match sys::move_noreplace(src, &dst, false) {
                Ok(Moved::Done) => {
                    if self.sync {
                        sys::sync_dir(dpath).map_err(|e| Error::io("sync", dpath, e))?;
                    }
                    return Ok(format!("{dir}/{elt}"));
                }
                Ok(Moved::Exists) => {}
                // The directory was purged between our mkdir and the move: make it again.
                Err(e) if is_gone(&e) && src.exists() => self
                    .perms
                    .mkdir_ok(dpath)
                    .map_err(|e| Error::io("create directory", dpath, e))?,
                Err(e) => return Err(Error::io("publish", &dst, e)),
            }
        }
    }

    /// Locks `name`: the `.lck` link, then the element's times set to `stamp` (now when
    /// none): the lock shares the element's inode, so its mtime dates the lock for purge
    /// and is the stamp of `lock_at`. `Ok(Err(reason))`: already locked, or gone.
    fn link_lock(
        &self,
        name: &str,
        stamp: Option<i128>,
    ) -> Result<std::result::Result<(), &'static str>> {
        let (dir, elt) = split(name)?;
        let lck = lck(elt);
        if let Err(e) = self.in_dir(dir, |fd| at::link(fd, elt, &lck)) {
            return match e.raw_os_error() {
                Some(libc::EEXIST) => Ok(Err(ALREADY_LOCKED)),
                _ if is_gone(&e) => Ok(Err(NO_SUCH_ELEMENT)),
                _ => Err(Error::io("lock", self.path.join(name), e)),
            };
        }
        let dated = self.in_dir(dir, |fd| match stamp {
            Some(ns) => at::touch_at(fd, elt, ns),
            None => at::touch(fd, elt),
        });
        if let Err(e) = dated {
            let _ = self.in_dir(dir, |fd| at::unlink(fd, &lck));
            if is_gone(&e) {
                return Ok(Err(NO_SUCH_ELEMENT));
            }
            return Err(Error::io("date lock of", self.path.join(name), e));
        }
        Ok(Ok(()))
    }

    /// Removes the lock of `name` if its dates (modified, changed) pass `keep`; whether it did.
    fn unlock_if(&self, name: &str, keep: impl Fn((i128, i128)) -> bool) -> Result<bool> {
        let (dir, elt) = split(name)?;
        let lck = lck(elt);
        let same = match self.in_dir(dir, |fd| at::times_ns(fd, &lck)) {
            Ok(t) => keep(t),
            Err(e) if is_gone(&e) => false,
            Err(e) => return Err(Error::io("look at", self.path.join(dir).join(&*lck), e)),
        };
        if !same {
            return Ok(false);
        }
        match self.in_dir(dir, |fd| at::unlink(fd, &lck)) {
            Ok(()) => Ok(true),
            Err(e) if is_gone(&e) => Ok(false),
            Err(e) => Err(Error::io("unlock", self.path.join(dir).join(&*lck), e)),
        }
    }

    fn lck_path(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.path.join(format!("{name}.lck")))
    }

    /// Reads a locked element.
    pub fn get(&self, name: &str) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        self.get_into(name, &mut data)?;
        Ok(data)
    }

    /// [`QueueSimple::get`], the data appended to `out` (nothing on an error): a reader
    /// that gathers many elements in one buffer reads each without an allocation of its own.
    pub fn get_into(&self, name: &str, out: &mut Vec<u8>) -> Result<()> {
        let (dir, elt) = split(name)?;
        let lck = lck(elt);
        // `in_dir` may call twice (a directory made again meanwhile): a call that fails
        // appends nothing
        self.in_dir(dir, |fd| at::read_into(fd, &lck, out))
            .map_err(|e| {
                if is_gone(&e) {
                    Error::NotLocked {
                        op: "get",
                        name: name.to_string(),
                    }
                } else {
                    Error::io("read", self.path.join(format!("{name}.lck")), e)
                }
            })
    }

    /// Runs `op` in the element's intermediate directory.
    fn in_dir<T>(
        &self,
        dir: &str,
        op: impl FnMut(std::os::fd::BorrowedFd<'_>) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        self.dirs.run(&self.path, dir, op)
    }

    /// The path of a locked element's data (its lock link), for reading it in place.
    pub fn get_path(&self, name: &str) -> Result<PathBuf> {
        self.lck_path(name)
    }

    /// The queue's purge limits (maxtemp, maxlock) as configured.
    pub fn purge_limits(&self) -> (u64, u64) {
        (self.maxtemp, self.maxlock)
    }
}

impl DirQueue for QueueSimple {
    fn path(&self) -> &Path {
        &self.path
    }

    fn id(&self) -> Result<String> {
        queue_id(&self.path)
    }

    fn names(&self) -> Names {
        Names::new(&self.path)
    }

    fn count(&self) -> Result<usize> {
        let mut n = 0;
        for d in list_dirs(&self.path)? {
            n += name::count_in(&self.path.join(d), is_element_name)?;
        }
        Ok(n)
    }

    fn lock_with(&self, name: &str, permissive: bool) -> Result<bool> {
        match self.link_lock(name, None)? {
            Ok(()) => Ok(true),
            Err(_) if permissive => Ok(false),
            Err(reason) => Err(Error::LockFailed {
                op: "lock",
                name: name.to_string(),
                reason,
            }),
        }
    }

    fn stamps_locks(&self) -> bool {
        true
    }

    fn lock_at(&self, name: &str, stamp: i128) -> Result<bool> {
        Ok(self.link_lock(name, Some(stamp))?.is_ok())
    }

    fn unlock_stamped(&self, name: &str, stamp: i128) -> Result<bool> {
        self.unlock_if(name, |(m, _)| m == stamp)
    }

    fn lock_dates(&self, name: &str) -> Result<Option<(i128, i128)>> {
        let (dir, elt) = split(name)?;
        let lck = lck(elt);
        match self.in_dir(dir, |fd| at::times_ns(fd, &lck)) {
            Ok(t) => Ok(Some(t)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(Error::io("look at", self.path.join(name), e)),
        }
    }

    fn unlock_dated(&self, name: &str, dates: (i128, i128)) -> Result<bool> {
        self.unlock_if(name, |t| t == dates)
    }

    fn unlock_with(&self, name: &str, permissive: bool) -> Result<bool> {
        let (dir, elt) = split(name)?;
        match self.in_dir(dir, |fd| at::unlink(fd, &lck(elt))) {
            Ok(()) => Ok(true),
            Err(e) if is_gone(&e) && permissive => Ok(false),
            Err(e) if is_gone(&e) => Err(Error::NotLocked {
                op: "unlock",
                name: name.to_string(),
            }),
            Err(e) => Err(Error::io("unlock", self.lck_path(name)?, e)),
        }
    }

    fn is_locked(&self, name: &str) -> Result<bool> {
        let (dir, elt) = split(name)?;
        match self.in_dir(dir, |fd| at::exists(fd, &lck(elt))) {
            Err(e) if is_gone(&e) => Ok(false),
            r => r.map_err(|e| Error::io("look for", self.path.join(format!("{name}.lck")), e)),
        }
    }

    fn remove(&self, name: &str) -> Result<()> {
        if !self.is_locked(name)? {
            return Err(Error::NotLocked {
                op: "remove",
                name: name.to_string(),
            });
        }
        self.remove_locked(name)
    }

    fn remove_locked(&self, name: &str) -> Result<()> {
        let (dir, elt) = split(name)?;
        self.in_dir(dir, |fd| at::unlink(fd, elt))
            .map_err(|e| Error::io("remove", self.path.join(name), e))?;
        self.in_dir(dir, |fd| at::unlink(fd, &lck(elt)))
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::NotLocked {
                    op: "remove",
                    name: name.to_string(),
                },
                _ => Error::io("remove", self.path.join(format!("{name}.lck")), e),
            })
    }

    fn touch(&self, name: &str) -> Result<()> {
        let (dir, elt) = split(name)?;
        self.in_dir(dir, |fd| at::touch(fd, elt))
            .map_err(|e| Error::io("touch", self.path.join(name), e))
    }

    fn purge_with(&self, maxtemp: u64, maxlock: u64) -> Result<()> {
        let dirs = list_dirs(&self.path)?;
        let (now, _) = name::now();
        if maxtemp > 0 || maxlock > 0 {
            for d in &dirs {
                let dpath = self.path.join(d);
                // Only our own dotted files: Perl removes any old dotted file (bug 9).
                let mut candidates = Vec::new();
                let listed = sys::for_each_name(&dpath, |b| {
                    let limit = match b.len().checked_sub(4).map(|i| (&b[..i], &b[i..])) {
                        Some((stem, b".tmp")) if is_element_name(stem) => maxtemp,
                        Some((stem, b".lck")) if is_element_name(stem) => maxlock,
                        _ => return,
                    };
                    if limit > 0 {
                        // element names are ASCII hex, so this is lossless
                        candidates.push((String::from_utf8_lossy(b).into_owned(), limit));
                    }
                });
                match listed {
                    Ok(()) => {}
                    Err(e) if is_gone(&e) => continue,
                    Err(e) => return Err(Error::io("list directory", &dpath, e)),
                }
                for (fname, limit) in candidates {
                    let p = dpath.join(fname);
                    let mtime = match fs::symlink_metadata(&p) {
                        Ok(m) => std::os::unix::fs::MetadataExt::mtime(&m),
                        Err(e) if is_gone(&e) => continue,
                        Err(e) => return Err(Error::io("stat", &p, e)),
                    };
                    if mtime >= now as i64 - limit as i64 {
                        continue;
                    }
                    match fs::remove_file(&p) {
                        Ok(()) => {}
                        Err(e) if is_gone(&e) => {}
                        Err(e) => return Err(Error::io("remove", &p, e)),
                    }
                }
            }
        }
        // Never the newest directory: writers may be about to use it.
        if dirs.len() > 1 {
            for d in &dirs[..dirs.len() - 1] {
                crate::rmdir_if_empty(&self.path.join(d))?;
            }
        }
        Ok(())
    }

    fn purge(&self) -> Result<()> {
        self.purge_with(self.maxtemp, self.maxlock)
    }
}

/// An element name's intermediate directory and file name.
/// `ELT.lck`, the lock of the element `elt` (14 hex digits, as [`split`] checked), made on
/// the stack: a take makes no allocation for its lock's name.
struct Lck([u8; 18]);

impl std::ops::Deref for Lck {
    type Target = str;
    fn deref(&self) -> &str {
        // ASCII throughout: hex digits and ".lck"
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

fn lck(elt: &str) -> Lck {
    let mut b = *b"00000000000000.lck";
    let e = elt.as_bytes();
    b[..e.len().min(14)].copy_from_slice(&e[..e.len().min(14)]);
    Lck(b)
}

fn split(name: &str) -> Result<(&str, &str)> {
    check_name(name)?;
    // checked: 8 hex digits, a slash, 14 hex digits
    Ok((&name[..8], &name[9..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The references' way, used where no unnamed file can be made: the element is complete
    /// under its name and no `.tmp` is left.
    #[test]
    fn named_temporary_files_are_the_fallback() {
        let d = tempfile::tempdir().expect("tempdir");
        let q = QueueSimple::new(d.path()).expect("open");
        let name = q.add_named(b"by name").expect("add");
        let dir = name.split('/').next().expect("dir").to_string();
        assert!(q.lock(&name).expect("lock"));
        assert_eq!(q.get(&name).expect("get"), b"by name");
        q.remove(&name).expect("remove");
        let left: Vec<_> = fs::read_dir(q.path.join(&dir)).expect("list").collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// An add in two steps: nothing to see or take after `stage`, one element after
    /// `commit_path`.
    #[test]
    fn a_staged_element_is_seen_only_once_committed() {
        let d = tempfile::tempdir().expect("tempdir");
        let q = QueueSimple::new(d.path()).expect("open");
        let tmp = q.stage(b"staged").expect("stage");
        assert_eq!(q.count().expect("count"), 0);
        assert!(tmp.exists());
        let name = q.commit_path(&tmp).expect("commit");
        assert!(!tmp.exists());
        assert_eq!(q.count().expect("count"), 1);
        assert!(q.lock(&name).expect("lock"));
        assert_eq!(q.get(&name).expect("get"), b"staged");
        // a staged file is committed by another handle of the queue too (a later run), and
        // a path outside the queue's intermediate directories is refused
        let tmp = q.stage(b"again").expect("stage");
        let other = QueueSimple::new(d.path()).expect("open");
        let name = other.commit_path(&tmp).expect("commit");
        assert!(other.lock(&name).expect("lock"));
        assert_eq!(other.get(&name).expect("get"), b"again");
        assert!(q.commit_path(&d.path().join("x.tmp")).is_err());
    }

    /// A stamped lock is released by its stamp, and only while it is that lock.
    #[test]
    fn a_stamped_lock_is_released_only_while_it_is_the_same() {
        let d = tempfile::tempdir().expect("tempdir");
        let q = QueueSimple::new(d.path()).expect("open");
        let name = q.add(b"x").expect("add");
        let first = 1_796_000_000_000_000_001;
        assert!(q.lock_at(&name, first).expect("lock"));
        assert!(
            !q.lock_at(&name, first + 5).expect("lock"),
            "already locked"
        );
        assert!(q.unlock_stamped(&name, first).expect("unlock"));
        assert!(!q.is_locked(&name).expect("locked?"));
        // locked again by another: the old stamp releases nothing
        assert!(q.lock_at(&name, first + 7).expect("lock"));
        assert!(!q.unlock_stamped(&name, first).expect("unlock"));
        assert!(q.is_locked(&name).expect("locked?"));
    }

    /// A directory held open that purge removed, empty, and that was made again: the queue
    /// finds the new one for taking and for adding (an element there is never missed).
    #[test]
    fn a_directory_removed_and_made_again_is_opened_again() {
        let d = tempfile::tempdir().expect("tempdir");
        let q = QueueSimple::with_options(d.path(), &Options::default()).expect("open");
        let first = q.add(b"first").expect("add");
        assert!(q.lock(&first).expect("lock"));
        q.remove(&first).expect("remove");
        let dir = q.path.join(&first[..8]);
        fs::remove_dir(&dir).expect("as purge does");
        // adding makes it again
        let second = q.add(b"second").expect("add into a removed directory");
        assert!(q.lock(&second).expect("lock"));
        assert_eq!(q.get(&second).expect("get"), b"second");
        q.remove(&second).expect("remove");
        // made again by another process, with an element in it
        fs::remove_dir(&dir).expect("as purge does");
        fs::create_dir(&dir).expect("mkdir");
        fs::write(dir.join("00000001000000"), b"third").expect("write");
        let third = format!("{}/00000001000000", &first[..8]);
        assert!(q.is_locked(&third).is_ok_and(|l| !l));
        assert!(q.lock(&third).expect("lock"), "the new directory's element");
        assert_eq!(q.get(&third).expect("get"), b"third");
        q.remove(&third).expect("remove");
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 0);
    }
}
