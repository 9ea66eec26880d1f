//! The Null queue: a black hole with the queue API.

use std::fs;
use std::path::Path;

use crate::DirQueue;
use crate::error::{Error, Result};
use crate::name::Names;

/// Accepts everything and keeps nothing: `add` returns an empty name, `add_path` deletes
/// the file, `count` is 0, iteration is empty; lock, get and the like are unsupported.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueNull;

impl QueueNull {
    /// A new Null queue.
    pub fn new() -> Self {
        QueueNull
    }

    /// Discards `data`; returns `""`.
    pub fn add(&self, _data: &[u8]) -> Result<String> {
        Ok(String::new())
    }

    /// Deletes the file at `path`; returns `""`.
    pub fn add_path(&self, path: impl AsRef<Path>) -> Result<String> {
        let p = path.as_ref();
        fs::remove_file(p).map_err(|e| Error::io("remove", p, e))?;
        Ok(String::new())
    }
}

impl DirQueue for QueueNull {
    fn path(&self) -> &Path {
        Path::new("NULL")
    }
    fn id(&self) -> Result<String> {
        Ok("NULL".into())
    }
    fn names(&self) -> Names {
        Names::empty()
    }
    fn count(&self) -> Result<usize> {
        Ok(0)
    }
    fn lock_with(&self, _: &str, _: bool) -> Result<bool> {
        Err(Error::Unsupported("lock"))
    }
    fn unlock_with(&self, _: &str, _: bool) -> Result<bool> {
        Err(Error::Unsupported("unlock"))
    }
    fn is_locked(&self, _: &str) -> Result<bool> {
        Err(Error::Unsupported("is_locked"))
    }
    fn remove(&self, _: &str) -> Result<()> {
        Err(Error::Unsupported("remove"))
    }
    fn touch(&self, _: &str) -> Result<()> {
        Err(Error::Unsupported("touch"))
    }
    fn purge_with(&self, _: u64, _: u64) -> Result<()> {
        Ok(())
    }
    fn purge(&self) -> Result<()> {
        Ok(())
    }
}
