//! Element and intermediate directory names, and the directory listings built on them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::sys::{self, is_gone};

/// Wall-clock seconds and microseconds.
pub(crate) fn now() -> (u64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

/// A new 14-hex element name, `%08x%05x%01x` of wall-clock seconds, microseconds and the
/// queue's random digit.
pub fn element_name(rndhex: u8) -> String {
    let (s, us) = now();
    let mut name = String::with_capacity(14);
    push_hex(&mut name, u64::from(s as u32), 8);
    push_hex(&mut name, u64::from(us), 5);
    push_hex(&mut name, u64::from(rndhex), 1);
    name
}

/// The `width` low hex digits of `v`, lowercase, zero-padded, appended to `out`: the names'
/// form without the formatting machinery (it was a tenth of an add's time in user space).
pub(crate) fn push_hex(out: &mut String, v: u64, width: u32) {
    for i in (0..width).rev() {
        let digit = (v >> (4 * i)) & 0xf;
        out.push(char::from(b"0123456789abcdef"[digit as usize]));
    }
}

/// A random hex digit for a queue that was not given one.
pub(crate) fn random_hex() -> u8 {
    // RandomState is seeded from the OS per process; enough to spread writers.
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    (h.finish() % 16) as u8
}

fn is_lower_hex(b: &[u8]) -> bool {
    b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// `^[0-9a-f]{8}$`: an intermediate directory name.
pub fn is_dir_name(s: &[u8]) -> bool {
    s.len() == 8 && is_lower_hex(s)
}

/// `^[0-9a-f]{14}$`: an element name inside an intermediate directory.
pub fn is_element_name(s: &[u8]) -> bool {
    s.len() == 14 && is_lower_hex(s)
}

/// `^[0-9a-f]{8}/[0-9a-f]{14}$`: a full element name as the queues return it.
pub fn is_full_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23 && b[8] == b'/' && is_dir_name(&b[..8]) && is_element_name(&b[9..])
}

pub(crate) fn check_name(s: &str) -> Result<()> {
    if is_full_name(s) {
        Ok(())
    } else {
        Err(Error::InvalidName(s.to_string()))
    }
}

/// Names in `dir` accepted by `keep`, sorted. A directory that vanished is empty.
pub(crate) fn list_sorted(dir: &Path, keep: fn(&[u8]) -> bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let r = sys::for_each_name(dir, |n| {
        if keep(n)
            && let Ok(s) = std::str::from_utf8(n)
        {
            out.push(s.to_string());
        }
    });
    match r {
        Ok(()) => {}
        Err(e) if is_gone(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list directory", dir, e)),
    }
    out.sort_unstable();
    Ok(out)
}

/// The intermediate directories of a queue, sorted.
pub(crate) fn list_dirs(root: &Path) -> Result<Vec<String>> {
    list_sorted(root, is_dir_name)
}

/// Counts the names in `dir` accepted by `keep` in one readdir pass. A directory that
/// vanished counts 0.
pub(crate) fn count_in(dir: &Path, keep: fn(&[u8]) -> bool) -> Result<usize> {
    let mut n = 0;
    match sys::for_each_name(dir, |name| n += keep(name) as usize) {
        Ok(()) => Ok(n),
        Err(e) if is_gone(&e) => Ok(0),
        Err(e) => Err(Error::io("list directory", dir, e)),
    }
}

/// The elements of a queue in iteration order, `DDDDDDDD/EEEEEEEEEEEEEE`, whatever their
/// lock state. Intermediate directories are listed when `first()` happens (the creation of
/// this iterator); each one is read only when the iteration reaches it, so elements added
/// to a directory not yet reached are seen. A directory that vanished is treated as empty;
/// any other error is yielded once and the iteration goes on with the next directory.
#[derive(Debug)]
pub struct Names {
    root: PathBuf,
    dirs: std::vec::IntoIter<String>,
    dir: String,
    elts: std::vec::IntoIter<String>,
    error: Option<Error>,
}

impl Names {
    pub(crate) fn new(root: &Path) -> Self {
        let (dirs, error) = match list_dirs(root) {
            Ok(d) => (d, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Names {
            root: root.to_path_buf(),
            dirs: dirs.into_iter(),
            dir: String::new(),
            elts: Vec::new().into_iter(),
            error,
        }
    }

    /// An iterator with nothing in it (the Null queue's).
    pub(crate) fn empty() -> Self {
        Names {
            root: PathBuf::new(),
            dirs: Vec::new().into_iter(),
            dir: String::new(),
            elts: Vec::new().into_iter(),
            error: None,
        }
    }
}

impl Iterator for Names {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        loop {
            if let Some(e) = self.elts.next() {
                let mut s = String::with_capacity(23);
                s.push_str(&self.dir);
                s.push('/');
                s.push_str(&e);
                return Some(Ok(s));
            }
            self.dir = self.dirs.next()?;
            match list_sorted(&self.root.join(&self.dir), is_element_name) {
                Ok(v) => self.elts = v.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_names_have_the_reference_shape() {
        let n = element_name(0xb);
        assert!(is_element_name(n.as_bytes()), "{n}");
        assert!(n.ends_with('b'));
        let us = u32::from_str_radix(&n[8..13], 16).expect("hex");
        assert!(us <= 999_999);
        let (s, _) = now();
        let secs = u64::from_str_radix(&n[..8], 16).expect("hex");
        assert!(secs <= s && s - secs < 5);
    }

    #[test]
    fn names_are_validated() {
        assert!(is_full_name("0000abcd/0123456789abcd"));
        assert!(!is_full_name("0000ABCD/0123456789abcd"));
        assert!(!is_full_name("0000abcd/0123456789abc"));
        assert!(!is_full_name("0000abcd-0123456789abcd"));
        assert!(!is_full_name("../../etc/passwd"));
        assert!(!is_dir_name(b"temporary"));
        assert!(!is_element_name(b"0123456789abcd.lck"));
    }

    #[test]
    fn later_names_sort_later() {
        let mut h = String::new();
        push_hex(&mut h, 0x0012_34ab_cdef, 8);
        assert_eq!(h, "34abcdef");
        push_hex(&mut h, 0xf423f, 5);
        assert_eq!(h, "34abcdeff423f");
        let a = element_name(0xf);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = element_name(0);
        assert!(a < b);
    }
}
