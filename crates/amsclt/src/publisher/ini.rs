//! The INI files of ams-publisher, read as Python's `configparser` reads them: `[Section]`
//! headers (names as written), `key = value` or `key: value` (keys without case, values
//! trimmed), whole-line `#` and `;` comments, indented lines continuing a value, and the
//! `[DEFAULT]` section's keys in every section.

use std::collections::BTreeMap;

/// One section: its keys (lower case) and values, in a sorted map.
pub type Section = BTreeMap<String, String>;

/// A file's sections, in the order written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ini {
    /// `(name, keys)`, `[DEFAULT]` left out (merged into the others).
    pub sections: Vec<(String, Section)>,
}

/// Reads `text`; an error names the line and what is wrong with it.
pub fn parse(text: &str) -> Result<Ini, String> {
    let mut sections: Vec<(String, Section)> = Vec::new();
    let mut defaults = Section::new();
    let mut in_default = false;
    let mut last: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let current = if in_default {
            Some(&mut defaults)
        } else {
            sections.last_mut().map(|(_, s)| s)
        };
        if line.starts_with([' ', '\t']) {
            // a continuation of the value above
            let (Some(s), Some(k)) = (current, &last) else {
                return Err(format!("line {n}: an indented line continues no value"));
            };
            if let Some(v) = s.get_mut(k) {
                v.push('\n');
                v.push_str(trimmed);
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| format!("line {n}: a section header without ]"))?;
            last = None;
            in_default = name == "DEFAULT";
            if in_default {
                continue;
            }
            if sections.iter().any(|(s, _)| s == name) {
                return Err(format!("line {n}: section [{name}] given twice"));
            }
            sections.push((name.to_string(), Section::new()));
            continue;
        }
        let Some(s) = current else {
            return Err(format!("line {n}: {trimmed:?} before any [section]"));
        };
        let at = trimmed
            .find(['=', ':'])
            .ok_or_else(|| format!("line {n}: {trimmed:?} is not KEY = VALUE"))?;
        let key = trimmed[..at].trim().to_lowercase();
        if key.is_empty() {
            return Err(format!("line {n}: a value without a key"));
        }
        if s.contains_key(&key) {
            return Err(format!("line {n}: {key} given twice in its section"));
        }
        s.insert(key.clone(), trimmed[at + 1..].trim().to_string());
        last = Some(key);
    }
    for (_, s) in &mut sections {
        for (k, v) in &defaults {
            s.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(Ini { sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_configparser_does() {
        let ini = parse(
            "# comment\n[General]\nHost = h\n; other\n[Topic_A]\nBulksize: 5\nKey=k=v\n\
             Long = a\n  b\n[DEFAULT]\nRetry = 3\n",
        )
        .unwrap();
        assert_eq!(ini.sections.len(), 2);
        let (name, t) = &ini.sections[1];
        assert_eq!(name, "Topic_A");
        assert_eq!(t["bulksize"], "5");
        assert_eq!(t["key"], "k=v");
        assert_eq!(t["long"], "a\nb");
        assert_eq!(t["retry"], "3");
        assert_eq!(ini.sections[0].1["host"], "h");
    }

    #[test]
    fn names_the_bad_line() {
        assert_eq!(
            parse("x = 1").unwrap_err(),
            "line 1: \"x = 1\" before any [section]"
        );
        assert_eq!(
            parse("[A]\nnothing").unwrap_err(),
            "line 2: \"nothing\" is not KEY = VALUE"
        );
        assert_eq!(
            parse("[A]\n[A]").unwrap_err(),
            "line 2: section [A] given twice"
        );
    }
}
