//! The Normal queue: one directory per element, one file per schema field.
//!
//! ```text
//! PATH/temporary/EEEEEEEEEEEEEE/          element being built
//! PATH/obsolete/EEEEEEEEEEEEEE/           element being removed
//! PATH/DDDDDDDD/EEEEEEEEEEEEEE/<field>    intermediate directories are a counter
//! PATH/DDDDDDDD/EEEEEEEEEEEEEE/locked/    present while locked
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ALREADY_LOCKED, Error, NO_SUCH_ELEMENT, Result};
use crate::name::{self, Names, check_name, element_name, is_element_name, list_dirs};
use crate::sys::{self, Moved, Perms, is_gone};
use crate::{DirQueue, Options, queue_id, table};

const TEMPORARY: &str = "temporary";
const OBSOLETE: &str = "obsolete";
const LOCKED: &str = "locked";

/// How a field is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Raw bytes.
    Binary,
    /// UTF-8 text.
    String,
    /// A map of strings, in the tab-separated table encoding.
    Table,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::Binary => "binary",
            FieldType::String => "string",
            FieldType::Table => "table",
        })
    }
}

/// One field of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its type.
    pub kind: FieldType,
    /// `?`: the field may be absent.
    pub optional: bool,
    /// `*`: Perl's "by reference"; kept so the schema prints back as written.
    pub by_ref: bool,
}

/// A Normal queue's schema: field name → type. Written `body=binary,header=table?`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    fields: BTreeMap<String, Field>,
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Schema {
    /// Builds a schema from `(name, type)` pairs, types written as the references write
    /// them: `binary`, `string` or `table`, followed by up to two of `?` and `*`.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut fields = BTreeMap::new();
        for (name, spec) in pairs {
            if !is_field_name(name) || name == LOCKED {
                return Err(Error::InvalidSchema(format!("invalid field name {name:?}")));
            }
            let base = spec.trim_end_matches(['?', '*']);
            let flags = &spec[base.len()..];
            let kind = match base {
                "binary" => FieldType::Binary,
                "string" => FieldType::String,
                "table" => FieldType::Table,
                _ => {
                    return Err(Error::InvalidSchema(format!(
                        "invalid type {spec:?} for field {name} (binary, string or table, then ? or *)"
                    )));
                }
            };
            if flags.len() > 2 {
                return Err(Error::InvalidSchema(format!(
                    "invalid type {spec:?} for field {name}"
                )));
            }
            let field = Field {
                kind,
                optional: flags.contains('?'),
                by_ref: flags.contains('*'),
            };
            if fields.insert(name.to_string(), field).is_some() {
                return Err(Error::InvalidSchema(format!("field {name} given twice")));
            }
        }
        if !fields.values().any(|f| !f.optional) {
            return Err(Error::InvalidSchema("no mandatory data".into()));
        }
        Ok(Schema { fields })
    }

    /// The fields, by name.
    pub fn fields(&self) -> &BTreeMap<String, Field> {
        &self.fields
    }
}

impl FromStr for Schema {
    type Err = Error;

    /// Parses `name=type[,name=type...]`, e.g. `body=binary,header=table?`.
    fn from_str(s: &str) -> Result<Self> {
        let mut pairs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (n, t) = part
                .split_once('=')
                .ok_or_else(|| Error::InvalidSchema(format!("{part:?} is not name=type")))?;
            pairs.push((n.trim(), t.trim()));
        }
        Schema::new(pairs)
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, fl)) in self.fields.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let q = if fl.optional { "?" } else { "" };
            let r = if fl.by_ref { "*" } else { "" };
            write!(f, "{sep}{n}={}{q}{r}", fl.kind)?;
        }
        Ok(())
    }
}

/// The value of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// For a `binary` field.
    Binary(Vec<u8>),
    /// For a `string` field.
    String(String),
    /// For a `table` field.
    Table(BTreeMap<String, String>),
}

