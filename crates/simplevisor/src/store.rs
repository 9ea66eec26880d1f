//! The state store: the reference's JSON (`{id(root): node}`), read before commands and
//! written after each cycle, atomically (a temporary file renamed over it), so that a crash
//! mid-write never leaves a corrupt store.

use std::path::Path;

use crate::error::{Error, Result};
use crate::supervisor::Node;

fn err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Store {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Loads the store into the tree; a missing store is an empty one, a corrupt one an error.
pub fn load(path: &Path, root: &mut Node) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(path, format!("cannot read: {e}"))),
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| err(path, format!("Status file not valid: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| err(path, "Status file not valid: not a JSON object"))?;
    if let Some(node) = obj.get(&root.id()) {
        root.load(node).map_err(|e| err(path, e))?;
    }
    Ok(())
}

/// Saves the tree's state.
pub fn save(path: &Path, root: &Node) -> Result<()> {
    let mut m = serde_json::Map::new();
    m.insert(root.id(), root.dump());
    let text = serde_json::Value::Object(m).to_string();
    let tmp = path.with_file_name(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("store"),
        std::process::id()
    ));
    std::fs::write(&tmp, text.as_bytes())
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(path, format!("cannot write: {e}"))
        })
}
