use clap::Parser;

fn main() {
    let cli = match dirq_cli::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            eprint!("{}", procctl::usage_error("dirq", &e.render().to_string()));
            std::process::exit(e.exit_code());
        }
        Err(e) => e.exit(),
    };
    match dirq_cli::run(cli) {
        Ok(()) => {}
        Err(f) => {
            if let Some(msg) = f.message() {
                eprintln!("dirq: {msg}");
            }
            std::process::exit(f.code());
        }
    }
}
