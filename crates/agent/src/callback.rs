//! The references' simple callbacks, translated into the built-in filters: a `callback-code`
//! made only of header assignments and deletions, in the forms the references' manuals
//! show — Perl `$hdr{name} = "value";` and `delete $hdr{name};`, Python
//! `hdr["name"] = "value"` and `del hdr["name"]` — becomes `--header-set` and
//! `--header-delete`. Anything else is code this agent cannot run, and is refused.

/// The header edits of a simple callback, in effect order (deletions, then assignments,
/// as the filters apply them; a later statement on a key replaces an earlier one).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Edits {
    /// Headers to remove.
    pub delete: Vec<String>,
    /// Headers to set.
    pub set: Vec<(String, String)>,
}

enum Op {
    Set(String),
    Delete,
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// Blanks within a statement.
    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// Between statements: blanks, newlines, `;` and `#` comments.
    fn separators(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' => self.i += 1,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// A quoted string; Perl's double quotes may not interpolate (`$`, `@`).
    fn string(&mut self, perl: bool) -> Option<String> {
        let q = self.peek().filter(|c| *c == b'"' || *c == b'\'')?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                c if c == q => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match (e, q) {
                        (b'n', b'"') => out.push(b'\n'),
                        (b't', b'"') => out.push(b'\t'),
                        (e, _) if e == q || e == b'\\' => out.push(e),
                        (b'$' | b'@', b'"') if perl => out.push(e),
                        // Perl keeps the backslash of an unknown escape in single quotes
                        (e, b'\'') if perl => out.extend([b'\\', e]),
                        _ => return None,
                    }
                }
                b'$' | b'@' if perl && q == b'"' => return None,
                c => out.push(c),
            }
        }
        String::from_utf8(out).ok()
    }

    /// A bare Perl hash key.
    fn word(&mut self) -> Option<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.')
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// `$hdr{key}` (Perl) or `hdr["key"]` (Python): the key and whether it was Perl.
    fn header(&mut self) -> Option<(String, bool)> {
        if self.eat("$hdr{") {
            self.blanks();
            let key = match self.peek()? {
                b'"' | b'\'' => self.string(true)?,
                _ => self.word()?,
            };
            self.blanks();
            return self.eat("}").then_some((key, true));
        }
        if self.eat("hdr[") {
            self.blanks();
            let key = self.string(false)?;
            self.blanks();
            return self.eat("]").then_some((key, false));
        }
        None
    }

    /// `delete $hdr{k}`, `delete($hdr{k})`, `del hdr["k"]`, `del(hdr["k"])`.
    fn deletion(&mut self) -> Option<String> {
        let perl = self.eat("delete");
        if !perl && !self.eat("del") {
            return None;
        }
        self.blanks();
        let paren = self.eat("(");
        self.blanks();
        let (key, was_perl) = self.header()?;
        if was_perl != perl {
            return None;
        }
        self.blanks();
        if paren && !self.eat(")") {
            return None;
        }
        Some(key)
    }

    fn statement(&mut self) -> Option<(String, Op)> {
        let start = self.i;
        if let Some(k) = self.deletion() {
            return Some((k, Op::Delete));
        }
        self.i = start;
        let (key, perl) = self.header()?;
        self.blanks();
        if !self.eat("=") || self.peek() == Some(b'=') {
            return None;
        }
        self.blanks();
        let value = self.string(perl)?;
        Some((key, Op::Set(value)))
    }

    /// The statement ends: `;`, a newline, a comment or the end.
    fn end(&mut self) -> bool {
        self.blanks();
        matches!(self.peek(), None | Some(b';' | b'\n' | b'\r' | b'#'))
    }
}

/// The edits a callback's code makes, or `None` when it is anything but header
/// assignments and deletions.
pub fn translate(code: &str) -> Option<Edits> {
    let mut p = Parser {
        s: code.as_bytes(),
        i: 0,
    };
    let mut ops: Vec<(String, Op)> = Vec::new();
    loop {
        p.separators();
        if p.peek().is_none() {
            break;
        }
        let (key, op) = p.statement()?;
        if !p.end() {
            return None;
        }
        ops.retain(|(k, _)| *k != key);
        ops.push((key, op));
    }
    let mut e = Edits::default();
    for (k, op) in ops {
        match op {
            Op::Set(v) => e.set.push((k, v)),
            Op::Delete => e.delete.push(k),
        }
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn perl_forms() {
        let e =
            translate("$hdr{destination} = \"/queue/myapp.data\";\n$hdr{persistent} = \"true\";\n")
                .expect("simple");
        assert_eq!(
            e.set,
            set(&[("destination", "/queue/myapp.data"), ("persistent", "true")])
        );
        let e =
            translate("delete $hdr{'message-id'}; delete($hdr{x}) # gone\n$hdr{\"a b\"}='c\\d'")
                .expect("simple");
        assert_eq!(e.delete, vec!["message-id", "x"]);
        assert_eq!(e.set, set(&[("a b", "c\\d")]));
    }

    #[test]
    fn python_forms() {
        let code =
            "    hdr[\"destination\"] = \"/queue/app1.data\"\n    hdr[\"persistent\"] = \"true\"\n";
        let e = translate(code).expect("simple");
        assert_eq!(
            e.set,
            set(&[("destination", "/queue/app1.data"), ("persistent", "true")])
        );
        let e = translate("del(hdr[\"foo\"])").expect("simple");
        assert_eq!(e.delete, vec!["foo"]);
        let e = translate("del hdr['foo']; hdr['foo'] = 'x'").expect("simple");
        assert!(e.delete.is_empty(), "the later assignment wins");
        assert_eq!(e.set, set(&[("foo", "x")]));
    }

    #[test]
    fn anything_else_is_refused() {
        for code in [
            "1",
            "print STDERR $msg;",
            "$hdr{x} = \"$ENV{HOME}\";",
            "$hdr{x} = $hdr{y};",
            "hdr[\"x\"] = hdr[\"y\"]",
            "def check(self, msg):\n    return msg",
            "$hdr{x} == \"y\";",
            "$hdr{x} = \"y\" if 1;",
            "delete hdr[\"x\"]",
            "hdr[\"x\"] = f\"y\"",
        ] {
            assert_eq!(translate(code), None, "{code:?}");
        }
        assert_eq!(translate(""), Some(Edits::default()));
    }
}
