//! A filesystem that loses what a power cut loses: a FUSE filesystem in memory (on the
//! `fuser` crate, the way LazyFS works) that keeps, beside what programs see, what a disk
//! would hold after a cut. A file's data becomes durable when the file is fsynced; a
//! directory's entries (a name created, renamed, linked or removed) when the directory is.
//! [`CrashFs::cut`] freezes it (every call fails with EIO, as a dead disk would) and
//! [`CrashFs::reboot`] unmounts it and mounts it again with only what was durable. Nothing
//! is more durable here than POSIX promises: ext4's heuristics (`auto_da_alloc`) are left out.
//! Needs root (it mounts) and `/dev/fuse`.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};

const ROOT: u64 = 1;
/// No caching by the kernel: every call reaches the state.
const TTL: Duration = Duration::ZERO;

#[derive(Default)]
struct Node {
    dir: bool,
    mode: u32,
    mtime: Option<SystemTime>,
    data: Vec<u8>,
    durable_data: Vec<u8>,
    entries: BTreeMap<OsString, u64>,
    durable_entries: BTreeMap<OsString, u64>,
    nlink: u32,
}

#[derive(Default)]
struct State {
    nodes: HashMap<u64, Node>,
    next: u64,
    frozen: bool,
}

impl State {
    fn new() -> State {
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Node {
                dir: true,
                mode: 0o1777,
                nlink: 2,
                ..Node::default()
            },
        );
        State {
            nodes,
            next: ROOT + 1,
            frozen: false,
        }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let n = self.nodes.get(&ino)?;
        let t = n.mtime.unwrap_or(UNIX_EPOCH);
        Some(FileAttr {
            ino,
            size: n.data.len() as u64,
            blocks: (n.data.len() as u64).div_ceil(512),
            atime: t,
            mtime: t,
            ctime: t,
            crtime: t,
            kind: if n.dir {
                FileType::Directory
            } else {
                FileType::RegularFile
            },
            perm: (n.mode & 0o7777) as u16,
            nlink: n.nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.nodes.get(&parent)?.entries.get(name).copied()
    }

    fn add(&mut self, parent: u64, name: &OsStr, dir: bool, mode: u32) -> Result<u64, i32> {
        let p = self.nodes.get(&parent).ok_or(libc::ENOENT)?;
        if !p.dir {
            return Err(libc::ENOTDIR);
        }
        if p.entries.contains_key(name) {
            return Err(libc::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        self.nodes.insert(
            ino,
            Node {
                dir,
                mode,
                mtime: Some(SystemTime::now()),
                nlink: if dir { 2 } else { 1 },
                ..Node::default()
            },
        );
        self.nodes
            .get_mut(&parent)
            .ok_or(libc::ENOENT)?
            .entries
            .insert(name.to_owned(), ino);
        Ok(ino)
    }

    fn remove(&mut self, parent: u64, name: &OsStr, dir: bool) -> Result<(), i32> {
        let ino = self.child(parent, name).ok_or(libc::ENOENT)?;
        let n = self.nodes.get(&ino).ok_or(libc::ENOENT)?;
        match (dir, n.dir) {
            (true, false) => return Err(libc::ENOTDIR),
            (false, true) => return Err(libc::EISDIR),
            (true, true) if !n.entries.is_empty() => return Err(libc::ENOTEMPTY),
            _ => {}
        }
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.nlink = n.nlink.saturating_sub(1);
        }
        if let Some(p) = self.nodes.get_mut(&parent) {
            p.entries.remove(name);
        }
        Ok(())
    }

    /// What a disk holds after a cut: the durable data and entries, the links counted again.
    fn power_cut(&mut self) {
        for n in self.nodes.values_mut() {
            n.data = n.durable_data.clone();
            n.entries = n.durable_entries.clone();
            n.nlink = if n.dir { 2 } else { 0 };
        }
        let links: Vec<u64> = self
            .nodes
            .values()
            .flat_map(|n| n.entries.values().copied())
            .collect();
        for ino in links {
            if let Some(n) = self.nodes.get_mut(&ino)
                && !n.dir
            {
                n.nlink += 1;
            }
        }
    }
}

/// The filesystem as the kernel calls it: the shared state.
struct Fs(Arc<Mutex<State>>);

/// `CRASHFS_TRACE=1`: each change and sync on standard error.
fn trace(what: std::fmt::Arguments<'_>) {
    if std::env::var_os("CRASHFS_TRACE").is_some() {
        eprintln!("crashfs: {what}");
    }
}

macro_rules! state {
    ($self:ident, $reply:ident) => {{
        let s = $self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.frozen {
            trace(format_args!("EIO ({})", stringify!($reply)));
            $reply.error(libc::EIO);
            return;
        }
        s
    }};
}

impl Filesystem for Fs {
    fn lookup(&mut self, _: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let s = state!(self, reply);
        match s.child(parent, name).and_then(|i| s.attr(i)) {
            Some(a) => reply.entry(&TTL, &a, 0),
            None => reply.error(libc::ENOENT),
        }
    }

    fn getattr(&mut self, _: &Request<'_>, ino: u64, _: Option<u64>, reply: ReplyAttr) {
        let s = state!(self, reply);
        match s.attr(ino) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(libc::ENOENT),
        }
    }

    fn setattr(
        &mut self,
        _: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        _: Option<u32>,
        _: Option<u32>,
        size: Option<u64>,
        _: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _: Option<SystemTime>,
        _: Option<u64>,
        _: Option<SystemTime>,
        _: Option<SystemTime>,
        _: Option<SystemTime>,
        _: Option<u32>,
        reply: ReplyAttr,
    ) {
        let mut s = state!(self, reply);
        let Some(n) = s.nodes.get_mut(&ino) else {
            return reply.error(libc::ENOENT);
        };
        if let Some(m) = mode {
            n.mode = m;
        }
        if let Some(len) = size {
            n.data.resize(len as usize, 0);
        }
        match mtime {
            Some(TimeOrNow::SpecificTime(t)) => n.mtime = Some(t),
            Some(TimeOrNow::Now) => n.mtime = Some(SystemTime::now()),
            None => {}
        }
        match s.attr(ino) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(libc::ENOENT),
        }
    }

