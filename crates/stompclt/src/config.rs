//! Configuration files: each option of the file becomes the command-line option of the same
//! name, placed before the real command line so that the command line wins.

use std::ffi::OsString;

use clap::{ArgAction, CommandFactory};
use config_general::{FlatValue, Options, agent_options, parse_bool, parse_file};

use crate::cli::Cli;

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

/// The arguments a configuration file stands for, then `cmdline` (which holds the program
/// name first). A list option given on the command line (`--subscribe`) replaces the file's
/// list instead of adding to it. `quit` and `status` in a file are ignored, as the reference
/// ignores them.
pub fn merge(cli: &Cli, cmdline: &[OsString]) -> Result<Vec<OsString>, String> {
    let Some(path) = &cli.config else {
        return Ok(cmdline.to_vec());
    };
    let mut opts = Options::default();
    if let Some(g) = &cli.config_general {
        for word in g.split_whitespace() {
            if let Some((k, v)) = word.split_once('=')
                && k.eq_ignore_ascii_case("InterPolateVars")
            {
                opts.interpolate = parse_bool(v).unwrap_or(false);
            }
        }
    }
    let root = parse_file(path, &opts).map_err(|e| e.to_string())?;
    let cmd = Cli::command();
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
            .unwrap_or_else(|| "stompclt".into()),
    ];
    // options whose value is KEY=VALUE pairs: as blocks, they are kept whole
    let maps = [
        "subscribe",
        "unsubscribe",
        "incoming-queue",
        "outgoing-queue",
        "incoming-broker-connect",
        "outgoing-broker-connect",
        "incoming-broker-sockopts",
        "outgoing-broker-sockopts",
        "incoming-broker-auth",
        "outgoing-broker-auth",
        "callback-data",
        "config-general",
    ];
    for flat in agent_options(&root, "stompclt", &maps) {
        let name = flat.name.as_str();
        if matches!(name, "quit" | "status" | "config" | "conf" | "cfg") {
            continue;
        }
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(name) && !a.is_hide_set())
            .ok_or_else(|| format!("{}: unknown option {name:?}", flat.at))?;
        let list = matches!(arg.get_action(), ArgAction::Append);
        if list && given.iter().any(|g| g == name) {
            continue;
        }
        match (&flat.value, arg.get_action()) {
            (FlatValue::Scalar(v), ArgAction::SetTrue) => {
                let b = parse_bool(v)
                    .ok_or_else(|| format!("{}: invalid boolean for {name}: {v:?}", flat.at))?;
                args.push(
                    if b {
                        format!("--{name}")
                    } else {
                        format!("--no-{name}")
                    }
                    .into(),
                );
            }
            (FlatValue::Scalar(v), ArgAction::Count) => {
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{}: invalid number for {name}: {v:?}", flat.at))?;
                for _ in 0..n {
                    args.push(format!("--{name}").into());
                }
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
