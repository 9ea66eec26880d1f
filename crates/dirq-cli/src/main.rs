//! `dirq`: parses, runs, ends with the documented status (see `--help`).

use procctl::{ClapCodes, Outcome};

fn main() -> std::process::ExitCode {
    // clap's own: --help and --version succeed, a refused command line is a usage error
    let codes = ClapCodes {
        help: 0,
        version: 0,
        usage: 2,
    };
    let outcome = match procctl::outcome::parse(NAME, std::env::args_os(), codes) {
        Ok(cli) => match dirq_cli::run(cli) {
            Ok(()) => Outcome::lines(NAME, 0, Vec::new()),
            Err(f) => match f.message() {
                Some(msg) => Outcome::failed(NAME, f.code(), msg),
                None => Outcome::lines(NAME, f.code(), Vec::new()),
            },
        },
        Err(o) => o,
    };
    outcome.exit()
}

const NAME: &str = "dirq";