    fn mkdir(
        &mut self,
        _: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut s = state!(self, reply);
        let made = s.add(parent, name, true, mode & !umask);
        trace(format_args!("mkdir {parent} {name:?}: {made:?}"));
        match made {
            Ok(ino) => reply.entry(&TTL, &s.attr(ino).expect("made"), 0),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &mut self,
        _: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _: i32,
        reply: ReplyCreate,
    ) {
        let mut s = state!(self, reply);
        match s.add(parent, name, false, mode & !umask) {
            Ok(ino) => reply.created(&TTL, &s.attr(ino).expect("made"), 0, 0, 0),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&mut self, _: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut s = state!(self, reply);
        trace(format_args!("unlink {parent} {name:?}"));
        match s.remove(parent, name, false) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&mut self, _: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut s = state!(self, reply);
        trace(format_args!("rmdir {parent} {name:?}"));
        match s.remove(parent, name, true) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &mut self,
        _: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: u32,
        reply: ReplyEmpty,
    ) {
        let mut s = state!(self, reply);
        let Some(ino) = s.child(parent, name) else {
            return reply.error(libc::ENOENT);
        };
        if let Some(old) = s.child(newparent, newname) {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return reply.error(libc::EEXIST);
            }
            let dir = s.nodes.get(&old).is_some_and(|n| n.dir);
            if let Err(e) = s.remove(newparent, newname, dir) {
                return reply.error(e);
            }
        }
        if let Some(p) = s.nodes.get_mut(&parent) {
            p.entries.remove(name);
        }
        match s.nodes.get_mut(&newparent) {
            Some(p) => {
                p.entries.insert(newname.to_owned(), ino);
                reply.ok();
            }
            None => reply.error(libc::ENOENT),
        }
    }

    fn link(
        &mut self,
        _: &Request<'_>,
        ino: u64,
        newparent: u64,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let mut s = state!(self, reply);
        if s.child(newparent, newname).is_some() {
            return reply.error(libc::EEXIST);
        }
        let Some(p) = s.nodes.get_mut(&newparent) else {
            return reply.error(libc::ENOENT);
        };
        p.entries.insert(newname.to_owned(), ino);
        if let Some(n) = s.nodes.get_mut(&ino) {
            n.nlink += 1;
        }
        match s.attr(ino) {
            Some(a) => reply.entry(&TTL, &a, 0),
            None => reply.error(libc::ENOENT),
        }
    }

    fn open(&mut self, _: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        let mut s = state!(self, reply);
        let Some(n) = s.nodes.get_mut(&ino) else {
            return reply.error(libc::ENOENT);
        };
        if flags & libc::O_TRUNC != 0 {
            n.data.clear();
        }
        reply.opened(0, 0);
    }

    fn read(
        &mut self,
        _: &Request<'_>,
        ino: u64,
        _: u64,
        offset: i64,
        size: u32,
        _: i32,
        _: Option<u64>,
        reply: ReplyData,
    ) {
        let s = state!(self, reply);
        let Some(n) = s.nodes.get(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let start = (offset.max(0) as usize).min(n.data.len());
        let end = (start + size as usize).min(n.data.len());
        reply.data(&n.data[start..end]);
    }

    fn write(
        &mut self,
        _: &Request<'_>,
        ino: u64,
        _: u64,
        offset: i64,
        data: &[u8],
        _: u32,
        _: i32,
        _: Option<u64>,
        reply: ReplyWrite,
    ) {
        let mut s = state!(self, reply);
        let Some(n) = s.nodes.get_mut(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let at = offset.max(0) as usize;
        if n.data.len() < at + data.len() {
            n.data.resize(at + data.len(), 0);
        }
        n.data[at..at + data.len()].copy_from_slice(data);
        n.mtime = Some(SystemTime::now());
        reply.written(data.len() as u32);
    }

    fn fsync(&mut self, _: &Request<'_>, ino: u64, _: u64, _: bool, reply: ReplyEmpty) {
        let mut s = state!(self, reply);
        match s.nodes.get_mut(&ino) {
            Some(n) => {
                n.durable_data = n.data.clone();
                reply.ok();
            }
            None => reply.error(libc::ENOENT),
        }
    }

    fn fsyncdir(&mut self, _: &Request<'_>, ino: u64, _: u64, _: bool, reply: ReplyEmpty) {
        let mut s = state!(self, reply);
        match s.nodes.get_mut(&ino) {
            Some(n) => {
                trace(format_args!(
                    "fsyncdir {ino}: {:?}",
                    n.entries.keys().collect::<Vec<_>>()
                ));
                n.durable_entries = n.entries.clone();
                reply.ok();
            }
            None => reply.error(libc::ENOENT),
        }
    }

    fn readdir(
        &mut self,
        _: &Request<'_>,
        ino: u64,
        _: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let s = state!(self, reply);
        let Some(n) = s.nodes.get(&ino) else {
            return reply.error(libc::ENOENT);
        };
        let mut all: Vec<(u64, FileType, OsString)> = vec![
            (ino, FileType::Directory, ".".into()),
            (ino, FileType::Directory, "..".into()),
        ];
        for (name, &child) in &n.entries {
            let kind = match s.nodes.get(&child) {
                Some(c) if c.dir => FileType::Directory,
                _ => FileType::RegularFile,
            };
            all.push((child, kind, name.clone()));
        }
        for (i, (child, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
            if reply.add(child, (i + 1) as i64, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn statfs(&mut self, _: &Request<'_>, _: u64, reply: ReplyStatfs) {
        reply.statfs(1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 4096, 255, 4096);
    }
}

/// A mounted crash-simulating filesystem.
pub struct CrashFs {
    state: Arc<Mutex<State>>,
    mountpoint: PathBuf,
    session: Option<fuser::BackgroundSession>,
}

impl CrashFs {
    /// Mounts an empty one at `mountpoint` (an existing empty directory). Needs root.
    pub fn mount(mountpoint: &Path) -> CrashFs {
        let mut fs = CrashFs {
            state: Arc::new(Mutex::new(State::new())),
            mountpoint: mountpoint.to_path_buf(),
            session: None,
        };
        fs.session = Some(fs.spawn());
        fs
    }

    fn spawn(&self) -> fuser::BackgroundSession {
        fuser::spawn_mount2(
            Fs(self.state.clone()),
            &self.mountpoint,
            &[MountOption::FSName("crashfs".into()), MountOption::RW],
        )
        .unwrap_or_else(|e| panic!("mount crashfs on {}: {e}", self.mountpoint.display()))
    }

    /// The power cut: from now on every call fails, and what was not durable is gone.
    pub fn cut(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        trace(format_args!("cut"));
        s.frozen = true;
        s.power_cut();
    }

    /// The reboot after a cut (its programs gone): unmounted, then mounted again with what
    /// the disk held.
    pub fn reboot(&mut self) {
        trace(format_args!("reboot"));
        self.unmount();
        self.state.lock().unwrap_or_else(|e| e.into_inner()).frozen = false;
        self.session = Some(self.spawn());
    }

    /// Makes everything durable now (as a clean shutdown would): for setting up.
    pub fn sync_all(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for n in s.nodes.values_mut() {
            n.durable_data = n.data.clone();
            n.durable_entries = n.entries.clone();
        }
    }
}

impl CrashFs {
    /// Ends the session and makes sure nothing is left mounted on the mountpoint (a session
    /// whose unmount failed, busy, would otherwise stay under the next one, or after the
    /// test, and block the removal of its directory).
    fn unmount(&mut self) {
        drop(self.session.take());
        let Ok(path) = std::ffi::CString::new(self.mountpoint.as_os_str().as_encoded_bytes())
        else {
            return;
        };
        for _ in 0..10 {
            // SAFETY: a valid C string; MNT_DETACH detaches now and frees when unused.
            if unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) } != 0 {
                break; // EINVAL: nothing mounted there any more
            }
        }
    }
}

impl Drop for CrashFs {
    fn drop(&mut self) {
        self.unmount();
    }
}
