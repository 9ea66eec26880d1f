//! `cargo run -p xtask -- gen` writes the man pages and shell completions of every binary
//! from its clap definition; `cargo run -p xtask -- check` fails if the checked-in copies
//! drifted from the definitions (CI runs it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Command, CommandFactory};
use clap_complete::Shell;

/// (name, kind) of every tool of the one list, packaging/tools.
fn tools() -> Vec<(String, String)> {
    let text = fs::read_to_string(root().join("packaging/tools")).expect("packaging/tools");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (
                w[0].to_string(),
                w.get(2).copied().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The transfer agents of the list: their pages get the agents' metrics section and a
/// TOOL.conf(5).
fn agents() -> Vec<String> {
    tools()
        .into_iter()
        .filter(|(_, kind)| kind == "agent")
        .map(|(name, _)| name)
        .collect()
}

/// Every binary of the workspace whose documentation is generated: one per tool of
/// packaging/tools (checked by `check`).
fn commands() -> Vec<Command> {
    vec![
        dirq_cli::cli::Cli::command(),
        stompclt::cli::Cli::command(),
        amqpclt::cli::Cli::command(),
        mqttclt::cli::Cli::command(),
        amsclt::cli::Cli::command(),
        simplevisor::cli::Cli::command(),
    ]
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (path relative to the repository, content) of every generated file.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let agents = agents();
    for mut cmd in commands() {
        cmd.build();
        let name = cmd.get_name().to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .render(&mut page)
            .expect("render into memory");
        // the agents' metrics, one template for the three
        if agents.contains(&name) {
            let t = fs::read_to_string(root().join("man/extra/agent-metrics.roff.in"))
                .expect("man/extra/agent-metrics.roff.in");
            page.extend_from_slice(t.replace("PROGRAM", &name).as_bytes());
        }
        // the hand-written sections (EXAMPLES, FILES, SEE ALSO) after the generated ones
        if let Ok(extra) = fs::read(root().join(format!("man/extra/{name}.roff"))) {
            page.extend_from_slice(&extra);
        }
        files.push((PathBuf::from(format!("man/{name}.1")), page));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let sub = sub.clone().name(format!("{name}-{}", sub.get_name()));
            let mut page = Vec::new();
            clap_mangen::Man::new(sub.clone())
                .render(&mut page)
                .expect("render into memory");
            files.push((PathBuf::from(format!("man/{}.1", sub.get_name())), page));
        }
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, &name, &mut buf);
            files.push((PathBuf::from(format!("packaging/completions/{file}")), buf));
        }
    }
    // one configuration page per agent, from one hand-written template
    let template = fs::read_to_string(root().join("man/extra/agent.conf.5.in"))
        .expect("man/extra/agent.conf.5.in");
    for agent in &agents {
        let agent = agent.as_str();
        let page = template
            .replace("@AGENT@", agent)
            .replace("@UPPER@", &agent.to_uppercase());
        files.push((
            PathBuf::from(format!("man/{agent}.conf.5")),
            page.into_bytes(),
        ));
    }
    files
}

/// Every `.BR page (N)` of a SEE ALSO section names a page of man/ or one of the system's
/// that the packages depend on.
fn see_also_targets_exist(root: &Path) -> Vec<String> {
    const SYSTEM: &[&str] = &[
        "systemd.service(5)",
        "systemd.exec(5)",
        "systemctl(1)",
        "cron(8)",
        "syslog(3)",
        "inotify(7)",
    ];
    let mut missing = Vec::new();
    let Ok(dir) = fs::read_dir(root.join("man")) else {
        return vec!["man/ cannot be read".into()];
    };
    for entry in dir.flatten() {
        let path = entry.path();
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let Some(see) = text
            .split(".SH \"SEE ALSO\"")
            .nth(1)
            .or_else(|| text.split(".SH SEE ALSO").nth(1))
        else {
            continue;
        };
        let see = see.split("\n.SH ").next().unwrap_or("");
        for line in see.lines().filter(|l| l.starts_with(".BR ")) {
            let mut words = line[4..].split_whitespace();
            let (Some(name), Some(section)) = (words.next(), words.next()) else {
                continue;
            };
            let section = section.trim_matches(|c| c == '(' || c == ')' || c == ',');
            let name = name.replace("\\-", "-");
            let page = format!("{name}({section})");
            let ours = root.join(format!("man/{name}.{section}")).exists();
            if !ours && !SYSTEM.contains(&page.as_str()) {
                missing.push(format!("{}: SEE ALSO {page}", path.display()));
            }
        }
    }
    missing
}

fn main() -> ExitCode {
    let what = std::env::args().nth(1).unwrap_or_default();
    let root = root();
    match what.as_str() {
        "gen" => {
            for (rel, content) in generated() {
                let p = root.join(&rel);
                if let Some(dir) = p.parent() {
                    fs::create_dir_all(dir).expect("create output directory");
                }
                fs::write(&p, content).expect("write generated file");
                println!("wrote {}", rel.display());
            }
            ExitCode::SUCCESS
        }
        "check" => {
            let mut stale = 0;
            for (rel, content) in generated() {
                if fs::read(root.join(&rel)).ok().as_deref() != Some(&content[..]) {
                    eprintln!("{} is out of date", rel.display());
                    stale += 1;
                }
            }
            let listed: Vec<String> = tools().into_iter().map(|(n, _)| n).collect();
            let documented: Vec<String> = commands()
                .iter()
                .map(|c| c.get_name().to_string())
                .collect();
            if listed != documented {
                eprintln!(
                    "packaging/tools lists {listed:?}, xtask documents {documented:?}: add the \
                     crate's Cli to commands() in crates/xtask/src/main.rs (and its dependency)"
                );
                stale += 1;
            }
            for m in see_also_targets_exist(&root) {
                eprintln!("{m}: no such page");
                stale += 1;
            }
            if stale > 0 {
                eprintln!("run `cargo run -p xtask -- gen` and commit the result");
                ExitCode::FAILURE
            } else {
                println!("man pages and completions match the command definitions");
                ExitCode::SUCCESS
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- gen|check");
            ExitCode::from(2)
        }
    }
}
