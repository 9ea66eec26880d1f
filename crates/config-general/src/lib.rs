//! A reader for Perl `Config::General` files: the configuration syntax of stompclt, amqpclt
//! and simplevisor, so that their existing files under `/etc` keep working unchanged.
//!
//! ```
//! use config_general::{Options, parse_str};
//! let root = parse_str("x = 1\n<a>\n  y ${x}/z\n</a>\n", &Options::interpolating()).unwrap();
//! assert_eq!(root.block("a").unwrap().scalar("y").unwrap().value, "1/z");
//! ```
//!
//! Supported: blocks `<name>` … `</name>` (nested, and named blocks `<name arg>`),
//! `key = value` and `key value`, `#` comments (`\#` for a literal `#`), backslash line
//! continuation, here-documents (`key <<EOT` … `EOT`), surrounding double quotes removed,
//! repeated keys and blocks kept in order (a list), `<<include path>>` and `include path`
//! (relative to the including file, glob patterns, the same file more than once, loops
//! refused), `$name`/`${name}` interpolation on request, optional C-style comments.

mod agent;
mod error;
mod parse;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use agent::{Flat, FlatValue, agent_options};
pub use error::{Error, ErrorKind, Result};

/// How to parse.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `$name` and `${name}` in values are replaced by keys defined earlier in the same or
    /// an enclosing block (Config::General's `-InterPolateVars`; simplevisor uses it).
    pub interpolate: bool,
    /// Accept `/* … */` comments (off, as both tools configure Config::General).
    pub c_comments: bool,
}

impl Options {
    /// The options simplevisor uses: interpolation on.
    pub fn interpolating() -> Self {
        Options {
            interpolate: true,
            c_comments: false,
        }
    }
}

/// Where something was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (the including file's directory resolves relative includes).
    pub file: Arc<PathBuf>,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The value, trimmed, quotes removed, interpolated if asked.
    pub value: String,
    /// Where it was set.
    pub at: Location,
}

/// A block: its entries in file order, repeated keys included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// For a named block `<name arg>`, the `arg`.
    pub name: Option<String>,
    /// The entries, in order.
    pub entries: Vec<Entry>,
    /// Where the block was opened (line 0: a whole file).
    pub at: Location,
}

/// One `key value` or `<key>` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key or block name.
    pub key: String,
    /// Its value.
    pub node: Node,
}

/// A value or a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// `key value`.
    Scalar(Scalar),
    /// `<key>` … `</key>`.
    Block(Block),
}

impl Node {
    /// Where it was defined.
    pub fn at(&self) -> &Location {
        match self {
            Node::Scalar(s) => &s.at,
            Node::Block(b) => &b.at,
        }
    }
}

impl Block {
    /// Every node under `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl DoubleEndedIterator<Item = &'a Node> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.key == key)
            .map(|e| &e.node)
    }

    /// The last scalar under `key` (a repeated key: the list's last element).
    pub fn scalar<'a>(&'a self, key: &'a str) -> Option<&'a Scalar> {
        self.all(key).rev().find_map(|n| match n {
            Node::Scalar(s) => Some(s),
            Node::Block(_) => None,
        })
    }

    /// The first block under `key`.
    pub fn block<'a>(&'a self, key: &'a str) -> Option<&'a Block> {
        self.all(key).find_map(|n| match n {
            Node::Block(b) => Some(b),
            Node::Scalar(_) => None,
        })
    }

    /// Every block under `key`, in order.
    pub fn blocks<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.all(key).filter_map(|n| match n {
            Node::Block(b) => Some(b),
            Node::Scalar(_) => None,
        })
    }

    /// The tree as Config::General's `getall` returns it, in JSON: a key seen once maps to
    /// its value, a repeated key to a list; named blocks `<a b>` nest as `{"a": {"b": …}}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        let mut out = Map::new();
        let mut seen: Vec<&str> = Vec::new();
        for e in &self.entries {
            if seen.contains(&e.key.as_str()) {
                continue;
            }
            seen.push(&e.key);
            let nodes: Vec<&Node> = self.all(&e.key).collect();
            let named: Vec<&Block> = nodes
                .iter()
                .filter_map(|n| match n {
                    Node::Block(b) if b.name.is_some() => Some(b),
                    _ => None,
                })
                .collect();
            let plain: Vec<Value> = nodes
                .iter()
                .filter_map(|n| match n {
                    Node::Scalar(s) => Some(Value::String(s.value.clone())),
                    Node::Block(b) if b.name.is_none() => Some(b.to_json()),
                    Node::Block(_) => None,
                })
                .collect();
            let value = if !named.is_empty() {
                let mut m = Map::new();
                let mut names: Vec<&str> = Vec::new();
                for b in &named {
                    let n = b.name.as_deref().unwrap_or_default();
                    if names.contains(&n) {
                        continue;
                    }
                    names.push(n);
                    let same: Vec<Value> = named
                        .iter()
                        .filter(|o| o.name.as_deref() == Some(n))
                        .map(|o| o.to_json())
                        .collect();
                    m.insert(n.to_string(), one_or_list(same));
                }
                Value::Object(m)
            } else {
                one_or_list(plain)
            };
            out.insert(e.key.clone(), value);
        }
        Value::Object(out)
    }
}

fn one_or_list(mut v: Vec<serde_json::Value>) -> serde_json::Value {
    if v.len() == 1 {
        v.remove(0)
    } else {
        serde_json::Value::Array(v)
    }
}

/// Reads and parses a file.
pub fn parse_file(path: impl AsRef<Path>, opts: &Options) -> Result<Block> {
    parse::Parser::new(opts).file(path.as_ref())
}

/// Parses text; relative includes resolve from the current directory, and errors name
/// `<string>`.
pub fn parse_str(text: &str, opts: &Options) -> Result<Block> {
    parse::Parser::new(opts).text(text, Path::new("<string>"))
}

/// `%XX` decoding of the option strings both tools split on blanks (`hello%20world`), as
/// Perl's URI::Escape and python's `urllib.parse.unquote` do: a `%` not followed by two hex
/// digits stays as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 3 <= b.len()
            && let Some(h) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|x| u8::from_str_radix(x, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Config::General's boolean words, for callers to interpret values: true/false, yes/no,
/// on/off, 1/0, in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}