impl Value {
    fn kind(&self) -> FieldType {
        match self {
            Value::Binary(_) => FieldType::Binary,
            Value::String(_) => FieldType::String,
            Value::Table(_) => FieldType::Table,
        }
    }
}

/// The data of a Normal element: field name → value.
pub type Element = BTreeMap<String, Value>;

/// A Normal directory queue (Perl `Directory::Queue::Normal`, python `dirq.queue.Queue`).
#[derive(Debug, Clone)]
pub struct QueueNormal {
    path: PathBuf,
    perms: Perms,
    rndhex: u8,
    maxelts: usize,
    maxtemp: u64,
    maxlock: u64,
    sync: bool,
    schema: Option<Schema>,
    cache: InsertionCache,
}

/// The insertion directory last used and how many elements it then held. Listing the top
/// directory and stat-ing the last one costs five system calls per add; the cache spares
/// them while it is younger than [`CACHE_TTL`] and the directory is not full. Other writers
/// may add to the same directory meanwhile, so `maxelts` can be exceeded by what they add
/// within that second: it is a soft limit (far below the filesystems' hard ones).
#[derive(Debug, Default)]
struct InsertionCache(Mutex<Option<(String, usize, Instant)>>);

const CACHE_TTL: Duration = Duration::from_secs(1);

impl Clone for InsertionCache {
    fn clone(&self) -> Self {
        InsertionCache::default()
    }
}

impl InsertionCache {
    fn get(&self, maxelts: usize) -> Option<String> {
        let g = self.0.lock().ok()?;
        match &*g {
            Some((d, n, t)) if *n < maxelts && t.elapsed() < CACHE_TTL => Some(d.clone()),
            _ => None,
        }
    }

    fn set(&self, dir: &str, count: usize) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some((dir.to_string(), count, Instant::now()));
        }
    }

    fn added(&self, dir: &str) {
        if let Ok(mut g) = self.0.lock()
            && let Some((d, n, _)) = &mut *g
            && d == dir
        {
            *n += 1;
        }
    }

    fn clear(&self) {
        if let Ok(mut g) = self.0.lock() {
            *g = None;
        }
    }
}

/// Sub-directories of `dir`: `nlink - 2` where the filesystem keeps directory link counts
/// (nlink >= 2), one readdir otherwise (btrfs, ext4 past 64 998 entries). A missing
/// directory counts 0.
fn subdirs(dir: &Path) -> Result<usize> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.nlink() >= 2 => Ok(m.nlink() as usize - 2),
        Ok(_) => name::count_in(dir, |_| true),
        Err(e) if is_gone(&e) => Ok(0),
        Err(e) => Err(Error::io("stat", dir, e)),
    }
}

fn older(path: &Path, cutoff: i64) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(m.mtime() < cutoff),
        Err(e) if is_gone(&e) => Ok(false),
        Err(e) => Err(Error::io("stat", path, e)),
    }
}

fn tolerate(r: std::io::Result<()>, op: &'static str, p: &Path) -> Result<()> {
    match r {
        Err(e) if is_gone(&e) || sys::is_exists(&e) => Ok(()),
        Err(e) => Err(Error::io(op, p, e)),
        Ok(()) => Ok(()),
    }
}

impl QueueNormal {
    /// Opens the queue at `path` with default options (no schema: only counting, locking,
    /// removing and purging are possible).
    pub fn new(path: impl AsRef<Path>) -> Result<Self> {
        Self::with_options(path, &Options::default())
    }

