use clap::Parser;

fn main() {
    let cli = match simplevisor::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use simplevisor::cli::exit;
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::USAGE,
            };
            if e.use_stderr() {
                eprint!(
                    "{}",
                    procctl::usage_error("simplevisor", &e.render().to_string())
                );
            } else {
                let _ = e.print();
            }
            std::process::exit(code);
        }
    };
    let r = simplevisor::run::main(cli);
    if !r.message.is_empty() {
        eprintln!("simplevisor: {}", r.message);
    }
    std::process::exit(r.code);
}
