//! Queue options, shared by all kinds, with the references' defaults.

use crate::error::{Error, Result};
use crate::normal::Schema;

/// Options of a directory queue. Every kind reads the ones that apply to it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Umask for files (0666) and directories (0777) the queue creates. `None`: the process
    /// umask applies, as in the references. The process umask is never changed.
    pub umask: Option<u32>,
    /// The hex digit ending every element name this queue object creates (0..=15).
    /// `None`: random.
    pub rndhex: Option<u8>,
    /// Simple: seconds covered by one intermediate directory (default 60; 0 = one per second).
    pub granularity: u64,
    /// Normal: elements per intermediate directory before a new one is started (16 000).
    pub maxelts: usize,
    /// Age in seconds after which `purge` removes a temporary element (300; 0 = never).
    pub maxtemp: u64,
    /// Age in seconds after which `purge` unlocks a locked element (600; 0 = never).
    pub maxlock: u64,
    /// Durability: fsync an element's data before it becomes visible and its directory after,
    /// so that an `add` that returned survives a power loss. Off by default, as in the
    /// references, which never fsync.
    pub sync: bool,
    /// Normal: the schema, needed by `add` and `get`.
    pub schema: Option<Schema>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            umask: None,
            rndhex: None,
            granularity: 60,
            maxelts: 16_000,
            maxtemp: 300,
            maxlock: 600,
            sync: false,
            schema: None,
        }
    }
}

fn bad(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidOption {
        name: name.to_string(),
        reason: reason.into(),
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(name, format!("{value:?} is not a non-negative integer")))
}

impl Options {
    /// Sets one option from its textual form, as written in the agents' queue option
    /// strings (`umask=022 granularity=10 maxelts=1000 schema=body=binary,header=table?`).
    /// `umask` is read as octal. Returns `false` for a name that is not a dirq option, so
    /// that callers can handle their own keys.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool> {
        match name {
            "umask" => {
                let v = u32::from_str_radix(value.trim(), 8)
                    .ok()
                    .filter(|v| *v <= 0o777)
                    .ok_or_else(|| bad(name, format!("{value:?} is not an octal umask")))?;
                self.umask = Some(v);
            }
            "rndhex" => {
                let v: u8 = number(name, value)?;
                if v > 15 {
                    return Err(bad(name, format!("{v} is not a hex digit (0..15)")));
                }
                self.rndhex = Some(v);
            }
            "granularity" => self.granularity = number(name, value)?,
            "maxelts" => {
                self.maxelts = number(name, value)?;
                if self.maxelts == 0 {
                    return Err(bad(name, "must be at least 1"));
                }
            }
            "maxtemp" => self.maxtemp = number(name, value)?,
            "maxlock" => self.maxlock = number(name, value)?,
            "sync" | "fsync" => {
                self.sync = match value.trim().to_ascii_lowercase().as_str() {
                    "1" | "yes" | "true" | "on" => true,
                    "0" | "no" | "false" | "off" => false,
                    _ => return Err(bad(name, format!("{value:?} is not a boolean"))),
                }
            }
            "schema" => self.schema = Some(value.parse()?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_references() {
        let o = Options::default();
        assert_eq!(
            (o.granularity, o.maxelts, o.maxtemp, o.maxlock),
            (60, 16000, 300, 600)
        );
        assert!(!o.sync && o.umask.is_none());
    }

    #[test]
    fn options_parse_and_reject() {
        let mut o = Options::default();
        assert!(o.set("umask", "022").expect("ok"));
        assert_eq!(o.umask, Some(0o22));
        assert!(o.set("rndhex", "15").expect("ok"));
        assert!(o.set("rndhex", "16").is_err());
        assert!(o.set("granularity", "-1").is_err());
        assert!(o.set("maxelts", "0").is_err());
        assert!(o.set("umask", "9").is_err());
        assert!(o.set("sync", "yes").expect("ok") && o.sync);
        assert!(!o.set("path", "/x").expect("not ours"));
        let e = o.set("maxlock", "soon").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid queue option maxlock: \"soon\" is not a non-negative integer"
        );
    }
}