    /// Opens the queue at `path`, creating it with its `temporary` and `obsolete`
    /// directories if needed.
    pub fn with_options(path: impl AsRef<Path>, opts: &Options) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let perms = Perms::new(opts.umask).synced(opts.sync);
        perms
            .mkdir_all(&path)
            .map_err(|e| Error::io("create queue directory", &path, e))?;
        for d in [TEMPORARY, OBSOLETE] {
            let p = path.join(d);
            perms
                .mkdir_ok(&p)
                .map_err(|e| Error::io("create directory", &p, e))?;
        }
        Ok(QueueNormal {
            path,
            perms,
            rndhex: opts.rndhex.unwrap_or_else(name::random_hex) & 0xf,
            maxelts: opts.maxelts.max(1),
            maxtemp: opts.maxtemp,
            maxlock: opts.maxlock,
            sync: opts.sync,
            schema: opts.schema.clone(),
            cache: InsertionCache::default(),
        })
    }

    /// The schema, if one was given.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    fn check(&self, data: &Element) -> Result<&Schema> {
        let schema = self.schema.as_ref().ok_or(Error::NoSchema)?;
        for (name, value) in data {
            let f = schema
                .fields
                .get(name)
                .ok_or_else(|| Error::InvalidData(format!("unexpected field {name:?}")))?;
            if f.kind != value.kind() {
                return Err(Error::InvalidData(format!(
                    "field {name} must be {}, not {}",
                    f.kind,
                    value.kind()
                )));
            }
        }
        for (name, f) in &schema.fields {
            if !f.optional && !data.contains_key(name) {
                return Err(Error::InvalidData(format!(
                    "missing mandatory field {name}"
                )));
            }
        }
        Ok(schema)
    }

    /// The intermediate directory new elements go to: the last one unless it holds
    /// `maxelts` elements, then the next counter value. An emptied last directory is reused
    /// (as Perl does).
    fn insertion_dir(&self) -> Result<String> {
        if let Some(d) = self.cache.get(self.maxelts) {
            return Ok(d);
        }
        let dirs = list_dirs(&self.path)?;
        let name = match dirs.last() {
            None => "00000000".to_string(),
            Some(last) => {
                let n = subdirs(&self.path.join(last))?;
                if n < self.maxelts {
                    self.cache.set(last, n);
                    return Ok(last.clone());
                }
                let n = u32::from_str_radix(last, 16).unwrap_or(0);
                format!("{:08x}", n.wrapping_add(1))
            }
        };
        let p = self.path.join(&name);
        self.perms
            .mkdir_ok(&p)
            .map_err(|e| Error::io("create directory", &p, e))?;
        self.cache.set(&name, subdirs(&p)?);
        Ok(name)
    }

    fn write_fields(&self, tmp: &Path, data: &Element) -> Result<()> {
        for (name, value) in data {
            let p = tmp.join(name);
            let mut f = self
                .perms
                .create_new(&p)
                .map_err(|e| Error::io("create", &p, e))?;
            let r = match value {
                Value::Binary(b) => f.write_all(b),
                Value::String(s) => f.write_all(s.as_bytes()),
                Value::Table(t) => f.write_all(table::encode(t).as_bytes()),
            };
            r.and_then(|()| if self.sync { f.sync_data() } else { Ok(()) })
                .map_err(|e| Error::io("write", &p, e))?;
        }
        if self.sync {
            sys::sync_dir(tmp).map_err(|e| Error::io("sync", tmp, e))?;
        }
        Ok(())
    }

    /// Adds an element; returns its name. The data is checked against the schema before
    /// anything is written, and a failed add leaves nothing behind.
    pub fn add(&self, data: &Element) -> Result<String> {
        let tmp = self.build(data)?;
        let result = self.publish(&tmp);
        if result.is_err() {
            let _ = remove_element_dir(&tmp);
        }
        result
    }

    /// The first half of an add in two steps: the element built in `temporary/`, not in
    /// the queue yet; [`QueueNormal::commit_path`] moves it in. One left behind by a crash
    /// is committed by its path or purged once older than maxtemp.
    pub fn stage(&self, data: &Element) -> Result<PathBuf> {
        let tmp = self.build(data)?;
        if self.sync {
            // the staged element's name is durable too: a caller records it next
            let tdir = self.path.join(TEMPORARY);
            sys::sync_dir(&tdir).map_err(|e| Error::io("sync", &tdir, e))?;
        }
        Ok(tmp)
    }

    /// The element built in `temporary/` (checked against the schema first).
    fn build(&self, data: &Element) -> Result<PathBuf> {
        self.check(data)?;
        let tdir = self.path.join(TEMPORARY);
        let tmp = loop {
            let p = tdir.join(element_name(self.rndhex));
            match self.perms.mkdir(&p) {
                Ok(()) => break p,
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) if is_gone(&e) => self
                    .perms
                    .mkdir_ok(&tdir)
                    .map_err(|e| Error::io("create directory", &tdir, e))?,
                Err(e) => return Err(Error::io("create", &p, e)),
            }
        };
        if let Err(e) = self.write_fields(&tmp, data) {
            let _ = remove_element_dir(&tmp);
            return Err(e);
        }
        Ok(tmp)
    }

    /// The second half: the staged element (its path, as [`QueueNormal::stage`] gave it)
    /// moves into the queue; returns its name.
    pub fn commit_path(&self, tmp: &Path) -> Result<String> {
        self.publish(tmp)
    }

    fn publish(&self, tmp: &Path) -> Result<String> {
        loop {
            let dir = self.insertion_dir()?;
            let dpath = self.path.join(&dir);
            let elt = element_name(self.rndhex);
            let dst = dpath.join(&elt);
            match sys::move_noreplace(tmp, &dst, true) {
                Ok(Moved::Done) => {
                    self.cache.added(&dir);
                    if self.sync {
                        sys::sync_dir(&dpath).map_err(|e| Error::io("sync", &dpath, e))?;
                    }
                    return Ok(format!("{dir}/{elt}"));
                }
                Ok(Moved::Exists) => {}
                // The insertion directory was purged in between: pick again.
                Err(e) if is_gone(&e) && tmp.exists() => self.cache.clear(),
                Err(e) => return Err(Error::io("publish", &dst, e)),
            }
        }
    }

    fn elt_path(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.path.join(name))
    }

    /// Reads a locked element according to the schema.
    pub fn get(&self, name: &str) -> Result<Element> {
        let dir = self.elt_path(name)?;
        if !dir.join(LOCKED).is_dir() {
            return Err(Error::NotLocked {
                op: "get",
                name: name.to_string(),
            });
        }
        self.get_locked(name)
    }

    /// Reads an element the caller has just locked itself, without checking the lock again
    /// (the check is a `stat` per element, which a transfer agent need not pay).
    pub fn get_locked(&self, name: &str) -> Result<Element> {
        let schema = self.schema.as_ref().ok_or(Error::NoSchema)?;
        let dir = self.elt_path(name)?;
        let mut out = Element::new();
        for (field, f) in &schema.fields {
            let p = dir.join(field);
            let bytes = match sys::read_file(&p) {
                Ok(b) => b,
                Err(e) if is_gone(&e) && f.optional => continue,
                Err(e) if is_gone(&e) => {
                    return Err(Error::MissingFile {
                        path: dir,
                        field: field.clone(),
                    });
                }
                Err(e) => return Err(Error::io("read", &p, e)),
            };
            let value = match f.kind {
                FieldType::Binary => Value::Binary(bytes),
                FieldType::String => {
                    Value::String(String::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 {
                        path: p.clone(),
                        kind: "string",
                    })?)
                }
                FieldType::Table => {
                    let s = String::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 {
                        path: p.clone(),
                        kind: "table",
                    })?;
                    Value::Table(table::decode(&s).map_err(|line| Error::BadTableLine {
                        path: p.clone(),
                        line,
                    })?)
                }
            };
            out.insert(field.clone(), value);
        }
        Ok(out)
    }
}

