//! The `table` field encoding: a map of strings as `key TAB value LF` lines, keys sorted,
//! with `\\`, `\t` and `\n` escapes, exactly as Perl and python write it.

use std::collections::BTreeMap;

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Undoes `escape_into`: `\\`, `\t` and `\n` are replaced left to right; any other
/// backslash is kept as it is (the references' regex substitution does the same).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek() {
                Some('\\') => out.push('\\'),
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                _ => {
                    out.push('\\');
                    continue;
                }
            }
            it.next();
        } else {
            out.push(c);
        }
    }
    out
}

/// Serializes a table. Keys come out in code point order (a `BTreeMap` of `String` sorts by
/// UTF-8 bytes, which is the same order). An empty map gives an empty string.
pub fn encode(table: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in table {
        escape_into(&mut out, k);
        out.push('\t');
        escape_into(&mut out, v);
        out.push('\n');
    }
    out
}

/// Parses a serialized table. Leading and trailing newlines are ignored (python strips
/// them); every other line must be `key TAB value` with exactly one TAB, or the offending
/// line is returned as the error. A duplicate key: the last one wins.
pub fn decode(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    let s = s.trim_matches('\n');
    if s.is_empty() {
        return Ok(map);
    }
    for line in s.split('\n') {
        let mut parts = line.splitn(2, '\t');
        let (k, v) = match (parts.next(), parts.next()) {
            (Some(k), Some(v)) if !v.contains('\t') => (k, v),
            _ => return Err(line.to_string()),
        };
        map.insert(unescape(k), unescape(v));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_spec_example() {
        let m = map(&[("t\tk", "n\nv"), ("b\\s", "x")]);
        assert_eq!(encode(&m), "b\\\\s\tx\nt\\tk\tn\\nv\n");
        assert_eq!(decode(&encode(&m)).expect("decodes"), m);
    }

    #[test]
    fn escapes_and_raw_characters() {
        // CR and other control characters stay raw; only \\, TAB and LF are escaped.
        let cases: &[(&str, &str, &str)] = &[
            ("", "", "\t\n"),
            ("a", "", "a\t\n"),
            ("", "b", "\tb\n"),
            ("cr\r", "x\ry", "cr\r\tx\ry\n"),
            ("\\", "\\\\", "\\\\\t\\\\\\\\\n"),
            ("\\t", "\\n", "\\\\t\t\\\\n\n"),
            ("é", "☺", "é\t☺\n"),
            ("\u{1}\u{7f}", "\u{a0}ÿ", "\u{1}\u{7f}\t\u{a0}ÿ\n"),
        ];
        for (k, v, enc) in cases {
            let m = map(&[(k, v)]);
            assert_eq!(&encode(&m), enc, "encoding {k:?} => {v:?}");
            assert_eq!(decode(enc).expect("decodes"), m, "decoding {enc:?}");
        }
    }

    #[test]
    fn keys_sorted_by_code_point() {
        let m = map(&[("é", "1"), ("z", "2"), ("A", "3"), ("a", "4"), ("☺", "5")]);
        assert_eq!(encode(&m), "A\t3\na\t4\nz\t2\né\t1\n☺\t5\n");
    }

    #[test]
    fn empty_map_is_empty_file() {
        assert_eq!(encode(&BTreeMap::new()), "");
        assert!(decode("").expect("ok").is_empty());
        assert!(decode("\n\n").expect("ok").is_empty());
    }

    #[test]
    fn bad_lines_are_reported() {
        assert_eq!(decode("novalue\n"), Err("novalue".to_string()));
        assert_eq!(decode("a\tb\tc\n"), Err("a\tb\tc".to_string()));
        assert_eq!(decode("a\tb\n\nc\td\n"), Err(String::new()));
    }

    #[test]
    fn lone_backslashes_survive_decoding() {
        assert_eq!(decode("a\\x\t\\\n").expect("ok"), map(&[("a\\x", "\\")]));
    }

    #[test]
    fn duplicate_keys_last_wins() {
        assert_eq!(decode("k\t1\nk\t2\n").expect("ok"), map(&[("k", "2")]));
    }

    proptest! {
        #[test]
        fn round_trip(m in proptest::collection::btree_map(".*", ".*", 0..8)) {
            prop_assert_eq!(decode(&encode(&m)).expect("decodes"), m);
        }
    }
}
