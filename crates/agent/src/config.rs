//! Configuration files: each option of the file becomes the command-line option of the same
//! name, placed before the real command line so that the command line wins.

use std::ffi::OsString;
use std::path::Path;

use clap::ArgAction;
use config_general::{FlatValue, Options, agent_options, parse_bool, parse_file};

/// A configuration file that cannot be used: `FILE:LINE: reason`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read or parsed.
    #[error(transparent)]
    Parse(#[from] config_general::Error),
    /// A key that is no option of this agent.
    #[error("{at}: unknown option {name:?}")]
    Unknown {
        /// FILE:LINE.
        at: String,
        /// The key.
        name: String,
    },
    /// A value of the wrong kind.
    #[error("{at}: invalid {kind} for {name}: {value:?}")]
    Value {
        /// FILE:LINE.
        at: String,
        /// boolean, number.
        kind: &'static str,
        /// The option.
        name: String,
        /// What the file says.
        value: String,
    },
}

/// Escapes what `key_values` would split or unescape: `%` and blanks.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '%' => out.push_str("%25"),
            ' ' => out.push_str("%20"),
            '\t' => out.push_str("%09"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// What a configuration file is read with.
pub struct Source<'a> {
    /// The file.
    pub path: &'a Path,
    /// `--config-general KEY=VALUE…`.
    pub config_general: Option<&'a str>,
    /// The program: its name is the optional wrapper block.
    pub program: &'a str,
    /// Options whose value is `KEY=VALUE` pairs: as blocks, they are kept whole.
    pub maps: &'a [&'a str],
}

/// The arguments a configuration file stands for, then `cmdline` (which holds the program
/// name first), checked against `cmd`. A list option given on the command line
/// (`--subscribe`) replaces the file's list instead of adding to it. `quit` and `status` in
/// a file are ignored, as the reference ignores them.
pub fn merge(
    src: &Source<'_>,
    cmd: &clap::Command,
    cmdline: &[OsString],
) -> Result<Vec<OsString>, ConfigError> {
    let mut opts = Options::default();
    for word in src.config_general.unwrap_or("").split_whitespace() {
        if let Some((k, v)) = word.split_once('=')
            && k.eq_ignore_ascii_case("InterPolateVars")
        {
            opts.interpolate = parse_bool(v).unwrap_or(false);
        }
    }
    let root = parse_file(src.path, &opts)?;
    let given: Vec<String> = cmdline
        .iter()
        .filter_map(|a| a.to_str())
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a).to_string())
        .collect();
    let mut args: Vec<OsString> = vec![
        cmdline
            .first()
            .cloned()
            .unwrap_or_else(|| src.program.into()),
    ];
    for flat in agent_options(&root, src.program, src.maps) {
        let name = flat.name.as_str();
        if matches!(name, "quit" | "status" | "config" | "conf" | "cfg") {
            continue;
        }
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name) && !a.is_hide_set())
            .ok_or_else(|| ConfigError::Unknown {
                at: flat.at.to_string(),
                name: name.to_string(),
            })?;
        let list = matches!(arg.get_action(), ArgAction::Append);
        if list && given.iter().any(|g| g == name) {
            continue;
        }
        let invalid = |kind, v: &str| ConfigError::Value {
            at: flat.at.to_string(),
            kind,
            name: name.to_string(),
            value: v.to_string(),
        };
        match (&flat.value, arg.get_action()) {
            (FlatValue::Scalar(v), ArgAction::SetTrue) => {
                let b = parse_bool(v).ok_or_else(|| invalid("boolean", v))?;
                let flag = if b { "" } else { "no-" };
                args.push(format!("--{flag}{name}").into());
            }
            (FlatValue::Scalar(v), ArgAction::Count) => {
                let n: usize = v.trim().parse().map_err(|_| invalid("number", v))?;
                args.extend((0..n).map(|_| OsString::from(format!("--{name}"))));
            }
            (FlatValue::Scalar(v), _) => args.push(format!("--{name}={v}").into()),
            (FlatValue::Map(m), _) => {
                // an <auth> block: `scheme` first, as in `plain name=… pass=…`
                let scheme = m
                    .iter()
                    .find(|(k, _)| k == "scheme")
                    .map(|(_, v)| v.clone());
                let mut words: Vec<String> = scheme.into_iter().collect();
                words.extend(
                    m.iter()
                        .filter(|(k, _)| k != "scheme" || !name.ends_with("-auth"))
                        .map(|(k, v)| format!("{}={}", escape(k), escape(v))),
                );
                args.push(format!("--{name}={}", words.join(" ")).into());
            }
        }
    }
    args.extend(cmdline.iter().skip(1).cloned());
    Ok(args)
}
