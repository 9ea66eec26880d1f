//! `amsclt`: parses, runs, prints the outcome and exits with its documented status
//! (`agent::exit`), on mimalloc. An ams-publisher configuration of several workers runs
//! one child process a worker (`publisher::supervise`).

#[global_allocator]
static ALLOCATOR: agent::Allocator = agent::Allocator;

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let outcome = amsclt::publisher::supervise::workers(&argv)
        .unwrap_or_else(|| agent::run::<amsclt::Ams>(argv));
    agent::finish(outcome)
}