/// Deletes an element directory: its files, `locked`, then itself. Missing pieces are fine
/// (a concurrent purge may be doing the same).
fn remove_element_dir(dir: &Path) -> Result<()> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(Error::io("list directory", dir, e)),
    };
    for ent in rd.flatten() {
        if ent.file_name() == LOCKED {
            continue;
        }
        let p = ent.path();
        tolerate(fs::remove_file(&p), "remove", &p)?;
    }
    let l = dir.join(LOCKED);
    tolerate(fs::remove_dir(&l), "remove", &l)?;
    tolerate(fs::remove_dir(dir), "remove", dir)
}

impl DirQueue for QueueNormal {
    fn path(&self) -> &Path {
        &self.path
    }

    fn id(&self) -> Result<String> {
        queue_id(&self.path)
    }

    fn names(&self) -> Names {
        Names::new(&self.path)
    }

    /// Only elements in intermediate directories count; the python reference also counts
    /// those being added or removed.
    fn count(&self) -> Result<usize> {
        let mut n = 0;
        for d in list_dirs(&self.path)? {
            n += subdirs(&self.path.join(d))?;
        }
        Ok(n)
    }

    fn lock_with(&self, name: &str, permissive: bool) -> Result<bool> {
        let dir = self.elt_path(name)?;
        let refuse = |reason| {
            if permissive {
                Ok(false)
            } else {
                Err(Error::LockFailed {
                    op: "lock",
                    name: name.to_string(),
                    reason,
                })
            }
        };
        let l = dir.join(LOCKED);
        if let Err(e) = self.perms.mkdir(&l) {
            return match e.raw_os_error() {
                Some(libc::EEXIST) => refuse(ALREADY_LOCKED),
                _ if is_gone(&e) => refuse(NO_SUCH_ELEMENT),
                _ => Err(Error::io("lock", &dir, e)),
            };
        }
        // The mkdir dated the lock through the element directory's mtime. (The references
        // lstat the element here too; a successful mkdir inside it already proves it was
        // there, and only a lock holder may move it away.)
        Ok(true)
    }

