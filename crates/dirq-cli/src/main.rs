use clap::Parser;

fn main() {
    let cli = dirq_cli::cli::Cli::parse();
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
