//! `simplevisor`: parses, runs, ends with the documented status (see `--help`).

use simplevisor::cli::exit;

fn main() -> std::process::ExitCode {
    // clap's own: --help and --version succeed, a refused command line is a usage error
    let codes = procctl::ClapCodes {
        help: exit::OK,
        version: exit::OK,
        usage: exit::USAGE,
    };
    match procctl::outcome::parse("simplevisor", std::env::args_os(), codes) {
        Ok(cli) => simplevisor::run::main(cli),
        Err(o) => o,
    }
    .exit()
}
