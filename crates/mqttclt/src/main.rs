//! `mqttclt`: parses, runs, prints the outcome and exits with its documented status
//! (`agent::exit`).

fn main() -> std::process::ExitCode {
    let outcome = agent::run::<mqttclt::Mqtt>(std::env::args_os().collect());
    outcome.print();
    std::process::ExitCode::from(outcome.code as u8)
}

/// mimalloc rather than glibc's malloc: a message's buffers are allocated and freed on two
/// threads (the spool's read-ahead and the engine), where glibc's arenas contend and
/// consolidate; measured in bench/ (README "Design").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
