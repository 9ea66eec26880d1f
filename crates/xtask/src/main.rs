//! `cargo run -p xtask -- gen` writes the man pages and shell completions of every binary
//! from its clap definition; `cargo run -p xtask -- check` fails if the checked-in copies
//! drifted from the definitions (CI runs it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Command, CommandFactory};
use clap_complete::Shell;

/// Every binary of the workspace whose documentation is generated.
fn commands() -> Vec<Command> {
    vec![
        dirq_cli::cli::Cli::command(),
        stompclt::cli::Cli::command(),
        amqpclt::cli::Cli::command(),
        mqttclt::cli::Cli::command(),
        simplevisor::cli::Cli::command(),
    ]
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (path relative to the repository, content) of every generated file.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for mut cmd in commands() {
        cmd.build();
        let name = cmd.get_name().to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .render(&mut page)
            .expect("render into memory");
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
    files
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
