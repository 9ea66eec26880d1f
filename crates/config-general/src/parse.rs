//! The line parser.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Block, Entry, Error, ErrorKind, Location, Node, Options, Result, Scalar};

/// An open block and the variables defined in it so far.
struct Frame {
    key: String,
    block: Block,
    vars: Vec<(String, String)>,
}

pub(crate) struct Parser<'o> {
    opts: &'o Options,
    stack: Vec<Frame>,
    /// Files being read, outermost first: an include of one of them is a loop.
    including: Vec<PathBuf>,
}

fn err(file: &Path, line: usize, kind: ErrorKind) -> Error {
    Error {
        file: file.to_path_buf(),
        line,
        kind,
    }
}

/// Removes a `#` comment (an unescaped `#` to the end of the line) and unescapes `\#`.
fn strip_comment(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'#') => {
                out.push('#');
                chars.next();
            }
            '#' => break,
            c => out.push(c),
        }
    }
    out
}

/// Splits an option line the way Config::General does (`split /\s*=\s*|\s+/, $_, 2`): at
/// the first `=` or run of blanks, an `=` after the blanks belonging to the separator.
fn split_option(line: &str) -> (&str, &str) {
    match line.find(|c: char| c == '=' || c.is_whitespace()) {
        None => (line, ""),
        Some(i) => {
            let key = &line[..i];
            let rest = line[i..].trim_start();
            let rest = if line[i..].starts_with('=') || rest.starts_with('=') {
                rest.strip_prefix('=').unwrap_or(rest).trim_start()
            } else {
                rest
            };
            (key, rest)
        }
    }
}

fn unquote(v: &str) -> &str {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '+' | ',')
}

impl<'o> Parser<'o> {
    pub(crate) fn new(opts: &'o Options) -> Self {
        Parser {
            opts,
            stack: Vec::new(),
            including: Vec::new(),
        }
    }

    fn root(&mut self, file: &Path) {
        self.stack = vec![Frame {
            key: String::new(),
            block: Block {
                name: None,
                entries: Vec::new(),
                at: Location {
                    file: Arc::new(file.to_path_buf()),
                    line: 0,
                },
            },
            vars: Vec::new(),
        }];
    }

    fn finish(mut self) -> Result<Block> {
        if self.stack.len() > 1 {
            let open = self.stack.pop().expect("more than one frame");
            return Err(err(
                &open.block.at.file,
                open.block.at.line,
                ErrorKind::UnclosedBlock(open.key),
            ));
        }
        Ok(self.stack.pop().expect("the root frame").block)
    }

    pub(crate) fn file(mut self, path: &Path) -> Result<Block> {
        self.root(path);
        self.include_file(path, path, 0)?;
        self.finish()
    }

    pub(crate) fn text(mut self, text: &str, name: &Path) -> Result<Block> {
        self.root(name);
        self.lines(text, &Arc::new(name.to_path_buf()))?;
        self.finish()
    }