    fn unlock_with(&self, name: &str, permissive: bool) -> Result<bool> {
        let l = self.elt_path(name)?.join(LOCKED);
        match fs::remove_dir(&l) {
            Ok(()) => Ok(true),
            Err(e) if is_gone(&e) && permissive => Ok(false),
            Err(e) if is_gone(&e) => Err(Error::NotLocked {
                op: "unlock",
                name: name.to_string(),
            }),
            Err(e) => Err(Error::io("unlock", &l, e)),
        }
    }

    fn is_locked(&self, name: &str) -> Result<bool> {
        Ok(self.elt_path(name)?.join(LOCKED).is_dir())
    }

    fn remove(&self, name: &str) -> Result<()> {
        let dir = self.elt_path(name)?;
        if !dir.join(LOCKED).is_dir() {
            return Err(Error::NotLocked {
                op: "remove",
                name: name.to_string(),
            });
        }
        self.remove_unchecked(name)
    }

    /// Without the `stat` of the lock: an element not locked after all fails when its lock
    /// directory is removed (by then the element has moved to `obsolete`).
    fn remove_locked(&self, name: &str) -> Result<()> {
        self.remove_unchecked(name).map_err(|e| match e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Error::NotLocked {
                    op: "remove",
                    name: name.to_string(),
                }
            }
            e => e,
        })
    }

    fn touch(&self, name: &str) -> Result<()> {
        let dir = self.elt_path(name)?;
        sys::touch(&dir).map_err(|e| Error::io("touch", &dir, e))
    }

    fn purge_with(&self, maxtemp: u64, maxlock: u64) -> Result<()> {
        let dirs = list_dirs(&self.path)?;
        // 1. Empty intermediate directories, never the newest one.
        if dirs.len() > 1 {
            for d in &dirs[..dirs.len() - 1] {
                let p = self.path.join(d);
                if subdirs(&p)? == 0 {
                    crate::rmdir_if_empty(&p)?;
                }
            }
        }
        let (now, _) = name::now();
        // 2. Old temporary and obsolete elements. The age test comes first: a young one
        // belongs to an add or remove in progress (python removes those, bug 3).
        if maxtemp > 0 {
            let cutoff = now as i64 - maxtemp as i64;
            for sub in [TEMPORARY, OBSOLETE] {
                let sdir = self.path.join(sub);
                for e in name::list_sorted(&sdir, is_element_name)? {
                    let p = sdir.join(e);
                    if older(&p, cutoff)? {
                        remove_element_dir(&p)?;
                    }
                }
            }
        }
        // 3. Stale locks, dated by the element directory's mtime.
        if maxlock > 0 {
            let cutoff = now as i64 - maxlock as i64;
            for n in self.names() {
                let n = n?;
                let dir = self.path.join(&n);
                let m = match fs::symlink_metadata(&dir) {
                    Ok(m) => m,
                    Err(e) if is_gone(&e) => continue,
                    Err(e) => return Err(Error::io("stat", &dir, e)),
                };
                // nlink 2 means no sub-directory, so no lock; nlink 1: unknown, look.
                if m.nlink() == 2 || m.mtime() >= cutoff {
                    continue;
                }
                if dir.join(LOCKED).is_dir() {
                    self.unlock_with(&n, true)?;
                }
            }
        }
        Ok(())
    }

    fn purge(&self) -> Result<()> {
        self.purge_with(self.maxtemp, self.maxlock)
    }
}

