//! `mqttclt`: parses, runs, prints the outcome and exits with its documented status
//! (`agent::exit`).

fn main() -> std::process::ExitCode {
    let outcome = agent::run::<mqttclt::Mqtt>(std::env::args_os().collect());
    outcome.print();
    std::process::ExitCode::from(outcome.code as u8)
}