    fn include_file(&mut self, path: &Path, from: &Path, line: usize) -> Result<()> {
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.including.contains(&canon) {
            return Err(err(from, line, ErrorKind::IncludeLoop(path.to_path_buf())));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && line > 0 {
                err(from, line, ErrorKind::MissingInclude(path.to_path_buf()))
            } else {
                err(path, 0, ErrorKind::Io(e.to_string()))
            }
        })?;
        self.including.push(canon);
        let r = self.lines(&text, &Arc::new(path.to_path_buf()));
        self.including.pop();
        r
    }

    /// `<<include PATTERN>>` or `include PATTERN`: relative to the including file, glob
    /// patterns expanded in sorted order; a pattern with wildcards may match nothing, a
    /// plain path must exist.
    fn include(&mut self, pattern: &str, from: &Path, line: usize) -> Result<()> {
        let pattern = unquote(pattern.trim());
        let p = Path::new(pattern);
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            from.parent().unwrap_or(Path::new(".")).join(p)
        };
        let wild = pattern.contains(['*', '?', '[']);
        if !wild {
            return self.include_file(&full, from, line);
        }
        let mut paths: Vec<PathBuf> = glob::glob(&full.to_string_lossy())
            .map_err(|e| {
                err(
                    from,
                    line,
                    ErrorKind::BadLine(format!("include {pattern}: {e}")),
                )
            })?
            .filter_map(|r| r.ok())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            self.include_file(&p, from, line)?;
        }
        Ok(())
    }

    fn top(&mut self) -> &mut Frame {
        self.stack
            .last_mut()
            .expect("the root frame is never popped")
    }

    fn lookup(&self, name: &str) -> Option<&str> {
        self.stack.iter().rev().find_map(|f| {
            f.vars
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        })
    }

    /// Replaces `$name` and `${name}`; `\$` is a literal `$`.
    fn interpolate(&self, v: &str, file: &Path, line: usize) -> Result<String> {
        let mut out = String::with_capacity(v.len());
        let mut rest = v;
        while let Some(i) = rest.find(['$', '\\']) {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if rest.as_bytes()[i] == b'\\' {
                if let Some(a) = after.strip_prefix('$') {
                    out.push('$');
                    rest = a;
                } else {
                    out.push('\\');
                    rest = after;
                }
                continue;
            }
            let (name, tail) = if let Some(b) = after.strip_prefix('{') {
                match b.find('}') {
                    Some(j) => (&b[..j], &b[j + 1..]),
                    None => ("", after),
                }
            } else {
                let j = after.find(|c: char| !is_var_char(c)).unwrap_or(after.len());
                (&after[..j], &after[j..])
            };
            if name.is_empty() {
                out.push('$');
                rest = after;
                continue;
            }
            match self.lookup(name) {
                Some(val) => out.push_str(val),
                None => {
                    return Err(err(file, line, ErrorKind::UndefinedVariable(name.into())));
                }
            }
            rest = tail;
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Reads the lines of one file: includes, block tags, options (here-documents
    /// included).
    fn lines(&mut self, text: &str, file: &Arc<PathBuf>) -> Result<()> {
        let raw: Vec<&str> = text.lines().collect();
        let mut i = 0;
        let mut in_c_comment = false;
        while i < raw.len() {
            let lineno = i + 1;
            let line = self.logical_line(&raw, &mut i, &mut in_c_comment);
            if line.is_empty() {
                continue;
            }
            if let Some(inner) = include_directive(&line) {
                self.include(inner, file, lineno)?;
            } else if let Some(close) = line.strip_prefix("</") {
                let name = close.trim_end_matches('>').trim();
                self.close(name, file, lineno)?;
            } else if line.starts_with('<') && !line.starts_with("<<") {
                self.block_tag(&line, file, lineno)?;
            } else {
                self.option(&line, &raw, &mut i, file, lineno)?;
            }
        }
        Ok(())
    }

    /// The line at `*i` without comments, joined with the lines its backslashes continue
    /// (their leading blanks dropped), trimmed; `*i` moves past them.
    fn logical_line(&self, raw: &[&str], i: &mut usize, in_c_comment: &mut bool) -> String {
        let mut line = raw[*i].to_string();
        *i += 1;
        if self.opts.c_comments {
            line = self.strip_c_comments(&line, in_c_comment);
        }
        let mut line = strip_comment(&line).trim().to_string();
        while line.ends_with('\\') && !line.ends_with("\\\\") && *i < raw.len() {
            line.pop();
            line.push_str(strip_comment(raw[*i]).trim());
            *i += 1;
        }
        line
    }

    /// `<name>`, `<name value>`, `<name value/>`: opens (and closes) a block.
    fn block_tag(&mut self, line: &str, file: &Arc<PathBuf>, lineno: usize) -> Result<()> {
        let bad = || err(file, lineno, ErrorKind::BadLine(line.to_string()));
        let inner = line[1..].strip_suffix('>').ok_or_else(bad)?.trim();
        let (selfclose, inner) = match inner.strip_suffix('/') {
            Some(s) => (true, s.trim()),
            None => (false, inner),
        };
        let (key, name) = match inner.split_once(char::is_whitespace) {
            Some((k, n)) => (k, Some(unquote(n.trim()).to_string())),
            None => (inner, None),
        };
        if key.is_empty() {
            return Err(bad());
        }
        self.open(key, name, file, lineno);
        if selfclose {
            self.close(key, file, lineno)?;
        }
        Ok(())
    }

    /// `key = value`, `key value`, `key <<TERM` (a here-document read from the lines after
    /// `*i`), or the Apache form `include path`.
    fn option(
        &mut self,
        line: &str,
        raw: &[&str],
        i: &mut usize,
        file: &Arc<PathBuf>,
        lineno: usize,
    ) -> Result<()> {
        let (key, value) = split_option(line);
        if key == "include" && !value.is_empty() && !value.starts_with("<<") {
            return self.include(value, file, lineno);
        }
        let value = if let Some(term) = value.strip_prefix("<<") {
            let term = unquote(term.trim()).to_string();
            if term.is_empty() {
                return Err(err(file, lineno, ErrorKind::BadLine(line.to_string())));
            }
            here_doc(raw, i, &term)
                .ok_or_else(|| err(file, lineno, ErrorKind::UnterminatedHereDoc(term.clone())))?
        } else {
            let v = unquote(value);
            if self.opts.interpolate && !(v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2)
            {
                self.interpolate(v, file, lineno)?
            } else {
                v.to_string()
            }
        };
        let at = Location {
            file: file.clone(),
            line: lineno,
        };
        let top = self.top();
        top.vars.push((key.to_string(), value.clone()));
        top.block.entries.push(Entry {
            key: key.to_string(),
            node: Node::Scalar(Scalar { value, at }),
        });
        Ok(())
    }

    fn strip_c_comments(&self, line: &str, inside: &mut bool) -> String {
        let mut out = String::new();
        let mut rest = line;
        loop {
            if *inside {
                match rest.find("*/") {
                    Some(j) => {
                        *inside = false;
                        rest = &rest[j + 2..];
                    }
                    None => return out,
                }
            } else {
                match rest.find("/*") {
                    Some(j) => {
                        out.push_str(&rest[..j]);
                        *inside = true;
                        rest = &rest[j + 2..];
                    }
                    None => {
                        out.push_str(rest);
                        return out;
                    }
                }
            }
        }
    }

    fn open(&mut self, key: &str, name: Option<String>, file: &Arc<PathBuf>, line: usize) {
        self.stack.push(Frame {
            key: key.to_string(),
            block: Block {
                name,
                entries: Vec::new(),
                at: Location {
                    file: file.clone(),
                    line,
                },
            },
            vars: Vec::new(),
        });
    }

    fn close(&mut self, name: &str, file: &Path, line: usize) -> Result<()> {
        if self.stack.len() < 2 {
            return Err(err(
                file,
                line,
                ErrorKind::UnexpectedClose(name.to_string()),
            ));
        }
        let open = &self.stack[self.stack.len() - 1].key;
        // Config::General matches block names case-insensitively
        if !open.eq_ignore_ascii_case(name) {
            return Err(err(
                file,
                line,
                ErrorKind::MismatchedClose {
                    open: open.clone(),
                    close: name.to_string(),
                },
            ));
        }
        let f = self.stack.pop().expect("checked above");
        self.top().block.entries.push(Entry {
            key: f.key,
            node: Node::Block(f.block),
        });
        Ok(())
    }
}

/// The path of `<<include path>>`.
fn include_directive(line: &str) -> Option<&str> {
    line.strip_prefix("<<")
        .and_then(|l| l.strip_suffix(">>"))
        .and_then(|l| {
            let l = l.trim_start();
            l.strip_prefix("include")
                .or_else(|| l.strip_prefix("INCLUDE"))
        })
        .filter(|l| l.starts_with(char::is_whitespace))
}

/// The body of a here-document: the lines from `*i` up to the terminator `term` (`*i` moves
/// past it); an indented terminator removes that much indentation from each line. `None`
/// when the terminator never comes.
fn here_doc(raw: &[&str], i: &mut usize, term: &str) -> Option<String> {
    let mut body: Vec<&str> = Vec::new();
    while *i < raw.len() {
        let l = raw[*i];
        *i += 1;
        if l.trim() == term {
            let indent = l.len() - l.trim_start().len();
            let lines: Vec<&str> = body
                .iter()
                .map(|l| {
                    let blanks = l.len() - l.trim_start().len();
                    &l[blanks.min(indent)..]
                })
                .collect();
            return Some(lines.join("\n"));
        }
        body.push(l);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_splitting() {
        assert_eq!(split_option("key value"), ("key", "value"));
        assert_eq!(split_option("key=value"), ("key", "value"));
        assert_eq!(
            split_option("key   =   value with  spaces"),
            ("key", "value with  spaces")
        );
        assert_eq!(split_option("key value = x"), ("key", "value = x"));
        assert_eq!(split_option("uri = a=b"), ("uri", "a=b"));
        assert_eq!(split_option("flag"), ("flag", ""));
        assert_eq!(split_option("k\t= v"), ("k", "v"));
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comment("a = b # c"), "a = b ");
        assert_eq!(strip_comment("a = b \\# c"), "a = b # c");
        assert_eq!(strip_comment("# all"), "");
    }
}
