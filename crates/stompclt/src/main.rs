use clap::Parser;
use stompclt::run::{exit, run};

fn main() {
    let cli = match stompclt::cli::Cli::try_parse() {
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
    };
    match run(cli) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
        }
        Err(f) => {
            eprintln!("stompclt: {}", f.message);
            std::process::exit(f.code);
        }
    }
}