impl QueueNormal {
    /// Moves an element to `obsolete` and removes it there (the caller holds its lock).
    fn remove_unchecked(&self, name: &str) -> Result<()> {
        let dir = self.elt_path(name)?;
        let odir = self.path.join(OBSOLETE);
        let gone = loop {
            let p = odir.join(element_name(self.rndhex));
            match sys::move_noreplace(&dir, &p, true) {
                Ok(Moved::Done) => break p,
                Ok(Moved::Exists) => {}
                Err(e) => return Err(Error::io("remove", &dir, e)),
            }
        };
        // Fast path: unlink the schema's fields by name; list the directory only if
        // something else is left in it.
        if let Some(schema) = &self.schema {
            for field in schema.fields.keys() {
                let p = gone.join(field);
                tolerate(fs::remove_file(&p), "remove", &p)?;
            }
            let l = gone.join(LOCKED);
            fs::remove_dir(&l).map_err(|e| Error::io("remove", &l, e))?;
            match fs::remove_dir(&gone) {
                Ok(()) => return Ok(()),
                Err(e) if sys::is_exists(&e) => {}
                Err(e) => return Err(Error::io("remove", &gone, e)),
            }
        }
        let rd = fs::read_dir(&gone).map_err(|e| Error::io("list directory", &gone, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| Error::io("list directory", &gone, e))?;
            let n = ent.file_name();
            if n == LOCKED {
                continue;
            }
            match n.to_str() {
                Some(s) if is_field_name(s) => {}
                _ => {
                    return Err(Error::UnexpectedFile {
                        path: gone.clone(),
                        name: n.to_string_lossy().into_owned(),
                    });
                }
            }
            let p = ent.path();
            fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
        }
        let l = gone.join(LOCKED);
        tolerate(fs::remove_dir(&l), "remove", &l)?;
        fs::remove_dir(&gone).map_err(|e| Error::io("remove", &gone, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parsing() {
        let s: Schema = "body=binary, header=table?".parse().expect("valid");
        assert_eq!(s.fields()["body"].kind, FieldType::Binary);
        assert!(s.fields()["header"].optional);
        assert_eq!(s.to_string(), "body=binary,header=table?");
        let s: Schema = "b=string*,c=table?*".parse().expect("valid");
        assert!(s.fields()["b"].by_ref && !s.fields()["b"].optional);
        assert!(s.fields()["c"].by_ref && s.fields()["c"].optional);
        for bad in [
            "",
            "body=binary?",
            "bo-dy=binary",
            "locked=binary",
            "body=blob",
            "body",
            "body=binary???",
            "a=binary,a=string",
        ] {
            assert!(bad.parse::<Schema>().is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            "h=table?".parse::<Schema>().unwrap_err().to_string(),
            "invalid schema: no mandatory data"
        );
    }
}
