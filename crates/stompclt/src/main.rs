use clap::Parser;
use stompclt::run::{exit, run};

fn parse(args: &[std::ffi::OsString]) -> stompclt::cli::Cli {
    match stompclt::cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp => exit::HELP,
                clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    }
}

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = parse(&argv);
    if cli.manual {
        use clap::CommandFactory;
        use std::io::Write;
        let text = stompclt::cli::Cli::command().render_long_help().to_string();
        let _ = writeln!(std::io::stdout(), "{text}");
        std::process::exit(exit::OK);
    }
    if cli.list {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for l in stompclt::cli::option_list() {
            if writeln!(out, "{l}").is_err() {
                break;
            }
        }
        std::process::exit(exit::OK);
    }
    if cli.config.is_some() {
        // the file's options first, the command line after: the command line wins
        match stompclt::config::merge(&cli, &argv) {
            Ok(args) => cli = parse(&args),
            Err(e) => {
                eprintln!("stompclt: {e}");
                std::process::exit(exit::USAGE);
            }
        }
    }
    match run(cli) {
        Ok(lines) => {
            // a closed stdout (`stompclt -s | head -1`) is no reason to panic
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for l in lines {
                if writeln!(out, "{l}").is_err() {
                    break;
                }
            }
        }
        Err(f) => {
            if stompclt::syslog::is_open() {
                stompclt::syslog::error(&f.message);
            }
            eprintln!("stompclt: {}", f.message);
            std::process::exit(f.code);
        }
    }
}
